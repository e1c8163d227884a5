"""Push a camera's enhanced frames as H.264 over RTSP to a media server (MediaMTX, go2rtc, ...), so a
video-management system can record them like any camera. A failure closes the connection and it is
tried again after a pause; it never stops the camera."""

from __future__ import annotations

import logging
import time
from fractions import Fraction

import numpy as np

from ..errors import first_line
from ..video.streams import redact

log = logging.getLogger("minelight.serve")


class Publisher:
    """RTSP publisher of uint8 RGB frames; opened on the first frame (its size fixes the stream's)."""

    def __init__(self, url: str, transport: str = "tcp", name: str = "", retry_s: float = 2.0):
        self.url, self.transport, self.name, self.retry_s = url, transport, name, retry_s
        self.container = self.stream = None
        self.size: tuple[int, int] | None = None
        self.count = 0
        self.failed_at = -1e9
        self.sent = 0  # frames sent in total (over all connections)

    def _open(self, width: int, height: int, fps: float) -> None:
        import av

        self.container = av.open(self.url, "w", format="rtsp", options={"rtsp_transport": self.transport},
                                 timeout=5.0)
        rate = Fraction(fps or 25).limit_denominator(1000)
        self.stream = self.container.add_stream("libx264", rate=rate)
        self.stream.width, self.stream.height = width, height
        self.stream.pix_fmt = "yuv420p"
        self.stream.options = {"preset": "ultrafast", "tune": "zerolatency", "g": str(max(1, round(fps or 25)))}
        self.size, self.count = (width, height), 0
        log.info("%s: publishing to %s", self.name, redact(self.url))

    def send(self, frame: np.ndarray, fps: float) -> None:
        """Encode and send one frame (even width and height); errors are logged and retried later."""
        import av

        if self.container is None:
            if time.monotonic() - self.failed_at < self.retry_s:
                return
            try:
                self._open(frame.shape[1] - frame.shape[1] % 2, frame.shape[0] - frame.shape[0] % 2, fps)
            except (av.error.FFmpegError, OSError, ValueError) as err:
                self._fail(err)
                return
        try:
            w, h = self.size
            video_frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame[:h, :w]), format="rgb24")
            video_frame.pts = self.count
            self.count += 1
            self.container.mux(self.stream.encode(video_frame))
            self.sent += 1
        except (av.error.FFmpegError, OSError, ValueError) as err:
            self._fail(err)

    def _fail(self, err: Exception) -> None:
        log.warning("%s: publishing to %s failed (%s); retrying", self.name, redact(self.url),
                    first_line(err))
        self.close()
        self.failed_at = time.monotonic()

    def close(self) -> None:
        if self.container is not None:
            try:
                self.container.close()
            except Exception:  # noqa: BLE001 - the connection is gone either way
                pass
        self.container = self.stream = None
