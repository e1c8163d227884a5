"""Screenshots of `minelight serve`'s page with the demo cameras and the shipped fast model.

    python benchmarks/serve_figures.py --out docs/images

Starts `minelight serve --source examples/clips/rocket_dark.mp4 --source examples/clips/coffee_dark.mp4` on
a free loopback port, waits until both cameras are live, and has headless Chromium (Debian's `chromium`,
driven over its DevTools protocol in real time, so that the H.264 tiles play) save ``serve_page.png`` (the
grid of live tiles, 1300x700) and ``serve_side_by_side.png`` (the first camera, original | enhanced,
1300x500), each once its videos have played a few seconds.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' real parts: server, browser

from tests.serve.browser import CHROMIUM, screenshot_when  # noqa: E402
from tests.serve.helpers import ServeProcess, wait_for  # noqa: E402

CLIPS = Path(__file__).resolve().parents[1] / "examples" / "clips"
TILES_PLAYING = "typeof minelightTiles === 'function' && minelightTiles().length == 2 && minelightTiles().every(t => t.frames > 25)"
LARGE_PLAYING = ("typeof minelightLarge === 'function' && "
                 "(l => l && (l.player == 'h264' ? l.frames > 25 : l.width > 0))(minelightLarge())")
SHOTS = {"serve_page.png": ("/", (1300, 700), TILES_PLAYING),  # file name: (page path, window size, when to take it)
         "serve_side_by_side.png": ("/#camera=rocket_dark&view=side", (1300, 500), LARGE_PLAYING)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=Path("docs/images"))
    args = ap.parse_args()
    if CHROMIUM is None:
        sys.exit("error: needs Debian's chromium (apt-get install chromium)")
    with tempfile.TemporaryDirectory() as tmp:
        server = ServeProcess(["--port", "0", "--source", str(CLIPS / "rocket_dark.mp4"),
                               "--source", str(CLIPS / "coffee_dark.mp4")], Path(tmp) / "serve.log")
        try:
            wait_for(lambda: set(server.states().values()) == {"live"}, 90, what="the demo cameras live")
            args.out.mkdir(parents=True, exist_ok=True)
            for name, (path, size, playing) in SHOTS.items():
                # 3 s more: a few seconds of the temporal steps, as a viewer would see
                png = screenshot_when(server.url + path, Path(tmp) / "chromium", playing, size, settle_s=3.0)
                (args.out / name).write_bytes(png)
                print(f"wrote {args.out / name}")
        finally:
            server.stop()


if __name__ == "__main__":
    main()
