"""The machine a benchmark ran on, in the words the run entries of docs/results.json use.

    from machine import machine
    machine("minelight 0.4.0, onnxruntime")   # '2 CPU cores (AMD EPYC), x86_64, no GPU; minelight 0.4.0, onnxruntime'
"""

from __future__ import annotations

import os
import platform
from pathlib import Path


def _proc(name: str, key: str) -> str | None:
    """The value of the first ``key:`` line of ``/proc/NAME`` (Linux), or None."""
    path = Path("/proc") / name
    if not path.exists():
        return None
    return next((line.split(":", 1)[1].strip() for line in path.read_text().splitlines() if line.startswith(key)),
                None)


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo``; else what ``platform`` knows)."""
    return _proc("cpuinfo", "model name") or platform.processor() or "unknown CPU"


def machine(*details: str, ram: bool = False) -> str:
    """``N CPU cores (MODEL), ARCH[, M GiB RAM], no GPU`` followed by ``details``, joined by ``; ``."""
    head = f"{os.cpu_count()} CPU cores ({cpu_model()}), {platform.machine()}"
    mem = _proc("meminfo", "MemTotal") if ram else None
    if mem:
        head += f", {int(mem.split()[0]) / (1 << 20):.0f} GiB RAM"
    return "; ".join([head + ", no GPU", *details])
