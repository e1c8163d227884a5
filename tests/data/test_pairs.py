"""The pairs builder on tiny generated exposure brackets (no data set needed)."""

import csv

import cv2
import numpy as np
import pytest

from minelight.color import luma
from minelight.data.datasets import load_pairs
from minelight.io import write_image
from minelight.data.pairs import (PairsConfig, build_pairs, exposure_ratio, frame_shift, rank_signature, scene_groups,
                             similarity, split_runs)

EXPOSURES = (0.04, 0.1, 0.3, 0.8, 2.0)  # relative exposure of each bracket frame


def radiance(seed: int, size: int = 96) -> np.ndarray:
    """A scene's linear radiance ``(size, size, 3)``: smooth random structure, different for every seed."""
    rng = np.random.default_rng(seed)
    field = cv2.GaussianBlur(rng.random((size, size, 3)).astype(np.float32), (0, 0), 5)
    field = (field - field.min()) / (field.max() - field.min())
    return 0.05 + 0.9 * field ** 2


def expose(rad: np.ndarray, exposure: float) -> np.ndarray:
    """A camera's 8-bit-ready frame: exposure in linear light, clipping, gamma 2.2."""
    return np.clip(rad * exposure, 0, 1) ** (1 / 2.2)


def write_bracket(folder, seed: int, names: list[str], exposures=EXPOSURES) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    rad = radiance(seed)
    for name, exposure in zip(names, exposures):
        write_image(folder / name, expose(rad, exposure))


def test_rank_signature_ignores_exposure_but_not_structure():
    a, b = radiance(0), radiance(1)
    same = similarity(rank_signature(expose(a, 0.1), 32), rank_signature(expose(a, 1.0), 32))
    other = similarity(rank_signature(expose(a, 1.0), 32), rank_signature(expose(b, 1.0), 32))
    assert same > 0.9 and other < 0.5


def test_split_runs_starts_a_scene_where_structure_changes():
    sigs = [rank_signature(expose(radiance(seed), e), 32) for seed in (0, 1) for e in EXPOSURES]
    assert split_runs(sigs, 0.6) == [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]]


def test_frame_shift_measures_a_moved_frame():
    img = expose(radiance(2, 128), 0.5)
    assert frame_shift(img, expose(radiance(2, 128), 0.1))[0] < 1.0
    assert frame_shift(img, np.roll(img, 6, axis=1))[0] == pytest.approx(6, abs=1.0)


def test_exposure_ratio_of_a_linear_scaling():
    rad = radiance(3)
    assert exposure_ratio(np.clip(rad * 0.25, 0, 1), np.clip(rad, 0, 1)) == pytest.approx(4.0, rel=0.05)


def test_flat_numbered_folder_is_grouped_into_scenes(tmp_path):
    src = tmp_path / "sice"
    write_bracket(src, 0, [f"{n}.png" for n in range(1, 6)])
    write_bracket(src, 1, [f"{n}.png" for n in range(6, 11)])
    groups, bad = scene_groups(src, PairsConfig(thumb=32))
    assert not bad
    assert [[p.name for p in paths] for _, paths in groups] == [[f"{n}.png" for n in range(1, 6)],
                                                                 [f"{n}.png" for n in range(6, 11)]]


def test_a_scene_crossing_the_file_range_is_dropped(tmp_path):
    src = tmp_path / "sice"
    for seed, first in enumerate((1, 6, 11)):
        write_bracket(src, seed, [f"{n}.png" for n in range(first, first + 5)])
    groups, _ = scene_groups(src, PairsConfig(thumb=32, files=(1, 8)))
    assert [name for name, _ in groups] == ["00001"]  # 6-10 reaches past 8; 11-15 lies outside
    groups, _ = scene_groups(src, PairsConfig(thumb=32, files=(6, 15)))
    assert [name for name, _ in groups] == ["00006", "00011"]


@pytest.fixture
def bracket_root(tmp_path):
    """Scene folders: a good one, one with a moved frame, a one-frame scene, one with a different-size frame,
    and one with an unreadable file."""
    root = tmp_path / "brackets"
    names = [f"f{i}.png" for i in range(len(EXPOSURES))]
    write_bracket(root / "good", 0, names)
    write_bracket(root / "moved", 1, names)
    write_image(root / "moved" / "f1.png", np.roll(expose(radiance(1), EXPOSURES[1]), 8, axis=1))
    write_bracket(root / "single", 2, ["f0.png"], [0.05])
    write_bracket(root / "sizes", 3, names)
    write_image(root / "sizes" / "f4.png", expose(radiance(3, 64), 2.0))
    write_bracket(root / "corrupt", 4, names)
    (root / "corrupt" / "f0.png").write_bytes(b"not a png")
    return root


def test_build_pairs_writes_pairs_manifest_and_reports(bracket_root, tmp_path):
    out = tmp_path / "out"
    reports = {r.scene: r for r in build_pairs(bracket_root, out, PairsConfig(dark=0.3))}
    assert reports["good"].pairs == 2 and not reports["good"].error  # exposures 0.04 and 0.1 are dark
    assert reports["moved"].pairs == 1 and any(d.startswith("f1.png: moved") for d in reports["moved"].dropped)
    assert "at least 2" in reports["single"].error
    assert "different sizes" in reports["sizes"].error
    assert reports["corrupt"].pairs == 1 and any("unreadable" in d for d in reports["corrupt"].dropped)
    with open(out / "manifest.csv") as f:
        rows = list(csv.DictReader(f))
    assert sorted(r["name"] for r in rows) == ["corrupt_f1", "good_f0", "good_f1", "moved_f0"]
    assert all(r["scene"] and r["source"] and float(r["alignment"]) > 0.3 and float(r["exposure_ratio"]) > 1
               for r in rows)
    pairs = load_pairs(out)
    assert len(pairs) == 4
    for _, low, high in pairs:
        assert luma(low).mean() < 0.3 and 0.3 < luma(high).mean() < 0.75  # the target is well exposed
    assert not list(out.rglob("*.tmp*")) and not list(out.rglob(".*"))


def test_best_frame_target_is_a_frame_of_the_scene(bracket_root, tmp_path):
    build_pairs(bracket_root, tmp_path / "out", PairsConfig(dark=0.3, target="best"))
    high = next(high for name, _, high in load_pairs(tmp_path / "out") if name.startswith("good_"))
    frames = [expose(radiance(0), e) for e in EXPOSURES]
    assert min(np.abs(high - f).max() for f in frames) < 1 / 255 + 1e-6


def test_unknown_target_is_an_error(bracket_root, tmp_path):
    with pytest.raises(ValueError, match="target"):
        build_pairs(bracket_root, tmp_path / "out", PairsConfig(target="median"))
