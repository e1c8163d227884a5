"""The recipe owns the product defaults; what it builds equals what minelight 0.1.0 wrote.

``recipe_golden.npz`` holds, for every method x mode, the outputs on the frames below (the CLI's image path,
its video path, serve's camera pipeline) area-downsampled 4x, made when the recipe replaced 0.1.0's code
paths and checked then to be byte-identical to what those paths wrote. They are compared within 1e-4: the
networks' float results differ by about 1e-6 between CPUs (onnxruntime picks kernels by instruction set),
while any change of a step or a strength moves them by far more. Zero-DCE is left out on purpose: its
shipped network now runs from its ONNX graph instead of PyTorch; its recipe adds no step.

The fast model's video and serve recipes now denoise the frames over time before the network and drop the
smoothing's output blend (``minelight.enhance.denoise``; chosen on the noisy-video benchmark,
``docs/notes/temporal_denoising.md``), which changes those outputs on purpose. The golden check therefore pins
the recipe with the denoiser off (``denoise=False``): everything else must still be equal to 0.1.0,
and the denoiser's own behaviour is tested in ``test_denoise.py``.

Still images now get the grain step after the network (``minelight.enhance.still_denoise``; chosen on the SICE
validation pairs, ``docs/notes/still_denoising.md``), which changes the default still outputs on purpose. The
golden check pins it off as well (``grain=0``); ``test_the_default_still_output_is_the_pinned_one_with_the_grain_step``
checks that the default is exactly those steps plus the grain step, and ``test_still_denoise.py`` the step itself.
"""

from pathlib import Path

import cv2
import numpy as np
import pytest

from minelight.enhance.enhancer import Enhancer
from minelight.enhance.recipes import MODES, resolve
from minelight.enhance.temporal import SmoothingConfig, TemporalSmoother
from minelight.io import from_uint8

GOLDEN = dict(np.load(Path(__file__).parent / "recipe_golden.npz"))


def frames(n: int = 3, h: int = 40, w: int = 56) -> list[np.ndarray]:
    """Three dark, noisy uint8 RGB frames of a scene moving one pixel per frame."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    base = np.stack([0.3 * xx + 0.1, 0.25 * yy + 0.1, 0.2 * (xx + yy) / 2 + 0.05], -1)
    base[10:25, 15:35] += 0.4
    out = []
    for i in range(n):
        f = np.roll(base, i, axis=1) * 0.35 + rng.normal(0, 0.02, base.shape)
        out.append(np.clip(f * 255 + 0.5, 0, 255).astype(np.uint8))
    return out


def _thumbnail(img: np.ndarray) -> np.ndarray:
    """``(40, 56, 3)`` -> its ``(10, 14, 3)`` area average, float32."""
    return cv2.resize(np.asarray(img, np.float32), (14, 10), interpolation=cv2.INTER_AREA)


@pytest.mark.parametrize("key", sorted(GOLDEN))
def test_recipe_outputs_equal_the_previous_release(key):
    method, mode = key.split("-")
    enhancer, images = Enhancer.from_recipe(method, mode, denoise=False, grain=0), frames()
    assert enhancer.denoiser() is None
    if mode == "image":
        outs = [enhancer.enhance_array(from_uint8(images[0]))]
    else:  # the video job smooths every method's stream; serve only the fast model's
        smoother = TemporalSmoother(SmoothingConfig()) if mode == "video" or method == "fast" else None
        outs = [enhancer.enhance_array(from_uint8(f), smoother) for f in images]
    np.testing.assert_allclose(np.stack([_thumbnail(o) for o in outs]), GOLDEN[key], rtol=0, atol=1e-4)


@pytest.mark.parametrize("method", ["student", "fast"])
def test_the_default_still_output_is_the_pinned_one_with_the_grain_step(method):
    recipe, image = resolve(method), from_uint8(frames()[0])
    pinned = Enhancer.from_recipe(method, grain=0)
    expected = Enhancer(method, halo=recipe.halo, chroma=recipe.chroma, exposure=recipe.exposure, grain=recipe.grain,
                        grain_filter=recipe.grain_filter)
    default = Enhancer.from_recipe(method).enhance_array(image)
    assert np.array_equal(default, expected.enhance_array(image))
    assert np.array_equal(default, pinned.enhance_array(image)) == (recipe.grain == 0)


def test_every_method_has_a_recipe_in_every_mode():
    for method in ("student", "fast", "zerodce", "teacher", "clahe", "lime", "he", "gamma"):
        for mode in MODES:
            recipe = resolve(method, mode)
            assert (recipe.method, recipe.mode) == (method, mode)


def test_the_defaults_differ_where_the_product_says():
    assert resolve("student").exposure and not resolve("student", "video").exposure
    assert resolve("fast", "video").chroma_view and resolve("fast", "video").denoise
    assert not resolve("fast", "video").smoothing and resolve("fast", "video", denoise=False).smoothing
    assert resolve("fast", "serve") == resolve("fast", "video").__class__(**{**vars(resolve("fast", "video")),
                                                                             "mode": "serve"})
    assert not resolve("fast").denoise and not resolve("fast", denoise=True).denoise  # never on still images
    assert not resolve("student", "video").denoise and resolve("student", "video", denoise=True).denoise
    assert not resolve("fast").chroma_view and resolve("fast").chroma > 0
    assert resolve("clahe", "serve") == resolve("clahe", "serve", halo=0.0, chroma=0)


def test_overrides_are_applied_once_and_only_where_they_mean_something():
    assert resolve("student", halo=0.2).halo == 0.2
    assert resolve("fast", "video", chroma=3, denoise=False) == resolve("fast", "video", chroma=3, smoothing=True,
                                                                       denoise=False)
    assert resolve("fast", "video", smoothing=True).smoothing and not resolve("clahe", "video", smoothing=True).smoothing
    assert resolve("fast", "video", chroma=3).chroma_view is False
    assert resolve("clahe", detail=True).detail is False  # detail restoration is Net-S's
    assert resolve("clahe", exposure=True).exposure is False  # only Net-S's weights carry the step
    assert resolve("student", exposure=False).exposure is False
    with pytest.raises(ValueError, match="mode"):
        resolve("student", "movie")


def test_from_recipe_is_the_recipe(student_weights):
    enhancer = Enhancer.from_recipe("student", "video", weights=student_weights, chroma=2)
    recipe = resolve("student", "video", chroma=2)
    assert (enhancer.halo, enhancer.chroma, enhancer.exposure) == (recipe.halo, 2, None)


def test_benchmark_names_pick_the_recipe_the_network_or_another_mode():
    from minelight.enhance.enhancer import enhancer_for

    video = enhancer_for("fast@video")
    assert (video.chroma_view, video.chroma) == (True, 0)
    assert enhancer_for("student").halo == resolve("student").halo > 0
    assert enhancer_for("student.net").halo == 0.0
    with pytest.raises(ValueError, match="mode"):
        enhancer_for("fast@cinema")
    with pytest.raises(ValueError, match="plain method"):
        enhancer_for("fast.net@video")
