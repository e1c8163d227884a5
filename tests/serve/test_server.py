"""`minelight serve` as a user meets it: the real server on a loopback port, real HTTP clients, file
cameras, a camera with credentials that refuses connections, and one that never answers."""

import re
import time

import pytest

from .helpers import MjpegClient, ServeProcess, SilentServer, decode_jpeg, free_port, wait_for, write_clip

TOKEN = "s3cret-token"
PASSWORD = "hunter2pw"
QUERY_PASSWORD = "quer7pw"


@pytest.fixture(scope="module")
def gateway(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("serve")
    clips = [write_clip(tmp / "clip0.mp4", seed=0), write_clip(tmp / "clip1.mp4", seed=1, size=(480, 640))]
    silent = SilentServer()
    closed = free_port()  # nothing listens here: connection refused
    config = tmp / "cameras.toml"
    config.write_text(f"""
[server]
port = 0
tokens = ["{TOKEN}"]

[[cameras]]
name = "roadway"
source = "{clips[0]}"

[[cameras]]
name = "face"
source = "{clips[1]}"

[[cameras]]
name = "locked"
source = "rtsp://admin:{PASSWORD}@127.0.0.1:{closed}/stream?user=admin&password={QUERY_PASSWORD}&pwd=x"
timeout = 1.0
max_backoff = 1.0

[[cameras]]
name = "silent"
source = "http://127.0.0.1:{silent.port}/video.mjpg"
timeout = 1.5
max_backoff = 1.0
""")
    server = ServeProcess(["--config", str(config)], tmp / "serve.log")
    try:
        wait_for(lambda: all(server.states()[n] == "live" for n in ("roadway", "face")), 90)
        yield server
    finally:
        server.stop()
        silent.close()


def test_healthz_needs_no_token_and_names_each_camera_state(gateway):
    states = wait_for(lambda: (s := gateway.states()) and s["locked"] == "reconnecting" and s, 30)
    assert states["roadway"] == "live" and states["face"] == "live"
    assert set(states) == {"roadway", "face", "locked", "silent"}


@pytest.mark.parametrize("path", ["/", "/api/cameras", "/metrics", "/cameras/roadway/snapshot.jpg",
                                  "/cameras/roadway/stream.mjpg"])
def test_missing_or_wrong_token_is_401_and_no_frame(gateway, path):
    for token in (None, "wrong"):
        status, body, _ = gateway.get(path, token)
        assert status == 401 and b"\xff\xd8" not in body
    status, _, _ = gateway.get(path + ("&" if "?" in path else "?") + "token=wrong")
    assert status == 401


def test_token_in_header_or_query_opens_the_page(gateway):
    status, body, _ = gateway.get("/", TOKEN)
    assert status == 200 and b"<title>minelight" in body
    assert gateway.get(f"/?token={TOKEN}")[0] == 200


def test_mjpeg_stream_delivers_live_enhanced_frames(gateway):
    client = MjpegClient(f"{gateway.url}/cameras/roadway/stream.mjpg?token={TOKEN}")
    try:
        assert client.content_type.startswith("multipart/x-mixed-replace")
        frames = [client.frame() for _ in range(4)]
    finally:
        client.close()
    assert all(f.shape == (120, 160, 3) for f in frames)
    assert all(f.mean() > 40 for f in frames)  # the clip's mean is about 20/255: enhanced, not black
    status, body, headers = gateway.get("/cameras/roadway/snapshot.jpg?view=original", TOKEN)
    assert status == 200 and headers["content-type"] == "image/jpeg"
    assert decode_jpeg(body).mean() < frames[-1].mean() - 15  # the original stays dark


def test_unknown_camera_bad_view_and_paths_never_reach_files(gateway):
    for path in ("/cameras/nope/stream.mjpg", "/cameras/..%2F..%2Fetc%2Fpasswd/snapshot.jpg",
                 "/../../etc/passwd", "/cameras/roadway/../../../etc/passwd", "/static/..%2f..%2fetc/passwd"):
        status, body, _ = gateway.get(path, TOKEN)
        assert status == 404 and b"root:" not in body, path
    assert gateway.get("/cameras/roadway/snapshot.jpg?view=raw", TOKEN)[0] == 400


def test_credentials_in_sources_never_appear(gateway):
    wait_for(lambda: gateway.camera("locked", TOKEN)["reconnects"] >= 1, 30)
    texts = [gateway.get(p, TOKEN)[1].decode() for p in ("/", "/api/cameras", "/healthz", "/metrics")]
    texts.append(gateway.log())
    assert "locked: " in texts[-1]  # its failures are logged ...
    assert all(PASSWORD not in t and "admin:" not in t for t in texts)  # ... without the credentials
    assert all(QUERY_PASSWORD not in t and "=admin" not in t for t in texts)  # in the URL's query too
    source = gateway.camera("locked", TOKEN)["source"]
    assert source.startswith("rtsp://***@127.0.0.1:") and source.endswith("/stream?user=***&password=***&pwd=***")


def _metric(text: str, name: str, camera: str) -> float:
    match = re.search(rf'^{name}\{{camera="{camera}"\}} (\S+)$', text, re.M)
    assert match, name
    return float(match.group(1))


def test_metrics_count_frames_reconnects_and_latency_per_camera(gateway):
    client = MjpegClient(f"{gateway.url}/cameras/face/stream.mjpg?token={TOKEN}")
    client.frame()
    client.close()
    text = gateway.get("/metrics", TOKEN)[1].decode()
    assert _metric(text, "minelight_frames_out_total", "face") > 0
    assert _metric(text, "minelight_frames_in_total", "face") >= _metric(text, "minelight_frames_out_total", "face")
    assert _metric(text, "minelight_camera_live", "face") == 1.0
    assert _metric(text, "minelight_camera_live", "locked") == 0.0
    assert _metric(text, "minelight_reconnects_total", "locked") >= 1
    assert re.search(r'^minelight_enhance_latency_seconds_count\{camera="face"\} [1-9]', text, re.M)
    assert re.search(r'^minelight_stream_latency_seconds_count\{camera="face",view="enhanced"\} [1-9]', text, re.M)


def test_never_answering_source_reconnects_while_others_stay_live(gateway):
    wait_for(lambda: gateway.camera("silent", TOKEN)["reconnects"] >= 1, 30)
    before = gateway.camera("roadway", TOKEN)["frames_out"]
    time.sleep(2.0)
    assert gateway.camera("roadway", TOKEN)["frames_out"] > before + 5
    assert gateway.states()["silent"] in ("starting", "reconnecting")


def test_a_slow_client_does_not_slow_the_camera(gateway):
    """One client reads a frame and then nothing for 3 s: the camera goes on at its rate, and once the client
    reads again its frames are fresh after the few that its socket held; the gateway queued nothing for it."""
    client = MjpegClient(f"{gateway.url}/cameras/face/stream.mjpg?token={TOKEN}", receive_buffer=16384)
    try:
        client.frame()
        start = gateway.camera("face", TOKEN)["frames_out"]
        time.sleep(3.0)
        made = gateway.camera("face", TOKEN)["frames_out"] - start
        assert made >= 0.5 * 12 * 3  # a 12 FPS clip: the camera kept working while the client stalled
        ages = []  # seconds from each frame's decoding to its arrival at the client
        for _ in range(8):
            client.frame()
            ages.append(client.received_at - client.decoded_at)
        assert gateway.camera("face", TOKEN)["state"] == "live"
    finally:
        client.close()
    stale = [age for age in ages if age > 1.0]  # made during the stall; a backlog would be all of them
    assert ages[-1] < 1.0 and len(stale) <= 5 < made, ages


def test_sigterm_during_streaming_exits_0_quickly(tmp_path):
    clip = write_clip(tmp_path / "c.mp4")
    server = ServeProcess(["--source", str(clip), "--source", str(clip), "--port", "0"], tmp_path / "log")
    try:
        wait_for(lambda: set(server.states().values()) == {"live"}, 90)
        client = MjpegClient(f"{server.url}/cameras/c/stream.mjpg")
        client.frame()
        code, seconds = server.terminate()
        client.close()
    finally:
        server.stop()
    assert code == 0 and seconds < 5.0, (code, seconds)
    assert "Traceback" not in server.log()


def test_a_killed_camera_process_is_restarted_and_the_others_go_on(gateway):
    import os
    import signal

    roadway = gateway.camera("roadway", TOKEN)
    face_before = gateway.camera("face", TOKEN)["frames_out"]
    os.kill(roadway["pid"], signal.SIGKILL)
    wait_for(lambda: gateway.camera("roadway", TOKEN)["pid"] not in (0, roadway["pid"]), 30)
    wait_for(lambda: gateway.states()["roadway"] == "live", 90)
    assert gateway.camera("roadway", TOKEN)["reconnects"] == roadway["reconnects"] + 1
    assert gateway.camera("face", TOKEN)["frames_out"] > face_before + 5 and gateway.states()["face"] == "live"
    assert gateway.proc.poll() is None
