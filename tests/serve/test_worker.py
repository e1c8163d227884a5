import threading

import numpy as np

from minelight.serve.config import CameraConfig
from minelight.serve.shared import CameraStats
from minelight.serve.worker import (Backoff, CameraLoop, CameraPipeline, NewestFrame, StopSignal, decode_loop,
                                    encode_jpeg)


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


def test_decode_loop_skips_frames_of_an_idle_stream_without_converting_or_handing_them_over():
    import av

    class Reader:
        def decoded(self):
            for i in range(6):
                yield av.VideoFrame.from_ndarray(np.full((4, 4, 3), 40 * i, np.uint8), format="rgb24")

    newest, stats = NewestFrame(), CameraStats()
    skips = iter([True, True, False, True, True, False])
    try:
        decode_loop(Reader(), newest, stats, threading.Event(), pace_fps=0, skip=lambda: next(skips))
        assert stats["frames_in"] == 6  # every frame decoded and counted ...
        assert newest.take_dropped() == 1  # ... two handed over (the second replaced the first), four skipped
        frame, _ = newest.take(0.1)
        assert frame.shape == (4, 4, 3) and abs(int(frame[0, 0, 0]) - 200) <= 2  # the last, as RGB
    finally:
        stats.close()


def test_pipeline_resizes_and_enhances_a_dark_frame():
    pipeline = CameraPipeline(CameraConfig(name="c", source="x", method="fast", width=64, height=48))
    frame = np.full((96, 128, 3), 20, np.uint8)
    out = pipeline.enhance(pipeline.resize(frame))
    assert out.shape == (48, 64, 3) and out.dtype == np.uint8 and out.mean() > frame.mean()
    assert encode_jpeg(out, 80)[:2] == b"\xff\xd8"


def test_each_camera_denoises_on_its_own_and_a_reconnect_resets_it():
    rng = np.random.default_rng(0)
    scene = np.full((48, 64, 3), 30, np.uint8)
    pipelines = [CameraPipeline(CameraConfig(name=n, source="x", method="fast")) for n in ("a", "b")]
    assert all(p.denoiser is not None for p in pipelines) and pipelines[0].denoiser is not pipelines[1].denoiser
    assert CameraPipeline(CameraConfig(name="c", source="x", method="fast", denoise=False)).denoiser is None
    for _ in range(5):
        pipelines[0].enhance(np.clip(scene + rng.normal(0, 4, scene.shape), 0, 255).astype(np.uint8))
    assert pipelines[0].denoiser.counts.max() > 1 and pipelines[1].denoiser.estimate is None
    stats = CameraStats()
    try:
        loop = CameraLoop(pipelines[0].cfg, None, None, stats, StopSignal())
        loop.pipeline = pipelines[0]
        loop.reconnecting()
        assert pipelines[0].denoiser.estimate is None and stats.state == "reconnecting"
        pipelines[0].enhance(scene)
        assert pipelines[0].denoiser.resets == 2  # the first frame after the reconnect starts a new history
    finally:
        stats.close()


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


def test_fps_meter_spans_frames_and_restarts_only_when_reset():
    from minelight.serve.worker import FpsMeter

    meter = FpsMeter(span=2.0)
    assert meter.tick(10.0) == 0.0  # one frame: no rate yet
    rates = [meter.tick(10.0 + i / 12) for i in range(1, 37)]  # 3 s at 12 FPS, over any number of file loops
    assert min(rates) > 11.5 and abs(rates[-1] - 12.0) < 0.01
    meter.reset()
    assert meter.tick(20.0) == 0.0


def test_stop_signal_follows_the_pipe_and_the_flag_without_locks():
    import multiprocessing
    import signal

    from minelight.serve.worker import StopSignal

    receive, send = multiprocessing.get_context("spawn").Pipe(duplex=False)
    stop = StopSignal(receive)
    assert not stop.is_set() and not stop.wait(0.05)
    send.close()  # the gateway closed its end (or died)
    assert stop.wait(5.0) and stop.is_set()
    receive.close()

    stop = StopSignal()
    previous = signal.signal(signal.SIGALRM, lambda *_: stop.set())  # a handler, as SIGTERM's in a camera
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.1)
        assert stop.wait(10.0)  # the wait it interrupts ends, instead of deadlocking
    finally:
        signal.signal(signal.SIGALRM, previous)


def test_an_unresolvable_host_is_named_and_addresses_are_not_looked_up():
    from minelight.serve.worker import resolve_error

    assert resolve_error("rtsp://user:pw@camera.invalid:554/s").startswith("cannot resolve camera.invalid (")
    assert resolve_error("rtsp://127.0.0.1:554/s") is None
    assert resolve_error("/videos/a.mp4") is None and resolve_error("0") is None


def test_redact_hides_secret_query_parameters_like_user_and_password():
    from minelight.video.streams import redact

    assert redact("rtsp://host/x?user=admin&password=hunter2") == "rtsp://host/x?user=***&password=***"
    assert redact("http://h/v.mjpg?PWD=a;token=b&res=720#sig=c") == "http://h/v.mjpg?PWD=***;token=***&res=720#sig=***"
    assert redact("rtsp://u:p@h/s?passwd=x&apikey=y") == "rtsp://***@h/s?passwd=***&apikey=***"
    assert redact("http://h/cgi?sessionid=9f3a&ch=1") == "http://h/cgi?sessionid=***&ch=1"  # a login's id
    assert redact("http://[::1/x?password=p") == "http://[::1/x?password=***"  # unparsable: redacted anyway
    assert redact("rtsp://10.0.0.1/s?channel=1") == "rtsp://10.0.0.1/s?channel=1"
