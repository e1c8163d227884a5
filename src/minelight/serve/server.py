"""Run the gateway: bind the port, start the camera processes, serve HTTP until SIGTERM / Ctrl-C.

    minelight serve --config cameras.toml
    minelight serve --source rtsp://cam1/stream --source demo.mp4 --port 8080
"""

from __future__ import annotations

import logging
import signal
import socket
import sys

from .config import ConfigError, ServeConfig

log = logging.getLogger("minelight.serve")


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (port 0: any free one); one-line ConfigError if it fails."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        family, _, _, _, address = infos[0]
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as err:
        raise ConfigError(f"server: cannot listen on {host}:{port} ({err.strerror or err})") from None
    sock.setblocking(False)
    return sock


def serve(cfg: ServeConfig, announce=print) -> int:
    """Serve until stopped; returns the exit code (0 after a clean stop)."""
    import uvicorn

    from .app import build_app
    from .gateway import Gateway

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr)
    sock = bind(cfg.server.host, cfg.server.port)
    host, port = sock.getsockname()[:2]
    gateway = Gateway(cfg)
    # uvicorn handles SIGTERM / SIGINT while it runs and raises them again when it is done: these no-op
    # handlers take that second delivery, so the camera processes are still stopped below and we exit 0.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: None)
    try:
        gateway.start()
        server = uvicorn.Server(uvicorn.Config(build_app(gateway, cfg.server.tokens), log_level="warning",
                                               lifespan="off", timeout_graceful_shutdown=1, access_log=False))
        gateway.stopping = lambda: server.should_exit
        shown = f"[{host}]" if ":" in host else host
        announce(f"minelight serve: {len(gateway.cameras)} camera(s) on http://{shown}:{port}/")
        sys.stdout.flush()
        server.run(sockets=[sock])
    finally:
        gateway.close()
        sock.close()
        log.info("stopped")
    return 0
