"""Condensed Markdown tables of ablation studies (from their ``results.csv``) (superseded by
tools/render_docs.py, which renders docs/ablations.md from docs/results.json).

    python experiments/ablation_tables.py docs/ablation/teacher_results.csv docs/ablation/loss_results.csv

One table per file: mean ± sample std over seeds (just the value for one seed) of the key columns.
"""

from __future__ import annotations

import argparse
import csv

from minelight.evaluate.ablate import mean_std

COLUMNS = {"psnr": "PSNR ↑", "ssim": "SSIM ↑", "DICM_niqe": "NIQE DICM ↓", "LIME_niqe": "NIQE LIME ↓",
           "DICM_contrast": "contrast DICM ↑", "DICM_avg_gradient": "avg. gradient DICM ↑",
           "DICM_composite": "composite DICM ↑", "LIME_composite": "composite LIME ↑"}


def table(rows: list[dict]) -> str:
    columns = [c for c in COLUMNS if c in rows[0]]
    lines = ["| variant | seeds | " + " | ".join(COLUMNS[c] for c in columns) + " |",
             "|---|---|" + "---|" * len(columns)]
    for name in dict.fromkeys(r["variant"] for r in rows):
        mine = [r for r in rows if r["variant"] == name]
        cells = [mean_std([float(r[c]) for r in mine], single_std=False) for c in columns]
        lines.append(f"| {name} | {len(mine)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv", nargs="+")
    for path in parser.parse_args().csv:
        with open(path, newline="") as f:
            print(f"<!-- {path} -->\n{table(list(csv.DictReader(f)))}\n")


if __name__ == "__main__":
    main()
