"""Run every benchmark of mock-anveo and write docs/benchmarks.md plus PNG charts.

    .venv/bin/python -m bench run                  # full run (several minutes)
    .venv/bin/python -m bench run --smoke --out /tmp/bench   # seconds; what CI runs
    .venv/bin/python -m bench run --only http,stages --duration 5

Sections: ``http`` (floor vs mock-anveo, wrk or the Python generator), ``engine`` (n calls
over 60 days), ``fixture`` (per-test tenant, session start), ``memory`` (RSS under sustained
load), ``notify`` (n ended calls' notifications to a loopback receiver, advanced at
once), ``stages`` (in-process pipeline costs) and ``profile`` (py-spy + what-if prototypes;
full mode only unless ``--profile``). Raw results go to ``bench_results.json`` beside the
Markdown; pass an earlier one as ``--baseline`` to add before/after columns.

Everything is loopback-only and bounded in time. Benchmarks assert nothing about speed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import sys
import time
import traceback
from importlib import metadata
from pathlib import Path
from typing import Any

from . import report
from .common import ROOT, can_pin, cpu_count
from .loadgen import have_wrk

SECTIONS = ("http", "engine", "fixture", "memory", "notify", "stages", "profile")
NOTIFY_N, SMOKE_NOTIFY_N = 100_000, 100
FULL_SIZES = [10_000, 100_000, 1_000_000]
SMOKE_SIZES = [1_000, 10_000]


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def _cpu_model() -> str:
    try:
        info = Path("/proc/cpuinfo").read_text(encoding="ascii", errors="replace")
        for line in info.splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench run",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--smoke", action="store_true", help="tiny sizes and durations: a few seconds in all"
    )
    parser.add_argument(
        "--duration",
        type=float,
        default=None,
        help="seconds per HTTP load run (default 10; smoke 1)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=ROOT / "docs",
        help="directory for benchmarks.md, the PNGs and bench_results.json",
    )
    parser.add_argument(
        "--only",
        default=",".join(SECTIONS),
        help=f"comma-separated sections to run (of {', '.join(SECTIONS)})",
    )
    parser.add_argument(
        "--tool",
        choices=("auto", "wrk", "python"),
        default="auto",
        help="load generator (auto: wrk when installed)",
    )
    parser.add_argument(
        "--sizes", default=None, help="engine sizes, comma-separated (default 10000,100000,1000000)"
    )
    profile = parser.add_mutually_exclusive_group()
    profile.add_argument(
        "--profile",
        dest="profile",
        action="store_true",
        default=None,
        help="take the py-spy profile even in smoke mode",
    )
    profile.add_argument("--no-profile", dest="profile", action="store_false")
    parser.add_argument(
        "--baseline", type=Path, help="an earlier bench_results.json, for before/after columns"
    )
    parser.add_argument(
        "--from-results",
        type=Path,
        help="run nothing: re-render the report from this bench_results.json",
    )
    args = parser.parse_args(argv)
    if args.duration is None:
        args.duration = 1.0 if args.smoke else 10.0
    args.duration = min(max(args.duration, 0.5), 300.0)  # bounded whatever is asked
    unknown = set(args.only.split(",")) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections {sorted(unknown)}")
    if args.profile is None:
        args.profile = not args.smoke
    return args


def run_sections(args: argparse.Namespace) -> dict[str, Any]:
    """Run the chosen sections; a failing section is recorded, the rest still run."""
    wanted = set(args.only.split(","))
    if not args.profile:
        wanted.discard("profile")
    sizes = (
        [int(s) for s in args.sizes.split(",")]
        if args.sizes
        else SMOKE_SIZES
        if args.smoke
        else FULL_SIZES
    )
    results: dict[str, Any] = {"errors": {}, "timings": {}}
    plan: list[tuple[str, Any]] = []
    if "stages" in wanted:
        from . import stages_bench

        plan.append(("stages", lambda: stages_bench.measure(0.03 if args.smoke else 0.4)))
    if "http" in wanted:
        from . import http_bench

        plan.append(("http", lambda: http_bench.run(args.duration, tool=args.tool)))
    if "engine" in wanted:
        from . import engine_bench

        plan.append(("engine", lambda: engine_bench.run(sizes, repeats=1 if args.smoke else 3)))
    if "fixture" in wanted:
        from . import fixture_bench

        plan.append(
            (
                "fixture",
                lambda: fixture_bench.run(200 if args.smoke else 3000, 2 if args.smoke else 7),
            )
        )
    if "memory" in wanted:
        from . import memory_bench

        plan.append(
            (
                "memory",
                lambda: memory_bench.run(
                    args.duration * (1 if args.smoke else 3),
                    args.tool,
                    manual_duration=args.duration,
                ),
            )
        )
    if "notify" in wanted:
        from . import notify_bench

        plan.append(
            ("notify", lambda: notify_bench.run(SMOKE_NOTIFY_N if args.smoke else NOTIFY_N))
        )
    if "profile" in wanted:
        from . import profile_hotpath

        plan.append(
            (
                "profile",
                lambda: profile_hotpath.profile(
                    max(2.0, args.duration * (0.6 if args.smoke else 0.8)),
                    args.tool,
                    repeats=1 if args.smoke else 2,
                    engine_n=2_000 if args.smoke else 100_000,
                ),
            )
        )
    for name, job in plan:
        began = time.perf_counter()
        print(f"bench: {name} ...", flush=True)
        try:
            results[name] = job()
        except Exception as exc:  # one broken section must not lose the others' figures
            results["errors"][name] = f"{exc!r}\n{traceback.format_exc(limit=5)}"
            print(f"bench: {name} FAILED: {exc!r}", file=sys.stderr, flush=True)
        results["timings"][name] = time.perf_counter() - began
        print(f"bench: {name} done in {results['timings'][name]:.1f} s", flush=True)
    return results


def render(
    results: dict[str, Any], args: argparse.Namespace, charts: list[str], chart_note: str | None
) -> str:
    """The whole of benchmarks.md."""
    baseline = None
    if args.baseline and args.baseline.exists():
        baseline = json.loads(args.baseline.read_text(encoding="utf-8"))
    env = results["environment"]
    out: list[str] = [
        "# Benchmarks",
        "",
        f"_Generated by `python -m bench run{' --smoke' if args.smoke else ''}` on {env['date']}: "
        f"{env['cpus']} cores ({env['cpu']}), Python {env['python']}, aiohttp {env['aiohttp']}, "
        f"lxml {env['lxml']}, load generator {env['tool']}. Do not edit by hand: rerun it._",
        "",
        "Absolute figures drift between runs and machines, and other work sharing the machine "
        "(tests, builds) lowers them: **compare ratios measured in one run**, and prefer the "
        "server-CPU-per-request column when the machine was busy. Benchmarks are not tests: "
        "CI only runs `--smoke` to keep them working and asserts nothing about speed.",
        "",
        "## How to run",
        "",
        "```sh",
        "pip install -e '.[bench]'          # matplotlib, for the charts (optional)",
        "apt-get update && apt-get install -y wrk   # the load generator (optional: a "
        "bounded Python one is used without it)",
        "pip install py-spy                 # for the profile section (optional)",
        ".venv/bin/python -m bench run                 # everything, several minutes",
        ".venv/bin/python -m bench run --smoke --out /tmp/bench   # a few seconds",
        ".venv/bin/python -m bench run --only http --duration 20 --baseline "
        "docs/bench_results.json",
        "```",
        "",
        "Each piece also runs alone (`python -m bench --help` lists them): `python -m bench "
        "http`, `engine`, `fixture`, `memory`, `notify`, `stages`, `profile`; "
        "`python -m bench whatif` checks that every what-if prototype still finds what it "
        "patches. The floor is "
        "`python -m bench floor`; the wrk script is "
        "`bench/wrk_anveo.lua`; the request is Anveo's documented DIAL.CONNECT example "
        "(`bench/dial_connect_docs_example.xml`).",
        "",
    ]
    if baseline:
        when = baseline.get("environment", {}).get("date", "an earlier run")
        out += [f"_Before columns: `{args.baseline}`, the results of the run of {when}._", ""]
    if chart_note:
        out += [f"_{chart_note}_", ""]
    if results["errors"]:
        out += ["## Sections that failed in this run", ""]
        for name, error in results["errors"].items():
            out += [f"- **{name}**: `{error.splitlines()[0]}`"]
        out.append("")
    out += ["## Summary against the targets of issue 6", "", report.summary_section(results), ""]
    if "http" in results:
        out += [
            "## HTTP: floor vs mock-anveo",
            "",
            report.http_section(results["http"], baseline),
            "",
        ]
        if "bench_http.png" in charts:
            out += ["![throughput and p99 latency per server](bench_http.png)", ""]
    if "engine" in results:
        out += [
            "## Engine: n calls over 60 days",
            "",
            report.engine_section(results["engine"], baseline),
            "",
        ]
        if "bench_engine.png" in charts:
            out += ["![engine cost per event vs n](bench_engine.png)", ""]
    if "fixture" in results:
        out += ["## Fixture overhead", "", report.fixture_section(results["fixture"]), ""]
    if "memory" in results:
        out += ["## Memory under sustained load", "", report.memory_section(results["memory"]), ""]
        if "bench_memory.png" in charts:
            out += ["![server RSS over time](bench_memory.png)", ""]
    if "notify" in results:
        from .notify_bench import section

        out += ["## Notifications: ended calls to a receiver", "", section(results["notify"]), ""]
    if "stages" in results:
        floor = results.get("http", {}).get("floor_rps")
        out += [
            "## Pipeline stage costs (in-process)",
            "",
            report.stages_section(results["stages"], floor),
            "",
        ]
    out += ["## Profile", "", report.profile_section(results.get("profile")), ""]
    timings = ", ".join(f"{k} {v:.0f} s" for k, v in results["timings"].items())
    out += ["---", f"_Section run times: {timings}._", ""]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    if args.from_results:
        results = json.loads(args.from_results.read_text(encoding="utf-8"))
        args.smoke = results["environment"]["smoke"]
        charts, chart_note = report.charts(results, args.out)
        (args.out / "benchmarks.md").write_text(
            render(results, args, charts, chart_note), encoding="utf-8"
        )
        print(f"bench: re-rendered {args.out / 'benchmarks.md'}")
        return 0
    results = run_sections(args)
    results["environment"] = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpus": cpu_count(),
        "cpu": _cpu_model(),
        "pinned": can_pin(),
        "python": platform.python_version(),
        "aiohttp": _version("aiohttp"),
        "lxml": _version("lxml"),
        "mock_anveo": _version("mock-anveo"),
        "tool": args.tool if args.tool != "auto" else ("wrk" if have_wrk() else "python"),
        "smoke": args.smoke,
        "duration": args.duration,
    }
    charts, chart_note = report.charts(results, args.out)
    markdown = render(results, args, charts, chart_note)
    (args.out / "benchmarks.md").write_text(markdown, encoding="utf-8")
    (args.out / "bench_results.json").write_text(
        json.dumps(results, indent=1, default=str), encoding="utf-8"
    )
    print(
        f"bench: wrote {args.out / 'benchmarks.md'} in {time.perf_counter() - began:.1f} s"
        + (f"; charts: {', '.join(charts)}" if charts else f"; {chart_note or 'no charts'}")
    )
    return 1 if results["errors"] else 0
