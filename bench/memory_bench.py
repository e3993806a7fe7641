"""Server memory under sustained load: RSS sampled over a bounded run.

Scenarios (each on a fresh, pinned server):
- ``GETSTATUS, journal full``: polling fills the 10,000-entry journal within a second or two;
  after that nothing new is kept, so RSS must stay flat.
- ``DIAL.CONNECT, calls retired``: a fast clock (``--clock real --speed 100000``: the example's
  24-hour DELAY passes in under a second) so calls end and are retired once
  ``--ended-limit`` is reached; journal and ended-call store both full, RSS must stay flat.
- ``DIAL.CONNECT, manual clock``: calls never come due, so every one is kept by design;
  this prices a pending call in bytes.

Flatness is judged on the second half of the run (after the bounded stores filled up).

Run: ``python -m bench memory [--duration 30]``.
"""

from __future__ import annotations

import argparse
import threading
import time
from typing import Any

from .common import counted, per, rss_bytes, run_server
from .loadgen import run_load

ENDED_LIMIT = 20_000  # small enough to fill within a bounded run
SCENARIOS: list[tuple[str, str, list[str], bool]] = [
    ("GETSTATUS, journal full", "status", [], True),
    (
        "DIAL.CONNECT, calls retired (fast clock)",
        "post",
        ["--clock", "real", "--speed", "100000", "--ended-limit", str(ENDED_LIMIT)],
        True,
    ),
    ("DIAL.CONNECT, manual clock (pending calls kept)", "post", [], False),
]


def _slope(points: list[tuple[float, int]]) -> float:
    """Least-squares slope in bytes per second."""
    if len(points) < 2:
        return 0.0
    n = len(points)
    mean_t = sum(t for t, _ in points) / n
    mean_r = sum(r for _, r in points) / n
    var = sum((t - mean_t) ** 2 for t, _ in points)
    if not var:
        return 0.0
    return sum((t - mean_t) * (r - mean_r) for t, r in points) / var


def sample(
    label: str, workload: str, extra: list[str], duration: float, tool: str, period: float = 0.25
) -> dict[str, Any]:
    """Load one server for ``duration`` seconds while sampling its RSS every ``period``."""
    with run_server("mock-anveo", extra) as server:
        idle = rss_bytes(server.pid)
        result: dict[str, Any] = {}

        def drive() -> None:
            result.update(run_load(server.url + "/api/v3.asp", workload, duration, tool=tool))

        thread = threading.Thread(target=drive, daemon=True)
        began = time.monotonic()
        thread.start()
        points: list[tuple[float, int]] = []
        while thread.is_alive() and time.monotonic() - began < duration + 60:
            points.append((time.monotonic() - began, rss_bytes(server.pid)))
            thread.join(period)
        thread.join(5)
    half = [p for p in points if p[0] >= duration / 2]
    first_half_end = half[0][1] if half else idle
    end = points[-1][1] if points else idle
    requests = counted(result, "requests")
    return {
        "label": label,
        "workload": workload,
        "duration": duration,
        "requests": requests,
        "rps": float(result.get("rps", 0.0)),
        "idle_rss": idle,
        "peak_rss": max((r for _, r in points), default=idle),
        "mid_rss": first_half_end,
        "end_rss": end,
        "second_half_growth": end - first_half_end,
        "second_half_slope_mb_per_min": _slope(half) * 60 / 2**20,
        "bytes_per_request": per(end - idle, requests),
        "samples": [(round(t, 2), r) for t, r in points],
    }


def run(
    duration: float,
    tool: str = "auto",
    *,
    manual_duration: float | None = None,
) -> list[dict[str, Any]]:
    """Every scenario; the manual-clock one for ``manual_duration`` (default a third)."""
    rows = []
    for label, workload, extra, sustained in SCENARIOS:
        seconds = duration if sustained else (manual_duration or max(1.0, duration / 3))
        rows.append(sample(label, workload, extra, seconds, tool))
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench memory", description=__doc__)
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--tool", choices=("auto", "wrk", "python"), default="auto")
    args = parser.parse_args(argv)
    for row in run(args.duration, args.tool):
        print(
            f"{row['label']:50} {row['requests']:8d} req  idle {row['idle_rss'] >> 20} MB  "
            f"mid {row['mid_rss'] >> 20} MB  end {row['end_rss'] >> 20} MB  "
            f"2nd half {row['second_half_slope_mb_per_min']:+.2f} MB/min  "
            f"{row['bytes_per_request']:.0f} B/req"
        )
