"""The paper's ablations as one command: train every variant of a study with the same data, steps and
seeds, evaluate it, and write ``results.csv`` (one row per variant and seed) and ``results.md``
(mean ± std over seeds).

    minelight ablate --study teacher --data data/BSDS500/train --val data/synth_val \
        --unpaired DICM=data/DICM --unpaired LIME=data/LIME \
        -o runs/ablate/teacher --steps 300 --seeds 0,1,2

Evaluation: PSNR and SSIM on the ``val`` pairs; NIQE and the composite index (``metrics.composite``,
across the study's variants, per seed) on each unpaired folder.
"""

from __future__ import annotations

import copy
import csv
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..train.config import apply_overrides
from ..data.datasets import load_pairs
from ..io import list_images, read_image
from ..metrics.composite import COMPOSITE_METRICS, composite_index
from ..metrics.registry import METRICS
from ..train.runs import StudentRunConfig, train_student


@dataclass
class Variant:
    name: str
    overrides: tuple[str, ...] = ()  # typed ``key=value`` settings of StudentRunConfig


def _studies(teacher: str) -> dict[str, list[Variant]]:
    return {
        "teacher": [Variant("pretrained Net-T", (f"teacher={teacher}",)),
                    Variant("random frozen Net-T", ("teacher=random",)),
                    Variant("no Net-T", ("teacher=",))],
        "loss": [Variant("full loss"), Variant("no multi-scale", ("recon.scales=1",)),
                 Variant("no SSIM", ("recon.ssim=0",)), Variant("no colour", ("recon.colour=0",))],
        "distill": [Variant("feature L1", ("distill.feature=1", "distill.attention=0", "distill.channel=0")),
                    Variant("attention", ("distill.attention=10", "distill.channel=0")),
                    *[Variant(f"channel-wise tau={t}", ("distill.attention=0", "distill.channel=0.5",
                                                        f"distill.tau={t}")) for t in (1, 2, 4)],
                    Variant("all combined", ("distill.feature=1", "distill.attention=10", "distill.channel=0.5"))],
        "blocks": [Variant("HDC + improved RIR"), Variant("plain 3x3 encoder", ("model.hdc=false",)),
                   Variant("plain residual blocks", ("model.rir=false",))],
    }


STUDIES = tuple(_studies(""))


def default_seeds(study: str) -> list[int]:
    """Three seeds for the teacher study (the paper's main claim), one for the others."""
    return [0, 1, 2] if study == "teacher" else [0]


def variants(study: str, teacher: str) -> list[Variant]:
    if study not in STUDIES:
        raise ValueError(f"unknown study {study!r}; choose from {', '.join(STUDIES)}")
    return _studies(teacher)[study]


def evaluate(weights: Path, val: str, unpaired: dict[str, str], val_images: int = 0) -> dict[str, float]:
    """PSNR/SSIM on the val pairs and the composite-index metrics' means on each unpaired folder."""
    from ..enhance.enhancer import Enhancer

    enhancer = Enhancer("student", weights)
    scores: dict[str, float] = {}
    pairs = load_pairs(val, val_images)
    outs = [(enhancer.enhance_array(low), high) for _, low, high in pairs]
    for metric in ("psnr", "ssim"):
        scores[metric] = float(np.mean([METRICS[metric].fn(out, high) for out, high in outs]))
    for name, folder in unpaired.items():
        enhanced = [enhancer.enhance_array(read_image(p)) for p in list_images(folder)]
        for metric in COMPOSITE_METRICS:
            values = [METRICS[metric].fn(img, None) for img in enhanced]
            scores[f"{name}_{metric}"] = float(np.nanmean(values))
    return scores


def run_study(study: str, base: StudentRunConfig, seeds: list[int], unpaired: dict[str, str], out: str | Path,
              teacher: str = "shipped", progress: Callable[[str], None] = print,
              examples: list[Path] | None = None) -> list[dict]:
    """Train and evaluate every variant of ``study`` for every seed; writes and returns the rows, and the
    figures: ``curves.png`` and ``examples.jpg`` (the ``examples`` images through the first seed's
    weights; none: no grid)."""
    from ..enhance.enhancer import shipped_weights

    teacher_path = str(shipped_weights("teacher")) if teacher == "shipped" else teacher
    out = Path(out)
    rows = []
    study_variants = variants(study, teacher_path)
    for variant in study_variants:
        for seed in seeds:
            cfg = copy.deepcopy(base)
            cfg.teacher = teacher_path
            apply_overrides(cfg, list(variant.overrides))
            cfg.seed, cfg.out = seed, str(out / _slug(variant.name) / f"seed{seed}")
            progress(f"{study}: {variant.name}, seed {seed}")
            weights = train_student(cfg, resume=True, progress=False)
            rows.append({"variant": variant.name, "seed": seed,
                         **evaluate(weights, cfg.val, unpaired, cfg.val_images)})
    for name in unpaired:  # the composite index compares the variants of one seed
        for seed in seeds:
            means = {r["variant"]: {m: r[f"{name}_{m}"] for m in COMPOSITE_METRICS} for r in rows if r["seed"] == seed}
            for variant_name, value in composite_index(means).items():
                next(r for r in rows if r["seed"] == seed and r["variant"] == variant_name)[f"{name}_composite"] = value
    _write(out, study, rows)
    write_figures(out, [v.name for v in study_variants], seeds, examples or [])
    return rows


def write_figures(out: Path, names: list[str], seeds: list[int], images: list[Path]) -> None:
    """``curves.png`` from every run's log, ``examples.jpg`` from the first seed's weights."""
    from .ablate_figures import example_grid, plot_curves

    plot_curves({n: [out / _slug(n) / f"seed{s}" for s in seeds] for n in names}, out / "curves.png")
    if images:
        example_grid({n: out / _slug(n) / f"seed{seeds[0]}" / "model.safetensors" for n in names}, images,
                     out / "examples.jpg")


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in name.lower()).strip("_")


def mean_std(values, single_std: bool = True) -> str:
    """``"mean ± sample std"`` of ``values`` (4 and 2 significant digits); for one value ``"mean ± 0"``, or
    just the mean when ``single_std`` is false."""
    x = np.asarray(values, dtype=float)
    if len(x) == 1 and not single_std:
        return f"{x.mean():.4g}"
    return f"{x.mean():.4g} ± {x.std(ddof=1) if len(x) > 1 else 0.0:.2g}"


def _write(out: Path, study: str, rows: list[dict]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    columns = list(rows[0])
    with (out / "results.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, columns)
        writer.writeheader()
        writer.writerows(rows)
    metrics = [c for c in columns if c not in ("variant", "seed")]
    lines = [f"# Ablation: {study}", "", f"Mean ± std over seeds {sorted({r['seed'] for r in rows})}.", "",
             "| variant | " + " | ".join(metrics) + " |", "|---|" + "---|" * len(metrics)]
    for name in dict.fromkeys(r["variant"] for r in rows):
        cells = [mean_std([r[m] for r in rows if r["variant"] == name]) for m in metrics]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    (out / "results.md").write_text("\n".join(lines) + "\n")
