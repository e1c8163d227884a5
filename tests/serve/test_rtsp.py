"""A real RTSP camera (rtsp-server-perl fed by ffmpeg on loopback): served live, killed and restarted
without restarting the gateway while a file camera keeps going, and the enhanced stream published back
to the same media server and read from it."""

import time

import pytest

from .helpers import MjpegClient, RtspCamera, ServeProcess, wait_for, write_clip

pytestmark = pytest.mark.skipif(not RtspCamera.available,
                                reason="needs Debian's rtsp-server-perl and ffmpeg (.ci/run installs them)")


@pytest.fixture
def rtsp_setup(tmp_path):
    camera = RtspCamera(write_clip(tmp_path / "rtsp.mp4", frames=48, size=(120, 160), seed=3)).start()
    file_clip = write_clip(tmp_path / "file.mp4", seed=4)
    config = tmp_path / "cameras.toml"
    config.write_text(f"""
[server]
port = 0

[[cameras]]
name = "rtsp"
source = "{camera.url}"
transport = "udp"
timeout = 2.0
max_backoff = 1.0
publish = "{camera.publish_url('rtsp-enhanced')}"

[[cameras]]
name = "file"
source = "{file_clip}"
""")
    server = ServeProcess(["--config", str(config)], tmp_path / "serve.log")
    try:
        yield camera, server
    finally:
        server.stop()
        camera.stop()


def test_rtsp_camera_is_served_published_and_comes_back_after_a_restart(rtsp_setup):
    camera, server = rtsp_setup
    wait_for(lambda: server.states() == {"rtsp": "live", "file": "live"}, 90)
    client = MjpegClient(f"{server.url}/cameras/rtsp/stream.mjpg")
    frame = client.frame()
    client.close()
    assert frame.shape == (120, 160, 3) and frame.mean() > 40

    import av  # the enhanced stream, published to the media server, plays like any camera

    container = av.open(camera.url.rsplit("/", 1)[0] + "/rtsp-enhanced", options={"rtsp_transport": "udp"},
                        timeout=10)
    try:
        published = next(iter(container.decode(video=0))).to_ndarray(format="rgb24")
    finally:
        container.close()
    assert published.shape == (120, 160, 3) and published.mean() > 40

    camera.stop()  # the camera dies ...
    wait_for(lambda: server.states()["rtsp"] == "reconnecting", 30)
    before = server.camera("file")["frames_out"]
    time.sleep(2.0)
    assert server.camera("file")["frames_out"] > before + 5  # ... the other camera never stops
    assert server.states()["file"] == "live"

    camera.start()  # ... and comes back: live again without restarting the gateway
    wait_for(lambda: server.states()["rtsp"] == "live", 60)
    assert server.camera("rtsp")["reconnects"] >= 1
    client = MjpegClient(f"{server.url}/cameras/rtsp/stream.mjpg")
    assert client.frame().mean() > 40
    client.close()
