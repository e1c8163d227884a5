import cv2
import numpy as np
import pytest

from minelight.evaluate.ablate_figures import example_grid, plot_curves, read_log
from minelight.io import read_image, write_image

from ..conftest import TINY_STUDENT, scene


def _log(folder, values):
    folder.mkdir(parents=True)
    lines = ["step,loss,charbonnier,val_psnr"] + [f"{20 * (i + 1)},{v},{v / 2}," for i, v in enumerate(values)]
    (folder / "log.csv").write_text("\n".join(lines) + "\n")


def test_read_log_turns_empty_cells_into_nan(tmp_path):
    _log(tmp_path / "a", [0.5, 0.25])
    log = read_log(tmp_path / "a" / "log.csv")
    assert log["step"].tolist() == [20, 40] and log["charbonnier"].tolist() == [0.25, 0.125]
    assert np.isnan(log["val_psnr"]).all()


@pytest.fixture
def kept_figures(monkeypatch):
    """The matplotlib figures that ``plot_curves`` closes, kept open for inspection."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figures = []
    monkeypatch.setattr(plt, "close", lambda fig=None: figures.append(fig))
    yield figures
    monkeypatch.undo()
    for fig in figures:
        plt.close(fig)


def test_plot_curves_one_panel_per_column_with_the_mean_over_seeds_and_its_band(tmp_path, kept_figures):
    _log(tmp_path / "a0", [0.5, 0.4, 0.3])
    _log(tmp_path / "a1", [0.6, 0.5])  # shorter: the mean is over the common steps (20, 40)
    _log(tmp_path / "b0", [0.9, 0.8, 0.7])
    out = plot_curves({"A": [tmp_path / "a0", tmp_path / "a1"], "B": [tmp_path / "b0"], "C": [tmp_path / "missing"]},
                      tmp_path / "c.png")
    (fig,) = kept_figures
    left, right = fig.axes
    assert left.get_title().startswith("charbonnier") and right.get_title().startswith("loss")
    assert left.get_position().x1 <= right.get_position().x0  # side by side, charbonnier first
    for ax, scale in ((left, 0.5), (right, 1.0)):
        lines = {line.get_label(): line for line in ax.get_lines()}
        assert sorted(lines) == ["A", "B"]  # C has no log: no line, and no error
        np.testing.assert_allclose(lines["A"].get_xdata(), [20, 40])
        np.testing.assert_allclose(lines["A"].get_ydata(), np.array([0.55, 0.45]) * scale)
        np.testing.assert_allclose(lines["B"].get_ydata(), np.array([0.9, 0.8, 0.7]) * scale)
        assert len(ax.collections) == 1  # the min-max band of A's two seeds; B has one seed, no band
        band = ax.collections[0].get_paths()[0].vertices  # min (0.5, 0.4) to max (0.6, 0.5), x scaled
        np.testing.assert_allclose([band[:, 0].min(), band[:, 0].max()], [20, 40])
        np.testing.assert_allclose(sorted(set(np.round(band[:, 1] / scale, 6))), [0.4, 0.5, 0.6])
    img = read_image(out)
    assert img.shape == (340, 1000, 3)  # 2 panels of 5 x 3.4 inches at 100 dpi


def test_example_grid_puts_the_input_then_each_variant_in_labelled_columns(tmp_path, student_weights):
    import torch

    from minelight.enhance.enhancer import Enhancer
    from minelight.models import create_model
    from minelight.models.weights import save_weights

    torch.manual_seed(1)
    other = tmp_path / "other.safetensors"  # a second variant: other random weights
    save_weights(other, create_model("student", **TINY_STUDENT), "student")
    images = []
    for i, (h, w) in enumerate([(60, 90), (80, 40)]):
        images.append(tmp_path / f"in{i}.png")
        write_image(images[-1], 0.3 * scene(h, w, seed=i))
    height, gap, label = 40, 4, 22
    out = example_grid({"A": student_weights, "B": other}, images, tmp_path / "grid.jpg", height=height, gap=gap)
    grid = read_image(out)
    widths = [round(90 * height / 60), round(40 * height / 80)]  # 60 and 20 pixels
    row_widths = [3 * cw + 2 * gap for cw in widths]
    assert grid.shape == (2 * (label + height + gap), max(row_widths), 3)
    for r, (path, cw) in enumerate(zip(images, widths)):
        img = read_image(path)
        top = r * (label + height + gap)
        cells = [cv2.resize(img, (cw, height), interpolation=cv2.INTER_AREA)] + [
            cv2.resize(Enhancer("student", w).enhance_array(img), (cw, height), interpolation=cv2.INTER_AREA)
            for w in (student_weights, other)]
        assert np.abs(cells[1] - cells[2]).mean() > 0.02  # the two variants differ, so their order shows
        for k, cell in enumerate(cells):
            x0 = k * (cw + gap)
            got = grid[top + label:top + label + height, x0:x0 + cw]
            assert np.abs(got - cell).mean() < 0.02, (r, k)  # JPEG quality 88
            strip = grid[top:top + label, x0:x0 + cw]
            assert strip.mean() > 0.8 and strip.min() < 0.5  # a white label with dark text
        if row_widths[r] < grid.shape[1]:  # white right of the narrower row (JPEG: near-white)
            assert grid[top:top + label + height, row_widths[r] + 2:].min() > 0.9
