"""Every example in README.md is executed here, in order, against a real server.

Blocks are marked with an HTML comment before them:
``run`` (the set-up-and-run command), ``ci`` (the set-up-and-test command, which must be what
.ci/run runs), ``shell`` (run with bash against a fresh server; ``expect="a|b"`` lists strings
that must appear in order), ``output`` (the exact output of the shell block before it),
``synopsis`` (every flag must exist) and ``commands`` (slow scripts: each exists and accepts
the flags shown). The Python blocks of "Use it in pytest" run here as a user would run them:
in a fresh directory, with only the configuration that section shows; its shell blocks, and
those of "Run it in CI", are run by tests/test_pytest_plugin.py.
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

from mock_anveo.cli import build_parser

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
MARKED = re.compile(
    r'<!-- readme-test: (\w+)(?: expect="([^"]*)")? -->\n```\w*\n(.*?)```', re.DOTALL
)
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
    proc = subprocess.Popen(
        [*serve_args, "--port", "0", "--url-file", str(url_file)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
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
    # A frozen clock: the quickstart's advance lands on the moment it promises however long
    # a reader takes between its commands (its expect= pins that moment to the millisecond).
    assert serve == [".venv/bin/mock-anveo", "serve", "--clock", "manual"]
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
            script = body.replace(DEFAULT_URL, url).replace(
                ".venv/bin/mock-anveo", " ".join(_mock_anveo_command())
            )
            result = subprocess.run(
                ["bash", "-euo", "pipefail", "-c", script],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
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
    ((_, synopsis),) = blocks("synopsis")
    parser = build_parser()
    known = {
        option
        for action in parser._subparsers._group_actions[0].choices.values()
        for option in action._option_string_actions
    }
    flags = set(re.findall(r"--[a-z-]+", synopsis))
    assert flags and flags <= known, flags - known
    # ... and the other way round: a flag the CLI takes but the synopsis forgot is missing.
    long_flags = {o for o in known if o.startswith("--") and o != "--help"}
    assert long_flags <= flags, long_flags - flags


def test_listed_commands_exist_and_answer_help():
    """Slow commands are not run here, but each script must exist and parse its flags."""
    for _, body in blocks("commands"):
        for script, flags in re.findall(
            r"\.venv/bin/python (\S+\.py)((?: --?[\w-]+(?: \d+)?)*)", body
        ):
            result = subprocess.run(
                [sys.executable, str(ROOT / script), "--help"],
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            assert result.returncode == 0, (script, result.stderr)
            for flag in re.findall(r"--[\w-]+", flags):
                assert flag in result.stdout, (script, flag)


def _section(title: str) -> str:
    start = README.index(f"## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start:] if end == -1 else README[start:end]


def _fenced(title: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", _section(title), re.DOTALL)


#: What a new project installs for the section's examples: pytest, mock-anveo (its plugin),
#: pytest-asyncio (async tests) and hypothesis (the strategies' example). Nothing else loads:
#: this environment's other plugins must not make an example pass that would fail there.
FRESH_PLUGINS = (
    "mock_anveo.testing.pytest_plugin",
    "pytest_asyncio.plugin",
    "hypothesis.extra.pytestplugin",
)


def _run_fresh(project: Path, files: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run pytest in ``project``, holding only ``files``: no ini of this repository applies."""
    project.mkdir()
    for name, text in files.items():
        (project / name).write_text(text, encoding="utf-8")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTEST_", "MOCK_ANVEO_", "HYPOTHESIS_"))
    }
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    plugins = [arg for name in FRESH_PLUGINS for arg in ("-p", name)]
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            *plugins,
            "--rootdir",
            str(project),
            "-q",
            "-rA",
        ],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.slow
def test_pytest_section_runs_verbatim_in_a_fresh_project(tmp_path):
    python = _fenced("Use it in pytest", "python")
    (toml,) = _fenced("Use it in pytest", "toml")
    assert len(python) >= 5 and "asyncio_default_fixture_loop_scope" in toml
    result = _run_fresh(
        tmp_path / "project", {"test_examples.py": "\n\n".join(python), "pyproject.toml": toml}
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    tests = sum(
        block.count("\ndef test_")
        + block.count("\nasync def test_")
        + block.startswith(("def test_", "async def test_"))
        for block in python
    )
    assert re.search(rf"\b{tests} passed in ", output), output
    assert "warning" not in output.lower(), output  # pytest-asyncio's included


@pytest.mark.slow
def test_async_example_runs_alone_in_a_fresh_project(tmp_path):
    """Bug 19: copied into a new project, the async example failed ("async def functions are
    not natively supported") because it relied on this repository's asyncio_mode=auto."""
    (example,) = [b for b in _fenced("Use it in pytest", "python") if "async def test_" in b]
    (toml,) = _fenced("Use it in pytest", "toml")
    result = _run_fresh(tmp_path / "project", {"test_async.py": example, "pyproject.toml": toml})
    output = result.stdout + result.stderr
    assert result.returncode == 0 and "1 passed in " in output, output
    assert "warning" not in output.lower(), output


@pytest.mark.slow
def test_pytest_marked_examples_run_in_a_fresh_project(tmp_path):
    """``pytest`` blocks outside "Use it in pytest" (the callbacks section) run as a user
    would: in a new project, after the first example of that section, whose ``dial`` they use."""
    marked = blocks("pytest")
    first = _fenced("Use it in pytest", "python")[0]
    (toml,) = _fenced("Use it in pytest", "toml")
    assert marked and "def dial(" in first
    source = "\n\n".join([first, *(body for _, body in marked)])
    result = _run_fresh(tmp_path / "project", {"test_marked.py": source, "pyproject.toml": toml})
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    tests = source.count("\ndef test_") + source.count("\nasync def test_")
    assert re.search(rf"\b{tests} passed in ", output), output
    assert "warning" not in output.lower(), output


def test_every_code_block_is_executed_somewhere():
    """Unmarked blocks are allowed only where test_pytest_plugin runs them."""
    pytest_sections = re.compile(r"## (Use it in pytest|Run it in CI)\n.*?(?=\n## )", re.DOTALL)
    rest = pytest_sections.sub("", README)
    fences = re.findall(r"(<!-- readme-test: .*? -->\n)?```", rest)
    opening = fences[::2]  # every other fence opens a block
    assert all(opening), "a README code block outside the pytest sections is not tested"


def test_the_layer_tree_names_every_layer_of_the_package():
    """The "How it is built" tree lists each subpackage and top-level module, and only those."""
    (tree,) = [body for kind, _, body in BLOCKS if kind == "tree"]
    listed = set(re.findall(r"^  (\w+(?:\.py|/))", tree, re.MULTILINE))
    package = ROOT / "mock_anveo"
    present = {f"{p.name}/" for p in package.iterdir() if (p / "__init__.py").exists()}
    present |= {
        p.name
        for p in package.glob("*.py")
        if not p.name.startswith("_") and p.name != "strategies.py"  # the public alias
    }
    assert listed == present


def test_the_control_api_table_lists_every_route():
    from mock_anveo.http.control import make_control_app

    section = README.split("## The control API", 1)[1].split("\n## ", 1)[0]
    tenant = "/tenants/{userkey}"
    missing = []
    for resource in make_control_app().router.resources():
        path = resource.canonical
        if path in ("", "/") or "{tail" in path:
            continue  # the index (listed as /_mock/) and the catch-all
        if path.startswith(tenant + "/"):
            shown = "..." + path[len(tenant) :].replace("{rule_id}", "{id}")
        else:
            shown = "/_mock" + path
        if shown not in section:
            missing.append(shown)
    assert missing == [], f"README's control-API section lacks {missing}"
