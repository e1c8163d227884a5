"""The figures in README.md and docs/ are rendered from docs/results.json, so no page can disagree."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_rendered_docs_match_the_results_file():
    result = subprocess.run([sys.executable, str(ROOT / "tools" / "render_docs.py"), "--check"], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_readme_is_short_and_speaks_of_no_shared_folder():
    text = (ROOT / "README.md").read_text()
    assert len(text.splitlines()) <= 150
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]:
        assert "../shared" not in page.read_text(), page


def tracked(*suffixes: str) -> list[Path]:
    """The repository's tracked files with these suffixes (every such file under ROOT without git)."""
    try:
        names = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
        files = [ROOT / n for n in names.splitlines()]
    except (OSError, subprocess.CalledProcessError):
        files = [p for p in ROOT.rglob("*") if ".git" not in p.parts]
    return [p for p in files if p.suffix in suffixes and p.is_file()]


# a page under docs/ (.md) or a script under benchmarks/, experiments/ or tools/ (.py), named by its path from
# the repository root (or from one folder down, ../)
NAMED_PATH = re.compile(r"(?:^|(?<=[^\w/.-])|(?<=\.\./))((?:docs/[\w./-]*?\w\.md)|(?:(?:benchmarks|experiments|tools)/\w+\.py))\b")
MD_LINK = re.compile(r"\]\(([^)\s#]+)(?:#[^)]*)?\)")


def test_every_docs_page_and_script_named_in_code_and_docs_exists():
    missing = []
    for path in tracked(".py", ".md"):
        for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            missing += [f"{path.relative_to(ROOT)}:{line_no}: {name}" for name in NAMED_PATH.findall(line)
                        if not (ROOT / name).exists()]
    assert not missing, "named but missing:\n" + "\n".join(missing)


def test_every_relative_link_of_a_markdown_page_resolves():
    broken = []
    for page in tracked(".md"):
        for target in MD_LINK.findall(page.read_text(encoding="utf-8")):
            if "://" not in target and not target.startswith("mailto:") and not (page.parent / target).exists():
                broken.append(f"{page.relative_to(ROOT)}: {target}")
    assert not broken, "broken links:\n" + "\n".join(broken)
