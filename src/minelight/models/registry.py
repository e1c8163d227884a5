"""A flat model registry: the function name is the model name, its keyword arguments the config fields."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict

from torch import nn

from .fast import FastConfig, FastStudent
from .student import Student, StudentConfig
from .teacher import Teacher, TeacherConfig
from .zero_dce import ZeroDCE, ZeroDCEConfig

_MODELS: dict[str, Callable[..., nn.Module]] = {}


def register_model(fn: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
    _MODELS[fn.__name__] = fn
    return fn


def list_models() -> list[str]:
    return sorted(_MODELS)


def create_model(name: str, **config) -> nn.Module:
    """Build a registered model; ``config`` overrides its dataclass fields."""
    if name not in _MODELS:
        raise ValueError(f"unknown model {name!r}; known: {', '.join(list_models())}")
    return _MODELS[name](**config)


def model_config(model: nn.Module) -> dict:
    """The config of a registered model as a plain dict (tuples become lists)."""
    return asdict(model.config)


@register_model
def teacher(**config) -> Teacher:
    return Teacher(TeacherConfig(**_tuples(config)))


@register_model
def student(**config) -> Student:
    return Student(StudentConfig(**_tuples(config)))


@register_model
def fast(**config) -> FastStudent:
    return FastStudent(FastConfig(**_tuples(config)))


@register_model
def zerodce(**config) -> ZeroDCE:
    return ZeroDCE(ZeroDCEConfig(**config))


def _tuples(config: dict) -> dict:
    return {k: tuple(v) if isinstance(v, list) else v for k, v in config.items()}
