"""The codebase's own rules: ruff clean, mypy strict on the package, docs in step with code."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from mock_anveo.errors import CATALOGUE, Code

ROOT = Path(__file__).resolve().parent.parent


def _tool(name: str) -> str:
    found = Path(sys.executable).with_name(name)
    return str(found) if found.exists() else (shutil.which(name) or name)


def test_ruff_is_clean():
    result = subprocess.run([_tool("ruff"), "check", "mock_anveo", "tests", "bench"], cwd=ROOT,
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_is_clean():
    result = subprocess.run([sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True,
                            text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_error_code_is_in_the_catalogue_and_the_docs():
    docs = (ROOT / "docs" / "errors.md").read_text(encoding="utf-8")
    assert set(CATALOGUE) == set(Code)
    for code, meaning in CATALOGUE.items():
        assert f"| `{code.value}` | {meaning} |" in docs, code


def test_every_module_has_future_annotations_and_a_docstring():
    for path in sorted((ROOT / "mock_anveo").glob("*.py")):
        text = path.read_text(encoding="utf-8")
        assert text.startswith('"""'), path.name
        assert "from __future__ import annotations" in text, path.name
