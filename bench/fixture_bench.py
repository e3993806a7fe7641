"""What the pytest fixture costs a suite: a fresh tenant per test, and the session's start.

- Per-test overhead: ``POST /_mock/tenants`` then ``DELETE /_mock/tenants/{userkey}`` over one
  keep-alive connection (``http.client``, as a synchronous fixture would), from a client
  process pinned to the load core.
- Server start: a fresh interpreter that imports mock-anveo, starts the server in its event
  loop and gets a first successful ``/_mock/health`` (what a pytest session pays), next to a
  bare ``python -c pass`` and to the CLI (spawn until ``/_mock/health`` answers).
- Plugin overhead with ``--anveo-url``: a pytest session whose one test uses the ``anveo``
  fixture against a running server, against the same session without the plugin and with a
  test that does nothing (fresh processes, medians), and what that session loaded.

Run: ``python -m bench fixture [--iterations 2000] [--starts 5]`` (``--plugin-only RUNS``: the
plugin overhead alone).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import resource
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

from .common import (
    LOAD_CORE,
    PYTHON,
    ROOT,
    SERVER_CORE,
    emit,
    percentile,
    pinned,
    run_json,
    run_server,
)


# ---- per-test tenant overhead ---------------------------------------------------------------
def client(url: str, iterations: int) -> dict[str, Any]:
    """Create and delete ``iterations`` tenants over one keep-alive connection."""
    parts = urlsplit(url)
    assert parts.hostname is not None and parts.hostname.startswith("127.")
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    headers = {"Content-Type": "application/json"}
    pairs: list[float] = []
    creates: list[float] = []
    deletes: list[float] = []
    failures = 0
    deadline = time.monotonic() + 120.0  # bounded whatever happens
    for _ in range(iterations):
        if time.monotonic() > deadline:
            break
        began = time.perf_counter()
        conn.request("POST", "/_mock/tenants", body=b"{}", headers=headers)
        reply = conn.getresponse()
        doc = json.loads(reply.read())
        created = time.perf_counter()
        if reply.status != 201:
            failures += 1
            continue
        conn.request("DELETE", f"/_mock/tenants/{doc['userkey']}")
        reply = conn.getresponse()
        reply.read()
        done = time.perf_counter()
        if reply.status >= 300:
            failures += 1
        pairs.append(done - began)
        creates.append(created - began)
        deletes.append(done - created)
    conn.close()
    pairs.sort()
    return {
        "iterations": len(pairs),
        "failures": failures,
        "pair_mean_ms": statistics.fmean(pairs) * 1e3 if pairs else 0.0,
        "pair_p50_ms": percentile(pairs, 0.5) * 1e3,
        "pair_p99_ms": percentile(pairs, 0.99) * 1e3,
        "create_mean_ms": statistics.fmean(creates) * 1e3 if creates else 0.0,
        "delete_mean_ms": statistics.fmean(deletes) * 1e3 if deletes else 0.0,
    }


def tenant_overhead(iterations: int) -> dict[str, Any]:
    """Run ``client`` against a fresh pinned server from a process on the load core."""
    with run_server("mock-anveo") as server:
        cmd = pinned(
            [
                PYTHON,
                "-m",
                "bench",
                "fixture",
                "--client",
                server.url,
                "--iterations",
                str(iterations),
            ],
            LOAD_CORE,
        )
        return run_json(cmd, timeout=180)


# ---- session start --------------------------------------------------------------------------
START_CHILD = """
import time
began = time.perf_counter()
import asyncio
from mock_anveo.http.server import start
from mock_anveo.sim.world import World
imported = time.perf_counter()

async def main():
    world = World(monotonic=time.monotonic, wallclock=time.time)
    running = await start(world)
    listening = time.perf_counter()
    host, port = running.url.removeprefix("http://").rsplit(":", 1)
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(b"GET /_mock/health HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n")
    head = await reader.readline()
    await reader.read()
    writer.close()
    healthy = time.perf_counter()
    assert b" 200 " in head, head
    await running.stop()
    return listening, healthy

listening, healthy = asyncio.run(main())
import json
print("BENCHJSON " + json.dumps({"import_s": imported - began, "start_s": listening - imported,
      "health_s": healthy - listening, "total_s": healthy - began}))
"""


def start_times(runs: int) -> dict[str, Any]:
    """Medians over ``runs`` fresh processes: interpreter alone, in-process start, the CLI.

    The in-process start is measured with a warm bytecode cache (a private
    ``PYTHONPYCACHEPREFIX``), as on any ordinary install, and also with the environment as
    it is: where ``PYTHONDONTWRITEBYTECODE`` is set (as on this workplace's machines), an
    editable install never gets .pyc files and every start recompiles mock_anveo.
    """
    bare, inproc, uncached, cli = [], [], [], []
    with tempfile.TemporaryDirectory(prefix="bench-pyc-") as pycache:
        cached_env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        cached_env["PYTHONPYCACHEPREFIX"] = pycache
        child = pinned([PYTHON, "-c", START_CHILD], SERVER_CORE)
        run_json(child, timeout=60, env=cached_env)  # fills the cache
        for _ in range(runs):
            began = time.perf_counter()
            subprocess.run(pinned([PYTHON, "-c", "pass"], SERVER_CORE), check=True, timeout=30)
            bare.append(time.perf_counter() - began)
            began = time.perf_counter()
            result = run_json(child, timeout=60, env=cached_env)
            result["process_s"] = time.perf_counter() - began
            inproc.append(result)
            uncached.append(run_json(child, timeout=60))
            with run_server("mock-anveo") as server:
                cli.append(server.started_in)
    med = statistics.median
    return {
        "runs": runs,
        "dont_write_bytecode": bool(os.environ.get("PYTHONDONTWRITEBYTECODE")),
        "in_process_total_as_is_s": med(float(r["total_s"]) for r in uncached),
        "import_as_is_s": med(float(r["import_s"]) for r in uncached),
        "python_bare_s": med(bare),
        "import_s": med(float(r["import_s"]) for r in inproc),
        "start_s": med(float(r["start_s"]) for r in inproc),
        "health_s": med(float(r["health_s"]) for r in inproc),
        "in_process_total_s": med(float(r["total_s"]) for r in inproc),
        "process_total_s": med(float(r["process_s"]) for r in inproc),
        "cli_spawn_to_health_s": med(cli),
        "import_breakdown": import_breakdown(),
    }


def import_breakdown(top: int = 8) -> list[tuple[str, float]]:
    """The slowest packages (cumulative seconds) importing ``mock_anveo.http.server``."""
    done = subprocess.run(
        [PYTHON, "-X", "importtime", "-c", "import mock_anveo.http.server"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    rows = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, _, rest = line.partition(":")
        fields = [f.strip() for f in rest.split("|")]
        if len(fields) == 3 and fields[1].isdigit():
            rows.append((fields[2], int(fields[1]) / 1e6))
    seen: dict[str, float] = {}
    for name, cumulative in rows:  # a package's cumulative time includes its submodules
        root = name.split(".")[0]
        seen[root] = max(seen.get(root, 0.0), cumulative)
    return sorted(seen.items(), key=lambda kv: -kv[1])[:top]


# ---- the plugin's cost to a session bound to a remote server --------------------------------
#: The timed sessions; BENCH_MODULES_OUT is set in one untimed run only.
REMOTE_TEST = """
import json, os, sys

def test_remote(anveo):
    assert anveo.userkey
    if os.environ.get("BENCH_MODULES_OUT"):
        with open(os.environ["BENCH_MODULES_OUT"], "w") as out:
            json.dump(sorted(sys.modules), out)
"""
PLAIN_TEST = "def test_plain():\n    pass\n"
#: The off session's ``-p`` plugin: nothing, so both sessions pay pytest's ``-p`` look-up.
EMPTY_PLUGIN = "bench_empty_plugin"
#: What a remote session must not load (mock_anveo.sim.fields is only names).
SERVER_MODULES = ("aiohttp", "lxml", "mock_anveo.http", "mock_anveo.wire", "mock_anveo.sim.")
IMPORT_CHILD = """
import json, time
import pytest
began = time.perf_counter()
import mock_anveo.testing.pytest_plugin
plugin = time.perf_counter()
import mock_anveo.sim.fields, mock_anveo.testing.controller
done = time.perf_counter()
print("BENCHJSON " + json.dumps({"plugin_s": plugin - began, "fixture_s": done - plugin}))
"""


def plugin_overhead(runs: int, *, as_is: bool = True) -> dict[str, Any]:
    """Over ``runs`` interleaved pairs of fresh pytest sessions, plugin on and off: the median
    session times and the median of the per-pair differences (a pair shares the machine's
    load of the moment, so its difference moves less than a difference of medians).

    Plugin autoloading is off in both, so other installed plugins (pytest-aiohttp imports
    aiohttp) cost neither side. The plugin is named with ``-p``, and the session without it
    names an empty plugin with ``-p``: pytest looks every ``-p`` name up among the installed
    entry points (it imports importlib.metadata and reads every distribution's metadata), as
    an autoloading session does anyway, so that search is charged to neither side (until
    2026-12-02 only the plugin's session made it). The difference includes the tenant's create
    and delete round trips. Measured with a warm bytecode cache and with the environment as it
    is (see ``start_times``; ``as_is=False`` skips those, for smoke runs).
    """
    with (
        tempfile.TemporaryDirectory(prefix="bench-plugin-") as tmp,
        run_server("mock-anveo") as server,
    ):
        project = Path(tmp)
        (project / "test_remote.py").write_text(REMOTE_TEST, encoding="utf-8")
        (project / "test_plain.py").write_text(PLAIN_TEST, encoding="utf-8")
        (project / f"{EMPTY_PLUGIN}.py").write_text('"""Nothing."""\n', encoding="utf-8")
        plain = {k: v for k, v in os.environ.items() if k != "MOCK_ANVEO_URL"}
        plain["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
        cached = {k: v for k, v in plain.items() if k != "PYTHONDONTWRITEBYTECODE"}
        cached["PYTHONPYCACHEPREFIX"] = str(project / "pyc")
        base = [PYTHON, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
        on = [*base, "-p", "mock_anveo.testing.pytest_plugin", "--anveo-url", server.url]
        off = [*base, "-p", EMPTY_PLUGIN]
        sessions = {
            "on": (pinned([*on, "test_remote.py"], LOAD_CORE), cached),
            "off": (pinned([*off, "test_plain.py"], LOAD_CORE), cached),
        }
        if as_is:
            sessions["on_as_is"] = (pinned([*on, "test_remote.py"], LOAD_CORE), plain)
            sessions["off_as_is"] = (pinned([*off, "test_plain.py"], LOAD_CORE), plain)

        def session(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
            """Wall and CPU seconds of one session (CPU: less moved by the neighbours)."""
            began, cpu = time.perf_counter(), _children_cpu()
            done = subprocess.run(
                cmd, cwd=project, env=env, capture_output=True, text=True, timeout=60, check=False
            )
            if done.returncode != 0:
                raise RuntimeError(f"{' '.join(cmd)} failed:\n{done.stdout[-2000:]}")
            return time.perf_counter() - began, _children_cpu() - cpu

        modules_out = project / "modules.json"
        session(sessions["on"][0], {**cached, "BENCH_MODULES_OUT": str(modules_out)})
        session(*sessions["off"])  # both now have their bytecode cached
        times: dict[str, list[tuple[float, float]]] = {name: [] for name in sessions}
        for i in range(runs):
            order = list(sessions.items())
            for name, (cmd, env) in order if i % 2 else reversed(order):  # neither always first
                times[name].append(session(cmd, env))
        child = pinned([PYTHON, "-c", IMPORT_CHILD], LOAD_CORE)
        imports = [run_json(child, timeout=60, env=cached) for _ in range(runs)]
        loaded = json.loads(modules_out.read_text(encoding="utf-8"))
    med = statistics.median

    def overhead(on: str, off: str, which: int) -> float:
        return med(a[which] - b[which] for a, b in zip(times[on], times[off], strict=True))

    return {
        "runs": runs,
        **{f"session_{name}_s": med(w for w, _ in values) for name, values in times.items()},
        "overhead_s": overhead("on", "off", 0),
        "overhead_cpu_s": overhead("on", "off", 1),
        "overhead_as_is_s": overhead("on_as_is", "off_as_is", 0) if as_is else None,
        "import_plugin_s": med(cast(float, r["plugin_s"]) for r in imports),
        "import_fixture_s": med(cast(float, r["fixture_s"]) for r in imports),
        "server_modules": [
            m for m in loaded if m.startswith(SERVER_MODULES) and m != "mock_anveo.sim.fields"
        ],
        "mock_anveo_modules": sorted(m for m in loaded if m.startswith("mock_anveo")),
    }


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(iterations: int, starts: int) -> dict[str, Any]:
    """All three measurements."""
    return {
        "tenant": tenant_overhead(iterations),
        "start": start_times(starts),
        # Session differences are a few ms on a noisy machine: more pairs than starts. A smoke
        # run (starts <= 2) takes one pair and skips the uncached sessions.
        "plugin": plugin_overhead(2 * starts + 1 if starts > 2 else 1, as_is=starts > 2),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench fixture", description=__doc__)
    parser.add_argument("--client", help="(internal) run the tenant client against this URL")
    parser.add_argument("--iterations", type=int, default=2000)
    parser.add_argument("--starts", type=int, default=5)
    parser.add_argument(
        "--plugin-only", type=int, metavar="RUNS", help="only the plugin overhead, RUNS pairs"
    )
    args = parser.parse_args(argv)
    if args.client:
        emit(client(args.client, args.iterations))
    elif args.plugin_only:
        print(json.dumps(plugin_overhead(args.plugin_only), indent=2))
    else:
        print(json.dumps(run(args.iterations, args.starts), indent=2))
