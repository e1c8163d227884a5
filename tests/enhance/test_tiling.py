import numpy as np
import pytest
import torch

from minelight.enhance.enhancer import Enhancer
from minelight.enhance.runtime import TorchRunner
from minelight.enhance.tiling import TileStages, tiled_forward, tiled_local
from minelight.models import Student, StudentConfig
from minelight.models.export import graph_for


def _stages(model) -> TileStages:
    run = {s: TorchRunner(graph_for(model, s)) for s in ("encode", "bottleneck", "decode")}
    return TileStages(run["encode"], run["bottleneck"], run["decode"], model.multiple)


def _student(seed: int = 0):
    torch.manual_seed(seed)
    model = Student(StudentConfig(widths=(8, 8, 8, 8))).eval()
    torch.nn.init.normal_(model.global_gain.weight, std=0.5)  # make the global term matter
    return model


def test_tiled_equals_untiled_on_an_image_many_tiles_wide_and_high():
    model = _student()
    x = torch.rand(1, 3, 150, 203) * 0.3  # 32-px tiles: 5 x 7 tiles, each smaller than the image
    with torch.no_grad():
        expected = model(x)[0].clamp(0, 1).numpy()
    out = tiled_forward(_stages(model), x.numpy(), tile=32, halo=96)
    assert out.shape == expected.shape
    assert np.abs(out - expected).max() < 1e-5


@pytest.mark.parametrize("halo", [0, 8, 16])
def test_a_halo_smaller_than_the_receptive_field_breaks_the_equality(halo):
    model = _student()
    x = torch.rand(1, 3, 150, 203) * 0.3
    with torch.no_grad():
        expected = model(x)[0].clamp(0, 1).numpy()
    assert np.abs(tiled_forward(_stages(model), x.numpy(), tile=32, halo=halo) - expected).max() > 1e-5


def test_enhancer_tile_option_matches_untiled_on_onnx_graphs(tmp_path, student_weights):
    from minelight.models.export import export_onnx
    from minelight.models.weights import load_weights

    model, _ = load_weights(student_weights)
    export_onnx(model, student_weights.with_suffix(".onnx"), metadata={"weights_sha256": __import__(
        "minelight.weights", fromlist=["weights_digest"]).weights_digest(student_weights)})
    img = np.random.default_rng(0).random((97, 131, 3), dtype=np.float32) * 0.3
    tiled = Enhancer("student", student_weights, tile=32)
    assert tiled.backend == "onnxruntime"
    untiled = Enhancer("student", student_weights, tile=-1).enhance_array(img)
    assert np.abs(tiled.enhance_array(img) - untiled).max() < 1e-5


@pytest.mark.parametrize("tile, halo", [(0, 8), (12, 8), (16, 6)])
def test_bad_tile_sizes(tile, halo):
    with pytest.raises(ValueError):
        tiled_forward(_stages(_student()), np.zeros((1, 3, 20, 20), np.float32), tile, halo)


def test_zero_dce_tiles_equal_untiled():
    from minelight.models import ZeroDCE, ZeroDCEConfig

    torch.manual_seed(0)
    model = ZeroDCE(ZeroDCEConfig(channels=8)).eval()
    run = TorchRunner(graph_for(model))
    x = np.random.default_rng(0).random((1, 3, 45, 67), dtype=np.float32) * 0.3
    expected = run(x, np.ones(1, np.float32))[0]
    one = np.ones(1, np.float32)
    assert np.abs(tiled_local(lambda t: run(t, one), x, tile=16, halo=8) - expected).max() < 1e-5
    assert np.abs(tiled_local(lambda t: run(t, one), x, tile=16, halo=2) - expected).max() > 1e-5
