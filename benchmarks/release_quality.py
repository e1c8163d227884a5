"""The release's quality figures, all in one run: every method on every data set, into docs/results.json.

    minelight pairs data/SICE_part1 --files test -o data/sice_test        # once per machine
    minelight synth --src data/BSDS500/val -o data/synth_val --seed 0
    python benchmarks/noisy_pairs.py --pairs data/sice_test --out data/sice_test_noisy --seed 2
    python benchmarks/release_quality.py --data data -o report/release --threads 2 --write docs/results.json
    python tools/render_docs.py

This is the one benchmark that reads the SICE test split (files 1601–2002). It runs once per release,
after every choice of that release is frozen on the validation split; no choice is re-opened because of
what it shows. It runs ``minelight benchmark`` (float outputs; PSNR/SSIM on RGB without GT-mean, the
GT-mean variants in their own columns) and, with ``--write``, replaces the ``quality`` figures of
``docs/results.json`` on these data sets with its means (figures on other sets, e.g. the validation
split, stay) and records the run under ``runs.release-quality``.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import json
from collections import defaultdict
from pathlib import Path

from minelight import __version__
from minelight.evaluate.benchmark import BenchmarkConfig, run_benchmark

from machine import machine

# the label results.json uses -> the benchmark's method name
METHODS = {"input": "input", "gamma": "gamma", "he": "he", "clahe": "clahe", "lime": "lime", "zerodce": "zerodce",
           "student": "student.net", "enhance": "student", "fast-image": "fast", "fast-video": "fast@video"}
PAIRED = {"SICE_TEST": "sice_test", "SICE_TEST_NOISY": "sice_test_noisy", "SYNTH": "synth_val"}
UNPAIRED = {"DICM": "DICM", "LIME": "LIME"}
METRICS = ("psnr", "ssim", "psnr_gtmean", "ssim_gtmean", "niqe", "loe")
DIGITS = {"psnr": 2, "ssim": 3, "psnr_gtmean": 2, "ssim_gtmean": 3, "niqe": 3, "loe": 1}
RUN = "release-quality"


def means_from_csv(path: Path) -> dict[tuple[str, str, str], float]:
    """``(benchmark method, dataset, metric) -> mean`` over images from a ``results.csv``; DICM and LIME also
    pooled as ``DICM+LIME`` (the mean over all their images)."""
    values: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    with path.open() as f:
        for row in csv.DictReader(f):
            value = float(row["value"])
            if value != value or value in (float("inf"), float("-inf")):
                continue
            values[(row["method"], row["dataset"], row["metric"])].append(value)
            if row["dataset"] in UNPAIRED:
                values[(row["method"], "DICM+LIME", row["metric"])].append(value)
    return {k: sum(v) / len(v) for k, v in values.items()}


def quality_entries(means: dict[tuple[str, str, str], float]) -> list[dict]:
    out = []
    for label, method in METHODS.items():
        for dataset in (*PAIRED, *UNPAIRED, "DICM+LIME"):
            for metric in METRICS:
                if (method, dataset, metric) in means:
                    out.append({"method": label, "dataset": dataset, "metric": metric,
                                "value": round(means[(method, dataset, metric)], DIGITS[metric]), "run": RUN})
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=Path("data"), help="folder holding the data sets (docs/data.md)")
    ap.add_argument("-o", "--output", type=Path, default=Path("report/release"))
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--limit", type=int, default=0, help="first N images per data set (a quick check; not for --write)")
    ap.add_argument("--write", type=Path, help="results.json whose quality figures this run replaces")
    ap.add_argument("--methods", help="comma-separated labels to score (default: all); with --write only their "
                                      "figures are replaced: for a release that changed only these methods' code")
    args = ap.parse_args()
    labels = args.methods.split(",") if args.methods else list(METHODS)
    unknown = set(labels) - set(METHODS)
    if unknown:
        raise SystemExit(f"error: unknown method {sorted(unknown)[0]!r}; choose from {', '.join(METHODS)}")
    cfg = BenchmarkConfig(methods=tuple(METHODS[label] for label in labels),
                          paired={k: str(args.data / v) for k, v in PAIRED.items()},
                          unpaired={k: str(args.data / v) for k, v in UNPAIRED.items()},
                          out=str(args.output), limit=args.limit, threads=args.threads)
    run_benchmark(cfg, progress=False)
    entries = [e for e in quality_entries(means_from_csv(args.output / "results.csv")) if e["method"] in labels]
    print(json.dumps(entries, indent=0))
    if args.write:
        if args.limit:
            raise SystemExit("error: --limit scores part of each data set; the release figures need all of it")
        results = json.loads(args.write.read_text())
        replaced = {*PAIRED, *UNPAIRED, "DICM+LIME"}  # other sets (validation) keep their own runs' figures
        results["quality"] = [e for e in results["quality"]
                              if e["dataset"] not in replaced or e["method"] not in labels] + entries
        run = RUN if not args.methods else f"{RUN}-{__version__}"
        for e in entries:
            e["run"] = run
        results["runs"][run] = {
            "date": datetime.date.today().isoformat(), "machine": machine(f"minelight {__version__}, onnxruntime"),
            "command": f"python benchmarks/release_quality.py --data data -o {args.output} --threads {args.threads} "
                       + (f"--methods {args.methods} " if args.methods else "") + "--write docs/results.json",
            "scoring": "float outputs (not quantised); PSNR/SSIM on RGB without GT-mean; _gtmean columns labelled"}
        args.write.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
