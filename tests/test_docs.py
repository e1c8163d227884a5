"""The figures in README.md and docs/ are rendered from docs/results.json, so no page can disagree."""

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
