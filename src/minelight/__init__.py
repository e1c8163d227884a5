"""minelight: low-light enhancement for coal-mine surveillance video."""

__version__ = "0.2.0"
