import math

import numpy as np
import pytest

from minelight.metrics.registry import METRICS, get_metrics

from ..conftest import scene


@pytest.mark.parametrize("name", list(METRICS))
def test_every_metric_gives_one_finite_float(name):
    metric = METRICS[name]
    if metric.needs == "reference":
        pytest.importorskip("torch", reason="full-reference metrics need the [train] extra")
    img = scene(200, 240, seed=1)
    other = None if metric.needs == "none" else np.clip(img * 0.9 + 0.02, 0, 1).astype(np.float32)
    value = metric.fn(img, other)
    assert isinstance(value, float) and math.isfinite(value)


@pytest.mark.train
def test_identical_images_give_infinite_psnr_and_unit_ssim():
    img = scene(64, 64)
    assert METRICS["psnr"].fn(img, img) == math.inf
    assert METRICS["ssim"].fn(img, img) == pytest.approx(1.0, abs=1e-6)


@pytest.mark.train
def test_psnr_known_value():
    a = np.zeros((8, 8, 3), np.float32)
    b = np.full((8, 8, 3), 0.1, np.float32)
    assert METRICS["psnr"].fn(a, b) == pytest.approx(20.0, abs=1e-4)


def test_get_metrics_parses_and_rejects():
    assert [m.name for m in get_metrics("niqe, psnr")] == ["niqe", "psnr"]
    with pytest.raises(ValueError, match="unknown metric"):
        get_metrics("niqe,bogus")


def test_niqe_rejects_images_smaller_than_two_blocks():
    with pytest.raises(ValueError, match="two 96x96 blocks"):
        METRICS["niqe"].fn(scene(100, 120), None)
