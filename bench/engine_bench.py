"""The engine alone: n DIAL.CONNECT calls with DELAYs over 60 days, then advance to the end.

Each n runs in a fresh interpreter (``--child N``) so its peak RSS (the kernel's high-water
mark, ``VmHWM``, else ``getrusage`` max RSS; tracemalloc would be far too slow at a million
calls) is its own. No HTTP, no XML: this is
``Tenant.dial_connect`` and ``Tenant.advance`` exactly as the server drives them, with the
server's default journal and retention limits.

Run: ``python -m bench engine 10000 100000``; one size in this process: ``--child 100000``.
"""

from __future__ import annotations

import argparse
import gc
import math
import random
import resource
import time
from typing import Any

from .common import PYTHON, emit, pinned, run_json

SIXTY_DAYS_MINUTES = 60 * 24 * 60  # DELAY's documented maximum, 86400 minutes
SERVER_CORE = 0


def peak_rss() -> int:
    """This process's peak RSS in bytes.

    ``VmHWM`` belongs to the address space, which ``exec`` replaces, whereas Linux carries
    ``ru_maxrss`` across ``exec``: a small child would report its parent's high-water mark.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def child(n: int, seed: int = 1, whatif: str = "") -> dict[str, Any]:
    """Build, schedule, advance; runs in a fresh process (``whatif``: patches to apply)."""
    from decimal import Decimal

    if whatif:
        from . import whatif as patches

        patches.apply(whatif)

    from mock_anveo.http import gctune
    from mock_anveo.sim.accounts import default_account
    from mock_anveo.sim.clock import Clock
    from mock_anveo.sim.tenant import Tenant

    gctune.install()  # the collector policy `mock-anveo serve` runs the engine under
    base_rss = peak_rss()
    account = default_account()
    account.balance = Decimal(1_000_000)  # never runs dry: every call takes the full path
    tenant = Tenant(account, seed=0, clock=Clock())
    rng = random.Random(seed)
    delays = [rng.randrange(SIXTY_DAYS_MINUTES + 1) for _ in range(n)]
    callerid = next(iter(account.verified_callerids))

    began = time.perf_counter()
    for delay in delays:
        tenant.dial_connect("1215215215", "1212121212", callerid=callerid, delay=delay)
    scheduled = time.perf_counter()
    events_before = tenant.scheduler.fired
    tenant.advance((SIXTY_DAYS_MINUTES + 24 * 60) * 60.0)  # past the last DELAY plus a day
    advanced = time.perf_counter()
    events = tenant.scheduler.fired - events_before
    pending = len(tenant.scheduler)
    peak = peak_rss()
    return {
        "n": n,
        "schedule_s": scheduled - began,
        "advance_s": advanced - scheduled,
        "total_s": advanced - began,
        "events": events,
        "pending_after": pending,
        "calls_kept": len(tenant.calls),
        "calls_dropped": tenant.calls_dropped,
        "peak_rss": peak,
        "base_rss": base_rss,
        "gc_collections": sum(s["collections"] for s in gc.get_stats()),
        "whatif": whatif,
    }


def run(
    sizes: list[int], timeout: float = 900.0, whatif: str = "", repeats: int = 1
) -> list[dict[str, Any]]:
    """Fresh pinned processes per size (``repeats`` of them: identical runs of a million calls
    differ by up to ~15% here); the median run by total time is reported, with every run's
    total in ``totals``. Derived per-event costs added."""
    results = []
    for n in sizes:
        cmd = pinned(
            [PYTHON, "-m", "bench", "engine", "--child", str(n), "--whatif", whatif], SERVER_CORE
        )
        runs = sorted(
            (run_json(cmd, timeout=timeout) for _ in range(max(1, repeats))),
            key=lambda r: float(r["total_s"]),
        )
        result = runs[len(runs) // 2]
        result["totals"] = [float(r["total_s"]) for r in runs]
        events = max(1, int(result["events"]))
        result["us_per_call_scheduled"] = float(result["schedule_s"]) / n * 1e6
        result["us_per_event"] = float(result["advance_s"]) / events * 1e6
        result["us_per_call_total"] = float(result["total_s"]) / n * 1e6
        result["us_per_event_per_log2n"] = result["us_per_event"] / math.log2(max(2, n))
        results.append(result)
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench engine", description=__doc__)
    parser.add_argument("--child", type=int, help="run one size in this process")
    parser.add_argument("--whatif", default="", help="bench.whatif patches to apply")
    parser.add_argument("--repeats", type=int, default=1, help="runs per size (median kept)")
    parser.add_argument("sizes", nargs="*", type=int, default=[10_000, 100_000])
    args = parser.parse_args(argv)
    if args.child:
        emit(child(args.child, whatif=args.whatif))
    else:
        for result in run(args.sizes, whatif=args.whatif, repeats=args.repeats):
            print(result)
