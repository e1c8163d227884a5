"""The cluster side of ``minelight serve --ray``: camera workers, and one hub per node that hands the gateway
what is new from all the cameras of its node in one call.

A :class:`CameraHost` (a Ray actor per camera) runs the camera loop of :mod:`minelight.serve.worker` in a
thread and keeps the camera's streams in shared memory on its node, as a camera process does on the gateway's
machine; :meth:`CameraHost.where` tells the gateway its node and the names of that memory. A
:class:`NodeHub` (a Ray actor per node, pinned there) reads the shared memory of the cameras the gateway
names: in one pull (:meth:`NodeHub.pull`) the H.264 packets written since the gateway last asked, the newest
JPEG frames it has not had, and the counters of every camera, and it passes on when the gateway's clients
last asked for each stream, so a camera encodes, and runs its main stream, only while someone watches.
Times cross between machines as values of the node's clock (``time.monotonic``, seconds); the gateway
converts them with the offset between the clocks (:func:`minelight.serve.fleet.clock_offset`).

Every start of a camera's worker has its own ``epoch``: a gateway that sees a new one knows the camera started
again (on this node or another) with fresh shared memory, and reads it from its first packet.
"""

from __future__ import annotations

import logging
import os
import pickle
import socket
import threading
import time
import uuid

from ..cluster.local import node_of_this_process
from .config import CameraConfig
from .demand import WANTED_FIELDS
from .gateway import STREAMS
from .shared import PacketRing, StreamBlocks, pid_alive, sweep_stale


GATEWAY_FIELDS = WANTED_FIELDS + ("keyframe_wanted_at",)  # counters the gateway's clients write (its clock)
PULL_BYTES = 4 << 20  # packets handed over in one pull at most (bytes; the rest come with the next)
PULL_POLL_S = 0.01  # how often a waiting pull looks for news (seconds)
FORGET_S = 10.0  # a hub lets go of a camera's shared memory when the gateway has not named it this long


def new_packets(ring: PacketRing, after: int, limit: int = PULL_BYTES) -> tuple[list[tuple], int, bool]:
    """The packets of ``ring`` after number ``after`` (at most ``limit`` bytes, at least one): a list of
    ``(data, pts, keyframe, decode time)``, the number of the last one, and whether some were lost (the
    gateway fell so far behind that they were overwritten: it then goes on from the newest packet, and its
    viewers from the next keyframe)."""
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


def this_node() -> dict:
    """The Ray node this process runs on (:func:`~minelight.cluster.local.node_of_this_process`); outside
    a Ray worker (a plain object in a test), this machine with an empty id."""
    try:
        return node_of_this_process()
    except Exception:  # noqa: BLE001 - not in a Ray worker
        return {"id": "", "address": "", "host": socket.gethostname()}


def has_news(streams: dict[str, StreamBlocks], asked: dict) -> bool:
    """Whether any stream has a packet or a JPEG frame the gateway has not had (``asked``: per stream, what it had)."""
    for kind, blocks in streams.items():
        had = asked.get(kind, {})
        if blocks.live.head() > had.get("after", 0):
            return True
        if any(getattr(blocks, view).sequence() > had.get(view, 0) for view in ("enhanced", "original")):
            return True
    return False


def apply_wants(streams: dict[str, StreamBlocks], asked: dict) -> None:
    """Write when the gateway's clients last asked for each stream (this clock) into its counters."""
    for kind, blocks in streams.items():
        for key, value in asked.get(kind, {}).get("wants", {}).items():
            if key in GATEWAY_FIELDS and value > blocks.stats[key]:
                blocks.stats[key] = value


def stream_news(blocks: StreamBlocks, had: dict) -> dict:
    """What is new in one stream since ``had`` (``{"after", "enhanced", "original"}``): ``{"stats": counters
    (list), "packets": [...], "after", "lost", "enhanced": (seq, decode time, JPEG) or None, "original": ...}``."""
    packets, after, lost = new_packets(blocks.live, had.get("after", 0))
    if lost:
        blocks.stats["keyframe_wanted_at"] = time.monotonic()  # the viewers need one soon
    out = {"stats": blocks.stats.values.tolist(), "packets": packets, "after": after, "lost": lost}
    for view in ("enhanced", "original"):
        slot = getattr(blocks, view)
        out[view] = slot.read() if slot.sequence() > had.get(view, 0) else None
    return out


class CameraHost:
    """One camera's worker (the class Ray runs as an actor; usable as a plain object)."""

    def __init__(self, cfg: CameraConfig):
        from .worker import StopSignal, run_camera

        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
        sweep_stale()  # shared memory that a killed camera worker left on this node
        self.cfg = cfg
        self.epoch = uuid.uuid4().hex
        self.streams = {kind: StreamBlocks.create() for kind in STREAMS[:1 + bool(cfg.substream)]}
        self.halt = StopSignal()
        self.node = this_node()
        self.thread = threading.Thread(target=run_camera, args=(cfg, self.streams, self.halt),
                                       name=f"minelight-{cfg.name}", daemon=True)
        self.thread.start()

    def where(self) -> dict:
        """``{"epoch", "node", "pid", "blocks"}``: this start, its node, its process and its shared memory
        (the pickled :class:`StreamBlocks` by stream, for the node's hub to open)."""
        return {"epoch": self.epoch, "node": self.node, "pid": os.getpid(), "blocks": pickle.dumps(self.streams)}

    def stop(self, timeout: float = 3.0) -> bool:
        """Stop the camera and free its shared memory; True if its loop ended within ``timeout`` s."""
        self.halt.set()
        self.thread.join(timeout)
        stopped = not self.thread.is_alive()
        if stopped:
            for blocks in self.streams.values():
                blocks.close()
        return stopped


class NodeHub:
    """The cameras of one node, read for the gateway in one call (the class Ray runs as an actor pinned to
    its node; usable as a plain object)."""

    def __init__(self):
        self.node = this_node()
        self.lock = threading.Lock()  # guards the open shared memory (pulls may overlap)
        self.opened: dict[str, tuple[str, dict[str, StreamBlocks], float]] = {}  # camera -> (epoch, blocks, named at)

    def _open(self, name: str, asked: dict, now: float) -> dict[str, StreamBlocks] | str:
        """The camera's shared memory, or why it cannot be read (its worker is gone)."""
        alive = pid_alive(asked["pid"])
        with self.lock:
            held = self.opened.get(name)
            if held is not None and held[0] == asked["epoch"] and alive:
                self.opened[name] = (held[0], held[1], now)
                return held[1]
            if held is not None:
                for old in held[1].values():
                    old.close()
                del self.opened[name]
            if not alive:
                return "its worker exited"
            try:
                blocks = pickle.loads(asked["blocks"])
            except (OSError, ValueError) as err:
                return f"its shared memory is gone ({err})"
            if asked["pid"] != os.getpid():
                for b in blocks.values():
                    b.untrack()
            self.opened[name] = (asked["epoch"], blocks, now)
            return blocks

    def _forget(self, now: float) -> None:
        with self.lock:
            for name, (_, blocks, named_at) in list(self.opened.items()):
                if now - named_at > FORGET_S:
                    for b in blocks.values():
                        b.close()
                    del self.opened[name]

    def pull(self, requests: dict, wait_s: float = 1.0) -> dict:
        """Pass on the gateway's wants and hand over what is new, waiting up to ``wait_s`` seconds for news.

        ``requests``: per camera ``{"epoch", "pid", "blocks"}`` (from :meth:`CameraHost.where`) and per
        stream (``"main"``, ``"sub"``) ``{"after": last packet number had, "enhanced": last JPEG sequence had,
        "original": ..., "wants": {field: time on this clock}}``. Returns ``{"now" (this clock), "waited" (s
        since the call came), "node", "cameras": {name: {"epoch", "streams": {kind: stream_news(...)}} or
        {"gone": why}}}``."""
        now = time.monotonic()
        cameras, gone = {}, {}
        for name, asked in requests.items():
            got = self._open(name, asked, now)
            if isinstance(got, str):
                gone[name] = {"gone": got}
            else:
                cameras[name] = got
                apply_wants(got, asked)
        self._forget(now)
        deadline = now + wait_s
        while cameras and time.monotonic() < deadline:
            if any(has_news(streams, requests[name]) for name, streams in cameras.items()):
                break
            time.sleep(PULL_POLL_S)
        out = dict(gone)
        for name, streams in cameras.items():
            out[name] = {"epoch": requests[name]["epoch"],
                         "streams": {kind: stream_news(blocks, requests[name].get(kind, {}))
                                     for kind, blocks in streams.items()}}
        done = time.monotonic()
        return {"now": done, "waited": done - now, "node": self.node, "cameras": out}

    def close(self) -> None:
        """Let go of every camera's shared memory."""
        with self.lock:
            for _, blocks, _ in self.opened.values():
                for b in blocks.values():
                    b.close()
            self.opened.clear()
