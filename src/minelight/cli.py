"""The ``minelight`` command. Run ``minelight --help``.

Examples::

    minelight enhance examples/ -o out/
    minelight synth --src ../shared/data/BSDS500/val --out data/synth_val --seed 0
    minelight train teacher --data ../shared/data/BSDS500/train --out runs/teacher
    minelight train student --teacher runs/teacher/model.safetensors --data ../shared/data/BSDS500/train
    minelight info
"""

from __future__ import annotations

import functools
import os
import sys
from pathlib import Path
from typing import Optional

import typer

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Low-light enhancement for coal-mine surveillance images and video.")
train_app = typer.Typer(no_args_is_help=True, help="Train Net-T (teacher) or Net-S (student).")
app.add_typer(train_app, name="train")


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)


def guarded(fn):
    """Turn the project's known errors into one line on stderr and exit code 1 (``MINELIGHT_DEBUG=1``
    shows the traceback)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        from .checkpoint import WeightsError
        from .io import ImageError
        from .train import TrainingError

        try:
            return fn(*args, **kwargs)
        except (ImageError, WeightsError, TrainingError, ValueError, OSError) as err:
            if os.environ.get("MINELIGHT_DEBUG"):
                raise
            _fail(str(err).splitlines()[0] if str(err) else type(err).__name__)
        except KeyboardInterrupt:
            _fail("interrupted")

    return wrapper


def _run_config(cfg, data, val, out, steps, batch_size, crop, lr, seed, threads, overrides):
    from .config import apply_overrides

    cfg.data = tuple(str(d) for d in data or ())
    cfg.val = str(val) if val else ""
    for key, value in (("out", out), ("steps", steps), ("batch_size", batch_size), ("crop", crop), ("lr", lr),
                       ("seed", seed), ("threads", threads)):
        if value is not None:
            setattr(cfg, key, str(value) if isinstance(value, Path) else value)
    return apply_overrides(cfg, list(overrides or ()))


DataOpt = typer.Option(None, "--data", help="Folder of normal-light images (repeatable).")
ValOpt = typer.Option(None, "--val", help="Validation folder.")
OutOpt = typer.Option(None, "--out", help="Run folder (checkpoints, log.csv, model.safetensors).")
StepsOpt = typer.Option(None, "--steps")
BatchOpt = typer.Option(None, "--batch-size")
CropOpt = typer.Option(None, "--crop")
LrOpt = typer.Option(None, "--lr")
SeedOpt = typer.Option(None, "--seed")
ThreadsOpt = typer.Option(None, "--threads", help="Torch threads (default: torch's choice).")
SetOpt = typer.Option(None, "--set", help="Config override key=value, e.g. distill.tau=4 (repeatable).")
ResumeOpt = typer.Option(False, "--resume", help="Continue from the run folder's last.pt.")
QuietOpt = typer.Option(False, "--quiet", help="No progress bar.")


@train_app.command("teacher")
@guarded
def train_teacher_cmd(data: Optional[list[Path]] = DataOpt, val: Optional[Path] = ValOpt, out: Optional[Path] = OutOpt,
                      steps: Optional[int] = StepsOpt, batch_size: Optional[int] = BatchOpt,
                      crop: Optional[int] = CropOpt, lr: Optional[float] = LrOpt, seed: Optional[int] = SeedOpt,
                      threads: Optional[int] = ThreadsOpt, overrides: Optional[list[str]] = SetOpt,
                      resume: bool = ResumeOpt, quiet: bool = QuietOpt):
    """Train Net-T to autoencode normal-light images (val: a folder of clean images)."""
    from .train import TeacherRunConfig, train_teacher

    cfg = _run_config(TeacherRunConfig(), data, val, out, steps, batch_size, crop, lr, seed, threads, overrides)
    typer.echo(f"weights: {train_teacher(cfg, resume=resume, progress=not quiet)}")


@train_app.command("student")
@guarded
def train_student_cmd(data: Optional[list[Path]] = DataOpt,
                      paired: Optional[list[Path]] = typer.Option(None, "--paired", help="LOL-layout pairs folder."),
                      teacher: str = typer.Option("", "--teacher", help="Net-T weights, 'random', or '' (none)."),
                      val: Optional[Path] = ValOpt, out: Optional[Path] = OutOpt,
                      steps: Optional[int] = StepsOpt, batch_size: Optional[int] = BatchOpt,
                      crop: Optional[int] = CropOpt, lr: Optional[float] = LrOpt, seed: Optional[int] = SeedOpt,
                      threads: Optional[int] = ThreadsOpt, overrides: Optional[list[str]] = SetOpt,
                      resume: bool = ResumeOpt, quiet: bool = QuietOpt):
    """Train Net-S on synthetic (from --data) or real (--paired) pairs, distilled from a frozen Net-T."""
    from .train import StudentRunConfig, train_student

    cfg = _run_config(StudentRunConfig(), data, val, out, steps, batch_size, crop, lr, seed, threads, overrides)
    cfg.paired = tuple(str(p) for p in paired or ())
    cfg.teacher = teacher
    typer.echo(f"weights: {train_student(cfg, resume=resume, progress=not quiet)}")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
