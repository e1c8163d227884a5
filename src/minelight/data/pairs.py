"""Real low/normal pairs from exposure brackets: static scenes captured at several exposures.

Input: a folder with one sub-folder per scene, or a flat folder of numbered files in which each scene
is a run of consecutive numbers (SICE Part 1). Scenes of a flat folder are split where the structure of
consecutive frames changes (rank correlation of small luma thumbnails, which ignores exposure). For each
scene, frames that moved against the scene's reference frame are dropped, the target is built (Mertens
exposure fusion, or the best-exposed single frame) and every frame darker than ``dark`` is paired with it.

Output, LOL layout: ``OUT/low/NAME.png``, ``OUT/high/NAME.png`` and ``OUT/manifest.csv``. Run::

    minelight pairs data/SICE_part1 --files 1-1400 -o data/sice_train
"""

from __future__ import annotations

import csv
import io
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from ..color import luma
from ..io import ImageError, atomic_write_bytes, encode_image, is_image_path, list_images, read_image

MANIFEST_FIELDS = ("name", "scene", "source", "mean_luma", "exposure_ratio", "alignment", "target")


@dataclass
class PairsConfig:
    dark: float = 0.25  # pair frames whose mean luma is below this (0-1)
    target: str = "fusion"  # "fusion": Mertens exposure fusion of the aligned stack; "best": best-exposed frame
    scene_split: float = 0.6  # flat folders: a rank correlation below this between neighbours starts a scene
    max_shift: float = 2.0  # pixels (full size): frames shifted more than this against the reference are dropped
    min_alignment: float = 0.3  # frames whose rank correlation with the reference is below this are dropped
    files: tuple[int, int] | None = None  # flat folders: only files numbered in [first, last]
    thumb: int = 64  # side of the scene-splitting thumbnails (pixels)


@dataclass
class SceneReport:
    scene: str
    frames: int
    pairs: int = 0
    dropped: list[str] = field(default_factory=list)  # "FILE: why" for frames left out
    error: str = ""  # why the whole scene was skipped ("" = it was used)


# ---------------------------------------------------------------- pure functions on frames

def luma_ranks(img: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Ranks ``(h, w)`` float32 in [0, 1) of the luma of an RGB image ``(H, W, 3)`` area-downsampled to
    ``size`` = (w, h): unchanged by any monotone change of exposure or tone."""
    small = cv2.resize(luma(img), size, interpolation=cv2.INTER_AREA)
    ranks = small.ravel().argsort(kind="stable").argsort().reshape(small.shape)
    return (ranks / ranks.size).astype(np.float32)


def rank_signature(img: np.ndarray, side: int = 64) -> np.ndarray:
    """Exposure-invariant signature ``(side*side,)`` of an RGB image ``(H, W, 3)`` in [0, 1]: the
    :func:`luma_ranks` at ``side`` x ``side``, standardised to mean 0, std 1."""
    ranks = luma_ranks(img, (side, side)).ravel()
    return (ranks - ranks.mean()) / max(float(ranks.std()), 1e-6)


def similarity(sig_a: np.ndarray, sig_b: np.ndarray) -> float:
    """Rank correlation in [-1, 1] of two :func:`rank_signature` vectors."""
    return float(np.mean(sig_a * sig_b))


def split_runs(signatures: list[np.ndarray], threshold: float) -> list[list[int]]:
    """Indices of consecutive frames grouped into scenes: a new scene starts wherever the similarity of a
    frame to the one before it is below ``threshold``."""
    scenes: list[list[int]] = []
    for i, sig in enumerate(signatures):
        if i == 0 or similarity(signatures[i - 1], sig) < threshold:
            scenes.append([])
        scenes[-1].append(i)
    return scenes


def frame_shift(reference: np.ndarray, img: np.ndarray, side: int = 256) -> tuple[float, float]:
    """``(shift in pixels at full size, rank correlation)`` of ``img`` against ``reference`` (both RGB
    ``(H, W, 3)`` in [0, 1], same size), measured by phase correlation of exposure-invariant rank images."""
    h, w = reference.shape[:2]
    scale = min(1.0, side / max(h, w))
    size = (max(8, round(w * scale)), max(8, round(h * scale)))

    a, b = luma_ranks(reference, size), luma_ranks(img, size)
    window = cv2.createHanningWindow(size, cv2.CV_32F)
    (dx, dy), _ = cv2.phaseCorrelate(a, b, window)
    corr = float(np.corrcoef(a.ravel(), b.ravel())[0, 1])
    return float(np.hypot(dx, dy) / scale), corr


def exposure_quality(img: np.ndarray) -> float:
    """How well exposed an RGB image is (higher is better): 1 minus the distance of its mean luma from 0.45,
    minus the share of pixels clipped to black or white."""
    y = luma(img)
    return 1.0 - abs(float(y.mean()) - 0.45) - float(((y < 0.02) | (y > 0.98)).mean())


def fuse(frames: list[np.ndarray]) -> np.ndarray:
    """Mertens exposure fusion of aligned RGB frames ``(H, W, 3)`` in [0, 1] -> ``(H, W, 3)`` in [0, 1]."""
    bgr = [np.ascontiguousarray(f[..., ::-1] * 255.0, dtype=np.float32) for f in frames]  # it divides by 255
    fused = cv2.createMergeMertens().process(bgr)
    return np.clip(fused[..., ::-1], 0.0, 1.0).astype(np.float32)


def exposure_ratio(frame: np.ndarray, target: np.ndarray) -> float:
    """Median ratio target / frame of luma over pixels that are neither black nor clipped in either."""
    a, b = luma(frame), luma(target)
    ok = (a > 0.01) & (a < 0.95) & (b > 0.01) & (b < 0.95)
    return float(np.median(b[ok] / a[ok])) if ok.sum() > 100 else float("nan")


# ---------------------------------------------------------------- scenes of a source folder

def file_number(path: Path) -> int | None:
    """The number a file name ends with (``1601.jpg``, ``IMG_0042.png``), or None."""
    match = re.fullmatch(r"\D*(\d+)", path.stem)
    return int(match.group(1)) if match else None


def scene_groups(src: str | os.PathLike, cfg: PairsConfig) -> tuple[list[tuple[str, list[Path]]], list[SceneReport]]:
    """``([(scene name, frame paths)], [reports of unreadable files])`` of a bracket folder.

    Sub-folders are scenes. Otherwise files are sorted by number and split by :func:`split_runs`; with
    ``cfg.files`` the neighbours just outside the range are read too, and a scene that reaches past the
    range is dropped whole (so a split boundary never cuts a scene in two)."""
    src = Path(src)
    if not src.is_dir():
        raise ImageError(f"{src}: not a folder")
    subdirs = sorted(p for p in src.iterdir() if p.is_dir())
    if subdirs:
        groups = []
        for d in subdirs:
            files = sorted(p for p in d.iterdir() if p.is_file() and is_image_path(p))
            groups.append((d.name, files))
        return groups, []
    numbered = sorted((n, p) for p in list_images(src) if (n := file_number(p)) is not None)
    if not numbered:
        raise ImageError(f"{src}: no sub-folders and no numbered images")
    if cfg.files:
        first, last = cfg.files
        numbered = [(n, p) for n, p in numbered if first - 1 <= n <= last + 1]
    sigs, kept, bad = [], [], []
    for n, path in numbered:
        try:
            sigs.append(rank_signature(read_image(path), cfg.thumb))
            kept.append((n, path))
        except ImageError as err:
            bad.append(SceneReport(path.name, 1, error=str(err)))
    groups = []
    for run in split_runs(sigs, cfg.scene_split):
        numbers = [kept[i][0] for i in run]
        if cfg.files and (numbers[0] < cfg.files[0] or numbers[-1] > cfg.files[1]):
            continue  # reaches outside the range: belongs to another split
        groups.append((f"{numbers[0]:05d}", [kept[i][1] for i in run]))
    return groups, bad


def build_scene(name: str, paths: list[Path], cfg: PairsConfig) -> tuple[np.ndarray | None, list[dict], SceneReport]:
    """``(target, [pair rows with their 'low' arrays], report)`` of one scene; ``target`` None if skipped."""
    report = SceneReport(name, len(paths))
    frames = []
    for path in paths:
        try:
            frames.append((path, read_image(path)))
        except ImageError as err:
            report.dropped.append(f"{path.name}: unreadable ({err})")
    if len(frames) < 2:
        report.error = f"{len(frames)} readable frame(s); a scene needs at least 2"
        return None, [], report
    shapes = {img.shape for _, img in frames}
    if len(shapes) > 1:
        report.error = f"frames of different sizes {sorted(s[:2] for s in shapes)}"
        return None, [], report
    reference = max(frames, key=lambda f: exposure_quality(f[1]))
    aligned = []
    for path, img in frames:
        shift, corr = (0.0, 1.0) if path is reference[0] else frame_shift(reference[1], img)
        if shift > cfg.max_shift or corr < cfg.min_alignment:
            report.dropped.append(f"{path.name}: moved (shift {shift:.1f} px, correlation {corr:.2f})")
        else:
            aligned.append((path, img, corr))
    if len(aligned) < 2:
        report.error = "fewer than 2 aligned frames"
        return None, [], report
    if cfg.target == "fusion":
        target = fuse([img for _, img, _ in aligned])
    elif cfg.target == "best":
        target = reference[1]
    else:
        raise ValueError(f"target must be 'fusion' or 'best', got {cfg.target!r}")
    rows = []
    for path, img, corr in aligned:
        mean = float(luma(img).mean())
        if mean >= cfg.dark or (cfg.target == "best" and path is reference[0]):
            continue
        rows.append({"name": f"{name}_{path.stem}", "scene": name, "source": path.name, "mean_luma": round(mean, 4),
                     "exposure_ratio": round(exposure_ratio(img, target), 3), "alignment": round(corr, 3),
                     "target": cfg.target, "low": img})
    if not rows:
        report.error = f"no frame darker than mean luma {cfg.dark}"
        return None, [], report
    report.pairs = len(rows)
    return target, rows, report


def build_pairs(src: str | os.PathLike, out: str | os.PathLike, cfg: PairsConfig | None = None,
                progress=None) -> list[SceneReport]:
    """Write ``out/{low,high}/NAME.png`` and ``out/manifest.csv`` for every usable scene of ``src``.

    Each file is written under a temporary name and renamed when complete, the high image of a pair
    before its low one, and the manifest last: a stopped run leaves no half-written pair.
    ``progress(done, total)`` is called after each scene. Returns one report per scene or bad file."""
    cfg = cfg or PairsConfig()
    if not 0.0 < cfg.dark <= 1.0:
        raise ValueError(f"dark must be in (0, 1], got {cfg.dark}")
    groups, reports = scene_groups(src, cfg)
    out = Path(out)
    for sub in ("low", "high"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    rows = []
    for done, (name, paths) in enumerate(groups, 1):
        target, scene_rows, report = build_scene(name, paths, cfg)
        reports.append(report)
        if target is not None:
            high_png = encode_image(target, ".png")
            for row in scene_rows:
                atomic_write_bytes(out / "high" / f"{row['name']}.png", high_png)
                atomic_write_bytes(out / "low" / f"{row['name']}.png", encode_image(row.pop("low"), ".png"))
                rows.append(row)
        if progress:
            progress(done, len(groups))
    text = io.StringIO()
    writer = csv.DictWriter(text, MANIFEST_FIELDS)
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_bytes(out / "manifest.csv", text.getvalue().encode())
    return reports
