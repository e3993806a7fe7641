"""The codebase's own rules: ruff clean and formatted, mypy strict, small documented modules."""

from __future__ import annotations

import ast
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
    result = subprocess.run(
        [_tool("ruff"), "check", "mock_anveo", "tests", "bench"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_is_the_formatter():
    # `ruff format` decides the layout; fix a failure with `.venv/bin/ruff format <file>`.
    result = subprocess.run(
        [_tool("ruff"), "format", "--check", "mock_anveo", "tests", "bench"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_is_clean():
    result = subprocess.run(
        [sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_error_code_is_in_the_catalogue_and_the_docs():
    docs = (ROOT / "docs" / "errors.md").read_text(encoding="utf-8")
    assert set(CATALOGUE) == set(Code)
    for code, meaning in CATALOGUE.items():
        assert f"| `{code.value}` | {meaning} |" in docs, code


#: Lines a module of the package may have: past this, it owns more than one thing.
MODULE_LINES = 300
#: Modules allowed past MODULE_LINES, with the reason. Empty: none is.
LONG_MODULES: dict[str, str] = {}


def _package_modules() -> list[Path]:
    return sorted((ROOT / "mock_anveo").rglob("*.py"))


def test_every_module_of_the_package_is_small():
    over = {
        str(path.relative_to(ROOT)): lines
        for path in _package_modules()
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MODULE_LINES
        and str(path.relative_to(ROOT)) not in LONG_MODULES
    }
    assert over == {}, f"modules over {MODULE_LINES} lines (split them): {over}"


def test_every_module_has_a_docstring_and_future_annotations():
    for path in _package_modules():
        text = path.read_text(encoding="utf-8")
        name = str(path.relative_to(ROOT))
        assert text.startswith('"""'), name
        body = ast.parse(text).body
        if len(body) > 1:  # a package's __init__ holding only its docstring needs no import
            assert "from __future__ import annotations" in text, name
