"""The benchmarks keep working: ``bench/run.py --smoke`` completes and writes its report.

A smoke run, not a timed test: nothing here asserts anything about speed. Output goes to a
temporary directory so docs/ is never overwritten.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_bench_smoke_writes_its_report(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "run.py"),
            "--smoke",
            "--no-profile",
            "--out",
            str(tmp_path),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    report = (tmp_path / "benchmarks.md").read_text(encoding="utf-8")
    assert report.startswith("# Benchmarks")
    assert (tmp_path / "bench_results.json").exists()
