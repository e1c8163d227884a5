"""The four zero-reference losses of Zero-DCE (Guo et al., CVPR 2020), on ``(B, 3, H, W)`` in [0, 1].

Weights as in the authors' release: ``spatial 1, exposure 10, colour 5, illumination smoothness 200``;
exposure level ``E = 0.6`` over 16x16 patches; spatial consistency over 4x4 regions.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F


def spatial_consistency(enhanced: torch.Tensor, original: torch.Tensor, region: int = 4) -> torch.Tensor:
    """Differences between each 4x4 region and its 4 neighbours should be the same before and after."""
    def diffs(img):
        y = F.avg_pool2d(img.mean(1, keepdim=True), region)
        p = F.pad(y, (1, 1, 1, 1), mode="replicate")
        centre = p[..., 1:-1, 1:-1]
        neighbours = (p[..., 1:-1, :-2], p[..., 1:-1, 2:], p[..., :-2, 1:-1], p[..., 2:, 1:-1])  # left right up down
        return [centre - n for n in neighbours]

    return sum(((e - o) ** 2).mean() for e, o in zip(diffs(enhanced), diffs(original)))


def exposure_control(enhanced: torch.Tensor, level: float = 0.6, patch: int = 16) -> torch.Tensor:
    """Mean distance of 16x16 patch brightness to a well-exposed level ``E``."""
    return (F.avg_pool2d(enhanced.mean(1, keepdim=True), patch) - level).abs().mean()


def colour_constancy(enhanced: torch.Tensor) -> torch.Tensor:
    """Grey-world: squared differences between the channel means, summed over the three pairs."""
    r, g, b = enhanced.mean(dim=(2, 3)).unbind(1)
    return ((r - g) ** 2 + (r - b) ** 2 + (g - b) ** 2).mean()


def illumination_smoothness(curves: torch.Tensor) -> torch.Tensor:
    """Total variation (squared) of the curve-parameter maps."""
    dh = (curves[..., 1:, :] - curves[..., :-1, :]).pow(2).mean()
    dw = (curves[..., :, 1:] - curves[..., :, :-1]).pow(2).mean()
    return dh + dw


@dataclass
class ZeroReferenceConfig:
    spatial: float = 1.0
    exposure: float = 10.0
    colour: float = 5.0
    smoothness: float = 200.0
    level: float = 0.6  # well-exposedness level E


class ZeroReferenceLoss(torch.nn.Module):
    """Weighted sum of the four losses; returns ``(total, {term: value})``; zero weight = term absent."""

    def __init__(self, config: ZeroReferenceConfig | None = None):
        super().__init__()
        self.config = config or ZeroReferenceConfig()

    def forward(self, enhanced, original, curves):
        c = self.config
        terms = {}
        if c.spatial:
            terms["spatial"] = c.spatial * spatial_consistency(enhanced, original)
        if c.exposure:
            terms["exposure"] = c.exposure * exposure_control(enhanced, c.level)
        if c.colour:
            terms["colour"] = c.colour * colour_constancy(enhanced)
        if c.smoothness:
            terms["smoothness"] = c.smoothness * illumination_smoothness(curves)
        total = sum(terms.values())
        return total, {k: float(v.detach()) for k, v in terms.items()}
