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
        feats = self.encode(padded)
        feats[-1] = self.bottleneck(feats[-1])
        out = self.to_image(self.decode(feats), padded, self.global_term(feats[-1]))[..., :h, :w]
        if not self.training:
            out = out.clamp(0.0, 1.0)
        return out, feats

    def encode(self, padded: torch.Tensor) -> list[torch.Tensor]:
        """Encoder features ``[(B, widths[i], H/2^i, W/2^i)]`` of an input padded to ``multiple`` (the last one
        before the bottleneck). Local: each output sees a bounded window of the input."""
        y = self.stem(padded)
        feats = []
        for encoder in self.encoders:
            y = encoder(y)
            feats.append(y)
        return feats

    def decode(self, feats: list[torch.Tensor]) -> torch.Tensor:
        """Head prediction ``(B, 3 or 6, H, W)`` from the skips and the bottleneck output ``feats[-1]``. Local."""
        y = feats[-1]
        for decoder, skip in zip(self.decoders, reversed(feats[:-1])):
            y = decoder(y, skip)
        return self.head(y)

    def global_term(self, deep: torch.Tensor) -> torch.Tensor | None:
        """The per-image log-gain ``(B, 3, 1, 1)`` from the globally pooled bottleneck output (affine head)."""
        if self.output != "affine":
            return None
        return self.global_gain(deep.mean(dim=(2, 3)))[:, :, None, None]

    def to_image(self, pred: torch.Tensor, padded: torch.Tensor, global_term: torch.Tensor | None) -> torch.Tensor:
        """The head's prediction applied to the (padded) input: ``x + r`` or ``x * exp(g) + b``."""
        if self.output == "residual":
            return padded + pred
        log_gain = pred[:, :3] + global_term
        return padded * torch.exp(4.0 * torch.tanh(log_gain / 4.0)) + pred[:, 3:]  # gain in [e^-4, e^4]

    def enhance(self, x: torch.Tensor) -> torch.Tensor:
        """Output image only, ``(B, 3, H, W) -> (B, 3, H, W)``."""
        return self(x)[0]
