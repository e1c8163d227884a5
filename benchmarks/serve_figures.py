"""Screenshots of `minelight serve`'s page with the demo cameras and the shipped fast model.

    python benchmarks/serve_figures.py --out docs/images

Starts `minelight serve --source examples/clips/rocket_dark.mp4 --source examples/clips/coffee_dark.mp4` on
a free loopback port, waits until both cameras are live, and has headless Chromium (Debian's `chromium`)
save ``serve_page.png`` (the grid of live tiles, 1300x700) and ``serve_side_by_side.png`` (the first camera,
original | enhanced, 1300x500).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

CLIPS = Path(__file__).resolve().parents[1] / "examples" / "clips"
SHOTS = {"serve_page.png": ("/", (1300, 700)),  # file name: (page path, window size in px)
         "serve_side_by_side.png": ("/#camera=rocket_dark&view=side", (1300, 500))}


def cameras_live(url: str) -> bool:
    """Whether every camera of the server at ``url`` reports ``live`` on ``/healthz``."""
    try:
        with urllib.request.urlopen(url + "/healthz", timeout=5) as response:
            states = {c["state"] for c in json.load(response)["cameras"].values()}
    except OSError:
        return False
    return states == {"live"}


def screenshot(chromium: str, url: str, path: Path, size: tuple[int, int]) -> None:
    """Headless Chromium's picture of ``url`` after ~4 s of page time, ``size`` = (width, height) px."""
    subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    f"--window-size={size[0]},{size[1]}", "--virtual-time-budget=4000",
                    "--run-all-compositor-stages-before-draw", f"--screenshot={path}", url],
                   check=True, timeout=90, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=Path("docs/images"))
    args = ap.parse_args()
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        sys.exit("error: needs Debian's chromium (apt-get install chromium)")
    server = subprocess.Popen([sys.executable, "-m", "minelight.cli", "serve", "--port", "0",
                               "--source", str(CLIPS / "rocket_dark.mp4"), "--source", str(CLIPS / "coffee_dark.mp4")],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        url = server.stdout.readline().strip().rsplit(" ", 1)[-1].rstrip("/")  # its first line ends with the URL
        if not url.startswith("http://"):
            sys.exit("error: minelight serve did not start (run it by hand to see why)")
        deadline = time.monotonic() + 90
        while not cameras_live(url):
            if time.monotonic() > deadline:
                sys.exit("error: the demo cameras did not go live within 90 s")
            time.sleep(0.5)
        time.sleep(3)  # a few seconds of smoothing, as a viewer would see
        args.out.mkdir(parents=True, exist_ok=True)
        for name, (path, size) in SHOTS.items():
            screenshot(chromium, url + path, args.out / name, size)
            print(f"wrote {args.out / name}")
    finally:
        server.terminate()
        server.wait(30)


if __name__ == "__main__":
    main()
