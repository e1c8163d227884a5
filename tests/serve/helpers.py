"""Real parts for the service tests: the `minelight serve` process, an MJPEG client, an RTSP camera."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import cv2
import numpy as np


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout: float, every: float = 0.2, errors: tuple = (OSError, ValueError),
             what: str = ""):
    """Poll ``predicate`` until it returns something truthy (returned) or ``timeout`` s pass (AssertionError
    naming ``what``, else the predicate); ``errors`` raised by it count as not yet."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = predicate()
        except errors:
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout} s: {what or getattr(predicate, '__name__', predicate)}")
        time.sleep(every)


class ServeProcess:
    """``minelight serve ARGS`` in its own process; ``url`` is read from its first line of output."""

    def __init__(self, args: list[str], log: Path, startup_s: float = 60.0):
        self.log_path = log
        self._log = open(log, "w")
        self.proc = subprocess.Popen([sys.executable, "-m", "minelight.cli", "serve", *args], stdout=subprocess.PIPE,
                                     stderr=self._log, text=True, start_new_session=True)
        line = []
        reader = threading.Thread(target=lambda: line.append(self.proc.stdout.readline()), daemon=True)
        reader.start()
        reader.join(startup_s)
        if not line or "http://" not in line[0]:
            self.stop()
            raise AssertionError(f"serve did not start: {line} {log.read_text()[-2000:]}")
        self.url = line[0].strip().rsplit(" ", 1)[-1].rstrip("/")

    def get(self, path: str, token: str | None = None, timeout: float = 10.0) -> tuple[int, bytes, dict]:
        request = urllib.request.Request(self.url + path)
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, response.read(), {k.lower(): v for k, v in response.headers.items()}
        except urllib.error.HTTPError as err:
            return err.code, err.read(), {k.lower(): v for k, v in err.headers.items()}

    def json(self, path: str, token: str | None = None):
        status, body, _ = self.get(path, token)
        assert status == 200, (status, body[:200])
        return json.loads(body)

    def states(self, token: str | None = None) -> dict[str, str]:
        return {name: c["state"] for name, c in self.json("/healthz", token)["cameras"].items()}

    def camera(self, name: str, token: str | None = None) -> dict:
        return next(c for c in self.json("/api/cameras", token) if c["name"] == name)

    def terminate(self, timeout: float = 10.0) -> tuple[int, float]:
        """SIGTERM the gateway; ``(exit code, seconds until it exited)``."""
        start = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout)
        return code, time.monotonic() - start

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)  # anything left in its session (there should be nothing)
        except ProcessLookupError:
            pass
        self.proc.stdout.close()
        self._log.close()

    def log(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text()


class MjpegClient:
    """Reads a multipart/x-mixed-replace stream part by part."""

    def __init__(self, url: str, token: str | None = None, timeout: float = 10.0, receive_buffer: int = 0):
        """``receive_buffer``: bytes of this client's socket receive buffer (0: the system's default)."""
        parts = urllib.parse.urlsplit(url)
        self.conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
        self.conn.sock = socket.socket()
        if receive_buffer:
            self.conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        self.conn.sock.settimeout(timeout)
        self.conn.sock.connect((parts.hostname, parts.port))
        self.conn.request("GET", parts.path + (f"?{parts.query}" if parts.query else ""),
                          headers={"Authorization": f"Bearer {token}"} if token else {})
        self.response = self.conn.getresponse()
        if self.response.status != 200:
            raise urllib.error.HTTPError(url, self.response.status, self.response.reason, self.response.headers, None)
        self.content_type = self.response.headers["Content-Type"]

    def frame(self) -> np.ndarray:
        """The next frame, decoded to uint8 RGB."""
        headers = {}
        while True:
            line = self.response.readline()
            if not line:
                raise EOFError("stream ended")
            line = line.strip()
            if not line:
                if headers:
                    break
                continue
            if b":" in line:
                key, value = line.split(b":", 1)
                headers[key.strip().lower()] = value.strip()
        data = self.response.read(int(headers[b"content-length"]))
        self.last_size = len(data)  # the JPEG's bytes (the part's headers and boundary not counted)
        self.decoded_at = float(headers.get(b"x-decoded-at", b"nan"))  # the server's time.monotonic()
        self.received_at = time.monotonic()  # the same clock (one machine): received_at - decoded_at = age
        return decode_jpeg(data)

    def close(self) -> None:
        self.response.close()
        self.conn.close()


def decode_jpeg(data: bytes) -> np.ndarray:
    img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert img is not None, "not a JPEG"
    return img[..., ::-1]


def write_clip(path: Path, frames: int = 60, size: tuple[int, int] = (120, 160), fps: int = 12, seed: int = 0,
               level: float = 0.12) -> Path:
    """A dark H.264 clip: a static textured scene (different per seed) with fresh noise in every frame."""
    from minelight.io import to_uint8
    from minelight.video.streams import VideoWriter

    rng = np.random.default_rng(seed)
    field = cv2.GaussianBlur(rng.random((*size, 3)).astype(np.float32), (0, 0), 4)
    base = level * (field - field.min()) / (field.max() - field.min() + 1e-6) + 0.02
    with VideoWriter(path, size[1], size[0], fps) as writer:
        for _ in range(frames):
            writer.write(to_uint8(base + 0.006 * rng.standard_normal(base.shape)))
    return path


class RtspCamera:
    """A real RTSP camera on loopback: Debian's rtsp-server-perl serving a clip that ffmpeg pushes in a
    loop (readers over UDP). ``url`` is what a reader opens; ``publish_url(name)`` where others push.

    One at a time per machine: the server resets its RTP port to 20000 whenever it has no mount point
    (its housekeeping), whatever ``--rtp_start_port`` says, so a second server running at the same time (or
    one a killed test left behind) cannot bind it, and its readers get no frames."""

    available = bool(shutil.which("rtsp-server-perl") and shutil.which("ffmpeg"))

    def __init__(self, clip: Path, name: str = "cam"):
        self.clip, self.name = clip, name
        self.client_port, self.source_port = free_port(), free_port()
        self.rtp_port = 20000 + (self.client_port % 20000) // 2 * 2
        self.server = self.pusher = None
        self.extra: list[subprocess.Popen] = []  # pushers of further streams (:meth:`push`)
        self.url = f"rtsp://127.0.0.1:{self.client_port}/{name}"

    def publish_url(self, name: str) -> str:
        return f"rtsp://127.0.0.1:{self.source_port}/{name}"

    def push(self, clip: Path, name: str) -> str:
        """Push ``clip`` in a loop as a second stream ``name`` of this server (e.g. a substream); returns the
        URL a reader opens. Stopped with the camera."""
        self.extra.append(subprocess.Popen(
            ["ffmpeg", "-nostdin", "-loglevel", "error", "-re", "-stream_loop", "-1", "-i", str(clip),
             "-c", "copy", "-rtsp_transport", "udp", "-f", "rtsp", self.publish_url(name)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True))
        return f"rtsp://127.0.0.1:{self.client_port}/{name}"

    def start(self) -> RtspCamera:
        self.server = subprocess.Popen(
            ["rtsp-server-perl", "-c", str(self.client_port), "-s", str(self.source_port),
             "--client_listen_address", "127.0.0.1", "--source_listen_address", "127.0.0.1",
             "--rtp_start_port", str(self.rtp_port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        wait_for(lambda: _listening(self.source_port), 15)
        self.pusher = subprocess.Popen(
            ["ffmpeg", "-nostdin", "-loglevel", "error", "-re", "-stream_loop", "-1", "-i", str(self.clip),
             "-c", "copy", "-rtsp_transport", "udp", "-f", "rtsp", self.publish_url(self.name)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        return self

    def stop(self) -> None:
        for proc in (*self.extra, self.pusher, self.server):
            if proc is not None and proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)
        self.server = self.pusher = None
        self.extra = []


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


class SilentServer:
    """A TCP server on loopback that accepts connections and never answers (a camera that hangs)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.conns = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)

    def close(self) -> None:
        self.sock.close()
        for conn in self.conns:
            conn.close()
