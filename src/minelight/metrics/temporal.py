"""Flicker: how much an enhancer adds to the frame-to-frame change of a video on static regions."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def mean_temporal_change(frames: Sequence[np.ndarray], static: np.ndarray | None = None) -> float:
    """Mean ``|f_t - f_{t-1}|`` over consecutive ``(H, W, 3)`` frames in [0, 1], over the pixels where
    ``static`` ``(H, W)`` is true (all pixels if ``None``)."""
    if len(frames) < 2:
        raise ValueError("need at least two frames")
    total, count = 0.0, 0
    for prev, cur in zip(frames[:-1], frames[1:]):
        diff = np.abs(cur.astype(np.float32) - prev.astype(np.float32)).mean(axis=2)  # (H, W)
        values = diff if static is None else diff[static]
        total += float(values.sum())
        count += values.size
    if count == 0:
        raise ValueError("the static mask selects no pixels")
    return total / count


def flicker(inputs: Sequence[np.ndarray], outputs: Sequence[np.ndarray], static: np.ndarray | None = None) -> float:
    """Mean absolute frame-to-frame change of ``outputs`` minus that of ``inputs`` on static pixels (same units
    as the frames, e.g. [0, 1]). 0: the enhancer adds no flicker; lower is better."""
    if len(inputs) != len(outputs):
        raise ValueError(f"{len(inputs)} input frames but {len(outputs)} output frames")
    return mean_temporal_change(outputs, static) - mean_temporal_change(inputs, static)
