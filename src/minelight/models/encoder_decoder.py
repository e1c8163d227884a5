"""The encoder-decoder topology shared by Net-T and Net-S, so their features line up level by level."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from .blocks import UpBlock, conv_act, pad_to_multiple


class EncoderDecoder(nn.Module):
    """U-shaped network: ``len(widths)`` levels, stride-2 downsampling, additive skips, residual output.

    ``encoder_block(level, channels)`` builds each level's feature block; ``bottleneck(channels)`` the
    block at the coarsest level. ``forward`` takes ``(B, 3, H, W)`` in [0, 1] of any size and returns
    the enhanced ``(B, 3, H, W)`` (clamped to [0, 1] in eval mode) and the per-level encoder features
    ``[(B, widths[i], H/2^i, W/2^i)]`` (the last one taken after the bottleneck).

    ``output`` is how the head's prediction becomes the image: ``"residual"`` adds 3 channels to the
    input; ``"affine"`` predicts a per-pixel log-gain and an offset, ``out = x * exp(g) + b``, where
    ``g`` also gets a per-image term from the globally pooled bottleneck (an exposure estimate that sees
    the whole image) -- brightening is multiplicative, so this is the easier map to learn.
    """

    def __init__(
        self,
        widths: tuple[int, ...],
        encoder_block: Callable[[int, int], nn.Module],
        bottleneck: Callable[[int], nn.Module],
        output: str = "residual",
    ):
        super().__init__()
        self.widths = tuple(widths)
        self.stem = conv_act(3, widths[0])
        self.encoders = nn.ModuleList()
        for level, width in enumerate(widths):
            entry = nn.Identity() if level == 0 else conv_act(widths[level - 1], width, stride=2)
            self.encoders.append(nn.Sequential(entry, encoder_block(level, width)))
        self.bottleneck = bottleneck(widths[-1])
        self.decoders = nn.ModuleList(UpBlock(widths[i], widths[i - 1]) for i in range(len(widths) - 1, 0, -1))
        if output not in ("residual", "affine"):
            raise ValueError(f"unknown output {output!r}; use 'residual' or 'affine'")
        self.output = output
        self.head = nn.Conv2d(widths[0], 3 if output == "residual" else 6, 3, padding=1)
        if output == "affine":
            self.global_gain = nn.Linear(widths[-1], 3)
            nn.init.zeros_(self.global_gain.weight)
            nn.init.zeros_(self.global_gain.bias)

    @property
    def multiple(self) -> int:
        return 2 ** (len(self.widths) - 1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        padded, (h, w) = pad_to_multiple(x, self.multiple)
        y = self.stem(padded)
        feats = []
        for encoder in self.encoders:
            y = encoder(y)
            feats.append(y)
        y = self.bottleneck(y)
        feats[-1] = y
        for decoder, skip in zip(self.decoders, reversed(feats[:-1])):
            y = decoder(y, skip)
        pred = self.head(y)
        if self.output == "residual":
            out = padded + pred
        else:
            log_gain = pred[:, :3] + self.global_gain(feats[-1].mean(dim=(2, 3)))[:, :, None, None]
            out = padded * torch.exp(4.0 * torch.tanh(log_gain / 4.0)) + pred[:, 3:]  # gain in [e^-4, e^4]
        out = out[..., :h, :w]
        if not self.training:
            out = out.clamp(0.0, 1.0)
        return out, feats

    def enhance(self, x: torch.Tensor) -> torch.Tensor:
        """Output image only, ``(B, 3, H, W) -> (B, 3, H, W)``."""
        return self(x)[0]
