"""The ``minelight`` command. Run ``minelight --help``.

Examples::

    minelight enhance examples/ -o out/
    minelight synth --src data/BSDS500/val -o data/synth_val --seed 0
    minelight train teacher --data data/BSDS500/train -o runs/teacher
    minelight train student --teacher runs/teacher/model.safetensors --data data/BSDS500/train
    minelight score out/ --metrics niqe,entropy -o scores.csv
    minelight benchmark --paired SYNTH=data/synth_val --unpaired DICM=data/DICM -o report/
    minelight info
"""

from __future__ import annotations

import functools
import json
import os
import sys
from pathlib import Path
from typing import Optional

import typer

from .errors import error_line

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Low-light enhancement for coal-mine surveillance images and video.")
train_app = typer.Typer(no_args_is_help=True, help="Train Net-T (teacher) or Net-S (student).")
app.add_typer(train_app, name="train")


def _show_version(value: bool) -> None:
    if value:
        from . import __version__
        from .weights import SHIPPED, read_metadata, shipped_weights, weights_version

        shipped = ", ".join(f"{n} {weights_version(read_metadata(shipped_weights(n)))}" for n in SHIPPED)
        typer.echo(f"minelight {__version__} (weights: {shipped})")
        raise typer.Exit()


@app.callback()
def _options(debug: bool = typer.Option(False, "--debug", help="Show the traceback of an error."),
             version: bool = typer.Option(False, "--version", callback=_show_version, is_eager=True,
                                          help="Show the version and the shipped weights' versions.")):
    if debug:
        os.environ["MINELIGHT_DEBUG"] = "1"


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)


TRAIN_EXTRA = ("torch", "kornia", "safetensors", "onnx", "onnxscript", "matplotlib")  # what [train] adds


def guarded(fn):
    """Turn the project's known errors into one line on stderr and exit code 1 (``MINELIGHT_DEBUG=1``
    shows the traceback)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        from .weights import WeightsError
        from .io import ImageError
        from .train import TrainingError

        try:
            return fn(*args, **kwargs)
        except (ImageError, WeightsError, TrainingError, ValueError, OSError) as err:  # VideoError is a ValueError
            if os.environ.get("MINELIGHT_DEBUG"):
                raise
            _fail(error_line(err))
        except ModuleNotFoundError as err:
            if err.name not in TRAIN_EXTRA or os.environ.get("MINELIGHT_DEBUG"):
                raise
            _fail(f"this command needs {err.name}, part of the [train] extra: pip install -e \".[train]\"")
        except KeyboardInterrupt:
            _fail("interrupted")

    return wrapper


def _run_config(cfg, data, val, out, steps, batch_size, crop, lr, seed, threads, overrides, init=None):
    from .train.config import apply_overrides

    cfg.data = tuple(str(d) for d in data or ())
    cfg.val = str(val) if val else ""
    for key, value in (("out", out), ("steps", steps), ("batch_size", batch_size), ("crop", crop), ("lr", lr),
                       ("seed", seed), ("threads", threads), ("init", init)):
        if value is not None:
            setattr(cfg, key, str(value) if isinstance(value, Path) else value)
    return apply_overrides(cfg, list(overrides or ()))


DataOpt = typer.Option(None, "--data", help="Folder of normal-light images (repeatable).")
ValOpt = typer.Option(None, "--val", help="Validation folder.")
OutOpt = typer.Option(None, "-o", "--output", help="Run folder (checkpoints, log.csv, model.safetensors).")
StepsOpt = typer.Option(None, "--steps")
BatchOpt = typer.Option(None, "--batch-size")
CropOpt = typer.Option(None, "--crop")
LrOpt = typer.Option(None, "--lr")
SeedOpt = typer.Option(None, "--seed")
ThreadsOpt = typer.Option(None, "--threads", help="Torch threads (default: torch's choice).")
SetOpt = typer.Option(None, "--set", help="Config override key=value, e.g. distill.tau=4 (repeatable).")
ResumeOpt = typer.Option(False, "--resume", help="Continue from the run folder's last.pt.")
InitOpt = typer.Option(None, "--init", help="Start from these weights (fine-tune; same model config), e.g. the "
                       "shipped src/minelight/weights/student.safetensors.")
QuietOpt = typer.Option(False, "--quiet", help="No progress bar.")


def _add_train_command(name: str, config_class: str, train_fn: str, doc: str) -> None:
    """Register ``minelight train NAME`` for a run with only the common options (``train.<config_class>``
    configured, then ``train.<train_fn>`` called; names, so ``train`` is imported only when it runs)."""

    def command(data: Optional[list[Path]] = DataOpt, val: Optional[Path] = ValOpt, out: Optional[Path] = OutOpt,
                steps: Optional[int] = StepsOpt, batch_size: Optional[int] = BatchOpt,
                crop: Optional[int] = CropOpt, lr: Optional[float] = LrOpt, seed: Optional[int] = SeedOpt,
                threads: Optional[int] = ThreadsOpt, overrides: Optional[list[str]] = SetOpt,
                init: Optional[Path] = InitOpt, resume: bool = ResumeOpt, quiet: bool = QuietOpt):
        from .train import runs as train

        cfg = _run_config(getattr(train, config_class)(), data, val, out, steps, batch_size, crop, lr, seed, threads,
                          overrides, init)
        typer.echo(f"weights: {getattr(train, train_fn)(cfg, resume=resume, progress=not quiet)}")

    command.__doc__ = doc
    train_app.command(name)(guarded(command))


_add_train_command("teacher", "TeacherRunConfig", "train_teacher",
                   "Train Net-T to autoencode normal-light images (val: a folder of clean images).")


@train_app.command("student")
@guarded
def train_student_cmd(data: Optional[list[Path]] = DataOpt,
                      paired: Optional[list[Path]] = typer.Option(None, "--paired", help="LOL-layout pairs folder."),
                      teacher: str = typer.Option("", "--teacher", help="Net-T weights, 'random', or '' (none)."),
                      val: Optional[Path] = ValOpt, out: Optional[Path] = OutOpt,
                      steps: Optional[int] = StepsOpt, batch_size: Optional[int] = BatchOpt,
                      crop: Optional[int] = CropOpt, lr: Optional[float] = LrOpt, seed: Optional[int] = SeedOpt,
                      threads: Optional[int] = ThreadsOpt, overrides: Optional[list[str]] = SetOpt,
                      init: Optional[Path] = InitOpt, resume: bool = ResumeOpt, quiet: bool = QuietOpt):
    """Train Net-S on synthetic (from --data) and/or real (--paired) pairs, distilled from a frozen Net-T
    (with both: --set paired_share=0.75 of the batches are real)."""
    from .train.runs import StudentRunConfig, train_student

    cfg = _run_config(StudentRunConfig(), data, val, out, steps, batch_size, crop, lr, seed, threads, overrides, init)
    cfg.paired = tuple(str(p) for p in paired or ())
    cfg.teacher = teacher
    typer.echo(f"weights: {train_student(cfg, resume=resume, progress=not quiet)}")


_add_train_command("fast", "FastRunConfig", "train_fast",
                   "Train the fast student (low-resolution correction) distilled from Net-S outputs and Net-T "
                   "features (--set student=PATH, --set teacher=PATH; default: the shipped weights).")
_add_train_command("zerodce", "ZeroDCERunConfig", "train_zerodce",
                   "Train the Zero-DCE baseline on unpaired images (zero-reference losses; val: LOL-layout pairs).")


@app.command()
@guarded
def enhance(inputs: Optional[list[Path]] = typer.Argument(None, help="Images, folders of images, and/or videos."),
            output: Path = typer.Option(..., "-o", "--output", help="Output folder, or file for one image/video."),
            method: str = typer.Option("student", "--method", "-m",
                                       help="student, fast, zerodce, clahe, lime, he, gamma."),
            weights: Optional[Path] = typer.Option(None, "--weights", help="Weights for a neural method."),
            source: Optional[str] = typer.Option(None, "--source",
                                                 help="Live source: rtsp://..., http://..., or a device index."),
            backend: str = typer.Option("auto", "--backend",
                                        help="auto (the ONNX graphs beside the weights, as shipped; PyTorch for "
                                             "weights without them), onnxruntime, torch."),
            side: bool = typer.Option(False, "--side-by-side", help="Video: write input | output in one frame."),
            smooth: Optional[bool] = typer.Option(None, "--smooth/--no-smooth",
                                                  help="Video and --sequence: temporal smoothing of the fast model's "
                                                       "correction and output (default: on where the denoiser is off)."),
            denoise: Optional[bool] = typer.Option(None, "--denoise/--no-denoise",
                                                   help="Video, live sources and --sequence: temporal denoising of "
                                                        "the frames before the method, for fixed cameras (default: on "
                                                        "for fast; docs/usage.md)."),
            sequence: bool = typer.Option(False, "--sequence", help="Treat the images as consecutive video frames."),
            max_frames: int = typer.Option(0, "--max-frames", help="Video: stop after N frames (0 = all)."),
            preset: str = typer.Option("ultrafast", "--preset", help="Video: x264 preset (ultrafast ... veryslow)."),
            crf: int = typer.Option(20, "--crf", help="Video: x264 quality, lower is better (18-28)."),
            max_pixels: int = typer.Option(120_000_000, "--max-pixels", help="Refuse larger images."),
            tile: int = typer.Option(0, "--tile", help="Net-S tile size (multiple of 8); 0: auto above 4 MP; -1: off."),
            detail: Optional[bool] = typer.Option(None, "--detail/--no-detail",
                                                  help="student: restore the input's fine texture where its amplified "
                                                       "noise stays below a visible level (minelight.enhance.detail; off by "
                                                       "default: it cost quality on real validation pairs, "
                                                       "docs/notes/detail_tuning.md)."),
            halo: Optional[float] = typer.Option(None, "--halo",
                                                 help="Halo guard strength 0-1 (0 = off; default: the strength chosen "
                                                      "for student and fast, 0 for other methods; docs/notes/halos.md)."),
            chroma: Optional[int] = typer.Option(None, "--chroma",
                                                 help="Colour-noise step: radius in px of the luma-guided chroma "
                                                      "smoothing (0 = off; default: 4 for student, and for fast on "
                                                      "images; fast on video gets a cheaper form, its input's "
                                                      "chroma from a 320-px view; 0 for other methods; "
                                                      "docs/notes/colour_noise.md)."),
            grain: Optional[float] = typer.Option(None, "--grain",
                                                  help="Still images: grain step strength, the luma denoised in "
                                                       "proportion to the noise measured in it (0 = off; default: "
                                                       "the strength chosen for student and fast, 0 for other "
                                                       "methods; not applied to video; "
                                                       "docs/notes/still_denoising.md)."),
            exposure: bool = typer.Option(True, "--exposure/--no-exposure",
                                          help="Images with student: the per-image exposure step the weights "
                                               "carry (minelight.enhance.exposure; not applied to video)."),
            brightness: float = typer.Option(1.0, "--brightness",
                                             help="Output brightness, 0.25-4: 1 = as the method makes it, above 1 "
                                                  "brighter, below 1 darker (highlights never clip)."),
            fmt: Optional[str] = typer.Option(None, "--format", help="Output format, e.g. png (default: as input)."),
            bits: int = typer.Option(8, "--bits", help="8, or 16 for PNG/TIFF output."),
            threads: int = typer.Option(0, "--threads", help="Enhancement threads; 0 = automatic (videos with "
                                        "the fast model: half the cores, beside decoding and encoding)."),
            ray: Optional[str] = typer.Option(None, "--ray", help="Run on a Ray cluster: auto (a running one, else "
                                              "this machine's cores for the run) or the head's ADDRESS; skips "
                                              "outputs that exist (docs/cluster.md; the [cluster] extra)."),
            segment_seconds: Optional[float] = typer.Option(None, "--segment-seconds",
                                                  help="With --ray: cut videos of at least twice this length at "
                                                       "keyframes into segments of about this many seconds "
                                                       "(default 60), "
                                                       "enhanced on several workers and joined (0: one task per "
                                                       "video; docs/cluster.md)."),
            quiet: bool = QuietOpt):
    """Enhance images, folders, videos or a live stream; output names mirror input names."""
    from .video.streams import is_video_path

    inputs = list(inputs or [])
    if source is None and not inputs:
        raise ValueError("give images, folders or videos to enhance, or --source")
    if ray is not None:
        from .cluster.batch import enhance_on_cluster
        from .enhance.recipes import resolve

        video_smoothing = resolve(method, "video", smoothing=smooth, denoise=denoise).smoothing  # as on one machine
        return enhance_on_cluster(ray, inputs, output, source=source, sequence=sequence, fmt=fmt, bits=bits,
                                  max_pixels=max_pixels, smooth=video_smoothing, side=side, max_frames=max_frames,
                                  encoding={"preset": preset, "crf": crf}, quiet=quiet,
                                  segment_seconds=segment_seconds, recipe=dict(
                                      method=method, weights=weights, backend=backend, tile=tile,
                                      brightness=brightness, halo=halo, chroma=chroma, detail=detail,
                                      exposure=exposure, grain=grain, denoise=denoise))
    videos = [p for p in inputs if is_video_path(p) and not p.is_dir()]
    images = [p for p in inputs if p not in videos]
    if source is not None or videos:
        _enhance_videos(([source] if source is not None else []) + videos, output, method, weights, backend, side,
                        smooth, max_frames, threads, quiet, single=len(inputs) + (source is not None) == 1,
                        encoding={"preset": preset, "crf": crf}, detail=detail, brightness=brightness,
                        halo=halo, chroma=chroma, denoise=denoise)
    if images:
        _enhance_images(images, output, method, weights, backend, sequence, fmt, bits, threads, quiet,
                        max_pixels, tile, detail, brightness, halo, exposure, chroma, smooth, denoise, grain)


def _enhance_videos(sources: list, output: Path, method: str, weights, backend: str, side: bool,
                    smooth: bool | None, max_frames: int, threads: int, quiet: bool, single: bool, encoding: dict,
                    detail: bool | None, brightness: float = 1.0, halo: float | None = None,
                    chroma: int | None = None, denoise: bool | None = None) -> None:
    from .enhance.enhancer import Enhancer
    from .enhance.recipes import resolve
    from .enhance.temporal import SmoothingConfig
    from .video.streams import VIDEO_SUFFIXES, is_video_path
    from .video.job import enhance_threads, enhance_video

    recipe = resolve(method, "video", halo=halo, chroma=chroma, detail=detail, smoothing=smooth, denoise=denoise)
    enhancer = Enhancer.from_resolved(recipe, weights=weights, threads=enhance_threads(method, threads),
                                      backend=backend, brightness=brightness)
    if single and is_video_path(output):
        jobs = [(sources[0], output)]
    elif single and output.suffix and not output.is_dir():
        raise ValueError(f"{output}: a video is written to a video file ({', '.join(sorted(VIDEO_SUFFIXES))}) "
                         "or into a folder")
    else:
        if output.exists() and not output.is_dir():
            raise ValueError(f"{output}: exists and is not a folder")
        output.mkdir(parents=True, exist_ok=True)
        jobs = [(s, output / (Path(s).name if is_video_path(s) else "live.mp4")) for s in sources]
    for src, dst in jobs:
        if Path(str(src)).exists() and Path(src).resolve() == dst.resolve():
            raise ValueError(f"{dst}: output would overwrite the input")
        result = enhance_video(enhancer, src, dst, SmoothingConfig() if recipe.smoothing else None, side, not quiet,
                               max_frames,
                               notice=lambda m: typer.echo(f"note: {m}", err=True), **encoding)
        state = "interrupted; kept" if result.interrupted else "wrote"
        typer.echo(f"{state} {result.frames} frames to {dst} ({result.fps:.1f} FPS, {enhancer.backend})")
        if result.interrupted:
            raise typer.Exit(130)


def _enhance_images(inputs: list[Path], output: Path, method: str, weights, backend: str, sequence: bool,
                    fmt, bits: int, threads: int, quiet: bool, max_pixels: int, tile: int, detail: bool | None,
                    brightness: float = 1.0, halo: float | None = None, exposure: bool = True,
                    chroma: int | None = None, smooth: bool | None = None, denoise: bool | None = None,
                    grain: float | None = None) -> None:
    from rich.progress import Progress

    from .enhance.enhancer import Enhancer, plan_outputs
    from .enhance.recipes import resolve
    from .io import ImageError, is_image_path
    from .enhance.temporal import TemporalSmoother

    suffix = None if fmt is None else "." + fmt.lower().lstrip(".")
    jobs = list(plan_outputs(inputs, output, suffix))
    for folder in (p for p in inputs if p.is_dir()):
        others = [f.name for f in folder.iterdir()
                  if f.is_file() and not is_image_path(f) and not f.name.startswith(".")]
        if others:
            typer.echo(f"note: {folder}: skipped {len(others)} non-image file(s), e.g. {others[0]}", err=True)
    recipe = resolve(method, "video" if sequence else "image", halo=halo, chroma=chroma, detail=detail,
                     exposure=exposure, smoothing=smooth, denoise=denoise, grain=grain)
    enhancer = Enhancer.from_resolved(recipe, weights=weights, threads=threads, backend=backend, tile=tile,
                                      brightness=brightness)
    if len(jobs) > 1 or not jobs[0][1].suffix:
        output.mkdir(parents=True, exist_ok=True)
    smoother = TemporalSmoother() if recipe.smoothing else None
    denoiser = enhancer.denoiser()  # the frames of a --sequence are one video
    failed = 0
    with Progress(disable=quiet, transient=True) as bar:
        task = bar.add_task(f"{method}", total=len(jobs))
        for src, dst in jobs:
            try:
                enhancer.enhance_file(src, dst, bits, smoother, max_pixels, denoiser)
            except ImageError as err:
                failed += 1
                if quiet:
                    typer.echo(f"error: {err}", err=True)
                else:
                    bar.console.print(f"error: {err}", style="red", highlight=False)
            bar.advance(task)
    typer.echo(f"{len(jobs) - failed} of {len(jobs)} images written to {output}")
    if failed:
        raise typer.Exit(1)


@app.command()
@guarded
def pairs(src: Path = typer.Argument(..., help="Bracketed captures: one sub-folder per scene, or numbered files "
                                               "whose scenes are runs of consecutive numbers (SICE)."),
          out: Path = typer.Option(..., "-o", "--output", help="Output folder (LOL layout: low/, high/, manifest.csv)."),
          dark: float = typer.Option(0.25, "--dark", help="Pair frames whose mean luma is below this (0-1)."),
          target: str = typer.Option("fusion", "--target", help="fusion (Mertens) or best (best-exposed frame)."),
          files: Optional[str] = typer.Option(None, "--files",
                                              help="Numbered folders: only files FIRST-LAST, e.g. 1-1400, or a "
                                                   "SICE split name: train, val, test."),
          max_shift: float = typer.Option(2.0, "--max-shift", help="Drop frames moved more than this (pixels)."),
          quiet: bool = QuietOpt):
    """Build real low/normal pairs from exposure brackets (see docs/training.md)."""
    from rich.progress import Progress

    from .data.pairs import PairsConfig, build_pairs
    from .data.splits import parse_files

    span = parse_files(files) if files else None
    cfg = PairsConfig(dark=dark, target=target, files=span, max_shift=max_shift)
    with Progress(disable=quiet, transient=True) as bar:
        task = bar.add_task("scenes", total=None)
        reports = build_pairs(src, out, cfg, lambda done, total: bar.update(task, completed=done, total=total))
    used = [r for r in reports if not r.error]
    for r in reports:
        if r.error:
            typer.echo(f"skipped {r.scene}: {r.error}", err=True)
        for why in r.dropped:
            typer.echo(f"dropped {r.scene}/{why}", err=True)
    typer.echo(f"{sum(r.pairs for r in used)} pairs from {len(used)} of {len(reports)} scenes written to {out}")


@app.command()
@guarded
def serve(config: Optional[Path] = typer.Option(None, "--config", help="TOML file of cameras (see docs/serve.md)."),
          source: Optional[list[str]] = typer.Option(None, "--source",
                                                     help="Quick start: a camera (rtsp://, http://, a video file "
                                                          "played in a loop, or a device index); repeatable."),
          host: str = typer.Option("127.0.0.1", "--host", help="Listen address (quick start)."),
          port: int = typer.Option(8080, "--port", help="Port (quick start; 0 = any free one)."),
          token: Optional[list[str]] = typer.Option(None, "--token", help="Access token (quick start; repeatable)."),
          method: str = typer.Option("fast", "--method", "-m", help="Enhancement method (quick start)."),
          chroma: Optional[int] = typer.Option(None, "--chroma",
                                               help="Colour-noise step radius in px (quick start; 0 = off; "
                                                    "default: fast: its input's chroma from a 320-px view; "
                                                    "student: 4)."),
          ray: Optional[str] = typer.Option(None, "--ray",
                                            help="Run each camera's worker on a Ray cluster: auto, or the head "
                                                 "node's HOST:PORT (docs/cluster.md)."),
          check: bool = typer.Option(False, "--check", help="Validate the configuration and exit.")):
    """Serve live enhanced camera streams: a web page of H.264 live views (camera wall, substreams), MJPEG, snapshots, RTSP publishing, /healthz, /metrics."""
    from .serve.config import load_config, quick_config, summary

    if (config is None) == (not source):
        raise ValueError("give either --config FILE or one or more --source URL")
    here = ray is None  # cameras on this machine: their memory must fit it
    cfg = (load_config(config, here) if config is not None
           else quick_config(list(source), host, port, list(token or ()), method, chroma, here))
    if check and ray is not None:  # the cluster: do the cameras fit it?
        from .cluster.local import alive_nodes, import_ray, ray_connection
        from .serve.fleet import fit

        with ray_connection(ray):
            fits, line = fit(cfg.cameras, alive_nodes(import_ray()))
        typer.echo(f"{config or 'quick start'}: valid; {line}")
        raise typer.Exit(0 if fits else 1)
    if check:
        typer.echo(f"{config or 'quick start'}: {summary(cfg)}")
        return
    from .serve.server import serve as run_server

    raise typer.Exit(run_server(cfg, ray=ray))


@app.command()
@guarded
def synth(src: Path = typer.Option(..., "--src", help="Folder of normal-light images."),
          out: Path = typer.Option(..., "-o", "--output", help="Output folder (LOL layout: low/, high/)."),
          seed: int = typer.Option(0, "--seed")):
    """Write a fixed synthetic low/high paired set from normal-light images."""
    from .data.synth import write_synthetic_pairs

    n = write_synthetic_pairs(src, out, seed)
    typer.echo(f"{n} pairs written to {out}")


@app.command()
@guarded
def score(paths: list[Path] = typer.Argument(..., help="Images and/or folders to score."),
          metrics: str = typer.Option("niqe,entropy,contrast,avg_gradient", "--metrics",
                                      help="Comma-separated: psnr, ssim, psnr_gtmean, ssim_gtmean, niqe, loe, "
                                           "entropy, mean_brightness, contrast, avg_gradient."),
          reference: Optional[Path] = typer.Option(None, "--reference", help="Ground-truth folder (by name)."),
          inputs: Optional[Path] = typer.Option(None, "--input", help="Original low-light folder (for loe)."),
          csv_path: Optional[Path] = typer.Option(None, "-o", "--output", help="Also write the table to this CSV file.")):
    """Score images: one row per image (name, one column per metric) and a mean row."""
    from rich.console import Console
    from rich.table import Table

    from .metrics.registry import get_metrics
    from .evaluate.score import mean_row, score_images, write_csv

    chosen = get_metrics(metrics)
    rows = score_images(paths, chosen, str(reference) if reference else None, str(inputs) if inputs else None)
    rows.append(mean_row(rows, chosen))
    table = Table()
    table.add_column("name")
    for m in chosen:
        table.add_column(f"{m.name} {'↓' if m.lower_is_better else '↑'}", justify="right")
    for row in rows:
        table.add_row(str(row["name"]), *(f"{float(row[m.name]):.4f}" for m in chosen))
    Console().print(table)
    if csv_path is not None:
        write_csv(csv_path, rows)
        typer.echo(f"wrote {csv_path}")


@app.command()
@guarded
def export(method: str = typer.Option("student", "--method", "-m", help="student, fast, zerodce or teacher."),
           output: Path = typer.Option(..., "-o", "--output", help="The .onnx file to write."),
           weights: Optional[Path] = typer.Option(None, "--weights", help="Weights (default: shipped).")):
    """Export a neural enhancer to ONNX (dynamic height and width), checked against PyTorch; Net-S and
    Net-T also get their tiling stages (NAME.encode.onnx, NAME.bottleneck.onnx, NAME.decode.onnx).

    The graphs record the weights' SHA-256: written as WEIGHTS.onnx beside the weights, they are what
    `minelight enhance` and `serve` run, without PyTorch."""
    from .models.weights import load_weights
    from .enhance.enhancer import NEURAL_METHODS
    from .models.export import export_onnx
    from .weights import shipped_weights, weights_digest

    if method not in NEURAL_METHODS:
        raise ValueError(f"cannot export {method!r}; choose from {', '.join(NEURAL_METHODS)}")
    path = weights or shipped_weights(method)
    model, _ = load_weights(path, expect=method)
    diff = export_onnx(model, output, metadata={"method": method, "weights_sha256": weights_digest(path)})
    typer.echo(f"wrote {output} (max abs difference to PyTorch {diff:.1e})")


def _named_folders(values: list[str] | None, option: str) -> dict[str, str]:
    out = {}
    for value in values or ():
        name, sep, folder = value.partition("=")
        if not sep or not name or not folder:
            raise ValueError(f"{option} wants NAME=DIR, got {value!r}")
        out[name] = folder
    return out


@app.command()
@guarded
def benchmark(methods: str = typer.Option("student,clahe,lime,he,gamma", "--methods",
                                          help="Comma-separated; METHOD is what minelight enhance -m METHOD writes, "
                                               "METHOD@video its video recipe per frame, METHOD.net the network "
                                               "alone, METHOD.net+STEP adds a step (detail, halo, chroma, "
                                               "chromaview, exposure); 'input' is the unprocessed input (a "
                                               "reference row)."),
              paired: Optional[list[str]] = typer.Option(None, "--paired", help="NAME=DIR in the LOL layout."),
              unpaired: Optional[list[str]] = typer.Option(None, "--unpaired", help="NAME=DIR of low-light images."),
              out: Path = typer.Option(Path("report"), "-o", "--output", help="Report folder."),
              limit: int = typer.Option(0, "--limit", help="First N images per data set (0 = all)."),
              threads: int = typer.Option(0, "--threads"), quiet: bool = QuietOpt):
    """Methods x data sets x metrics: results.csv, results.md and index.html in --out."""
    from .evaluate.benchmark import BenchmarkConfig, run_benchmark

    cfg = BenchmarkConfig(methods=tuple(m.strip() for m in methods.split(",") if m.strip()),
                          paired=_named_folders(paired, "--paired"), unpaired=_named_folders(unpaired, "--unpaired"),
                          out=str(out), limit=limit, threads=threads)
    run_benchmark(cfg, progress=not quiet)
    typer.echo(f"wrote {out / 'results.csv'}, {out / 'results.md'}, {out / 'index.html'}")


@app.command()
@guarded
def ablate(study: str = typer.Option(..., "--study", help="teacher, loss, distill or blocks."),
           data: Optional[list[Path]] = DataOpt,
           val: Path = typer.Option(..., "--val", help="LOL-layout validation pairs (PSNR/SSIM)."),
           unpaired: Optional[list[str]] = typer.Option(None, "--unpaired", help="NAME=DIR for NIQE (repeatable)."),
           out: Path = typer.Option(..., "-o", "--output", help="Study folder: one run per variant and seed, results.*"),
           seeds: Optional[str] = typer.Option(None, "--seeds",
                                               help="Comma-separated seeds (default 0,1,2 for teacher, else 0)."),
           examples: Optional[Path] = typer.Option(
               None, "--examples", help="Folder of images for examples.jpg (default: 2 per --unpaired folder)."),
           teacher: str = typer.Option("shipped", "--teacher", help="The pretrained Net-T (default: shipped)."),
           steps: Optional[int] = StepsOpt, batch_size: Optional[int] = BatchOpt, crop: Optional[int] = CropOpt,
           lr: Optional[float] = LrOpt, threads: Optional[int] = ThreadsOpt,
           overrides: Optional[list[str]] = SetOpt, quiet: bool = QuietOpt):
    """Train and evaluate every variant of an ablation study; results.csv, results.md, curves.png and
    examples.jpg in --out.

    Default budget: 300 steps per run (--steps for more, e.g. on a GPU); PSNR/SSIM on the first 20 val
    pairs (--set val_images=0 for all); seeds 0,1,2 for the teacher study, 0 for the others."""
    from .evaluate.ablate import default_seeds, run_study
    from .io import list_images
    from .train.runs import StudentRunConfig

    base = _run_config(StudentRunConfig(), data, val, None, steps or 300, batch_size, crop, lr, None, threads,
                       overrides)
    seed_list = [int(s) for s in seeds.split(",") if s.strip()] if seeds is not None else default_seeds(study)
    folders = _named_folders(unpaired, "--unpaired")
    pictures = list_images(examples) if examples else [p for f in folders.values() for p in list_images(f)[:2]]
    run_study(study, base, seed_list, folders, out, teacher,
              progress=(lambda m: None) if quiet else (lambda m: typer.echo(m, err=True)), examples=pictures)
    typer.echo(f"wrote {out / 'results.csv'}, {out / 'results.md'}, {out / 'curves.png'}"
               + (f", {out / 'examples.jpg'}" if pictures else ""))


@app.command()
@guarded
def info():
    """The shipped models (version, parameters, training) and each method's recipe per mode."""
    from importlib import resources

    from . import __version__
    from .enhance.enhancer import NEURAL_METHODS, list_methods
    from .enhance.recipes import MODES, describe, resolve
    from .weights import count_parameters, model_header, shipped_weights, weights_version

    folder = Path(str(resources.files("minelight") / "weights"))
    typer.echo(f"minelight {__version__}; shipped weights in {folder}")
    typer.echo(f"{'model':<9}{'version':<9}{'params':>10}  trained")
    for name in NEURAL_METHODS:
        try:
            path = shipped_weights(name)
            _, _, meta = model_header(path, expect=name)
        except ValueError as err:
            typer.echo(f"{name:<9}{error_line(err)[:70]}")
            continue
        minutes = float(meta.get("train_seconds", "nan")) / 60
        tuned = json.loads(meta.get("run_config", "{}")).get("init")
        trained = f"{meta.get('steps', '?')} steps, {minutes:.0f} min" + (" (a fine-tune)" if tuned else "")
        typer.echo(f"{name:<9}{weights_version(meta):<9}{count_parameters(path):>10,}  {trained}")
    typer.echo("\nrecipes: the steps after each method (minelight enhance; serve = live cameras)")
    for method in list_methods():
        steps = {mode: describe(resolve(method, mode)) for mode in MODES}
        if set(steps.values()) == {"none"}:
            typer.echo(f"  {method:<9}{'all':<7}none (the method's output as it is)")
            continue
        for mode in MODES:
            typer.echo(f"  {method if mode == 'image' else '':<9}{mode:<7}{steps[mode]}")
    typer.echo(f"\nmodel card: {folder / 'MODEL_CARD.md'}")


def click_error_line(err: Exception) -> str:
    """One line for an error click raises; a mistake on the command line (a missing option, a value of the
    wrong type, an unknown command: a usage error, which carries its context) names the help to read:
    ``error: Missing option '-o' / '--output'. (minelight enhance --help)``."""
    line = "error: " + " ".join(err.format_message().split())
    if not hasattr(err, "ctx"):
        return line
    return f"{line} ({err.ctx.command_path if err.ctx is not None else 'minelight'} --help)"


def main(argv: Optional[list[str]] = None) -> None:
    """Run the command line; exits with 0, 1 (the job failed) or 2 (the command line was wrong), and every
    error is one line on stderr."""
    os.environ.setdefault("OPENCV_LOG_LEVEL", "OFF")  # our own one-line errors say what OpenCV would warn about
    click = sys.modules[typer.BadParameter.__module__]  # the click typer runs on (its own copy since 0.29)
    no_args = getattr(click, "NoArgsIsHelpError", ())
    try:
        code = app(args=argv, prog_name="minelight", standalone_mode=False)
    except no_args as err:  # a bare group: its help, as click shows it
        typer.echo(err.ctx.get_help(), err=True)
        sys.exit(2)
    except click.ClickException as err:  # usage errors exit with 2
        typer.echo(click_error_line(err), err=True)
        sys.exit(err.exit_code)
    except typer.Abort:
        typer.echo("error: interrupted", err=True)
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
