"""A bounded soak: mixed traffic against a mock-anveo server for a fixed time, then a report.

The server runs in a subprocess (``python -m mock_anveo serve`` on 127.0.0.1, port 0) with a
real clock at ``--speed`` virtual seconds per second (``--speed 0``: ``--clock manual``) and
small ``--journal-limit`` / ``--ended-limit`` so the retention bounds are reached. It is stopped
with SIGTERM when the time is up, and killed if it does not stop within 10 s. The load runs
here, in ``--concurrency`` asyncio workers, each with its own connection pool, mixing:

- DIAL.CONNECT / DIAL.CALLFLOW on all three doors, DIAL.GETSTATUS, DIAL.CANCEL,
  ACCOUNT.GETBALANCE on a handful of tenants;
- control-API reads (tenant view, calls, journal) and clock advances;
- a share (``--hostile``) of hostile requests: entity bombs, DTDs, invalid UTF-8, deep nesting,
  oversized bodies, wrong methods, broken queries.

Reported: requests served (by kind), refusals the mock is meant to give, *errors* (transport
failures, 5xx, a door answering non-200, a RESPONSE that fails response.xsd or reports an
internal error, exceptions the server recorded), latency percentiles, the server's CPU time per
request, and its RSS at start, peak and end (sampled ~20 times).
Exit status 1 when any error was seen.

    python -m bench soak --seconds 60
    python -m bench soak --seconds 600 --concurrency 32 --json bench/out/soak.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
from lxml import etree

from mock_anveo.wire.xsd import RESPONSE_SCHEMA

from .common import ROOT

HOST = "127.0.0.1"  # loopback only, by construction: there is no --host
CALLFLOW = "c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00"
CALLERID = "12157010680"
NUMBERS = [
    "12125551234",
    "12125551235",
    "12125550100",
    "12125550101",
    "12125550102",
    "12125550103",
    "12125550131",
    "12125550160",
    "12125550112",
    "12125550104",
]
DOORS = ("/api/v3.asp", "/apicall.asp", "/api/v2.asp")
ID = re.compile(r"[0-9a-f]{40}")


# ---- the server process -----------------------------------------------------------------------
def rss_kib(pid: int) -> int | None:
    """Resident set size of ``pid`` in KiB (Linux /proc), or None."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of ``pid`` in seconds (Linux /proc), or None."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_server(args: argparse.Namespace, workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    url_file = workdir / "url"
    cmd = [
        sys.executable,
        "-m",
        "mock_anveo",
        "serve",
        "--host",
        HOST,
        "--port",
        "0",
        "--url-file",
        str(url_file),
        *(
            ["--clock", "real", "--speed", str(args.speed)]
            if args.speed > 0
            else ["--clock", "manual"]
        ),
        "--seed",
        "1",
        "--journal-limit",
        str(args.journal_limit),
        "--ended-limit",
        str(args.ended_limit),
        "--read-timeout",
        "2",
        "--quiet",  # a line per request would fill server.log, not test the server
    ]
    if shutil.which("taskset") and len(os.sched_getaffinity(0)) >= 2:
        cmd = ["taskset", "-c", "0", *cmd]  # server on core 0, this load on the others
        os.sched_setaffinity(0, os.sched_getaffinity(0) - {0})
    log = (workdir / "server.log").open("wb")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited early:\n{(workdir / 'server.log').read_text()}")
        if url_file.exists() and url_file.read_text().strip():
            return proc, url_file.read_text().strip()
        time.sleep(0.05)
    proc.kill()
    raise SystemExit("server did not start within 20 s")


def stop_server(proc: subprocess.Popen[bytes]) -> str:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(10)
        return f"stopped by SIGTERM, exit {proc.returncode}"
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return "did not stop within 10 s of SIGTERM: killed"


# ---- requests ---------------------------------------------------------------------------------
def xml(
    key: str, action: str, params: list[tuple[str, str]], variables: list[tuple[str, str]] = ()
) -> bytes:
    inner = "".join(f'<PARAMETER NAME="{n}">{v}</PARAMETER>' for n, v in params)
    inner += "".join(
        f'<PARAMETER NAME="VARIABLE" VARIABLENAME="{n}">{v}</PARAMETER>' for n, v in variables
    )
    return (
        f'<?xml version="1.0" standalone="no" ?>\n<REQUEST><USERTOKEN><USERKEY>{key}'
        f'</USERKEY></USERTOKEN><ACTION NAME="{action}">{inner}</ACTION></REQUEST>'
    ).encode()


def query(
    key: str, action: str, params: list[tuple[str, str]], variables: list[tuple[str, str]] = ()
) -> str:
    parts = [f"userkey={quote(key)}", f"action={quote(action)}"]
    parts += [f"param[{n}]={quote(v, safe='')}" for n, v in params]
    parts += [f"var[{n}]={quote(v, safe='')}" for n, v in variables]
    return "&".join(parts)


def _laughs() -> bytes:
    levels = '<!ENTITY l0 "lol">' + "".join(
        f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10)
    )
    return f"<!DOCTYPE REQUEST [{levels}]>".encode()


def hostile(key: str, rng: random.Random) -> tuple[str, str, bytes]:
    """(method, path-and-query, body) of one hostile request."""
    good = xml(
        key, "DIAL.CONNECT", [("PHONENUMBER", "12125551234"), ("DESTPHONENUMBER", "12125551235")]
    )
    head = b'<?xml version="1.0"?>'
    choice = rng.randrange(9)
    if choice == 0:
        return "POST", "/api/v3.asp", head + _laughs() + good[good.index(b"<REQUEST") :]
    if choice == 1:
        return (
            "POST",
            "/apicall.asp",
            (
                head
                + b'<!DOCTYPE REQUEST SYSTEM "file:///etc/passwd">'
                + good[good.index(b"<REQUEST") :]
            ),
        )
    if choice == 2:
        return "POST", "/api/v3.asp", good.replace(b"12125551234", b"\xff\xfe\x00")
    if choice == 3:
        return "POST", "/api/v3.asp", good.replace(b"</ACTION>", b"<a>" * 5000 + b"</ACTION>")
    if choice == 4:
        return "POST", "/api/v3.asp", good + b" " * 70_000
    if choice == 5:
        return "PUT", "/api/v3.asp", good
    if choice == 6:
        return "GET", "/api/v2.asp?userkey=%ff&action=%00&param[=x&var[]]=", b""
    if choice == 7:
        return "POST", "/api/v3.asp", bytes(rng.randrange(256) for _ in range(rng.randrange(512)))
    return "POST", "/api/v3.asp", good.replace(b"<?xml", b"<?php x ?><?xml", 1)


# ---- the load ---------------------------------------------------------------------------------
class Stats:
    def __init__(self) -> None:
        self.kinds: Counter[str] = Counter()
        self.refusals: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self.examples: dict[str, str] = {}
        self.latency: dict[str, list[float]] = defaultdict(list)

    def error(self, kind: str, detail: str) -> None:
        self.errors[kind] += 1
        self.examples.setdefault(kind, detail[:300])


def envelope(body: bytes) -> tuple[str, str | None] | None:
    """(RESULT, ERROR) of a schema-valid RESPONSE, or None."""
    try:
        root = etree.fromstring(body)
    except etree.XMLSyntaxError:
        return None
    if not RESPONSE_SCHEMA.validate(root):
        return None
    return root.findtext("RESULT") or "", root.findtext("ERROR")


async def worker(
    index: int, url: str, keys: list[str], deadline: float, share: float, stats: Stats
) -> None:
    rng = random.Random(index)
    ids: dict[str, list[str]] = defaultdict(list)
    timeout = aiohttp.ClientTimeout(total=15)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        while time.monotonic() < deadline:
            key = rng.choice(keys)
            roll = rng.random()
            kind, method, path, body = "?", "GET", "/", b""
            if roll < share:
                kind = "hostile"
                method, path, body = hostile(key, rng)
            elif roll < share + 0.10:
                kind = "control"
                # Per-call reads, as a test suite polls; full listings are O(calls) (see
                # docs/reliability.md) so only the small INIT subset is listed.
                call = f"/_mock/tenants/{key}/calls/{rng.choice(ids[key] or ['0' * 40])}"
                path = rng.choice(
                    [
                        f"/_mock/tenants/{key}",
                        f"/_mock/tenants/{key}/clock",
                        call,
                        f"/_mock/tenants/{key}/calls?status=INIT",
                        f"/_mock/tenants/{key}/journal?limit=20",
                        "/_mock/health",
                    ]
                )
            elif roll < share + 0.13:
                kind, method = "advance", "POST"
                path = f"/_mock/tenants/{key}/clock/advance"
                body = json.dumps({"seconds": rng.choice([1, 10, 60, 300])}).encode()
            else:
                action, params, variables = api_request(rng, ids[key])
                kind = action
                door = rng.choice(DOORS)
                if door == "/api/v2.asp":
                    path = f"{door}?{query(key, action, params, variables)}"
                else:
                    method, path, body = "POST", door, xml(key, action, params, variables)
            started = time.perf_counter()
            try:
                async with session.request(method, url + path, data=body or None) as response:
                    data = await response.read()
                    status = response.status
            except (aiohttp.ClientError, TimeoutError) as exc:
                stats.error("transport", f"{kind} {method} {path[:80]}: {exc!r}")
                continue
            stats.latency[kind].append(time.perf_counter() - started)
            stats.kinds[kind] += 1
            if status >= 500:
                stats.error("5xx", f"{kind} {method} {path[:80]}: {status} {data[:200]!r}")
            elif kind in ("control", "advance"):
                if status != 200 and not (status == 404 and "/calls/" in path):
                    stats.error("control-non-200", f"{path}: {status} {data[:200]!r}")
            elif status != 200:
                stats.error("door-non-200", f"{kind} {method} {path[:80]}: {status}")
            elif (parsed := envelope(data)) is None:
                stats.error("bad-envelope", f"{kind} {path[:80]}: {data[:200]!r}")
            else:
                _, error = parsed
                if error is not None and error.startswith("internal error"):
                    stats.error("internal-envelope", f"{kind} {path[:60]}: {error}")
                elif error is not None:
                    shown = ID.sub("<id>", error)
                    stats.refusals[
                        shown.split(":")[0][:60] if kind == "hostile" else f"{kind}: {shown[:60]}"
                    ] += 1
                elif kind in ("DIAL.CONNECT", "DIAL.CALLFLOW") and "REQUESTID" in data.decode():
                    rid = data.decode().split('NAME="REQUESTID">')[1][:40]
                    ids[key].append(rid)
                    del ids[key][:-200]


def api_request(
    rng: random.Random, known: list[str]
) -> tuple[str, list[tuple[str, str]], list[tuple[str, str]]]:
    roll = rng.random()
    if roll < 0.30 or not known:
        params = [("PHONENUMBER", rng.choice(NUMBERS)), ("DESTPHONENUMBER", rng.choice(NUMBERS))]
        if rng.random() < 0.3:
            params.append(("DELAY", str(rng.randint(0, 3))))
        if rng.random() < 0.2:
            params.append(("MAXCALLDURATION", str(rng.randint(1, 5))))
        return "DIAL.CONNECT", params, []
    if roll < 0.38:
        return (
            "DIAL.CALLFLOW",
            [("PHONENUMBER", rng.choice(NUMBERS)), ("CALLERID", CALLERID), ("CALLFLOW", CALLFLOW)],
            [("ACCOUNTID", str(rng.randint(1, 9)))],
        )
    if roll < 0.75:
        return "DIAL.GETSTATUS", [("REQUESTID", rng.choice(known))], []
    if roll < 0.87:
        return "DIAL.CANCEL", [("REQUESTID", rng.choice(known))], []
    return "ACCOUNT.GETBALANCE", [], []


Sample = tuple[float, int, int, float]


def sample(pid: int, started: float, served: int) -> Sample:
    """(elapsed s, server RSS KiB, requests served so far, server CPU seconds so far)."""
    return (
        round(time.monotonic() - started, 1),
        rss_kib(pid) or 0,
        served,
        round(cpu_seconds(pid) or 0.0, 2),
    )


async def sample_rss(
    pid: int, deadline: float, samples: list[Sample], started: float, stats: Stats, every: float
) -> None:
    while time.monotonic() < deadline:
        await asyncio.sleep(min(every, max(0.1, deadline - time.monotonic())))
        samples.append(sample(pid, started, sum(stats.kinds.values())))


async def run(args: argparse.Namespace, url: str, pid: int) -> dict[str, Any]:
    keys = [f"soak{i}".ljust(40, "0") for i in range(args.tenants)]
    async with aiohttp.ClientSession() as session:
        for key in keys:
            async with session.post(
                url + "/_mock/tenants",
                json={"userkey": key, "balance": "1000000", "rate_per_minute": "0.01"},
            ) as r:
                assert r.status == 201, await r.text()
    stats = Stats()
    started = time.monotonic()
    deadline = started + args.seconds
    samples: list[Sample] = [sample(pid, started, 0)]
    every = max(1.0, min(30.0, args.seconds / 20))
    await asyncio.gather(
        sample_rss(pid, deadline, samples, started, stats, every),
        *(worker(i, url, keys, deadline, args.hostile, stats) for i in range(args.concurrency)),
    )
    elapsed = time.monotonic() - started
    samples.append(sample(pid, started, sum(stats.kinds.values())))
    async with aiohttp.ClientSession() as session:
        async with session.get(url + "/_mock/errors") as r:
            internal = await r.json()
        async with session.get(url + "/_mock/tenants") as r:
            tenants = [t for t in await r.json() if t["userkey"] in keys]
        async with session.get(url + "/_mock/health") as r:
            health = (await r.json())["status"]
    for entry in internal:
        stats.error("internal", entry.get("error", ""))
    served = sum(stats.kinds.values())
    all_latency = sorted(x for values in stats.latency.values() for x in values)
    return {
        "seconds": round(elapsed, 1),
        "concurrency": args.concurrency,
        "requests_served": served,
        "requests_per_second": round(served / elapsed, 1),
        "by_kind": dict(stats.kinds.most_common()),
        "refusals": dict(stats.refusals.most_common(12)),
        "errors": dict(stats.errors),
        "error_examples": stats.examples,
        "latency_ms": {
            "p50": _pct(all_latency, 50),
            "p99": _pct(all_latency, 99),
            "max": round(all_latency[-1] * 1000, 1) if all_latency else None,
            "p99_by_kind": {
                kind: _pct(sorted(values), 99) for kind, values in sorted(stats.latency.items())
            },
        },
        "rss_kib": {
            "start": samples[0][1],
            "peak": max(row[1] for row in samples),
            "end": samples[-1][1],
        },
        "server_cpu_ms_per_request": round(
            1000 * (samples[-1][3] - samples[0][3]) / max(1, served), 3
        ),
        "samples": {
            "fields": ["elapsed_s", "rss_kib", "requests_so_far", "server_cpu_s"],
            "rows": samples,
        },
        "retention": {
            "calls_kept": sum(t["calls"] for t in tenants),
            "calls_dropped": sum(t["calls_dropped"] for t in tenants),
            "journal_kept": sum(t["journal_entries"] for t in tenants),
            "journal_dropped": sum(t["journal_dropped"] for t in tenants),
        },
        "health_after": health,
    }


def _pct(values: list[float], pct: float) -> float | None:
    if not values:
        return None
    return round(values[min(len(values) - 1, int(len(values) * pct / 100))] * 1000, 2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench soak", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--seconds", type=float, default=30.0, help="how long to run (default 30)")
    parser.add_argument("--concurrency", type=int, default=16, help="workers (default 16)")
    parser.add_argument("--tenants", type=int, default=6, help="tenants (default 6)")
    parser.add_argument(
        "--hostile",
        type=float,
        default=0.10,
        help="share of hostile requests, 0 to 1 (default 0.10)",
    )
    parser.add_argument(
        "--speed",
        type=float,
        default=600.0,
        help="virtual seconds per real second (default 600); 0 runs the "
        "server with --clock manual, time moving only by the advances",
    )
    parser.add_argument(
        "--journal-limit", type=int, default=2000, help="server --journal-limit (default 2000)"
    )
    parser.add_argument(
        "--ended-limit", type=int, default=2000, help="server --ended-limit (default 2000)"
    )
    parser.add_argument("--json", type=Path, help="also write the report here")
    args = parser.parse_args(argv)
    if not 0 < args.seconds <= 24 * 3600 or not 0 <= args.hostile <= 1:
        parser.error("--seconds must be in (0, 86400] and --hostile in [0, 1]")
    with tempfile.TemporaryDirectory(prefix="mock-anveo-soak-") as tmp:
        proc, url = start_server(args, Path(tmp))
        try:
            report = asyncio.run(run(args, url, proc.pid))
        finally:
            stopped = stop_server(proc)
        report["server"] = stopped
        log = (Path(tmp) / "server.log").read_text(errors="replace")
        report["server_log_tracebacks"] = log.count("Traceback")
    text = json.dumps(report, indent=2)
    print(text)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(text + "\n")
    rss = report["rss_kib"]
    print(
        f"\nserved {report['requests_served']} requests in {report['seconds']} s "
        f"({report['requests_per_second']}/s), errors {sum(report['errors'].values())}, "
        f"RSS {rss['start'] / 1024:.1f} -> {rss['end'] / 1024:.1f} MiB "
        f"(peak {rss['peak'] / 1024:.1f})",
        file=sys.stderr,
    )
    return 1 if report["errors"] else 0
