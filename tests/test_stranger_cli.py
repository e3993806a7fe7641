"""What a stranger found on the command line: printing never loses the state, the start says
when --state-file wins over --config, and --url-file goes away at a clean shutdown."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .helpers import KEY

SERVE = [sys.executable, "-m", "mock_anveo", "serve", "--port", "0", "--clock", "manual"]
ROOT = Path(__file__).resolve().parent.parent


def _launch(tmp: Path, *args: str, stdout: int) -> tuple[subprocess.Popen[bytes], Path]:
    url_file = tmp / "url"
    proc = subprocess.Popen(
        [*SERVE, "--url-file", str(url_file), *args],
        stdout=stdout,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 20
    while not (url_file.exists() and url_file.read_text().strip()):
        if proc.poll() is not None:
            pytest.fail(f"server died: {proc.communicate()[1].decode()}")
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.02)
    return proc, url_file


@pytest.mark.slow
def test_a_closed_stdout_neither_kills_the_server_nor_loses_the_state(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    read_end, write_end = os.pipe()
    os.close(read_end)  # as `mock-anveo serve ... | head -1` once head has exited
    try:
        proc, url_file = _launch(tmp_path, "--state-file", str(state), stdout=write_end)
    finally:
        os.close(write_end)
    proc.send_signal(signal.SIGTERM)
    err = proc.communicate(timeout=20)[1].decode()
    assert proc.returncode == 0, err
    assert "Traceback" not in err and "BrokenPipe" not in err, err
    assert json.loads(state.read_text())["tenants"][0]["account"]["userkey"] == KEY
    assert not url_file.exists()  # a clean shutdown removes --url-file


@pytest.mark.slow
def test_the_start_says_when_the_state_file_replaces_the_config(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    config = str(ROOT / "examples" / "accounts.toml")
    for _ in range(2):  # the first run creates the state file, the second restores it
        proc, url_file = _launch(
            tmp_path, "--state-file", str(state), "--config", config, stdout=subprocess.PIPE
        )
        proc.send_signal(signal.SIGTERM)
        out = proc.communicate(timeout=20)[0].decode()
        assert proc.returncode == 0
        assert not url_file.exists()
    assert "replace the accounts of --config" in out
    assert out.count("--state-file") == 1


@pytest.mark.slow
def test_the_first_line_is_the_url_and_json_mode_prints_only_json(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    config = str(ROOT / "examples" / "accounts.toml")
    # First run, JSON: "no state file" and "saved" are objects like the rest.
    proc, url_file = _launch(
        tmp_path, "--state-file", str(state), "--log-format", "json", stdout=subprocess.PIPE
    )
    url = url_file.read_text().strip()
    proc.send_signal(signal.SIGTERM)
    out = proc.communicate(timeout=20)[0].decode()
    assert proc.returncode == 0
    events = [json.loads(line) for line in out.splitlines()]  # each line one object
    assert events[0]["type"] == "listening" and events[0]["url"] == url
    states = [e["message"] for e in events if e["type"] == "state"]
    assert len(states) == 2, states
    assert "no state file" in states[0] and "saved" in states[1]
    # Second run, text, restoring over --config: the URL line still comes first.
    proc, url_file = _launch(
        tmp_path, "--state-file", str(state), "--config", config, stdout=subprocess.PIPE
    )
    url = url_file.read_text().strip()
    proc.send_signal(signal.SIGTERM)
    lines = proc.communicate(timeout=20)[0].decode().splitlines()
    assert proc.returncode == 0
    assert lines[0].startswith("mock-anveo ") and lines[0].endswith(f"listening on {url}")
    assert any(line.startswith("mock-anveo: restored ") for line in lines[1:])
