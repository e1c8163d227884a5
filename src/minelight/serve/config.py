"""The gateway's configuration: one TOML file of cameras, validated before anything starts.

    [server]
    host = "127.0.0.1"          # listen address; 0.0.0.0 only when the control-room network needs it
    port = 8080
    tokens = ["a-long-secret"]  # with tokens, every endpoint but /healthz needs one
    allowed_hosts = ["cams.mine.local"]  # host names browsers use besides localhost (IP addresses always work)
    max_connections = 200       # open HTTP connections at most (each MJPEG viewer holds one)
    header_timeout = 10.0       # seconds a client has to send a request's headers

    [[cameras]]
    name = "roadway-3"
    source = "rtsp://user:pass@10.1.2.3:554/stream1"   # rtsp://, http://, a video file (looped), or "0"
    transport = "tcp"           # RTSP: tcp or udp
    method = "fast"             # any `minelight enhance` method
    fps = 25                    # frame-rate cap; 0 = as the camera
    width = 1280                # output size; 0 = as the camera (give both or neither)
    height = 720
    brightness = 1.2            # 1 = as the method makes it; above 1 brighter (0.25-4)
    halo = 0.5                  # halo guard strength 0-1 (0 = off; default: the method's, docs/notes/halos.md)
    chroma = 4                  # colour-noise step radius, px (0 = off; default for fast: chroma from a 320-px view)
    denoise = false             # temporal denoising of the frames (default: the method's; on for fast)
    publish = "rtsp://127.0.0.1:8554/roadway-3-enhanced"   # optional: push H.264 to a media server
    substream = "rtsp://user:pass@10.1.2.3:554/stream2"   # optional: the camera's low-resolution stream
    main = "on-demand"          # with a substream: the main stream runs while wanted ("always": all the time)
    idle_fps = 0.5              # enhanced frames/s while nobody watches (default: 0.5 with a substream, else all)
    cpus = 1.0                  # serve --ray: CPUs its worker reserves on the cluster
    gpus = 0                    # serve --ray: GPUs its worker reserves (fractions share one GPU)

Every error is a :class:`ConfigError` whose one line names the field and the problem. Values are checked
against what can work (finite numbers, sizes up to :data:`MAX_SIDE`, threads up to this machine's CPUs, a
file source that opens as video) and the cameras against this machine's memory (:func:`capacity`).
"""

from __future__ import annotations

import ipaddress
import math
import os
import re
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from urllib.parse import urlsplit

from ..enhance.brightness import check_brightness
from ..enhance.chroma import check_radius
from ..enhance.halo import check_strength
from ..enhance.recipes import Recipe, resolve
from ..video.streams import redact

NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
HOST_PATTERN = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))*")
TRANSPORTS = ("tcp", "udp")
MAIN_MODES = ("on-demand", "always")  # when a camera with a substream runs its main (full-resolution) stream
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})  # the gateway always answers to these
MAX_SIDE = 8192  # output width or height, pixels
MAX_FPS = 1000.0  # frame-rate cap, frames/s
MAX_SECONDS = 3600.0  # timeout and max_backoff, seconds
MAX_RESERVE = 1024.0  # cpus and gpus a camera's worker may reserve on a cluster
DEFAULT_IDLE_FPS = 0.5  # a camera with a substream: its enhanced frames/s while nobody watches
CAMERA_MIB = 320  # memory of one camera process with its model (MiB; 720p, the fast model)
WEB_MIB = 300  # memory of the web process (MiB)


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
    denoise: bool | None = None  # temporal denoising (minelight.enhance.denoise); None = the method's serve default
    jpeg_quality: int = 80  # MJPEG / snapshot quality (1-100)
    threads: int = 1  # enhancement threads of this camera's process (each of its streams)
    substream: str = ""  # the camera's low-resolution stream (same kinds as source); "" = none (one stream)
    main: str = "on-demand"  # with a substream: "on-demand" (main stream runs while wanted) or "always"
    # enhanced frames/s while nobody watches (health, fresh state): None = 0.5 with a substream, every frame without
    idle_fps: float | None = None
    cpus: float = 1.0  # serve --ray: CPUs its worker reserves on the cluster (Ray's num_cpus; ignored without)
    gpus: float = 0.0  # serve --ray: GPUs its worker reserves (Ray's num_gpus; fractions share one GPU)
    # the steps around the network, resolved once from the method's serve recipe and halo / chroma / denoise above
    # (minelight.enhance.recipes); camera processes take it as it is
    recipe: Recipe = field(init=False, repr=False)

    def __post_init__(self):
        self.recipe = resolve(self.method, "serve", halo=self.halo, chroma=self.chroma, denoise=self.denoise)

    @property
    def idle_rate(self) -> float:
        """Frames/s enhanced while nobody watches: ``idle_fps``; unset, 0.5 with a substream and 0 (every frame)
        for a camera with one stream."""
        if self.idle_fps is not None:
            return self.idle_fps
        return DEFAULT_IDLE_FPS if self.substream else 0.0

    @property
    def main_always(self) -> bool:
        """Whether the main stream runs all the time: one stream only, ``main = "always"``, or publishing
        (a media server records the full-resolution stream)."""
        return not self.substream or self.main == "always" or bool(self.publish)


def stream_configs(cam: CameraConfig) -> dict[str, CameraConfig]:
    """The per-stream configs a camera process runs: ``{"main": cam}`` for a camera with one stream; with a
    substream ``{"main": ..., "sub": ...}``, named ``NAME/main`` and ``NAME/sub`` in logs. The substream keeps
    its own size (``width``/``height`` are the main stream's) and publishes nothing."""
    if not cam.substream:
        return {"main": cam}
    return {"main": replace(cam, name=f"{cam.name}/main"),
            "sub": replace(cam, name=f"{cam.name}/sub", source=cam.substream, width=0, height=0, publish="")}


@dataclass
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 8080
    tokens: tuple[str, ...] = ()  # access tokens; empty = no authentication
    allowed_hosts: tuple[str, ...] = ()  # host names it answers to besides localhost and `host` (IPs always)
    max_connections: int = 200  # open HTTP connections at most; more are answered 503 and closed
    header_timeout: float = 10.0  # seconds a connection has to send a request's headers before it is closed


@dataclass
class ServeConfig:
    server: ServerConfig = field(default_factory=ServerConfig)
    cameras: list[CameraConfig] = field(default_factory=list)


def _check_fields(where: str, table: dict, cls) -> dict:
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: expected a table")
    known = {f.name: f for f in fields(cls) if f.init}
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
        if kind == "float" and not math.isfinite(value):
            raise ConfigError(f"{where}.{key}: expected a finite number, got {value!r}")
        if kind == "bool" and not isinstance(value, bool):
            raise ConfigError(f"{where}.{key}: expected true or false, got {value!r}")
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
    cpus = os.cpu_count() or 1
    for key, low, high, note in (("fps", 0, MAX_FPS, ""), ("width", 0, MAX_SIDE, ""), ("height", 0, MAX_SIDE, ""),
                                 ("timeout", 0.1, MAX_SECONDS, ""), ("max_backoff", 0.1, MAX_SECONDS, ""),
                                 ("threads", 1, cpus, f" (this machine has {cpus} CPUs)"),
                                 ("cpus", 0, MAX_RESERVE, ""), ("gpus", 0, MAX_RESERVE, "")):
        if not low <= getattr(cam, key) <= high:
            raise ConfigError(f"{where}.{key}: must be {low:g}-{high:g}{note}, got {getattr(cam, key):g}")
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
    check_substream(where, cam, values)
    check_source(f"{where}.source", cam.source)  # last: it opens a file source
    if cam.substream:
        check_source(f"{where}.substream", cam.substream)
    return cam


def check_substream(where: str, cam: CameraConfig, given: dict) -> None:
    """The substream fields: ``main`` is given only with a substream; ``idle_fps`` is valid, and not given
    for a camera with one stream that publishes (what it publishes is enhanced at full rate)."""
    if "substream" in given and not cam.substream.strip():
        raise ConfigError(f"{where}.substream: empty (leave it out for a camera with one stream)")
    if "main" in given and not cam.substream:
        raise ConfigError(f"{where}.main: only for a camera with a substream (add substream = URL)")
    if cam.main not in MAIN_MODES:
        raise ConfigError(f"{where}.main: {cam.main!r} is not one of {', '.join(MAIN_MODES)}")
    if cam.idle_fps is not None and not 0.1 <= cam.idle_fps <= MAX_FPS:
        raise ConfigError(f"{where}.idle_fps: must be 0.1-{MAX_FPS:g}, got {cam.idle_fps:g}")
    if cam.idle_fps is not None and cam.publish and not cam.substream:
        raise ConfigError(f"{where}.idle_fps: a camera that publishes is enhanced at full rate; leave it out")


def check_source(where: str, source: str) -> None:
    """A file source (not a URL or device index) must exist and open as a video; ConfigError if not."""
    from ..video.streams import VideoReader, is_live_source

    if is_live_source(source):
        return
    try:
        VideoReader(source, timeout_s=5.0).close()
    except ValueError as err:  # VideoError: no such file, not a video, no video track
        raise ConfigError(f"{where}: {str(err).splitlines()[0]}") from None


def _strings(where: str, value) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, (list, tuple)) or not all(isinstance(t, str) for t in value):
        raise ConfigError(f"{where}: expected a list of strings")
    return tuple(value)


def check_tokens(tokens: tuple[str, ...]) -> tuple[str, ...]:
    for i, token in enumerate(tokens):
        if not token.strip() or token != token.strip() or not token.isprintable():
            raise ConfigError(f"server.tokens[{i}]: blank, padded with spaces or holding control characters")
    return tokens


def check_hosts(hosts: tuple[str, ...]) -> tuple[str, ...]:
    """Host names (lower-cased) or IP addresses, as a browser sends them in ``Host`` (no port)."""
    out = []
    for i, host in enumerate(hosts):
        name = host.strip().lower().rstrip(".")
        try:
            ipaddress.ip_address(name)
        except ValueError:
            if not HOST_PATTERN.fullmatch(name):
                raise ConfigError(f"server.allowed_hosts[{i}]: {host!r} is not a host name (no port, no scheme)") \
                    from None
        out.append(name)
    return tuple(out)


def open_files_limit() -> int:
    """How many files (sockets included) this process may hold open."""
    try:
        import resource

        soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    except (ImportError, OSError, ValueError):
        return 1024
    return soft if soft != resource.RLIM_INFINITY else 1 << 20


def server_from_table(table: dict) -> ServerConfig:
    values = _check_fields("server", table, ServerConfig)
    tokens = check_tokens(_strings("server.tokens", values.pop("tokens", ())))
    hosts = check_hosts(_strings("server.allowed_hosts", values.pop("allowed_hosts", ())))
    server = ServerConfig(**values, tokens=tokens, allowed_hosts=hosts)
    if not 0 <= server.port <= 65535:
        raise ConfigError(f"server.port: {server.port} is not a port number (0-65535)")
    if not server.host:
        raise ConfigError("server.host: empty")
    most = max(1, open_files_limit() - 100)  # files the cameras' pipes, logs and libraries hold
    if not 1 <= server.max_connections <= most:
        raise ConfigError(f"server.max_connections: must be 1-{most} (this process may open "
                          f"{open_files_limit()} files), got {server.max_connections}")
    if not 1.0 <= server.header_timeout <= 300.0:
        raise ConfigError(f"server.header_timeout: must be 1-300 s, got {server.header_timeout:g}")
    return server


def allowed_host_names(server: ServerConfig) -> frozenset[str]:
    """The host names the web layer answers to: localhost, the listen address unless it is a wildcard,
    and ``allowed_hosts`` (IP addresses are always answered; see :func:`minelight.serve.app.host_allowed`)."""
    own = {server.host.lower()} - {"0.0.0.0", "::", ""}
    return LOCAL_HOSTS | own | set(server.allowed_hosts)


def machine_memory() -> int:
    """Bytes of memory this machine (or its container's memory limit, if lower) has."""
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    for limit in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            text = Path(limit).read_text().strip()
        except OSError:
            continue
        if text.isdigit():
            total = min(total, int(text))
    return total


def capacity(memory: int) -> int:
    """How many cameras fit in ``memory`` bytes (each about :data:`CAMERA_MIB`, plus the web process)."""
    return max(0, (memory // (1 << 20) - WEB_MIB) // CAMERA_MIB)


def check_capacity(count: int, memory: int) -> None:
    """ConfigError if ``count`` cameras do not fit in ``memory`` bytes."""
    if count > capacity(memory):
        need = (count * CAMERA_MIB + WEB_MIB) / 1024
        raise ConfigError(f"cameras: {count} cameras need about {need:.1f} GiB (about {CAMERA_MIB} MiB each) but "
                          f"this machine has {memory / (1 << 30):.1f} GiB: room for about {capacity(memory)}")


def summary(cfg: ServeConfig, memory: int | None = None) -> str:
    """What ``--check`` says of a valid config: its cameras and what this machine can hold."""
    memory = machine_memory() if memory is None else memory
    count = len(cfg.cameras)
    need = (count * CAMERA_MIB + WEB_MIB) / 1024
    return (f"{count} camera(s), valid; about {need:.1f} GiB of this machine's {memory / (1 << 30):.1f} GiB "
            f"(room for about {capacity(memory)} cameras)")


def check_cameras(cameras: list[CameraConfig], here: bool = True) -> list[CameraConfig]:
    """The cameras, checked: at least one, unique names, and (``here``: they run on this machine, not on a
    cluster) room for them in this machine's memory."""
    if not cameras:
        raise ConfigError("cameras: none configured (add a [[cameras]] table or give --source)")
    seen = set()
    for i, cam in enumerate(cameras):
        if cam.name in seen:
            raise ConfigError(f"cameras[{i}].name: {cam.name!r} is used twice")
        seen.add(cam.name)
    if here:
        check_capacity(len(cameras), machine_memory())
    return cameras


def config_from_dict(data: dict, here: bool = True) -> ServeConfig:
    """A validated :class:`ServeConfig` from parsed TOML (``here``: see :func:`check_cameras`)."""
    unknown = sorted(set(data) - {"server", "cameras"})
    if unknown:
        raise ConfigError(f"{unknown[0]}: unknown section (known: server, cameras)")
    server = server_from_table(data.get("server", {}))
    tables = data.get("cameras", [])
    if not isinstance(tables, list):
        raise ConfigError("cameras: expected [[cameras]] tables")
    cameras = [camera_from_table(f"cameras[{i}]", t) for i, t in enumerate(tables)]
    return ServeConfig(server, check_cameras(cameras, here))


def load_config(path: str | Path, here: bool = True) -> ServeConfig:
    """Read and validate a TOML file (see the module docstring; ``here``: see :func:`check_cameras`)."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib

    path = Path(path)
    try:
        data = tomllib.loads(path.read_bytes().decode("utf-8-sig"))  # a byte-order mark is allowed
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except OSError as err:
        raise ConfigError(f"{path}: cannot read ({err.strerror or err})") from None
    except UnicodeDecodeError as err:
        raise ConfigError(f"{path}: not UTF-8 text (byte {err.start})") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: not valid TOML ({err})") from None
    return config_from_dict(data, here)


def name_from_source(source: str, index: int, taken: set[str]) -> str:
    """A camera name for a quick-start ``--source``: the file or path name when it makes a valid, unused
    name, else ``cam{index}`` (1-based)."""
    tail = Path(urlsplit(source).path if "://" in source else source).stem
    return tail if NAME_PATTERN.fullmatch(tail or "-") and tail not in taken else f"cam{index}"


def quick_config(sources: list[str], host: str, port: int, tokens: list[str], method: str = "fast",
                 chroma: int | None = None, here: bool = True) -> ServeConfig:
    """The config of ``minelight serve --source URL [--source URL ...]`` (``chroma``: every camera's colour-noise
    radius; ``None``: the method's default)."""
    cameras, taken = [], set()
    for i, source in enumerate(sources, 1):
        name = name_from_source(source, i, taken)
        taken.add(name)
        table = {"name": name, "source": source, "method": method} | ({} if chroma is None else {"chroma": chroma})
        cameras.append(camera_from_table(f"--source[{i}]", table))
    return ServeConfig(server_from_table({"host": host, "port": port, "tokens": list(tokens)}),
                       check_cameras(cameras, here))
