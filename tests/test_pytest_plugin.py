"""The pytest plugin, run with ``pytester``: fixture, marker, overrides, --anveo-url, xdist."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from mock_anveo.http.server import ThreadedServer

DOCS = Path(__file__).resolve().parent.parent / "README.md"
BIN = str(Path(sys.executable).parent)


def _section(title: str) -> str:
    text = DOCS.read_text(encoding="utf-8")
    start = text.index(f"## {title}")
    end = text.find("\n## ", start + 1)
    return text[start:] if end == -1 else text[start:end]


def _blocks(title: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", _section(title), re.DOTALL)


@pytest.fixture(autouse=True)
def _quiet_ini(request: pytest.FixtureRequest) -> None:
    if "pytester" in request.fixturenames:  # inner runs: no pytest-asyncio deprecation noise
        request.getfixturevalue("pytester").makeini(
            "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"
        )


@pytest.fixture(scope="module")
def shared_url() -> Iterator[str]:
    server = ThreadedServer().start()
    yield server.url
    server.stop()


def test_each_test_gets_a_fresh_tenant_on_one_server(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        import urllib.error, urllib.request
        import pytest

        seen = {}

        def balance(anveo):
            url = f"{anveo.v2_url}?userkey={anveo.userkey}&action=ACCOUNT.GETBALANCE"
            return urllib.request.urlopen(url).read()

        def test_one(anveo, anveo_url):
            seen.update(userkey=anveo.userkey, url=anveo.url)
            assert anveo.url == anveo_url and anveo.url.startswith("http://127.0.0.1:")
            balance(anveo)
            assert anveo.requests().call_count == 1

        def test_two(anveo):
            assert anveo.url == seen["url"]  # the same session server
            assert anveo.userkey != seen["userkey"]
            anveo.requests().assert_not_called()
            with pytest.raises(urllib.error.HTTPError) as caught:  # deleted at teardown
                urllib.request.urlopen(f"{anveo.url}/_mock/tenants/{seen['userkey']}")
            assert caught.value.code == 404
    """)
    pytester.runpytest("-q", "-p", "no:randomly").assert_outcomes(passed=2)


def test_marker_and_override_fixture_preset_the_tenant(pytester: pytest.Pytester) -> None:
    pytester.makeconftest("""
        import pytest
        from mock_anveo.http.app import ServerOptions

        @pytest.fixture
        def anveo_tenant():
            return {"balance": "7.00", "verified_callerids": ["15550001111"]}

        @pytest.fixture(scope="session")
        def anveo_server_options():
            return ServerOptions(control_token="session-secret")
    """)
    pytester.makepyfile("""
        from decimal import Decimal
        import pytest

        pytestmark = pytest.mark.anveo(rate_per_minute="0.05")

        def test_module_marker_and_override(anveo):
            import urllib.error, urllib.request
            with pytest.raises(urllib.error.HTTPError) as caught:  # the options were used
                urllib.request.urlopen(anveo.url + "/_mock/tenants")
            assert caught.value.code == 401
            tenant = anveo.tenant()
            assert (tenant["balance"], tenant["rate_per_minute"]) == ("7.00", "0.05")

        @pytest.mark.anveo(balance="1.50", scenarios=[{"match": "1212*", "outcome": "busy"}],
                           faults=[{"kind": "html"}])
        class TestClass:
            @pytest.mark.anveo(balance="2.50")
            def test_closest_marker_wins(self, anveo):
                assert anveo.balance() == Decimal("2.50")
                assert [r["match"] for r in anveo.scenarios()] == ["1212*"]
                assert [f["kind"] for f in anveo.faults()] == ["html"]
                assert anveo.tenant()["verified_callerids"] == ["15550001111"]

        @pytest.mark.anveo("positional")
        def test_positional_marker_is_refused(anveo):
            pass

        @pytest.mark.anveo(balance="lots")
        def test_bad_field_is_reported(anveo):
            pass
    """)
    result = pytester.runpytest("-q")
    result.assert_outcomes(passed=2, errors=2)
    result.stdout.fnmatch_lines(["*keyword arguments only*", "*balance must be a decimal*"])


def test_server_exceptions_fail_the_test_with_their_traceback(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        import dataclasses, urllib.request
        import pytest
        from mock_anveo.wire import actions

        @pytest.fixture
        def broken(monkeypatch):
            def boom(*args):
                raise RuntimeError("kaboom inside the server")
            spec = actions.REGISTRY["ACCOUNT.GETBALANCE"]
            monkeypatch.setitem(actions.REGISTRY, spec.name,
                                dataclasses.replace(spec, handler=boom))

        def ask(anveo):
            url = f"{anveo.v2_url}?userkey={anveo.userkey}&action=ACCOUNT.GETBALANCE"
            return urllib.request.urlopen(url).read()

        def test_passes_but_the_server_broke(anveo, broken):
            assert b"ERROR" in ask(anveo)

        def test_fails_and_the_server_broke(anveo, broken):
            assert b"SUCCESS" in ask(anveo), "the client saw an error"

        def test_unaffected(anveo):
            assert b"100.00" in ask(anveo)
    """)
    result = pytester.runpytest("-q", "-p", "no:randomly")
    # The server's exceptions fail both affected tests at teardown, tracebacks included;
    # the one test whose own assertion failed also keeps that failure.
    result.assert_outcomes(passed=2, failed=1, errors=2)
    output = result.stdout.str()
    # Each error shows in its traceback (and again in the summary when CI=true widens it).
    assert output.count("UnexpectedServerError: mock-anveo raised 1 unexpected") >= 2
    assert "ERROR at teardown of test_passes_but_the_server_broke" in output
    assert "ERROR at teardown of test_fails_and_the_server_broke" in output
    assert "kaboom inside the server" in output and "in boom" in output
    assert "the client saw an error" in output


@pytest.mark.parametrize("how", ["option", "environment"])
def test_anveo_url_uses_a_running_server(
    pytester: pytest.Pytester, shared_url: str, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    pytester.makepyfile(f"""
        def test_bound_to_the_given_server(anveo):
            assert anveo.url == {shared_url!r}
            assert anveo.balance() == 100
    """)
    args = ["-q"]
    if how == "option":
        args += ["--anveo-url", shared_url + "/"]
    else:
        monkeypatch.setenv("MOCK_ANVEO_URL", shared_url)
    pytester.runpytest(*args).assert_outcomes(passed=1)


_PROBE_TESTS = """
    import os, urllib.request
    import pytest

    @pytest.mark.parametrize("n", range(6))
    def test_probe(anveo, n):
        url = f"{anveo.v2_url}?userkey={anveo.userkey}&action=ACCOUNT.GETBALANCE"
        urllib.request.urlopen(url).read()
        anveo.requests().assert_called_once()  # isolated even with other workers around
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        with open(os.path.join(os.environ["PROBE_DIR"], f"{n}.txt"), "w") as out:
            out.write(f"{anveo.url} {worker}")
"""


def _run_shell(block: str, cwd: Path, probe_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PATH": BIN + os.pathsep + os.environ.get("PATH", ""),
        "PROBE_DIR": str(probe_dir),
    }
    env.pop("MOCK_ANVEO_URL", None)
    env.pop("PYTEST_XDIST_WORKER", None)
    return subprocess.run(
        ["bash", "-e", "-c", block],
        cwd=cwd,
        env=env,
        text=True,
        capture_output=True,
        timeout=120,
        check=False,
    )


def _probes(probe_dir: Path) -> list[tuple[str, str]]:
    found = [p.read_text().split() for p in sorted(probe_dir.glob("*.txt"))]
    return [(url, worker) for url, worker in found]


@pytest.mark.slow
def test_ci_recipe_xdist_workers_share_one_standalone_server(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    pytester.makepyfile(_PROBE_TESTS)
    block = _blocks("Run it in CI", "sh")[0]
    assert "--port 0 --url-file" in block and "-n 2 --anveo-url" in block
    done = _run_shell(block, pytester.path, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "6 passed" in done.stdout
    probes = _probes(tmp_path)
    assert len(probes) == 6
    assert len({url for url, _ in probes}) == 1  # one server for everyone
    assert {worker for _, worker in probes} == {"gw0", "gw1"}  # ... shared by both workers


@pytest.mark.slow
def test_ci_recipe_with_a_fixed_port_and_the_environment(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    pytester.makepyfile(_PROBE_TESTS)
    with socket.socket() as sock:  # the docs say 8080; a test takes whatever port is free
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    block = _blocks("Run it in CI", "sh")[1].replace("8080", str(port))
    done = _run_shell(block, pytester.path, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert {url for url, _ in _probes(tmp_path)} == {f"http://127.0.0.1:{port}"}


def test_overriding_anveo_url_binds_the_fixture_to_that_server(
    pytester: pytest.Pytester, shared_url: str
) -> None:
    pytester.makeconftest(f"""
        import pytest

        @pytest.fixture(scope="session")
        def anveo_url():
            return {shared_url!r}

        @pytest.fixture(scope="session")
        def anveo_server_options():
            raise AssertionError("no server of our own is started")
    """)
    pytester.makepyfile("""
        def test_bound(anveo, anveo_url):
            assert anveo.url == anveo_url and anveo.balance() == 100
    """)
    pytester.runpytest("-q").assert_outcomes(passed=1)
