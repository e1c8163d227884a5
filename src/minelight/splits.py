"""The fixed SICE Part 1 split, by file number: train 1-1400, validation 1401-1600, test 1601-2002.

Everything is chosen on validation and trained on train; test is only ever scored. A scene (a run of
consecutive numbers) that crosses a boundary belongs to neither side: ``minelight pairs --files``
drops it (see :func:`minelight.pairs.scene_groups`).
"""

from __future__ import annotations

SICE_SPLITS = {"train": (1, 1400), "val": (1401, 1600), "test": (1601, 2002)}


def sice_split(number: int) -> str:
    """The split ("train", "val" or "test") of SICE Part 1 file ``number``."""
    for name, (first, last) in SICE_SPLITS.items():
        if first <= number <= last:
            return name
    raise ValueError(f"SICE Part 1 has files 1-2002, not {number}")


def split_files(name: str) -> tuple[int, int]:
    """``(first, last)`` file numbers of split ``name``, for ``minelight pairs --files``."""
    if name not in SICE_SPLITS:
        raise ValueError(f"unknown split {name!r}; choose from {', '.join(SICE_SPLITS)}")
    return SICE_SPLITS[name]
