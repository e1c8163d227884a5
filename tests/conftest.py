"""Shared fixtures: tiny images written to temp folders; nothing here needs the data sets."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from minelight.io import write_image

# The inference side (enhance, video, serve) runs without PyTorch; where it is not installed (the plain
# install), the training side's tests are not collected and tests that build weights are skipped.
HAS_TORCH = importlib.util.find_spec("torch") is not None
TRAINING_SIDE = ["models/*", "train/*", "data/*", "evaluate/*", "enhance/test_tiling.py", "enhance/test_exposure.py",
                 "test_import_rules.py"]
collect_ignore_glob = [] if HAS_TORCH else TRAINING_SIDE


def pytest_collection_modifyitems(config, items):
    """Tests marked ``train`` (they train, export or score with PyTorch) are skipped without it."""
    if HAS_TORCH:
        return
    skip = pytest.mark.skip(reason="needs the [train] extra (PyTorch)")
    for item in items:
        if "train" in item.keywords:
            item.add_marker(skip)

TINY_STUDENT = dict(widths=(8, 8, 8), rir_groups=1, blocks_per_group=1)
TINY_TEACHER = dict(widths=(8, 8, 8), bottleneck_blocks=1)
TINY_FAST = dict(widths=(8, 8, 8), low_side=24)


def scene(h: int = 64, w: int = 80, seed: int = 0) -> np.ndarray:
    """A smooth, well-lit synthetic RGB scene ``(h, w, 3)`` in [0.2, 0.9] with some texture."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    base = np.stack([0.5 + 0.3 * np.sin(6 * xx + k) * np.cos(4 * yy - k) for k in range(3)], axis=2)
    return np.clip(base + 0.05 * rng.standard_normal((h, w, 3)), 0.2, 0.9).astype(np.float32)


@pytest.fixture
def image_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "imgs"
    folder.mkdir()
    for i in range(3):
        write_image(folder / f"im{i}.png", scene(70, 90, seed=i))
    return folder


@pytest.fixture
def pair_folder(tmp_path: Path) -> Path:
    """A LOL-layout folder with 2 pairs: low = 0.2 x high."""
    root = tmp_path / "pairs"
    for i in range(2):
        high = scene(48, 56, seed=10 + i)
        for sub, img in (("high", high), ("low", high * 0.2)):
            (root / sub).mkdir(parents=True, exist_ok=True)
            write_image(root / sub / f"p{i}.png", img)
    return root


def _tiny_weights(path: Path, name: str) -> Path:
    torch = pytest.importorskip("torch", reason="building weights needs the [train] extra")

    from minelight.models.weights import save_weights
    from minelight.models import create_model

    torch.manual_seed(0)
    config = {"student": TINY_STUDENT, "teacher": TINY_TEACHER, "fast": TINY_FAST}[name]
    save_weights(path, create_model(name, **config), name)
    return path


@pytest.fixture
def teacher_weights(tmp_path: Path) -> Path:
    """A tiny random Net-T saved as safetensors."""
    return _tiny_weights(tmp_path / "teacher.safetensors", "teacher")


@pytest.fixture
def student_weights(tmp_path: Path) -> Path:
    """A tiny random Net-S saved as safetensors."""
    return _tiny_weights(tmp_path / "student.safetensors", "student")


@pytest.fixture
def fast_weights(tmp_path: Path) -> Path:
    """A tiny random fast student saved as safetensors."""
    return _tiny_weights(tmp_path / "fast.safetensors", "fast")


def write_video(path: Path, frames: int = 8, size: tuple[int, int] = (48, 64), fps: int = 12, seed: int = 0) -> Path:
    """A tiny dark H.264 clip of a static scene with fresh noise in every frame."""
    from minelight.io import to_uint8
    from minelight.video.streams import VideoWriter

    rng = np.random.default_rng(seed)
    base = 0.15 * scene(*size, seed=seed)
    with VideoWriter(path, size[1], size[0], fps) as writer:
        for _ in range(frames):
            writer.write(to_uint8(base + 0.01 * rng.standard_normal(base.shape)))
    return path


def write_keyframed_video(path: Path, frames: int = 54, size: tuple[int, int] = (96, 128), fps: int = 12,
                          keyint: int = 12, noise: float = 0.02, seed: int = 0) -> Path:
    """A dark H.264 clip of a static scene with fresh noise in every frame and a keyframe every ``keyint``
    frames exactly (as a camera's fixed GOP): the input of the split-at-keyframes tests."""
    import av

    from minelight.io import to_uint8

    rng = np.random.default_rng(seed)
    base = 0.15 * scene(*size, seed=seed)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = size[1], size[0], "yuv420p"
        stream.options = {"crf": "20", "preset": "ultrafast", "g": str(keyint), "keyint_min": str(keyint),
                          "sc_threshold": "0"}
        for _ in range(frames):
            image = to_uint8(base + noise * rng.standard_normal(base.shape))
            container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        container.mux(stream.encode())
    return path
