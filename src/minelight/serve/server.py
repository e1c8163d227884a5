"""Run the gateway: bind the port, start the camera processes, serve HTTP until SIGTERM / Ctrl-C.

    minelight serve --config cameras.toml
    minelight serve --source rtsp://cam1/stream --source demo.mp4 --port 8080
    minelight serve --config cameras.toml --ray auto      # the cameras on a Ray cluster (serve.fleet)

HTTP is uvicorn's HTTP/1.1 (h11) with two guards it lacks: a request's headers must arrive within
``server.header_timeout`` seconds of the connection opening (or of the previous response), and at most
``server.max_connections`` connections are open at once (more are answered 503 and closed).
"""

from __future__ import annotations

import logging
import signal
import socket
import sys

from .config import ConfigError, ServeConfig, allowed_host_names

log = logging.getLogger("minelight.serve")

MAX_HEAD_BYTES = 16 * 1024  # request line and headers larger than this are refused (400)
UNSENT_BYTES = 16 * 1024  # unsent bytes a connection may hold in the kernel (and as many in asyncio)
KEEP_ALIVE_S = 5  # an idle kept-open connection is closed after this many seconds
WS_MAX_MESSAGE = 4096  # bytes a WebSocket client may send in one message (the live view's clients send none)
_REFUSED_BODY = b"503 Service Unavailable: too many connections\n"
_REFUSED = (b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n"
            b"Content-Length: %d\r\n\r\n%s" % (len(_REFUSED_BODY), _REFUSED_BODY))


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (port 0: any free one); one-line ConfigError if it fails.
    It is made with the TCP protocol number, so asyncio turns Nagle's algorithm off on every accepted
    connection (without it, each response after the first on a kept-open connection waits ~40 ms)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP,
                                   flags=socket.AI_PASSIVE)
        family, kind, proto, _, address = infos[0]
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as err:
        raise ConfigError(f"server: cannot listen on {host}:{port} ({err.strerror or err})") from None
    sock.setblocking(False)
    return sock


def limit_buffers(transport) -> None:
    """Keep at most about :data:`UNSENT_BYTES` unsent per connection in the kernel and as much in asyncio, so
    frames that a stalled MJPEG client cannot take are skipped rather than queued for it (data in flight,
    and so the throughput to a distant client, is not limited)."""
    sock = transport.get_extra_info("socket")
    if sock is not None and hasattr(socket, "TCP_NOTSENT_LOWAT"):
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NOTSENT_LOWAT, UNSENT_BYTES)
        except OSError:
            pass
    transport.set_write_buffer_limits(high=UNSENT_BYTES)


def guarded_protocol(header_timeout: float, max_connections: int) -> type:
    """uvicorn's h11 protocol class with a header deadline (seconds) and a cap on open connections."""
    import h11
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class GuardedH11Protocol(H11Protocol):
        _refused = False
        _header_timer = None

        def connection_made(self, transport) -> None:
            if len(self.connections) >= max_connections:
                self._refused, self.transport = True, transport
                transport.write(_REFUSED)
                transport.close()
                return
            super().connection_made(transport)
            limit_buffers(transport)
            self._arm()

        def data_received(self, data: bytes) -> None:
            if not self._refused:
                super().data_received(data)

        def handle_events(self) -> None:
            super().handle_events()
            if self.conn.their_state is not h11.IDLE:  # the request's headers are in
                self._disarm()

        def on_response_complete(self) -> None:
            if not self.transport.is_closing():
                self._arm()  # the next request's headers are due within header_timeout too
            super().on_response_complete()

        def connection_lost(self, exc) -> None:
            self._disarm()
            if not self._refused:
                super().connection_lost(exc)

        def _arm(self) -> None:
            self._disarm()
            self._header_timer = self.loop.call_later(header_timeout, self._headers_too_slow)

        def _disarm(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None

        def _headers_too_slow(self) -> None:
            self._header_timer = None
            if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
                self.transport.close()

    return GuardedH11Protocol


def serve(cfg: ServeConfig, announce=print, ray: str | None = None) -> int:
    """Serve until stopped; returns the exit code (0 after a clean stop). ``ray``: run the cameras on the
    Ray cluster at this address (``auto``: :func:`minelight.cluster.local.ray_connection`), not as
    processes of this machine."""
    import uvicorn

    from .app import build_app

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr)
    sock = bind(cfg.server.host, cfg.server.port)
    host, port = sock.getsockname()[:2]
    if ray is None:
        from .gateway import Gateway

        gateway = Gateway(cfg)
    else:
        from .fleet import FleetGateway

        gateway = FleetGateway(cfg, ray)
    # uvicorn handles SIGTERM / SIGINT while it runs and raises them again when it is done: these no-op
    # handlers take that second delivery, so the camera processes are still stopped below and we exit 0.
    def ignore_second_delivery() -> None:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: None)

    ignore_second_delivery()
    try:
        gateway.start()
        ignore_second_delivery()  # again: connecting to Ray installs a SIGTERM handler that exits with 15
        app = build_app(gateway, cfg.server.tokens, allowed_host_names(cfg.server))
        protocol = guarded_protocol(cfg.server.header_timeout, cfg.server.max_connections)
        server = uvicorn.Server(uvicorn.Config(app, http=protocol, log_level="warning", lifespan="off",
                                               timeout_graceful_shutdown=1, timeout_keep_alive=KEEP_ALIVE_S,
                                               h11_max_incomplete_event_size=MAX_HEAD_BYTES, access_log=False,
                                               ws="websockets-sansio", ws_max_size=WS_MAX_MESSAGE, ws_ping_interval=10.0,
                                               ws_ping_timeout=10.0, ws_per_message_deflate=False))
        gateway.stopping = lambda: server.should_exit
        shown = f"[{host}]" if ":" in host else host
        where = "" if ray is None else " (workers on the Ray cluster)"
        announce(f"minelight serve: {len(gateway.cameras)} camera(s){where} on http://{shown}:{port}/")
        sys.stdout.flush()
        server.run(sockets=[sock])
    finally:
        gateway.close()
        sock.close()
        log.info("stopped")
    return 0
