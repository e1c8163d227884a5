"""The inference pipeline: a method's network (ONNX) or classical operator, then the recipe's steps.

``Enhancer`` and ``plan_outputs`` are loaded on first use, so importing a step module (``halo``,
``chroma`` …) does not load onnxruntime.
"""

from __future__ import annotations

__all__ = ["Enhancer", "plan_outputs", "resolve"]


def __getattr__(name: str):
    if name in ("Enhancer", "plan_outputs"):
        from . import enhancer

        return getattr(enhancer, name)
    if name == "resolve":
        from .recipes import resolve

        return resolve
    raise AttributeError(f"module 'minelight.enhance' has no attribute {name!r}")
