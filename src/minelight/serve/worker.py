"""One camera's process: decode, enhance, encode, publish; reconnect on its own.

A decoding thread reads the source and hands over only the newest frame (:class:`NewestFrame`); the
enhancing loop takes it, enhances it (temporal smoothing per camera for the fast model), encodes a JPEG
into the camera's :class:`~minelight.serve.shared.FrameSlot` and, if configured, pushes H.264 to a media
server. When enhancing is slower than the camera, the frames in between are dropped and counted, so
latency never grows. When the source fails or ends, the camera reconnects with capped exponential
back-off (a video file restarts at once: it plays in a loop).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass

import cv2
import numpy as np

from .config import CameraConfig
from .shared import CameraStats, FrameSlot

log = logging.getLogger("minelight.serve")

ORIGINAL_WANTED_S = 5.0  # encode the original stream too while a client asked for it this recently


@dataclass
class Backoff:
    """Reconnect delays ``first, 2*first, 4*first, ...`` capped at ``cap`` seconds."""

    first: float = 0.5
    cap: float = 2.0
    attempts: int = 0

    def next(self) -> float:
        delay = min(self.cap, self.first * 2 ** self.attempts)
        self.attempts += 1
        return delay

    def reset(self) -> None:
        self.attempts = 0


class NewestFrame:
    """A one-frame hand-over between the decoding thread and the enhancing loop. Putting a frame over one
    that was never taken replaces it and counts it in ``dropped``."""

    def __init__(self):
        self._cond = threading.Condition()
        self._item: tuple[np.ndarray, float] | None = None
        self.dropped = 0
        self.ended: str | None = None  # why the source stopped ("" = it ended normally)

    def put(self, frame: np.ndarray, decoded_at: float) -> None:
        with self._cond:
            if self._item is not None:
                self.dropped += 1
            self._item = (frame, decoded_at)
            self._cond.notify()

    def end(self, why: str) -> None:
        with self._cond:
            self.ended = why
            self._cond.notify()

    def take_dropped(self) -> int:
        """Frames dropped since the last call."""
        with self._cond:
            count, self.dropped = self.dropped, 0
            return count

    def take(self, timeout: float) -> tuple[np.ndarray, float] | None:
        """The newest frame and its decode time (``time.monotonic``), or None after ``timeout`` s or at the end."""
        with self._cond:
            if self._item is None and self.ended is None:
                self._cond.wait(timeout)
            item, self._item = self._item, None
            return item


def decode_loop(reader, newest: NewestFrame, stats: CameraStats, stop: threading.Event, pace_fps: float) -> None:
    """Read ``reader`` into ``newest`` until it ends, fails or ``stop`` is set. ``pace_fps`` > 0 releases
    frames at that rate (video files, which would otherwise decode as fast as the CPU allows)."""
    start, count = time.monotonic(), 0
    try:
        for frame in reader:
            if stop.is_set():
                break
            if pace_fps:
                delay = start + count / pace_fps - time.monotonic()
                if delay > 0 and stop.wait(delay):
                    break
                count += 1
            stats.add("frames_in")
            newest.put(frame, time.monotonic())
        newest.end("")
    except Exception as err:  # noqa: BLE001 - any decoder failure means: reconnect
        newest.end(str(err).splitlines()[0] if str(err) else type(err).__name__)


class CameraPipeline:
    """Enhancement state of one camera: the enhancer, its temporal smoother, the output size."""

    def __init__(self, cfg: CameraConfig):
        from ..enhance.enhancer import Enhancer
        from ..enhance.temporal import TemporalSmoother

        self.cfg = cfg
        self.enhancer = Enhancer.from_recipe(cfg.method, "serve", threads=cfg.threads, brightness=cfg.brightness,
                                             halo=cfg.halo, chroma=cfg.chroma)
        self.smoother = TemporalSmoother() if cfg.method == "fast" else None

    def resize(self, frame: np.ndarray) -> np.ndarray:
        """``frame`` at the configured output size (uint8 ``(H, W, 3)``)."""
        if not self.cfg.width or frame.shape[:2] == (self.cfg.height, self.cfg.width):
            return frame
        return cv2.resize(frame, (self.cfg.width, self.cfg.height), interpolation=cv2.INTER_AREA)

    def enhance(self, frame: np.ndarray) -> np.ndarray:
        """uint8 RGB ``(H, W, 3)`` -> enhanced uint8 RGB of the same shape."""
        from ..io import from_uint8, to_uint8

        return to_uint8(self.enhancer.enhance_array(from_uint8(frame), self.smoother))


def encode_jpeg(frame: np.ndarray, quality: int) -> bytes:
    """uint8 RGB ``(H, W, 3)`` -> JPEG bytes."""
    ok, data = cv2.imencode(".jpg", np.ascontiguousarray(frame[..., ::-1]), [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return data.tobytes()


def _is_file(source: str) -> bool:
    from ..video.streams import is_live_source

    return not is_live_source(source)


def run_source_once(cfg: CameraConfig, pipeline: CameraPipeline, enhanced: FrameSlot, original: FrameSlot,
                    stats: CameraStats, stop, publisher) -> bool:
    """Open the source, serve its frames until it ends, fails, falls silent or ``stop`` is set.
    Returns True if at least one frame was enhanced."""
    from ..video.streams import VideoReader

    reader = VideoReader(cfg.source, timeout_s=cfg.timeout, transport=cfg.transport)
    newest, halt = NewestFrame(), threading.Event()
    pace = float(reader.fps) if not reader.live else 0.0
    thread = threading.Thread(target=decode_loop, args=(reader, newest, stats, halt, pace), daemon=True)
    thread.start()
    served, last_frame, last_out, window = False, time.monotonic(), 0.0, []
    try:
        while not stop.is_set():
            item = newest.take(timeout=0.25)
            if item is None:
                if newest.ended is not None:
                    if newest.ended:
                        log.warning("%s: %s", cfg.name, newest.ended)
                    break
                if time.monotonic() - last_frame > cfg.timeout:
                    log.warning("%s: no frame for %.0f s", cfg.name, cfg.timeout)
                    break
                continue
            frame, decoded_at = item
            last_frame = time.monotonic()
            if cfg.fps and last_frame - last_out < 1.0 / cfg.fps - 0.002:
                stats.add("dropped")  # over the frame-rate cap
                continue
            last_out = last_frame
            frame = pipeline.resize(frame)
            out = pipeline.enhance(frame)
            enhanced.write(encode_jpeg(out, cfg.jpeg_quality), decoded_at)
            if time.monotonic() - stats["original_wanted_at"] < ORIGINAL_WANTED_S:
                original.write(encode_jpeg(frame, cfg.jpeg_quality), decoded_at)
            if publisher is not None:
                publisher.send(out, float(reader.fps))
            done = time.monotonic()
            stats.observe_latency(done - decoded_at)
            stats.add("frames_out")
            stats.add("dropped", newest.take_dropped())
            window = [t for t in window if t > done - 2.0] + [done]
            stats["fps"] = (len(window) - 1) / (window[-1] - window[0]) if len(window) > 1 else 0.0
            stats["width"], stats["height"] = out.shape[1], out.shape[0]
            stats["updated_at"] = done
            served = True
            if stats.state != "live":
                stats.state = "live"
                log.info("%s: live (%s, %dx%d)", cfg.name, reader.name, out.shape[1], out.shape[0])
    finally:
        halt.set()
        thread.join(timeout=cfg.timeout + 1.0)
        reader.close()
    return served


def camera_main(cfg: CameraConfig, enhanced: FrameSlot, original: FrameSlot, stats: CameraStats, stop) -> None:
    """The camera process: serve until ``stop`` (a multiprocessing Event) is set."""
    import signal

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    from .publish import Publisher

    # Ctrl-C reaches the whole process group: the parent stops us through ``stop``. A SIGTERM sent to us
    # directly (a service manager stopping the group) also ends the camera cleanly.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    parent = os.getppid()

    def orphaned():  # the gateway died without stopping us (SIGKILL): stop too
        while not stop.wait(1.0):
            if os.getppid() != parent:
                log.warning("%s: the gateway is gone; stopping", cfg.name)
                stop.set()

    threading.Thread(target=orphaned, daemon=True).start()

    stats["pid"] = os.getpid()
    pipeline = CameraPipeline(cfg)
    publisher = Publisher(cfg.publish, cfg.transport, cfg.name) if cfg.publish else None
    backoff = Backoff(cap=cfg.max_backoff)
    try:
        while not stop.is_set():
            try:
                served = run_source_once(cfg, pipeline, enhanced, original, stats, stop, publisher)
            except ValueError as err:  # VideoError: cannot open / no video track
                log.warning("%s: %s", cfg.name, str(err).splitlines()[0])
                served = False
            if stop.is_set():
                break
            if served:
                backoff.reset()
                if _is_file(cfg.source):
                    continue  # a video file plays in a loop
            stats.add("reconnects")
            stats.state = "reconnecting"
            if pipeline.smoother is not None:
                pipeline.smoother.reset()
            stop.wait(backoff.next())
    finally:
        if publisher is not None:
            publisher.close()
        stats.state = "stopped"
