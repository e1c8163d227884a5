"""Zero-DCE (Guo et al., CVPR 2020): a 7-layer CNN predicts per-pixel curve parameters; the quadratic
light-enhancement curve ``LE(x) = x + a * x * (1 - x)`` is applied ``iterations`` times."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


@dataclass
class ZeroDCEConfig:
    channels: int = 32  # width of every hidden layer (the paper's 32)
    iterations: int = 8  # curve applications (the paper's 8)


class ZeroDCE(nn.Module):
    """DCE-Net: 7 3x3 convs, symmetric concatenation skips (3-4, 2-5, 1-6), tanh curve maps.

    ``forward``: ``(B, 3, H, W)`` in [0, 1], any size -> (enhanced ``(B, 3, H, W)``, curve maps
    ``(B, 3 * iterations, H, W)`` in [-1, 1]).
    """

    def __init__(self, config: ZeroDCEConfig | None = None):
        super().__init__()
        self.config = config = config or ZeroDCEConfig()
        c = config.channels
        self.convs = nn.ModuleList([nn.Conv2d(3, c, 3, padding=1)] + [nn.Conv2d(c, c, 3, padding=1) for _ in range(3)]
                                   + [nn.Conv2d(2 * c, c, 3, padding=1) for _ in range(2)])
        self.out = nn.Conv2d(2 * c, 3 * config.iterations, 3, padding=1)
        self.act = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x1 = self.act(self.convs[0](x))
        x2 = self.act(self.convs[1](x1))
        x3 = self.act(self.convs[2](x2))
        x4 = self.act(self.convs[3](x3))
        x5 = self.act(self.convs[4](torch.cat([x3, x4], 1)))
        x6 = self.act(self.convs[5](torch.cat([x2, x5], 1)))
        curves = torch.tanh(self.out(torch.cat([x1, x6], 1)))  # (B, 3 * iterations, H, W)
        y = x
        for a in curves.split(3, dim=1):
            y = y + a * y * (1 - y)
        if not self.training:
            y = y.clamp(0.0, 1.0)
        return y, curves
