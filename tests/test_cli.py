"""The command line: serve starts, prints what a newcomer needs and stops cleanly; check."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from mock_anveo import cli

from .helpers import FIXTURES, KEY, Reply

ROOT = Path(__file__).resolve().parent.parent


def serve(*args: str, tmp: Path) -> tuple[subprocess.Popen[str], str]:
    url_file = tmp / "url"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mock_anveo",
            "serve",
            "--port",
            "0",
            "--url-file",
            str(url_file),
            *args,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 20
    while not (url_file.exists() and url_file.read_text().strip()):
        assert proc.poll() is None, proc.communicate()[0]
        assert time.monotonic() < deadline
        time.sleep(0.02)
    return proc, url_file.read_text().strip()


@pytest.mark.slow
def test_serve_prints_url_and_key_binds_loopback_and_stops_on_sigterm(tmp_path):
    proc, url = serve(tmp=tmp_path)
    try:
        assert url.startswith("http://127.0.0.1:")
        body = (FIXTURES / "dial_connect_docs_example.request.xml").read_bytes()
        with urllib.request.urlopen(
            urllib.request.Request(url + "/api/v3.asp", data=body), timeout=10
        ) as response:
            assert Reply(response.read()).result == "SUCCESS"
    finally:
        proc.send_signal(signal.SIGTERM)
        out = proc.communicate(timeout=20)[0]
    assert proc.returncode == 0
    assert url in out and KEY in out
    assert "WARNING" not in out and "Traceback" not in out


@pytest.mark.slow
def test_serve_warns_loudly_when_exposed(tmp_path):
    proc, _ = serve("--host", "0.0.0.0", tmp=tmp_path)
    proc.send_signal(signal.SIGINT)
    out = proc.communicate(timeout=20)[0]
    assert "WARNING" in out and "OPEN" in out
    assert proc.returncode == 0


@pytest.mark.slow
def test_serve_with_config_and_speed(tmp_path):
    proc, url = serve(
        "--config", str(ROOT / "examples" / "accounts.toml"), "--speed", "3600", tmp=tmp_path
    )
    try:
        with urllib.request.urlopen(f"{url}/_mock/tenants/{KEY}/clock", timeout=10) as reply:
            clock = json.loads(reply.read())
        # the real-time clock itself is tested with an injected time source in test_clock_*
        assert clock["rate"] == 3600.0
    finally:
        proc.send_signal(signal.SIGTERM)
        out = proc.communicate(timeout=20)[0]
    assert "0123456789abcdef0123456789abcdef01234567" in out


def test_bad_config_is_one_clear_line(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text('[[account]]\nuserkey = "k"\nbalance = "lots"\n')
    assert cli.main(["serve", "--config", str(bad), "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert "account #1" in err and "balance" in err and "Traceback" not in err


def test_check_exit_codes_and_messages(capsys):
    good = str(FIXTURES / "dial_connect_minimal.request.xml")
    bad = str(FIXTURES / "dial_connect_delay_out_of_range.request.xml")
    assert cli.main(["check", good]) == 0
    assert "<RESULT>SUCCESS</RESULT>" in capsys.readouterr().out
    assert cli.main(["check", bad]) == 1
    captured = capsys.readouterr()
    assert "INVALID_PARAMETER" in captured.err and "DELAY" in captured.err
    assert cli.main(["check", "/nonexistent.xml"]) == 2


def test_python_dash_m_is_the_same_command():
    result = subprocess.run(
        [sys.executable, "-m", "mock_anveo", "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.startswith("mock-anveo ")
