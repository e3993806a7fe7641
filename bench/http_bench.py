"""HTTP load: the floor and mock-anveo in the same run, server on one core, load on the other.

Order: floor, mock-anveo DIAL.CONNECT, DIAL.GETSTATUS, the dial-then-poll mix, DIAL.CONNECT
and DIAL.GETSTATUS with every body different, floor again.
The floor is measured at both ends so drift from other work on the machine shows; ratios use
the mean of the two. Each mock-anveo workload gets a fresh server (manual clock), so one
workload's stored calls never slow the next. Besides requests/s and latency, the server's own
CPU time per request is reported: it is far less sensitive to noisy neighbours than requests/s.

Run: ``python -m bench http [--duration 10]``.
"""

from __future__ import annotations

import argparse
from typing import Any

from .common import can_pin, cpu_seconds, rss_bytes, run_server
from .loadgen import UNIQUE_IDS, have_wrk, predial, run_load

#: (label, server kind, workload, target ratio of the floor's requests/s or None)
RUNS: list[tuple[str, str, str, float | None]] = [
    ("floor (bare aiohttp, fixed bytes)", "floor", "post", None),
    ("mock-anveo DIAL.CONNECT", "mock-anveo", "post", 0.60),
    ("mock-anveo DIAL.GETSTATUS", "mock-anveo", "status", 0.70),
    ("mock-anveo mix (1 CONNECT : 4 GETSTATUS)", "mock-anveo", "mix", None),
    # Every body different in a real field (PHONENUMBER and MEMO; REQUESTID), as in a suite.
    ("mock-anveo DIAL.CONNECT, every body unique", "mock-anveo", "post-unique", 0.50),
    ("mock-anveo DIAL.GETSTATUS, every body unique", "mock-anveo", "status-unique", 0.60),
    ("floor again (drift check)", "floor", "post", None),
]
P99_FACTOR = 3.0  # DIAL.CONNECT's p99 (both rows) may be at most this many times the floor's


def run(
    duration: float, *, connections: int = 32, tool: str = "auto", unique_ids: int = UNIQUE_IDS
) -> dict[str, Any]:
    """Every run in RUNS; returns rows plus the floor summary used for ratios.

    ``unique_ids`` calls are dialled (untimed) before the ``status-unique`` run polls them."""
    rows: list[dict[str, Any]] = []
    for label, kind, workload, target in RUNS:
        with run_server(kind) as server:
            url = server.url + "/api/v3.asp"
            ids = predial(url, unique_ids) if workload == "status-unique" else None  # not timed
            cpu_before = cpu_seconds(server.pid)
            load = run_load(url, workload, duration, connections=connections, tool=tool, ids=ids)
            cpu = cpu_seconds(server.pid) - cpu_before
            rss = rss_bytes(server.pid)
        load.update(
            label=label,
            kind=kind,
            target=target,
            server_rss=rss,
            server_cpu_s=cpu,
            started_in=server.started_in,
            cpu_us_per_request=cpu / load["requests"] * 1e6 if load["requests"] else 0.0,
        )
        rows.append(load)
    floors = [r for r in rows if r["kind"] == "floor"]
    floor_rps = sum(r["rps"] for r in floors) / len(floors)
    floor_p99 = sum(r["p99_ms"] for r in floors) / len(floors)
    floor_cpu = sum(r["cpu_us_per_request"] for r in floors) / len(floors)
    for row in rows:
        row["rps_ratio"] = row["rps"] / floor_rps if floor_rps else 0.0
        row["p99_ratio"] = row["p99_ms"] / floor_p99 if floor_p99 else 0.0
        cpu_us = row["cpu_us_per_request"]
        row["cpu_ratio"] = floor_cpu / cpu_us if cpu_us else 0.0
        target = row["target"]
        if target is None:
            row["verdict"] = ""
        elif row["tool"] != "wrk":
            # One Python client process saturates near the floor's own rate, so every server
            # looks alike: the ratios say nothing and no verdict is given.
            row["verdict"] = "not judged (client-bound)"
        else:
            ok = row["rps_ratio"] >= target
            if row["workload"] in ("post", "post-unique"):
                ok = ok and row["p99_ratio"] <= P99_FACTOR
            row["verdict"] = "meets" if ok else "misses"
    drift = abs(floors[0]["rps"] - floors[-1]["rps"]) / floor_rps if len(floors) > 1 else 0.0
    return {
        "rows": rows,
        "floor_rps": floor_rps,
        "floor_p99_ms": floor_p99,
        "floor_cpu_us": floor_cpu,
        "floor_drift": drift,
        "duration": duration,
        "connections": connections,
        "pinned": can_pin(),
        "tool": rows[0]["tool"] if rows else ("wrk" if have_wrk() else "python"),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench http", description=__doc__)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--tool", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument("--unique-ids", type=int, default=UNIQUE_IDS)
    args = parser.parse_args(argv)
    result = run(args.duration, tool=args.tool, unique_ids=args.unique_ids)
    for row in result["rows"]:
        print(
            f"{row['label']:42} {row['rps']:8.0f} rps ({row['rps_ratio']:4.0%})  "
            f"p50 {row['p50_ms']:6.2f} ms  p99 {row['p99_ms']:7.2f} ms "
            f"({row['p99_ratio']:.1f}x)  cpu {row['cpu_us_per_request']:6.1f} us/req "
            f"{row['verdict']}"
        )
