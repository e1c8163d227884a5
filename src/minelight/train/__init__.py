"""minelight.train."""
