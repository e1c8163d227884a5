"""Global histogram equalisation of luminance (a floor reference)."""

from __future__ import annotations

import cv2
import numpy as np

from ..io import check_image, from_uint8, to_uint8


def he(img: np.ndarray) -> np.ndarray:
    """``(H, W, 3)`` RGB in [0, 1] -> same shape: Y of YCrCb equalised over the whole image, chroma kept."""
    ycc = cv2.cvtColor(to_uint8(check_image(img)), cv2.COLOR_RGB2YCrCb)
    ycc[:, :, 0] = cv2.equalizeHist(ycc[:, :, 0])
    return from_uint8(cv2.cvtColor(ycc, cv2.COLOR_YCrCb2RGB))
