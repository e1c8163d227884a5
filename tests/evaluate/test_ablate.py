import csv

import pytest
from typer.testing import CliRunner

from minelight.evaluate.ablate import variants
from minelight.cli import app

runner = CliRunner()


def test_ablate_teacher_study_end_to_end_on_a_tiny_config(tmp_path, image_folder, pair_folder, teacher_weights):
    from minelight.io import read_image, write_image

    from ..conftest import scene

    real = tmp_path / "real"
    real.mkdir()
    for i in range(2):  # NIQE needs at least 192x96 pixels
        write_image(real / f"r{i}.png", 0.2 * scene(120, 200, seed=20 + i))
    out = tmp_path / "ablate"
    args = ["ablate", "--study", "teacher", "--data", str(image_folder), "--val", str(pair_folder),
            "--unpaired", f"IMGS={real}", "-o", str(out), "--teacher", str(teacher_weights),
            "--steps", "2", "--batch-size", "2", "--crop", "32", "--seeds", "0", "--quiet",
            "--set", "model.widths=8,8,8", "--set", "model.rir_groups=1", "--set", "model.blocks_per_group=1",
            "--set", "distill.levels=1,2", "--set", "exposure_filter=false", "--set", "warmup=1"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(open(out / "results.csv")))
    assert [r["variant"] for r in rows] == ["pretrained Net-T", "random frozen Net-T", "no Net-T"]
    for r in rows:
        assert float(r["psnr"]) > 0 and float(r["IMGS_niqe"]) > 0 and 0 < float(r["IMGS_composite"]) <= 4
    table = (out / "results.md").read_text()
    assert "± " in table and "no Net-T" in table
    with open(out / "no_net_t" / "seed0" / "log.csv") as f:  # no teacher: no distillation term was logged
        assert "attention" not in next(csv.reader(f))
    with open(out / "random_frozen_net_t" / "seed0" / "log.csv") as f:
        assert "attention" in next(csv.reader(f))
    curves, grid = read_image(out / "curves.png"), read_image(out / "examples.jpg")
    assert curves.shape[1] > 300
    assert grid.shape[0] > 2 * 160 and grid.shape[1] > 4 * 100  # 2 images x (input + 3 variants)


def test_every_study_has_variants_and_unknown_is_an_error():
    for study in ("teacher", "loss", "distill", "blocks"):
        assert len(variants(study, "t.safetensors")) >= 3
    with pytest.raises(ValueError):
        variants("magic", "")
