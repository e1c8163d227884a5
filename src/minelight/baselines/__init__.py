"""Classical enhancers: pure functions ``(H, W, 3)`` float RGB in [0, 1] -> same shape and range."""

from .clahe import clahe
from .gamma import gamma
from .he import he
from .lime import lime

BASELINES = {"clahe": clahe, "lime": lime, "he": he, "gamma": gamma}

__all__ = ["BASELINES", "clahe", "gamma", "he", "lime"]
