"""minelight: low-light enhancement for coal-mine surveillance video."""

__version__ = "0.4.0"
