"""Model weights: safetensors files whose header names the model, its config and how it was made."""

from __future__ import annotations

import json
import os
from pathlib import Path

from safetensors import SafetensorError
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save
from torch import nn

from ..errors import first_line
from ..io import atomic_write_bytes
from ..weights import WeightsError, model_header
from .registry import create_model, model_config


def save_weights(path: str | os.PathLike, model: nn.Module, name: str, **meta: str) -> None:
    """Save ``model`` (registered as ``name``) to a safetensors file; its config and ``meta`` go in the header."""
    header = {"model": name, "config": json.dumps(model_config(model)), **{k: str(v) for k, v in meta.items()}}
    tensors = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
    atomic_write_bytes(path, st_save(tensors, metadata=header))


def load_weights(path: str | os.PathLike, expect: str | None = None) -> tuple[nn.Module, dict[str, str]]:
    """Build the model a weights file describes and load it, in eval mode. Returns (model, metadata)."""
    path = Path(path)
    name, config, meta = model_header(path, expect)
    try:
        model = create_model(name, **config)
        model.load_state_dict(st_load(path.read_bytes()))
    except (RuntimeError, TypeError, ValueError, SafetensorError) as err:
        raise WeightsError(f"{path}: weights do not fit the {name!r} model ({first_line(err)})") from None
    return model.eval(), meta
