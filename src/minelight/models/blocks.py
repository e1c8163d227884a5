"""Building blocks shared by Net-T and Net-S. All blocks keep ``(B, C, H, W)`` shapes unless noted."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def conv_act(c_in: int, c_out: int, stride: int = 1) -> nn.Sequential:
    """3x3 conv + LeakyReLU. ``(B, c_in, H, W) -> (B, c_out, H/stride, W/stride)``."""
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, stride, 1), nn.LeakyReLU(0.1, inplace=True))


class HybridDilatedConv(nn.Module):
    """Hybrid dilated convolution: parallel depthwise 3x3 convs with co-prime rates, fused by a 1x1 conv.

    Rates such as (1, 2, 5) have no common factor, so the combined sampling grid has no holes (no
    gridding). A residual connection keeps the block easy to train.
    """

    def __init__(self, channels: int, rates: tuple[int, ...] = (1, 2, 5)):
        super().__init__()
        self.branches = nn.ModuleList(
            nn.Conv2d(channels, channels, 3, padding=r, dilation=r, groups=channels) for r in rates
        )
        self.fuse = nn.Conv2d(channels * len(rates), channels, 1)
        self.act = nn.LeakyReLU(0.1, inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.cat([branch(x) for branch in self.branches], dim=1)  # (B, C*len(rates), H, W)
        return x + self.act(self.fuse(y))


class ResidualBlock(nn.Module):
    """conv-act-conv with an identity skip."""

    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, channels, 3, padding=1),
            nn.LeakyReLU(0.1, inplace=True),
            nn.Conv2d(channels, channels, 3, padding=1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class ChannelAttention(nn.Module):
    """Squeeze-and-excitation gate: global mean per channel -> MLP -> sigmoid -> rescale channels."""

    def __init__(self, channels: int, reduction: int = 4):
        super().__init__()
        hidden = max(channels // reduction, 4)
        self.gate = nn.Sequential(
            nn.AdaptiveAvgPool2d(1),
            nn.Conv2d(channels, hidden, 1),
            nn.ReLU(inplace=True),
            nn.Conv2d(hidden, channels, 1),
            nn.Sigmoid(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.gate(x)


class ResidualInResidual(nn.Module):
    """Improved RIR group: residual blocks, a channel-attention gate, a 3x3 conv, and a long skip."""

    def __init__(self, channels: int, n_blocks: int = 2, attention: bool = True):
        super().__init__()
        layers: list[nn.Module] = [ResidualBlock(channels) for _ in range(n_blocks)]
        if attention:
            layers.append(ChannelAttention(channels))
        layers.append(nn.Conv2d(channels, channels, 3, padding=1))
        self.body = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class UpBlock(nn.Module):
    """Bilinear x2 upsampling + 3x3 conv, added to the encoder skip, then a 3x3 conv.

    ``(B, c_in, H/2, W/2), (B, c_out, H, W) -> (B, c_out, H, W)``.
    """

    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        self.reduce = nn.Conv2d(c_in, c_out, 3, padding=1)
        self.refine = conv_act(c_out, c_out)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
        return self.refine(self.reduce(x) + skip)


def attention_map(feat: torch.Tensor, p: float = 2.0) -> torch.Tensor:
    """Spatial attention map (Zagoruyko & Komodakis): channel mean of ``|F|^p``, L2-normalised.

    ``(B, C, H, W) -> (B, H*W)``.
    """
    a = feat.abs().pow(p).mean(dim=1).flatten(1)  # (B, H*W)
    return F.normalize(a, dim=1)


def pad_to_multiple(x: torch.Tensor, multiple: int) -> tuple[torch.Tensor, tuple[int, int]]:
    """Replicate-pad bottom/right so H and W are multiples of ``multiple``. Returns the padded tensor and (H, W)."""
    h, w = x.shape[-2:]
    ph, pw = (-h) % multiple, (-w) % multiple
    x = F.pad(x, (0, pw, 0, ph), mode="replicate")  # no branch on the size: exports with dynamic H, W
    return x, (h, w)
