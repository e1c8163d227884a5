import numpy as np
import pytest

from minelight.enhance.enhancer import Enhancer
from minelight.video.frames import enhanced_frames


def _frames(n: int = 7) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [rng.integers(0, 60, (36, 48, 3), dtype=np.uint8) for _ in range(n)]


def test_workers_give_the_same_frames_in_the_same_order():
    enhancer, frames = Enhancer.from_recipe("fast", "video"), _frames()
    one = list(enhanced_frames(enhancer, frames, denoiser=enhancer.denoiser(), workers=1))
    three = list(enhanced_frames(enhancer, frames, denoiser=enhancer.denoiser(), workers=3))
    assert len(one) == len(three) == len(frames)
    for (a_in, a_out), (b_in, b_out), frame in zip(one, three, frames):
        assert a_in is frame and b_in is frame
        np.testing.assert_array_equal(a_out, b_out)


def test_an_error_in_a_frame_reaches_the_caller():
    enhancer = Enhancer.from_recipe("fast", "video")
    frames = _frames(3) + [np.zeros((36, 48), np.uint8)]  # a grey frame: not (H, W, 3)
    with pytest.raises(ValueError, match="uint8 \\(H, W, 3\\)"):
        list(enhanced_frames(enhancer, frames, denoiser=enhancer.denoiser(), workers=2))
