"""A noisy copy of a LOL-layout pairs folder: sensor noise added to every dark frame, targets unchanged.

    python benchmarks/noisy_pairs.py --pairs data/sice_val --out data/sice_val_noisy --seed 0

SICE Part 1 is distributed at 512 px, which averages a camera's sensor noise away; full-resolution mine
cameras are much noisier. This set stands in for them when a choice (the real/synthetic mix) must weigh
noise removal. Per frame, in linear light: shot noise with a full well drawn log-uniformly from
``--full-well`` photons, then Gaussian read noise with a std drawn uniformly from ``--read-noise`` -- the
noise model of `minelight.data.degrade` with the training's range. One draw per frame from ``--seed``: the set is
the same on every run. Frames are written as PNG (no second compression).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from minelight.data.datasets import load_pairs
from minelight.data.degrade import linear_to_srgb, log_uniform, srgb_to_linear
from minelight.io import write_image


def add_sensor_noise(img: np.ndarray, full_well: float, read_std: float, rng: np.random.Generator) -> np.ndarray:
    """``(H, W, 3)`` float sRGB in [0, 1] -> same shape, float32, with shot noise (``full_well`` photons at
    full scale) and read noise (std ``read_std`` in linear light) added in linear light."""
    linear = np.clip(srgb_to_linear(img), 0.0, 1.0)
    noisy = rng.poisson(linear * full_well).astype(np.float32) / np.float32(full_well)
    noisy += rng.normal(0.0, read_std, noisy.shape).astype(np.float32)
    return np.clip(linear_to_srgb(np.clip(noisy, 0.0, 1.0)), 0.0, 1.0).astype(np.float32)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pairs", required=True, help="LOL-layout folder (low/, high/)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--full-well", type=float, nargs=2, default=(300.0, 100000.0))
    ap.add_argument("--read-noise", type=float, nargs=2, default=(0.0001, 0.005))
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    out = Path(args.out)
    (out / "low").mkdir(parents=True, exist_ok=True)
    (out / "high").mkdir(parents=True, exist_ok=True)
    pairs = load_pairs(args.pairs)
    for name, low, high in pairs:
        full_well = log_uniform(rng, *args.full_well)
        read_std = float(rng.uniform(*args.read_noise))
        stem = Path(name).stem
        write_image(out / "low" / f"{stem}.png", add_sensor_noise(low, full_well, read_std, rng))
        write_image(out / "high" / f"{stem}.png", high)
    print(f"{len(pairs)} noisy pairs written to {out}")


if __name__ == "__main__":
    main()
