"""Stamp shipped weights with a release version and write their ONNX graphs beside them.

    python tools/release_weights.py --version 0.2.0 student fast teacher zerodce

The tensors are unchanged; the header gains ``version`` (what ``minelight info`` and ``--version`` show),
then ``minelight export`` writes ``NAME.onnx`` (and the tiling stages of Net-S and Net-T), each recording
the new file's SHA-256. Needs the ``[train]`` extra.
"""

from __future__ import annotations

import argparse

from safetensors.torch import load_file, save_file

from minelight.models.export import export_onnx
from minelight.models.weights import load_weights
from minelight.weights import read_metadata, shipped_weights, weights_digest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", required=True)
    parser.add_argument("names", nargs="+")
    args = parser.parse_args()
    for name in args.names:
        path = shipped_weights(name)
        meta = {**read_metadata(path), "version": args.version}
        save_file(load_file(str(path)), str(path), metadata=meta)
        model, _ = load_weights(path, expect=name)
        diff = export_onnx(model, path.with_suffix(".onnx"),
                           metadata={"method": name, "weights_sha256": weights_digest(path), "version": args.version})
        print(f"{name}: version {args.version}, graphs written (max abs difference to PyTorch {diff:.1e})")


if __name__ == "__main__":
    main()
