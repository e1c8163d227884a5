"""minelight.video."""
