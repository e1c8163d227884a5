"""Score Net-S (or fast) weights on real validation pairs, as `minelight enhance` writes (Net-S, its default
detail step, halo guard; the fast model on stills with its folded guard, without temporal smoothing).

    python experiments/real_pairs_candidates.py --pairs data/sice_val data/sice_val_noisy \
        --weights src/minelight/weights/student.safetensors runs/student_real/model.safetensors

`--detail` / `--no-detail` score Net-S with / without the detail restoration (rules written before
the detail step was turned off on 2026-12-02 scored with it: it was `minelight enhance`'s default then), `--halo 0` without
the guard (the rules written before the guard existed scored the fast model without one); the guard's
strength is otherwise the method's default, as `minelight enhance` applies it; `--niqe` adds the mean NIQE
of the outputs (no reference; lower is better).
The colour-noise step that `minelight enhance` adds since 2026-12-03 is not applied, so that the numbers stay
comparable with every rule scored before it (it is chosen after the network, docs/notes/colour_noise.md).
Outputs are quantised to 8 bits; PSNR and SSIM on RGB without GT-mean; mean over all pairs. The rule that
uses these numbers is in docs/notes/real_pairs.md.
"""

from __future__ import annotations

import argparse

import numpy as np

from minelight.data.datasets import load_pairs
from minelight.enhance.detail import detail_for
from minelight.enhance.enhancer import Enhancer
from minelight.enhance.halo import strength_for
from minelight.io import quantise8
from minelight.metrics.registry import METRICS


def score(weights: str, pairs, detail: bool | None = None, method: str = "student", halo: float | None = None,
          niqe: bool = False) -> dict[str, float]:
    """Mean PSNR, SSIM, output mean (and NIQE) of ``weights`` over ``pairs`` (``(name, low, high)`` tuples);
    ``detail`` None: the detail step ``minelight enhance`` applies by default; ``halo`` None: the method's
    default guard strength."""
    enhancer = Enhancer(method, weights, backend="torch", detail=detail_for(method, detail),
                        halo=strength_for(method, halo))
    values = {"psnr": [], "ssim": [], "mean": []} | ({"niqe": []} if niqe else {})
    for _, low, high in pairs:
        out = quantise8(enhancer.enhance_array(low))
        values["psnr"].append(METRICS["psnr"].fn(out, high))
        values["ssim"].append(METRICS["ssim"].fn(out, high))
        values["mean"].append(float(out.mean()))
        if niqe:
            values["niqe"].append(METRICS["niqe"].fn(out, None))
    return {k: float(np.mean(v)) for k, v in values.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pairs", nargs="+", required=True, help="LOL-layout folders (validation pairs)")
    ap.add_argument("--weights", nargs="+", required=True)
    ap.add_argument("--detail", action=argparse.BooleanOptionalAction, default=None,
                    help="Net-S with / without the detail restoration (default: as minelight enhance)")
    ap.add_argument("--halo", type=float, default=None, help="halo guard strength (0: off; default: the method's)")
    ap.add_argument("--method", default="student", help="student or fast (stills)")
    ap.add_argument("--niqe", action="store_true", help="also the mean NIQE of the outputs")
    args = ap.parse_args()
    for folder in args.pairs:
        pairs = load_pairs(folder)
        target_mean = float(np.mean([high.mean() for _, _, high in pairs]))
        print(f"\n{len(pairs)} pairs from {folder}; mean of the targets {target_mean:.3f}")
        niqe_head = (" NIQE |", "---|") if args.niqe else ("", "")
        print(f"| weights | PSNR dB | SSIM | output mean |{niqe_head[0]}\n|---|---|---|---|{niqe_head[1]}")
        for weights in args.weights:
            s = score(weights, pairs, args.detail, args.method, args.halo, args.niqe)
            niqe_cell = f" {s['niqe']:.3f} |" if args.niqe else ""
            print(f"| {weights} | {s['psnr']:.2f} | {s['ssim']:.3f} | {s['mean']:.3f} |{niqe_cell}", flush=True)


if __name__ == "__main__":
    main()
