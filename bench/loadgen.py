"""Load generators: ``wrk`` when installed, else a bounded Python one (aiohttp client).

Both run in their own process pinned to the load core, keep ``connections`` keep-alive
connections to a loopback URL, stop by themselves after ``duration`` seconds, and report the
same fields: requests, requests/s, p50/p99 latency, errors.

Workloads (see wrk_anveo.lua): ``post`` (the same POST body every time), ``status``
(DIAL.GETSTATUS of REQUESTIDs taken from DIAL.CONNECT responses) and ``mix`` (one DIAL.CONNECT
every ``every`` requests, GETSTATUS otherwise). The ``-unique`` workloads differ in real
fields, as a test suite's requests do: ``post-unique`` dials a different PHONENUMBER with a
MEMO stamped with the request's number every time; ``status-unique`` polls ``UNIQUE_IDS``
calls dialled beforehand (``predial``), round robin, so no body comes back before thousands of
others.

Run the Python generator directly:
``python -m bench loadgen URL --workload post --duration 5 --connections 32``.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from .common import FIXTURE, LOAD_CORE, PYTHON, emit, percentile, pinned, run_json, status_body

LUA = Path(__file__).resolve().parent / "wrk_anveo.lua"
REQUESTID = re.compile(rb'NAME="REQUESTID">([0-9a-f]+)<')
KEEP = 64  # REQUESTIDs collected before polling starts (as in the Lua script)
MAX_IDS = 1000
#: Calls dialled before a ``status-unique`` run: more than any cache of recent bodies holds
#: (the memo mock-anveo had kept 4,096).
UNIQUE_IDS = 5000
PHONENUMBER = b'NAME="PHONENUMBER">1215215215<'
MEMO_END = b"24 hours</PARAMETER>"


def unique_connect(connect: bytes, serial: int) -> bytes:
    """The DIAL.CONNECT body with request ``serial``'s own PHONENUMBER and a stamped MEMO
    (the same edit as wrk_anveo.lua's)."""
    return connect.replace(PHONENUMBER, b'NAME="PHONENUMBER">1215%07d<' % (serial % 10**7)).replace(
        MEMO_END, b"24 hours #%d</PARAMETER>" % serial
    )


def predial(url: str, count: int = UNIQUE_IDS) -> list[str]:
    """Dial ``count`` calls through ``url`` (one keep-alive connection); their REQUESTIDs."""
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=10)
    connect = FIXTURE.read_bytes()
    ids: list[str] = []
    try:
        for serial in range(count):
            connection.request(
                "POST",
                parts.path,
                unique_connect(connect, serial),
                {"Content-Type": "application/xml"},
            )
            found = REQUESTID.search(connection.getresponse().read())
            if found is None:
                raise RuntimeError(f"predial: no REQUESTID in the reply to dial {serial}")
            ids.append(found.group(1).decode())
    finally:
        connection.close()
    return ids


def have_wrk() -> bool:
    """Whether ``wrk`` is on PATH."""
    return shutil.which("wrk") is not None


def run_load(
    url: str,
    workload: str,
    duration: float,
    *,
    connections: int = 32,
    every: int = 5,
    tool: str = "auto",
    ids: list[str] | None = None,
) -> dict[str, Any]:
    """Drive ``url`` for ``duration`` seconds; returns requests/s, latency and errors.

    ``ids`` are the REQUESTIDs ``status-unique`` polls (``predial``'s)."""
    use_wrk = tool == "wrk" or (tool == "auto" and have_wrk())
    every = every if workload == "mix" else 0  # "status" polls only, once it has its ids
    if workload == "status-unique" and not ids:
        raise ValueError("status-unique polls predialled calls: pass ids=predial(url)")
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        status_file = Path(tmp) / "status.xml"
        status_file.write_bytes(status_body("%s"))
        ids_file = Path(tmp) / "ids.txt"
        ids_file.write_text("".join(f"{i}\n" for i in ids or ()), encoding="ascii")
        bound = duration + 30.0  # a hard stop for the generator process itself
        if use_wrk:
            seconds = max(1, round(duration))
            cmd = [
                "wrk",
                "-t1",
                f"-c{connections}",
                f"-d{seconds}s",
                "--timeout",
                "5s",
                "-s",
                str(LUA),
                url,
                "--",
                workload,
                str(FIXTURE),
                str(status_file),
                str(every),
                str(ids_file),
            ]
            raw = run_json(pinned(cmd, LOAD_CORE), timeout=bound)
            errors = raw["errors"]
            assert isinstance(errors, dict)
            result: dict[str, Any] = {
                "tool": "wrk",
                "requests": raw["requests"],
                "seconds": float(raw["duration_us"]) / 1e6,  # type: ignore[arg-type]
                "p50_ms": float(raw["p50_us"]) / 1e3,  # type: ignore[arg-type]
                "p99_ms": float(raw["p99_us"]) / 1e3,  # type: ignore[arg-type]
                "max_ms": float(raw["max_us"]) / 1e3,  # type: ignore[arg-type]
                "errors": sum(int(v) for v in errors.values()),
            }
        else:
            cmd = [
                PYTHON,
                "-m",
                "bench",
                "loadgen",
                url,
                "--workload",
                workload,
                "--duration",
                str(duration),
                "--connections",
                str(connections),
                "--every",
                str(every),
                "--ids",
                str(ids_file),
            ]
            result = run_json(pinned(cmd, LOAD_CORE), timeout=bound)
    result["rps"] = result["requests"] / result["seconds"] if result["seconds"] else 0.0
    result["workload"] = workload
    result["connections"] = connections
    return result


# ---- the Python fallback --------------------------------------------------------------------
async def _python_load(
    url: str, workload: str, duration: float, connections: int, every: int, polled: list[str]
) -> dict[str, Any]:
    import aiohttp

    connect = FIXTURE.read_bytes()
    headers = {"Content-Type": "application/xml"}
    ids: list[bytes] = []
    latencies: list[float] = []
    errors = 0
    counter = 0
    connector = aiohttp.TCPConnector(limit=connections, force_close=False)
    timeout = aiohttp.ClientTimeout(total=5.0)

    base = workload.removesuffix("-unique")

    def next_body() -> bytes:
        nonlocal counter
        counter += 1
        if workload == "post-unique":
            return unique_connect(connect, counter)
        if workload == "status-unique":
            return status_body(polled[counter % len(polled)])
        if base == "post":
            return connect
        if len(ids) < KEEP or (every > 0 and counter % every == 0):
            return connect
        return status_body(ids[counter % len(ids)].decode())

    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        began = time.perf_counter()
        deadline = began + duration

        async def worker() -> None:
            nonlocal errors
            while True:
                start = time.perf_counter()
                if start >= deadline:
                    return
                try:
                    async with session.post(url, data=next_body(), headers=headers) as reply:
                        body = await reply.read()
                        if reply.status != 200:
                            errors += 1
                            continue
                except (aiohttp.ClientError, TimeoutError):
                    errors += 1
                    continue
                latencies.append(time.perf_counter() - start)
                if workload in ("status", "mix") and len(ids) < MAX_IDS:
                    found = REQUESTID.search(body)
                    if found:
                        ids.append(found.group(1))

        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.perf_counter() - began
    latencies.sort()
    return {
        "tool": "python",
        "requests": len(latencies),
        "seconds": elapsed,
        "p50_ms": percentile(latencies, 0.50) * 1e3,
        "p99_ms": percentile(latencies, 0.99) * 1e3,
        "max_ms": (latencies[-1] if latencies else 0.0) * 1e3,
        "errors": errors,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench loadgen", description=__doc__)
    parser.add_argument("url")
    parser.add_argument(
        "--workload",
        default="post",
        choices=("post", "status", "mix", "post-unique", "status-unique"),
    )
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--every", type=int, default=5)
    parser.add_argument("--ids", type=Path, help="REQUESTIDs to poll (status-unique), one a line")
    args = parser.parse_args(argv)
    polled = args.ids.read_text(encoding="ascii").split() if args.ids else []
    if not args.url.startswith(("http://127.", "http://localhost", "http://[::1]")):
        parser.error("loopback URLs only")
    emit(
        asyncio.run(
            _python_load(
                args.url,
                args.workload,
                min(args.duration, 600.0),
                args.connections,
                args.every,
                polled,
            )
        )
    )
