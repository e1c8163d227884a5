"""Training of Net-T (autoencoding normal-light images) and Net-S (distilled enhancement).

Run from the command line::

    minelight train teacher --data data/BSDS500/train --val data/BSDS500/val -o runs/teacher
    minelight train student --teacher runs/teacher/model.safetensors --data data/BSDS500/train \
        --val data/synth_val -o runs/student

Both are seeded; every ``ckpt_every`` steps ``last.pt`` (model, optimiser, scheduler, step) is written
atomically and ``--resume`` continues from it. ``log.csv`` holds losses, learning rate, it/s and
validation PSNR; ``model.safetensors`` holds the final weights with their config and provenance.
"""

from __future__ import annotations

import csv
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from . import distributed as distributed
from ..models.weights import load_weights, save_weights
from ..weights import WeightsError
from . import TrainingError
from .checkpoints import load_latest_checkpoint, save_checkpoint
from ..data.datasets import MixedSampler, PairSampler, load_folder, load_pairs
from ..data.degrade import DegradeConfig, degrade, light_corruption
from ..io import list_images, read_image, to_tensor
from .losses import (DistillConfig, DistillLoss, ReconstructionConfig, ReconstructionLoss, attention_transfer,
                     charbonnier)
from ..metrics.full_reference import psnr
from ..models import FastConfig, FastStudent, Student, StudentConfig, Teacher, TeacherConfig, ZeroDCE, ZeroDCEConfig
from ..models.fast import downsample
from ..models.registry import model_config
from .zero_reference import ZeroReferenceConfig, ZeroReferenceLoss


@dataclass
class RunConfig:
    data: tuple[str, ...] = ()  # folders of normal-light images (synthetic pairs are made from them)
    paired: tuple[str, ...] = ()  # LOL-layout folders with real low/high pairs (student only)
    paired_share: float = 0.75  # with both --paired and --data: share of batches drawn from the real pairs
    paired_crop: int = 0  # crop side (px) of the real-pair batches (512: a whole SICE frame); 0 = ``crop``
    paired_batch_size: int = 0  # batch size of the real-pair batches; 0 = ``batch_size``
    val: str = ""  # teacher: folder of clean images; student: LOL-layout folder of validation pairs
    val_images: int = 20  # validate on the first N images (0 = all)
    out: str = "runs/run"
    steps: int = 4000
    batch_size: int = 8
    crop: int = 128
    lr: float = 1e-3
    warmup: int = 100  # linear warm-up steps, then cosine decay to 1 % of lr
    seed: int = 0
    exposure_filter: bool = True  # keep only well-exposed images of the ``data`` folders
    log_every: int = 20
    val_every: int = 500
    ckpt_every: int = 200
    threads: int = 0  # torch intra-op threads; 0 = leave torch's default
    device: str = "cpu"  # cpu, cuda, or auto (CUDA when available); under torchrun each process uses its GPU
    init: str = ""  # weights (safetensors, same model and config) to start from: fine-tuning; "" = random


@dataclass
class TeacherRunConfig(RunConfig):
    out: str = "runs/teacher"
    model: TeacherConfig = field(default_factory=TeacherConfig)


@dataclass
class StudentRunConfig(RunConfig):
    out: str = "runs/student"
    teacher: str = ""  # Net-T weights; "random" = randomly initialised frozen Net-T; "" = no teacher
    model: StudentConfig = field(default_factory=StudentConfig)
    recon: ReconstructionConfig = field(default_factory=ReconstructionConfig)
    distill: DistillConfig = field(default_factory=DistillConfig)
    degrade: DegradeConfig = field(default_factory=DegradeConfig)


@dataclass
class ZeroDCERunConfig(RunConfig):
    out: str = "runs/zerodce"
    exposure_filter: bool = False  # Zero-DCE learns from images of every exposure
    model: ZeroDCEConfig = field(default_factory=ZeroDCEConfig)
    loss: ZeroReferenceConfig = field(default_factory=ZeroReferenceConfig)


@dataclass
class FastRunConfig(RunConfig):
    out: str = "runs/fast"
    batch_size: int = 3
    crop: int = 320  # full-resolution crop; the network sees it downsampled by ``low_factors`` (96-160 px)
    student: str = "shipped"  # Net-S weights whose outputs are distilled ("shipped", a path, or "" = none)
    teacher: str = "shipped"  # Net-T weights whose features guide the low-resolution network ("" = none)
    gt: float = 1.0  # weight of the reconstruction loss against the ground truth
    output_distill: float = 1.0  # weight of the Charbonnier distance to Net-S's output
    attention: float = 10.0  # weight of attention transfer from Net-T's features to the bottleneck's
    low_factors: tuple[float, ...] = (2.0, 3.33)  # downsampling factor drawn uniformly from this range per batch
    model: FastConfig = field(default_factory=FastConfig)
    recon: ReconstructionConfig = field(default_factory=ReconstructionConfig)
    degrade: DegradeConfig = field(default_factory=DegradeConfig)


def _freeze(model: nn.Module) -> nn.Module:
    model.eval()
    model.requires_grad_(False)
    return model


def _frozen(spec: str, name: str) -> nn.Module | None:
    """A frozen model from ``spec``: "shipped" (the package's weights), a weights path, or "" (None)."""
    if not spec:
        return None
    from ..enhance.enhancer import shipped_weights

    try:
        model, _ = load_weights(shipped_weights(name) if spec == "shipped" else spec, expect=name)
    except WeightsError as err:
        raise TrainingError(str(err)) from None
    return _freeze(model)


def build_teacher(spec: str, widths: tuple[int, ...], seed: int) -> Teacher | None:
    """The frozen Net-T for distillation: loaded from weights ("shipped" or a path), random (seeded), or None."""
    if spec == "random":
        torch.manual_seed(seed + 10_000)
        return _freeze(Teacher(TeacherConfig(widths=widths)))
    teacher = _frozen(spec, "teacher")
    if teacher is not None and tuple(teacher.config.widths) != tuple(widths):
        raise TrainingError(f"{spec}: teacher widths {teacher.config.widths} differ from the student's {widths}")
    return teacher


def _lr_lambda(cfg: RunConfig):
    def factor(step: int) -> float:
        if step < cfg.warmup:
            return (step + 1) / cfg.warmup
        progress = (step - cfg.warmup) / max(1, cfg.steps - cfg.warmup)
        return 0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))

    return factor


def _load_training_images(cfg: RunConfig) -> list[np.ndarray]:
    images = []
    for folder in cfg.data:
        images += load_folder(folder, well_exposed_only=cfg.exposure_filter, min_side=cfg.crop)
    return images


def pair_sampler(cfg: StudentRunConfig | FastRunConfig) -> PairSampler | MixedSampler:
    """Training pairs: real ones from ``cfg.paired``, synthetic ones degraded by ``cfg.degrade`` from
    ``cfg.data`` images, or both mixed batch by batch (``cfg.paired_share`` of the batches real)."""
    degrade_cfg = cfg.degrade
    real = synthetic = None
    if cfg.paired:
        pairs = [p for folder in cfg.paired for p in load_pairs(folder, as_uint8=True)]
        real = PairSampler([h for _, _, h in pairs], [lo for _, lo, _ in pairs],
                           crop=cfg.paired_crop or cfg.crop, batch_size=cfg.paired_batch_size or cfg.batch_size,
                           seed=cfg.seed)
    if cfg.data:
        synthetic = PairSampler(_load_training_images(cfg), crop=cfg.crop, batch_size=cfg.batch_size, seed=cfg.seed,
                                make_input=lambda img, rng: degrade(img, rng, degrade_cfg))
    return MixedSampler(real, synthetic, cfg.paired_share, cfg.seed) if real and synthetic else real or synthetic


def _load_val_pairs(cfg: RunConfig) -> list[tuple[np.ndarray, np.ndarray]]:
    """``[(low, high)]`` of the first ``val_images`` pairs of the LOL-layout ``val`` folder (none if unset)."""
    return [(lo, hi) for _, lo, hi in load_pairs(cfg.val, cfg.val_images)] if cfg.val else []


@torch.no_grad()
def validate(model: nn.Module, pairs: list[tuple[np.ndarray, np.ndarray]],
             device: torch.device | str = "cpu") -> float:
    """Mean PSNR (dB) of ``model`` over ``[(input, target)]`` full images."""
    model.eval()
    scores = [float(psnr(model(to_tensor(low).to(device))[0].cpu(), to_tensor(high))) for low, high in pairs]
    model.train()
    return float(np.mean(scores))


class _CsvLog:
    def __init__(self, path: Path):
        self.path = path
        self.fields: list[str] | None = None
        if path.exists():
            with path.open() as f:
                self.fields = next(csv.reader(f), None)

    def write(self, row: dict) -> None:
        new = self.fields is None
        if new:
            self.fields = list(row) + (["val_psnr"] if "val_psnr" not in row else [])
        with self.path.open("a", newline="") as f:
            writer = csv.DictWriter(f, self.fields, extrasaction="ignore", restval="")
            if new:
                writer.writeheader()
            writer.writerow(row)


class _StopOnSigterm:
    """While active (in the main thread), SIGTERM only sets ``requested``: the loop checkpoints the step
    it is on and stops."""

    def __init__(self):
        self.requested = False
        self.previous = None

    def __enter__(self) -> _StopOnSigterm:
        import signal
        import threading

        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGTERM, self._request)
        return self

    def _request(self, signum, frame) -> None:
        self.requested = True

    def __exit__(self, *exc) -> None:
        import signal

        if self.previous is not None:
            signal.signal(signal.SIGTERM, self.previous)


def fit(model: nn.Module, name: str, cfg: RunConfig, sampler: PairSampler, loss_fn, val_pairs, resume: bool,
        progress: bool = True, ctx: distributed.Context | None = None) -> Path:
    """The shared loop: ``loss_fn(model, low, high) -> (loss, {term: value})``. Returns the weights path.

    Under ``torchrun`` (``ctx.world`` > 1) the model is wrapped in DistributedDataParallel, each process
    takes its slice of every global batch, and only rank 0 logs, validates and writes files."""
    ctx = ctx or distributed.start(cfg.device)
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    model.to(ctx.device)
    optimiser = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=0.0)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimiser, _lr_lambda(cfg))
    start = 0
    ckpt_path = out / "last.pt"
    state = load_latest_checkpoint(ckpt_path, warn=_warn if ctx.main else lambda m: None) if resume else None
    if state is not None:
        model.load_state_dict(state["model"])
        optimiser.load_state_dict(state["optimiser"])
        scheduler.load_state_dict(state["scheduler"])
        torch.set_rng_state(state["torch_rng"])
        start = int(state["step"])
    elif cfg.init:  # a resumed run has its weights in the checkpoint
        _load_initial_weights(model, name, cfg.init)
    elapsed = float(state.get("elapsed", 0.0)) if start else 0.0
    net = model
    if ctx.world > 1:
        from torch.nn.parallel import DistributedDataParallel

        net = DistributedDataParallel(model, device_ids=[ctx.device.index] if ctx.device.type == "cuda" else None)
    log = _CsvLog(out / "log.csv") if ctx.main else None

    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    columns = [TextColumn(f"{name}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
               TextColumn("loss {task.fields[loss]:.4f}"), TextColumn("{task.fields[rate]:.2f} it/s"),
               TimeRemainingColumn()]
    model.train()
    window_start, window_steps = time.perf_counter(), 0
    with Progress(*columns, disable=not (progress and ctx.main), transient=False) as bar, _StopOnSigterm() as stop:
        task = bar.add_task(name, total=cfg.steps, completed=start, loss=float("nan"), rate=0.0)
        for step in range(start, cfg.steps):
            t0 = time.perf_counter()
            low, high = (t.to(ctx.device) for t in sampler.batch(step, ctx.rank, ctx.world))
            loss, terms = loss_fn(net, low, high)
            total, stopping = distributed.all_sum([float(loss.detach()), float(stop.requested)], ctx)
            loss_value = total / ctx.world  # the global batch's loss, the same on every process
            if not math.isfinite(loss_value):
                raise TrainingError(f"non-finite loss at step {step} ({terms}); last good checkpoint: {ckpt_path}")
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimiser.step()
            scheduler.step()
            elapsed += time.perf_counter() - t0
            window_steps += 1
            done = step + 1
            rate = window_steps / max(1e-9, time.perf_counter() - window_start)
            bar.update(task, completed=done, loss=loss_value, rate=rate)
            if not ctx.main:
                if stopping:
                    raise TrainingError(f"stopped by SIGTERM after step {done}")
                continue
            row = None
            if done % cfg.log_every == 0 or done == cfg.steps:
                row = {"step": done, "loss": loss_value, **terms, "lr": scheduler.get_last_lr()[0],
                       "it_s": round(rate, 3), "elapsed_s": round(elapsed, 1)}
                window_start, window_steps = time.perf_counter(), 0
            if val_pairs and (done % cfg.val_every == 0 or done == cfg.steps):
                row = row or {"step": done}
                row["val_psnr"] = round(validate(model, val_pairs, ctx.device), 3)
            if row:
                log.write(row)
            if done % cfg.ckpt_every == 0 or done == cfg.steps or stopping:
                save_checkpoint(ckpt_path, {
                    "model": model.state_dict(), "optimiser": optimiser.state_dict(),
                    "scheduler": scheduler.state_dict(), "torch_rng": torch.get_rng_state(),
                    "step": done, "elapsed": elapsed, "config": asdict(cfg),
                })
            if stopping:
                raise TrainingError(f"stopped by SIGTERM after step {done}; checkpoint {ckpt_path} (use --resume)")
    weights = out / "model.safetensors"
    if ctx.main:
        save_weights(weights, model.cpu(), name, steps=str(cfg.steps), train_seconds=f"{elapsed:.0f}",
                     run_config=_json(asdict(cfg)))
    distributed.finish(ctx)
    return weights


def _load_initial_weights(model: nn.Module, name: str, path: str) -> None:
    """Copy the weights of ``path`` (a ``name`` model with ``model``'s config) into ``model``."""
    try:
        source, _ = load_weights(path, expect=name)
    except WeightsError as err:
        raise TrainingError(f"--init: {err}") from None
    if model_config(source) != model_config(model):
        raise TrainingError(f"--init: {path} has config {model_config(source)}, the run builds "
                            f"{model_config(model)}; set the same model.* options")
    model.load_state_dict(source.state_dict())  # copies into the existing parameters (device kept)


def _warn(message: str) -> None:
    import sys

    print(f"warning: {message}", file=sys.stderr)


def _json(obj) -> str:
    import json

    return json.dumps(obj)


def _setup(cfg: RunConfig) -> distributed.Context:
    if cfg.threads > 0:
        torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    if not cfg.data and not cfg.paired:
        raise TrainingError("no training data: give --data DIR (normal-light images) or --paired DIR")
    return distributed.start(cfg.device)


def train_teacher(cfg: TeacherRunConfig, resume: bool = False, progress: bool = True) -> Path:
    """Train Net-T to reconstruct normal-light images from lightly corrupted copies."""
    ctx = _setup(cfg)
    model = Teacher(cfg.model)
    sampler = PairSampler(_load_training_images(cfg), crop=cfg.crop, batch_size=cfg.batch_size, seed=cfg.seed,
                          make_input=light_corruption)
    val_pairs = []
    if cfg.val:
        paths = list_images(cfg.val)[: cfg.val_images or None]
        val_pairs = [(img, img) for img in (read_image(p) for p in paths)]
    recon = ReconstructionLoss(ReconstructionConfig(ssim=0.0, colour=0.0))

    def loss_fn(net, corrupted, clean):
        out, _ = net(corrupted)
        return recon(out, clean)

    return fit(model, "teacher", cfg, sampler, loss_fn, val_pairs, resume, progress, ctx)


def train_student(cfg: StudentRunConfig, resume: bool = False, progress: bool = True) -> Path:
    """Train Net-S on (low, high) pairs with the multi-scale loss and, if a teacher is given, distillation.

    Pairs are real (``paired`` folders), synthetic (made from ``data`` images), or both, mixed batch by
    batch with ``paired_share`` of the batches real."""
    ctx = _setup(cfg)
    model = Student(cfg.model)
    teacher = build_teacher(cfg.teacher, cfg.model.widths, cfg.seed)
    teacher = teacher.to(ctx.device) if teacher is not None else None
    if teacher is not None and any(not 0 <= i < len(cfg.model.widths) for i in cfg.distill.levels):
        raise TrainingError(f"distill.levels {cfg.distill.levels} must lie in 0..{len(cfg.model.widths) - 1}")
    torch.manual_seed(cfg.seed)
    sampler = pair_sampler(cfg)
    val_pairs = _load_val_pairs(cfg)
    recon = ReconstructionLoss(cfg.recon)
    distill = DistillLoss(cfg.distill) if teacher is not None and cfg.distill.enabled else None

    def loss_fn(net, low, high):
        out, feats = net(low)
        loss, terms = recon(out, high)
        if distill is not None:
            with torch.no_grad():
                _, teacher_feats = teacher(high)
            kd, kd_terms = distill(feats, teacher_feats)
            loss, terms = loss + kd, {**terms, **kd_terms}
        return loss, terms

    return fit(model, "student", cfg, sampler, loss_fn, val_pairs, resume, progress, ctx)


def train_zerodce(cfg: ZeroDCERunConfig, resume: bool = False, progress: bool = True) -> Path:
    """Train the Zero-DCE baseline on unpaired images with its four zero-reference losses only
    (``val``: optional LOL-layout pairs, used for the logged PSNR and nothing else)."""
    ctx = _setup(cfg)
    model = ZeroDCE(cfg.model)
    sampler = PairSampler(_load_training_images(cfg), crop=cfg.crop, batch_size=cfg.batch_size, seed=cfg.seed,
                          make_input=lambda img, rng: img)
    val_pairs = _load_val_pairs(cfg)
    zero_ref = ZeroReferenceLoss(cfg.loss)

    def loss_fn(net, low, _unused_target):
        enhanced, curves = net(low)
        return zero_ref(enhanced, low, curves)

    return fit(model, "zerodce", cfg, sampler, loss_fn, val_pairs, resume, progress, ctx)


def train_fast(cfg: FastRunConfig, resume: bool = False, progress: bool = True) -> Path:
    """Train the fast student on synthetic and/or real pairs (as Net-S): reconstruction against the ground
    truth, Charbonnier distance to the frozen Net-S's output (output distillation), and attention transfer
    from the frozen Net-T's deepest-level features of the clean image, seen at the fast net's low
    resolution, to the fast net's bottleneck (feature distillation; Net-T needs at least as many levels)."""
    ctx = _setup(cfg)
    model = FastStudent(cfg.model)
    student, teacher = (m.to(ctx.device) if m is not None else None
                        for m in (_frozen(cfg.student, "student"), _frozen(cfg.teacher, "teacher")))
    if len(cfg.low_factors) != 2 or not 1.0 <= cfg.low_factors[0] <= cfg.low_factors[1]:
        raise TrainingError(f"low_factors must be two numbers 1 <= lo <= hi, got {cfg.low_factors}")
    torch.manual_seed(cfg.seed)
    sampler = pair_sampler(cfg)
    val_pairs = _load_val_pairs(cfg)
    recon = ReconstructionLoss(cfg.recon)
    batch = sampler.batch

    def batch_with_factor(step: int, rank: int = 0, world: int = 1):  # the step's downsampling factor
        sampler.factor = np.random.default_rng([cfg.seed, 7, step]).uniform(*cfg.low_factors)
        return batch(step, rank, world)

    sampler.batch = batch_with_factor

    def loss_fn(net, low, high):
        factor = sampler.factor
        low_side = round(low.shape[-1] / factor)
        out, feats = net(low, downsample(low, low_side))
        loss, terms = recon(out, high)
        loss = cfg.gt * loss
        if student is not None and cfg.output_distill > 0:
            with torch.no_grad():
                target, _ = student(low)
            value = charbonnier(out, target)
            terms["to_student"] = float(value.detach())
            loss = loss + cfg.output_distill * value
        if teacher is not None and cfg.attention > 0:
            with torch.no_grad():  # Net-T sees the clean image at the fast net's resolution: same level, same size
                _, teacher_feats = teacher(downsample(high, low_side))
            level = len(feats) - 1
            value = attention_transfer(feats[level], teacher_feats[level][..., :feats[level].shape[-2],
                                                                          :feats[level].shape[-1]])
            terms["attention"] = float(value.detach())
            loss = loss + cfg.attention * value
        return loss, terms

    return fit(model, "fast", cfg, sampler, loss_fn, val_pairs, resume, progress, ctx)
