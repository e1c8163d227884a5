"""A camera's worker on a Ray cluster (``minelight serve --ray``): the camera loop of
:mod:`minelight.serve.worker` in a thread of a Ray actor, and what it hands to the gateway when asked.

The actor keeps the camera's streams in shared memory on its own node, as a camera process does on the
gateway's machine. The gateway pulls from it (:meth:`CameraHost.pull`): the H.264 packets written since it
last asked, the newest JPEG frames it has not had yet, and the counters; with each pull it sends when its
clients last asked for each stream, so the camera encodes, and runs its main stream, only while someone
watches. Times cross between machines as values of the actor's clock (``time.monotonic``, seconds); the
gateway converts them with the offset between the two clocks (:func:`minelight.serve.fleet.clock_offset`).

Every actor start has its own ``epoch``: a gateway that sees a new one knows the camera started again (on
this node or another) with fresh shared memory, and reads it from its first packet.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid

from ..cluster.local import node_of_this_process
from .config import CameraConfig
from .demand import WANTED_FIELDS
from .gateway import STREAMS
from .shared import PacketRing, StreamBlocks, sweep_stale

log = logging.getLogger("minelight.serve")

GATEWAY_FIELDS = WANTED_FIELDS + ("keyframe_wanted_at",)  # counters the gateway's clients write (its clock)
PULL_BYTES = 4 << 20  # packets handed over in one pull at most (bytes; the rest come with the next)
PULL_POLL_S = 0.01  # how often a waiting pull looks for news (seconds)


def new_packets(ring: PacketRing, after: int, limit: int = PULL_BYTES) -> tuple[list[tuple], int, bool]:
    """The packets of ``ring`` after number ``after`` (at most ``limit`` bytes, at least one): a list of
    ``(data, pts, keyframe, decode time)``, the number of the last one, and whether some were lost (the
    gateway fell so far behind that they were overwritten: it then gets the newest ones from the last
    keyframe on, as far as the ring still holds them)."""
    out, size, lost = [], 0, False
    head = ring.head()
    seq = after + 1
    while seq <= head and (not out or size < limit):
        got = ring.read(seq)
        if got is None:
            break
        if got == PacketRing.LOST:
            lost, out, size = True, [], 0
            seq = head  # the newest packet: it may not be a keyframe; the viewers wait for the next
            continue
        out.append(got)
        size += len(got[0])
        seq += 1
    return out, seq - 1, lost


class CameraHost:
    """One camera served inside a Ray actor (the class Ray runs remotely; usable as a plain object)."""

    def __init__(self, cfg: CameraConfig):
        from .worker import StopSignal, run_camera

        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
        sweep_stale()  # shared memory that a killed camera worker left on this node
        self.cfg = cfg
        self.epoch = uuid.uuid4().hex
        self.streams = {kind: StreamBlocks.create() for kind in STREAMS[:1 + bool(cfg.substream)]}
        self.halt = StopSignal()
        self.lock = threading.Lock()  # held while a pull reads the shared memory, and while stop frees it
        self.closed = False
        self.node = self._node()
        self.thread = threading.Thread(target=run_camera, args=(cfg, self.streams, self.halt),
                                       name=f"minelight-{cfg.name}", daemon=True)
        self.thread.start()

    @staticmethod
    def _node() -> dict:
        try:
            return node_of_this_process()
        except Exception:  # noqa: BLE001 - not in a Ray worker (a plain object in a test): this machine
            return {"id": "", "address": "", "host": socket.gethostname()}

    def _news(self, request: dict) -> bool:
        for kind, blocks in self.streams.items():
            asked = request.get(kind, {})
            if blocks.live.head() > asked.get("after", 0):
                return True
            for view in ("enhanced", "original"):
                if getattr(blocks, view).sequence() > asked.get(view, 0):
                    return True
        return False

    def pull(self, request: dict, wait_s: float = 0.2) -> dict:
        """Apply the gateway's wants and hand over what is new, waiting up to ``wait_s`` seconds for news.

        ``request``: per stream (``"main"``, ``"sub"``) ``{"after": last packet number had, "enhanced": last
        JPEG sequence had, "original": ..., "wants": {field: time on this actor's clock}}``. Returns
        ``{"epoch", "now" (this clock), "node", "pid", "streams": {kind: {"stats": counters (list),
        "packets": [...], "after", "lost", "enhanced": (seq, decode time, JPEG) or None, "original": ...}}}``.
        """
        with self.lock:
            for kind, asked in request.items():
                blocks = None if self.closed else self.streams.get(kind)
                for key, value in asked.get("wants", {}).items() if blocks is not None else ():
                    if key in GATEWAY_FIELDS and value > blocks.stats[key]:
                        blocks.stats[key] = value
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline and self.thread.is_alive():
            with self.lock:
                if self.closed or self._news(request):
                    break
            time.sleep(PULL_POLL_S)
        with self.lock:
            streams = {} if self.closed else {kind: self._stream_news(blocks, request.get(kind, {}))
                                              for kind, blocks in self.streams.items()}
        return {"epoch": self.epoch, "now": time.monotonic(), "node": self.node, "pid": os.getpid(),
                "streams": streams}

    @staticmethod
    def _stream_news(blocks: StreamBlocks, asked: dict) -> dict:
        packets, after, lost = new_packets(blocks.live, asked.get("after", 0))
        if lost:
            blocks.stats["keyframe_wanted_at"] = time.monotonic()  # the viewers need one soon
        out = {"stats": blocks.stats.values.tolist(), "packets": packets, "after": after, "lost": lost}
        for view in ("enhanced", "original"):
            slot = getattr(blocks, view)
            out[view] = slot.read() if slot.sequence() > asked.get(view, 0) else None
        return out

    def stop(self, timeout: float = 3.0) -> bool:
        """Stop the camera and free its shared memory; True if its loop ended within ``timeout`` s."""
        self.halt.set()
        self.thread.join(timeout)
        stopped = not self.thread.is_alive()
        if stopped:
            with self.lock:
                self.closed = True
                for blocks in self.streams.values():
                    blocks.close()
        return stopped
