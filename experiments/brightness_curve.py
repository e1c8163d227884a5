"""What the brightness control does, measured: mean output, clipped share and PSNR against real targets.

    python experiments/brightness_curve.py --pairs data/sice_val

Net-S (with the detail step `minelight enhance` applies by default) once per image, then
`adjust_brightness` at each setting; 8-bit outputs; PSNR without GT-mean.
"""

from __future__ import annotations

import argparse

import numpy as np

from minelight.enhance.brightness import adjust_brightness
from minelight.data.datasets import load_pairs
from minelight.enhance.detail import detail_for
from minelight.enhance.enhancer import Enhancer
from minelight.io import quantise8
from minelight.metrics.registry import METRICS

SETTINGS = (0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 3.0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pairs", required=True)
    ap.add_argument("--method", default="student")
    args = ap.parse_args()
    enhancer = Enhancer(args.method, backend="auto", detail=detail_for(args.method))
    rows = {b: {"mean": [], "clipped": [], "psnr": []} for b in SETTINGS}
    for _, low, high in load_pairs(args.pairs):
        out = enhancer.enhance_array(low)
        for b in SETTINGS:
            img = quantise8(adjust_brightness(out, b))
            rows[b]["mean"].append(float(img.mean()))
            rows[b]["clipped"].append(float((img.max(axis=2) >= 254.5 / 255).mean()))
            rows[b]["psnr"].append(METRICS["psnr"].fn(img, high))
    print("| brightness | output mean | pixels at 255 | PSNR dB |\n|---|---|---|---|")
    for b, r in rows.items():
        print(f"| {b} | {np.mean(r['mean']):.3f} | {100 * np.mean(r['clipped']):.2f} % | {np.mean(r['psnr']):.2f} |")


if __name__ == "__main__":
    main()
