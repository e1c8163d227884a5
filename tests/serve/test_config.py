import pytest
from typer.testing import CliRunner

from minelight.cli import app
from minelight.serve.config import ConfigError, config_from_dict, load_config, name_from_source, quick_config


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
    ({"cameras": [_cam(colour="red")]}, "cameras[0].colour"),
    ({"cameras": [{"name": "x"}]}, "cameras[0].source"),
    ({"cameras": [_cam(name="../etc")]}, "cameras[0].name"),
    ({"cameras": [_cam(), _cam()]}, "cameras[1].name"),
    ({"cameras": []}, "cameras"),
    ({"server": {"port": 70000}, "cameras": [_cam()]}, "server.port"),
    ({"server": {"tokens": "abc"}, "cameras": [_cam()]}, "server.tokens"),
    ({"camera": [_cam()]}, "camera"),
])
def test_each_bad_field_is_named(data, field):
    with pytest.raises(ConfigError) as err:
        config_from_dict(data)
    assert str(err.value).startswith(field + ":") and "\n" not in str(err.value)


def test_quick_start_names_cameras_from_sources():
    cfg = quick_config(["/v/roadway.mp4", "rtsp://h/live/main", "rtsp://h/live/main", "0"], "127.0.0.1", 0, [])
    assert [c.name for c in cfg.cameras] == ["roadway", "main", "cam3", "0"]
    assert name_from_source("rtsp://h/", 2, set()) == "cam2"


def test_quick_start_passes_the_colour_noise_radius_and_checks_it():
    assert [c.chroma for c in quick_config(["a.mp4", "b.mp4"], "127.0.0.1", 0, [], chroma=0).cameras] == [0, 0]
    assert quick_config(["a.mp4"], "127.0.0.1", 0, []).cameras[0].chroma is None  # the method's default
    with pytest.raises(ConfigError, match=r"--source\[1\]\.chroma"):
        quick_config(["a.mp4"], "127.0.0.1", 0, [], chroma=-1)


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


def test_serve_needs_config_or_source_and_check_validates(tmp_path):
    result = runner.invoke(app, ["serve"])
    assert result.exit_code == 1 and "--config" in result.output
    result = runner.invoke(app, ["serve", "--source", "a.mp4", "--check"])
    assert result.exit_code == 0 and "1 camera(s), valid" in result.output
    assert "no such file" in runner.invoke(app, ["serve", "--config", str(tmp_path / "none.toml")]).output


def test_a_port_in_use_is_one_line(tmp_path):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        result = runner.invoke(app, ["serve", "--source", "a.mp4", "--port", str(port)])
    assert result.exit_code == 1 and f"cannot listen on 127.0.0.1:{port}" in result.output
