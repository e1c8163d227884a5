"""Make the shipped sample images: public-domain / CC0 photos bundled with scikit-image, darkened
with minelight's own mine-like degradation synthesiser (fixed seeds).

    pip install scikit-image && python tools/make_examples.py

Sources (scikit-image's ``skimage/data``): astronaut (NASA, public domain), coffee (Rachel Michetti,
CC0), chelsea (Stefan van der Walt, CC0), rocket (SpaceX, public domain).
"""

from pathlib import Path

import cv2
import numpy as np
import skimage.data

from minelight.data.degrade import DegradeConfig, degrade
from minelight.io import from_uint8, write_image

SOURCES = ("astronaut", "coffee", "chelsea", "rocket")
# darker than average and noisy, like a mine camera: lamps on, heavy shot noise
CONFIG = DegradeConfig(exposure=(0.02, 0.03), lamp_prob=1.0, lamp_gain=(0.05, 0.2), full_well=(400.0, 1200.0),
                       jpeg_prob=0.0)


def main(out: Path = Path(__file__).resolve().parents[1] / "examples", width: int = 400) -> None:
    for seed, name in enumerate(SOURCES):
        img = getattr(skimage.data, name)()[..., :3]
        h = round(img.shape[0] * width / img.shape[1])
        img = cv2.resize(img, (width, h), interpolation=cv2.INTER_AREA)
        dark = degrade(from_uint8(np.ascontiguousarray(img)), seed, CONFIG)
        write_image(out / f"{name}_dark.jpg", dark)
        print(out / f"{name}_dark.jpg", dark.shape)


if __name__ == "__main__":
    main()
