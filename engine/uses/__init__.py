"""The facade's use cases, grouped by who uses them; `engine.facade.Engine` inherits every group."""
