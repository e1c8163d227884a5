import numpy as np

from minelight.evaluate.ablate_figures import plot_curves, read_log
from minelight.io import read_image


def _log(folder, values):
    folder.mkdir(parents=True)
    lines = ["step,loss,charbonnier,val_psnr"] + [f"{20 * (i + 1)},{v},{v / 2}," for i, v in enumerate(values)]
    (folder / "log.csv").write_text("\n".join(lines) + "\n")


def test_read_log_turns_empty_cells_into_nan(tmp_path):
    _log(tmp_path / "a", [0.5, 0.25])
    log = read_log(tmp_path / "a" / "log.csv")
    assert log["step"].tolist() == [20, 40] and log["charbonnier"].tolist() == [0.25, 0.125]
    assert np.isnan(log["val_psnr"]).all()


def test_plot_curves_tolerates_missing_runs_and_different_lengths(tmp_path):
    _log(tmp_path / "a0", [0.5, 0.4, 0.3])
    _log(tmp_path / "a1", [0.6, 0.5])
    out = plot_curves({"A": [tmp_path / "a0", tmp_path / "a1"], "B": [tmp_path / "missing"]}, tmp_path / "c.png")
    assert read_image(out).shape[2] == 3
