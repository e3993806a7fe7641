"""The http layer's shape: no app <-> control import cycle, no imports hidden in functions."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "mock_anveo"
HTTP = sorted((PACKAGE / "http").rglob("*.py"))


def _imports(path: Path) -> list[tuple[ast.ImportFrom | ast.Import, bool]]:
    """Every import of a module, with whether it sits inside a function."""
    found: list[tuple[ast.ImportFrom | ast.Import, bool]] = []

    def walk(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import | ast.ImportFrom):
                found.append((child, in_function))
            inner = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            walk(child, inner)

    walk(ast.parse(path.read_text(encoding="utf-8")), False)
    return found


def test_no_function_level_imports_in_http_and_cli() -> None:
    hidden = [
        f"{path.relative_to(PACKAGE)}:{node.lineno}"
        for path in [*HTTP, PACKAGE / "cli.py"]
        for node, in_function in _imports(path)
        if in_function
    ]
    assert hidden == []


def test_the_control_api_never_imports_the_doors() -> None:
    for path in sorted((PACKAGE / "http" / "control").glob("*.py")):
        for node, _ in _imports(path):
            if isinstance(node, ast.ImportFrom):
                names = {alias.name for alias in node.names}
                assert not (node.level == 2 and (node.module == "app" or "app" in names)), path


def test_http_modules_stay_small() -> None:
    sizes = {p.name: len(p.read_text(encoding="utf-8").splitlines()) for p in HTTP}
    assert max(sizes.values()) <= 300, sizes
