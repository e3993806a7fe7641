"""Markdown tables and PNG charts from the results of ``python -m bench run``.

Charts need matplotlib (``pip install -e '.[bench]'``); without it they are skipped with a
note in the document, never an error.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

NOTES = Path(__file__).resolve().parent / "profile_notes.md"


def _mb(value: float) -> str:
    return f"{value / 2**20:,.0f} MB"


def _ms(value: float) -> str:
    return f"{value:.2f}" if value < 10 else f"{value:.1f}"


def _pct(value: float) -> str:
    return f"{value * 100:.0f}%"


def table(headers: list[str], rows: list[list[str]]) -> str:
    """A GitHub-flavoured Markdown table."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


# ---- charts ---------------------------------------------------------------------------------
def charts(results: dict[str, Any], out: Path) -> tuple[list[str], str | None]:
    """Write the PNGs; returns their file names, or a note saying why there are none."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return [], (
            "matplotlib is not installed, so no charts were drawn (`pip install -e '.[bench]'`)."
        )
    written: list[str] = []
    http = results.get("http")
    if http and http.get("rows"):
        rows = http["rows"]
        labels = [
            r["label"].replace(" (", "\n(").replace("mock-anveo ", "mock-anveo\n") for r in rows
        ]
        colours = ["#888888" if r["kind"] == "floor" else "#2b6cb0" for r in rows]
        fig, (left, right) = plt.subplots(1, 2, figsize=(13, 4.8))
        left.bar(range(len(rows)), [r["rps"] for r in rows], color=colours)
        left.set_title(f"Throughput, {http['connections']} keep-alive connections")
        left.set_ylabel("requests/s")
        right.bar(range(len(rows)), [r["p99_ms"] for r in rows], color=colours)
        right.set_title("p99 latency")
        right.set_ylabel("ms (log scale)")
        right.set_yscale("log")
        for axis in (left, right):
            axis.set_xticks(range(len(rows)))
            axis.set_xticklabels(labels, fontsize=7)
            axis.grid(axis="y", alpha=0.3)
        fig.tight_layout()
        fig.savefig(out / "bench_http.png", dpi=110)
        plt.close(fig)
        written.append("bench_http.png")
    engine = results.get("engine")
    if engine:
        ns = [r["n"] for r in engine]
        fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
        left.plot(ns, [r["us_per_event"] for r in engine], "o-", label="per event (advance)")
        left.plot(
            ns, [r["us_per_call_scheduled"] for r in engine], "s-", label="per call (DIAL.CONNECT)"
        )
        base = engine[0]
        left.plot(
            ns,
            [base["us_per_event"] * math.log2(n) / math.log2(base["n"]) for n in ns],
            ":",
            color="grey",
            label="O(log n) from the smallest n",
        )
        left.set_xscale("log")
        left.set_xlabel("n calls")
        left.set_ylabel("µs")
        left.set_title("Engine cost per event vs n")
        left.legend(fontsize=8)
        left.grid(alpha=0.3)
        right.plot(ns, [r["total_s"] for r in engine], "o-", label="seconds (total)")
        right.set_xscale("log")
        right.set_yscale("log")
        right.set_xlabel("n calls")
        right.set_ylabel("seconds")
        twin = right.twinx()
        twin.plot(
            ns,
            [r["peak_rss"] / 2**20 for r in engine],
            "s--",
            color="#c05621",
            label="peak RSS (MB)",
        )
        twin.set_ylabel("peak RSS, MB")
        right.set_title("Engine: total time and peak memory")
        right.grid(alpha=0.3)
        fig.tight_layout()
        fig.savefig(out / "bench_engine.png", dpi=110)
        plt.close(fig)
        written.append("bench_engine.png")
    memory = results.get("memory")
    if memory:
        fig, axis = plt.subplots(figsize=(8, 4.2))
        for row in memory:
            points = row["samples"]
            axis.plot([t for t, _ in points], [r / 2**20 for _, r in points], label=row["label"])
        axis.set_xlabel("seconds of sustained load")
        axis.set_ylabel("server RSS, MB")
        axis.set_title("Server memory under sustained load")
        axis.legend(fontsize=8)
        axis.grid(alpha=0.3)
        fig.tight_layout()
        fig.savefig(out / "bench_memory.png", dpi=110)
        plt.close(fig)
        written.append("bench_memory.png")
    return written, None


# ---- sections -------------------------------------------------------------------------------
def _baseline_row(
    baseline: dict[str, Any] | None, section: str, key: str, value: Any
) -> dict[str, Any] | None:
    if not baseline:
        return None
    for row in (
        baseline.get(section, {}).get("rows", [])
        if section == "http"
        else baseline.get(section) or []
    ):
        if row.get(key) == value:
            return dict(row)
    return None


def http_section(http: dict[str, Any], baseline: dict[str, Any] | None) -> str:
    headers = [
        "server / workload",
        "requests/s",
        "vs floor",
        "p50 ms",
        "p99 ms",
        "p99 vs floor",
        "server CPU µs/req",
        "floor CPU ÷ this CPU",
        "errors",
        "target",
        "verdict",
    ]
    if baseline:
        headers[2:2] = ["before rps", "before p99 ms"]
    rows = []
    for r in http["rows"]:
        target = ""
        if r["target"] is not None:
            target = f">= {_pct(r['target'])} rps" + (
                ", p99 <= 3x" if r["workload"] in ("post", "post-unique") else ""
            )
        row = [
            r["label"],
            f"{r['rps']:,.0f}",
            _pct(r["rps_ratio"]),
            _ms(r["p50_ms"]),
            _ms(r["p99_ms"]),
            f"{r['p99_ratio']:.1f}x",
            f"{r['cpu_us_per_request']:.0f}",
            _pct(r["cpu_ratio"]),
            str(r["errors"]),
            target,
            r["verdict"],
        ]
        if baseline:
            before = _baseline_row(baseline, "http", "label", r["label"])
            row[2:2] = [f"{before['rps']:,.0f}", _ms(before["p99_ms"])] if before else ["", ""]
        rows.append(row)
    pin = (
        "server pinned to core 0, load generator to core 1 (`taskset`)"
        if http["pinned"]
        else "NOT pinned (no taskset or fewer than 2 cores)"
    )
    client_bound = (
        ""
        if http["tool"] == "wrk"
        else (
            " **wrk was not used: the Python generator saturates its own core near the floor's "
            "rate, so requests/s ratios are meaningless here and no verdict is given; the CPU "
            "columns still compare the servers.**"
        )
    )
    return "\n".join(
        [
            f"Load generator: **{http['tool']}**, {http['connections']} keep-alive connections, "
            f"{http['duration']:g} s per run, loopback only; {pin}. The floor was measured first "
            f"and last; ratios use their mean ({http['floor_rps']:,.0f} requests/s, p99 "
            f"{_ms(http['floor_p99_ms'])} ms); the two differ by {_pct(http['floor_drift'])}, a "
            "measure of the noise in this run. *Server CPU µs/req* is the server process's own "
            "CPU time divided by the requests it answered: it moves much less than requests/s "
            "when other work shares the machine; *floor CPU ÷ this CPU* estimates the throughput "
            "ratio both would reach with the core to themselves." + client_bound,
            "",
            "**What the targets' rows measure.** The first three send the same bodies again and "
            "again (the documented DIAL.CONNECT example; DIAL.GETSTATUS of up to 1,000 "
            "REQUESTIDs), as a polling loop does. mock-anveo remembers accepted requests by their"
            " exact bytes (`mock_anveo/wire/pipeline.py`, at most 4,096 bodies of up to 2 KiB, "
            "from the second time each comes; malformed or invalid ones are never kept), so a "
            "repeated body skips reading and validation. The *every body unique* rows differ in "
            "real fields, as a test suite's requests do: each DIAL.CONNECT dials its own "
            "PHONENUMBER with a MEMO stamped with its number, and DIAL.GETSTATUS polls 5,000 "
            "calls dialled beforehand (not timed), round robin, so nothing is remembered. A body "
            "in the usual layout is read by `wire/plain.py` (regular expressions for the envelope"
            " and one split for the PARAMETERs) and its values checked by the contract's rules, "
            "without lxml or the schemas; any other body, and every refusal, takes lxml and both "
            "schemas as before. Everything else (tenant lookup, SIGNATURE check, the simulation, "
            "a fresh REQUESTID, the journal) runs for every request.",
            "",
            table(headers, rows),
        ]
    )


def engine_section(engine: list[dict[str, Any]], baseline: dict[str, Any] | None) -> str:
    headers = [
        "n calls",
        "schedule s",
        "advance s",
        "total s",
        "events",
        "µs/call scheduled",
        "µs/event",
        "µs/event ÷ log2 n",
        "peak RSS",
        "RSS/call",
    ]
    if baseline:
        headers.insert(4, "before total s")
    rows = []
    for r in engine:
        totals = r.get("totals") or [r["total_s"]]
        spread = (
            f" ({min(totals):.2f}-{max(totals):.2f}, {len(totals)} runs)" if len(totals) > 1 else ""
        )
        row = [
            f"{r['n']:,}",
            f"{r['schedule_s']:.2f}",
            f"{r['advance_s']:.2f}",
            f"{r['total_s']:.2f}{spread}",
            f"{r['events']:,}",
            f"{r['us_per_call_scheduled']:.2f}",
            f"{r['us_per_event']:.2f}",
            f"{r['us_per_event_per_log2n']:.3f}",
            _mb(r["peak_rss"]),
            f"{(r['peak_rss'] - r['base_rss']) / r['n']:,.0f} B",
        ]
        if baseline:
            before = _baseline_row(baseline, "engine", "n", r["n"])
            row.insert(4, f"{before['total_s']:.2f}" if before else "")
        rows.append(row)
    return "\n".join(
        [
            "One `Tenant`, n `dial_connect` calls with DELAYs drawn uniformly from 0 to 86,400 "
            "minutes (60 days; seeded), then one `advance` past the last one. Each size runs in a "
            "fresh process pinned to one core; peak memory is that process's own high-water "
            "mark (`VmHWM`). The "
            "account is funded for every call, so each call takes the full path (dial, first leg "
            "answers, second leg answers, end and charge: 4 events). Server defaults: journal "
            "10,000 entries, 100,000 ended calls kept, and the standalone server's collector "
            "policy (`mock_anveo.http.gctune`: survivors of generation-1 collections are "
            "frozen). Each "
            "size runs several times in full mode: the row is the median run, with the range of "
            "totals beside it.",
            "",
            table(headers, rows),
            "",
            "If scheduling and firing cost O(log n) per event, *µs/event ÷ log2 n* stays flat "
            "(or falls, as fixed per-event costs dominate).",
        ]
    )


def fixture_section(fixture: dict[str, Any]) -> str:
    tenant = fixture["tenant"]
    start = fixture["start"]
    parts = [
        f"Per-test overhead, {tenant['iterations']:,} create + delete pairs over one keep-alive "
        "connection (`http.client`, client pinned to the other core):",
        "",
        table(
            ["measure", "ms"],
            [
                ["create + delete, mean", f"{tenant['pair_mean_ms']:.3f}"],
                ["create + delete, p50", f"{tenant['pair_p50_ms']:.3f}"],
                ["create + delete, p99", f"{tenant['pair_p99_ms']:.3f}"],
                ["POST /_mock/tenants, mean", f"{tenant['create_mean_ms']:.3f}"],
                ["DELETE /_mock/tenants/{userkey}, mean", f"{tenant['delete_mean_ms']:.3f}"],
            ],
        ),
        "",
        f"Session start, median of {start['runs']} fresh processes, with a warm bytecode cache "
        "(as on any ordinary install):",
        "",
        table(
            ["measure", "ms"],
            [
                ["bare interpreter (`python -c pass`)", f"{start['python_bare_s'] * 1e3:.0f}"],
                ["import mock_anveo.http.server + world", f"{start['import_s'] * 1e3:.0f}"],
                ["start (AppRunner + TCPSite on port 0)", f"{start['start_s'] * 1e3:.1f}"],
                ["first GET /_mock/health", f"{start['health_s'] * 1e3:.1f}"],
                [
                    "**in-process total: import + start + first health**",
                    f"**{start['in_process_total_s'] * 1e3:.0f}**",
                ],
                ["whole process incl. interpreter start", f"{start['process_total_s'] * 1e3:.0f}"],
                [
                    "CLI `mock-anveo serve`: spawn to first health (environment as is)",
                    f"{start['cli_spawn_to_health_s'] * 1e3:.0f}",
                ],
                [
                    "in-process total with the environment as is"
                    + (
                        " (PYTHONDONTWRITEBYTECODE set: no .pyc, mock_anveo recompiled every start)"
                        if start.get("dont_write_bytecode")
                        else ""
                    ),
                    f"{start.get('in_process_total_as_is_s', 0.0) * 1e3:.0f}",
                ],
            ],
        ),
        "",
        "Slowest packages to import (cumulative, `python -X importtime`):",
        "",
        table(
            ["package", "ms"],
            [[name, f"{seconds * 1e3:.0f}"] for name, seconds in start["import_breakdown"]],
        ),
    ]
    if "plugin" in fixture:
        parts += ["", plugin_part(fixture["plugin"])]
    return "\n".join(parts)


def plugin_part(plugin: dict[str, Any]) -> str:
    """The pytest plugin's cost to a session bound to a running server (``--anveo-url``)."""
    server = ", ".join(plugin["server_modules"]) or "none"
    return "\n".join(
        [
            f"The pytest plugin with `--anveo-url`, {plugin['runs']} interleaved pair(s) of "
            "fresh sessions (plugin autoloading off in both, so other plugins cost neither "
            "side): one test using the `anveo` fixture with the plugin, against one empty test "
            "without it. Session times are medians; the overhead is the median of the per-pair "
            "differences and includes the tenant's create and delete. Imports are timed after "
            "`import pytest`, with a warm bytecode cache:",
            "",
            table(
                ["measure", "ms"],
                [
                    ["session without the plugin", f"{plugin['session_off_s'] * 1e3:.0f}"],
                    [
                        "session with the plugin and the fixture",
                        f"{plugin['session_on_s'] * 1e3:.0f}",
                    ],
                    ["**plugin overhead (wall)**", f"**{plugin['overhead_s'] * 1e3:.0f}**"],
                    [
                        "plugin overhead (CPU of the session)",
                        f"{plugin['overhead_cpu_s'] * 1e3:.0f}",
                    ],
                    [
                        "plugin overhead with the environment as is (no .pyc when "
                        "PYTHONDONTWRITEBYTECODE is set)",
                        "not measured (smoke)"
                        if plugin["overhead_as_is_s"] is None
                        else f"{plugin['overhead_as_is_s'] * 1e3:.0f}",
                    ],
                    ["import the plugin (after pytest)", f"{plugin['import_plugin_s'] * 1e3:.1f}"],
                    [
                        "import what the fixture uses (controller)",
                        f"{plugin['import_fixture_s'] * 1e3:.1f}",
                    ],
                ],
            ),
            "",
            f"Server or simulation modules the session loaded: {server}.",
        ]
    )


def memory_section(memory: list[dict[str, Any]]) -> str:
    rows = [
        [
            r["label"],
            f"{r['duration']:g}",
            f"{r['requests']:,}",
            _mb(r["idle_rss"]),
            _mb(r["mid_rss"]),
            _mb(r["end_rss"]),
            _mb(r["peak_rss"]),
            f"{r['second_half_slope_mb_per_min']:+.1f}",
            f"{r['bytes_per_request']:,.0f}",
        ]
        for r in memory
    ]
    return "\n".join(
        [
            "RSS of the server process sampled every 0.25 s while the load runs. *Mid* is the "
            "first sample of the second half. Memory counts as flat when it grows less than 5% "
            "over the second half, after the bounded stores (journal 10,000 entries; ended calls "
            "20,000 with the fast clock) have filled; the slope is the least-squares fit over "
            "that half. The manual-clock scenario keeps every call by design: its bytes/request "
            "is the price of one pending call.",
            "",
            table(
                [
                    "scenario",
                    "s",
                    "requests",
                    "idle",
                    "mid",
                    "end",
                    "peak",
                    "2nd-half slope MB/min",
                    "bytes/request (end - idle)",
                ],
                rows,
            ),
        ]
    )


def stages_section(stages: list[dict[str, Any]], floor_rps: float | None) -> str:
    rows = [
        [r["action"], r["stage"], f"{r['us']:.1f}" if r["us"] is not None else "n/a"]
        for r in stages
    ]
    text = [
        "In-process, no HTTP: each stage of `service.handle` timed alone (best of 3). "
        "Sub-stages are nested in the line below them. The whole pipeline is timed "
        "three times: with a body the memo of accepted requests already holds (what a "
        "repeated request costs), with a new body every time (the fast reader and the "
        "contract's rules), and with a new body through the full path (lxml and both "
        "schemas, what a body in another layout costs)."
    ]
    if floor_rps:
        text.append(
            f"For scale: the floor's whole HTTP request costs "
            f"{1e6 / floor_rps:.0f} µs of wall time per request at its throughput."
        )
    return "\n".join([*text, "", table(["action", "stage", "µs"], rows)])


def profile_section(profile: dict[str, Any] | None) -> str:
    parts: list[str] = []
    if not profile:
        parts.append("_No profile in this run (smoke mode, `--no-profile`, or py-spy missing)._")
    else:
        if profile.get("note"):
            parts += [f"_{profile['note']}_", ""]
        for name, error in (profile.get("errors") or {}).items():
            parts += [f"_Part `{name}` failed in this run: `{error.splitlines()[0][:300]}`_", ""]
        for action, folded in profile["profiles"].items():
            if "error" in folded:
                parts += [f"### {action}", "", f"py-spy failed: `{folded['error']}`", ""]
                continue
            load = folded["load"]
            parts += [
                f"### Where the time goes: {action}",
                "",
                f"py-spy `record --native` at 200 Hz, {folded['samples']:,} samples, while "
                f"{load['tool']} drove {load['rps']:,.0f} requests/s (profiling slows it).",
                "",
                table(
                    ["bucket", "share of samples"],
                    [[name, _pct(share)] for name, share in folded["buckets"]],
                ),
                "",
                table(
                    ["hottest mock-anveo line (innermost own frame)", "share"],
                    [[f"`{name}`", _pct(share)] for name, share in folded["top_lines"][:8]],
                ),
                "",
            ]
        floor_rows = profile.get("floor_variants") or []
        if floor_rows:
            plain = floor_rows[0]
            parts += [
                "### The price of each piece of a door, measured on the floor",
                "",
                f"Best of {plain.get('repeats', 1)} interleaved runs each; CPU µs/request is "
                "the server's own CPU time per request (the steadier measure).",
                "",
                table(
                    [
                        "floor variant",
                        "requests/s",
                        "vs plain",
                        "p99 ms",
                        "CPU µs/req",
                        "CPU vs plain",
                    ],
                    [
                        [
                            r["variant"],
                            f"{r['rps']:,.0f}",
                            _pct(r["rps"] / (plain["rps"] or 1)),
                            _ms(r["p99_ms"]),
                            f"{r['cpu_us_per_request']:.1f}",
                            f"{r['cpu_us_per_request'] - plain['cpu_us_per_request']:+.1f} µs",
                        ]
                        for r in floor_rows
                    ],
                ),
                "",
            ]
        variant_rows = profile.get("variants") or []
        if variant_rows:
            shipped = {r["action"]: r for r in variant_rows if r["variant"] == "as shipped"}

            def cpu_delta(row: dict[str, Any]) -> str:
                base = shipped.get(row["action"], row)["cpu_us_per_request"]
                return f"{row['cpu_us_per_request'] - base:+.0f} µs"

            parts += [
                "### What-if prototypes (bench.whatif, monkeypatched, same run)",
                "",
                table(
                    [
                        "variant",
                        "action",
                        "requests/s",
                        "vs as shipped",
                        "p50 ms",
                        "p99 ms",
                        "CPU µs/req",
                        "CPU vs as shipped",
                    ],
                    [
                        [
                            r["variant"],
                            r["action"],
                            f"{r['rps']:,.0f}",
                            _pct(r["rps"] / (shipped.get(r["action"], r)["rps"] or 1.0)),
                            _ms(r["p50_ms"]),
                            _ms(r["p99_ms"]),
                            f"{r['cpu_us_per_request']:.0f}",
                            cpu_delta(r),
                        ]
                        for r in variant_rows
                    ],
                ),
                "",
            ]
        engine_rows = profile.get("engine_variants") or []
        if engine_rows:
            base = engine_rows[0]
            parts += [
                f"### Engine what-ifs at n = {base['n']:,}",
                "",
                table(
                    ["variant", "schedule s", "advance s", "total s", "vs as shipped", "peak RSS"],
                    [
                        [
                            r["variant"],
                            f"{r['schedule_s']:.2f}",
                            f"{r['advance_s']:.2f}",
                            f"{r['total_s']:.2f}",
                            _pct(r["total_s"] / (base["total_s"] or 1)),
                            _mb(r["peak_rss"]),
                        ]
                        for r in engine_rows
                    ],
                ),
                "",
            ]
    if NOTES.exists():
        parts += ["", NOTES.read_text(encoding="utf-8").strip()]
    return "\n".join(parts)


def summary_section(results: dict[str, Any]) -> str:
    rows: list[list[str]] = []
    http = results.get("http")
    if http:
        for r in http["rows"]:
            if r["target"] is not None:
                post = r["workload"] in ("post", "post-unique")
                extra = f", p99 {r['p99_ratio']:.1f}x floor" if post else ""
                rows.append(
                    [
                        f"{r['label']}: >= {_pct(r['target'])} of floor rps"
                        + (", p99 <= 3x floor" if post else ""),
                        f"{_pct(r['rps_ratio'])}{extra}",
                        r["verdict"],
                    ]
                )
    fixture = results.get("fixture")
    if fixture:
        pair = fixture["tenant"]["pair_mean_ms"]
        rows.append(
            [
                "fixture per-test overhead < 1 ms",
                f"{pair:.2f} ms mean",
                "meets" if pair < 1.0 else "misses",
            ]
        )
        start = fixture["start"]["in_process_total_s"] * 1e3
        rows.append(
            [
                "session server start < 200 ms (import + start + first health)",
                f"{start:.0f} ms",
                "meets" if start < 200 else "misses",
            ]
        )
        plugin = fixture.get("plugin")
        if plugin:
            overhead = plugin["overhead_s"] * 1e3
            clean = not plugin["server_modules"]
            rows.append(
                [
                    "pytest plugin overhead with --anveo-url < 50 ms, loading no server",
                    f"{overhead:.0f} ms wall ({plugin['overhead_cpu_s'] * 1e3:.0f} ms CPU)"
                    + ("" if clean else f"; loaded {len(plugin['server_modules'])} server modules"),
                    ("meets" if overhead < 50 and clean else "misses")
                    if plugin["runs"] >= 3
                    else "(one pair in this run)",
                ]
            )
    engine = results.get("engine")
    if engine:
        big = engine[-1]
        ok_time = big["total_s"] < 15
        ok_mem = big["peak_rss"] < 1.5 * 2**30
        totals = big.get("totals") or [big["total_s"]]
        spread = (
            f" (median of {len(totals)}: {min(totals):.1f}-{max(totals):.1f} s)"
            if len(totals) > 1
            else ""
        )
        rows.append(
            [
                f"engine: {big['n']:,} calls in < 15 s",
                f"{big['total_s']:.1f} s{spread}",
                ("meets" if ok_time else "misses")
                if big["n"] >= 1_000_000
                else "(smaller n in this run)",
            ]
        )
        rows.append(
            [
                f"engine: {big['n']:,} calls peak < 1.5 GB",
                _mb(big["peak_rss"]),
                ("meets" if ok_mem else "misses")
                if big["n"] >= 1_000_000
                else "(smaller n in this run)",
            ]
        )
        if len(engine) > 1:
            first, last = engine[0], engine[-1]
            growth = last["us_per_event"] / first["us_per_event"]
            log_growth = math.log2(last["n"]) / math.log2(first["n"])
            rows.append(
                [
                    f"engine: per-event cost ~O(log n) ({first['n']:,} -> {last['n']:,})",
                    f"x{growth:.2f} (log n grows x{log_growth:.2f})",
                    "meets" if growth <= log_growth * 1.25 else "misses",
                ]
            )
    memory = results.get("memory")
    if memory:
        for r in memory:
            if "manual clock" in r["label"]:
                continue
            growth = r["second_half_growth"] / max(1, r["mid_rss"])
            flat = abs(growth) < 0.05  # within 5% over the second half
            rows.append(
                [
                    f"memory flat once full: {r['label']}",
                    f"{growth * 100:+.1f}% over the 2nd half "
                    f"({r['second_half_slope_mb_per_min']:+.1f} MB/min)",
                    "meets" if flat else "misses",
                ]
            )
    from .notify_bench import summary_rows

    rows += summary_rows(results.get("notify"))
    return table(["target", "measured", "verdict"], rows)
