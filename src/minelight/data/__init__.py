"""minelight.data."""
