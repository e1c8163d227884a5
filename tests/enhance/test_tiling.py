import numpy as np
import pytest
import torch

from minelight.enhance.enhancer import Enhancer
from minelight.models import Student, StudentConfig
from minelight.enhance.tiling import tiled_forward


def test_tiled_equals_untiled_despite_global_pooling():
    torch.manual_seed(0)
    model = Student(StudentConfig(widths=(8, 8, 8, 8))).eval()
    torch.nn.init.normal_(model.global_gain.weight, std=0.5)  # make the global term matter
    x = torch.rand(1, 3, 75, 101) * 0.3
    with torch.no_grad():
        expected = model(x)[0]
    out = tiled_forward(model, x, tile=24, halo=96)
    assert out.shape == x.shape
    assert (out - expected).abs().max() < 1e-5
    assert (tiled_forward(model, x, tile=24, halo=0) - expected).abs().max() > 1e-3  # the halo matters


def test_enhancer_tile_option_matches_untiled_within_one_grey_level(student_weights):
    img = np.random.default_rng(0).random((61, 83, 3), dtype=np.float32) * 0.3
    tiled = Enhancer("student", student_weights, tile=16).enhance_array(img)
    untiled = Enhancer("student", student_weights, tile=-1).enhance_array(img)
    assert np.abs(tiled - untiled).max() <= 1 / 255


@pytest.mark.parametrize("tile, halo", [(0, 8), (12, 8), (16, 6)])
def test_bad_tile_sizes(tile, halo):
    model = Student(StudentConfig(widths=(8, 8, 8, 8))).eval()
    with pytest.raises(ValueError):
        tiled_forward(model, torch.rand(1, 3, 20, 20), tile, halo)


def test_zero_dce_tiles_equal_untiled():
    from minelight.models import ZeroDCE, ZeroDCEConfig
    from minelight.enhance.tiling import tiled_local

    torch.manual_seed(0)
    model = ZeroDCE(ZeroDCEConfig(channels=8)).eval()
    x = torch.rand(1, 3, 45, 67) * 0.3
    with torch.no_grad():
        expected = model(x)[0]
    assert (tiled_local(model, x, tile=16, halo=8) - expected).abs().max() < 1e-5
