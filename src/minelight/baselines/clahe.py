"""CLAHE (contrast-limited adaptive histogram equalisation) on the L channel of Lab, with OpenCV."""

from __future__ import annotations

import cv2
import numpy as np

from ..io import check_image, from_uint8, to_uint8


def clahe(img: np.ndarray, clip_limit: float = 2.0, tile_grid: int = 8) -> np.ndarray:
    """``(H, W, 3)`` RGB in [0, 1] -> same shape. OpenCV's 8-bit Lab; L equalised in ``tile_grid``^2 tiles."""
    lab = cv2.cvtColor(to_uint8(check_image(img)), cv2.COLOR_RGB2LAB)
    lab[:, :, 0] = cv2.createCLAHE(clipLimit=clip_limit, tileGridSize=(tile_grid, tile_grid)).apply(lab[:, :, 0])
    return from_uint8(cv2.cvtColor(lab, cv2.COLOR_LAB2RGB))
