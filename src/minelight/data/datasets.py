"""Data sets: normal-light image folders, paired folders in the LOL layout, and batch sampling.

Images are kept in memory as uint8 RGB ``(H, W, 3)``; batches are float32 ``(B, 3, h, w)`` in [0, 1].
Batch ``k`` depends only on (seed, k), so a resumed run sees exactly the batches it would have seen.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch

from .degrade import DegradeConfig, degrade
from ..color import luma
from ..io import ImageError, list_images, read_image, to_uint8


def is_well_exposed(img: np.ndarray, low: float = 0.3, high: float = 0.7, clipped: float = 0.05) -> bool:
    """True when mean luma is in [low, high] and under ``clipped`` of pixels are near black or white."""
    luma_map = luma(img)
    dark, bright = (luma_map < 0.02).mean(), (luma_map > 0.98).mean()
    return low <= luma_map.mean() <= high and dark < clipped and bright < clipped


def load_folder(folder: str | os.PathLike, well_exposed_only: bool = False, min_side: int = 0) -> list[np.ndarray]:
    """Read every image of a folder as uint8 RGB, optionally keeping only well-exposed ones."""
    images = []
    for path in list_images(folder):
        img = read_image(path)
        if min(img.shape[:2]) < min_side or (well_exposed_only and not is_well_exposed(img)):
            continue
        images.append(to_uint8(img))
    if not images:
        raise ImageError(f"{folder}: no usable images")
    return images


def match_pairs(root: str | os.PathLike) -> list[tuple[str, Path, Path]]:
    """Pairs ``(name, low_path, high_path)`` of a LOL-layout folder ``root/{low,high}/NAME.ext``.

    Names are matched by file stem; any unmatched name is an error that lists them.
    """
    root = Path(root)
    for sub in ("low", "high"):
        if not (root / sub).is_dir():
            raise ImageError(f"{root}: expected the LOL layout with a '{sub}/' folder")
    lows = {p.stem: p for p in list_images(root / "low")}
    highs = {p.stem: p for p in list_images(root / "high")}
    unmatched = sorted(set(lows) ^ set(highs))
    if unmatched:
        shown = ", ".join(unmatched[:10]) + (" ..." if len(unmatched) > 10 else "")
        raise ImageError(f"{root}: {len(unmatched)} names without a partner in low/ or high/: {shown}")
    return [(name, lows[name], highs[name]) for name in sorted(lows)]


def load_pairs(root: str | os.PathLike, limit: int = 0,
               as_uint8: bool = False) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """Read a LOL-layout folder: ``[(name, low, high)]`` as float32 RGB arrays of equal shape (uint8 with
    ``as_uint8``, converted pair by pair so that a large set never sits in memory as float32); only the
    first ``limit`` pairs in name order if ``limit`` > 0 (all names are still matched and checked)."""
    pairs = []
    for name, low_path, high_path in match_pairs(root)[: limit or None]:
        low, high = read_image(low_path), read_image(high_path)
        if low.shape != high.shape:
            raise ImageError(f"{low_path}: size {low.shape[:2]} differs from {high_path} {high.shape[:2]}")
        pairs.append((name, to_uint8(low), to_uint8(high)) if as_uint8 else (name, low, high))
    return pairs


def random_crop(rng: np.random.Generator, arrays: Sequence[np.ndarray], size: int) -> list[np.ndarray]:
    """The same random ``size``x``size`` window of each array (all of equal H, W >= size)."""
    h, w = arrays[0].shape[:2]
    top, left = int(rng.integers(0, h - size + 1)), int(rng.integers(0, w - size + 1))
    return [a[top : top + size, left : left + size] for a in arrays]


def random_flip(rng: np.random.Generator, arrays: Sequence[np.ndarray]) -> list[np.ndarray]:
    """The same random horizontal flip and 90-degree-free vertical flip for each array."""
    if rng.random() < 0.5:
        arrays = [a[:, ::-1] for a in arrays]
    if rng.random() < 0.5:
        arrays = [a[::-1] for a in arrays]
    return list(arrays)


def _stack(arrays: list[np.ndarray]) -> torch.Tensor:
    return torch.from_numpy(np.stack(arrays).astype(np.float32)).permute(0, 3, 1, 2).contiguous()


class PairSampler:
    """Deterministic training batches of ``(input, target)`` crops.

    ``targets``: uint8 normal-light images. ``inputs``: the matching low-light images for real pairs,
    or ``None`` to synthesise them with ``make_input(target_crop, rng)`` (default: :func:`degrade`).
    """

    def __init__(
        self,
        targets: list[np.ndarray],
        inputs: list[np.ndarray] | None = None,
        crop: int = 128,
        batch_size: int = 8,
        seed: int = 0,
        make_input: Callable[[np.ndarray, np.random.Generator], np.ndarray] | None = None,
    ):
        if not targets:
            raise ValueError("no training images")
        if inputs is not None and len(inputs) != len(targets):
            raise ValueError("inputs and targets differ in length")
        small = [i for i, t in enumerate(targets) if min(t.shape[:2]) < crop]
        if small:
            raise ValueError(f"{len(small)} training images are smaller than the crop size {crop}")
        self.targets, self.inputs = targets, inputs
        self.crop, self.batch_size, self.seed = crop, batch_size, seed
        self.make_input = make_input or (lambda img, rng: degrade(img, rng, DegradeConfig()))

    def batch(self, step: int, rank: int = 0, world: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
        """Batch number ``step``: ``(B, 3, crop, crop)`` twice, ``B = batch_size / world``, the ``rank``-th slice
        of the global batch. Every sample has its own seed, so the global batch is the same for any ``world``."""
        if self.batch_size % world:
            raise ValueError(f"batch size {self.batch_size} does not split over {world} processes")
        chosen = np.random.default_rng([self.seed, step]).integers(0, len(self.targets), self.batch_size)
        per = self.batch_size // world
        lows, highs = [], []
        for slot in range(rank * per, (rank + 1) * per):
            rng = np.random.default_rng([self.seed, step, slot])
            index = chosen[slot]
            arrays = [self.targets[index]] if self.inputs is None else [self.targets[index], self.inputs[index]]
            arrays = random_flip(rng, random_crop(rng, arrays, self.crop))
            high = arrays[0].astype(np.float32) / 255.0
            low = self.make_input(high, rng) if self.inputs is None else arrays[1].astype(np.float32) / 255.0
            highs.append(high)
            lows.append(low)
        return _stack(lows), _stack(highs)


class MixedSampler:
    """Batches from two samplers: batch ``k`` comes from ``first`` with probability ``share`` (decided by
    ``(seed, k)`` alone, so resumed and distributed runs see the same batches), otherwise from ``second``."""

    def __init__(self, first: PairSampler, second: PairSampler, share: float, seed: int = 0):
        if not 0.0 <= share <= 1.0:
            raise ValueError(f"share must be in [0, 1], got {share}")
        self.first, self.second, self.share, self.seed = first, second, share, seed

    def source(self, step: int) -> PairSampler:
        """The sampler batch ``step`` is drawn from."""
        return self.first if np.random.default_rng([self.seed, 13, step]).random() < self.share else self.second

    def batch(self, step: int, rank: int = 0, world: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
        return self.source(step).batch(step, rank, world)
