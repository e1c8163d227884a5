"""Methods x data sets x metrics: one command that checks the paper's comparison on any data.

    minelight benchmark --methods student,student.net,clahe,lime,he,gamma --paired SYNTH=data/synth_val \
        --unpaired DICM=../shared/data/unpaired/DICM --unpaired LIME=../shared/data/unpaired/LIME -o report/

Each method runs once per image (outputs are cached in memory for scoring and thumbnails). Writes
``results.csv`` (method, dataset, image, metric, value; ``seconds`` = enhancement time per image),
``results.md`` (mean tables, best in bold, arrows for direction, composite index), ``index.html``
(thumbnail grids, bar charts, composite comparison) and the PNG/JPEG files it shows.
"""

from __future__ import annotations

import csv
import html
import io
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..data.datasets import match_pairs
from ..enhance.enhancer import enhancer_for
from ..io import atomic_write_bytes, list_images, read_image, write_image
from ..metrics.composite import COMPOSITE_METRICS, composite_index, relative_improvement
from ..metrics.registry import METRICS
from .score import finite_mean

PAIRED_METRICS = ("psnr", "ssim", "psnr_gtmean", "ssim_gtmean", "niqe", "loe")
UNPAIRED_METRICS = ("niqe", "loe", "entropy", "contrast", "avg_gradient", "mean_brightness")


INPUT = "input"  # a method name for the unprocessed input: the reference row of a table


class _Input:
    """The identity 'method' of the ``input`` row."""

    def enhance_array(self, img: np.ndarray) -> np.ndarray:
        return img


@dataclass
class BenchmarkConfig:
    methods: tuple[str, ...] = ("student", "clahe", "lime", "he", "gamma")
    paired: dict[str, str] = field(default_factory=dict)  # name -> LOL-layout folder
    unpaired: dict[str, str] = field(default_factory=dict)  # name -> folder of low-light images
    out: str = "report"
    limit: int = 0  # use only the first N images of each data set (0 = all)
    thumbnails: int = 6  # images per data set shown in the HTML grid
    threads: int = 0


@dataclass
class Sample:
    name: str
    low: np.ndarray
    high: np.ndarray | None = None


def _samples(cfg: BenchmarkConfig) -> dict[str, tuple[bool, list]]:
    """``{dataset: (paired, [(name, low_path, high_path | None)])}``."""
    sets: dict[str, tuple[bool, list]] = {}
    for name, root in cfg.paired.items():
        sets[name] = (True, match_pairs(root)[: cfg.limit or None])
    for name, root in cfg.unpaired.items():
        sets[name] = (False, [(p.stem, p, None) for p in list_images(root)][: cfg.limit or None])
    if not sets:
        raise ValueError("no data: give --paired NAME=DIR and/or --unpaired NAME=DIR")
    return sets


def _score(metric: str, out: np.ndarray, sample: Sample) -> float:
    m = METRICS[metric]
    other = sample.high if m.needs == "reference" else sample.low if m.needs == "input" else None
    try:
        return m.fn(out, other)
    except ValueError:  # e.g. NIQE on an image smaller than two 96x96 blocks
        return float("nan")


def run_benchmark(cfg: BenchmarkConfig, progress: bool = True) -> dict[str, dict[str, dict[str, float]]]:
    """Run everything and write the report; returns ``{dataset: {method: {metric: mean}}}``."""
    from rich.progress import Progress

    out = Path(cfg.out)
    (out / "images").mkdir(parents=True, exist_ok=True)
    sets = _samples(cfg)
    enhancers = {m: _Input() if m == INPUT else enhancer_for(m, threads=cfg.threads) for m in cfg.methods}
    rows: list[tuple[str, str, str, str, float]] = []
    means: dict[str, dict[str, dict[str, float]]] = {}
    thumbs: dict[str, list[list[tuple[str, str]]]] = {}
    total = sum(len(items) for _, items in sets.values()) * len(cfg.methods)
    with Progress(disable=not progress, transient=True) as bar:
        task = bar.add_task("benchmark", total=total)
        for dataset, (paired, items) in sets.items():
            metrics = PAIRED_METRICS if paired else UNPAIRED_METRICS
            per: dict[str, dict[str, list[float]]] = {m: {k: [] for k in (*metrics, "seconds")} for m in cfg.methods}
            thumbs[dataset] = []
            for index, (name, low_path, high_path) in enumerate(items):
                sample = Sample(name, read_image(low_path), read_image(high_path) if high_path else None)
                shown = index < cfg.thumbnails
                row_thumbs = [("input", _thumb(out, dataset, name, "input", sample.low))] if shown else []
                for method, enhancer in enhancers.items():
                    t0 = time.perf_counter()
                    result = enhancer.enhance_array(sample.low)
                    seconds = time.perf_counter() - t0
                    per[method]["seconds"].append(seconds)
                    rows.append((method, dataset, name, "seconds", seconds))
                    for metric in metrics:
                        value = _score(metric, result, sample)
                        per[method][metric].append(value)
                        rows.append((method, dataset, name, metric, value))
                    if shown:
                        row_thumbs.append((method, _thumb(out, dataset, name, method, result)))
                    bar.advance(task)
                if shown:
                    if sample.high is not None:
                        row_thumbs.append(("ground truth", _thumb(out, dataset, name, "gt", sample.high)))
                    thumbs[dataset].append(row_thumbs)
            means[dataset] = {m: {k: finite_mean(v) for k, v in per[m].items()} for m in cfg.methods}
    _write_csv(out / "results.csv", rows)
    charts = {d: _bar_charts(out, d, means[d]) for d in means}
    composites = {d: _composite(means[d]) for d in means}
    atomic_write_bytes(out / "results.md", markdown_report(means, composites).encode())
    atomic_write_bytes(out / "index.html", _html(means, composites, thumbs, charts).encode())
    return means


def _thumb(out: Path, dataset: str, name: str, method: str, img: np.ndarray, height: int = 160) -> str:
    import cv2

    h, w = img.shape[:2]
    small = cv2.resize(img, (max(1, round(w * height / h)), height), interpolation=cv2.INTER_AREA)
    rel = f"images/{dataset}_{name}_{method}.jpg"
    write_image(out / rel, small, jpeg_quality=88)
    return rel


def _write_csv(path: Path, rows) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["method", "dataset", "image", "metric", "value"])
    writer.writerows(rows)
    atomic_write_bytes(path, buf.getvalue().encode())


def _composite(means: dict[str, dict[str, float]]) -> dict[str, float] | None:
    """Composite index over the methods, or None when an index is missing (e.g. NIQE on tiny images)."""
    try:
        table = {m: {k: v[k] for k in COMPOSITE_METRICS} for m, v in means.items()}
    except KeyError:
        return None
    if not all(math.isfinite(x) and x > 0 for v in table.values() for x in v.values()):
        return None
    return composite_index(table)


def _arrow(metric: str) -> str:
    """Direction mark: lower / higher is better; mean brightness has none (it is reported, not ranked)."""
    if metric == "mean_brightness":
        return "(no direction)"
    return "↓" if metric == "seconds" or METRICS[metric].lower_is_better else "↑"


def markdown_report(means, composites) -> str:
    """Mean tables per data set (best in bold; arrows give direction) and the composite comparison."""
    lines = ["# Benchmark results", ""]
    for dataset, table in means.items():
        metrics = [k for k in next(iter(table.values())) if k != "seconds"] + ["seconds"]
        lines += [f"## {dataset}", "", "| method | " + " | ".join(f"{k} {_arrow(k)}" for k in metrics) + " |",
                  "|---" * (len(metrics) + 1) + "|"]
        best = {}
        for k in metrics:
            values = {m: v[k] for m, v in table.items() if math.isfinite(v[k])}
            if values and k != "mean_brightness":
                low = k == "seconds" or METRICS[k].lower_is_better
                best[k] = (min if low else max)(values, key=values.get)
        for method, v in table.items():
            cells = [(f"**{v[k]:.4g}**" if best.get(k) == method else f"{v[k]:.4g}") for k in metrics]
            lines.append(f"| {method} | " + " | ".join(cells) + " |")
        comp = composites.get(dataset)
        if comp:
            lines += ["", f"Composite index (sum of {', '.join(COMPOSITE_METRICS)}, each normalised across "
                      "methods to (0, 1], 1 = best; see docs/metrics.md):", ""]
            lines += [f"- {m}: {c:.3f}" for m, c in sorted(comp.items(), key=lambda x: -x[1])]
            rel = relative_improvement(comp)
            lines += ["", "| improvement of ↓ over → (%) | " + " | ".join(comp) + " |", "|---" * (len(comp) + 1) + "|"]
            for a in comp:
                lines.append(f"| {a} | " + " | ".join("—" if a == b else f"{rel[(a, b)]:+.2f}" for b in comp) + " |")
        lines.append("")
    return "\n".join(lines)


def _bar_charts(out: Path, dataset: str, table: dict[str, dict[str, float]]) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    for metric in next(iter(table.values())):
        values = [table[m][metric] for m in table]
        fig, ax = plt.subplots(figsize=(4, 2.6), dpi=100)
        ax.bar(list(table), [v if math.isfinite(v) else 0 for v in values], color="#4a7bb7")
        direction = {"↓": "lower is better", "↑": "higher is better"}.get(_arrow(metric), "not ranked")
        ax.set_title(f"{dataset}: {metric} ({direction})", fontsize=9)
        ax.tick_params(labelsize=8)
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
        plt.close(fig)
        rel = f"images/chart_{dataset}_{metric}.png"
        atomic_write_bytes(out / rel, buf.getvalue())
        paths.append(rel)
    return paths


def _html(means, composites, thumbs, charts) -> str:
    esc = html.escape
    parts = ["<!doctype html><meta charset='utf-8'><title>minelight benchmark</title>",
             "<style>body{font-family:sans-serif;margin:1em}img{margin:2px}td,th{padding:2px 8px}"
             "figure{display:inline-block;margin:2px;text-align:center;font-size:12px}</style>",
             "<h1>minelight benchmark</h1>"]
    for dataset, table in means.items():
        parts.append(f"<h2>{esc(dataset)}</h2>")
        for row in thumbs.get(dataset, []):
            parts.append("<div>" + "".join(
                f"<figure><img src='{esc(src)}' height=120><figcaption>{esc(label)}</figcaption></figure>"
                for label, src in row) + "</div>")
        parts.append("<div>" + "".join(f"<img src='{esc(c)}'>" for c in charts[dataset]) + "</div>")
        metrics = list(next(iter(table.values())))
        parts.append("<table border=1><tr><th>method</th>" + "".join(f"<th>{esc(k)}</th>" for k in metrics) + "</tr>")
        for method, v in table.items():
            parts.append(f"<tr><td>{esc(method)}</td>" + "".join(f"<td>{v[k]:.4g}</td>" for k in metrics) + "</tr>")
        parts.append("</table>")
        comp = composites.get(dataset)
        if comp:
            rel = relative_improvement(comp)
            parts.append("<h3>Composite index</h3><table border=1><tr><th>method</th><th>index</th>"
                         + "".join(f"<th>vs {esc(b)} (%)</th>" for b in comp) + "</tr>")
            for a, c in comp.items():
                parts.append(f"<tr><td>{esc(a)}</td><td>{c:.3f}</td>" + "".join(
                    f"<td>{'' if a == b else f'{rel[(a, b)]:+.2f}'}</td>" for b in comp) + "</tr>")
            parts.append("</table>")
    return "\n".join(parts) + "\n"
