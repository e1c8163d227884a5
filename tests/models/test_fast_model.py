import numpy as np
import pytest
import torch

from minelight.models.export import FastGraph
from minelight.models import FastConfig, FastStudent
from minelight.enhance.correction import apply_correction_array
from minelight.geometry import low_resolution_size
from minelight.models.fast import apply_correction, box_mean, downsample, guided_coefficients


def test_low_resolution_size_keeps_aspect_and_never_upsamples():
    assert low_resolution_size(720, 1280, 256) == (144, 256)
    assert low_resolution_size(1080, 1920, 256) == (144, 256)
    assert low_resolution_size(40, 30, 256) == (40, 30)
    assert low_resolution_size(1, 5000, 256) == (1, 256)


def test_guided_coefficients_are_identity_for_target_equal_guide_and_constant_for_a_flat_target():
    g = torch.rand(1, 3, 24, 32) * 4
    a, b = guided_coefficients(g, g, radius=2, eps=1e-8)
    assert torch.allclose(a * g + b, g, atol=1e-3)
    a, b = guided_coefficients(g, torch.full_like(g, 0.3), radius=2, eps=1e-2)
    assert a.abs().max() < 1e-5 and torch.allclose(b, torch.full_like(b, 0.3), atol=1e-5)


def test_correction_is_applied_at_full_resolution():
    x = torch.rand(1, 3, 40, 60)
    correction = torch.cat([torch.full((1, 3, 5, 7), 2.0), torch.full((1, 3, 5, 7), 0.1)], dim=1)
    assert torch.allclose(apply_correction(correction, x), 2 * x + 0.1, atol=1e-6)


@pytest.mark.parametrize("size", [(97, 131), (300, 200), (1, 1)])
def test_fast_model_low_stream_is_at_most_low_side(size):
    model = FastStudent(FastConfig(widths=(8, 8, 8), low_side=48)).eval()
    x = torch.rand(1, 3, *size)
    with torch.no_grad():
        out, feats = model(x)
    assert out.shape == x.shape
    assert max(downsample(x, 48).shape[-2:]) == min(48, max(size))
    assert feats[0].shape[-1] <= 48


def test_fast_graph_momentum_one_keeps_the_previous_correction_and_zero_ignores_it():
    torch.manual_seed(0)
    graph = FastGraph(FastStudent(FastConfig(widths=(8, 8, 8), low_side=16)))
    low, previous, _ = graph.example(40, 50)
    ones, zeros = torch.ones(1, 1, *low.shape[-2:]), torch.zeros(1, 1, *low.shape[-2:])
    with torch.no_grad():
        kept = graph(low, previous, ones)
        fresh = graph(low, previous, zeros)
        fresh_again = graph(low, torch.zeros_like(previous), zeros)
    assert torch.equal(kept, previous)
    assert torch.allclose(fresh, fresh_again) and not torch.allclose(fresh, previous)


def test_box_mean_equals_average_pooling_without_padding():
    x = torch.rand(2, 6, 13, 29)
    expected = torch.nn.functional.avg_pool2d(x, 5, stride=1, padding=2, count_include_pad=False)
    assert torch.allclose(box_mean(x, 2), expected, atol=1e-6)


def test_opencv_apply_equals_the_torch_apply():
    correction = torch.rand(1, 6, 9, 16) * 2
    img = np.random.default_rng(0).random((71, 127, 3), dtype=np.float32)
    expected = apply_correction(correction, torch.from_numpy(img).permute(2, 0, 1)[None]).clamp(0, 1)
    got = apply_correction_array(correction.numpy(), img)
    np.testing.assert_allclose(got, expected[0].permute(1, 2, 0).numpy(), atol=1e-5)
