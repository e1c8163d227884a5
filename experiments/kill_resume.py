"""Steps lost to a kill during training: SIGKILL (and SIGTERM) a tiny `minelight train student` run at
a random moment, resume it, and count the steps that were done twice.

    python experiments/kill_resume.py --data examples --trials 3 --out report/kill_resume.md

Steps redone = the last step logged before the kill minus the step of the checkpoint resumed from;
it must not exceed ``--ckpt-every``. The tiny config (8-channel Net-S, 32x32 crops, batch 2) makes a
step take milliseconds, so the kill lands at an arbitrary step.
"""

from __future__ import annotations

import argparse
import csv
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def trial(data: Path, out: Path, sig: signal.Signals, ckpt_every: int, steps: int, delay: float) -> tuple[int, int]:
    cmd = [sys.executable, "-m", "minelight", "train", "student", "--data", str(data), "--steps", str(steps),
           "--batch-size", "2", "--crop", "32", "--threads", "1", "--quiet", "--out", str(out)]
    for setting in ("model.widths=8,8,8", "model.rir_groups=1", "model.blocks_per_group=1", "warmup=1",
                    "exposure_filter=false", "log_every=1", f"ckpt_every={ckpt_every}"):
        cmd += ["--set", setting]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while not (out / "log.csv").exists() and proc.poll() is None:
        time.sleep(0.01)
    time.sleep(delay)
    proc.send_signal(sig)
    proc.wait()
    logged = max(int(r["step"]) for r in csv.DictReader(open(out / "log.csv")))
    from minelight.train.checkpoints import load_latest_checkpoint

    saved = int(load_latest_checkpoint(out / "last.pt")["step"])
    subprocess.run(cmd + ["--resume"], check=True, capture_output=True)
    return logged, logged - saved


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[1] / "examples")
    ap.add_argument("--trials", type=int, default=3)
    ap.add_argument("--ckpt-every", type=int, default=10)
    ap.add_argument("--steps", type=int, default=400)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    lines = ["| signal | trial | killed after step | steps redone |", "|---|---|---|---|"]
    for sig in (signal.SIGKILL, signal.SIGTERM):
        for i in range(args.trials):
            with tempfile.TemporaryDirectory() as tmp:
                logged, redone = trial(args.data, Path(tmp) / "run", sig, args.ckpt_every, args.steps,
                                       rng.uniform(0.5, 3.0))
            lines.append(f"| {sig.name} | {i + 1} | {logged} | {redone} |")
            print(lines[-1], flush=True)
    text = f"Checkpoint interval: {args.ckpt_every} steps.\n\n" + "\n".join(lines) + "\n"
    print("\n" + text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
