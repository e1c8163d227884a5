"""Render the figures of docs/results.json into the documentation (standard library only).

    python tools/render_docs.py            # rewrite docs/results.md and the marked blocks
    python tools/render_docs.py --check    # exit 1 if any rendered text differs from the files

Targets: docs/results.md (the whole file), and the text between ``<!-- NAME:start -->`` and
``<!-- NAME:end -->`` in README.md (results), docs/ablations.md (ablations), docs/serve.md (substreams, frame_costs, batching), docs/cluster.md (seam, fleet, costs) and
src/minelight/weights/MODEL_CARD.md (card). Every figure in those files comes from docs/results.json.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "docs" / "results.json"

METHOD_ORDER = ["input", "gamma", "he", "clahe", "lime", "zerodce", "zerodce-0.1.0", "student", "enhance", "fast-image",
                "fast-video"]
LABELS = {"input": "input", "gamma": "gamma", "he": "HE", "clahe": "CLAHE", "lime": "LIME", "zerodce": "Zero-DCE",
          "zerodce-0.1.0": "Zero-DCE (0.1.0 weights)",
          "student": "Net-S alone", "enhance": "**`minelight enhance`**", "fast-image": "fast model, images",
          "fast-video": "fast model, video and serve"}
DIGITS = {"psnr": 2, "ssim": 3, "psnr_gtmean": 2, "ssim_gtmean": 3, "niqe": 3, "loe": 1}
METRIC_HEADS = {"psnr": "PSNR ↑", "ssim": "SSIM ↑", "psnr_gtmean": "PSNR GT-mean ↑", "ssim_gtmean": "SSIM GT-mean ↑",
                "niqe": "NIQE ↓", "loe": "LOE ↓"}


UNIT_DIGITS = {"s": 3, "FPS": 1, "ms": 1, "%": 1, "GiB": 2, "dB": 2}


def qty(entry: dict) -> str:
    """An entry's value with its unit, to the digits its unit (or its own ``digits``) asks for."""
    digits = entry.get("digits", UNIT_DIGITS.get(entry["unit"]))
    return f"{num(entry['value'], digits)} {entry['unit']}".strip()


def num(value, digits: int | None = None) -> str:
    if value is None:
        return "–"
    if isinstance(value, dict):
        return f"{num(value['mean'])} ± {num(value['std'])}"
    if digits is not None:
        return f"{value:.{digits}f}"
    if isinstance(value, float) and (abs(value) < 1e-3 and value != 0):
        return f"{value:.1e}"
    return f"{value:,}" if isinstance(value, int) else f"{value:g}"


def table(head: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


class Figures:
    def __init__(self, data: dict):
        self.data = data
        self.q = {(e["method"], e["dataset"], e["metric"]): e for e in data["quality"]}

    def v(self, method: str, dataset: str, metric: str) -> str:
        e = self.q.get((method, dataset, metric))
        if e is None:
            return "–"
        return num(e["value"], 0 if metric == "loe" and e["value"] >= 1000 else DIGITS[metric])

    def pair(self, method: str, dataset: str, a: str = "psnr", b: str = "ssim") -> str:
        x, y = self.v(method, dataset, a), self.v(method, dataset, b)
        return "–" if x == y == "–" else f"{x} / {y}"

    def speed(self, method: str, needle: str) -> dict:
        return next(s for s in self.data["speed"] if s["method"] == method and needle in s["what"])

    def run(self, name: str) -> dict:
        return self.data["runs"][name]


def machine(f: Figures, run: str) -> str:
    """The machine of ``run`` in a few words (its entry up to the first semicolon)."""
    return f.run(run)["machine"].split(";")[0]


def headline(f: Figures) -> str:
    rows = []
    for m in METHOD_ORDER:
        if not any(f.pair(m, ds) != "–" for ds in ("SICE_TEST", "SICE_TEST_NOISY", "SYNTH")):
            continue  # no figure of its own in this table (the shipped Zero-DCE: validation only, results.md)
        rows.append([LABELS[m], f.pair(m, "SICE_TEST"), f.pair(m, "SICE_TEST_NOISY"), f.pair(m, "SYNTH"),
                     f.v(m, "DICM", "niqe") + " / " + f.v(m, "LIME", "niqe"),
                     f.v(m, "DICM", "loe") + " / " + f.v(m, "LIME", "loe")])
    img = f.speed("enhance", "640x480")
    vid = f.speed("fast-video", "1280x720")
    e2e = next(c for c in f.data["video_chain"]["chains"] if c["chain"] == "fast")
    cam = f.speed("fast-video", "enhanced FPS")
    out = [table(["method", "SICE test PSNR / SSIM", "SICE test + noise", "synthetic PSNR / SSIM",
                  "NIQE ↓ DICM / LIME", "LOE ↓ DICM / LIME"], rows), "",
           f"Speed on {machine(f, img['run'])}: one 640×480 image {qty(img)}; "
           + ("" if machine(f, vid["run"]) == machine(f, img["run"]) else f"on {machine(f, vid['run'])}: ")
           + f"720p video with the fast model {qty(vid)} (one thread), {num(e2e['fps'], 1)} FPS decode + "
           f"enhance + encode ({num(e2e['ratio_clahe'], 2)}× the same chain with CLAHE); "
           + ("" if machine(f, cam["run"]) == machine(f, vid["run"]) else f"on {machine(f, cam['run'])}: ")
           + f"`minelight serve` keeps one 720p25 camera at {qty(cam)}. "
           "SICE test: 138 real pairs never trained or tuned on; PSNR/SSIM on float outputs, without GT-mean. "
           "Every figure, its command and date: [docs/results.md](docs/results.md)."]
    return "\n".join(out)


def results_md(f: Figures) -> str:
    d = f.data
    by_machine: dict[str, list[str]] = {}
    for name, r in d["runs"].items():
        by_machine.setdefault(r["machine"], []).append(name)
    main, *others = sorted(by_machine, key=lambda m: -len(by_machine[m]))
    machines = main + "".join(f"; for {', '.join(f'`{r}`' for r in by_machine[m])}: {m}" for m in others)
    parts = [
        "# Results",
        "",
        "<!-- generated by tools/render_docs.py from docs/results.json: edit those, not this file -->",
        "",
        f"Figures of the weights shipped with minelight {d['release']} (`src/minelight/weights/`). Each comes from "
        "one command, listed under *Sources* with its date. Machine: " + machines + ".",
        "",
        "Weights (SHA-256, first 16 digits): " + ", ".join(
            f"`{k}` {v['sha256'][:16]}" for k, v in d["weights"].items()) + ".",
        "",
        "## How the figures were made",
        "",
        "* `minelight benchmark` scores the **float** outputs of each method (not quantised to 8 bits). PSNR and "
        "SSIM are on RGB without GT-mean rescaling; the GT-mean columns are the labelled variant "
        "([metrics.md](metrics.md)).",
        "* Every shipped weight file and every default (halo guard, colour-noise step, detail restoration, the "
        "fast model's resolution) was chosen on the validation split (SICE files 1401–1600) by a rule written "
        "before scoring. The test split (files 1601–2002) is then scored once.",
        "* **Where the test split was looked at twice.** Two defaults of 0.2.0 were re-opened after a "
        "test-split result: the detail restoration was revisited because of its cost on the SICE test pairs "
        "([notes/detail_tuning.md](notes/detail_tuning.md)), and the fast model's first video colour step was "
        "replaced after a report on the test pairs showed it flattened texture "
        "([notes/colour_noise.md](notes/colour_noise.md)). The new choices were scored on validation, but a "
        "choice re-opened because of a test result is, in effect, tuned on the test split: read the SICE test "
        "figures of `minelight enhance` and of the fast model as slightly optimistic.",
        "* **The rule from now on:** the test split is scored once per release, after every choice is frozen, and "
        "no choice is re-opened because of it.",
        "* The shipped Zero-DCE (0.2.0) was trained on the training split only (SICE files 1–1400). The row "
        "*Zero-DCE (0.1.0 weights)* is the previous Zero-DCE, trained on files 1–1600 (validation split included), "
        "kept on the validation pairs for comparison.",
        "",
        "Methods:",
        "",
    ]
    parts += [f"* `{k}`: {v}" for k, v in d["methods"].items()]
    parts += ["", "Data sets:", ""] + [f"* `{k}`: {v}" for k, v in d["datasets"].items()]
    parts += ["", "## Quality", ""]
    for ds in d["datasets"]:
        metrics = [m for m in DIGITS if any((me, ds, m) in f.q for me in METHOD_ORDER)]
        rows = [[LABELS[me]] + [f.v(me, ds, m) for m in metrics] for me in METHOD_ORDER
                if any((me, ds, m) in f.q for m in metrics)]
        runs = sorted({f.q[(me, ds, m)]["run"] for me in METHOD_ORDER for m in metrics if (me, ds, m) in f.q})
        desc = d["datasets"][ds]
        parts += [f"### {ds}", "", desc[:1].upper() + desc[1:] + ". Sources: " + ", ".join(f"`{r}`" for r in runs) + ".", "",
                  table(["method"] + [METRIC_HEADS[m] for m in metrics], rows), ""]
    parts += ["## Speed", "", table(["what", "value", "source"], [
        [s["what"] + (f" ({s['note']})" if s.get("note") else ""), qty(s),
         f"`{s['run']}`"] for s in d["speed"]]), ""]
    vc = d["video_chain"]
    parts += ["### The video chain at 720p", "", f"{vc['clip']}. Source: `{vc['run']}`; how the chains differ: "
              "[notes/video_chain.md](notes/video_chain.md).", "",
              table(["decode + enhance + encode", "FPS", "× CLAHE's"],
                    [[c["chain"], num(c["fps"], 1), num(c["ratio_clahe"], 2)] for c in vc["chains"]]), "",
              table(["enhancement alone, uint8 frames in memory", "FPS"], [[a["what"], num(a["fps"], 1)] for a in vc["alone"]]),
              "", f"Decoding alone {num(vc['decode_fps'])} FPS, encoding alone (x264 veryfast) {num(vc['encode_fps'])} FPS.", ""]
    parts += ["### Huge images (Net-S, 2 threads; tiles of 1024 px above 4 MP)", "",
              table(["image", "mode", "backend", "time", "peak RSS", "source"], [
                  [h["image"], h["mode"], h["backend"],
                   h.get("note") if h["seconds"] is None else f"{num(h['seconds'])} s",
                   "–" if h["peak_rss_mib"] is None else f"{h['peak_rss_mib'] / 1024:.2f} GiB", f"`{h['run']}`"]
                  for h in d["huge_images"]]), ""]
    parts += ["## Memory", "", table(["what", "value", "source"], [
        [m["what"], qty(m), f"`{m['run']}`"] for m in d["memory"]]), ""]
    fl = d["flicker"]
    parts += ["## Flicker (lower is better; below 0: steadier than the input)", "", fl["clip"] + f". Source: `{fl['run']}`.",
              "", table(["processing", "flicker"], [[r["processing"], f"{r['value']:+.5f}"] for r in fl["rows"]]), ""]
    nv = d.get("noisy_video")
    if nv:
        sp = nv["speed"]
        levels = ", ".join(f"{k}: full well {num(v['full_well'])} photons, read noise {v['read_noise']:g}"
                           for k, v in nv["levels"].items())
        parts += ["## Noisy video: temporal denoising", "",
                  f"{nv['clips']}; noise levels (linear light) {levels}. The fast model with its video steps. "
                  "PSNR / SSIM against the targets; *moving*: PSNR where the square is or was in the last 8 frames "
                  "(ghost trails); *recovered*: share of the noise's PSNR loss won back, (PSNR − per frame) / "
                  "(clean per frame − per frame); flicker as above, on the rows the square never crosses. "
                  f"Source: `{nv['run']}`.", "",
                  table(["noise", "processing", "PSNR", "SSIM", "moving", "recovered", "flicker"], [
                      [r["level"], r["variant"], f"{r['psnr']:.2f}", f"{r['ssim']:.3f}", f"{r['psnr_moving']:.2f}",
                       "–" if r["recovered"] is None else f"{100 * r['recovered']:.0f} %", f"{r['flicker']:+.5f}"]
                      for r in nv["rows"]]), "",
                  "What videos and `serve` apply with the fast model: *denoise before alone* (the temporal denoiser "
                  "on the frames before the network, `minelight.enhance.denoise`); `--no-denoise` gives *smoothing "
                  "(0.2.0)*. Chosen by the rule in "
                  "[notes/temporal_denoising.md](notes/temporal_denoising.md).", "",
                  f"On the luma path that videos and `serve` run, the denoiser takes {num(sp['denoise_ms_720p'])} ms "
                  f"per 720p frame ({num(sp['ratio'], 3)} of the fast model's own frame time, measured together in "
                  f"one process; 2 cores); the fast model's frame takes {num(sp['fast_ms_720p'])} ms without it and "
                  f"{num(sp['fast_denoise_ms_720p'])} ms with it.", ""]
    parts += ["## Models and training cost", "", table(["file", "model", "parameters", "GMACs at 256×256"], [
        [f"`{m['file']}.safetensors`", m["name"], num(m["params"]), num(m["gmacs_256"])] for m in d["models"]]), "",
        table(["training run", "steps", "seconds of training steps", "threads", "note"], [
            [t["model"], num(t["steps"]), num(t["seconds"]), str(t["threads"]), t.get("note", "")]
            for t in d["training"]]), ""]
    parts += ["## Other checks", "", table(["what", "value", "source"], [
        [o["what"], qty(o), f"`{o['run']}`"] for o in d["other"]]), ""]
    parts += ["## Sources", "", "Data paths follow [data.md](data.md). `[...]` marks an option of a second run.", ""]
    for name, r in d["runs"].items():
        extra = "".join(f" {r[k][:1].upper()}{r[k][1:].rstrip('.')}." for k in ("scoring", "note") if r.get(k))
        parts += [f"* `{name}` ({r['date']}): `{r['command']}`.{extra}"]
    return "\n".join(parts) + "\n"


def ablations(f: Figures) -> str:
    heads = ["variant", "seeds", "PSNR ↑", "SSIM ↑", "NIQE DICM ↓", "NIQE LIME ↓", "contrast DICM ↑",
             "avg. gradient DICM ↑", "composite DICM ↑", "composite LIME ↑"]
    titles = {"teacher": "Teacher (synthetic pairs)", "teacher_real": "Teacher (real SICE pairs)",
              "loss": "Loss terms", "blocks": "Blocks", "distill": "Distillation losses"}
    out = []
    for key, study in f.data["ablations"].items():
        r = f.run(study["run"])
        out += [f"### {titles[key]}", "", f"`{r['command']}` ({r['date']}; {r['scoring']})", "",
                table(heads, [[row["variant"]] + [num(row[c]) for c in list(row)[1:]] for row in study["rows"]]), ""]
    return "\n".join(out).rstrip()


def card(f: Figures) -> str:
    rows = []
    for m in ("student", "enhance", "fast-image", "fast-video", "zerodce", "he", "clahe", "input"):
        rows.append([LABELS[m], f.pair(m, "SICE_TEST"), f.pair(m, "SICE_TEST_NOISY"), f.pair(m, "SYNTH"),
                     f.v(m, "DICM", "niqe") + " / " + f.v(m, "LIME", "niqe"),
                     f.v(m, "DICM", "loe") + " / " + f.v(m, "LIME", "loe")])
    ae8 = next(o for o in f.data["other"] if o["model"] == "teacher" and "8-bit" in o["what"])
    aef = next(o for o in f.data["other"] if o["model"] == "teacher" and "float" in o["what"])
    cost = table(["file", "parameters", "GMACs at 256×256", "last training run", "peak RSS, 12 steps"], [
        [f"`{m['file']}`", num(m["params"]), num(m["gmacs_256"]),
         next((f"{num(t['steps'])} steps, {num(t['seconds'])} s, {t['threads']} thread{'s' * (t['threads'] != 1)}"
               for t in f.data["training"] if t["model"] == m["file"]), "–"),
         next((qty(x) for x in f.data["memory"] if f"train {m['file']}" in x["what"]), "–")]
        for m in f.data["models"]])
    return "\n".join([
        table(["method", "SICE test PSNR / SSIM", "SICE test + noise", "synthetic PSNR / SSIM", "NIQE DICM / LIME",
               "LOE DICM / LIME"], rows), "",
        f"Net-T autoencodes the 100 BSDS500 val images at {qty(ae8)} with 8-bit outputs "
        f"({qty(aef)} on float outputs). The benchmark scores float outputs; sources and dates: "
        "`docs/results.md`. "
        f"The shipped Zero-DCE on the 92 SICE validation pairs: {f.pair('zerodce', 'SICE_VAL')} (the 0.1.0 weights: "
        f"{f.pair('zerodce-0.1.0', 'SICE_VAL')}, trained on files 1–1600).", "", cost])


def substreams(f: Figures) -> str:
    """docs/serve.md: cameras with a substream (benchmarks/substreams.py)."""
    s = f.data["substreams"]
    r = f.run(s["run"])
    out = [f"`{r['command']}` ({r['date']}; {r['machine']}). Cameras: {s['cameras']}; method `{s['method']}`; "
           f"each figure over {num(s['seconds'])} s.", ""]
    if s.get("cpu"):
        out += [table(["one camera", "CPU of its process (% of one core)", "substream FPS", "main stream FPS"], [
            [c["what"], f"{num(c['cpu_pct'], 1)} %", num(c["sub_fps"], 1), num(c["main_fps"], 1)] for c in s["cpu"]]),
            ""]
    if s.get("grid"):
        out += [table(["cameras in the grid, each tile watched", "enhanced FPS per camera (min–max)",
                       "CPU per camera process", "live"], [
            [str(g["cameras"]), f"{num(g['fps_mean'], 1)} ({num(g['fps_min'], 1)}–{num(g['fps_max'], 1)})",
             f"{g['cpu_pct_per_camera']} %", f"{g['live']} of {g['cameras']}"] for g in s["grid"]]), "",
            f"Most cameras this machine keeps live in the grid, each at {num(s['min_fps'])} FPS or more: "
            f"**{s['grid_most']}** (of those tried).", ""]
    if s.get("start"):
        out += [table(["main stream source", "large view opened → init (median)",
                       "→ first main-stream frame (median, max)", "large view closed → stopped (median)"], [
            [t["source"], f"{num(t['init_median_s'], 2)} s", f"{num(t['frame_median_s'], 2)} s, "
             f"{num(t['frame_max_s'], 2)} s", f"{num(t['stop_median_s'], 2)} s"] for t in s["start"]]),
            "", f"({s['start'][0]['trials']} starts each.)"]
    return "\n".join(out).rstrip()


def seam(f: Figures) -> str:
    """The seam table of docs/cluster.md (benchmarks/segment_seam.py)."""
    d = f.data["segment_seam"]
    rows = [[r["method"], f"{r['warmup']} frames" if r["warmup"] else "none (cold start)", str(r["segments"]),
             f"{r['raw']:.2f}", f"{r['cut']:.2f} ({r['cut_max']:.2f})", f"{r['after']:.2f}", f"{r['away']:.2f}",
             "same" if r["same_frames"] else "different"] for r in d["rows"]]
    return "\n".join([f"{d['clip'][:1].upper()}{d['clip'][1:]}; mean absolute difference per frame in levels of 0–255 against the one-machine "
                      f"output, means over the cuts. Source: `{d['run']}` ([results.md](results.md#sources)).", "",
                      table(["method", "warm-up", "segments", "enhanced frame at the cut, before encoding",
                             "joined file at the cut (max)", "1–5 frames after", "away from the cuts",
                             "frame count and timestamps"], rows)])


def fleet(f: Figures) -> str:
    """docs/cluster.md: cameras on a Ray cluster (benchmarks/fleet.py)."""
    d = f.data["fleet"]
    r = f.run(d["run"])
    cpu = [[label, f"{num(d['local_cpu'][k]['gateway_cpu_pct_per_camera'], 2)} %",
            f"{num(d['fleet_cpu'][k]['gateway_cpu_pct_per_camera'], 2)} %", num(d["fleet_cpu"][k]["fps_per_camera"], 1)]
           for k, label in (("unwatched", "nobody watching"), ("watched", "every camera's live view watched"))]
    lost = [[{"killed": "its Ray processes killed", "frozen": "frozen (SIGSTOP)"}[x["how"]]
             + (f", {x['checks']}" if x.get("checks") else ""), str(x["cameras"]), f"{num(x['seen_down_s'], 1)} s",
             f"{num(x['back_s_max'], 1)} s", str(x["frames_lost_max"]), "yes" if x["all_back"] else "no"]
            for x in d["failover"]]
    return "\n".join([
        f"`{r['command']}` ({r['date']}; {r['machine']}). {d['cameras']} cameras, method `{d['method']}`, "
        f"{d['clip']}; a cluster of two nodes on this machine's loopback.", "",
        table(["gateway process, per camera", "CPU, cameras as local processes", "CPU, `--ray`",
               "enhanced FPS per camera (`--ray`)"], cpu), "",
        table(["the node holding cameras is lost", "its cameras", "shown down after", "all live again after",
               "frames lost (most, per camera)", "all back"], lost)])


def camera_costs(f: Figures) -> str:
    """docs/cluster.md: the measured rows of the cost per camera (benchmarks/substreams.py, its CPU part)."""
    s = f.data["substreams"]
    rows = []
    for c in s["cpu"]:
        fps = "; ".join(f"{name} {num(c[key], 1)} FPS" for name, key in (("substream", "sub_fps"), ("main", "main_fps"))
                        if c[key])
        cores = c["cpu_pct"] / 100
        rows.append([f"`minelight serve`, one camera: {c['what']}", f"{num(c['cpu_pct'], 1)} % of one core ({fps})",
                     f"**about {cores:.2g} core{'s' if cores > 1 else ''}**"])
    return "\n".join([f"From `{f.run(s['run'])['command']}` ({machine(f, s['run'])}, method `{s['method']}`; "
                      f"[serve.md](serve.md)).", "", table(["what", "measured", "per camera"], rows)])


def batching(f: Figures) -> str:
    """docs/serve.md: the fast network batched on a CPU (benchmarks/batching.py)."""
    d = f.data["batching"]
    r = f.run(d["run"])
    batches = sorted({x["batch"] for x in d["rows"]})
    rows = [[f"{threads} thread{'s' if threads > 1 else ''}"] + [
        f"{num(x['ms_per_frame'], 2)} ({num(x['speedup'], 2)}×)" for b in batches
        for x in d["rows"] if x["threads"] == threads and x["batch"] == b]
        for threads in sorted({x["threads"] for x in d["rows"]})]
    return "\n".join([f"`{r['command']}` ({r['date']}; {r['machine']}); {d['input']}; milliseconds per frame "
                      f"(speed-up against batch 1). A batch's corrections differ from one frame at a time by at most "
                      f"{d['max_difference']:g}.", "",
                      table(["onnxruntime, CPU"] + [f"batch {b}" for b in batches], rows)])


def frame_costs(f: Figures) -> str:
    """docs/serve.md: where a camera's frame time goes (benchmarks/frame_costs.py)."""
    d = f.data["frame_costs"]
    r = f.run(d["run"])
    stages = ("decode", "prepare", "network", "finish", "encode")
    rows = [[x["stream"], *(num(x["ms"][k], 2) for k in stages), num(x["total_ms"], 1),
             f"{round(100 * x['network_share'])} %"] for x in d["rows"]]
    return "\n".join([f"`{r['command']}` ({r['date']}; {r['machine']}); {d['chain']}. Milliseconds per frame.", "",
                      table(["stream", "decode", "prepare (views, denoiser)", "network", "full-size finish",
                             "H.264 encode", "sum", "network's share"], rows)])


# blocks rendered where their figures are in results.json: (results.json key, file, block name, renderer)
OPTIONAL_BLOCKS = (("substreams", ROOT / "docs" / "serve.md", "substreams", substreams),
                   ("frame_costs", ROOT / "docs" / "serve.md", "frame_costs", frame_costs),
                   ("batching", ROOT / "docs" / "serve.md", "batching", batching),
                   ("segment_seam", ROOT / "docs" / "cluster.md", "seam", seam),
                   ("fleet", ROOT / "docs" / "cluster.md", "fleet", fleet),
                   ("substreams", ROOT / "docs" / "cluster.md", "costs", camera_costs))


def blocks(f: Figures) -> dict[Path, dict[str, str]]:
    out = {ROOT / "README.md": {"results": headline(f)},
           ROOT / "docs" / "ablations.md": {"ablations": ablations(f)},
           ROOT / "src" / "minelight" / "weights" / "MODEL_CARD.md": {"card": card(f)}}
    for key, path, name, render in OPTIONAL_BLOCKS:
        if key in f.data:
            out.setdefault(path, {})[name] = render(f)
    return out


def replace_block(text: str, name: str, body: str, path: Path) -> str:
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    if start not in text or end not in text:
        raise SystemExit(f"{path}: markers {start} / {end} missing")
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{start}\n{body}\n{end}{tail}"


def rendered() -> dict[Path, str]:
    f = Figures(json.loads(RESULTS.read_text(encoding="utf-8")))
    out = {ROOT / "docs" / "results.md": results_md(f)}
    for path, named in blocks(f).items():
        text = path.read_text(encoding="utf-8")
        for name, body in named.items():
            text = replace_block(text, name, body, path)
        out[path] = text
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="exit 1 if a file differs from what would be rendered")
    args = ap.parse_args(argv)
    stale = []
    for path, text in rendered().items():
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == text:
            continue
        if args.check:
            stale.append(path.relative_to(ROOT).as_posix())
        else:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(ROOT).as_posix()}")
    if stale:
        print("out of date (run python tools/render_docs.py): " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
