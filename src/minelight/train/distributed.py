"""Data-parallel training under ``torchrun`` (PyTorch DistributedDataParallel).

    torchrun --nproc_per_node 2 -m minelight train student --data DIR --batch-size 8 ...

``torchrun`` sets ``RANK``, ``LOCAL_RANK`` and ``WORLD_SIZE``; with ``WORLD_SIZE`` > 1 the process group
is started (``nccl`` when CUDA is available, else ``gloo``), each process trains on its slice of the
global batch (``--batch-size`` is the global batch) and only rank 0 logs, validates and checkpoints.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass
class Context:
    rank: int = 0
    world: int = 1
    device: torch.device = torch.device("cpu")

    @property
    def main(self) -> bool:
        return self.rank == 0


def start(device: str = "auto") -> Context:
    """The process's place in the job; starts the process group when launched by ``torchrun``.

    ``device``: ``auto`` (CUDA if available), ``cpu`` or ``cuda``."""
    cuda = torch.cuda.is_available() if device == "auto" else device == "cuda"
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("device cuda: CUDA is not available")
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Context(device=torch.device("cuda" if cuda else "cpu"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if cuda:
        torch.cuda.set_device(local_rank)
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if cuda else "gloo")
    return Context(rank=dist.get_rank(), world=dist.get_world_size(),
                   device=torch.device(f"cuda:{local_rank}" if cuda else "cpu"))


def all_sum(values: list[float], ctx: Context) -> list[float]:
    """Element-wise sum of ``values`` over all processes (the values themselves when alone)."""
    if ctx.world == 1:
        return values
    t = torch.tensor(values, dtype=torch.float64, device=ctx.device)
    dist.all_reduce(t)
    return t.tolist()


def finish(ctx: Context) -> None:
    if ctx.world > 1 and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()
