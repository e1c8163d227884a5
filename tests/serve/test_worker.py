import threading

import numpy as np

from minelight.serve.config import CameraConfig
from minelight.serve.shared import CameraStats
from minelight.serve.worker import Backoff, CameraPipeline, NewestFrame, decode_loop, encode_jpeg


def test_backoff_doubles_up_to_its_cap_and_resets():
    backoff = Backoff(first=0.5, cap=4.0)
    assert [backoff.next() for _ in range(6)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    backoff.reset()
    assert backoff.next() == 0.5


def test_newest_frame_replaces_unread_frames_and_counts_them():
    newest = NewestFrame()
    for i in range(5):
        newest.put(np.full((2, 2, 3), i, np.uint8), float(i))
    frame, t = newest.take(0.1)
    assert frame[0, 0, 0] == 4 and t == 4.0 and newest.take_dropped() == 4 and newest.take_dropped() == 0
    assert newest.take(0.05) is None
    newest.end("gone")
    assert newest.take(5.0) is None and newest.ended == "gone"


def test_decode_loop_hands_over_frames_and_reports_a_failure():
    def frames():
        yield np.zeros((4, 4, 3), np.uint8)
        raise ValueError("cam: cannot decode (broken)")

    newest, stats = NewestFrame(), CameraStats()
    try:
        decode_loop(frames(), newest, stats, threading.Event(), pace_fps=0)
        assert stats["frames_in"] == 1 and newest.take(0.1) is not None
        assert newest.ended == "cam: cannot decode (broken)"
    finally:
        stats.close()


def test_pipeline_resizes_and_enhances_a_dark_frame():
    pipeline = CameraPipeline(CameraConfig(name="c", source="x", method="fast", width=64, height=48))
    frame = np.full((96, 128, 3), 20, np.uint8)
    out = pipeline.enhance(pipeline.resize(frame))
    assert out.shape == (48, 64, 3) and out.dtype == np.uint8 and out.mean() > frame.mean()
    assert encode_jpeg(out, 80)[:2] == b"\xff\xd8"


def test_pipeline_takes_the_halo_guard_from_the_config_or_the_method():
    from minelight.enhance.recipes import resolve

    assert CameraPipeline(CameraConfig("a", "x", method="clahe", halo=0.5)).enhancer.halo == 0.5
    for method in ("fast", "clahe"):
        assert CameraPipeline(CameraConfig("a", "x", method=method)).enhancer.halo == resolve(method, "serve").halo


def test_pipeline_takes_the_colour_noise_radius_from_the_config_or_the_method():
    from minelight.enhance.recipes import resolve

    assert CameraPipeline(CameraConfig("a", "x", method="fast", chroma=0)).enhancer.chroma == 0
    assert CameraPipeline(CameraConfig("a", "x", method="clahe", chroma=2)).enhancer.chroma == 2
    for method in ("fast", "clahe"):
        expected = resolve(method, "serve").chroma
        assert CameraPipeline(CameraConfig("a", "x", method=method)).enhancer.chroma == expected


def test_a_fast_camera_gets_the_cheap_colour_noise_step_unless_it_sets_a_radius():
    assert CameraPipeline(CameraConfig("a", "x", method="fast")).enhancer.chroma_view
    assert not CameraPipeline(CameraConfig("a", "x", method="fast", chroma=0)).enhancer.chroma_view
    assert not CameraPipeline(CameraConfig("a", "x", method="clahe")).enhancer.chroma_view
