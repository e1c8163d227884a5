"""JPEG frames of the enhanced view are encoded only while an MJPEG client or a snapshot asks for them."""

import time

from .helpers import ServeProcess, write_clip


def test_no_jpeg_frames_until_asked_then_snapshot_and_stream_get_fresh_frames(tmp_path):
    clip = write_clip(tmp_path / "cam.mp4", seed=3)
    server = ServeProcess(["--source", str(clip), "--port", "0", "--method", "gamma"], tmp_path / "log")
    try:
        deadline = time.monotonic() + 90
        while server.json("/api/cameras")[0]["frames_out"] < 20:
            assert time.monotonic() < deadline, "the camera never went live"
            time.sleep(0.2)
        camera = server.json("/api/cameras")[0]
        assert camera["jpeg_frames"] == 0  # enhanced, but nobody watches MJPEG: no JPEG encoded
        status, body, headers = server.get("/cameras/cam/snapshot.jpg")
        assert status == 200 and body[:2] == b"\xff\xd8"  # a JPEG, made on request
        assert server.json("/api/cameras")[0]["jpeg_frames"] >= 1
    finally:
        server.stop()
