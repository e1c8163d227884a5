"""Choose the halo guard's strength for Net-S, or for the fast model, on validation pairs (rules in
``docs/notes/halos.md``).

    python experiments/halo_strength.py --pairs data/sice_val [--weights runs/student_clean/model.safetensors]
    python experiments/halo_strength.py --pairs data/sice_val --method fast

Net-S (+ the detail restoration if ``minelight enhance`` applies it by default) once per image, then the
guard at each strength; or the fast model on stills (no temporal smoothing) with its guard, folded into its
correction, at each strength; 8-bit outputs; PSNR/SSIM without GT-mean against the targets; LOE against the
dark inputs. Prints a Markdown table and the strength the rule picks.
"""

from __future__ import annotations

import argparse

import numpy as np

from minelight.data.datasets import load_pairs
from minelight.enhance.detail import detail_for
from minelight.enhance.enhancer import Enhancer
from minelight.enhance.halo import reduce_halos
from minelight.io import quantise8
from minelight.metrics.registry import METRICS
from minelight.metrics.statistics import loe

STRENGTHS = (0.0, 0.25, 0.5, 0.75, 1.0)
MAX_PSNR_LOSS, MAX_SSIM_LOSS = 0.1, 0.005


def pick(rows: dict[float, dict[str, float]]) -> float:
    """The largest strength whose PSNR and SSIM are within the rule's margins of strength 0's."""
    base = rows[0.0]
    ok = [s for s, r in rows.items()
          if r["psnr"] >= base["psnr"] - MAX_PSNR_LOSS and r["ssim"] >= base["ssim"] - MAX_SSIM_LOSS]
    return max(ok)


def guarded_outputs(method: str, weights: str | None, threads: int):
    """A function ``low -> {strength: output}`` for the method as ``minelight enhance`` runs it: Net-S (+
    its default detail step) once, then the guard on its output at each strength; the fast model, whose guard
    is folded into its correction (``minelight.enhance.halo.guard_correction``), once per strength."""
    if method == "fast":
        fast = {s: Enhancer("fast", weights, threads=threads, backend="auto", halo=s) for s in STRENGTHS}
        return lambda low: {s: enhancer.enhance_array(low) for s, enhancer in fast.items()}
    student = Enhancer("student", weights, threads=threads, backend="auto", detail=detail_for("student"))

    def outputs(low: np.ndarray) -> dict[float, np.ndarray]:
        out = student.enhance_array(low)
        return {s: reduce_halos(low, out, s) for s in STRENGTHS}

    return outputs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pairs", required=True)
    ap.add_argument("--method", choices=("student", "fast"), default="student")
    ap.add_argument("--weights", help="the method's weights (default: the shipped ones)")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    outputs = guarded_outputs(args.method, args.weights, args.threads)
    scores = {s: {"psnr": [], "ssim": [], "loe": []} for s in STRENGTHS}
    for _, low, high in load_pairs(args.pairs):
        for s, guarded in outputs(low).items():
            img = quantise8(guarded)
            scores[s]["psnr"].append(METRICS["psnr"].fn(img, high))
            scores[s]["ssim"].append(METRICS["ssim"].fn(img, high))
            scores[s]["loe"].append(loe(img, low))
    rows = {s: {k: float(np.mean(v)) for k, v in r.items()} for s, r in scores.items()}
    print(f"{args.method} weights: {args.weights or 'shipped'}; {len(scores[0.0]['psnr'])} pairs from {args.pairs}\n")
    print("| strength | PSNR dB | SSIM | LOE |\n|---|---|---|---|")
    for s, r in rows.items():
        print(f"| {s:g} | {r['psnr']:.2f} | {r['ssim']:.3f} | {r['loe']:.1f} |")
    print(f"\nThe rule picks strength {pick(rows):g}.")


if __name__ == "__main__":
    main()
