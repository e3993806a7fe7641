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


#: What the ``anveo`` fixture's own requests (create, delete) never need: the records and
#: notices (built at the first answer that holds one), the errors module (the first refusal)
#: and the idna codec (resolving a non-ASCII host).
LAZY = (
    "mock_anveo.testing.records",
    "mock_anveo.testing.notices",
    "mock_anveo.testing.sent",
    "mock_anveo.errors",
    "encodings.idna",
)


def _heavy_loaded(code: str, heavy: tuple[str, ...] = HEAVY) -> list[str]:
    probe = (
        f"{code}\nimport sys, json\n"
        f"print(json.dumps(sorted(m for m in sys.modules if m.startswith({heavy!r}))))"
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


def test_the_plugin_and_controller_leave_records_and_errors_to_the_first_answer() -> None:
    code = (
        "import mock_anveo.testing.pytest_plugin, mock_anveo.testing.controller\n"
        "anveo = mock_anveo.testing.controller.MockAnveo.remote('http://127.0.0.1:9')\n"
        "assert anveo.clock.__doc__ and anveo.requests.__doc__"
    )
    assert _heavy_loaded(code, LAZY) == []
    # The records the controller module names still resolve, to the classes of their homes.
    code = (
        "from mock_anveo.testing import controller, records, sent\n"
        "assert controller.Call is records.Call and controller.Requests is sent.Requests\n"
        "from mock_anveo.testing.controller import UnexpectedServerError, ServerError\n"
        "assert 'Clock' in dir(controller)\n"
        "try:\n    controller.Nope\nexcept AttributeError as e:\n    assert 'Nope' in str(e)\n"
        "else:\n    raise SystemExit('no AttributeError')"
    )
    subprocess.run([sys.executable, "-c", code], timeout=60, check=True)


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


#: What a remote session may not load beyond HEAVY: the simulation core. Only the names of
#: the tenant's fields (for the marker's typo message) come from mock_anveo.sim.
CORE = "mock_anveo.sim."
CORE_ALLOWED = ("mock_anveo.sim.fields",)


def _remote_session(
    pytester: pytest.Pytester, url: str, tests: str
) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """Run ``tests`` in a fresh pytest bound to ``url``, with only this plugin loaded; returns
    the run and every module loaded by the end of the session (teardowns included)."""
    pytester.makepyfile(tests)
    loaded = pytester.path / "loaded.json"
    pytester.makeconftest(f"""
        import json, sys

        def pytest_sessionfinish(session):
            with open({str(loaded)!r}, "w") as out:
                json.dump(sorted(sys.modules), out)
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
            url,
        ],
        cwd=pytester.path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return result, list(json.loads(loaded.read_text(encoding="utf-8")))


def _server_parts(modules: list[str]) -> list[str]:
    return [
        m for m in modules if m.startswith(HEAVY) or (m.startswith(CORE) and m not in CORE_ALLOWED)
    ]


@pytest.mark.slow
def test_a_session_bound_to_a_remote_server_never_loads_the_server(
    pytester: pytest.Pytester, remote_url: str
) -> None:
    result, loaded = _remote_session(
        pytester,
        remote_url,
        f"""
        import sys
        import pytest

        @pytest.mark.anveo(balance="5.00", verified_callerids=["12155550100"])
        def test_uses_the_fixture(anveo):
            assert anveo.balance() == 5
            anveo.requests().assert_not_called()
            loaded = sorted(m for m in sys.modules if m.startswith({HEAVY!r}))
            assert loaded == [], loaded
        """,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
    # Neither the server nor the simulation core: the tenant is built by the remote server.
    assert _server_parts(loaded) == []
    assert "mock_anveo.testing.controller" in loaded  # the probe saw the fixture's imports
    # balance() and requests() loaded what they answer with: the next test's probe sees them.
    assert {"mock_anveo.testing.records", "mock_anveo.testing.sent"} <= set(loaded)


@pytest.mark.slow
def test_a_remote_session_that_only_uses_the_fixture_loads_no_record_or_error(
    pytester: pytest.Pytester, remote_url: str
) -> None:
    # What every test of such a session pays: the tenant's create and delete need neither
    # records (none is answered), the errors module (nothing is refused) nor idna.
    result, loaded = _remote_session(
        pytester,
        remote_url,
        """
        def test_uses_the_fixture(anveo):
            assert anveo.userkey
        """,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert sorted(m for m in loaded if m.startswith(LAZY)) == []
    assert "mock_anveo.testing.controller" in loaded


@pytest.mark.slow
def test_a_remote_session_names_a_marker_typo_as_an_own_server_session_does(
    pytester: pytest.Pytester, remote_url: str
) -> None:
    result, loaded = _remote_session(
        pytester,
        remote_url,
        """
        import pytest

        @pytest.mark.anveo(balanse="1.00")
        def test_near_miss(anveo):
            pass
        """,
    )
    assert "1 error" in result.stdout, result.stdout + result.stderr
    assert (
        "@pytest.mark.anveo: unknown keyword 'balanse' (did you mean 'balance'?); "
        "valid: userkey, email," in result.stdout
    )
    assert _server_parts(loaded) == []


def test_the_probe_sees_a_core_import() -> None:
    # The session test above must fail if the plugin or controller imports the core again.
    assert _server_parts(["mock_anveo.sim.setup", "mock_anveo.sim.fields"]) == [
        "mock_anveo.sim.setup"
    ]
    assert _server_parts(["lxml.etree", "mock_anveo.wire.xsd", "mock_anveo.testing.ops"]) == [
        "lxml.etree",
        "mock_anveo.wire.xsd",
    ]
