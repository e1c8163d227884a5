"""Classical enhancers: pure functions ``(H, W, 3)`` float RGB in [0, 1] -> same shape and range."""

from .clahe import clahe
from .gamma import gamma
from .he import he

BASELINES = {"clahe": clahe, "he": he, "gamma": gamma}

__all__ = ["BASELINES", "clahe", "gamma", "he"]
