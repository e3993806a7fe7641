"""The benchmarks keep working: ``python -m bench run --smoke`` writes its report, every what-if
prototype finds what it patches (or fails naming it), and the README's bench commands exist.

Smoke runs, not timed tests: nothing here asserts anything about speed. Output goes to a
temporary directory so docs/ is never overwritten.
"""

from __future__ import annotations

import importlib
import json
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from bench import whatif
from mock_anveo.http import body, gctune
from mock_anveo.wire import pipeline

ROOT = Path(__file__).resolve().parent.parent


def _bench(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bench", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.mark.slow
@pytest.mark.timeout(300)  # the run's own bound; ~2 min on a busy 2-core machine, near 120 s
def test_bench_smoke_writes_its_report(tmp_path: Path) -> None:
    done = _bench("run", "--smoke", "--no-profile", "--out", str(tmp_path), timeout=300)
    assert done.returncode == 0, f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    report = (tmp_path / "benchmarks.md").read_text(encoding="utf-8")
    assert report.startswith("# Benchmarks")
    assert (tmp_path / "bench_results.json").exists()
    # Issue 12's benchmark: every notification of the smoke run's calls reached the receiver.
    assert "## Notifications: ended calls to a receiver" in report
    notify = json.loads((tmp_path / "bench_results.json").read_text("utf-8"))["notify"]
    for run in (notify, notify["burst"]):
        assert run["deliveries"] == run["received"] == run["n"] > 0, run


def test_one_entry_point_dispatches_to_every_command_and_nothing_edits_sys_path() -> None:
    from bench.__main__ import COMMANDS

    for command, (module, _) in COMMANDS.items():
        assert callable(importlib.import_module(f"bench.{module}").main), command
    done = _bench("--help")
    assert done.returncode == 0 and all(command in done.stdout for command in COMMANDS)
    assert _bench("no-such-command").returncode == 2
    # Run as `python -m bench` from the root, the package imports itself: no path hacks.
    edits = [p.name for p in (ROOT / "bench").glob("*.py") if "sys.path" in p.read_text("utf-8")]
    assert edits == []


def test_every_whatif_finds_its_target() -> None:
    # A fresh process: the patches change the collector and the server's modules for good.
    done = _bench("whatif")
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"every what-if found its target: {', '.join(whatif.PATCHES)}" in done.stdout


MOVABLE = [
    ("gc-freeze-full-only", gctune, "GENERATION", "_freeze_after_collection"),
    ("gc-no-tuning", gctune, "_installed", "install"),
    ("no-memo", pipeline, "MEMO_BODY_MAX", "Pipeline.__init__"),
    ("public-read", body, "in_place", "buffered"),
    ("gc-young-every-10", gctune, "YOUNG_PER_GEN1", "install"),
]


@pytest.mark.parametrize(
    ("patch", "module", "name", "reader"), MOVABLE, ids=[m[0] for m in MOVABLE]
)
def test_a_whatif_whose_target_moved_fails_naming_it(
    monkeypatch: pytest.MonkeyPatch, patch: str, module: ModuleType, name: str, reader: str
) -> None:
    monkeypatch.setattr(gctune, "_installed", False)
    monkeypatch.delattr(module, name)
    with pytest.raises(whatif.TargetMoved, match=re.escape(f"{module.__name__}.{name} is gone")):
        whatif.apply(patch)
    assert not hasattr(module, name)  # nothing set under the old name either


@pytest.mark.parametrize(
    ("patch", "module", "name", "reader"), MOVABLE, ids=[m[0] for m in MOVABLE]
)
def test_a_whatif_whose_reader_moved_fails_naming_it(
    monkeypatch: pytest.MonkeyPatch, patch: str, module: ModuleType, name: str, reader: str
) -> None:
    # The setting stays but the code that reads it went elsewhere: setting it would do nothing.
    monkeypatch.setattr(gctune, "_installed", False)
    before = getattr(module, name)
    *owner_path, attribute = reader.split(".")  # a function, or a method "Class.__init__"
    owner: object = module
    for part in owner_path:
        owner = getattr(owner, part)
    monkeypatch.setattr(owner, attribute, lambda *args, **kwargs: None)
    with pytest.raises(
        whatif.TargetMoved, match=re.escape(f"{module.__name__}.{reader} no longer reads")
    ):
        whatif.apply(patch)
    assert getattr(module, name) is before


@pytest.mark.parametrize("patch", ["gc-freeze-full-only", "gc-no-tuning", "gc-young-every-10"])
def test_a_collector_whatif_applied_after_gctune_installed_fails(
    monkeypatch: pytest.MonkeyPatch, patch: str
) -> None:
    monkeypatch.setattr(gctune, "_installed", True)
    with pytest.raises(whatif.TargetMoved, match=re.escape("gctune.install() has already run")):
        whatif.apply(patch)


def test_an_unknown_whatif_is_refused() -> None:
    done = _bench("whatif", "no-such-patch")
    assert done.returncode == 1
    assert "unknown what-if 'no-such-patch'" in done.stderr


README = (ROOT / "README.md").read_text(encoding="utf-8")
COMMANDS = re.findall(r"<!-- readme-test: commands -->\n```\w*\n(.*?)```", README, re.DOTALL)
BENCH_LINE = re.compile(r"\.venv/bin/python -m bench (\w+)((?: --?[\w-]+(?: [\w./]+)?)*)")


def test_readme_bench_commands_exist_and_take_their_flags() -> None:
    # tests/test_readme.py checks script paths; the bench commands are `-m bench` subcommands.
    found = [match for body in COMMANDS for match in BENCH_LINE.findall(body)]
    assert {"run", "soak"} <= {command for command, _ in found}, found
    for command, flags in found:
        done = _bench(command, "--help")
        assert done.returncode == 0, (command, done.stderr)
        for flag in re.findall(r"--[\w-]+", flags):
            assert flag in done.stdout, (command, flag)
