"""minelight.enhance."""
