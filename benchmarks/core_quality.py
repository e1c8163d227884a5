"""Net-S and what ``minelight enhance`` writes on synthetic pairs, NIQE on real low-light images, and Net-T
autoencoding (the source of the model card's Net-T figures).

    minelight synth --src ../shared/data/BSDS500/val --out data/synth_val --seed 0
    python benchmarks/core_quality.py --pairs data/synth_val \
        --unpaired ../shared/data/unpaired/DICM --unpaired ../shared/data/unpaired/LIME \
        --clean ../shared/data/BSDS500/val --json report/core_quality.json

``student.net`` is Net-S alone; ``student`` is what ``minelight enhance`` writes (its recipe,
``Enhancer.from_recipe("student")``). Outputs are quantised to 8 bits (as ``minelight
enhance`` writes them) before scoring. PSNR/SSIM are on RGB without GT-mean rescaling. Prints a Markdown
table; ``--json`` also writes the numbers. Net-S runs with onnxruntime by default (``--backend``).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from minelight.data.datasets import load_pairs
from minelight.enhance.enhancer import Enhancer, enhancer_for
from minelight.io import list_images, quantise8, read_image, to_tensor
from minelight.metrics.full_reference import psnr, ssim
from minelight.metrics.niqe import niqe


def full_reference(enhancers: dict[str, Enhancer | None], pairs) -> dict[str, dict[str, float]]:
    """Mean PSNR (dB) / SSIM of each method over ``[(name, low, high)]``; ``None`` = the input itself."""
    out = {}
    for label, enh in enhancers.items():
        p, s = [], []
        for _, low, high in pairs:
            res = low if enh is None else quantise8(enh.enhance_array(low))
            p.append(float(psnr(to_tensor(res), to_tensor(high))))
            s.append(float(ssim(to_tensor(res), to_tensor(high))))
        out[label] = {"psnr": float(np.mean(p)), "ssim": float(np.mean(s)), "n": len(pairs)}
    return out


def no_reference(enhancers: dict[str, Enhancer | None], folders: list[Path]) -> dict[str, dict[str, float]]:
    """Mean NIQE of each method over all images of ``folders`` (and per folder)."""
    out: dict[str, dict[str, float]] = {}
    for label, enh in enhancers.items():
        scores: dict[str, list[float]] = {}
        for folder in folders:
            for path in list_images(folder):
                img = read_image(path)
                res = img if enh is None else quantise8(enh.enhance_array(img))
                scores.setdefault(folder.name, []).append(niqe(res))
        row = {name: float(np.mean(v)) for name, v in scores.items()}
        row["all"] = float(np.mean([s for v in scores.values() for s in v]))
        row["n"] = sum(len(v) for v in scores.values())
        out[label] = row
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pairs", type=Path, help="LOL-layout folder of synthetic validation pairs")
    ap.add_argument("--unpaired", type=Path, action="append", default=[], help="folder of real low-light images")
    ap.add_argument("--clean", type=Path, help="folder of clean images for Net-T autoencoding PSNR")
    ap.add_argument("--student", type=Path, default=None, help="Net-S weights (default: shipped)")
    ap.add_argument("--teacher", type=Path, default=None, help="Net-T weights (default: shipped)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--backend", default="auto", help="for Net-S: auto (onnxruntime with the shipped weights), torch")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    methods = {"input": None, "clahe": Enhancer.from_recipe("clahe"),
               "student.net": enhancer_for("student.net", weights=args.student, backend=args.backend),
               "student": Enhancer.from_recipe("student", weights=args.student, backend=args.backend)}
    result: dict[str, dict] = {}
    if args.pairs:
        result["synthetic_pairs"] = full_reference(methods, load_pairs(args.pairs))
        print(f"\n## Synthetic pairs ({args.pairs})\n\n| method | PSNR (dB) | SSIM |\n|---|---|---|")
        for label, r in result["synthetic_pairs"].items():
            print(f"| {label} | {r['psnr']:.2f} | {r['ssim']:.3f} |")
    if args.unpaired:
        result["niqe"] = no_reference(methods, args.unpaired)
        names = [f.name for f in args.unpaired]
        print("\n## NIQE on real low-light images (lower is better)\n")
        print("| method | " + " | ".join(names) + " | all |")
        print("|---" * (len(names) + 2) + "|")
        for label, r in result["niqe"].items():
            print(f"| {label} | " + " | ".join(f"{r[n]:.3f}" for n in names) + f" | {r['all']:.3f} |")
    if args.clean:
        teacher = enhancer_for("teacher.net", weights=args.teacher)
        imgs = [read_image(p) for p in list_images(args.clean)]
        scores = [float(psnr(to_tensor(quantise8(teacher.enhance_array(im))), to_tensor(im))) for im in imgs]
        result["teacher_autoencoding"] = {"psnr": float(np.mean(scores)), "n": len(imgs)}
        print(f"\n## Net-T autoencoding on {args.clean}: PSNR {np.mean(scores):.2f} dB over {len(imgs)} images")
    result["seconds"] = round(time.perf_counter() - t0, 1)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
