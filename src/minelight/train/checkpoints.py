"""Resumable training checkpoints, written atomically with a content hash (the weights files that runs
produce are :mod:`minelight.models.weights`)."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import torch

from ..io import atomic_write_bytes
from ..weights import WeightsError


def save_checkpoint(path: str | os.PathLike, state: dict) -> None:
    """``torch.save`` a training state to ``path`` atomically, with the SHA-256 of its bytes inside. The
    checkpoint it replaces is kept as ``<name>.prev`` (the fallback if the new one is ever found corrupt)."""
    path = Path(path)
    buf = io.BytesIO()
    torch.save(state, buf)
    payload = buf.getvalue()
    wrapped = io.BytesIO()
    torch.save({"sha256": hashlib.sha256(payload).hexdigest(), "payload": payload}, wrapped)
    if path.exists():
        os.replace(path, previous_checkpoint(path))
    atomic_write_bytes(path, wrapped.getvalue())


def previous_checkpoint(path: str | os.PathLike) -> Path:
    return Path(f"{path}.prev")


def load_checkpoint(path: str | os.PathLike) -> dict:
    """Load a checkpoint written by :func:`save_checkpoint`, verifying its hash (WeightsError if it is
    missing, unreadable or corrupt)."""
    try:
        wrapped = torch.load(path, map_location="cpu", weights_only=False)
        payload = wrapped["payload"]
        ok = hashlib.sha256(payload).hexdigest() == wrapped["sha256"]
    except Exception as err:  # noqa: BLE001 - any unpickling failure means a bad file
        raise WeightsError(f"{path}: unreadable checkpoint ({type(err).__name__})") from None
    if not ok:
        raise WeightsError(f"{path}: corrupt checkpoint (content hash mismatch)")
    return torch.load(io.BytesIO(payload), map_location="cpu", weights_only=False)


def load_latest_checkpoint(path: str | os.PathLike, warn=lambda message: None) -> dict | None:
    """The state in ``path``, or, if that is missing or corrupt, in its ``.prev`` (``warn`` is told);
    ``None`` if neither exists. WeightsError if no good one exists."""
    path = Path(path)
    candidates = [p for p in (path, previous_checkpoint(path)) if p.exists()]
    errors = []
    for candidate in candidates:
        try:
            state = load_checkpoint(candidate)
        except WeightsError as err:
            errors.append(str(err))
            continue
        for message in errors:
            warn(f"{message}; using {candidate}")
        return state
    if errors:
        raise WeightsError("; ".join(errors))
    return None
