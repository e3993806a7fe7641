"""What the pytest fixture costs a suite: a fresh tenant per test, and the session's start.

- Per-test overhead: ``POST /_mock/tenants`` then ``DELETE /_mock/tenants/{userkey}`` over one
  keep-alive connection (``http.client``, as a synchronous fixture would), from a client
  process pinned to the load core.
- Server start: a fresh interpreter that imports mock-anveo, starts the server in its event
  loop and gets a first successful ``/_mock/health`` (what a pytest session pays), next to a
  bare ``python -c pass`` and to the CLI (spawn until ``/_mock/health`` answers).

Run: ``python -m bench fixture [--iterations 2000] [--starts 5]``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import subprocess
import tempfile
import time
from typing import Any
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


def run(iterations: int, starts: int) -> dict[str, Any]:
    """Both measurements."""
    return {"tenant": tenant_overhead(iterations), "start": start_times(starts)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench fixture", description=__doc__)
    parser.add_argument("--client", help="(internal) run the tenant client against this URL")
    parser.add_argument("--iterations", type=int, default=2000)
    parser.add_argument("--starts", type=int, default=5)
    args = parser.parse_args(argv)
    if args.client:
        emit(client(args.client, args.iterations))
    else:
        print(json.dumps(run(args.iterations, args.starts), indent=2))
