"""Every example in README.md is executed here, in order, against a real server.

Blocks are marked with an HTML comment before them:
``run`` (the set-up-and-run command), ``ci`` (the set-up-and-test command, which must be what
.ci/run runs), ``shell`` (run with bash against a fresh server; ``expect="a|b"`` lists strings
that must appear in order), ``output`` (the exact output of the shell block before it),
``synopsis`` (every flag must exist) and ``commands`` (slow scripts: each exists and accepts
the flags shown). The Python and shell blocks of "Use it in pytest"
and "Run it in CI" are run by tests/test_pytest_plugin.py.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
MARKED = re.compile(r'<!-- readme-test: (\w+)(?: expect="([^"]*)")? -->\n```\w*\n(.*?)```',
                    re.DOTALL)
BLOCKS = [(kind, expect, body) for kind, expect, body in MARKED.findall(README)]
DEFAULT_URL = "http://127.0.0.1:8080"


def blocks(kind: str) -> list[tuple[str, str]]:
    return [(expect, body) for k, expect, body in BLOCKS if k == kind]


def test_readme_starts_with_the_quickstart_and_has_both_commands():
    assert README.index("## Quickstart") < README.index("## What it speaks")
    assert len(blocks("run")) == 1 and len(blocks("ci")) == 1
    assert "PYTEST_SECTION" not in README


def test_ci_runs_exactly_the_readme_test_command():
    ((_, command),) = blocks("ci")
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()
    assert script[-1] == command.strip()
    assert command.startswith("python3.11 -m venv .venv && ")


def _mock_anveo_command() -> list[str]:
    local = ROOT / ".venv" / "bin" / "mock-anveo"
    return [str(local)] if local.exists() else [sys.executable, "-m", "mock_anveo"]


def _start(tmp_path: Path, serve_args: list[str]) -> tuple[subprocess.Popen[str], str]:
    url_file = tmp_path / "url"
    proc = subprocess.Popen([*serve_args, "--port", "0", "--url-file", str(url_file)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 20
    while not (url_file.exists() and url_file.read_text().strip()):
        assert proc.poll() is None, proc.communicate()[0]
        assert time.monotonic() < deadline, "the README's server did not start"
        time.sleep(0.02)
    return proc, url_file.read_text().strip()


@pytest.mark.slow
def test_shell_examples_run_against_the_readme_server(tmp_path):
    ((_, run),) = blocks("run")
    serve = run.strip().split(" && ")[-1].split()
    assert serve == [".venv/bin/mock-anveo", "serve"]
    proc, url = _start(tmp_path, [*_mock_anveo_command(), *serve[1:]])
    bin_dir = str(Path(_mock_anveo_command()[0]).parent)
    env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", "")}
    try:
        previous_output = None
        for kind, expect, body in BLOCKS:
            if kind == "output":
                assert previous_output == body, "README shows a different output"
                continue
            if kind != "shell":
                continue
            script = body.replace(DEFAULT_URL, url).replace(".venv/bin/mock-anveo",
                                                            " ".join(_mock_anveo_command()))
            result = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=ROOT,
                                    env=env, capture_output=True, text=True, timeout=60,
                                    check=False)
            assert result.returncode == 0, (script, result.stdout, result.stderr)
            output = result.stdout + result.stderr
            position = 0
            for wanted in filter(None, expect.split("|")):
                found = output.find(wanted, position)
                assert found >= 0, (wanted, output)
                position = found + len(wanted)
            previous_output = result.stdout
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=20)
    assert proc.returncode == 0


def test_every_flag_in_the_synopsis_exists():
    from mock_anveo.cli import build_parser

    ((_, synopsis),) = blocks("synopsis")
    parser = build_parser()
    known = {option for action in parser._subparsers._group_actions[0].choices.values()
             for option in action._option_string_actions}
    flags = set(re.findall(r"--[a-z-]+", synopsis))
    assert flags and flags <= known, flags - known


def test_listed_commands_exist_and_answer_help():
    """Slow commands are not run here, but each script must exist and parse its flags."""
    for _, body in blocks("commands"):
        for script, flags in re.findall(r"\.venv/bin/python (\S+\.py)((?: --?[\w-]+(?: \d+)?)*)",
                                        body):
            result = subprocess.run([sys.executable, str(ROOT / script), "--help"], cwd=ROOT,
                                    capture_output=True, text=True, timeout=60, check=False)
            assert result.returncode == 0, (script, result.stderr)
            for flag in re.findall(r"--[\w-]+", flags):
                assert flag in result.stdout, (script, flag)


def test_every_code_block_is_executed_somewhere():
    """Unmarked blocks are allowed only where test_pytest_plugin runs them."""
    pytest_sections = re.compile(r"## (Use it in pytest|Run it in CI)\n.*?(?=\n## )", re.DOTALL)
    rest = pytest_sections.sub("", README)
    fences = re.findall(r"(<!-- readme-test: .*? -->\n)?```", rest)
    opening = fences[::2]  # every other fence opens a block
    assert all(opening), "a README code block outside the pytest sections is not tested"
