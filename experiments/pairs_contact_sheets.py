"""Contact sheets of the scenes `minelight pairs` finds in a numbered bracket folder, to check the split by eye.

    python experiments/pairs_contact_sheets.py ../shared/data/train_unpaired/SICE_part1 --files 1-400 --out sheets/

One row per scene: its frames in file order (file number on each), then the target it builds. A row whose
frames show two different places is a merge; a place that continues on the next row is a split.
``--files`` (default ``val``) never reaches the test split (1601-2002).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from minelight.io import read_image, to_uint8
from minelight.data.pairs import PairsConfig, build_scene, scene_groups
from minelight.data.splits import tuning_files


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("src")
    ap.add_argument("--files", default="val", help="a split name or FIRST-LAST (default val, 1401-1600; "
                    "never the test split, 1601-2002)")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--thumb", type=int, default=64)
    ap.add_argument("--rows", type=int, default=40, help="scenes per sheet")
    args = ap.parse_args()
    first, last = tuning_files(args.files)
    cfg = PairsConfig(files=(first, last))
    groups, _ = scene_groups(args.src, cfg)
    width = 13
    rows = []
    for name, paths in groups:
        tiles = []
        for path in paths[: width - 1]:
            tile = cv2.resize(to_uint8(read_image(path)), (args.thumb, args.thumb), interpolation=cv2.INTER_AREA)
            cv2.putText(tile, path.stem, (2, 12), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (255, 0, 0), 1)
            tiles.append(tile)
        target, _, report = build_scene(name, paths, cfg)
        tiles += [np.zeros((args.thumb, args.thumb, 3), np.uint8)] * (width - 1 - len(tiles))
        last_tile = (cv2.resize(to_uint8(target), (args.thumb, args.thumb), interpolation=cv2.INTER_AREA)
                     if target is not None else np.full((args.thumb, args.thumb, 3), 60, np.uint8))
        rows.append(np.hstack([*tiles, last_tile]))
    args.out.mkdir(parents=True, exist_ok=True)
    for k in range(0, len(rows), args.rows):
        sheet = np.vstack(rows[k:k + args.rows])
        path = args.out / f"scenes_{first}-{last}_{k // args.rows:02d}.png"
        cv2.imwrite(str(path), sheet[..., ::-1])
        print(path)
    print(f"{len(groups)} scenes in files {first}-{last}")


if __name__ == "__main__":
    main()
