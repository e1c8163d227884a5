"""The cluster path's planning, without a cluster (these run without Ray installed)."""

from __future__ import annotations

import builtins

import pytest
from typer.testing import CliRunner

from minelight.cli import app
from minelight.cluster.batch import _slots, leftovers, plan_videos, recipe_for
from minelight.cluster.local import running_cluster

runner = CliRunner()


def test_videos_are_named_as_on_one_machine(tmp_path):
    clip = tmp_path / "a.mp4"
    assert plan_videos([clip], tmp_path / "out.mkv", single=True) == [(clip, tmp_path / "out.mkv")]
    assert plan_videos([clip], tmp_path / "out", single=True) == [(clip, tmp_path / "out" / "a.mp4")]
    assert plan_videos([clip, tmp_path / "b.mkv"], tmp_path / "o", single=False)[1] == (tmp_path / "b.mkv",
                                                                                        tmp_path / "o" / "b.mkv")
    with pytest.raises(ValueError, match="video file"):
        plan_videos([clip], tmp_path / "out.png", single=True)


def test_leftovers_are_the_temporary_files_of_the_planned_outputs_only(tmp_path):
    for name in (".im0.png.k3j_x9a2.part", ".clip.partial.mp4", ".other.png.abcdefgh.part", "im0.png", ".im0.png"):
        (tmp_path / name).write_bytes(b"x")
    found = leftovers([tmp_path / "im0.png", tmp_path / "clip.mp4", tmp_path / "missing" / "x.png"])
    assert sorted(p.name for p in found) == [".clip.partial.mp4", ".im0.png.k3j_x9a2.part"]


def test_workers_spread_round_robin_over_the_nodes_one_per_cpu():
    nodes = [{"NodeID": "a", "Resources": {"CPU": 1.0}}, {"NodeID": "b", "Resources": {"CPU": 3.0}},
             {"NodeID": "c", "Resources": {}}]
    assert _slots(nodes, 10) == ["a", "b", "b", "b"]
    assert _slots(nodes, 2) == ["a", "b"]


def test_videos_take_their_own_recipe_as_on_one_machine():
    recipe = dict(method="fast", tile=512, exposure=True, halo=None)
    assert recipe_for(recipe, "image") == recipe
    assert recipe_for(recipe, "video") == dict(method="fast", halo=None)


def test_auto_finds_ray_address_then_the_last_ray_start(tmp_path, monkeypatch):
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    monkeypatch.setenv("RAY_TMPDIR", str(tmp_path))
    assert running_cluster() is None
    (tmp_path / "ray").mkdir()
    (tmp_path / "ray" / "ray_current_cluster").write_text("10.0.0.5:6379\n")
    assert running_cluster() == "10.0.0.5:6379"
    monkeypatch.setenv("RAY_ADDRESS", "10.0.0.6:6379")
    assert running_cluster() == "10.0.0.6:6379"


def test_without_ray_installed_the_option_says_which_extra_to_install(tmp_path, image_folder, monkeypatch):
    real_import = builtins.__import__

    def no_ray(name, *args, **kwargs):
        if name == "ray" or name.startswith("ray."):
            raise ModuleNotFoundError("No module named 'ray'", name="ray")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_ray)
    result = runner.invoke(app, ["enhance", str(image_folder), "-o", str(tmp_path / "out"), "--ray", "auto"])
    assert result.exit_code == 1, result.output
    assert result.output.strip().splitlines()[-1] == 'error: --ray needs Ray, part of the [cluster] extra: pip install -e ".[cluster]"'


@pytest.mark.parametrize("extra, message", [(["--sequence"], "--sequence"), (["--source", "0"], "--source")])
def test_what_cannot_run_on_a_cluster_is_a_one_line_error(tmp_path, image_folder, extra, message):
    result = runner.invoke(app, ["enhance", str(image_folder), "-o", str(tmp_path / "out"), "--ray", "auto", *extra])
    assert result.exit_code == 1 and "Traceback" not in result.output, result.output
    assert result.output.startswith("error:") and message in result.output
