"""The `clientflow` command line."""
