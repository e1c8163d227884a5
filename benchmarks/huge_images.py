"""Peak memory and time of Net-S on large images, tiled and untiled (``minelight enhance`` path: read
JPEG, enhance, write JPEG).

    python benchmarks/huge_images.py --out report/huge_images.md

Each (size, mode) runs in a fresh child process whose address space is capped at ``--cap-gib`` so an
untiled run that would exhaust the machine fails cleanly instead; that is reported as such. The inputs
are a shipped example image resized to each size.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2

SIZES = ((1080, 1920), (3000, 4000), (6000, 8000))
DEFAULT_IMAGE = Path(__file__).resolve().parents[1] / "examples" / "astronaut_dark.jpg"


def worker(src: Path, dst: Path, tile: int, threads: int, backend: str, detail: bool) -> dict:
    from minelight.enhance.enhancer import enhancer_for

    enhancer = enhancer_for("student.net+detail" if detail else "student.net", threads=threads, tile=tile, backend=backend)
    start = time.perf_counter()
    enhancer.enhance_file(src, dst)
    return {"seconds": time.perf_counter() - start,
            "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--cap-gib", type=float, default=16.0)
    ap.add_argument("--tile", type=int, default=1024)
    ap.add_argument("--backend", default="torch", help="for untiled runs (tiles always run in PyTorch)")
    ap.add_argument("--detail", action="store_true",
                    help="add the detail restoration (minelight enhance --detail)")
    ap.add_argument("--modes", default="tiled,untiled")
    ap.add_argument("--sizes", default=",".join(f"{w}x{h}" for h, w in SIZES), help="e.g. 1920x1080,4000x3000")
    ap.add_argument("--out", type=Path)
    ap.add_argument("--worker", nargs=3, metavar=("SRC", "DST", "TILE"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        cap = int(args.cap_gib * 2**30)
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
        src, dst, tile = args.worker
        print(json.dumps(worker(Path(src), Path(dst), int(tile), args.threads, args.backend, args.detail)))
        return
    lines = ["| image | mode | time (s) | peak RSS (MiB) |", "|---|---|---|---|"]
    with tempfile.TemporaryDirectory() as tmp:
        base = cv2.imread(str(DEFAULT_IMAGE))
        for w, h in (map(int, size.split("x")) for size in args.sizes.split(",")):
            src = Path(tmp) / f"in_{w}x{h}.jpg"
            cv2.imwrite(str(src), cv2.resize(base, (w, h), interpolation=cv2.INTER_CUBIC))
            for mode in args.modes.split(","):
                tile = {"tiled": args.tile, "untiled": -1}[mode]
                cmd = [sys.executable, __file__, "--worker", str(src), str(Path(tmp) / "out.jpg"), str(tile),
                       "--threads", str(args.threads), "--cap-gib", str(args.cap_gib), "--backend", args.backend]
                cmd += ["--detail"] * args.detail
                done = subprocess.run(cmd, capture_output=True, text=True)
                if done.returncode == 0:
                    r = json.loads(done.stdout.strip().splitlines()[-1])
                    row = f"| {w}x{h} | {mode} | {r['seconds']:.1f} | {r['peak_rss_mib']:.0f} |"
                else:
                    last = (done.stderr.strip().splitlines() or ["?"])[-1][:120]
                    row = f"| {w}x{h} | {mode} | failed under the {args.cap_gib:g} GiB cap: {last} | - |"
                print(row, flush=True)
                lines.append(row)
    text = (f"Net-S{' + detail restoration' * args.detail}, {args.threads} threads, tile {args.tile} (halo 96), "
            f"untiled with {args.backend}.\n\n"
            + "\n".join(lines) + "\n")
    print("\n" + text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
