"""Fusion or best single frame as the target of a bracket? Measured on the scenes of a numbered folder.

    python experiments/pairs_target.py ../shared/data/train_unpaired/SICE_part1 --files val   # 1401-1600

For each usable scene both targets are built; reported: NIQE (lower is better), share of pixels clipped to
black (luma < 0.02) or white (> 0.98), and mean luma. ``--files`` never reaches the test split (1601-2002).
"""

from __future__ import annotations

import argparse

import numpy as np

from minelight.color import luma
from minelight.io import quantise8
from minelight.metrics.registry import METRICS
from minelight.data.pairs import PairsConfig, build_scene, scene_groups
from minelight.data.splits import tuning_files


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("src")
    ap.add_argument("--files", default="val", help="a split name or FIRST-LAST (default val, 1401-1600; "
                    "never the test split, 1601-2002)")
    args = ap.parse_args()
    first, last = tuning_files(args.files)
    groups, _ = scene_groups(args.src, PairsConfig(files=(first, last)))
    stats = {"fusion": [], "best": []}
    for name, paths in groups:
        for target in stats:
            img, _, report = build_scene(name, paths, PairsConfig(files=(first, last), target=target))
            if img is None:
                continue
            y = luma(img)
            stats[target].append((METRICS["niqe"].fn(quantise8(img), None), float(((y < 0.02) | (y > 0.98)).mean()),
                                  float(y.mean())))
    print(f"scenes in files {first}-{last}: {len(groups)}\n")
    print("| target | scenes | NIQE | clipped pixels | mean luma |\n|---|---|---|---|---|")
    for target, rows in stats.items():
        a = np.array(rows)
        print(f"| {target} | {len(a)} | {a[:, 0].mean():.3f} | {100 * a[:, 1].mean():.2f} % | {a[:, 2].mean():.3f} |")


if __name__ == "__main__":
    main()
