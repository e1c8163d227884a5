"""Model weights (safetensors + metadata) and resumable training checkpoints, all written atomically."""

from __future__ import annotations

import hashlib
import io
import json
import os
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save
from safetensors import safe_open
from torch import nn

from ..io import atomic_write_bytes
from ..models import create_model, model_config


class WeightsError(ValueError):
    """A weights or checkpoint file is missing, corrupt, or does not fit the model."""


def save_weights(path: str | os.PathLike, model: nn.Module, name: str, **meta: str) -> None:
    """Save ``model`` (registered as ``name``) to a safetensors file; its config and ``meta`` go in the header."""
    header = {"model": name, "config": json.dumps(model_config(model)), **{k: str(v) for k, v in meta.items()}}
    tensors = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
    atomic_write_bytes(path, st_save(tensors, metadata=header))


def read_metadata(path: str | os.PathLike) -> dict[str, str]:
    """The header metadata of a weights file."""
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"{path}: no such weights file")
    try:
        with safe_open(str(path), framework="pt") as f:
            return dict(f.metadata() or {})
    except (SafetensorError, OSError, ValueError) as err:
        raise WeightsError(f"{path}: not a valid safetensors file ({err})") from None


def load_weights(path: str | os.PathLike, expect: str | None = None) -> tuple[nn.Module, dict[str, str]]:
    """Build the model a weights file describes and load it, in eval mode. Returns (model, metadata)."""
    path = Path(path)
    meta = read_metadata(path)
    name = meta.get("model")
    if name is None or "config" not in meta:
        raise WeightsError(f"{path}: no minelight model metadata in the file")
    if expect is not None and name != expect:
        raise WeightsError(f"{path}: holds a {name!r} model, expected {expect!r}")
    try:
        model = create_model(name, **json.loads(meta["config"]))
        model.load_state_dict(st_load(path.read_bytes()))
    except (RuntimeError, TypeError, ValueError, SafetensorError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise WeightsError(f"{path}: weights do not fit the {name!r} model ({first})") from None
    return model.eval(), meta


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
