"""One camera's process: decode, enhance, encode, publish; reconnect on its own.

A decoding thread reads the source and hands over only the newest frame (:class:`NewestFrame`); the
enhancing loop takes it, enhances it (temporal denoising and smoothing per camera, reset on a reconnect), encodes a JPEG
into the camera's :class:`~minelight.serve.shared.FrameSlot` and, if configured, pushes H.264 to a media
server. When enhancing is slower than the camera, the frames in between are dropped and counted, so
latency never grows. When the source fails or ends, the camera reconnects with capped exponential
back-off (a video file restarts at once: it plays in a loop). The model is loaded once a source has opened,
so a camera that never connects holds no model. The log says when a camera's state or the reason it fails
changes, never once per retry.

A camera with a substream runs two such loops in one process, each in a thread of its own
(:mod:`minelight.serve.demand`): the substream always (at its ``idle_fps`` while nobody watches it), the main
stream while a client wants it (or always, with ``main = "always"`` or ``publish``). Each stream has its own
shared memory (:class:`~minelight.serve.shared.StreamBlocks`), model and temporal state.

The process stops when the gateway closes its end of the stop pipe (or dies: the pipe closes with it) or on
SIGTERM; neither takes a lock, so a signal can never deadlock the loop it interrupts.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import cv2
import numpy as np

from ..errors import first_line
from ..video.streams import VideoError, is_live_source, redact
from .config import CameraConfig, stream_configs
from .demand import MAIN_LINGER_S, POLL_S, WATCHED_S, OnDemand, StreamRunner, due, wait_until, wanted
from .shared import CameraStats, FrameSlot, StreamBlocks

log = logging.getLogger("minelight.serve")

JPEG_WANTED_S = 5.0  # JPEG-encode a view (enhanced, original) while a client asked for it this recently
STOP_POLL_S = 0.1  # longest a wait goes before it looks at the stop pipe again (seconds)


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


class StopSignal:
    """Whether this camera process should stop: the gateway closed its end of ``conn`` (a pipe; it also
    closes when the gateway dies) or :meth:`set` was called (the SIGTERM handler). Takes no lock."""

    def __init__(self, conn=None):
        self.conn = conn
        self.flag = False

    def set(self) -> None:
        self.flag = True

    def is_set(self) -> bool:
        if not self.flag and self.conn is not None:
            try:
                self.flag = self.conn.poll()  # readable: the gateway wrote or went away
            except (OSError, EOFError):
                self.flag = True
        return self.flag

    def wait(self, timeout: float) -> bool:
        """Wait up to ``timeout`` s for a stop; True if stopped."""
        return wait_until(self.is_set, timeout, self._pause, STOP_POLL_S)

    def _pause(self, seconds: float) -> None:
        if self.conn is None:
            time.sleep(seconds)
            return
        try:
            self.conn.poll(seconds)  # returns at once when the gateway writes or goes away
        except (OSError, EOFError):
            self.flag = True


@dataclass
class FpsMeter:
    """Frames per second over the last ``span`` seconds of frame times."""

    span: float = 2.0
    times: deque = field(default_factory=deque)

    def tick(self, now: float) -> float:
        """Count a frame at ``now`` (time.monotonic); returns the rate (0 until there are two frames)."""
        self.times.append(now)
        while self.times[0] < now - self.span:
            self.times.popleft()
        if len(self.times) < 2 or self.times[-1] == self.times[0]:
            return 0.0
        return (len(self.times) - 1) / (self.times[-1] - self.times[0])

    def reset(self) -> None:
        self.times.clear()


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


def decode_loop(reader, newest: NewestFrame, stats: CameraStats, stop: threading.Event, pace_fps: float,
                skip=None) -> None:
    """Read ``reader`` into ``newest`` until it ends, fails or ``stop`` is set. ``pace_fps`` > 0 releases
    frames at that rate (video files, which would otherwise decode as fast as the CPU allows). ``skip``: a
    callable; a frame decoded while it returns True is counted but neither converted to RGB nor handed over
    (a substream nobody watches: ``reader`` is then a :class:`~minelight.video.VideoReader`)."""
    start, count = time.monotonic(), 0
    try:
        for frame in reader if skip is None else reader.decoded():
            if stop.is_set():
                break
            if pace_fps:
                delay = start + count / pace_fps - time.monotonic()
                if delay > 0 and stop.wait(delay):
                    break
                count += 1
            stats.add("frames_in")
            if skip is not None:
                if skip():
                    continue
                frame = frame.to_ndarray(format="rgb24")
            newest.put(frame, time.monotonic())
        newest.end("")
    except Exception as err:  # noqa: BLE001 - any decoder failure means: reconnect
        newest.end(first_line(err))


class CameraPipeline:
    """Enhancement state of one camera: the enhancer, its temporal smoother and denoiser, the output size."""

    def __init__(self, cfg: CameraConfig):
        from ..enhance.enhancer import Enhancer
        from ..enhance.temporal import TemporalSmoother

        self.cfg = cfg
        self.enhancer = Enhancer.from_resolved(cfg.recipe, threads=cfg.threads, brightness=cfg.brightness)
        self.smoother = TemporalSmoother() if cfg.recipe.smoothing else None
        self.denoiser = self.enhancer.denoiser()  # None unless the recipe denoises

    def reset(self) -> None:
        """Forget the temporal state (a reconnect: the next frame may show another scene or exposure)."""
        for state in (self.smoother, self.denoiser):
            if state is not None:
                state.reset()

    def resize(self, frame: np.ndarray) -> np.ndarray:
        """``frame`` at the configured output size (uint8 ``(H, W, 3)``)."""
        if not self.cfg.width or frame.shape[:2] == (self.cfg.height, self.cfg.width):
            return frame
        return cv2.resize(frame, (self.cfg.width, self.cfg.height), interpolation=cv2.INTER_AREA)

    def enhance(self, frame: np.ndarray) -> np.ndarray:
        """uint8 RGB ``(H, W, 3)`` -> enhanced uint8 RGB of the same shape."""
        return self.enhancer.enhance_frame(frame, self.smoother, self.denoiser)


def encode_jpeg(frame: np.ndarray, quality: int) -> bytes:
    """uint8 RGB ``(H, W, 3)`` -> JPEG bytes."""
    ok, data = cv2.imencode(".jpg", np.ascontiguousarray(frame[..., ::-1]), [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return data.tobytes()




def _is_file(source: str) -> bool:
    return not is_live_source(source)


def resolve_error(source: str) -> str | None:
    """``"cannot resolve HOST (why)"`` when the host of the network URL ``source`` has no address, else
    None (files, devices and addresses are not looked up). FFmpeg itself only says "Input/output error"."""
    if not is_live_source(source) or source.isdigit():
        return None
    try:
        host = urlsplit(source).hostname
    except ValueError:
        return None
    if not host:
        return None
    try:
        socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except socket.gaierror as err:
        return f"cannot resolve {host} ({err.strerror})"
    except UnicodeError:
        return f"cannot resolve {host} (not a valid host name)"
    return None


class CameraLoop:
    """A camera process's work: open the source, enhance and publish its frames, reconnect when it fails.

    ``stop`` is a :class:`StopSignal` (or an :class:`~minelight.serve.demand.OnDemand`); ``publisher`` an
    optional :class:`~minelight.serve.publish.Publisher`. ``idle_fps`` > 0 (a substream, or a camera given an
    ``idle_fps``): while no client watches this stream, only that many frames per second are enhanced (the
    others are decoded and skipped, not counted as dropped); 0: every frame, as the ``fps`` cap allows.
    """

    def __init__(self, cfg: CameraConfig, enhanced: FrameSlot, original: FrameSlot, stats: CameraStats,
                 stop: StopSignal, publisher=None, live=None, idle_fps: float = 0.0):
        self.cfg, self.enhanced, self.original, self.stats = cfg, enhanced, original, stats
        self.stop, self.publisher, self.idle_fps = stop, publisher, idle_fps
        self.live = live  # the page's H.264 live view (minelight.serve.live.LiveEncoder), or None
        self.pipeline: CameraPipeline | None = None  # loaded once a source has opened
        self.fps = FpsMeter()
        self.last_out = 0.0  # time.monotonic() of the last frame enhanced
        self.problem: str | None = None  # the failure logged last; None since the camera was last live

    def report(self, problem: str) -> None:
        """Log ``problem`` unless it is the one logged last: a retry that fails the same way stays quiet."""
        if problem != self.problem:
            log.warning("%s: %s; retrying (logged again if the reason changes)", self.cfg.name, problem)
            self.problem = problem

    def open(self):
        """The source's :class:`~minelight.video.VideoReader` (VideoError if it cannot open); the model is
        loaded the first time one opens."""
        from ..video.streams import VideoReader

        problem = resolve_error(self.cfg.source)
        if problem:
            raise VideoError(f"{redact(self.cfg.source)}: {problem}")
        reader = VideoReader(self.cfg.source, timeout_s=self.cfg.timeout, transport=self.cfg.transport)
        if self.pipeline is None:
            try:
                self.pipeline = CameraPipeline(self.cfg)
            except BaseException:
                reader.close()
                raise
        return reader

    def run(self) -> None:
        """Serve, reconnecting with back-off, until ``stop`` is set."""
        backoff = Backoff(cap=self.cfg.max_backoff)
        while not self.stop.is_set():
            try:
                served = self.serve_once()
            except ValueError as err:  # VideoError: cannot open / no video track / cannot resolve
                self.report(first_line(err))
                served = False
            if self.stop.is_set():
                break
            if served:
                backoff.reset()
                if _is_file(self.cfg.source):
                    continue  # a video file plays in a loop
            self.reconnecting()
            self.stop.wait(backoff.next())

    def skip(self) -> bool:
        """Whether the decoding thread may skip the frame it just decoded: this stream is idle and no frame
        is due at its idle rate (the frame is then never converted or handed over)."""
        now = time.monotonic()
        return self.idle(now) and not due(now, self.last_out, self.idle_fps)

    def idle(self, now: float) -> bool:
        """Whether this stream enhances at its idle rate now (it has one, and no client watches it)."""
        idle = bool(self.idle_fps) and not wanted(self.stats, now, WATCHED_S)
        self.stats["idle"] = float(idle)
        return idle

    def finish(self) -> None:
        """The loop ended (an on-demand stream nobody wants): close the live view's encoder and forget the
        temporal state, so a later start begins afresh. The model stays loaded (a quick restart)."""
        if self.live is not None:
            self.live.close()
        self.fps.reset()
        if self.pipeline is not None:
            self.pipeline.reset()

    def reconnecting(self) -> None:
        self.stats.add("reconnects")
        self.stats.state = "reconnecting"
        self.stats["fps"] = 0.0
        self.fps.reset()
        if self.pipeline is not None:
            self.pipeline.reset()

    def serve_once(self) -> bool:
        """Open the source, serve its frames until it ends, fails, falls silent or ``stop`` is set.
        Returns True if at least one frame was enhanced."""
        cfg, stats = self.cfg, self.stats
        reader = self.open()
        newest, halt = NewestFrame(), threading.Event()
        pace = float(reader.fps) if not reader.live else 0.0
        skip = self.skip if self.idle_fps else None
        thread = threading.Thread(target=decode_loop, args=(reader, newest, stats, halt, pace, skip), daemon=True)
        thread.start()
        served, last_frame, self.last_out = False, time.monotonic(), 0.0
        try:
            while not self.stop.is_set():
                item = newest.take(timeout=0.25)
                if item is None:
                    if newest.ended is not None:
                        if newest.ended or reader.live:
                            self.report(newest.ended or "the stream ended")
                        break
                    if time.monotonic() - last_frame > cfg.timeout:
                        self.report(f"no frame for {cfg.timeout:g} s")
                        break
                    continue
                frame, decoded_at = item
                last_frame = time.monotonic()
                if self.idle(last_frame) and not due(last_frame, self.last_out, self.idle_fps):
                    continue  # nobody watches: enhance only idle_fps frames a second
                if cfg.fps and not due(last_frame, self.last_out, cfg.fps):
                    stats.add("dropped")  # over the frame-rate cap
                    continue
                self.last_out = last_frame
                self.publish(frame, decoded_at, float(reader.fps), reader.name)
                stats.add("dropped", newest.take_dropped())
                served = True
        finally:
            halt.set()
            thread.join(timeout=1.0 if self.stop.is_set() else cfg.timeout + 1.0)
            if not thread.is_alive():  # a decoder still inside a read is left to the process's exit
                reader.close()
        return served

    def publish(self, frame: np.ndarray, decoded_at: float, fps: float, source_name: str) -> None:
        """Enhance one decoded frame and publish it (JPEG slots, the media server) and its counters."""
        cfg, stats = self.cfg, self.stats
        frame = self.pipeline.resize(frame)
        out = self.pipeline.enhance(frame)
        now = time.monotonic()
        if now - stats["enhanced_wanted_at"] < JPEG_WANTED_S:  # an MJPEG client or a snapshot: encode
            self.enhanced.write(encode_jpeg(out, cfg.jpeg_quality), decoded_at)
            stats.add("jpeg_frames")
        if now - stats["original_wanted_at"] < JPEG_WANTED_S:
            self.original.write(encode_jpeg(frame, cfg.jpeg_quality), decoded_at)
        if self.publisher is not None:
            self.publisher.send(out, fps)
        if self.live is not None:
            self.live.send(out, decoded_at, fps)
        done = time.monotonic()
        stats.observe_latency(done - decoded_at)
        stats.add("frames_out")
        stats["fps"] = self.fps.tick(done)
        stats["width"], stats["height"] = out.shape[1], out.shape[0]
        stats["updated_at"] = done
        if stats.state != "live":
            stats.state = "live"
            self.problem = None
            log.info("%s: live (%s, %dx%d)", cfg.name, source_name, out.shape[1], out.shape[0])


def camera_main(cfg: CameraConfig, streams: dict[str, StreamBlocks], stop_conn) -> None:
    """The camera process: serve until the gateway closes its end of the pipe ``stop_conn`` (or dies), or
    until SIGTERM. ``streams``: the shared memory of the camera's ``"main"`` stream and, with a substream,
    of its ``"sub"`` stream."""
    import signal

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    stop = StopSignal(stop_conn)
    # Ctrl-C reaches the whole process group: the parent stops us through the pipe. SIGTERM (a service
    # manager stopping the group) only raises a flag that the loop reads: a handler that took a lock could
    # deadlock the very wait it interrupts.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    run_camera(cfg, streams, stop)
    logging.shutdown()
    os._exit(0)  # stopped cleanly: skip the interpreter's teardown of the model's libraries (seconds when busy)


def run_camera(cfg: CameraConfig, streams: dict[str, StreamBlocks], stop: StopSignal) -> None:
    """Serve one camera's streams (and publish its main stream, if configured) in this thread until ``stop``;
    its streams' state is ``stopped`` afterwards. Used by the camera process and by a cluster's camera
    worker (:mod:`minelight.serve.remote`)."""
    from .publish import Publisher

    for blocks in streams.values():
        blocks.stats["pid"] = os.getpid()
    publisher = Publisher(cfg.publish, cfg.transport, cfg.name) if cfg.publish else None  # the main stream's
    try:
        if cfg.substream:
            run_streams(cfg, streams, stop, publisher)
        else:
            run_single(cfg, streams["main"], stop, publisher)
    finally:
        if publisher is not None:
            publisher.close()
        for blocks in streams.values():
            blocks.stats["running"] = 0
            blocks.stats.state = "stopped"


def stream_loop(cfg: CameraConfig, blocks: StreamBlocks, stop, publisher=None, idle_fps: float = 0.0) -> CameraLoop:
    """A :class:`CameraLoop` over one stream's shared memory, with its live-view encoder."""
    from .live import LiveEncoder

    live = LiveEncoder(blocks.live, blocks.stats, cfg.name)
    return CameraLoop(cfg, blocks.enhanced, blocks.original, blocks.stats, stop, publisher, live, idle_fps)


def run_single(cfg: CameraConfig, blocks: StreamBlocks, stop: StopSignal, publisher=None) -> None:
    """A camera with one stream: its loop in this thread until ``stop``."""
    blocks.stats["running"] = 1
    stream_loop(cfg, blocks, stop, publisher, idle_fps=cfg.idle_rate).run()


def run_streams(cfg: CameraConfig, streams: dict[str, StreamBlocks], stop: StopSignal, publisher=None) -> None:
    """A camera with a substream: the substream's loop always, the main stream's (with ``publisher``) while
    wanted or always, each in a thread of its own, until ``stop``."""
    configs = stream_configs(cfg)
    main_stats = streams["main"].stats
    if cfg.main_always:
        def main_wanted() -> bool:
            return True
    else:
        def main_wanted() -> bool:
            return wanted(main_stats, time.monotonic(), MAIN_LINGER_S)
    main = stream_loop(configs["main"], streams["main"], OnDemand(stop, main_wanted), publisher)
    sub = stream_loop(configs["sub"], streams["sub"], stop, idle_fps=cfg.idle_rate)
    runners = [StreamRunner(sub, streams["sub"].stats, lambda: True, configs["sub"].name),
               StreamRunner(main, main_stats, main_wanted, configs["main"].name)]
    main_stats.state = "off"
    was_running = False
    while not stop.is_set():
        for runner in runners:
            runner.step()
        running = runners[1].running()
        if running != was_running:
            log.info("%s: main stream %s", cfg.name, "started (wanted)" if running else "stopped (nobody wants it)")
            was_running = running
        stop.wait(POLL_S)
    deadline = time.monotonic() + 2.0
    for runner in runners:
        runner.join(max(0.1, deadline - time.monotonic()))
