import math

import pytest
import torch

from minelight.train.losses import (DistillConfig, DistillLoss, ReconstructionConfig, ReconstructionLoss, attention_transfer,
                              channel_wise_distillation, charbonnier, colour_angle, gradient_l1,
                              multiscale_charbonnier)


def test_identical_images_have_minimal_losses():
    x = torch.rand(2, 3, 32, 32)
    assert charbonnier(x, x).item() == pytest.approx(1e-3)
    assert colour_angle(x, x).item() < 1e-2
    total, terms = ReconstructionLoss()(x, x)
    assert set(terms) == {"charbonnier", "ssim", "colour"}
    assert total.item() < 0.01


def test_colour_angle_sees_hue_not_brightness():
    x = torch.rand(1, 3, 8, 8) + 0.1
    assert colour_angle(0.5 * x, x).item() < 1e-2
    assert colour_angle(x.flip(1), x).item() > 0.05


def test_multiscale_uses_coarse_scales():
    x = torch.rand(1, 3, 16, 16)
    noise = torch.randn_like(x) * 0.1  # zero-mean noise mostly averages out at coarse scales
    assert multiscale_charbonnier(x + noise, x, (4,)) < multiscale_charbonnier(x + noise, x, (1,))


def test_gradient_term_charges_blur_but_not_a_brightness_offset():
    x = torch.rand(1, 3, 32, 32)
    blurred = torch.nn.functional.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)
    assert gradient_l1(x + 0.2, x).item() == pytest.approx(0, abs=1e-6)
    assert gradient_l1(blurred, x).item() > 0.05
    _, terms = ReconstructionLoss(ReconstructionConfig(gradient=0.5))(blurred, x)
    assert "gradient" in terms


def test_switched_off_terms_are_absent():
    x, y = torch.rand(1, 3, 16, 16), torch.rand(1, 3, 16, 16)
    _, terms = ReconstructionLoss(ReconstructionConfig(ssim=0, colour=0))(x, y)
    assert set(terms) == {"charbonnier"}


def test_distillation_terms():
    fs = [torch.randn(2, 4, 8, 8) for _ in range(3)]
    ft = [torch.randn(2, 4, 8, 8) for _ in range(3)]
    total, terms = DistillLoss(DistillConfig(levels=(1, 2), feature=1, attention=1, channel=1))(fs, ft)
    assert set(terms) == {"feat_l1", "attention", "channel_kd"} and total.item() > 0
    assert attention_transfer(ft[0], ft[0]).item() == pytest.approx(0, abs=1e-7)
    assert channel_wise_distillation(ft[0], ft[0], 4.0).item() == pytest.approx(0, abs=1e-6)
    _, terms = DistillLoss(DistillConfig(levels=(1,), feature=0, attention=0, channel=1))(fs, ft)
    assert set(terms) == {"channel_kd"}
    assert not DistillConfig(feature=0, attention=0, channel=0).enabled


def test_channel_kd_temperature_scaling():
    s, t = torch.randn(1, 2, 4, 4), torch.randn(1, 2, 4, 4)
    assert math.isfinite(channel_wise_distillation(s, t, 4.0).item())
    assert channel_wise_distillation(s, t, 1.0).item() != pytest.approx(channel_wise_distillation(s, t, 4.0).item())
