"""Typed ``key=value`` overrides for dataclass configs (``distill.tau=4``, ``model.widths=16,32,64``).

Values are parsed by the declared field type: bool, int, float, str, or a tuple of those
(comma-separated). No ``eval``/``exec`` is ever used.
"""

from __future__ import annotations

import dataclasses
import typing


def _parse(text: str, kind, name: str):
    origin = typing.get_origin(kind)
    if origin is tuple:
        inner = typing.get_args(kind)[0]
        return tuple(_parse(part, inner, name) for part in text.split(",") if part.strip())
    if kind is bool:
        if text.lower() in ("1", "true", "yes", "on"):
            return True
        if text.lower() in ("0", "false", "no", "off"):
            return False
        raise ValueError(f"{name}: expected true/false, got {text!r}")
    if kind in (int, float, str):
        try:
            return kind(text)
        except ValueError:
            raise ValueError(f"{name}: expected {kind.__name__}, got {text!r}") from None
    raise ValueError(f"{name}: cannot be set from the command line")


def apply_override(config, assignment: str) -> None:
    """Set one ``dotted.key=value`` on a (nested) dataclass instance, in place."""
    if "=" not in assignment:
        raise ValueError(f"override {assignment!r} is not of the form key=value")
    key, text = assignment.split("=", 1)
    *parents, leaf = key.strip().split(".")
    target = config
    for part in parents:
        target = getattr(target, part, None)
        if not dataclasses.is_dataclass(target):
            raise ValueError(f"unknown config section {part!r} in {key!r}")
    hints = typing.get_type_hints(type(target))
    if leaf not in {f.name for f in dataclasses.fields(target)}:
        known = ", ".join(f.name for f in dataclasses.fields(target))
        raise ValueError(f"unknown config key {key!r}; {'.'.join(parents) or 'top level'} has: {known}")
    if dataclasses.is_dataclass(hints[leaf]):
        raise ValueError(f"{key!r} is a section; set one of its fields, e.g. {key}.NAME=VALUE")
    setattr(target, leaf, _parse(text.strip(), hints[leaf], key))


def apply_overrides(config, assignments: list[str]):
    for assignment in assignments:
        apply_override(config, assignment)
    return config
