"""The architecture is a test: the import contracts of pyproject.toml hold, and can fail.

`lint-imports` checks the contracts (layers import only downward, the core imports no
transport or XML library, no import cycles inside a package). What a static import graph
cannot see, that the testing layer loads the HTTP layer only lazily, is checked twice: every
such import sits inside a function or a ``TYPE_CHECKING`` block, and a fresh interpreter that
imports the controller and the plugin has loaded no aiohttp, lxml or ``mock_anveo.http``.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parent.parent

#: What the testing layer and the package root may import only lazily.
HEAVY = ("aiohttp", "lxml", "xmlschema", "mock_anveo.http", "mock_anveo.wire")
# The wire layer's request renderer is stdlib only (tests/test_contract.py checks that loading
# it loads no lxml): strategies and test helpers write requests through it at import time.
LIGHT = ("mock_anveo.wire.requests",)


def _lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    tool = Path(sys.executable).with_name("lint-imports")
    command = [str(tool)] if tool.exists() else [sys.executable, "-m", "importlinter.cli"]
    # --no-cache: no .import_linter_cache left in the checkout; the graph takes ~1 s anyway.
    return subprocess.run(
        [*command, "--no-cache"], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def test_import_contracts_are_kept() -> None:
    done = _lint_imports(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr


def test_an_upward_import_breaks_the_layers_contract(tmp_path: Path) -> None:
    # A copy of the package with one upward import (sim -> http): the contract must catch it,
    # so a passing run above means the contract is really being checked.
    shutil.copytree(
        ROOT / "mock_anveo", tmp_path / "mock_anveo", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    clock = tmp_path / "mock_anveo" / "sim" / "clock.py"
    clock.write_text(
        clock.read_text(encoding="utf-8") + "\nfrom ..http import app  # upward\n", encoding="utf-8"
    )

    done = _lint_imports(tmp_path)

    output = done.stdout + done.stderr
    assert done.returncode != 0, output
    assert "mock_anveo.sim.clock -> mock_anveo.http.app" in output, output
    # The same edit also drags aiohttp into the core, which the forbidden contract reports.
    assert "The simulation core imports no transport, XML or schema library BROKEN" in output


def _eager_import_lines(source: Path) -> set[int]:
    """Lines of the imports that run on ``import`` of the module: not inside a function, nor
    under ``if TYPE_CHECKING:`` (class bodies, ``try`` and other blocks do run)."""
    eager: set[int] = set()

    def visit(nodes: list[ast.stmt]) -> None:
        for node in nodes:
            if isinstance(node, ast.Import | ast.ImportFrom):
                eager.add(node.lineno)
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            elif isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                visit(node.orelse)
            else:
                for field in ("body", "orelse", "finalbody", "handlers", "cases"):
                    for child in getattr(node, field, []):
                        visit(
                            child.body
                            if isinstance(child, ast.excepthandler | ast.match_case)
                            else [child]
                        )

    visit(ast.parse(source.read_text(encoding="utf-8")).body)
    return eager


def test_testing_layer_imports_http_wire_and_xml_only_lazily() -> None:
    graph = grimp.build_graph("mock_anveo", include_external_packages=True, cache_dir=None)
    eager = []
    for importer in sorted(graph.find_descendants("mock_anveo.testing") | {"mock_anveo"}):
        source = ROOT / (importer.replace(".", "/") + ".py")
        if not source.exists():
            source = ROOT / importer.replace(".", "/") / "__init__.py"
        eager_lines = _eager_import_lines(source)
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            if not imported.startswith(HEAVY) or imported in LIGHT:
                continue
            for detail in graph.get_import_details(importer=importer, imported=imported):
                if detail["line_number"] in eager_lines:
                    eager.append(f"{importer}:{detail['line_number']} {detail['line_contents']}")
    assert eager == [], "imports that load the server on `import mock_anveo.testing`:\n" + (
        "\n".join(eager)
    )


def test_the_core_imports_the_standard_library_only() -> None:
    graph = grimp.build_graph("mock_anveo", include_external_packages=True, cache_dir=None)
    outside = {
        f"{module} -> {imported}"
        for module in graph.find_descendants("mock_anveo.sim")
        for imported in graph.find_modules_directly_imported_by(module)
        if not imported.startswith("mock_anveo")
        and imported.split(".")[0] not in sys.stdlib_module_names
    }
    assert outside == set()


@pytest.mark.parametrize(
    "module",
    ["mock_anveo", "mock_anveo.testing.controller", "mock_anveo.testing.pytest_plugin"],
)
def test_importing_the_testing_layer_loads_no_server(module: str) -> None:
    # A fresh interpreter: this test process has long since imported everything.
    probe = (
        f"import sys, {module}\n"
        "heavy = sorted(n for n in sys.modules if n in ('aiohttp', 'lxml')"
        " or n.startswith('mock_anveo.http'))\n"
        "print(heavy)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stdout.strip() == "[]", f"`import {module}` loaded {done.stdout.strip()}"
