"""Losses: the multi-scale low-light reconstruction loss and the feature-distillation losses.

Images are ``(B, 3, H, W)`` in [0, 1]; features are ``(B, C, h, w)``. Every term has a weight in its
config; a weight of 0 switches the term off (it is then not computed at all).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from kornia.metrics import ssim
from torch import nn

from ..models.blocks import attention_map


def charbonnier(pred: torch.Tensor, target: torch.Tensor, eps: float = 1e-3) -> torch.Tensor:
    """Mean of ``sqrt((pred - target)^2 + eps^2)``: a smooth L1."""
    return torch.sqrt((pred - target).pow(2) + eps * eps).mean()


def multiscale_charbonnier(pred: torch.Tensor, target: torch.Tensor,
                           scales: tuple[int, ...] = (1, 2, 4)) -> torch.Tensor:
    """Charbonnier averaged over downsampling factors (average pooling by each factor)."""
    total = pred.new_zeros(())
    for s in scales:
        p, t = (pred, target) if s == 1 else (F.avg_pool2d(pred, s), F.avg_pool2d(target, s))
        total = total + charbonnier(p, t)
    return total / len(scales)


def ssim_loss(pred: torch.Tensor, target: torch.Tensor, window: int = 11) -> torch.Tensor:
    """``1 - mean SSIM`` (Gaussian window, sigma 1.5, data range 1)."""
    return 1.0 - ssim(pred, target, window, max_val=1.0).mean()


def gradient_l1(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean absolute difference of the horizontal and vertical neighbour differences (per pixel, per
    channel): it charges a prediction for edges and texture it blurs away, or adds."""
    dx = (pred[..., :, 1:] - pred[..., :, :-1]) - (target[..., :, 1:] - target[..., :, :-1])
    dy = (pred[..., 1:, :] - pred[..., :-1, :]) - (target[..., 1:, :] - target[..., :-1, :])
    return 0.5 * (dx.abs().mean() + dy.abs().mean())


def colour_angle(pred: torch.Tensor, target: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """Mean angle in radians between the RGB vectors of ``pred`` and ``target`` at each pixel."""
    cos = F.cosine_similarity(pred, target, dim=1, eps=eps)  # (B, H, W)
    return torch.acos(cos.clamp(-1 + 1e-6, 1 - 1e-6)).mean()


def feature_l1(student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
    """Plain feature mimicry: mean absolute difference."""
    return (student - teacher).abs().mean()


def attention_transfer(student: torch.Tensor, teacher: torch.Tensor, p: float = 2.0) -> torch.Tensor:
    """Squared L2 distance between normalised spatial attention maps, averaged over the batch."""
    return (attention_map(student, p) - attention_map(teacher, p)).pow(2).sum(dim=1).mean()


def channel_wise_distillation(student: torch.Tensor, teacher: torch.Tensor, tau: float = 1.0) -> torch.Tensor:
    """Channel-wise KD (Shu et al. 2021): per channel, softmax over positions at temperature ``tau``;
    ``tau^2 * KL(teacher || student)``, averaged over batch and channels."""
    s = student.flatten(2) / tau  # (B, C, h*w)
    t = teacher.flatten(2) / tau
    kl = (F.softmax(t, dim=2) * (F.log_softmax(t, dim=2) - F.log_softmax(s, dim=2))).sum(dim=2)
    return tau * tau * kl.mean()


@dataclass
class ReconstructionConfig:
    charbonnier: float = 1.0  # weight of the multi-scale Charbonnier term
    scales: tuple[int, ...] = (1, 2, 4)  # downsampling factors of that term; (1,) = single scale
    ssim: float = 0.2  # weight of (1 - SSIM)
    colour: float = 0.1  # weight of the colour-angle term (radians)
    gradient: float = 0.0  # weight of the L1 distance between neighbour differences (texture, edges)


@dataclass
class DistillConfig:
    levels: tuple[int, ...] = (1, 2, 3)  # encoder levels whose features are matched
    feature: float = 0.0  # weight of feature L1
    attention: float = 10.0  # weight of attention-map transfer
    channel: float = 0.5  # weight of channel-wise distillation
    tau: float = 2.0  # temperature of channel-wise distillation

    @property
    def enabled(self) -> bool:
        return bool(self.levels) and (self.feature > 0 or self.attention > 0 or self.channel > 0)


class ReconstructionLoss(nn.Module):
    """Weighted sum of the enabled reconstruction terms; ``forward`` returns (total, {name: value})."""

    def __init__(self, config: ReconstructionConfig | None = None):
        super().__init__()
        self.config = config or ReconstructionConfig()

    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        c = self.config
        terms = {}
        if c.charbonnier > 0:
            terms["charbonnier"] = (c.charbonnier, multiscale_charbonnier(pred, target, c.scales))
        if c.ssim > 0:
            terms["ssim"] = (c.ssim, ssim_loss(pred, target))
        if c.colour > 0:
            terms["colour"] = (c.colour, colour_angle(pred, target))
        if c.gradient > 0:
            terms["gradient"] = (c.gradient, gradient_l1(pred, target))
        return _weighted(terms, pred)


class DistillLoss(nn.Module):
    """Weighted sum of the enabled distillation terms over the configured feature levels."""

    def __init__(self, config: DistillConfig | None = None):
        super().__init__()
        self.config = config or DistillConfig()

    def forward(
        self, student_feats: list[torch.Tensor], teacher_feats: list[torch.Tensor]
    ) -> tuple[torch.Tensor, dict[str, float]]:
        c = self.config
        pairs = [(student_feats[i], teacher_feats[i].detach()) for i in c.levels]
        n = len(pairs)
        terms = {}
        if c.feature > 0:
            terms["feat_l1"] = (c.feature, sum(feature_l1(s, t) for s, t in pairs) / n)
        if c.attention > 0:
            terms["attention"] = (c.attention, sum(attention_transfer(s, t) for s, t in pairs) / n)
        if c.channel > 0:
            terms["channel_kd"] = (c.channel, sum(channel_wise_distillation(s, t, c.tau) for s, t in pairs) / n)
        return _weighted(terms, student_feats[0])


def _weighted(terms: dict[str, tuple[float, torch.Tensor]],
              like: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
    total = like.new_zeros(())
    for weight, value in terms.values():
        total = total + weight * value
    return total, {name: float(value.detach()) for name, (_, value) in terms.items()}
