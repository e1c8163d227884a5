"""Make the demo camera clips in examples/clips/ from the shipped dark sample images.

    python tools/make_clips.py

Each clip: 4 s at 12 FPS, the sample image panned slowly (one pixel every other frame), with fresh sensor
noise in every frame, H.264. `minelight serve --source examples/clips/rocket_dark.mp4` plays it in a loop.
"""

from pathlib import Path

import numpy as np

from minelight.io import read_image, to_uint8
from minelight.video.streams import VideoWriter

HERE = Path(__file__).resolve().parents[1] / "examples"


def main() -> None:
    rng = np.random.default_rng(0)
    for name in ("rocket_dark", "coffee_dark"):
        img = read_image(HERE / f"{name}.jpg")
        h, w = img.shape[0] // 2 * 2, (img.shape[1] - 24) // 2 * 2
        with VideoWriter(HERE / "clips" / f"{name}.mp4", w, h, 12, crf=26) as writer:
            for k in range(48):
                x = k // 2
                frame = img[:h, x:x + w] + 0.008 * rng.standard_normal((h, w, 3))
                writer.write(to_uint8(frame))


if __name__ == "__main__":
    main()
