"""What a user installs: the sdist and wheel built from a clean copy, checked and used for real.

The contents checks are generic (every file under mock_anveo/ in the source tree must ship, and
nothing else), so they keep working while the package is split into subpackages.
"""

from __future__ import annotations

import email.message
import email.parser
import importlib.metadata
import os
import shutil
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from mock_anveo import cli
from mock_anveo._version import __version__

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "mock_anveo"
# What a checkout holds that the build must never see: local environments, old builds and
# benchmark output at the top (names a subpackage could use), caches anywhere.
LOCAL_AT_TOP = {".git", ".venv", "build", "dist", "bench/out"}
LOCAL_ANYWHERE = {"__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache", ".hypothesis"}
REQUIRED_CLASSIFIERS = {
    "Framework :: Pytest",
    "Framework :: AsyncIO",
    "Topic :: Software Development :: Testing :: Mocking",
    "Typing :: Typed",
    "Programming Language :: Python :: 3.11",
    "Programming Language :: Python :: 3.12",
    "Programming Language :: Python :: 3.13",
}
SMOKE_TEST = """
import urllib.request

import pytest


@pytest.mark.anveo(balance="5.00")
def test_a_call_through_the_installed_plugin(anveo):
    body = (f"<REQUEST><USERTOKEN><USERKEY>{anveo.userkey}</USERKEY></USERTOKEN>"
            '<ACTION NAME="DIAL.CONNECT">'
            '<PARAMETER NAME="PHONENUMBER">12157010680</PARAMETER>'
            '<PARAMETER NAME="DESTPHONENUMBER">12125551234</PARAMETER>'
            "</ACTION></REQUEST>").encode()
    with urllib.request.urlopen(anveo.api_url, body) as reply:
        assert b"<RESULT>SUCCESS</RESULT>" in reply.read()
    anveo.advance(until_idle=True)
    (call,) = anveo.calls()
    assert call.statuses == ("NONE", "INIT", "START", "END")
    assert anveo.balance() < 5
"""


@dataclass(frozen=True)
class Built:
    """The artefacts of one ``python -m build`` run and the copy they were built from."""

    source: Path
    sdist: Path
    wheel: Path


def _ignore_local(directory: str, names: list[str]) -> set[str]:
    relative = Path(directory).resolve().relative_to(ROOT)
    top = {n for n in names if (relative / n).as_posix() in LOCAL_AT_TOP}
    return top | {n for n in names if n in LOCAL_ANYWHERE or n.endswith((".egg-info", ".pyc"))}


def _source_files(tree: Path) -> set[str]:
    """Every file of the package in a source tree, as a path relative to the tree's root."""
    return {
        path.relative_to(tree).as_posix()
        for path in (tree / PACKAGE).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }


def _clean_env(**extra: str) -> dict[str, str]:
    """The environment without anything that could point a child at this checkout or server."""
    drop = ("PYTEST_", "PYTHON", "MOCK_ANVEO_", "VIRTUAL_ENV", "PIP_REQUIRE_VIRTUALENV")
    return {**{k: v for k, v in os.environ.items() if not k.startswith(drop)}, **extra}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """Build the sdist, and the wheel from that sdist, out of a clean copy of the checkout."""
    base = tmp_path_factory.mktemp("build")
    source = base / "src"
    shutil.copytree(ROOT, source, symlinks=True, ignore=_ignore_local)
    result = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(base / "dist"), str(source)],
        capture_output=True,
        text=True,
        timeout=300,
        env=_clean_env(),
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    (sdist,) = (base / "dist").glob("mock_anveo-*.tar.gz")
    (wheel,) = (base / "dist").glob("mock_anveo-*.whl")
    return Built(source, sdist, wheel)


def _metadata(wheel: Path) -> email.message.Message:
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        return email.parser.BytesParser().parsebytes(archive.read(name))


@pytest.mark.slow
def test_metadata_renders_and_says_what_it_is(built):
    result = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", str(built.sdist), str(built.wheel)],
        capture_output=True,
        text=True,
        timeout=120,
        env=_clean_env(),
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("PASSED") == 2, result.stdout

    meta = _metadata(built.wheel)
    assert meta["Name"] == "mock-anveo"
    assert meta["Version"] == __version__  # pyproject reads mock_anveo/_version.py
    assert meta["License-Expression"] == "MIT"
    assert meta.get_all("License-File") == ["LICENSE"]
    assert "telephony API" in meta["Summary"]
    assert meta["Requires-Python"] == ">=3.11"
    assert "pytest" in meta["Keywords"].split(",")
    classifiers = set(meta.get_all("Classifier") or [])
    assert not REQUIRED_CLASSIFIERS - classifiers, REQUIRED_CLASSIFIERS - classifiers
    # With a License-Expression, a license classifier is an error for PyPI (PEP 639).
    assert not any(c.startswith("License ::") for c in classifiers)
    assert meta["Author-email"] and meta["Maintainer-email"]
    assert meta["Description-Content-Type"] == "text/markdown"
    # No URL of any kind is claimed: none exists yet.
    assert meta.get_all("Project-URL") is None and meta["Home-page"] is None


@pytest.mark.slow
def test_wheel_ships_every_file_of_the_package_and_nothing_else(built):
    with zipfile.ZipFile(built.wheel) as archive:
        names = set(archive.namelist())
        entry_points = archive.read(
            next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
        ).decode()
    expected = _source_files(built.source)
    shipped = {n for n in names if n.startswith(f"{PACKAGE}/")}
    missing, extra = sorted(expected - shipped), sorted(shipped - expected)
    assert not missing, f"not in the wheel (add a package-data glob in pyproject.toml): {missing}"
    assert not extra, f"in the wheel but not in the source tree: {extra}"
    for kind in ("__init__.py", "py.typed", ".xsd", ".xml"):  # the discovery found something
        assert any(name.endswith(kind) for name in shipped), kind
    assert f"{PACKAGE}-{__version__}.dist-info/licenses/LICENSE" in names
    assert "mock-anveo = mock_anveo.cli:main" in entry_points
    assert "anveo = mock_anveo.testing.pytest_plugin" in entry_points


@pytest.mark.slow
def test_sdist_holds_the_package_license_and_changelog(built):
    prefix = f"mock_anveo-{__version__}/"
    with tarfile.open(built.sdist) as archive:
        names = {name.removeprefix(prefix) for name in archive.getnames()}
    assert _source_files(built.source) <= names
    assert {"LICENSE", "CHANGELOG.md", "README.md", "pyproject.toml", "PKG-INFO"} <= names
    # The suite needs the whole checkout (README, bench/, docs/), so it is not shipped half.
    assert not any(name.startswith("tests/") for name in names)


@pytest.mark.slow
def test_installed_wheel_works_outside_the_checkout(built, tmp_path):
    """A fresh venv with only the wheel (and pytest): the CLI and the plugin, run elsewhere."""
    venv = tmp_path / "fresh"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    bin_dir = venv / "bin"
    env = _clean_env(PATH=f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    install = subprocess.run(
        [str(bin_dir / "python"), "-m", "pip", "install", "-q", str(built.wheel), "pytest"],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        check=False,
    )
    assert install.returncode == 0, install.stdout[-4000:] + install.stderr[-4000:]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    def run(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            args, cwd=elsewhere, env=env, input=stdin, capture_output=True, timeout=120, check=False
        )

    where = run(str(bin_dir / "python"), "-c", "import mock_anveo; print(mock_anveo.__path__[0])")
    installed = Path(where.stdout.decode().strip())
    assert installed.is_relative_to(venv), where  # the wheel's copy, not this checkout

    version = run(str(bin_dir / "mock-anveo"), "--version")
    assert version.returncode == 0, version.stderr
    assert version.stdout.decode().strip() == f"mock-anveo {__version__}"

    (request,) = installed.rglob("dial_connect_docs_example.request.xml")
    check = run(str(bin_dir / "mock-anveo"), "check", "-", stdin=request.read_bytes())
    assert check.returncode == 0, check.stderr
    assert check.stdout == request.with_name("dial_connect_docs_example.response.xml").read_bytes()

    (elsewhere / "test_smoke.py").write_text(SMOKE_TEST, encoding="utf-8")
    smoke = run(
        str(bin_dir / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_smoke.py"
    )
    assert smoke.returncode == 0, smoke.stdout.decode() + smoke.stderr.decode()
    assert b"1 passed" in smoke.stdout


def test_version_lives_in_version_py_only(capsys):
    """pyproject.toml reads it (dynamic), and ``mock-anveo --version`` prints it."""
    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out == f"mock-anveo {__version__}\n"
    assert importlib.metadata.version("mock-anveo") == __version__
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "version" not in pyproject["project"]
    assert pyproject["project"]["dynamic"] == ["version"]


def test_server_finds_its_schemas_from_any_directory(tmp_path):
    body = (ROOT / "fixtures" / "dial_connect_docs_example.request.xml").read_bytes()
    result = subprocess.run(
        [sys.executable, "-m", "mock_anveo", "check", "-"],
        input=body,
        cwd=tmp_path,
        capture_output=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert b"<RESULT>SUCCESS</RESULT>" in result.stdout
