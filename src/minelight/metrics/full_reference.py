"""Full-reference metrics on ``(B, 3, H, W)`` tensors in [0, 1]: one score per image."""

from __future__ import annotations

import torch
from kornia.metrics import ssim as _ssim_map


def psnr(pred: torch.Tensor, target: torch.Tensor, gt_mean: bool = False) -> torch.Tensor:
    """PSNR in dB per image, ``(B,)``; data range 1. ``gt_mean``: first scale ``pred`` so its mean grey
    level matches the target's (the "GT-mean" variant; never the default)."""
    if pred.shape != target.shape:
        raise ValueError(f"shapes differ: {tuple(pred.shape)} vs {tuple(target.shape)}")
    if gt_mean:
        pred = _match_mean(pred, target)
    mse = (pred.clamp(0, 1) - target).pow(2).flatten(1).mean(1)
    return 10 * torch.log10(1.0 / mse)


def ssim(pred: torch.Tensor, target: torch.Tensor, gt_mean: bool = False) -> torch.Tensor:
    """Mean SSIM per image, ``(B,)``: Gaussian 11x11 window, sigma 1.5, on RGB, data range 1."""
    if pred.shape != target.shape:
        raise ValueError(f"shapes differ: {tuple(pred.shape)} vs {tuple(target.shape)}")
    if gt_mean:
        pred = _match_mean(pred, target)
    return _ssim_map(pred.clamp(0, 1), target, 11, max_val=1.0).flatten(1).mean(1)


def _match_mean(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    dims = (1, 2, 3)
    return (pred * target.mean(dims, keepdim=True) / pred.mean(dims, keepdim=True).clamp_min(1e-6)).clamp(0, 1)
