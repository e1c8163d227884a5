"""minelight.evaluate."""
