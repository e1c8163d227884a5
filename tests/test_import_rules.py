"""The layers stay apart: inference never imports training, and the base layers import neither."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "minelight"
BASE = {"io", "color", "geometry", "weights", "errors"}
# layer -> the minelight layers it may import at module level
ALLOWED = {
    "weights": BASE,
    "models": BASE | {"models"},
    "baselines": BASE | {"baselines"},
    "metrics": BASE | {"metrics"},
    "enhance": BASE | {"enhance", "baselines"},
    "video": BASE | {"video", "enhance"},
    "serve": BASE | {"serve", "enhance", "video", "cluster"},  # cluster: serve --ray
    "cluster": BASE | {"cluster", "enhance", "video"},
    "data": BASE | {"data"},
    "train": BASE | {"train", "models", "data", "metrics"},
    "evaluate": BASE | {"evaluate", "enhance", "metrics", "data", "train", "models", "baselines"},
}
INFERENCE = ("enhance", "video", "serve", "cluster")


def _imports(path: Path, lazy: bool) -> set[str]:
    """The minelight layers ``path`` imports, at module level only unless ``lazy``."""
    tree = ast.parse(path.read_text())
    package = path.relative_to(PACKAGE).parts[:-1]
    nodes = ast.walk(tree) if lazy else tree.body
    out = set()
    for node in nodes:
        if isinstance(node, ast.ImportFrom) and node.level:
            base = list(package[:len(package) - node.level + 1])
            target = base + (node.module.split(".") if node.module else [n.name for n in node.names][:1])
            if target:
                out.add(target[0])
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("minelight."):
            out.add(node.module.split(".")[1])
    return out


def _layers() -> list[tuple[str, Path]]:
    return [(p.relative_to(PACKAGE).parts[0], p) for p in sorted(PACKAGE.rglob("*.py"))
            if len(p.relative_to(PACKAGE).parts) > 1]


@pytest.mark.parametrize("layer, path", _layers(), ids=lambda v: str(v).rsplit("minelight/", 1)[-1])
def test_module_level_imports_follow_the_layers(layer, path):
    assert _imports(path, lazy=False) <= ALLOWED[layer], path


@pytest.mark.parametrize("layer, path", [(l, p) for l, p in _layers() if l in INFERENCE],
                         ids=lambda v: str(v).rsplit("minelight/", 1)[-1])
def test_inference_never_imports_training_or_data(layer, path):
    assert not _imports(path, lazy=True) & {"train", "data", "evaluate"}, path


def test_inference_modules_do_not_import_torch_at_module_level():
    """(The optional ``torch`` back end of :mod:`minelight.enhance.runtime` imports it when chosen.)"""
    for layer, path in _layers():
        if layer in INFERENCE or layer in ("baselines", "weights"):
            body = ast.parse(path.read_text()).body
            modules = {a.name for n in body if isinstance(n, ast.Import) for a in n.names}
            modules |= {n.module or "" for n in body if isinstance(n, ast.ImportFrom)}
            assert not {m.split(".")[0] for m in modules} & {"torch", "kornia", "safetensors"}, path


def test_ray_is_imported_only_by_the_cluster_path_and_never_at_module_level():
    """The plain install has no Ray: only ``minelight.cluster`` uses it, inside its functions."""
    for layer, path in _layers() + [("", p) for p in PACKAGE.glob("*.py")]:
        tree = ast.parse(path.read_text())
        top = {a.name.split(".")[0] for n in tree.body if isinstance(n, ast.Import) for a in n.names}
        top |= {(n.module or "").split(".")[0] for n in tree.body if isinstance(n, ast.ImportFrom)}
        anywhere = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        anywhere |= {(n.module or "").split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        assert "ray" not in top, path
        assert "ray" not in anywhere or layer == "cluster", path
