"""The fast student: a small network at low resolution predicts a smooth correction that is applied at
full resolution with guided (edge-aware) upsampling, so its cost barely grows with the frame size.

Pipeline for a frame ``x`` ``(B, 3, H, W)``:

1. ``low`` = ``x`` downsampled (area) so that its longest side is ``low_side`` (e.g. 1280x720 -> 256x144).
2. A small encoder-decoder of the Net-S family (HDC encoder, RIR bottleneck, affine head with a global
   exposure term) enhances ``low`` -> ``y_low``.
3. Guided-filter coefficients (He et al., "Guided Image Filtering"; the fast variant of He & Sun 2015)
   are fitted at low resolution so that, in every ``(2r+1)^2`` window, ``y_low ~ A * low + b`` per colour
   channel. In flat regions ``A`` is small and ``b`` carries the (denoised) level; at edges ``A`` is large.
4. ``A`` and ``b`` (the *correction*, ``(B, 6, h, w)``) are bilinearly upsampled and applied to the
   full-resolution frame: ``out = A * x + b``.

The correction is what video smoothing averages across frames (see ``minelight.enhance.temporal``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..geometry import low_resolution_size
from .blocks import HybridDilatedConv, ResidualInResidual
from .encoder_decoder import EncoderDecoder


@dataclass
class FastConfig:
    widths: tuple[int, ...] = (16, 32, 48)  # channels per level of the low-resolution network
    rates: tuple[int, ...] = (1, 2, 5)  # HDC dilation rates
    low_side: int = 192  # longest side (pixels) of the low-resolution stream (an inference setting)
    radius: int = 2  # guided-filter window radius, in low-resolution pixels
    eps: float = 1e-2  # initial guided-filter regularisation (learned), in units of the normalised guide


def box_mean(x: torch.Tensor, radius: int) -> torch.Tensor:
    """Mean over ``(2r+1)^2`` windows, windows clipped at the border. ``(B, C, H, W) -> (B, C, H, W)``.

    Separable depthwise box sums divided by the window's pixel count: the same numbers as
    ``avg_pool2d(count_include_pad=False)``, but several times faster in onnxruntime."""
    k, c = 2 * radius + 1, x.shape[1]

    def box_sum(t: torch.Tensor, channels: int) -> torch.Tensor:
        t = F.conv2d(t, t.new_ones(channels, 1, 1, k), padding=(0, radius), groups=channels)
        return F.conv2d(t, t.new_ones(channels, 1, k, 1), padding=(radius, 0), groups=channels)

    return box_sum(x, c) / box_sum(torch.ones_like(x[:, :1]), 1)


def guided_coefficients(guide: torch.Tensor, target: torch.Tensor, radius: int,
                        eps: torch.Tensor | float) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel guided-filter coefficients: ``target ~ A * guide + b`` in each window.

    ``guide``, ``target``: ``(B, C, h, w)``. Returns ``A``, ``b`` ``(B, C, h, w)``, already averaged over
    the windows that cover each pixel (so ``A * guide + b`` is the guided filter's output).
    """
    mean_g, mean_t = box_mean(guide, radius), box_mean(target, radius)
    cov = box_mean(guide * target, radius) - mean_g * mean_t
    var = box_mean(guide * guide, radius) - mean_g * mean_g
    a = cov / (var + eps)
    b = mean_t - a * mean_g
    return box_mean(a, radius), box_mean(b, radius)


def downsample(x: torch.Tensor, low_side: int) -> torch.Tensor:
    """Area-downsample ``(B, C, H, W)`` so that the longest side is ``low_side``."""
    size = low_resolution_size(x.shape[-2], x.shape[-1], low_side)
    return x if size == tuple(x.shape[-2:]) else F.interpolate(x, size=size, mode="area")


def apply_correction(correction: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Upsample the correction ``(B, 6, h, w)`` = ``[A, b]`` bilinearly to ``x`` ``(B, 3, H, W)`` and return
    ``A * x + b`` (not clamped)."""
    full = F.interpolate(correction, size=x.shape[-2:], mode="bilinear", align_corners=False)
    return full[:, :3] * x + full[:, 3:]


class FastStudent(nn.Module):
    """``forward(x, low=None)``: ``(B, 3, H, W)`` in [0, 1] -> (enhanced ``(B, 3, H, W)``, low-resolution
    encoder features). ``low`` is the downsampled frame; computed with :func:`downsample` if omitted."""

    def __init__(self, config: FastConfig | None = None):
        super().__init__()
        self.config = config = config or FastConfig()
        self.net = EncoderDecoder(
            config.widths,
            lambda level, ch: HybridDilatedConv(ch, config.rates),
            lambda ch: ResidualInResidual(ch, 2, attention=True),
            output="affine",
        )
        self.log_eps = nn.Parameter(torch.tensor(math.log(config.eps)))

    def correction(self, low: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """``low`` ``(B, 3, h, w)`` -> correction ``(B, 6, h, w)`` (``A`` and ``b`` for the full frame) and the
        network's features. The guide is ``low`` divided by its mean (plus 0.02), so ``eps`` is relative to
        the frame's brightness; that division is folded into ``A``."""
        y_low, feats = self.net(low)
        scale = low.mean(dim=(1, 2, 3), keepdim=True) + 0.02  # (B, 1, 1, 1)
        a, b = guided_coefficients(low / scale, y_low, self.config.radius, self.log_eps.exp())
        return torch.cat([a / scale, b], dim=1), feats

    def forward(self, x: torch.Tensor, low: torch.Tensor | None = None) -> tuple[torch.Tensor, list[torch.Tensor]]:
        correction, feats = self.correction(downsample(x, self.config.low_side) if low is None else low)
        out = apply_correction(correction, x)
        if not self.training:
            out = out.clamp(0.0, 1.0)
        return out, feats
