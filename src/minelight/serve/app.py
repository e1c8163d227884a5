"""The web layer: a Starlette app that only reads what the camera processes publish.

    GET /                                   the page: all cameras live, one large with original | enhanced
    GET /cameras/NAME/stream.mjpg?view=...  MJPEG (view: enhanced, the default, or original); each part's
                                            X-Decoded-At header: when its source frame was decoded
                                            (time.monotonic of this machine, seconds); the main stream
                                            (``stream=sub``: the substream)
    GET /cameras/NAME/snapshot.jpg?view=... the newest frame as one JPEG (``download=1``: as a file named
                                            after the camera and the time); the main stream's while it runs,
                                            else the substream's (``stream=main``: start the main stream
                                            and wait for its frame; ``stream=sub``: the substream's)
    WS  /cameras/NAME/live                  the enhanced stream as H.264 in fragmented MP4, for Media
                                            Source Extensions (minelight.serve.live); encoded only while
                                            someone watches; the substream if the camera has one
                                            (``stream=main``: the main stream, started while watched)

A camera with a substream runs its main stream only while a client wants it (minelight.serve.demand): the
main stream's MJPEG or live view, or a snapshot that asks for it.
    GET /api/cameras                        each camera's state, FPS, latency and counters (JSON)
    GET /healthz                            each camera's state (JSON; never needs a token)
    GET /metrics                            Prometheus text format

With tokens configured every endpoint but ``/healthz`` needs one: ``Authorization: Bearer TOKEN`` or
``?token=TOKEN`` (for ``<img>`` tags and WebSockets). Camera names are looked up in the config, never used
as paths, and source URLs are shown only with their credentials redacted. A request whose ``Host`` header
names a host the gateway was not configured for is refused (400), so a web page cannot reach it through
DNS rebinding; a WebSocket whose ``Origin`` is another site is refused too (browsers let any page open a
WebSocket anywhere). ``HEAD`` on a stream answers its headers and ends.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import time
from importlib import resources
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from ..video.streams import redact
from .gateway import Camera, Gateway
from .shared import StreamBlocks
from .live import LiveHub
from .metrics import MetricsExporter

BOUNDARY = "minelightframe"
VIEWS = ("enhanced", "original")
POLL_S = 0.004  # how often a stream checks for a newer frame (seconds)
FRESH_S = 1.0  # a snapshot waits (up to ~1 s) for a frame decoded more recently than this (seconds)
MAIN_START_S = 15.0  # a snapshot of the main stream waits this long for it to start (seconds)
STREAM_NAMES = ("main", "sub")


def host_name(header: str) -> str:
    """The host name of a ``Host`` header, lower-case, without port, brackets or a trailing dot."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1:].split("]", 1)[0]
    return header.rsplit(":", 1)[0].rstrip(".") if header.count(":") == 1 else header.rstrip(".")


def host_allowed(header: str, names: frozenset[str]) -> bool:
    """Whether a request for ``header`` (its Host) may be served: one of ``names``, or an IP address (an
    address cannot be rebound to another machine the way a DNS name can)."""
    name = host_name(header)
    if name in names:
        return True
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def origin_allowed(origin: str, hosts: list[str], names: frozenset[str]) -> bool:
    """Whether a WebSocket opened by a page of ``origin`` may be served: the page came from this gateway
    (its host and port are the request's ``Host``) or from one of the host ``names``. Clients that are no
    browser send no ``Origin`` and are let through (tokens still apply)."""
    try:
        netloc = urlsplit(origin.strip()).netloc.lower()
    except ValueError:
        return False
    if not netloc:
        return False  # "null": a file or sandboxed page
    return any(netloc == h.strip().lower() for h in hosts) or host_name(netloc) in names


class HostCheck:
    """ASGI middleware: 400 for a request whose Host is not allowed (:func:`host_allowed`); a WebSocket
    with such a Host or a foreign ``Origin`` (:func:`origin_allowed`) is refused before it opens (403)."""

    def __init__(self, app, names: frozenset[str]):
        self.app, self.names = app, names

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] in ("http", "websocket"):
            hosts = [value.decode("latin-1") for key, value in scope["headers"] if key == b"host"]
            ok = all(host_allowed(h, self.names) for h in hosts)
            if scope["type"] == "websocket":
                origins = [value.decode("latin-1") for key, value in scope["headers"] if key == b"origin"]
                if not ok or not all(origin_allowed(o, hosts, self.names) for o in origins):
                    await send({"type": "websocket.close", "code": 1008})
                    return
            elif not ok:
                response = PlainTextResponse("400 Bad Request: unknown host name (add it to server.allowed_hosts)\n",
                                             status_code=400)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


async def _no_parts():
    return
    yield  # an async generator that yields nothing


def _authorised(request: Request | WebSocket, tokens: tuple[str, ...]) -> bool:
    if not tokens:
        return True
    header = request.headers.get("authorization", "")
    given = header[7:] if header.lower().startswith("bearer ") else request.query_params.get("token", "")
    return any(hmac.compare_digest(given.encode(), t.encode()) for t in tokens)


def stream_status(blocks: StreamBlocks, hub: LiveHub | None = None) -> dict:
    """One stream's figures: its state and ``since`` (ISO 8601, UTC), ``running``, ``idle`` (a substream
    enhancing at its idle rate), FPS, latency, counters, size, and ``live``: its H.264 live view (viewers,
    encoding, frames encoded, bytes sent)."""
    s = blocks.stats.snapshot()
    since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(s["state_since"]))
    return {"state": s["state"], "since": since, "running": bool(s["running"]), "idle": bool(s["idle"]),
            "fps": round(s["fps"], 2), "latency_ms": round(1000 * s["latency"], 1),
            "frames_in": int(s["frames_in"]), "frames_out": int(s["frames_out"]), "dropped": int(s["dropped"]),
            "reconnects": int(s["reconnects"]), "width": int(s["width"]), "height": int(s["height"]),
            "pid": int(s["pid"]), "jpeg_frames": int(s["jpeg_frames"]),
            "live": {"viewers": len(hub.viewers) if hub else 0, "encoding": bool(s["live_encoding"]),
                     "frames": int(s["live_frames"]), "bytes_sent": hub.sent if hub else 0}}


def camera_status(cam: Camera, hubs: dict | None = None) -> dict:
    """What the page and ``/api/cameras`` show of one camera (no credentials): the figures of the stream
    the grid plays (its substream, else its one stream: :attr:`Camera.health`), ``main_running`` and
    ``sub_running``, and ``streams``: each stream's :func:`stream_status`. ``hubs``: the live-view hubs by
    ``(camera, stream)``."""
    hubs = hubs or {}
    name = cam.config.name
    streams = {kind: stream_status(blocks, hubs.get((name, kind))) for kind, blocks in cam.streams.items()}
    top = streams.get("sub", streams["main"])
    out = {"name": name, "source": redact(cam.config.source), "method": cam.config.method,
           **{k: v for k, v in top.items() if k not in ("running", "idle")},
           "main_running": streams["main"]["running"], "sub_running": "sub" in streams and streams["sub"]["running"],
           "streams": streams}
    if cam.config.substream:
        out["substream"] = redact(cam.config.substream)
        out["main"] = cam.config.main
    if cam.node is not None:  # on a Ray cluster: the node that runs it
        out["node"] = cam.node
    return out


def build_app(gateway: Gateway, tokens: tuple[str, ...] = (),
              hosts: frozenset[str] = frozenset({"localhost", "127.0.0.1", "::1"})) -> Starlette:
    """The app over ``gateway``'s cameras; ``hosts``: the host names it answers to (and IP addresses)."""
    hubs = {(name, kind): LiveHub(blocks.live, blocks.stats, lambda: gateway.stopping())
            for name, cam in gateway.cameras.items() for kind, blocks in cam.streams.items()}
    metrics = MetricsExporter(gateway, hubs)
    page = (resources.files("minelight.serve") / "page.html").read_text()

    def guarded(handler):
        async def endpoint(request: Request) -> Response:
            if not _authorised(request, tokens):
                return PlainTextResponse("401 Unauthorized: a valid token is needed\n", status_code=401,
                                         headers={"WWW-Authenticate": "Bearer"})
            return await handler(request)

        return endpoint

    def lookup(request: Request, default: str) -> tuple[Camera | None, str, str, Response | None]:
        """The camera, view and stream (``main``, ``sub``, or ``auto`` where ``default`` allows it) asked
        for, or an error response."""
        cam = gateway.cameras.get(request.path_params["name"])
        view = request.query_params.get("view", "enhanced")
        kind = request.query_params.get("stream", default)
        if cam is None:
            return None, view, kind, PlainTextResponse("404 Not Found: no such camera\n", status_code=404)
        if view not in VIEWS:
            return None, view, kind, PlainTextResponse(f"400 Bad Request: view is one of {', '.join(VIEWS)}\n",
                                                       status_code=400)
        if kind not in STREAM_NAMES and kind != default:
            return None, view, kind, PlainTextResponse(
                f"400 Bad Request: stream is one of {', '.join(STREAM_NAMES)}\n", status_code=400)
        return cam, view, kind, None

    def want(blocks: StreamBlocks, view: str) -> None:
        blocks.stats[f"{view}_wanted_at"] = time.monotonic()  # JPEG frames are encoded while asked for

    async def index(request: Request) -> Response:
        return HTMLResponse(page, headers={"Cache-Control": "no-store"})

    async def cameras(request: Request) -> Response:
        return JSONResponse([camera_status(c, hubs) for c in gateway.cameras.values()])

    async def healthz(request: Request) -> Response:
        states = {name: {"state": c.health.stats.state} | ({} if c.node is None else {"node": c.node["address"]})
                  for name, c in gateway.cameras.items()}
        ok = all(s["state"] == "live" for s in states.values())
        return JSONResponse({"status": "ok" if ok else "degraded", "cameras": states})

    async def metrics_endpoint(request: Request) -> Response:
        body, content_type = metrics.render()
        return Response(body, media_type=content_type)

    async def snapshot(request: Request) -> Response:
        cam, view, kind, error = lookup(request, "auto")
        if error:
            return error
        if kind == "auto":  # the main stream while it runs, else the substream (no start for one picture)
            kind = "main" if cam.streams["main"].stats["running"] else "sub"
        blocks = cam.stream(kind)
        slot = blocks.enhanced if view == "enhanced" else blocks.original
        want(blocks, view)
        got = slot.read()
        starting = kind == "main" and "sub" in cam.streams and not blocks.stats["running"]  # it starts now
        end = time.monotonic() + (MAIN_START_S if starting else FRESH_S)
        while time.monotonic() < end:  # JPEG frames are made on demand: wait for a fresh one
            if got is not None and time.monotonic() - got[1] < FRESH_S:
                break
            await asyncio.sleep(POLL_S)
            want(blocks, view)
            got = slot.read() or got
        if got is None:
            return PlainTextResponse("503 Service Unavailable: no frame yet\n", status_code=503)
        headers = {"Cache-Control": "no-store"}
        if request.query_params.get("download"):
            stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(time.time() - (time.monotonic() - got[1])))
            suffix = "" if view == "enhanced" else "-original"
            headers["Content-Disposition"] = f'attachment; filename="{cam.config.name}-{stamp}{suffix}.jpg"'
        return Response(got[2], media_type="image/jpeg", headers=headers)

    async def stream(request: Request) -> Response:
        cam, view, kind, error = lookup(request, "main")
        if error:
            return error
        blocks = cam.stream(kind)
        slot = blocks.enhanced if view == "enhanced" else blocks.original
        want(blocks, view)
        media_type = f"multipart/x-mixed-replace; boundary={BOUNDARY}"
        if request.method == "HEAD":
            return StreamingResponse(_no_parts(), media_type=media_type, headers={"Cache-Control": "no-store"})

        async def parts():
            last = 0
            while not gateway.stopping():
                want(blocks, view)
                seq = slot.sequence()
                if seq <= 0 or seq == last:
                    await asyncio.sleep(POLL_S)
                    continue
                got = slot.read()
                if got is None:  # the camera is writing this very moment: try again next poll
                    await asyncio.sleep(POLL_S)
                    continue
                last, decoded_at, data = got
                yield (f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(data)}\r\n"
                       f"X-Decoded-At: {decoded_at:.6f}\r\n\r\n".encode() + data + b"\r\n")
                metrics.observe_served(cam.config.name, view, time.monotonic() - decoded_at)

        return StreamingResponse(parts(), media_type=media_type, headers={"Cache-Control": "no-store"})

    async def live(websocket: WebSocket) -> None:
        if not _authorised(websocket, tokens):
            await websocket.close(code=1008)  # before the handshake: the client sees 403
            return
        name = websocket.path_params["name"]
        kind = websocket.query_params.get("stream", "sub")
        if name not in gateway.cameras or kind not in STREAM_NAMES:
            await websocket.close(code=1008)
            return
        if kind not in gateway.cameras[name].streams:
            kind = "main"  # a camera with one stream: that one
        await websocket.accept()
        hub = hubs[(name, kind)]
        viewer = hub.join()

        async def send_all():
            while True:
                message = await viewer.get()
                if isinstance(message, str):
                    await websocket.send_text(message)
                elif not message:  # the hub stopped (the gateway is stopping)
                    return
                else:
                    await websocket.send_bytes(message)
                    hub.sent += len(message)

        async def until_closed():
            try:
                while True:
                    if (await websocket.receive())["type"] == "websocket.disconnect":
                        return
            except (WebSocketDisconnect, RuntimeError):
                return

        tasks = [asyncio.ensure_future(send_all()), asyncio.ensure_future(until_closed())]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            hub.leave(viewer)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if websocket.application_state == WebSocketState.CONNECTED:
                try:
                    await websocket.close()
                except (RuntimeError, OSError, WebSocketDisconnect):
                    pass  # the client went first

    routes = [
        Route("/", guarded(index)),
        Route("/api/cameras", guarded(cameras)),
        Route("/healthz", healthz),
        Route("/metrics", guarded(metrics_endpoint)),
        Route("/cameras/{name}/stream.mjpg", guarded(stream)),
        Route("/cameras/{name}/snapshot.jpg", guarded(snapshot)),
        WebSocketRoute("/cameras/{name}/live", live),
    ]
    return Starlette(routes=routes, middleware=[Middleware(HostCheck, names=hosts)])
