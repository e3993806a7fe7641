"""The built wheel carries the schemas, fixtures and entry points the server needs."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_wheel_ships_schemas_fixtures_and_entry_points(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path),
                    str(ROOT)], check=True, capture_output=True)
    (wheel,) = tmp_path.glob("mock_anveo-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for xsd in (ROOT / "schemas").glob("*.xsd"):
        assert f"mock_anveo/wire/schemas/{xsd.name}" in names
    for fixture in (ROOT / "fixtures").glob("*.xml"):
        assert f"mock_anveo/wire/fixtures/{fixture.name}" in names
    assert "mock_anveo/py.typed" in names
    entry_points = zipfile.ZipFile(wheel).read(
        next(n for n in names if n.endswith("entry_points.txt"))).decode()
    assert "mock-anveo = mock_anveo.cli:main" in entry_points
    assert "anveo = mock_anveo.testing.pytest_plugin" in entry_points


def test_server_finds_its_schemas_from_any_directory(tmp_path):
    body = (ROOT / "fixtures" / "dial_connect_docs_example.request.xml").read_bytes()
    result = subprocess.run([sys.executable, "-m", "mock_anveo", "check", "-"], input=body,
                            cwd=tmp_path, capture_output=True, check=False)
    assert result.returncode == 0, result.stderr
    assert b"<RESULT>SUCCESS</RESULT>" in result.stdout
