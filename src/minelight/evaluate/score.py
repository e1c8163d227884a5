"""Score images with registered metrics: one row per image and a mean row.

    minelight score out/ --metrics niqe,entropy
    minelight score out/ --reference data/synth_val/high --metrics psnr,ssim,niqe --csv scores.csv
"""

from __future__ import annotations

import csv
import math
import os
from pathlib import Path

import numpy as np

from ..io import ImageError, atomic_write_bytes, collect_images, list_images, read_image
from ..metrics.registry import Metric


def _by_stem(folder: str | os.PathLike | None) -> dict[str, Path]:
    return {} if folder is None else {p.stem: p for p in list_images(folder)}


def finite_mean(values: list[float]) -> float:
    """Mean of the finite values (NaN if there are none): infinite PSNRs and failed scores are left out."""
    finite = [v for v in values if math.isfinite(v)]
    return float(np.mean(finite)) if finite else float("nan")


def score_images(paths: list[str | os.PathLike], metrics: list[Metric], reference: str | None = None,
                 inputs: str | None = None) -> list[dict[str, float | str]]:
    """Rows ``{"name": stem, metric: value, ...}``; images match references / inputs by file stem."""
    folders = {"reference": reference, "input": inputs}
    for m in metrics:
        if m.needs == "reference" and reference is None:
            raise ValueError(f"metric {m.name} needs --reference DIR")
        if m.needs == "input" and inputs is None:
            raise ValueError(f"metric {m.name} needs --input DIR (the original low-light images)")
    tables = {needs: _by_stem(folder) for needs, folder in folders.items()}
    rows = []
    for path in collect_images(paths):
        img = read_image(path)
        others: dict[str, np.ndarray | None] = {"none": None}  # each reference / input read once per image
        for needs in [n for n in folders if any(m.needs == n for m in metrics)]:
            if path.stem not in tables[needs]:
                raise ImageError(f"{path}: no image named {path.stem}.* in {folders[needs]}")
            other = read_image(tables[needs][path.stem])
            if other.shape != img.shape:
                raise ImageError(f"{path}: size {img.shape[:2]} differs from {tables[needs][path.stem]} "
                                 f"{other.shape[:2]}")
            others[needs] = other
        row: dict[str, float | str] = {"name": path.stem}
        for m in metrics:
            row[m.name] = m.fn(img, others[m.needs])
        rows.append(row)
    return rows


def mean_row(rows: list[dict[str, float | str]], metrics: list[Metric]) -> dict[str, float | str]:
    """The mean of each metric over rows (infinite PSNRs of identical images are left out of it)."""
    out: dict[str, float | str] = {"name": "mean"}
    for m in metrics:
        out[m.name] = finite_mean([float(r[m.name]) for r in rows])
    return out


def write_csv(path: str | os.PathLike, rows: list[dict[str, float | str]]) -> None:
    """Write rows as CSV, atomically."""
    import io

    buf = io.StringIO()
    writer = csv.DictWriter(buf, list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_bytes(path, buf.getvalue().encode())
