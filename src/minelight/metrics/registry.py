"""The metric registry: one score per image, each metric knowing its direction and what it needs.

``needs`` is ``"none"`` (no-reference), ``"reference"`` (a ground-truth image) or ``"input"`` (the
original low-light image, e.g. LOE). Every ``fn`` takes ``(img, other)`` with ``other`` = the
reference / input image or ``None``; images are ``(H, W, 3)`` float RGB in [0, 1].
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from . import statistics
from .niqe import niqe


@dataclass(frozen=True)
class Metric:
    name: str
    fn: Callable[[np.ndarray, np.ndarray | None], float]
    lower_is_better: bool
    needs: str = "none"  # "none" | "reference" | "input"
    description: str = ""


def _fr(name: str, gt_mean: bool = False) -> Callable[[np.ndarray, np.ndarray | None], float]:
    """A full-reference metric of :mod:`.full_reference` (PyTorch + kornia: the ``[train]`` extra), loaded on
    first use so that the no-reference metrics need neither."""

    def score(img: np.ndarray, ref: np.ndarray | None) -> float:
        try:
            from . import full_reference
        except ImportError:
            raise ValueError(f"{name} needs PyTorch and kornia: pip install -e \".[train]\"") from None
        from ..io import to_tensor

        return float(getattr(full_reference, name)(to_tensor(img), to_tensor(ref), gt_mean=gt_mean)[0])

    return score


METRICS: dict[str, Metric] = {m.name: m for m in (
    Metric("psnr", _fr("psnr"), False, "reference", "PSNR (dB), RGB, no GT-mean rescaling"),
    Metric("ssim", _fr("ssim"), False, "reference", "SSIM, Gaussian 11x11 sigma 1.5, RGB"),
    Metric("psnr_gtmean", _fr("psnr", True), False, "reference", "PSNR after matching the GT mean (labelled variant)"),
    Metric("ssim_gtmean", _fr("ssim", True), False, "reference", "SSIM after matching the GT mean (labelled variant)"),
    Metric("niqe", lambda img, _: niqe(img), True, "none", "NIQE (Mittal et al. 2013), standard pristine model"),
    Metric("loe", lambda img, inp: statistics.loe(img, inp), True, "input", "lightness order error vs the input"),
    Metric("entropy", lambda img, _: statistics.entropy(img), False, "none", "luma histogram entropy (bits)"),
    Metric("mean_brightness", lambda img, _: statistics.mean_brightness(img), False, "none", "mean luma [0, 255]"),
    Metric("contrast", lambda img, _: statistics.contrast(img), False, "none", "RMS contrast of luma [0, 255]"),
    Metric("avg_gradient", lambda img, _: statistics.avg_gradient(img), False, "none", "average gradient of luma"),
)}


def get_metrics(names: str | list[str]) -> list[Metric]:
    """Metrics by name (a comma-separated string or a list); unknown names are a ``ValueError``."""
    if isinstance(names, str):
        names = [n.strip() for n in names.split(",") if n.strip()]
    unknown = [n for n in names if n not in METRICS]
    if unknown:
        raise ValueError(f"unknown metric(s) {', '.join(unknown)}; choose from {', '.join(METRICS)}")
    return [METRICS[n] for n in names]
