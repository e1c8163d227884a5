"""The gateway's configuration: one TOML file of cameras, validated before anything starts.

    [server]
    host = "127.0.0.1"          # listen address; 0.0.0.0 only when the control-room network needs it
    port = 8080
    tokens = ["a-long-secret"]  # with tokens, every endpoint but /healthz needs one

    [[cameras]]
    name = "roadway-3"
    source = "rtsp://user:pass@10.1.2.3:554/stream1"   # rtsp://, http://, a video file (looped), or "0"
    transport = "tcp"           # RTSP: tcp or udp
    method = "fast"             # any `minelight enhance` method
    fps = 25                    # frame-rate cap; 0 = as the camera
    width = 1280                # output size; 0 = as the camera (give both or neither)
    height = 720
    brightness = 1.2            # 1 = as the method makes it; above 1 brighter (0.25-4)
    halo = 0.5                  # halo guard strength 0-1 (0 = off; default: the method's, docs/halos.md)
    chroma = 4                  # colour-noise step radius, px (0 = off; default for fast: chroma from a 320-px view)
    publish = "rtsp://127.0.0.1:8554/roadway-3-enhanced"   # optional: push H.264 to a media server

Every error is a :class:`ConfigError` whose one line names the field and the problem.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from pathlib import Path
from urllib.parse import urlsplit

from ..enhance.brightness import check_brightness
from ..enhance.chroma import check_radius
from ..enhance.halo import check_strength
from ..video.streams import redact

NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
TRANSPORTS = ("tcp", "udp")


class ConfigError(ValueError):
    """A configuration problem; the message starts with the field, e.g. ``cameras[2].fps: ...``."""


@dataclass
class CameraConfig:
    name: str
    source: str  # rtsp://, http(s)://, a video file (played in a loop), or a capture-device index "0"
    transport: str = "tcp"  # RTSP transport: tcp or udp
    method: str = "fast"  # enhancement method (minelight.enhance.enhancer.list_methods())
    fps: float = 0.0  # frame-rate cap (frames/s); 0 = as fast as the camera delivers
    width: int = 0  # output size in pixels; 0 = the camera's
    height: int = 0
    publish: str = ""  # rtsp:// URL of a media server to push the enhanced H.264 stream to; "" = none
    timeout: float = 10.0  # seconds: opening, and silence while reading, before the camera reconnects
    max_backoff: float = 2.0  # seconds: cap of the reconnect back-off (0.5, 1, 2, 2, ...)
    brightness: float = 1.0  # output brightness 0.25-4 (1 = as the method makes it; minelight.enhance.brightness)
    halo: float | None = None  # halo guard strength 0-1 (0 = off); None = the method's default (minelight.enhance.halo)
    chroma: int | None = None  # colour-noise radius in px (0 = off); None = the method's default on video (chroma.py)
    jpeg_quality: int = 80  # MJPEG / snapshot quality (1-100)
    threads: int = 1  # enhancement threads of this camera's process


@dataclass
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 8080
    tokens: tuple[str, ...] = ()  # access tokens; empty = no authentication


@dataclass
class ServeConfig:
    server: ServerConfig = field(default_factory=ServerConfig)
    cameras: list[CameraConfig] = field(default_factory=list)


def _check_fields(where: str, table: dict, cls) -> dict:
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: expected a table")
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(table) - set(known))
    if unknown:
        raise ConfigError(f"{where}.{unknown[0]}: unknown field (known: {', '.join(known)})")
    out = {}
    for key, value in table.items():
        kind = known[key].type.removesuffix(" | None")  # an optional field is given here: its type
        if kind in ("int", "float") and (isinstance(value, bool) or not isinstance(value, (int, float))
                                          or (kind == "int" and not isinstance(value, int))):
            raise ConfigError(f"{where}.{key}: expected {'an integer' if kind == 'int' else 'a number'}, "
                              f"got {value!r}")
        if kind == "str" and not isinstance(value, str):
            raise ConfigError(f"{where}.{key}: expected a string, got {value!r}")
        out[key] = float(value) if kind == "float" else value
    return out


def camera_from_table(where: str, table: dict) -> CameraConfig:
    """One camera from a TOML table, checked field by field."""
    from ..enhance.enhancer import list_methods

    values = _check_fields(where, table, CameraConfig)
    for key in ("name", "source"):
        if key not in values:
            raise ConfigError(f"{where}.{key}: missing")
    cam = CameraConfig(**values)
    if not NAME_PATTERN.fullmatch(cam.name):
        raise ConfigError(f"{where}.name: {cam.name!r} must be 1-64 letters, digits, '_', '-' or '.'")
    if not cam.source.strip():
        raise ConfigError(f"{where}.source: empty")
    if cam.transport not in TRANSPORTS:
        raise ConfigError(f"{where}.transport: {cam.transport!r} is not one of {', '.join(TRANSPORTS)}")
    if cam.method not in list_methods():
        raise ConfigError(f"{where}.method: unknown method {cam.method!r}; choose from {', '.join(list_methods())}")
    for key, low in (("fps", 0), ("width", 0), ("height", 0), ("timeout", 0.1), ("max_backoff", 0.1),
                     ("threads", 1)):
        if getattr(cam, key) < low:
            raise ConfigError(f"{where}.{key}: must be at least {low}, got {getattr(cam, key)}")
    if (cam.width == 0) != (cam.height == 0) or cam.width % 2 or cam.height % 2:
        raise ConfigError(f"{where}.width: give both width and height (even numbers) or neither")
    try:
        check_brightness(cam.brightness)
    except ValueError as err:
        raise ConfigError(f"{where}.brightness: {err}") from None
    if cam.halo is not None:
        try:
            check_strength(cam.halo)
        except ValueError as err:
            raise ConfigError(f"{where}.halo: {err}") from None
    if cam.chroma is not None:
        try:
            check_radius(cam.chroma)
        except ValueError as err:
            raise ConfigError(f"{where}.chroma: {err}") from None
    if not 1 <= cam.jpeg_quality <= 100:
        raise ConfigError(f"{where}.jpeg_quality: must be 1-100, got {cam.jpeg_quality}")
    if cam.publish and not cam.publish.startswith(("rtsp://", "rtsps://")):
        raise ConfigError(f"{where}.publish: {redact(cam.publish)!r} is not an rtsp:// URL")
    return cam


def server_from_table(table: dict) -> ServerConfig:
    values = _check_fields("server", table, ServerConfig)
    tokens = values.pop("tokens", ())
    if isinstance(tokens, str) or not isinstance(tokens, (list, tuple)) or \
            not all(isinstance(t, str) and t for t in tokens):
        raise ConfigError("server.tokens: expected a list of non-empty strings")
    server = ServerConfig(**values, tokens=tuple(tokens))
    if not 0 <= server.port <= 65535:
        raise ConfigError(f"server.port: {server.port} is not a port number (0-65535)")
    if not server.host:
        raise ConfigError("server.host: empty")
    return server


def check_cameras(cameras: list[CameraConfig]) -> list[CameraConfig]:
    if not cameras:
        raise ConfigError("cameras: none configured (add a [[cameras]] table or give --source)")
    seen = set()
    for i, cam in enumerate(cameras):
        if cam.name in seen:
            raise ConfigError(f"cameras[{i}].name: {cam.name!r} is used twice")
        seen.add(cam.name)
    return cameras


def config_from_dict(data: dict) -> ServeConfig:
    """A validated :class:`ServeConfig` from parsed TOML."""
    unknown = sorted(set(data) - {"server", "cameras"})
    if unknown:
        raise ConfigError(f"{unknown[0]}: unknown section (known: server, cameras)")
    server = server_from_table(data.get("server", {}))
    tables = data.get("cameras", [])
    if not isinstance(tables, list):
        raise ConfigError("cameras: expected [[cameras]] tables")
    return ServeConfig(server, check_cameras([camera_from_table(f"cameras[{i}]", t) for i, t in enumerate(tables)]))


def load_config(path: str | Path) -> ServeConfig:
    """Read and validate a TOML file (see the module docstring)."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib

    path = Path(path)
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"{path}: cannot read ({err})") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: not valid TOML ({err})") from None
    return config_from_dict(data)


def name_from_source(source: str, index: int, taken: set[str]) -> str:
    """A camera name for a quick-start ``--source``: the file or path name when it makes a valid, unused
    name, else ``cam{index}`` (1-based)."""
    tail = Path(urlsplit(source).path if "://" in source else source).stem
    return tail if NAME_PATTERN.fullmatch(tail or "-") and tail not in taken else f"cam{index}"


def quick_config(sources: list[str], host: str, port: int, tokens: list[str], method: str = "fast",
                 chroma: int | None = None) -> ServeConfig:
    """The config of ``minelight serve --source URL [--source URL ...]`` (``chroma``: every camera's colour-noise
    radius; ``None``: the method's default)."""
    cameras, taken = [], set()
    for i, source in enumerate(sources, 1):
        name = name_from_source(source, i, taken)
        taken.add(name)
        table = {"name": name, "source": source, "method": method} | ({} if chroma is None else {"chroma": chroma})
        cameras.append(camera_from_table(f"--source[{i}]", table))
    return ServeConfig(server_from_table({"host": host, "port": port, "tokens": list(tokens)}),
                       check_cameras(cameras))
