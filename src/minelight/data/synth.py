"""Write a fixed paired set in the LOL layout from normal-light images with the degradation synthesiser.

    minelight synth --src data/BSDS500/val -o data/synth_val --seed 0
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .degrade import DegradeConfig, degrade
from ..io import list_images, read_image, write_image


def write_synthetic_pairs(src: str | os.PathLike, out: str | os.PathLike, seed: int = 0,
                          config: DegradeConfig | None = None,
                          on_image: Callable[[Path], None] | None = None) -> int:
    """Degrade every image of ``src`` into ``out/low/NAME.png`` with its original as ``out/high/NAME.png``.

    Image ``i`` (in name order) uses the seed ``(seed, i)``, so the set is the same on every machine.
    Returns the number of pairs written.
    """
    paths = list_images(src)
    out = Path(out)
    (out / "low").mkdir(parents=True, exist_ok=True)
    (out / "high").mkdir(parents=True, exist_ok=True)
    for index, path in enumerate(paths):
        high = read_image(path)
        low = degrade(high, np.random.default_rng([seed, index]), config)
        write_image(out / "high" / f"{path.stem}.png", high)
        write_image(out / "low" / f"{path.stem}.png", low)
        if on_image:
            on_image(path)
    return len(paths)
