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

from .io import ImageError, atomic_write_bytes, list_images, read_image
from .metrics.registry import Metric


def _by_stem(folder: str | os.PathLike | None) -> dict[str, Path]:
    return {} if folder is None else {p.stem: p for p in list_images(folder)}


def collect_images(paths: list[str | os.PathLike]) -> list[Path]:
    """Image files named directly or found in folders (non-image files in folders are skipped)."""
    files: list[Path] = []
    for p in map(Path, paths):
        if not p.exists():
            raise ImageError(f"{p}: no such file or folder")
        files += list_images(p) if p.is_dir() else [p]
    return files


def score_images(paths: list[str | os.PathLike], metrics: list[Metric], reference: str | None = None,
                 inputs: str | None = None) -> list[dict[str, float | str]]:
    """Rows ``{"name": stem, metric: value, ...}``; images match references / inputs by file stem."""
    refs, origs = _by_stem(reference), _by_stem(inputs)
    for m in metrics:
        if m.needs == "reference" and reference is None:
            raise ValueError(f"metric {m.name} needs --reference DIR")
        if m.needs == "input" and inputs is None:
            raise ValueError(f"metric {m.name} needs --input DIR (the original low-light images)")
    rows = []
    for path in collect_images(paths):
        img = read_image(path)
        row: dict[str, float | str] = {"name": path.stem}
        for m in metrics:
            other = None
            if m.needs != "none":
                table = refs if m.needs == "reference" else origs
                if path.stem not in table:
                    where = reference if m.needs == "reference" else inputs
                    raise ImageError(f"{path}: no image named {path.stem}.* in {where}")
                other = read_image(table[path.stem])
                if other.shape != img.shape:
                    raise ImageError(f"{path}: size {img.shape[:2]} differs from {table[path.stem]} {other.shape[:2]}")
            row[m.name] = m.fn(img, other)
        rows.append(row)
    return rows


def mean_row(rows: list[dict[str, float | str]], metrics: list[Metric]) -> dict[str, float | str]:
    """The mean of each metric over rows (infinite PSNRs of identical images are left out of it)."""
    out: dict[str, float | str] = {"name": "mean"}
    for m in metrics:
        values = [float(r[m.name]) for r in rows if math.isfinite(float(r[m.name]))]
        out[m.name] = float(np.mean(values)) if values else float("nan")
    return out


def write_csv(path: str | os.PathLike, rows: list[dict[str, float | str]]) -> None:
    """Write rows as CSV, atomically."""
    import io

    buf = io.StringIO()
    writer = csv.DictWriter(buf, list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_bytes(path, buf.getvalue().encode())
