"""The fixed SICE Part 1 split, by file number: train 1-1400, validation 1401-1600, test 1601-2002.

Everything is chosen on validation and trained on train; test is only ever scored. A scene (a run of
consecutive numbers) that crosses a boundary belongs to neither side: ``minelight pairs --files``
drops it (see :func:`minelight.data.pairs.scene_groups`). The tuning scripts in ``benchmarks/`` take the same
``--files`` and default to the validation split.
"""

from __future__ import annotations

SICE_SPLITS = {"train": (1, 1400), "val": (1401, 1600), "test": (1601, 2002)}


def sice_split(number: int) -> str:
    """The split ("train", "val" or "test") of SICE Part 1 file ``number``."""
    for name, (first, last) in SICE_SPLITS.items():
        if first <= number <= last:
            return name
    raise ValueError(f"SICE Part 1 has files 1-2002, not {number}")


def parse_files(text: str) -> tuple[int, int]:
    """``"FIRST-LAST"`` (e.g. ``"1-1400"``) or a split name -> ``(first, last)`` file numbers."""
    if text in SICE_SPLITS:
        return SICE_SPLITS[text]
    first, sep, last = text.partition("-")
    if not (sep and first.isdigit() and last.isdigit() and int(first) <= int(last)):
        raise ValueError(f"--files: expected FIRST-LAST or a split name ({', '.join(SICE_SPLITS)}), got {text!r}")
    return int(first), int(last)


def tuning_files(text: str) -> tuple[int, int]:
    """:func:`parse_files` for anything that trains, tunes or chooses (every script in ``benchmarks/``): a
    range that reaches into the test split (1601-2002) is a ``ValueError``; only the final test benchmark
    (``minelight benchmark`` on ``minelight pairs --files test``) reads it."""
    first, last = parse_files(text)
    test_first, test_last = SICE_SPLITS["test"]
    if first <= test_last and last >= test_first:
        raise ValueError(f"--files {text}: SICE files {test_first}-{test_last} are the test split, read only by "
                         "the final test benchmark; choose on val (1401-1600), train on train (1-1400)")
    return first, last
