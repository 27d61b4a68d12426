"""The Flask UI, JSON API, studio and portal."""
