"""Cameras with a substream: the grid's consumers get the enhanced substream, the main stream runs only while
someone wants it (its live view, MJPEG, a snapshot that asks for it, or ``main = "always"``), an unwatched
camera enhances its substream at its idle rate, and a camera with one stream works as before."""

import json
import threading
import time
from pathlib import Path

import pytest

from minelight.serve.demand import MAIN_LINGER_S, OnDemand, StreamRunner, due, wanted
from minelight.serve.shared import CameraStats

from .helpers import MjpegClient, ServeProcess, decode_jpeg, wait_for, write_clip

MAIN, SUB = (360, 640), (180, 320)  # (height, width) of the main stream and of the substream
START_S = 15.0  # the main stream is running within this long of a client asking for it (measured: well under 2 s)
STOP_S = MAIN_LINGER_S + 10.0  # and stopped within this long of the last client leaving


def test_a_stream_is_wanted_while_a_client_asked_recently_and_frames_are_due_at_a_rate():
    stats = CameraStats()
    try:
        assert not wanted(stats, 100.0, 5.0)
        stats["enhanced_wanted_at"] = 97.0
        assert wanted(stats, 100.0, 5.0) and not wanted(stats, 102.5, 5.0)
        stats["live_wanted_at"] = 101.0
        assert wanted(stats, 102.5, 5.0)
    finally:
        stats.close()
    assert due(10.0, 9.0, 1.0) and not due(10.0, 9.5, 1.0) and due(10.0, 9.961, 25.0)


class _Loop:
    """A camera loop that runs until its stop signal is set."""

    def __init__(self):
        self.stop, self.finished = None, 0

    def run(self):
        while not self.stop.wait(0.02):
            pass

    def finish(self):
        self.finished += 1


class _Stop:
    def __init__(self):
        self.flag = False

    def is_set(self):
        return self.flag


def test_an_on_demand_stream_runs_while_wanted_stops_by_itself_and_starts_again():
    process_stop, want = _Stop(), {"now": True}
    loop, stats = _Loop(), CameraStats()
    loop.stop = OnDemand(process_stop, lambda: want["now"])
    runner = StreamRunner(loop, stats, lambda: want["now"], "cam/main")
    try:
        for cycle in (1, 2):
            want["now"] = True
            runner.step()
            assert runner.running() and stats["running"] == 1 and runner.starts == cycle
            runner.step()  # already running: not started twice
            assert runner.starts == cycle
            want["now"] = False
            wait_for(lambda: not runner.running(), 5)
            assert stats["running"] == 0 and stats.state == "off" and loop.finished == cycle
        runner.step()  # not wanted: stays off
        assert not runner.running()
        want["now"] = True
        runner.step()
        process_stop.flag = True  # the camera process stops: so does the stream
        runner.join(5)
        assert not runner.running() and threading.active_count() < 50
    finally:
        stats.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("substreams")
    main = write_clip(tmp / "main.mp4", frames=50, size=MAIN, fps=25, seed=1)
    sub = write_clip(tmp / "sub.mp4", frames=50, size=SUB, fps=25, seed=1)
    config = tmp / "cameras.toml"
    config.write_text(f"""
[server]
port = 0

[[cameras]]
name = "dual"
source = "{main}"
substream = "{sub}"
method = "gamma"

[[cameras]]
name = "always"
source = "{main}"
substream = "{sub}"
main = "always"
method = "gamma"

[[cameras]]
name = "single"
source = "{main}"
method = "gamma"

[[cameras]]
name = "quiet"
source = "{main}"
method = "gamma"
idle_fps = 1
""")
    server = ServeProcess(["--config", str(config)], tmp / "serve.log")
    try:
        wait_for(lambda: set(server.states().values()) == {"live"}, 90)
        yield server
    finally:
        server.stop()


def ws_url(server, camera: str, stream: str | None = None) -> str:
    return server.url.replace("http://", "ws://") + f"/cameras/{camera}/live" + (f"?stream={stream}" if stream else "")


def first_init(url: str) -> dict:
    from websockets.sync.client import connect

    with connect(url, open_timeout=10) as ws:
        return json.loads(ws.recv(timeout=START_S))


def threads_of(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Threads:"):
            return int(line.split()[1])
    raise AssertionError("no thread count")


def test_the_grid_gets_the_substream_and_an_unwatched_camera_enhances_a_frame_every_two_seconds(server):
    cam = wait_for(lambda: (c := server.camera("dual"))["streams"]["sub"]["idle"] and c, 20)
    assert (cam["height"], cam["width"]) == SUB and cam["sub_running"] and not cam["main_running"]
    assert cam["streams"]["main"]["state"] == "off" and cam["state"] == "live"
    before, t0 = cam, time.monotonic()
    time.sleep(4.0)
    after = server.camera("dual")
    elapsed = time.monotonic() - t0
    enhanced = (after["streams"]["sub"]["frames_out"] - before["streams"]["sub"]["frames_out"]) / elapsed
    decoded = (after["streams"]["sub"]["frames_in"] - before["streams"]["sub"]["frames_in"]) / elapsed
    assert enhanced < 2.0, enhanced  # idle_fps 0.5: health and a warm denoiser at little CPU
    assert decoded > 10.0, decoded  # still decoded: a camera that fails is noticed at once
    assert after["streams"]["main"]["frames_out"] == before["streams"]["main"]["frames_out"] == 0
    info = first_init(ws_url(server, "dual"))  # the grid's WebSocket: the substream's size
    assert (info["height"], info["width"]) == SUB
    status, body, _ = server.get("/metrics")
    text = body.decode()
    assert 'minelight_stream_running{camera="dual",stream="main"} 0.0' in text
    assert 'minelight_stream_running{camera="dual",stream="sub"} 1.0' in text


def test_the_large_view_starts_the_main_stream_and_closing_it_stops_it(server):
    from websockets.sync.client import connect

    wait_for(lambda: not server.camera("dual")["main_running"], STOP_S)
    pid = server.camera("dual")["pid"]
    counts = []
    for _ in range(2):  # twice: starting and stopping leaves no thread behind
        t0 = time.monotonic()
        with connect(ws_url(server, "dual", "main"), open_timeout=10) as ws:
            info = json.loads(ws.recv(timeout=START_S))
            started = time.monotonic() - t0
            assert (info["height"], info["width"]) == MAIN
            cam = wait_for(lambda: (c := server.camera("dual"))["main_running"] and c["streams"]["main"]["fps"] > 5
                           and c, START_S)
            assert (cam["streams"]["main"]["height"], cam["streams"]["main"]["width"]) == MAIN
            assert (cam["height"], cam["width"]) == SUB  # the camera's own figures stay the grid's
            fragments = sum(isinstance(ws.recv(timeout=10), bytes) for _ in range(20))
            assert fragments >= 15
        t1 = time.monotonic()
        wait_for(lambda: not server.camera("dual")["main_running"], STOP_S)
        stopped = time.monotonic() - t1
        cam = server.camera("dual")
        assert cam["streams"]["main"]["state"] == "off" and not cam["streams"]["main"]["live"]["encoding"]
        counts.append(threads_of(pid))
        print(f"main stream: first fragment {started:.2f} s after opening, stopped {stopped:.2f} s after closing")
    assert counts[1] <= counts[0], counts
    assert server.camera("dual")["pid"] == pid  # the same camera process throughout


def test_mjpeg_takes_the_main_stream_unless_it_asks_for_the_substream(server):
    wait_for(lambda: not server.camera("dual")["main_running"], STOP_S)
    sub = MjpegClient(f"{server.url}/cameras/dual/stream.mjpg?stream=sub")
    try:
        assert sub.frame().shape[:2] == SUB
        assert not server.camera("dual")["main_running"]  # the substream's MJPEG does not start the main stream
        main = MjpegClient(f"{server.url}/cameras/dual/stream.mjpg", timeout=START_S)
        try:
            frames = [main.frame() for _ in range(5)]
            assert all(f.shape[:2] == MAIN and f.mean() > 40 for f in frames)
            assert server.camera("dual")["main_running"]
            assert all(sub.frame().shape[:2] == SUB for _ in range(5))  # the substream's client never noticed
        finally:
            main.close()
    finally:
        sub.close()
    wait_for(lambda: not server.camera("dual")["main_running"], STOP_S)


def test_a_snapshot_is_of_the_substream_unless_the_main_stream_runs_or_is_asked_for(server):
    wait_for(lambda: not server.camera("dual")["main_running"], STOP_S)
    time.sleep(1.5)  # the main stream's last frame is no longer fresh (a snapshot takes a frame up to 1 s old)
    status, body, _ = server.get("/cameras/dual/snapshot.jpg")
    assert status == 200 and decode_jpeg(body).shape[:2] == SUB and not server.camera("dual")["main_running"]
    status, body, _ = server.get("/cameras/dual/snapshot.jpg?stream=main", timeout=START_S + 5)
    assert status == 200 and decode_jpeg(body).shape[:2] == MAIN
    assert server.camera("dual")["main_running"]  # started for the snapshot; it runs for a moment
    status, body, _ = server.get("/cameras/dual/snapshot.jpg")  # meanwhile a snapshot is of the main stream
    assert status == 200 and decode_jpeg(body).shape[:2] == MAIN
    assert server.get("/cameras/dual/snapshot.jpg?stream=side")[0] == 400


def test_main_always_runs_without_a_viewer_and_one_stream_works_as_before(server):
    always = server.camera("always")
    assert always["main_running"] and always["sub_running"] and always["streams"]["main"]["state"] == "live"
    single = server.camera("single")
    assert single["main_running"] and not single["sub_running"] and set(single["streams"]) == {"main"}
    assert (single["height"], single["width"]) == MAIN and single["fps"] > 10  # every frame, as before
    for url in (ws_url(server, "single"), ws_url(server, "single", "main"), ws_url(server, "single", "sub")):
        info = first_init(url)
        assert (info["height"], info["width"]) == MAIN
    client = MjpegClient(f"{server.url}/cameras/single/stream.mjpg")
    try:
        assert client.frame().shape[:2] == MAIN
    finally:
        client.close()


def test_a_camera_with_one_stream_given_an_idle_rate_idles_while_nobody_watches(server):
    def rates(seconds: float) -> tuple[float, float]:
        before, t0 = server.camera("quiet"), time.monotonic()
        time.sleep(seconds)
        after = server.camera("quiet")
        elapsed = time.monotonic() - t0
        return ((after["frames_out"] - before["frames_out"]) / elapsed,
                (after["frames_in"] - before["frames_in"]) / elapsed)

    wait_for(lambda: server.camera("quiet")["streams"]["main"]["idle"], 20)
    enhanced, decoded = rates(4.0)
    assert enhanced < 2.5 and decoded > 10.0, (enhanced, decoded)  # idle_fps 1; still decoded: health kept
    client = MjpegClient(f"{server.url}/cameras/quiet/stream.mjpg")  # someone watches: every frame
    try:
        client.frame()
        wait_for(lambda: not server.camera("quiet")["streams"]["main"]["idle"], 10)
        enhanced, _ = rates(3.0)
        assert enhanced > 8.0, enhanced
    finally:
        client.close()
