"""The plain install (no PyTorch) as a user meets it: its size, what works, cold start, memory of `serve`.

    python benchmarks/plain_install.py --json plain_install.json --write docs/results.json

Builds a fresh virtual environment in a temporary folder with ``pip install <checkout>`` (no extras),
checks that PyTorch is absent, then in that environment:

* ``minelight enhance`` on one image (default method and ``--method fast``), on a 16-MP image (tiled on
  the ONNX stage graphs) and on a 720p clip; each must exit 0;
* cold start: wall time of ``minelight enhance one.jpg`` (a new process each time, median of 3), next to
  ``minelight --version`` in the same run (the command's own start, the reference);
* ``minelight serve`` with one 720p file camera: resident memory (VmRSS) of the web process and of the
  camera process once the camera is live.

Prints one JSON object (and writes it to ``--json``); ``--write`` puts its figures into docs/results.json
(run ``plain-install``). Needs network access to the package index (or a local mirror) for the install;
pip's cache makes a second run quick.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "examples" / "chelsea_dark.jpg"


def folder_mib(path: Path) -> float:
    """Size on disk of a folder (MiB), as ``du`` counts it."""
    out = subprocess.run(["du", "-sk", str(path)], capture_output=True, text=True, check=True).stdout
    return int(out.split()[0]) / 1024


def make_inputs(tmp: Path) -> dict[str, Path]:
    """One small image, one 16-MP image and a 720p clip (3 s, 25 FPS) made from the shipped sample."""
    import av

    img = cv2.imread(str(SAMPLE))
    small, huge = tmp / "one.jpg", tmp / "huge.jpg"
    cv2.imwrite(str(small), img)
    cv2.imwrite(str(huge), cv2.resize(img, (4896, 3264), interpolation=cv2.INTER_CUBIC))
    clip = tmp / "clip.mp4"
    frame = cv2.resize(img, (1280, 720), interpolation=cv2.INTER_AREA)[..., ::-1]
    rng = np.random.default_rng(0)
    with av.open(str(clip), "w") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 1280, 720, "yuv420p"
        for _ in range(75):
            noisy = np.clip(frame + rng.normal(0, 3, frame.shape), 0, 255).astype(np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(noisy, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return {"image": small, "huge": huge, "clip": clip}


def run(cmd: list[str], **kwargs) -> float:
    """Run ``cmd`` (must exit 0); its wall time in seconds."""
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, **kwargs)
    return time.perf_counter() - t0


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise ValueError(f"no VmRSS for {pid}")


def serve_memory(minelight: Path, clip: Path, settle: float = 20.0) -> dict[str, float]:
    """VmRSS (MiB) of the web process and the camera process of ``serve`` with one file camera."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([str(minelight), "serve", "--source", str(clip), "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        camera = None
        while time.monotonic() < deadline:
            time.sleep(1)
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/cameras", timeout=2) as r:
                    camera = json.loads(r.read())[0]
            except OSError:
                continue
            if camera["state"] == "live":
                break
        if camera is None or camera["state"] != "live":
            raise RuntimeError(f"the camera did not go live: {camera}")
        time.sleep(settle)  # buffers and the encoder reach their steady size
        return {"web_mib": rss_mib(proc.pid), "camera_mib": rss_mib(camera["pid"]), "camera_fps": camera["fps"]}
    finally:
        proc.terminate()
        proc.wait(timeout=30)


RUN = "plain-install"


def results_entries(r: dict) -> dict[str, list[dict]]:
    """The figures of one run as ``docs/results.json`` entries, by section."""
    serve = r["serve_720p"]
    return {
        "memory": [
            {"what": "plain install (no PyTorch): the virtual environment on disk", "value": r["environment_mib"],
             "unit": "MiB", "run": RUN},
            {"what": "minelight serve, one 720p file camera (fast model): the web process, RSS",
             "value": serve["web_mib"], "unit": "MiB", "run": RUN},
            {"what": "minelight serve, one 720p file camera (fast model): the camera process, RSS",
             "value": serve["camera_mib"], "unit": "MiB", "run": RUN}],
        "speed": [
            {"what": "cold start: minelight enhance one.jpg in a new process (plain install)", "method": "enhance",
             "value": r["cold_start_s"], "unit": "s", "run": RUN,
             "note": f"minelight --version alone: {r['version_start_s']} s"},
            {"what": "one 16-MP image, minelight enhance (tiled on the ONNX stage graphs, plain install)",
             "method": "enhance", "value": r["seconds"]["16-MP image, default (tiled)"], "unit": "s", "run": RUN}],
    }


def write_results(path: Path, r: dict) -> None:
    """Replace this benchmark's figures in ``path`` (docs/results.json) with those of run ``r``."""
    import datetime
    import platform

    results = json.loads(path.read_text())
    for section, entries in results_entries(r).items():
        results[section] = [e for e in results[section] if e.get("run") != RUN] + entries
    results["runs"][RUN] = {
        "date": datetime.date.today().isoformat(),
        "machine": f"{r['cpu_count']} CPU cores, {platform.machine()}, no GPU; a fresh venv, pip install . (no extras)",
        "command": "python benchmarks/plain_install.py --write docs/results.json",
        "note": f"PyTorch installed: {r['torch_installed']}; largest packages (MiB): "
                + ", ".join(f"{k} {v:g}" for k, v in r["largest_packages_mib"].items())}
    path.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--keep", type=Path, help="build the environment here and keep it")
    ap.add_argument("--write", type=Path, help="docs/results.json to put the figures into")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        env_dir = args.keep or tmp / "venv"
        if env_dir.exists():
            shutil.rmtree(env_dir)
        subprocess.run([sys.executable, "-m", "venv", str(env_dir)], check=True)
        py, minelight = env_dir / "bin" / "python", env_dir / "bin" / "minelight"
        subprocess.run([str(py), "-m", "pip", "install", "-q", str(ROOT)], check=True, capture_output=True)
        has_torch = subprocess.run([str(py), "-c", "import torch"], capture_output=True).returncode == 0
        site = next((env_dir / "lib").glob("python3*/site-packages"))
        sizes = sorted(((folder_mib(p), p.name) for p in site.iterdir() if p.is_dir()), reverse=True)[:6]
        inputs = make_inputs(tmp)
        out = tmp / "out"
        out.mkdir()
        cwd = {"cwd": tmp}  # not the checkout: the installed package, as a user has it
        works = {
            "image, default": run([str(minelight), "enhance", str(inputs["image"]), "-o", str(out / "a.png")], **cwd),
            "image, --method fast": run([str(minelight), "enhance", str(inputs["image"]), "-o", str(out / "b.png"),
                                         "-m", "fast"], **cwd),
            "16-MP image, default (tiled)": run([str(minelight), "enhance", str(inputs["huge"]), "-o",
                                                str(out / "c.jpg")], **cwd),
            "720p clip, 3 s, --method fast": run([str(minelight), "enhance", str(inputs["clip"]), "-o",
                                                  str(out / "d.mp4"), "-m", "fast", "--quiet"], **cwd),
        }
        version, cold = [], []
        for _ in range(3):  # interleaved: the reference and the figure in the same conditions
            version.append(run([str(minelight), "--version"], **cwd))
            cold.append(run([str(minelight), "enhance", str(inputs["image"]), "-o", str(out / "e.png")], **cwd))
        result = {
            "environment_mib": round(folder_mib(env_dir), 1),
            "largest_packages_mib": {name: round(size, 1) for size, name in sizes},
            "torch_installed": has_torch,
            "seconds": {k: round(v, 2) for k, v in works.items()},
            "cold_start_s": round(statistics.median(cold), 2),
            "version_start_s": round(statistics.median(version), 2),
            "serve_720p": {k: round(v, 1) for k, v in serve_memory(minelight, inputs["clip"]).items()},
            "cpu_count": os.cpu_count(),
        }
    print(json.dumps(result, indent=1))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n")
    if args.write:
        write_results(args.write, result)


if __name__ == "__main__":
    main()
