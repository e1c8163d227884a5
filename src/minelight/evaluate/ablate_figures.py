"""Figures of an ablation study: training curves (mean over seeds, min–max band) and a grid of example
outputs (one column per variant). Both are written atomically into the study folder."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np

from ..io import atomic_write_bytes, read_image, write_image


def read_log(path: str | Path) -> dict[str, np.ndarray]:
    """A training ``log.csv`` as ``{column: float array}``; empty cells (e.g. val_psnr) become NaN."""
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    columns = rows[0].keys() if rows else []
    return {c: np.array([float(r[c]) if r[c] else np.nan for r in rows]) for c in columns}


def plot_curves(runs: dict[str, list[Path]], out_path: str | Path,
                columns: tuple[str, ...] = ("charbonnier", "loss")) -> Path:
    """One panel per ``columns`` entry: every variant's value against the step, the mean over its runs
    (``runs`` maps variant name → run folders holding ``log.csv``) with a min–max band."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(columns), figsize=(5 * len(columns), 3.4), dpi=100, squeeze=False)
    for ax, column in zip(axes[0], columns):
        for name, folders in runs.items():
            logs = [read_log(Path(d) / "log.csv") for d in folders if (Path(d) / "log.csv").is_file()]
            logs = [lg for lg in logs if column in lg and len(lg[column])]
            if not logs:
                continue
            n = min(len(lg["step"]) for lg in logs)
            values = np.stack([lg[column][:n] for lg in logs])
            steps = logs[0]["step"][:n]
            ax.plot(steps, values.mean(0), label=name, linewidth=1.4)
            if len(logs) > 1:
                ax.fill_between(steps, values.min(0), values.max(0), alpha=0.2)
        ax.set_xlabel("step")
        ax.set_title(f"{column} (training batches; mean over seeds, band = min–max)", fontsize=9)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    atomic_write_bytes(Path(out_path), buf.getvalue())
    return Path(out_path)


def _label(text: str, width: int, height: int = 22) -> np.ndarray:
    import cv2

    strip = np.full((height, width, 3), 255, np.uint8)  # putText draws on 8-bit images only
    cv2.putText(strip, text[:32], (4, height - 7), cv2.FONT_HERSHEY_SIMPLEX, 0.42, (0, 0, 0), 1, cv2.LINE_AA)
    return strip.astype(np.float32) / 255


def example_grid(weights: dict[str, Path], images: list[Path], out_path: str | Path, height: int = 160,
                 gap: int = 4) -> Path:
    """Rows = ``images``, columns = the input then each variant's Net-S output (``weights`` maps variant
    name → safetensors). Each cell is ``height`` pixels tall; labels on top. Written as JPEG."""
    import cv2

    from ..enhance.enhancer import Enhancer

    enhancers = {name: Enhancer("student", path) for name, path in weights.items()}
    rows = []
    for path in images:
        img = read_image(path)
        h, w = img.shape[:2]
        small = cv2.resize(img, (max(1, round(w * height / h)), height), interpolation=cv2.INTER_AREA)
        cells = [small] + [
            cv2.resize(e.enhance_array(img), small.shape[1::-1], interpolation=cv2.INTER_AREA)
            for e in enhancers.values()]
        labels = [f"input: {Path(path).name}"] + list(enhancers)
        cells = [np.concatenate([_label(t, c.shape[1]), c]) for t, c in zip(labels, cells)]
        spacer = np.ones((cells[0].shape[0], gap, 3), np.float32)
        rows.append(np.concatenate([x for c in cells for x in (c, spacer)][:-1], axis=1))
    width = max(r.shape[1] for r in rows)
    padded = [np.pad(r, ((0, gap), (0, width - r.shape[1]), (0, 0)), constant_values=1.0) for r in rows]
    write_image(Path(out_path), np.clip(np.concatenate(padded), 0, 1), jpeg_quality=88)
    return Path(out_path)
