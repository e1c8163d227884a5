"""The page's H.264 live view: fragmented MP4 made right, the shared packet ring, the WebSocket endpoint
(tokens, host and origin checks, encoding only while watched, MJPEG unaffected) and 16 cameras playing in
headless Chromium through Media Source Extensions."""

import contextlib
import io
import socket
import time
from fractions import Fraction

import av
import numpy as np
import pytest

from minelight.serve import fmp4
from minelight.serve.shared import PacketRing

from .browser import CHROMIUM, Chromium
from .helpers import MjpegClient, ServeProcess, free_port, wait_for, write_clip

TOKEN = "live-token"


def encode(frames: int, size=(180, 320), gop: int = 10) -> list[tuple[bytes, int, bool]]:
    """``frames`` H.264 packets (Annex B) of a moving pattern as the live view encodes them."""
    codec = av.CodecContext.create("libx264", "w")
    codec.width, codec.height, codec.pix_fmt = size[1], size[0], "yuv420p"
    codec.time_base, codec.gop_size = Fraction(1, fmp4.TIMESCALE), gop
    codec.options = {"preset": "ultrafast", "tune": "zerolatency", "profile": "baseline"}
    codec.open()
    out = []
    for i in range(frames):
        image = np.zeros((*size, 3), np.uint8)
        image[:, (7 * i) % size[1]:] = 200
        frame = av.VideoFrame.from_ndarray(image, format="rgb24")
        frame.pts = 5_000_000 + i * 3600
        out += [(bytes(p), p.pts, p.is_keyframe) for p in codec.encode(frame)]
    return out


def mux(packets) -> bytes:
    sps, pps = fmp4.parameter_sets(fmp4.split_annexb(packets[0][0]))
    out = [fmp4.init_segment(sps, pps)]
    for n, (data, pts, key) in enumerate(packets):
        out.append(fmp4.fragment(n + 1, pts - packets[0][1], 3600, fmp4.to_sample(fmp4.split_annexb(data)), key))
    return b"".join(out)


def test_fragmented_mp4_decodes_frame_for_frame_at_its_size():
    packets = encode(25, size=(180, 320))
    assert packets[0][2], "the first packet is a keyframe"
    data = mux(packets)
    kinds = [kind for kind, _ in fmp4.boxes(data)]
    assert kinds[:2] == [b"ftyp", b"moov"] and kinds[2:] == [b"moof", b"mdat"] * 25
    with av.open(io.BytesIO(data), format="mp4") as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    assert len(frames) == 25 and frames[0].shape == (180, 320, 3)
    assert frames[3][:, -10:].mean() > 150 and frames[3][:, :10].mean() < 50  # the pattern, not noise


@pytest.mark.parametrize("size", [(180, 320), (720, 1280), (182, 322), (1080, 1920)])
def test_codec_and_size_come_from_the_sps(size):
    sps, pps = fmp4.parameter_sets(fmp4.split_annexb(encode(1, size)[0][0]))
    assert fmp4.sps_size(sps) == (size[1], size[0])
    assert fmp4.codec_string(sps).startswith("avc1.42")  # constrained baseline: every MSE browser plays it
    moov = dict(fmp4.boxes(fmp4.init_segment(sps, pps)))[b"moov"]
    assert sps in moov and pps in moov


def test_annexb_split_handles_both_start_codes_and_keeps_zero_ending_units():
    units = fmp4.split_annexb(b"\x00\x00\x00\x01\x67\x42\x00" + b"\x00\x00\x01\x68\xce" + b"\x00\x00\x01\x65\x88\x80")
    assert units == [b"\x67\x42", b"\x68\xce", b"\x65\x88\x80"]
    assert fmp4.to_sample(units) == b"\x00\x00\x00\x03\x65\x88\x80"
    with pytest.raises(ValueError):
        fmp4.codec_string(b"\x68\xce")


def test_packet_ring_keeps_order_wraps_and_says_when_a_reader_fell_behind():
    ring = PacketRing(capacity=4096, entries=8)
    try:
        assert ring.head() == 0 and ring.read(1) is None
        sizes = [100, 900, 1000, 50, 1000, 700, 1000, 30, 1000, 999]
        for i, size in enumerate(sizes):
            assert ring.write(bytes([i]) * size, pts=i, keyframe=i % 4 == 0, decoded_at=float(i)) == i + 1
        assert ring.head() == len(sizes)
        assert ring.read(len(sizes) + 1) is None  # not written yet
        assert ring.read(1) == PacketRing.LOST  # overwritten long ago
        data, pts, key, decoded_at = ring.read(9)
        assert data == bytes([8]) * 1000 and pts == 8 and key and decoded_at == 8.0
        assert ring.read(10)[0] == bytes([9]) * 999
        with pytest.raises(ValueError):
            ring.write(bytes(1025), 0, True, 0.0)  # over a quarter of the capacity
    finally:
        ring.close()


@pytest.fixture(scope="module")
def gateway(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("live")
    clips = [write_clip(tmp / f"c{i}.mp4", seed=i, size=(180, 320), frames=50, fps=25) for i in range(2)]
    config = tmp / "cameras.toml"
    config.write_text(f"""
[server]
port = 0
tokens = ["{TOKEN}"]

[[cameras]]
name = "a"
source = "{clips[0]}"
method = "gamma"

[[cameras]]
name = "b"
source = "{clips[1]}"
method = "gamma"

[[cameras]]
name = "gone"
source = "rtsp://127.0.0.1:{free_port()}/stream"
timeout = 1.0
max_backoff = 1.0
""")
    server = ServeProcess(["--config", str(config)], tmp / "serve.log")
    try:
        wait_for(lambda: server.states(TOKEN)["a"] == server.states(TOKEN)["b"] == "live", 90)
        yield server
    finally:
        server.stop()


def ws_url(server, camera: str, token: str | None = TOKEN) -> str:
    return server.url.replace("http://", "ws://") + f"/cameras/{camera}/live" + (f"?token={token}" if token else "")


def live(server, camera: str) -> dict:
    return server.camera(camera, TOKEN)["live"]


def receive(ws, seconds: float) -> list:
    out, deadline = [], time.monotonic() + seconds
    while time.monotonic() < deadline:
        out.append(ws.recv(timeout=10))
    return out


def test_websocket_needs_a_token_a_known_host_and_a_same_site_origin(gateway):
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    host = gateway.url.removeprefix("http://")
    refused = [dict(uri=ws_url(gateway, "a", None)), dict(uri=ws_url(gateway, "a", "wrong")),
               dict(uri=ws_url(gateway, "nosuch")),
               dict(uri=ws_url(gateway, "a").replace("127.0.0.1", "evil.example"),  # DNS rebinding
                    sock=socket.create_connection(("127.0.0.1", int(host.rsplit(":", 1)[1])))),
               dict(uri=ws_url(gateway, "a"), origin="http://evil.example"),
               dict(uri=ws_url(gateway, "a"), origin="null")]
    for kwargs in refused:
        with pytest.raises(InvalidStatus) as err:
            connect(open_timeout=10, **kwargs)
        assert err.value.response.status_code == 403, kwargs
    with connect(ws_url(gateway, "a"), origin=f"http://{host}", open_timeout=10) as ws:
        assert '"init"' in ws.recv(timeout=15)


def test_a_viewer_gets_init_then_fragments_from_a_keyframe_and_they_decode(gateway):
    import json

    from websockets.sync.client import connect

    with connect(ws_url(gateway, "b"), open_timeout=10) as ws:
        messages = receive(ws, 2.5)
    info = json.loads(messages[0])
    assert info["type"] == "init" and info["codec"].startswith("avc1.42") and (info["width"], info["height"]) == (320, 180)
    assert abs(info["epoch"] - time.time()) < 3600 * 24 * 365  # a wall-clock time
    data = b"".join(m for m in messages[1:] if isinstance(m, bytes))
    assert [k for k, _ in fmp4.boxes(data)][:4] == [b"ftyp", b"moov", b"moof", b"mdat"]
    with av.open(io.BytesIO(data), format="mp4") as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    assert len(frames) >= 20 and frames[-1].shape == (180, 320, 3)
    assert frames[-1].mean() > 40  # enhanced (gamma-brightened), not the dark clip


def test_encoding_runs_only_while_watched_and_mjpeg_clients_are_unaffected(gateway):
    from websockets.sync.client import connect

    wait_for(lambda: not live(gateway, "a")["encoding"], 15)  # nobody watches: no encode
    idle = live(gateway, "a")["frames"]
    time.sleep(1.0)
    assert live(gateway, "a")["frames"] == idle
    mjpeg = MjpegClient(f"{gateway.url}/cameras/a/stream.mjpg?token={TOKEN}")
    try:
        seen = [mjpeg.frame() for _ in range(5)]
        with contextlib.ExitStack() as stack:
            viewers = [stack.enter_context(connect(ws_url(gateway, "a"), open_timeout=10)) for _ in range(3)]
            for ws in viewers:
                assert '"init"' in ws.recv(timeout=15)
            state = wait_for(lambda: (s := live(gateway, "a"))["encoding"] and s["viewers"] == 3 and s, 10)
            seen += [mjpeg.frame() for _ in range(10)]
            counts = [len(receive(ws, 1.0)) for ws in viewers]
            assert min(counts) >= 5  # every viewer keeps getting fragments
            assert live(gateway, "a")["frames"] - state["frames"] < 3 * 25 * 3  # one encode, not one per viewer
        wait_for(lambda: (s := live(gateway, "a"))["viewers"] == 0 and not s["encoding"], 10)
        stopped = live(gateway, "a")["frames"]
        seen += [mjpeg.frame() for _ in range(10)]  # the MJPEG viewer never noticed
        assert live(gateway, "a")["frames"] == stopped
        assert all(f.shape == (180, 320, 3) and f.mean() > 40 for f in seen)
    finally:
        mjpeg.close()
    status, body, _ = gateway.get("/metrics", TOKEN)
    assert b'minelight_live_encoding{camera="a"} 0.0' in body and b"minelight_live_frames_total" in body


def test_snapshot_downloads_with_a_file_name_and_a_down_camera_says_since_when(gateway):
    status, body, headers = gateway.get("/cameras/a/snapshot.jpg?download=1", TOKEN)
    assert status == 200 and body[:2] == b"\xff\xd8"
    assert headers["content-disposition"].startswith('attachment; filename="a-')
    assert headers["content-disposition"].endswith('.jpg"')
    assert "content-disposition" not in gateway.get("/cameras/a/snapshot.jpg", TOKEN)[2]
    gone = wait_for(lambda: (c := gateway.camera("gone", TOKEN))["state"] == "reconnecting" and c, 30)
    since = time.mktime(time.strptime(gone["since"], "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
    assert time.time() - 600 < since <= time.time() + 1
    time.sleep(1.5)
    assert gateway.camera("gone", TOKEN)["since"] == gone["since"]  # retries do not move it


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (.ci/run installs it)")
def test_sixteen_cameras_play_in_one_page_and_closing_it_stops_the_encoders(tmp_path):
    """Half the cameras have a 640x360 main stream and a 320x180 substream: their tiles play the substream,
    the large view the main stream (started while it is open), like the one-stream cameras' 320x180."""
    clips = [write_clip(tmp_path / f"c{i}.mp4", seed=i, size=(180, 320), frames=50, fps=25) for i in range(4)]
    mains = [write_clip(tmp_path / f"m{i}.mp4", seed=i, size=(360, 640), frames=50, fps=25) for i in range(2)]
    config = tmp_path / "cameras.toml"
    config.write_text(f'[server]\nport = 0\ntokens = ["{TOKEN}"]\n' + "".join(
        f'[[cameras]]\nname = "cam{i:02d}"\nsource = "{clips[i % 4]}"\nmethod = "gamma"\nfps = 12\n' if i % 2 else
        f'[[cameras]]\nname = "cam{i:02d}"\nsource = "{mains[i % 4 // 2]}"\nsubstream = "{clips[i % 4]}"\n'
        'method = "gamma"\nfps = 12\n'
        for i in range(16)) + f'[[cameras]]\nname = "down"\nsource = "rtsp://127.0.0.1:{free_port()}/s"\n'
        'timeout = 1.0\nmax_backoff = 1.0\n')
    server = ServeProcess(["--config", str(config)], tmp_path / "serve.log")
    browser = None
    try:
        names = {f"cam{i:02d}" for i in range(16)}
        duals = {f"cam{i:02d}" for i in range(0, 16, 2)}  # with a substream
        wait_for(lambda: all(s == "live" for n, s in server.states(TOKEN).items() if n in names), 120)
        browser = Chromium(f"{server.url}/?token={TOKEN}&layout=4x4", tmp_path / "chromium")
        browser.wait("typeof minelightTiles === 'function'")

        def playing():
            return {t["name"]: t for t in browser.evaluate("minelightTiles()")}

        first = wait_for(lambda: (p := playing()) and set(p) == names
                         and all(t["totalVideoFrames"] > 0 for t in p.values()) and p, 90, every=1.0)
        assert {t["player"] for t in first.values()} == {"h264"}  # Media Source Extensions, not MJPEG
        assert {(t["width"], t["height"]) for t in first.values()} == {(320, 180)}  # substreams, not 640x360
        assert not any(c["main_running"] for c in server.json("/api/cameras", TOKEN) if c["name"] in duals)
        time.sleep(4.0)
        later = playing()
        for name in names:
            assert later[name]["currentTime"] > first[name]["currentTime"], name
            assert later[name]["totalVideoFrames"] > first[name]["totalVideoFrames"], name
        status = {c["name"]: c["live"] for c in server.json("/api/cameras", TOKEN)}
        assert all(status[n]["encoding"] and status[n]["viewers"] == 1 for n in names)
        # page 2 of the 4x4 wall holds the 17th camera, which is down: the page says so, and since when
        browser.evaluate("setPage(2)")
        text = wait_for(lambda: "Camera down" in (t := browser.evaluate("document.querySelector('.tile.down')"
                                                                         "?.innerText || ''")) and t, 20)
        assert "since" in text and "down" in text
        assert set(playing()) == {"down"}  # the cameras of page 1 are no longer played
        wait_for(lambda: not any(c["live"]["encoding"] for c in server.json("/api/cameras", TOKEN)), 15)
        browser.evaluate("setPage(1)")
        wait_for(lambda: all(c["live"]["encoding"] for c in server.json("/api/cameras", TOKEN)
                             if c["name"] in names), 30)
        # one camera large: its main stream starts and plays at 640x360; back to the grid: it stops again
        browser.evaluate("openLarge('cam00')")
        large = browser.wait("(l => l && l.frames > 3 && l)(minelightLarge())", 60)
        assert (large["player"], large["width"], large["height"]) == ("h264", 640, 360)
        assert server.camera("cam00", TOKEN)["main_running"]
        browser.evaluate("closeLarge()")
        wait_for(lambda: not server.camera("cam00", TOKEN)["main_running"], 20)
        browser.close()
        browser = None
        wait_for(lambda: not any(c["live"]["encoding"] or c["live"]["viewers"]
                                 for c in server.json("/api/cameras", TOKEN)), 15)
    finally:
        if browser is not None:
            browser.close()
        server.stop()
