"""``import mock_anveo``, the pytest plugin and a remote-bound ``anveo`` fixture load no server.

pytest imports the plugin in every session of an environment that has mock-anveo installed,
so neither it nor the package's top level may pull in aiohttp, lxml (and its three compiled
XSDs) or anything of ``mock_anveo.http``; only starting a server does.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

import mock_anveo
from mock_anveo import strategies
from mock_anveo.errors import ControlError
from mock_anveo.http.server import ThreadedServer
from mock_anveo.testing.controller import MockAnveo

HEAVY = ("aiohttp", "lxml", "xmlschema", "hypothesis", "mock_anveo.http", "mock_anveo.wire")
PUBLIC = (
    "MockAnveo",
    "AsyncMockAnveo",
    "Call",
    "AnveoError",
    "Code",
    "ControlError",
    "MockAnveoError",
    "__version__",
)


def _heavy_loaded(code: str) -> list[str]:
    probe = (
        f"{code}\nimport sys, json\n"
        f"print(json.dumps(sorted(m for m in sys.modules if m.startswith({HEAVY!r}))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    return list(json.loads(done.stdout.splitlines()[-1]))


def test_package_plugin_and_controller_import_no_server() -> None:
    code = (
        "import mock_anveo\nimport mock_anveo.testing.pytest_plugin\n"
        f"from mock_anveo import {', '.join(PUBLIC)}\n"
        "import mock_anveo.testing.controller\n"
        "anveo = MockAnveo.remote('http://127.0.0.1:9')  # built, not opened\n"
        "assert anveo.advance.__doc__"
    )
    assert _heavy_loaded(code) == []


def test_bare_import_loads_neither_the_controller_nor_the_errors() -> None:
    assert _heavy_loaded("import mock_anveo") == []
    code = (
        "import sys, mock_anveo\n"
        "assert 'mock_anveo.testing.controller' not in sys.modules\n"
        "assert 'mock_anveo.errors' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], timeout=60, check=True)


def test_public_names_resolve_and_stay_curated() -> None:
    assert sorted(mock_anveo.__all__) == sorted(PUBLIC)
    assert mock_anveo.MockAnveo is MockAnveo and mock_anveo.ControlError is ControlError
    assert set(PUBLIC) <= set(dir(mock_anveo))
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        _ = mock_anveo.Nope  # type: ignore[attr-defined]
    assert strategies.xml_requests  # a submodule, not a lazy name: still importable


@pytest.fixture(scope="module")
def remote_url() -> Iterator[str]:
    server = ThreadedServer().start()
    yield server.url
    server.stop()


@pytest.mark.slow
def test_a_session_bound_to_a_remote_server_never_loads_the_server(
    pytester: pytest.Pytester, remote_url: str
) -> None:
    pytester.makepyfile(f"""
        import sys

        def test_uses_the_fixture(anveo):
            assert anveo.balance() == 100
            anveo.requests().assert_not_called()
            loaded = sorted(m for m in sys.modules if m.startswith({HEAVY!r}))
            assert loaded == [], loaded
    """)
    # Only this plugin: pytest-aiohttp and friends, installed here, would load aiohttp anyway.
    env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    env.pop("MOCK_ANVEO_URL", None)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "mock_anveo.testing.pytest_plugin",
            "--rootdir",
            str(pytester.path),
            "--anveo-url",
            remote_url,
        ],
        cwd=pytester.path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
