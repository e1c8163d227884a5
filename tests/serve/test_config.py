import os

import pytest
from typer.testing import CliRunner

from minelight.cli import app
from minelight.serve.config import (CAMERA_MIB, ConfigError, allowed_host_names, capacity, check_capacity,
                                    config_from_dict, load_config, name_from_source, quick_config, summary)

from .helpers import write_clip


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    """Two tiny video files: roadway.mp4 and a.mp4."""
    folder = tmp_path_factory.mktemp("clips")
    return {name: str(write_clip(folder / name, frames=2, size=(32, 48))) for name in ("roadway.mp4", "a.mp4")}


def _cam(**kw):
    return {"name": "c1", "source": "rtsp://10.0.0.1/s", **kw}


def test_a_full_config_is_read(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[server]\nhost = "0.0.0.0"\nport = 9000\ntokens = ["x"]\n\n[[cameras]]\nname = "a"\n'
                    'source = "rtsp://u:p@h/s"\ntransport = "udp"\nmethod = "clahe"\nfps = 10\nwidth = 640\n'
                    'height = 360\npublish = "rtsp://127.0.0.1:8554/a"\n')
    cfg = load_config(path)
    assert (cfg.server.host, cfg.server.port, cfg.server.tokens) == ("0.0.0.0", 9000, ("x",))
    cam = cfg.cameras[0]
    assert (cam.transport, cam.method, cam.fps, cam.width, cam.height) == ("udp", "clahe", 10.0, 640, 360)
    assert cfg.server.host == "0.0.0.0" and config_from_dict({"cameras": [_cam()]}).server.host == "127.0.0.1"


@pytest.mark.parametrize("data, field", [
    ({"cameras": [_cam(method="magic")]}, "cameras[0].method"),
    ({"cameras": [_cam(fps=-1)]}, "cameras[0].fps"),
    ({"cameras": [_cam(fps="fast")]}, "cameras[0].fps"),
    ({"cameras": [_cam(transport="sctp")]}, "cameras[0].transport"),
    ({"cameras": [_cam(width=640)]}, "cameras[0].width"),
    ({"cameras": [_cam(publish="http://x/y")]}, "cameras[0].publish"),
    ({"cameras": [_cam(brightness=0)]}, "cameras[0].brightness"),
    ({"cameras": [_cam(halo=1.5)]}, "cameras[0].halo"),
    ({"cameras": [_cam(halo="on")]}, "cameras[0].halo"),
    ({"cameras": [_cam(halo=-1)]}, "cameras[0].halo"),
    ({"cameras": [_cam(chroma=-1)]}, "cameras[0].chroma"),
    ({"cameras": [_cam(chroma=2.5)]}, "cameras[0].chroma"),
    ({"cameras": [_cam(denoise="yes")]}, "cameras[0].denoise"),
    ({"cameras": [_cam(denoise=1)]}, "cameras[0].denoise"),
    ({"cameras": [_cam(colour="red")]}, "cameras[0].colour"),
    ({"cameras": [{"name": "x"}]}, "cameras[0].source"),
    ({"cameras": [_cam(name="../etc")]}, "cameras[0].name"),
    ({"cameras": [_cam(), _cam()]}, "cameras[1].name"),
    ({"cameras": []}, "cameras"),
    ({"server": {"port": 70000}, "cameras": [_cam()]}, "server.port"),
    ({"server": {"tokens": "abc"}, "cameras": [_cam()]}, "server.tokens"),
    ({"camera": [_cam()]}, "camera"),
    ({"cameras": [_cam(substream="rtsp://10.0.0.1/sub", main="sometimes")]}, "cameras[0].main"),
    ({"cameras": [_cam(main="always")]}, "cameras[0].main"),
    ({"cameras": [_cam(idle_fps=2, publish="rtsp://127.0.0.1:8554/x")]}, "cameras[0].idle_fps"),
    ({"cameras": [_cam(idle_fps=0.01)]}, "cameras[0].idle_fps"),
    ({"cameras": [_cam(substream="rtsp://10.0.0.1/sub", idle_fps=0)]}, "cameras[0].idle_fps"),
    ({"cameras": [_cam(substream=" ")]}, "cameras[0].substream"),
    ({"cameras": [_cam(substream=5)]}, "cameras[0].substream"),
    ({"cameras": [_cam(substream="/no/such/sub.mp4")]}, "cameras[0].substream"),
])
def test_each_bad_field_is_named(data, field):
    with pytest.raises(ConfigError) as err:
        config_from_dict(data)
    assert str(err.value).startswith(field + ":") and "\n" not in str(err.value)


def test_quick_start_names_cameras_from_sources(clips):
    cfg = quick_config([clips["roadway.mp4"], "rtsp://h/live/main", "rtsp://h/live/main", "0"], "127.0.0.1", 0, [])
    assert [c.name for c in cfg.cameras] == ["roadway", "main", "cam3", "0"]
    assert name_from_source("rtsp://h/", 2, set()) == "cam2"


def test_quick_start_passes_the_colour_noise_radius_and_checks_it(clips):
    a = clips["a.mp4"]
    assert [c.chroma for c in quick_config([a, a], "127.0.0.1", 0, [], chroma=0).cameras] == [0, 0]
    assert quick_config([a], "127.0.0.1", 0, []).cameras[0].chroma is None  # the method's default
    with pytest.raises(ConfigError, match=r"--source\[1\]\.chroma"):
        quick_config([a], "127.0.0.1", 0, [], chroma=-1)


runner = CliRunner()


@pytest.mark.parametrize("text, expected", [
    ("[[cameras]]\nname = 'a'\nsource = 'x.mp4'\nmethod = 'nope'\n", "cameras[0].method"),
    ("this is not toml", "not valid TOML"),
    ("[server]\nport = 1\n", "cameras: none configured"),
])
def test_bad_config_is_one_line_before_anything_starts(tmp_path, text, expected):
    path = tmp_path / "c.toml"
    path.write_text(text)
    result = runner.invoke(app, ["serve", "--config", str(path)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and expected in lines[0]


def test_serve_needs_config_or_source_and_check_validates(tmp_path, clips):
    result = runner.invoke(app, ["serve"])
    assert result.exit_code == 1 and "--config" in result.output
    result = runner.invoke(app, ["serve", "--source", clips["a.mp4"], "--check"])
    assert result.exit_code == 0 and "1 camera(s), valid" in result.output
    assert "of this machine's" in result.output and "room for about" in result.output  # what the machine holds
    assert "no such file" in runner.invoke(app, ["serve", "--config", str(tmp_path / "none.toml")]).output


def test_cameras_for_a_cluster_are_not_held_to_this_machines_memory():
    many = {"cameras": [_rtsp(i) for i in range(1000)]}
    assert len(config_from_dict(many, here=False).cameras) == 1000


def test_a_port_in_use_is_one_line(tmp_path, clips):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        result = runner.invoke(app, ["serve", "--source", clips["a.mp4"], "--port", str(port)])
    assert result.exit_code == 1 and f"cannot listen on 127.0.0.1:{port}" in result.output


def _rtsp(i):
    return {"name": f"c{i}", "source": f"rtsp://10.0.0.{i % 250 + 1}/s"}


@pytest.mark.parametrize("data, field, words", [
    ({"cameras": [_cam(width=100000, height=100000)]}, "cameras[0].width", "0-8192"),
    ({"cameras": [_cam(threads=100000)]}, "cameras[0].threads", "CPUs"),
    ({"cameras": [_cam(fps=float("nan"))]}, "cameras[0].fps", "finite"),
    ({"cameras": [_cam(fps=float("inf"))]}, "cameras[0].fps", "finite"),
    ({"cameras": [_cam(timeout=float("inf"))]}, "cameras[0].timeout", "finite"),
    ({"cameras": [_cam(timeout=1e9)]}, "cameras[0].timeout", "0.1-3600"),
    ({"cameras": [_cam(brightness=float("nan"))]}, "cameras[0].brightness", "finite"),
    ({"cameras": [_cam(source="/no/such/clip.mp4")]}, "cameras[0].source", "no such file"),
    ({"cameras": [_cam(source="/etc/passwd")]}, "cameras[0].source", "cannot open video"),
    ({"server": {"tokens": [" "]}, "cameras": [_cam()]}, "server.tokens[0]", "blank"),
    ({"server": {"tokens": ["ok-token", ""]}, "cameras": [_cam()]}, "server.tokens[1]", "blank"),
    ({"server": {"allowed_hosts": ["http://cams:80"]}, "cameras": [_cam()]}, "server.allowed_hosts[0]", "host name"),
    ({"server": {"max_connections": 10 ** 9}, "cameras": [_cam()]}, "server.max_connections", "may open"),
    ({"server": {"header_timeout": 0}, "cameras": [_cam()]}, "server.header_timeout", "1-300"),
    ({"cameras": [_rtsp(i) for i in range(1000)]}, "cameras", "room for about"),
    ({"cameras": [_cam(cpus=-1)]}, "cameras[0].cpus", "0-1024"),
    ({"cameras": [_cam(gpus=float("nan"))]}, "cameras[0].gpus", "finite"),
])
def test_values_that_cannot_work_are_refused(data, field, words):
    with pytest.raises(ConfigError) as err:
        config_from_dict(data)
    assert str(err.value).startswith(field + ":") and words in str(err.value) and "\n" not in str(err.value)


def test_the_memory_check_counts_about_320_mib_a_camera():
    gib = 1 << 30
    assert capacity(24 * gib) == (24 * 1024 - 300) // CAMERA_MIB  # about 75 on a 24 GiB machine
    check_capacity(capacity(24 * gib), 24 * gib)
    with pytest.raises(ConfigError, match=r"1000 cameras need about 312\.8 GiB .* this machine has 24\.0 GiB: room for about 75"):
        check_capacity(1000, 24 * gib)
    cfg = config_from_dict({"cameras": [_cam()]})
    assert summary(cfg, 24 * gib).endswith("of this machine's 24.0 GiB (room for about 75 cameras)")


def test_a_thousand_cameras_are_refused_by_check_in_one_line(tmp_path):
    tables = "".join(f'[[cameras]]\nname = "c{i}"\nsource = "rtsp://10.0.{i // 250}.{i % 250 + 1}/s"\n\n'
                     for i in range(1000))
    path = tmp_path / "many.toml"
    path.write_text(tables)
    result = runner.invoke(app, ["serve", "--config", str(path), "--check"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "1000 cameras need about" in lines[0] and "this machine has" in lines[0]


def test_a_byte_order_mark_is_accepted_and_other_encodings_are_named(tmp_path):
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + b'[[cameras]]\nname = "a"\nsource = "rtsp://10.0.0.1/s"\n')
    assert load_config(path).cameras[0].name == "a"
    path.write_bytes('[[cameras]]\nname = "a"\nsource = "rtsp://10.0.0.1/s"\n'.encode("utf-16"))
    with pytest.raises(ConfigError, match="not UTF-8 text"):
        load_config(path)


def test_allowed_hosts_are_localhost_the_listen_name_and_the_configured_ones():
    cfg = config_from_dict({"server": {"host": "0.0.0.0", "allowed_hosts": ["Cams.Mine.Local."]}, "cameras": [_cam()]})
    assert allowed_host_names(cfg.server) == {"localhost", "127.0.0.1", "::1", "cams.mine.local"}
    cfg = config_from_dict({"server": {"host": "gw.mine.local"}, "cameras": [_cam()]})
    assert "gw.mine.local" in allowed_host_names(cfg.server)
    assert os.cpu_count() >= 1


def test_each_camera_carries_its_serve_recipe_resolved_at_load():
    from minelight.enhance.recipes import resolve
    from minelight.serve.config import CameraConfig

    assert CameraConfig("a", "x", method="fast").recipe == resolve("fast", "serve")
    assert CameraConfig("a", "x", method="student", chroma=0, halo=0.2).recipe == resolve("student", "serve",
                                                                                         chroma=0, halo=0.2)
    assert CameraConfig("a", "x", method="fast").recipe.denoise  # the fast model denoises by default
    assert not CameraConfig("a", "x", method="fast", denoise=False).recipe.denoise
    assert CameraConfig("a", "x", method="clahe", denoise=True).recipe.denoise


def test_a_camera_with_a_substream_runs_its_main_stream_on_demand_unless_told_otherwise():
    from minelight.serve.config import stream_configs

    one = config_from_dict({"cameras": [_cam(width=1280, height=720)]}).cameras[0]
    assert not one.substream and one.main_always and list(stream_configs(one)) == ["main"]
    assert one.idle_rate == 0.0  # a camera with one stream: every frame, unless given an idle_fps
    assert config_from_dict({"cameras": [_cam(idle_fps=1)]}).cameras[0].idle_rate == 1.0
    cam = config_from_dict({"cameras": [_cam(substream="rtsp://10.0.0.1/sub", width=1280, height=720,
                                             publish="")]}).cameras[0]
    assert (cam.main, cam.idle_rate, cam.main_always) == ("on-demand", 0.5, False)
    streams = stream_configs(cam)
    assert (streams["main"].source, streams["main"].width, streams["main"].name) == (cam.source, 1280, "c1/main")
    assert (streams["sub"].source, streams["sub"].width, streams["sub"].name) == ("rtsp://10.0.0.1/sub", 0, "c1/sub")
    assert streams["sub"].recipe == cam.recipe
    for extra in ({"main": "always"}, {"publish": "rtsp://127.0.0.1:8554/x"}):
        assert config_from_dict({"cameras": [_cam(substream="rtsp://10.0.0.1/sub", **extra)]}).cameras[0].main_always
