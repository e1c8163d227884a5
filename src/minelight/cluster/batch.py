"""Enhance folders of images and videos on a Ray cluster, with the same outputs as on one machine.

    minelight enhance frames/ clips/ -o out/ --ray auto                # a running cluster, else this machine
    minelight enhance /shared/frames -o /shared/out --ray 10.0.0.5:6379

* **Workers.** One Ray actor per CPU of each alive node (placed on its node, one onnxruntime thread each);
  each builds its enhancer once with :meth:`Enhancer.from_recipe` (mode ``image`` for images, ``video`` for
  videos: exactly what ``minelight enhance`` builds) and keeps it for every task it gets. A
  :class:`ray.util.ActorPool` hands out the tasks: images in batches of up to :data:`BATCH`, one short
  video per task (long ones: one segment per task, below). Only paths travel; the workers read the inputs and write the outputs themselves, so inputs and
  outputs must be folders every node sees at the same path (a shared file system).
* **Same result.** :func:`plan_outputs` names the image outputs and the video outputs are named as on one
  machine; every write is atomic (a temporary name, renamed when complete), so an output that exists is
  complete.
* **Reruns.** Outputs that already exist are skipped, and temporary files left by a run that was killed are
  removed: after a crash or Ctrl-C, run the same command again to finish.
* **A lost node.** The actors are restartable (``max_restarts=-1``) and their tasks retried
  (``max_task_retries=-1``): Ray restarts a lost node's actors on the nodes that are left and runs their
  tasks again there (a retried batch skips the images its first try finished). The actors reserve no CPU
  in Ray's accounting (``num_cpus=0``, one per CPU by placement), so a restarted actor always finds a
  place; the price is that Ray does not keep other jobs off those CPUs while a batch runs.
* **Long videos are split.** A video of at least two ``segment_seconds`` (:data:`SEGMENT_SECONDS`, 60 s) is
  cut at keyframes (found by demuxing, nothing decoded) into segments, one task each
  (:mod:`minelight.video.segments`); each segment warms its temporal state up on the frames before it and is
  written as its own H.264 file in ``.minelight-parts/NAME/`` beside the output; when all are there the
  driver joins their packets into the output without re-encoding (atomic) and removes the parts. A rerun
  reuses the finished parts. Shorter videos, and runs with ``--max-frames``, are one task as on one machine.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

from ..enhance.enhancer import Enhancer, plan_outputs
from ..errors import error_line
from ..enhance.temporal import SmoothingConfig
from ..io import is_image_path
from ..video.segments import SEGMENT_SECONDS
from ..video.streams import VIDEO_SUFFIXES, is_video_path, partial_path
from .local import ClusterError, alive_nodes, import_ray, pinned_to, ray_connection

BATCH = 8  # most images in one task: a lost task costs little, a task's overhead (~ms) stays small


def recipe_for(recipe: dict, mode: str) -> dict:
    """``recipe`` as ``minelight enhance`` applies it in ``mode`` on one machine: videos take neither the
    tile size nor the per-image exposure switch (their recipe decides)."""
    return recipe if mode == "image" else {k: v for k, v in recipe.items() if k not in ("tile", "exposure")}


def failure_line(src: str, err: Exception) -> str:
    """The one line that reports a failed input: the error's own line for the expected kinds (``ValueError``,
    which ``ImageError`` and ``VideoError`` are, and ``OSError``), else the input, the error's type and line."""
    if isinstance(err, (ValueError, OSError)):
        return error_line(err)
    return f"{src}: {type(err).__name__}: {error_line(err)}"


class EnhanceWorker:
    """What one actor holds: an enhancer built once (``recipe``: the keyword arguments of
    :meth:`Enhancer.from_recipe` except ``mode`` and ``threads``; one thread, one actor per CPU)."""

    def __init__(self, recipe: dict, mode: str):
        self.enhancer = Enhancer.from_recipe(mode=mode, threads=1, **recipe_for(recipe, mode))

    def ready(self) -> str:
        """The minelight version this worker runs (the driver checks that every node has the same)."""
        from .. import __version__

        return __version__

    def images(self, jobs: list[tuple[str, str]], bits: int, max_pixels: int) -> list[tuple[str, str | None]]:
        """Enhance each ``(input, output)``; ``(output, None)`` when written (or already there: a retried
        task), ``(output, message)`` when that file failed (the others still run)."""
        done = []
        for src, dst in jobs:
            try:
                if not os.path.exists(dst):
                    self.enhancer.enhance_file(src, dst, bits, None, max_pixels)
                done.append((dst, None))
            except Exception as err:  # noqa: BLE001 - fails this file, not the batch
                done.append((dst, failure_line(src, err)))
        return done

    def video(self, src: str, dst: str, smooth: bool, side: bool, max_frames: int,
              encoding: dict) -> tuple[str, int, float, str | None]:
        """Enhance one video: ``(output, frames, FPS, None)``, or ``(output, 0, 0, message)`` when it failed
        (nothing is left at the output then)."""
        from ..video.job import enhance_video

        if os.path.exists(dst):  # a retried task whose first try finished
            return dst, 0, 0.0, None
        try:
            result = enhance_video(self.enhancer, src, dst, SmoothingConfig() if smooth else None, side, False,
                                   max_frames, **encoding)
        except Exception as err:  # noqa: BLE001 - fails this video, not the run
            return dst, 0, 0.0, failure_line(src, err)
        if result.interrupted:  # a stopped worker keeps no partial video: the rerun makes it whole
            Path(dst).unlink(missing_ok=True)
            return dst, 0, 0.0, f"{dst}: interrupted"
        return dst, result.frames, result.fps, None

    def segment(self, src: str, part: str, segment, smooth: bool, side: bool,
                encoding: dict) -> tuple[str, int, str | None]:
        """Enhance one segment of a video into its part file (:func:`minelight.video.segments.enhance_segment`):
        ``(part, frames, None)``, or ``(part, 0, message)`` when it failed (no part is left then)."""
        from ..video.segments import enhance_segment

        if os.path.exists(part):  # a retried task whose first try finished
            return part, 0, None
        try:
            frames = enhance_segment(self.enhancer, src, segment, part, SmoothingConfig() if smooth else None,
                                     side, **encoding)
        except Exception as err:  # noqa: BLE001 - fails this segment, not the run
            return part, 0, failure_line(src, err)
        return part, frames, None


def plan_videos(videos: list[Path], output: Path, single: bool) -> list[tuple[Path, Path]]:
    """Pairs (video, output video) named as ``minelight enhance`` names them on one machine: ``output``
    itself for a single video going to a video path, else ``output/NAME``."""
    if single and is_video_path(output):
        return [(videos[0], output)]
    if single and output.suffix and not output.is_dir():
        raise ValueError(f"{output}: a video is written to a video file ({', '.join(sorted(VIDEO_SUFFIXES))}) "
                         "or into a folder")
    if output.exists() and not output.is_dir():
        raise ValueError(f"{output}: exists and is not a folder")
    return [(v, output / v.name) for v in videos]


def leftovers(outputs: list[Path]) -> list[Path]:
    """Temporary files of these outputs left by a run that was killed: ``.NAME.XXXXXXXX.part`` (images,
    :func:`minelight.io.atomic_write_bytes`) and ``.STEM.partialSUFFIX`` (videos, ``VideoWriter``)."""
    found = []
    by_folder: dict[Path, list[Path]] = {}
    for p in outputs:
        by_folder.setdefault(p.parent, []).append(p)
    for folder, paths in by_folder.items():
        if not folder.is_dir():
            continue
        names = {p.name for p in paths}
        videos = {partial_path(p).name for p in paths}
        for entry in os.scandir(folder):
            n = entry.name
            if n in videos or (n.startswith(".") and n.endswith(".part") and n[1:-5].rsplit(".", 1)[0] in names):
                found.append(folder / n)
    return found


@dataclass
class SplitVideo:
    """A video cut into segments: its parts are enhanced as separate tasks and joined when all exist."""

    src: Path
    dst: Path
    segments: list  # minelight.video.segments.Segment, in order
    todo: list[Path]  # parts still to enhance
    error: str | None = None  # the first failure of one of its segments


def split_videos(videos: list[tuple[str, str]], seconds: float,
                 max_frames: int = 0) -> tuple[list[tuple[str, str]], list[SplitVideo]]:
    """Sort ``videos`` (to do) into those that run as one task and those cut at keyframes into segments of
    about ``seconds`` (:func:`minelight.video.segments.plan_segments`; 0: none is cut). A video that cannot
    be read, or that stops after ``max_frames``, runs as one task (which reports the error as before)."""
    from ..video.segments import plan_segments, prepare_parts, probe_keyframes

    whole, split = [], []
    for src, dst in videos:
        segments = []
        if seconds > 0 and not max_frames:
            try:
                segments = plan_segments(probe_keyframes(src), seconds)
            except (ValueError, OSError):
                segments = []
        if len(segments) < 2:
            whole.append((src, dst))
        else:
            split.append(SplitVideo(Path(src), Path(dst), segments, prepare_parts(dst, src, segments)))
    return whole, split


@dataclass
class ClusterRun:
    """What a cluster run did."""

    outputs: int  # outputs of the job (images and videos)
    skipped: int  # already there before the run
    written: int  # written by this run
    failed: list[str]  # one message per input that failed
    interrupted: bool  # stopped by Ctrl-C (rerun the command to finish)
    nodes: int  # alive nodes at the start
    workers: int  # actors (enhancers) used


def _slots(nodes: list[dict], limit: int) -> list[str]:
    """Node IDs for up to ``limit`` actors: one per CPU of each node, taken round robin over the nodes so
    that a small job still spreads."""
    cpus = [(n["NodeID"], int(n["Resources"].get("CPU", 0))) for n in nodes]
    slots = [node for i in range(max((c for _, c in cpus), default=0)) for node, c in cpus if i < c]
    return slots[:limit]


def _start_pool(ray, recipe: dict, mode: str, count: int):
    """An ActorPool of up to ``count`` ready workers, and their handles."""
    from ray.util import ActorPool

    from .. import __version__

    slots = _slots(alive_nodes(ray), count)
    if not slots:
        raise ClusterError("the Ray cluster has no CPUs")
    worker = ray.remote(EnhanceWorker)
    actors = [worker.options(num_cpus=0, max_restarts=-1, max_task_retries=-1,
                             scheduling_strategy=pinned_to(node, soft=True)).remote(recipe, mode)
              for node in slots]
    try:
        versions = set(ray.get([a.ready.remote() for a in actors]))
    except ray.exceptions.RayError as err:
        raise ClusterError(f"a worker could not start minelight (is minelight {__version__} installed on every "
                           f"node?): {str(err).strip().splitlines()[-1]}") from None
    if versions != {__version__}:
        raise ClusterError(f"the nodes run minelight {', '.join(sorted(versions))}; this is {__version__}: "
                           "install the same version on every node")
    return ActorPool(actors), actors


def run_on_cluster(address: str, images: list[tuple[Path, Path]], videos: list[tuple[Path, Path]], recipe: dict,
                   *, bits: int = 8, max_pixels: int = 120_000_000, smooth: bool = True, side: bool = False,
                   max_frames: int = 0, encoding: dict | None = None, progress: bool = True,
                   report=print, segment_seconds: float = SEGMENT_SECONDS) -> ClusterRun:
    """Enhance ``images`` and ``videos`` (pairs of input and output path, as planned for one machine) on the
    cluster at ``address`` (``auto``: a running one, else one on this machine for the run). ``recipe``:
    :meth:`Enhancer.from_recipe`'s keyword arguments except ``mode`` and ``threads``. Outputs that exist are
    skipped. ``report(line)`` gets a line per failed input and per video written. Videos of at least two
    ``segment_seconds`` are cut at keyframes into segments, one task each, joined when all are done
    (:mod:`minelight.video.segments`; 0: one task per video)."""
    from rich.progress import Progress

    ray = import_ray()
    encoding = encoding or {}
    images = [(Path(s).resolve(), Path(d).resolve()) for s, d in images]  # the workers do not share our cwd
    videos = [(Path(s).resolve(), Path(d).resolve()) for s, d in videos]
    for path in leftovers([d for _, d in images + videos]):
        path.unlink(missing_ok=True)
    todo_images = [(str(s), str(d)) for s, d in images if not d.exists()]
    todo_videos = [(str(s), str(d)) for s, d in videos if not d.exists()]
    total = len(images) + len(videos)
    run = ClusterRun(total, total - len(todo_images) - len(todo_videos), 0, [], False, 0, 0)
    if not todo_images and not todo_videos:
        return run
    with ray_connection(address) as conn, Progress(disable=not progress, transient=True) as bar:
        run.nodes = conn.nodes
        task = bar.add_task(f"{recipe.get('method', 'student')} on {conn.nodes} node(s)",
                            total=len(todo_images) + len(todo_videos))

        def note(line: str) -> None:
            bar.console.print(line, highlight=False) if progress else report(line)

        try:
            if todo_videos:
                whole, split = split_videos(todo_videos, segment_seconds, max_frames)
                jobs = [("segment", v, str(part), v.segments[int(part.stem)]) for v in split for part in v.todo]
                jobs += [("video", job) for job in whole]
                for v in split:  # all its parts were there: a run stopped before the join
                    if not v.todo:
                        _join(v, run, note)
                        bar.advance(task)
                pool, actors = _start_pool(ray, recipe, "video", len(jobs)) if jobs else (None, [])
                run.workers = max(run.workers, len(actors))

                def submit(a, job):
                    if job[0] == "video":
                        return a.video.remote(*job[1], smooth, side, max_frames, encoding)
                    return a.segment.remote(str(job[1].src), job[2], job[3], smooth, side, encoding)

                parts = {job[2]: job[1] for job in jobs if job[0] == "segment"}
                for result in (pool.map_unordered(submit, jobs) if jobs else []):
                    if len(result) == 3:  # a segment
                        part, _, error = result
                        v = parts[part]
                        v.todo.remove(Path(part))
                        if error and v.error is None:
                            v.error = error
                        if not v.todo:
                            if v.error:
                                run.failed.append(v.error)
                                note(f"error: {v.error}")
                            else:
                                _join(v, run, note)
                        bar.advance(task, 1 / len(v.segments))
                        continue
                    dst, frames, fps, error = result
                    if error:
                        run.failed.append(error)
                        note(f"error: {error}")
                    else:
                        run.written += 1
                        note(f"wrote {frames} frames to {dst} ({fps:.1f} FPS)" if frames else f"wrote {dst}")
                    bar.advance(task)
                for a in actors:
                    ray.kill(a)
            if todo_images:
                pool, actors = _start_pool(ray, recipe, "image", len(todo_images))
                run.workers = max(run.workers, len(actors))
                size = max(1, min(BATCH, math.ceil(len(todo_images) / (4 * len(actors)))))  # >= 4 tasks per worker
                batches = [todo_images[i:i + size] for i in range(0, len(todo_images), size)]
                for done in pool.map_unordered(lambda a, jobs: a.images.remote(jobs, bits, max_pixels), batches):
                    for dst, error in done:
                        if error:
                            run.failed.append(error)
                            note(f"error: {error}")
                        else:
                            run.written += 1
                    bar.advance(task, len(done))
        except KeyboardInterrupt:
            run.interrupted = True
    for path in leftovers([d for _, d in images + videos]):  # left by a worker that was stopped or lost
        path.unlink(missing_ok=True)
    return run


def _join(video: SplitVideo, run: ClusterRun, note) -> None:
    """Join the parts of ``video`` into its output and remove them; a failure is one error line (the parts
    stay for a rerun)."""
    from ..video.segments import join_segments, part_path, remove_parts

    try:
        frames = join_segments([part_path(video.dst, s.index) for s in video.segments], video.dst)
    except (ValueError, OSError) as err:
        run.failed.append(error_line(err))
        note(f"error: {error_line(err)}")
        return
    remove_parts(video.dst)
    run.written += 1
    note(f"wrote {frames} frames to {video.dst} (joined from {len(video.segments)} segments)")


def enhance_on_cluster(address: str, inputs: list[Path], output: Path, *, recipe: dict, source=None,
                       sequence: bool = False, fmt: str | None = None, bits: int = 8, max_pixels: int = 120_000_000,
                       smooth: bool = True, side: bool = False, max_frames: int = 0, encoding: dict | None = None,
                       quiet: bool = False, segment_seconds: float | None = None) -> None:
    """``minelight enhance INPUTS -o OUTPUT --ray ADDRESS``: plan the outputs as on one machine, check the
    options by building the enhancer here, run on the cluster, print a summary. Exit status 1 if an input
    failed, 130 after Ctrl-C."""
    import typer

    if source is not None:
        raise ValueError("--ray enhances files and folders; for a live --source drop --ray (or use minelight serve)")
    if sequence:
        raise ValueError("--sequence enhances frames in order (temporal state) on one machine; drop --ray")
    if not inputs:
        raise ValueError("give images, folders or videos to enhance")
    segment_seconds = SEGMENT_SECONDS if segment_seconds is None else segment_seconds
    if segment_seconds < 0:
        raise ValueError(f"--segment-seconds must be 0 (no split) or more, got {segment_seconds}")
    videos = [p for p in inputs if is_video_path(p) and not p.is_dir()]
    images = [p for p in inputs if p not in videos]
    video_jobs = plan_videos(videos, output, single=len(inputs) == 1) if videos else []
    suffix = None if fmt is None else "." + fmt.lower().lstrip(".")
    image_jobs = list(plan_outputs(images, output, suffix)) if images else []
    for src, dst in video_jobs + image_jobs:
        if dst.exists() and src.resolve() == dst.resolve():
            raise ValueError(f"{dst}: output would overwrite the input")
    for folder in (p for p in images if p.is_dir()):
        others = [f.name for f in folder.iterdir() if f.is_file() and not is_image_path(f) and not f.name.startswith(".")]
        if others:
            typer.echo(f"note: {folder}: skipped {len(others)} non-image file(s), e.g. {others[0]}", err=True)
    if recipe.get("weights") is not None:  # the workers do not share our working folder
        recipe = dict(recipe, weights=Path(recipe["weights"]).resolve())
    for mode, jobs in (("video", video_jobs), ("image", image_jobs)):
        if jobs:  # wrong options or weights fail here, with the message a run on one machine gives
            Enhancer.from_recipe(mode=mode, **recipe_for(recipe, mode))
    if any(dst != output for _, dst in video_jobs + image_jobs):
        output.mkdir(parents=True, exist_ok=True)
    run = run_on_cluster(address, image_jobs, video_jobs, recipe, bits=bits, max_pixels=max_pixels, smooth=smooth,
                         side=side, max_frames=max_frames, encoding=encoding, progress=not quiet,
                         report=lambda line: typer.echo(line, err=line.startswith("error")),
                         segment_seconds=segment_seconds)
    skipped = f", {run.skipped} already there" if run.skipped else ""
    where = f" on {run.nodes} node(s), {run.workers} workers" if run.workers else ""
    if run.interrupted:
        typer.echo(f"interrupted: {run.skipped + run.written} of {run.outputs} outputs in {output}; run the same "
                   "command again to finish", err=True)
        raise typer.Exit(130)
    typer.echo(f"{run.skipped + run.written} of {run.outputs} outputs written to {output}{skipped}{where}")
    if run.failed:
        raise typer.Exit(1)
