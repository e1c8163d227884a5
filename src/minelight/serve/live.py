"""The page's H.264 live view: one encode per camera, shared by every viewer, only while someone watches.

Camera process: :class:`LiveEncoder` encodes the enhanced frames with x264 (ultrafast, zerolatency,
constrained baseline, a keyframe every second and whenever a new viewer asks) into the camera's
:class:`~minelight.serve.shared.PacketRing`, but only while the web process says someone is watching
(``live_wanted_at`` in the camera's shared counters, refreshed while viewers are connected). A packet's
timestamp is its source frame's decode time (``time.monotonic``, 90 kHz), so the timeline runs on across
encoder and camera-process restarts.

Web process: :class:`LiveHub` (one per camera, running while it has viewers) reads the ring, turns each
packet into one fragmented-MP4 fragment (:mod:`minelight.serve.fmp4`) once, and hands it to every viewer.
A viewer first gets a JSON text message ``{"type": "init", "codec": ..., "width": ..., "height": ...,
"epoch": ...}`` (``epoch``: the wall-clock time, in seconds, of media time 0) and the init segment, then
fragments from the next keyframe on. A viewer that cannot keep up has its backlog dropped and resumes at
the next keyframe: it never slows the camera or the other viewers.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import deque
from fractions import Fraction

import numpy as np

from . import fmp4
from .shared import CameraStats, PacketRing

log = logging.getLogger("minelight.serve")

WANTED_S = 2.0  # the camera encodes while the web process asked for the live view this recently (seconds)
POLL_S = 0.004  # how often a hub looks for new packets (seconds)
CRF = 26  # x264 constant rate factor of the live view (23: x264's default; higher: fewer bits)
BACKLOG_BYTES = 2 << 20  # a viewer with more than this waiting unsent is dropped to the next keyframe
MAX_DURATION = fmp4.TIMESCALE  # a frame is shown for at most this long (ticks) when the next one is late


def live_codec(width: int, height: int, fps: float):
    """The live view's opened H.264 encoder (PyAV ``CodecContext``) for ``width`` x ``height`` frames at ``fps``
    (0: 25): x264 ultrafast, zero latency, baseline profile, a keyframe every second (a new viewer waits at
    most that), timestamps in :data:`fmp4.TIMESCALE` ticks."""
    import av

    codec = av.CodecContext.create("libx264", "w")
    codec.width, codec.height, codec.pix_fmt = width, height, "yuv420p"
    codec.time_base = Fraction(1, fmp4.TIMESCALE)
    codec.framerate = Fraction(fps or 25).limit_denominator(1000)
    codec.gop_size = max(1, round(fps or 25))
    codec.options = {"preset": "ultrafast", "tune": "zerolatency", "profile": "baseline", "crf": str(CRF)}
    codec.open()
    return codec


class LiveEncoder:
    """Camera side: enhanced frames -> H.264 packets in ``ring`` while ``stats`` says someone watches."""

    def __init__(self, ring: PacketRing, stats: CameraStats, name: str = ""):
        self.ring, self.stats, self.name = ring, stats, name
        self.codec = None
        self.size: tuple[int, int] | None = None
        self.last_key = 0.0  # time.monotonic() of the last keyframe
        self.last_pts = -1

    def wanted(self, now: float) -> bool:
        return now - self.stats["live_wanted_at"] < WANTED_S

    def _open(self, width: int, height: int, fps: float) -> None:
        self.codec, self.size = live_codec(width, height, fps), (width, height)
        self.stats["live_encoding"] = 1
        log.info("%s: live view encoding (%dx%d)", self.name, width, height)

    def close(self) -> None:
        if self.codec is not None:
            self.codec = None
            self.stats["live_encoding"] = 0
            log.info("%s: live view stopped (no viewer)", self.name)

    def send(self, frame: np.ndarray, decoded_at: float, fps: float) -> None:
        """Encode one enhanced uint8 RGB frame if someone watches (else close the encoder)."""
        import av

        now = time.monotonic()
        if not self.wanted(now):
            self.close()
            return
        height, width = frame.shape[0] & ~1, frame.shape[1] & ~1
        pts = round(decoded_at * fmp4.TIMESCALE)
        if pts <= self.last_pts:
            return
        try:
            if self.codec is None or self.size != (width, height):
                self._open(width, height, fps)
            video = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame[:height, :width]), format="rgb24")
            video.pts = pts
            if self.stats["keyframe_wanted_at"] > self.last_key:  # a new viewer: start it now
                video.pict_type = av.video.frame.PictureType.I
            for packet in self.codec.encode(video):
                data = bytes(packet)
                if packet.is_keyframe:
                    self.last_key = now
                self.ring.write(data, packet.pts, packet.is_keyframe, decoded_at)
                self.stats.add("live_frames")
            self.last_pts = pts
        except (av.error.FFmpegError, ValueError) as err:  # never stops the camera: try again next frame
            log.warning("%s: live view encoding failed (%s)", self.name, err)
            self.close()


class Viewer:
    """One WebSocket viewer's queue of messages (bytes: MP4 data; str: JSON)."""

    def __init__(self):
        self.queue: deque = deque()
        self.queued = 0  # bytes waiting
        self.ready = asyncio.Event()
        self.started = False  # has had its init segment and a keyframe
        self.sent = 0  # bytes handed to the connection

    def put(self, message) -> None:
        self.queue.append(message)
        self.queued += len(message)
        self.ready.set()

    def drop_backlog(self) -> None:
        self.queue.clear()
        self.queued = 0
        self.started = False

    async def get(self):
        while not self.queue:
            self.ready.clear()
            await self.ready.wait()
        message = self.queue.popleft()
        self.queued -= len(message)
        return message


class LiveHub:
    """Web side: the fMP4 fan-out of one camera's ring to its viewers (runs while it has any)."""

    def __init__(self, ring: PacketRing, stats: CameraStats, stopping=lambda: False):
        self.ring, self.stats, self.stopping = ring, stats, stopping
        self.viewers: set[Viewer] = set()
        self.task: asyncio.Task | None = None
        self.init: bytes | None = None
        self.info: str | None = None  # the init JSON message
        self.params: tuple[bytes, bytes] | None = None
        self.epoch_pts: int | None = None  # pts of media time 0
        self.last_pts: int | None = None
        self.sequence = 0
        self.sent = 0  # bytes handed to viewers' connections, all viewers together

    def want(self) -> None:
        now = time.monotonic()
        self.stats["live_wanted_at"] = now

    def join(self) -> Viewer:
        viewer = Viewer()
        self.viewers.add(viewer)
        self.want()
        self.stats["keyframe_wanted_at"] = time.monotonic()
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self._run())
        return viewer

    def leave(self, viewer: Viewer) -> None:
        self.viewers.discard(viewer)

    def _fragment(self, data: bytes, pts: int, keyframe: bool) -> bytes | None:
        units = fmp4.split_annexb(data)
        if keyframe:
            sps, pps = fmp4.parameter_sets(units)
            if sps and pps and (sps, pps) != self.params:
                width, height = fmp4.sps_size(sps)
                self.params, self.init = (sps, pps), fmp4.init_segment(sps, pps)
                if self.epoch_pts is None:
                    self.epoch_pts = pts
                epoch = time.time() - (time.monotonic() - self.epoch_pts / fmp4.TIMESCALE)
                self.info = json.dumps({"type": "init", "codec": fmp4.codec_string(sps), "width": width,
                                        "height": height, "epoch": epoch})
                for viewer in self.viewers:
                    viewer.started = False  # new parameter sets: everyone gets the new init segment
        if self.init is None or self.epoch_pts is None or pts < self.epoch_pts:
            return None
        duration = fmp4.TIMESCALE // 25 if self.last_pts is None else min(max(1, pts - self.last_pts), MAX_DURATION)
        self.last_pts = pts
        self.sequence += 1
        return fmp4.fragment(self.sequence, pts - self.epoch_pts, duration, fmp4.to_sample(units), keyframe)

    def _deliver(self, frag: bytes, keyframe: bool) -> None:
        for viewer in self.viewers:
            if viewer.queued > BACKLOG_BYTES:
                viewer.drop_backlog()  # too slow: skip to the next keyframe
                self.stats["keyframe_wanted_at"] = time.monotonic()
            if not viewer.started:
                if not keyframe:
                    continue
                viewer.put(self.info)
                viewer.put(self.init)
                viewer.started = True
            viewer.put(frag)

    async def _run(self) -> None:
        """Follow the ring from its newest packet until the last viewer leaves."""
        self.params = None  # a fresh start: the first keyframe brings the init segment
        self.last_pts = None
        next_seq = self.ring.head() + 1
        while self.viewers and not self.stopping():
            self.want()
            head = self.ring.head()
            if head < next_seq - 1:  # the ring was made anew (cannot happen while the gateway runs)
                next_seq = head + 1
            while next_seq <= head:
                got = self.ring.read(next_seq)
                if got is None:
                    break
                next_seq += 1
                if got == PacketRing.LOST:  # fell behind the camera: everyone starts again at a keyframe
                    next_seq = self.ring.head() + 1
                    for viewer in self.viewers:
                        viewer.drop_backlog()
                    self.stats["keyframe_wanted_at"] = time.monotonic()
                    break
                data, pts, keyframe, _ = got
                frag = self._fragment(data, pts, keyframe)
                if frag is not None:
                    self._deliver(frag, keyframe)
            await asyncio.sleep(POLL_S)
        for viewer in self.viewers:
            viewer.put(b"")  # an empty message: the sender closes
