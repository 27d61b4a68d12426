"""The workflow kernel: it takes `Services` and never imports the facade or a feature package (see ../README.md)."""
