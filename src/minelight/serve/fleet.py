"""Cameras on a Ray cluster: ``minelight serve --config cameras.toml --ray auto|ADDRESS``.

Each camera runs in a Ray actor of its own (:class:`~minelight.serve.remote.CameraHost`) that reserves the
camera's ``cpus`` and ``gpus`` and is spread over the cluster's nodes by Ray. When an actor or its node dies,
Ray starts it again on a node that has room (``max_restarts=-1``). The gateway runs once, here: the web
layer reads this machine's shared memory exactly as with camera processes. A :class:`NodeLink` per node
fills it: one pull from the node's hub (:class:`~minelight.serve.remote.NodeHub`) brings what is new from
all the cameras there, and each camera's :class:`Relay` copies its part in and says what its clients want.
A camera whose worker is gone is located again (:meth:`CameraHost.where`, answered once Ray has started it
again) and joins the link of its new node. ``/api/cameras`` and ``/healthz`` say which node holds each camera.

Counters carry on across a restart of a camera's worker (its new counts are added to what the gateway had),
and so does the numbering of its H.264 packets, so viewers keep playing from the next keyframe.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import threading
import time

import numpy as np

from ..cluster.local import ClusterError, alive_nodes, import_ray, pinned_to, ray_connection
from ..errors import first_line
from . import fmp4
from .config import CameraConfig, ServeConfig
from .gateway import Camera, remove_stale_segments
from .remote import GATEWAY_FIELDS, CameraHost, NodeHub
from .shared import CameraStats

log = logging.getLogger("minelight.serve")

PULL_WAIT_S = 1.0  # a pull waits at most this long for news (seconds); a new want sends a pull at once
PULL_EVERY_S = 0.02  # a node is pulled at most this often: each pull brings the news of all its cameras
WANT_POLL_S = 0.1  # how often a link looks for new wants while its pull waits (seconds)
CALL_TIMEOUT_S = 1.5  # a pull unanswered this long after its wait counts as a failure: the cameras show as down
RETRY_S = 0.5  # pause before a camera that could not be located is asked again (seconds)
HUB_START_S = 60.0  # a node's new hub has this long to answer its first pull (it starts a Ray worker process)
COUNTERS = ("frames_in", "frames_out", "dropped", "reconnects", "latency_sum", "jpeg_frames", "live_frames")
_INDEX = {key: i for i, key in enumerate(CameraStats.FIELDS)}


@functools.lru_cache(maxsize=4)
def counting_mask(size: int) -> np.ndarray:
    """Which entries of a :class:`CameraStats` array of ``size`` values are counters (they add up across a
    worker's restarts): :data:`COUNTERS` and the latency histogram. Made once per size (read only)."""
    mask = np.zeros(size, bool)
    mask[[_INDEX[k] for k in COUNTERS]] = True
    mask[len(CameraStats.FIELDS):] = True
    mask.flags.writeable = False
    return mask


def clock_offset(sent: float, received: float, remote_now: float, waited: float = 0.0) -> float:
    """Seconds to add to a time on the remote clock to get it on this one: a call sent at ``sent`` and
    answered at ``received`` (this clock) was answered at ``remote_now`` on the remote clock after
    ``waited`` seconds there; the way there and back are taken to be as long."""
    return (sent + received + waited) / 2 - remote_now


def merge_stats(local: np.ndarray, remote: list[float], base: np.ndarray, offset: float) -> None:
    """Copy a worker's counters ``remote`` into the gateway's ``local`` (in place): the fields the gateway's
    clients write are kept, counters are added to ``base`` (what they were when the worker started), and
    ``updated_at`` is moved onto this clock by ``offset`` seconds."""
    values = np.asarray(remote, np.float64)
    mask = counting_mask(len(values))
    merged = np.where(mask, base + values, values)
    keep = [_INDEX[k] for k in GATEWAY_FIELDS]
    merged[keep] = local[keep]
    merged[_INDEX["updated_at"]] += offset if values[_INDEX["updated_at"]] else 0.0
    local[:] = merged


RESOURCES = (("CPU", "cpus"), ("GPU", "gpus"))  # Ray's resource, and the camera field that reserves it


def node_resources(nodes: list[dict]) -> tuple[dict[str, float], dict[str, float]]:
    """CPUs and GPUs of the alive ``nodes`` (as ``ray.nodes()`` gives them): in all, and of the largest node."""
    have = {res: [n["Resources"].get(res, 0.0) for n in nodes] for res, _ in RESOURCES}
    return {res: sum(v) for res, v in have.items()}, {res: max(v, default=0.0) for res, v in have.items()}


def unplaceable(cameras: list[CameraConfig], nodes: list[dict]) -> str | None:
    """A one-line reason when a camera asks for more CPUs or GPUs than any one alive node has, else None."""
    most = node_resources(nodes)[1]
    for cam in cameras:
        for res, key in RESOURCES:
            need = getattr(cam, key)
            if need > most[res]:
                return (f"camera {cam.name} needs {need:g} {res}s but the largest node of the cluster has "
                        f"{most[res]:g}")
    return None


def fit(cameras: list[CameraConfig], nodes: list[dict]) -> tuple[bool, str]:
    """Whether the cameras fit the cluster's alive ``nodes`` (as ``ray.nodes()`` gives them), and one line
    saying so: the CPUs and GPUs they reserve against the cluster's, and whether they still fit when the
    largest node is lost (its cameras need room on the others)."""
    problem = unplaceable(cameras, nodes)
    if problem:
        return False, problem
    need = {res: sum(getattr(c, key) for c in cameras) for res, key in RESOURCES}
    have, largest = node_resources(nodes)
    text = f"{len(cameras)} camera(s) reserve {need['CPU']:g} CPUs"
    text += f" and {need['GPU']:g} GPUs" if need["GPU"] else ""
    text += f" of the cluster's {have['CPU']:g}" + (f" and {have['GPU']:g}" if need["GPU"] else "")
    text += f" on {len(nodes)} node(s)"
    if any(need[r] > have[r] for r in need):
        return False, text + ": they do not fit (the rest would wait for room)"
    spare = all(need[r] <= have[r] - largest[r] for r in need) and len(nodes) > 1
    return True, text + ("; they still fit when any one node is lost" if spare else
                         "; losing the largest node would leave some without room")


class Relay:
    """Copies one camera's worker into the gateway's shared memory, pull by pull."""

    def __init__(self, cam: Camera):
        self.cam = cam
        self.epoch: str | None = None  # the worker's start being read
        self.offset = 0.0  # seconds from the worker's clock to this one
        self.had: dict[str, dict] = {}
        self.base = {kind: np.zeros_like(b.stats.values) for kind, b in cam.streams.items()}
        self.down_since: float | None = None  # time.monotonic() when pulls began to fail

    def request(self) -> dict:
        """What the gateway has had of each stream, and when its clients last asked (the worker's clock)."""
        out = {}
        for kind, blocks in self.cam.streams.items():
            wants = {} if self.epoch is None else {
                key: blocks.stats[key] - self.offset for key in GATEWAY_FIELDS if blocks.stats[key] > 0}
            out[kind] = dict(self.had.get(kind, {}), wants=wants)
        return out

    def _new_epoch(self, reply: dict, sent: float, received: float) -> None:
        restarted = self.epoch is not None
        self.epoch = reply["epoch"]
        self.offset = clock_offset(sent, received, reply["now"], reply.get("waited", 0.0))
        self.had = {kind: {"after": 0, "enhanced": 0, "original": 0} for kind in self.cam.streams}
        for kind, blocks in self.cam.streams.items():
            values = blocks.stats.values
            self.base[kind] = np.where(counting_mask(len(values)), values, 0.0)
        if restarted:
            self.base["sub" if "sub" in self.base else "main"][_INDEX["reconnects"]] += 1
        node = reply["node"]
        log.info("%s: camera worker %s on node %s (%s)", self.cam.config.name,
                 "started again" if restarted else "started", node["address"], node["id"][:8])

    def apply(self, reply: dict, sent: float, received: float) -> None:
        """Take one pull's answer (sent and received at these times on this clock)."""
        if reply["epoch"] != self.epoch:
            self._new_epoch(reply, sent, received)
        self.cam.node = reply["node"]
        shift = round(self.offset * fmp4.TIMESCALE)
        for kind, got in reply["streams"].items():
            blocks, had = self.cam.streams[kind], self.had[kind]
            for data, pts, keyframe, decoded_at in got["packets"]:
                blocks.live.write(data, pts + shift, keyframe, decoded_at + self.offset)
            had["after"] = got["after"]
            for view in ("enhanced", "original"):
                if got[view] is not None:
                    seq, decoded_at, data = got[view]
                    getattr(blocks, view).write(data, decoded_at + self.offset)
                    had[view] = seq
            merge_stats(blocks.stats.values, got["stats"], self.base[kind], self.offset)
        if self.down_since is not None:
            log.info("%s: camera worker answers again after %.1f s", self.cam.config.name,
                     time.monotonic() - self.down_since)
            self.down_since = None

    def down(self, why: str) -> None:
        """Pulls fail (the worker or its node died, and Ray is starting it again): say so, once."""
        if self.down_since is None:
            self.down_since = time.monotonic()
            log.warning("%s: camera worker unreachable (%s); waiting for the cluster to start it again",
                        self.cam.config.name, why)
            health = self.cam.health.stats
            health.state, health["fps"] = "reconnecting", 0.0
            if "sub" in self.cam.streams:  # its main stream starts again when it is wanted
                main = self.cam.streams["main"].stats
                main["running"], main["fps"], main["live_encoding"] = 0, 0.0, 0
                main.state = "off"

    def wants(self) -> float:
        """When a client last asked for any stream of this camera (this clock)."""
        return max(blocks.stats[key] for blocks in self.cam.streams.values() for key in GATEWAY_FIELDS)


class NodeLink:
    """The gateway's side of one node's hub: one thread pulls the news of every camera placed on that node
    and hands each its part (:meth:`Relay.apply`); cameras whose worker is gone go to ``lost(name, why)``."""

    def __init__(self, node_id: str, hub, lost):
        self.node_id, self.hub, self.lost = node_id, hub, lost
        self.lock = threading.Lock()
        self.members: dict[str, tuple[Relay, dict]] = {}  # camera -> (its relay, CameraHost.where())
        self.changed = threading.Event()  # a camera joined: pull at once
        self.dead = False
        self.answered = False  # the hub has answered a pull (before: it may still be starting)

    def join(self, relay: Relay, where: dict) -> None:
        with self.lock:
            self.members[relay.cam.config.name] = (relay, where)
        self.changed.set()

    def leave(self, name: str) -> None:
        with self.lock:
            self.members.pop(name, None)

    def _requests(self, members: dict) -> dict:
        out = {}
        for name, (relay, where) in members.items():
            out[name] = {"epoch": where["epoch"], "pid": where["pid"], "blocks": where["blocks"], **relay.request()}
        return out

    def _pull(self, ray, closing, members: dict) -> tuple[dict, float] | None:
        """One pull for ``members``; None when closing or when it should be sent again (a camera joined,
        a client asked anew). Raises what Ray raises for a dead hub; TimeoutError when it does not answer."""
        sent = time.monotonic()
        asked = max((relay.wants() for relay, _ in members.values()), default=0.0)
        ref = self.hub.pull.remote(self._requests(members), PULL_WAIT_S)
        while not closing():
            ready, _ = ray.wait([ref], timeout=WANT_POLL_S)
            if ready:
                return ray.get(ready[0]), sent
            limit = CALL_TIMEOUT_S + PULL_WAIT_S if self.answered else HUB_START_S
            if time.monotonic() - sent > limit:
                raise TimeoutError(f"no answer for {limit:g} s")
            if self.changed.is_set() or max((r.wants() for r, _ in members.values()), default=0.0) > asked:
                return None  # tell the node now (a pull changes nothing there but wants: nothing is lost)
        return None

    def run(self, ray, closing) -> None:
        """Pull until ``closing()`` or the hub dies (its cameras then go to ``lost``)."""
        while not closing():
            self.changed.clear()
            with self.lock:
                members = dict(self.members)
            if not members:
                self.changed.wait(WANT_POLL_S)
                continue
            try:
                got = self._pull(ray, closing, members)
            except Exception as err:  # noqa: BLE001 - the node died or hangs: its hub with it
                if closing():
                    return
                self.dead = True
                why = first_line(err) or type(err).__name__
                with self.lock:
                    names, self.members = list(self.members), {}
                for name in names:
                    self.lost(name, f"node {self.node_id[:8]} unreachable: {why}")
                return
            if got is None:
                continue
            reply, sent = got
            received, self.answered = time.monotonic(), True
            for name, news in reply["cameras"].items():
                relay = members[name][0]
                with self.lock:
                    current = self.members.get(name) is members[name]
                if not current:  # it left this node while the pull ran: its news are old
                    continue
                if "gone" in news:
                    self.leave(name)
                    self.lost(name, news["gone"])
                    continue
                relay.apply({"epoch": news["epoch"], "now": reply["now"], "waited": reply["waited"],
                             "node": reply["node"], "streams": news["streams"]}, sent, received)
            pause = sent + PULL_EVERY_S - time.monotonic()
            if pause > 0:
                time.sleep(pause)


class FleetGateway:
    """The gateway of ``serve --ray``: the same interface as :class:`~minelight.serve.gateway.Gateway`
    (``cameras``, ``start``, ``close``, ``stopping``), with each camera in a Ray actor on the cluster at
    ``address`` (``auto``: see :func:`minelight.cluster.local.ray_connection`)."""

    def __init__(self, cfg: ServeConfig, address: str = "auto"):
        self.cfg, self.address = cfg, address
        remove_stale_segments()
        self.cameras = {c.name: Camera.create(c) for c in cfg.cameras}
        self.relays: dict[str, Relay] = {}
        self.actors: dict[str, object] = {}
        self.links: dict[str, NodeLink] = {}
        self.hubs: list = []
        self.threads: list[threading.Thread] = []
        self.pending: dict[str, object] = {}  # camera -> its unanswered where() call
        self.lock = threading.Lock()
        self._stack = contextlib.ExitStack()
        self._closing = False
        self.stopping = lambda: self._closing
        self.ray = None

    def start(self) -> None:
        connection = self._stack.enter_context(ray_connection(self.address))
        ray = self.ray = import_ray()
        nodes = alive_nodes(ray)
        problem = unplaceable(self.cfg.cameras, nodes)
        if problem:
            raise ClusterError(problem)
        fits, line = fit(self.cfg.cameras, nodes)
        (log.info if fits else log.warning)("%s", line)
        host = ray.remote(CameraHost)
        for name, cam in self.cameras.items():
            c = cam.config
            self.actors[name] = host.options(num_cpus=c.cpus, num_gpus=c.gpus, max_restarts=-1, max_task_retries=0,
                                             max_concurrency=2, scheduling_strategy="SPREAD").remote(c)
            self.relays[name] = Relay(cam)
            self.locate(name)
        self._thread(self._locate_loop, "minelight-locate")
        log.info("%d camera(s) on a Ray cluster of %d node(s), %d CPUs (%s)", len(self.cameras), connection.nodes,
                 connection.cpus, connection.address)

    def _thread(self, target, name: str, *args) -> None:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        thread.start()
        self.threads.append(thread)

    def locate(self, name: str, why: str = "") -> None:
        """Ask camera ``name``'s worker where it runs (answered once it runs; ``why``: it was lost)."""
        if why:
            self.relays[name].down(why)
        with self.lock:
            self.pending[name] = self.actors[name].where.remote()

    def _link(self, node_id: str) -> NodeLink:
        """The link to ``node_id``'s hub, made (with the hub, pinned to that node) the first time."""
        link = self.links.get(node_id)
        if link is None or link.dead:
            hub = self.ray.remote(NodeHub).options(num_cpus=0, max_restarts=0, max_concurrency=4,
                                                   scheduling_strategy=pinned_to(node_id)).remote()
            self.hubs.append(hub)
            link = self.links[node_id] = NodeLink(node_id, hub, self.locate)
            self._thread(link.run, f"minelight-node-{node_id[:8]}", self.ray, self.stopping)
        return link

    def _locate_loop(self) -> None:
        """Put each located camera on its node's link; ask again where an answer is an error."""
        ray = self.ray
        while not self._closing:
            with self.lock:
                pending = dict(self.pending)
            if not pending:
                time.sleep(WANT_POLL_S)
                continue
            refs = {ref: name for name, ref in pending.items()}
            ready, _ = ray.wait(list(refs), num_returns=1, timeout=WANT_POLL_S)
            for ref in ready:
                name = refs[ref]
                with self.lock:
                    if self.pending.get(name) is not ref:  # asked again meanwhile: that answer decides
                        continue
                    del self.pending[name]
                try:
                    where = ray.get(ref)
                except Exception as err:  # noqa: BLE001 - its worker died before answering: ask again
                    if self._closing:
                        return
                    self.relays[name].down(first_line(err) or type(err).__name__)
                    time.sleep(RETRY_S)
                    self.locate(name)
                    continue
                for link in self.links.values():
                    link.leave(name)
                self._link(where["node"]["id"]).join(self.relays[name], where)

    def close(self, timeout: float = 3.0) -> None:
        """Stop every camera's worker (``timeout`` s in all before they are killed), disconnect from the
        cluster (stopping it if it was started for this run) and free the shared memory."""
        self._closing = True
        ray = self.ray
        if ray is not None and self.actors:
            stops = [actor.stop.remote() for actor in self.actors.values()]
            try:
                ray.wait(stops, num_returns=len(stops), timeout=timeout)
            except Exception:  # noqa: BLE001 - a node already gone: its actors are killed below
                pass
            for actor in list(self.actors.values()) + self.hubs:
                with contextlib.suppress(Exception):
                    ray.kill(actor, no_restart=True)
        for thread in self.threads:
            thread.join(WANT_POLL_S + 1.0)
        self._stack.close()
        for cam in self.cameras.values():
            for blocks in cam.streams.values():
                blocks.stats.state = "stopped"
                blocks.close()
