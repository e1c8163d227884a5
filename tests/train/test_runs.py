import csv

import numpy as np
import pytest
import torch

from minelight.models.weights import load_weights
from minelight.train.checkpoints import load_checkpoint
from minelight.weights import WeightsError
from minelight.models import TeacherConfig
from minelight.train.runs import (FastRunConfig, StudentRunConfig, TeacherRunConfig, TrainingError, build_teacher,
                             pair_sampler, train_fast, train_student, train_teacher)

from ..conftest import TINY_FAST, TINY_STUDENT, TINY_TEACHER


def _student_cfg(tmp_path, image_folder, pair_folder, teacher: str, **kw) -> StudentRunConfig:
    cfg = StudentRunConfig(data=(str(image_folder),), val=str(pair_folder), out=str(tmp_path / "student"),
                           steps=4, batch_size=2, crop=32, warmup=1, log_every=1, val_every=2, ckpt_every=2,
                           exposure_filter=False, teacher=teacher, **kw)
    cfg.model = type(cfg.model)(**TINY_STUDENT)
    cfg.distill.levels = (1, 2)
    return cfg


def _log(cfg) -> list[dict]:
    with open(f"{cfg.out}/log.csv") as f:
        return list(csv.DictReader(f))


def test_real_pair_batches_take_their_own_crop_and_batch_size(tmp_path, image_folder, pair_folder):
    cfg = _student_cfg(tmp_path, image_folder, pair_folder, teacher="", paired=(str(pair_folder),),
                       paired_share=0.5, paired_crop=48, paired_batch_size=1)
    sampler = pair_sampler(cfg)
    shapes = {sampler.source(k) is sampler.first: sampler.batch(k)[0].shape for k in range(12)}
    assert shapes == {True: (1, 3, 48, 48), False: (2, 3, 32, 32)}


def test_teacher_frozen_during_student_training(tmp_path, image_folder, pair_folder, teacher_weights, monkeypatch):
    import minelight.train.runs as train_module

    seen = {}
    real_build = train_module.build_teacher

    def spy(*args):
        seen["teacher"] = real_build(*args)
        seen["before"] = {k: v.clone() for k, v in seen["teacher"].state_dict().items()}
        return seen["teacher"]

    monkeypatch.setattr(train_module, "build_teacher", spy)
    train_student(_student_cfg(tmp_path, image_folder, pair_folder, str(teacher_weights)), progress=False)
    teacher = seen["teacher"]
    assert not teacher.training
    assert all(not p.requires_grad and p.grad is None for p in teacher.parameters())
    for k, v in teacher.state_dict().items():
        assert torch.equal(v, seen["before"][k]), k


def test_distillation_term_present_only_when_enabled(tmp_path, image_folder, pair_folder, teacher_weights):
    cfg = _student_cfg(tmp_path, image_folder, pair_folder, str(teacher_weights))
    train_student(cfg, progress=False)
    rows = [r for r in _log(cfg) if r["loss"]]
    assert float(rows[0]["attention"]) > 0 and float(rows[0]["channel_kd"]) > 0
    assert rows[-1]["val_psnr"]

    none = _student_cfg(tmp_path / "b", image_folder, pair_folder, "")
    train_student(none, progress=False)
    header = _log(none)[0].keys()
    assert "attention" not in header and "channel_kd" not in header


def test_random_teacher_is_untrained_and_frozen():
    teacher = build_teacher("random", (8, 8, 8), seed=0)
    again = build_teacher("random", (8, 8, 8), seed=0)
    assert all(not p.requires_grad for p in teacher.parameters())
    assert all(torch.equal(a, b) for a, b in zip(teacher.state_dict().values(), again.state_dict().values()))
    assert build_teacher("", (8,), 0) is None


def test_teacher_width_mismatch_is_an_error(teacher_weights):
    with pytest.raises(TrainingError, match="widths"):
        build_teacher(str(teacher_weights), (16, 16, 16), 0)


def test_overfit_lowers_loss(tmp_path, pair_folder):
    cfg = StudentRunConfig(paired=(str(pair_folder),), out=str(tmp_path / "o"), steps=20, batch_size=2, crop=32,
                           lr=3e-3, warmup=1, log_every=1, ckpt_every=100)
    cfg.model = type(cfg.model)(**TINY_STUDENT)
    train_student(cfg, progress=False)
    losses = [float(r["loss"]) for r in _log(cfg)]
    assert np.mean(losses[-3:]) < 0.7 * np.mean(losses[:3])


def test_seeded_runs_are_identical(tmp_path, image_folder, pair_folder, teacher_weights):
    paths = []
    for run in ("a", "b"):
        paths.append(train_student(_student_cfg(tmp_path / run, image_folder, pair_folder, str(teacher_weights)),
                                   progress=False))
    (a, _), (b, _) = load_weights(paths[0]), load_weights(paths[1])
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))


def test_resume_continues_from_saved_step(tmp_path, image_folder, pair_folder, teacher_weights, monkeypatch):
    full = train_student(_student_cfg(tmp_path / "full", image_folder, pair_folder, str(teacher_weights)),
                         progress=False)
    import minelight.data.datasets as data_module

    real_batch = data_module.PairSampler.batch

    def interrupted(self, step, rank=0, world=1):
        if step == 3:
            raise KeyboardInterrupt
        return real_batch(self, step, rank, world)

    cfg = _student_cfg(tmp_path / "part", image_folder, pair_folder, str(teacher_weights))
    monkeypatch.setattr(data_module.PairSampler, "batch", interrupted)
    with pytest.raises(KeyboardInterrupt):
        train_student(cfg, progress=False)
    assert load_checkpoint(f"{cfg.out}/last.pt")["step"] == 2  # step 3 was lost
    monkeypatch.setattr(data_module.PairSampler, "batch", real_batch)
    resumed = train_student(cfg, resume=True, progress=False)
    steps = [int(r["step"]) for r in _log(cfg) if r["loss"]]
    assert steps == [1, 2, 3, 3, 4]  # step 3 logged before the interrupt, then redone
    (a, _), (b, _) = load_weights(full), load_weights(resumed)
    for x, y in zip(a.state_dict().values(), b.state_dict().values()):
        torch.testing.assert_close(x, y)


def test_init_starts_from_the_given_weights(tmp_path, image_folder, pair_folder):
    first = train_student(_student_cfg(tmp_path / "a", image_folder, pair_folder, "", seed=1), progress=False)
    runs = {}
    for label, init in (("init", str(first)), ("random", "")):  # a learning rate too small to move anything
        cfg = _student_cfg(tmp_path / label, image_folder, pair_folder, "", init=init, lr=1e-12)
        # resume=True with no checkpoint yet: still a fresh run, so --init applies
        runs[label], _ = load_weights(train_student(cfg, resume=label == "init", progress=False))
    start, _ = load_weights(first)
    for x, y, z in zip(start.state_dict().values(), runs["init"].state_dict().values(),
                       runs["random"].state_dict().values()):
        torch.testing.assert_close(x, y, atol=1e-6, rtol=0)
    assert any(not torch.allclose(x, z) for x, z in zip(start.state_dict().values(),
                                                         runs["random"].state_dict().values()))


def test_init_with_other_weights_is_an_error(tmp_path, image_folder, pair_folder, student_weights, teacher_weights):
    for init, match in ((teacher_weights, "holds a 'teacher' model"), (student_weights, "has config")):
        cfg = _student_cfg(tmp_path, image_folder, pair_folder, "", init=str(init))
        cfg.model = type(cfg.model)(**{**TINY_STUDENT, "rir_groups": 2})
        with pytest.raises(TrainingError, match=match):
            train_student(cfg, progress=False)


def test_teacher_training_runs_and_saves(tmp_path, image_folder):
    cfg = TeacherRunConfig(data=(str(image_folder),), val=str(image_folder), out=str(tmp_path / "t"), steps=3,
                           batch_size=2, crop=32, warmup=1, log_every=1, val_every=3, exposure_filter=False)
    cfg.model = TeacherConfig(**TINY_TEACHER)
    model, meta = load_weights(train_teacher(cfg, progress=False))
    assert meta["model"] == "teacher" and meta["steps"] == "3"
    assert float(_log(cfg)[-1]["val_psnr"]) > 5


def test_distill_level_out_of_range_is_an_error(tmp_path, image_folder, pair_folder, teacher_weights):
    cfg = _student_cfg(tmp_path, image_folder, pair_folder, str(teacher_weights))
    cfg.distill.levels = (3,)
    with pytest.raises(TrainingError, match="levels"):
        train_student(cfg, progress=False)


def test_no_data_is_an_error(tmp_path):
    with pytest.raises(TrainingError, match="no training data"):
        train_teacher(TeacherRunConfig(out=str(tmp_path)), progress=False)


def test_corrupt_checkpoint_falls_back_to_the_previous_one(tmp_path, image_folder, pair_folder, capsys):
    from minelight.train.checkpoints import load_latest_checkpoint

    cfg = _student_cfg(tmp_path, image_folder, pair_folder, "")
    cfg.ckpt_every = 1
    train_student(cfg, progress=False)
    last = f"{cfg.out}/last.pt"
    assert load_checkpoint(last)["step"] == 4 and load_checkpoint(last + ".prev")["step"] == 3
    data = bytearray(open(last, "rb").read())
    data[len(data) // 2] ^= 0xFF  # one flipped byte
    open(last, "wb").write(bytes(data))
    with pytest.raises(WeightsError):
        load_checkpoint(last)
    warnings = []
    assert load_latest_checkpoint(last, warn=warnings.append)["step"] == 3
    assert "corrupt" in warnings[0] or "unreadable" in warnings[0]
    cfg.steps = 5
    train_student(cfg, resume=True, progress=False)  # resumes from step 3, not from scratch
    assert [int(r["step"]) for r in _log(cfg) if r["loss"]][-2:] == [4, 5]


@pytest.mark.parametrize("sig", ["SIGKILL", "SIGTERM"])
def test_killed_training_process_resumes_to_the_same_weights(tmp_path, image_folder, sig):
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    base = [sys.executable, "-m", "minelight", "train", "student", "--data", str(image_folder), "--steps", "40",
            "--batch-size", "2", "--crop", "32", "--threads", "1", "--quiet"]
    for setting in ("model.widths=8,8,8", "model.rir_groups=1", "model.blocks_per_group=1", "ckpt_every=4",
                    "warmup=1", "exposure_filter=false", "log_every=1"):
        base += ["--set", setting]
    full, part = tmp_path / "full", tmp_path / "part"
    subprocess.run(base + ["-o", str(full)], check=True, capture_output=True)
    proc = subprocess.Popen(base + ["-o", str(part)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 60
    while not (part / "last.pt").exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.01)
    proc.send_signal(getattr(signal, sig))
    _, err = proc.communicate(timeout=60)
    assert proc.returncode != 0
    saved = load_checkpoint(part / "last.pt")["step"]
    logged = max(int(r["step"]) for r in csv.DictReader(open(part / "log.csv")))
    assert saved < 40
    if sig == "SIGTERM":
        assert saved == logged and b"SIGTERM" in err  # checkpointed the step it was on
    else:
        assert logged - saved <= 4  # lost at most one checkpoint interval
    subprocess.run(base + ["-o", str(part), "--resume"], check=True, capture_output=True)
    (a, _), (b, _) = load_weights(Path(full / "model.safetensors")), load_weights(part / "model.safetensors")
    for x, y in zip(a.state_dict().values(), b.state_dict().values()):
        torch.testing.assert_close(x, y)


def test_torchrun_two_processes_equal_one_process_with_the_same_global_batch(tmp_path, image_folder):
    import os
    import subprocess
    import sys

    args = ["train", "student", "--data", str(image_folder), "--steps", "3", "--batch-size", "4", "--crop", "32",
            "--threads", "1", "--quiet"]
    for setting in ("model.widths=8,8,8", "model.rir_groups=1", "model.blocks_per_group=1", "warmup=1",
                    "exposure_filter=false", "log_every=1"):
        args += ["--set", setting]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    single, multi = tmp_path / "single", tmp_path / "ddp"
    subprocess.run([sys.executable, "-m", "minelight", *args, "-o", str(single)], check=True, capture_output=True,
                   env=env, timeout=120)
    done = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                           "-m", "minelight", *args, "-o", str(multi)], capture_output=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    assert len(list(csv.DictReader(open(multi / "log.csv")))) == 3  # one writer: rank 0
    (a, _), (b, _) = load_weights(single / "model.safetensors"), load_weights(multi / "model.safetensors")
    for x, y in zip(a.state_dict().values(), b.state_dict().values()):
        torch.testing.assert_close(x, y, rtol=1e-4, atol=1e-5)


def test_non_finite_loss_stops_training_and_keeps_the_last_good_checkpoint(tmp_path, image_folder, pair_folder,
                                                                           monkeypatch):
    cfg = _student_cfg(tmp_path, image_folder, pair_folder, "")
    cfg.steps = 2
    train_student(cfg, progress=False)
    import minelight.train.runs as train_module

    def nan_loss(self, pred, target):
        return pred.sum() * float("nan"), {}

    monkeypatch.setattr(train_module.ReconstructionLoss, "forward", nan_loss)
    cfg.steps = 4
    with pytest.raises(TrainingError, match="non-finite loss at step 2"):
        train_student(cfg, resume=True, progress=False)
    assert load_checkpoint(f"{cfg.out}/last.pt")["step"] == 2


def _fast_cfg(tmp_path, image_folder, pair_folder, student_weights, teacher_weights, **kw) -> FastRunConfig:
    cfg = FastRunConfig(data=(str(image_folder),), paired=(str(pair_folder),), paired_share=0.5,
                        val=str(pair_folder), out=str(tmp_path / "fast"), steps=3, batch_size=2, crop=48, warmup=1,
                        log_every=1, val_every=3, ckpt_every=3, exposure_filter=False,
                        student=str(student_weights), teacher=str(teacher_weights), **kw)
    cfg.model = type(cfg.model)(**TINY_FAST)
    return cfg


@pytest.mark.parametrize("factors", [(1.5, 1.5), (3.0, 4.0)])  # 32 px; 12-16 px (the model's own: 24)
def test_fast_training_sees_its_crops_at_the_low_factors_and_distils(tmp_path, image_folder, pair_folder,
                                                                      student_weights, teacher_weights, factors,
                                                                      monkeypatch):
    import minelight.train.runs as train_module

    sides = []
    real_downsample = train_module.downsample
    monkeypatch.setattr(train_module, "downsample", lambda x, side: sides.append(side) or real_downsample(x, side))
    cfg = _fast_cfg(tmp_path, image_folder, pair_folder, student_weights, teacher_weights, low_factors=factors)
    weights = train_fast(cfg, progress=False)
    rows = [r for r in _log(cfg) if r["loss"]]
    assert len(rows) == 3 and all(float(r["to_student"]) > 0 and float(r["attention"]) > 0 for r in rows)
    assert rows[-1]["val_psnr"] and weights.exists()
    assert sides and all(round(48 / factors[1]) <= s <= round(48 / factors[0]) for s in sides)


def test_fast_training_rejects_low_factors_below_one(tmp_path, image_folder, pair_folder, student_weights,
                                                     teacher_weights):
    cfg = _fast_cfg(tmp_path, image_folder, pair_folder, student_weights, teacher_weights, low_factors=(0.5, 2.0))
    with pytest.raises(TrainingError, match="low_factors"):
        train_fast(cfg, progress=False)
