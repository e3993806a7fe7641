"""Every bad flag value is one line naming the flag and exit code 2; the state file is checked
before anything starts; ``check --document-only`` judges a document alone."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mock_anveo import cli
from mock_anveo.flags import token_from_env

from .helpers import FIXTURES, xml_request

ROOT = Path(__file__).resolve().parent.parent


def _refused(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """Run the CLI, expect exit code 2 and return the line that names the problem."""
    assert cli.main(list(argv)) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if "error:" in line]
    assert len(lines) == 1, err
    return lines[0]


@pytest.mark.parametrize(
    ("flag", "value"),
    [
        ("--host", "not a host!"),
        ("--host", ""),
        ("--port", "70000"),
        ("--port", "-1"),
        ("--port", "http"),
        ("--config", "/nonexistent/accounts.toml"),
        ("--seed", "1.5"),
        ("--seed", "-3"),
        ("--clock", "fast"),
        ("--speed", "-1"),
        ("--speed", "nan"),
        ("--speed", "inf"),
        ("--speed", "2000000"),
        ("--start", "yesterday"),
        ("--start", "99999-01-01"),
        ("--start", "1900-01-01T00:00:00Z"),
        ("--max-body", "0"),
        ("--max-body", "10GB"),
        ("--read-timeout", "-1"),
        ("--read-timeout", "0"),
        ("--read-timeout", "nan"),
        ("--read-timeout", "1e9"),
        ("--journal-limit", "0"),
        ("--ended-limit", "many"),
        ("--control-token", "has space"),
        ("--control-token", "é"),
        ("--state-file", "/nonexistent-dir/state.json"),
        ("--url-file", "/nonexistent-dir/url"),
        ("--url-file", "/"),
    ],
)
def test_every_bad_flag_value_is_one_line_naming_the_flag(
    capsys: pytest.CaptureFixture[str], flag: str, value: str
) -> None:
    line = _refused(capsys, "serve", "--port", "0", f"{flag}={value}")
    assert f"argument {flag}:" in line, line


def test_a_bad_check_config_names_the_flag(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[[account]]\nbalance = 1\n")
    line = _refused(capsys, "check", "--config", str(bad), "x.xml")
    assert "argument --config:" in line and "account #1" in line


def test_document_only_and_config_do_not_mix(capsys: pytest.CaptureFixture[str]) -> None:
    line = _refused(
        capsys,
        "check",
        "--document-only",
        "--config",
        str(ROOT / "examples" / "accounts.toml"),
        "x.xml",
    )
    assert "--document-only" in line and "--config" in line


# ---- items 6 and 7: --state-file ------------------------------------------------------------
def test_a_directory_as_state_file_is_refused_and_untouched(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "inside").write_text("keep")
    line = _refused(capsys, "serve", "--port", "0", "--state-file", str(tmp_path))
    assert "--state-file" in line and "is a directory" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["inside"]


@pytest.mark.parametrize(
    "content",
    [
        '[[account]]\nuserkey = "k"\n',  # someone typed --state-file accounts.toml
        '{"tenants": []}',  # JSON, but not a state file
        "\x00\x01binary",
    ],
)
def test_a_file_that_is_not_a_state_file_is_refused_and_untouched(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, content: str
) -> None:
    path = tmp_path / "accounts.toml"
    path.write_text(content)
    line = _refused(capsys, "serve", "--port", "0", "--state-file", str(path))
    assert "argument --state-file:" in line and "not a mock-anveo state file" in line
    assert path.read_text() == content
    assert sorted(p.name for p in tmp_path.iterdir()) == ["accounts.toml"]


def test_a_state_file_in_a_missing_directory_is_refused_at_start(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Once: it started, then at shutdown said "cannot start: ... .tmp" and saved nothing."""
    line = _refused(
        capsys, "serve", "--port", "0", "--state-file", str(tmp_path / "missing" / "state.json")
    )
    assert "argument --state-file:" in line and "does not exist" in line
    assert list(tmp_path.iterdir()) == []


def test_an_empty_or_state_shaped_file_is_accepted(tmp_path: Path) -> None:
    empty = tmp_path / "empty.json"
    empty.touch()
    shaped = tmp_path / "state.json"
    shaped.write_text('{"format": "mock-anveo-snapshot/1", "tenants": [{"no": 1}]}')
    parser = cli.build_parser()
    for path in (empty, shaped):
        args = parser.parse_args(["serve", "--state-file", str(path)])
        assert args.state_file.path == path
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.json", "state.json"]


def test_a_failed_save_says_cannot_save(tmp_path: Path) -> None:
    """The state directory vanishes while the server runs: "cannot save", never "start"."""
    directory = tmp_path / "state"
    directory.mkdir()
    url_file = tmp_path / "url"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mock_anveo",
            "serve",
            "--port",
            "0",
            "--state-file",
            str(directory / "s.json"),
            "--url-file",
            str(url_file),
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
    directory.rmdir()
    proc.send_signal(signal.SIGTERM)
    out = proc.communicate(timeout=20)[0]
    assert proc.returncode == 1, out
    assert "cannot save the state to" in out and "--state-file" in out
    assert "cannot start" not in out and "Traceback" not in out


# ---- item 14: check --document-only ---------------------------------------------------------
def test_a_real_clients_document_passes_document_only(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Its own USERKEY and an unverified CALLERID: refused by a fresh server's account,
    accepted when only the document is judged."""
    doc = tmp_path / "client.xml"
    doc.write_bytes(
        xml_request(
            "DIAL.CONNECT",
            [
                ("PHONENUMBER", "12125550123"),
                ("DESTPHONENUMBER", "12125551234"),
                ("CALLERID", "19998887777"),
            ],
            userkey="0123456789abcdef0123456789abcdef01234567",
        )
    )
    assert cli.main(["check", str(doc)]) == 1
    assert "UNKNOWN_USERKEY" in capsys.readouterr().err
    assert cli.main(["check", "--document-only", str(doc)]) == 0
    out = capsys.readouterr().out
    assert "a valid DIAL.CONNECT request" in out and "not checked" in out


@pytest.mark.parametrize(
    ("fixture", "code"),
    [
        ("dial_connect_delay_out_of_range", "INVALID_PARAMETER"),
        ("dial_connect_unknown_parameter", "UNKNOWN_PARAMETER"),
        ("not_xml", "MALFORMED_XML"),
        ("billion_laughs", "FORBIDDEN_XML"),
    ],
)
def test_document_only_still_refuses_bad_documents(
    capsys: pytest.CaptureFixture[str], fixture: str, code: str
) -> None:
    path = FIXTURES / f"{fixture}.request.xml"
    assert cli.main(["check", "--document-only", str(path)]) == 1
    captured = capsys.readouterr()
    assert f": {code}: " in captured.err
    assert "<RESULT>ERROR</RESULT>" in captured.out


@pytest.mark.parametrize(
    "fixture", ["dial_connect_unknown_userkey", "dial_connect_unverified_callerid"]
)
def test_account_rules_are_not_judged_in_document_only(fixture: str) -> None:
    assert cli.main(["check", "--document-only", str(FIXTURES / f"{fixture}.request.xml")]) == 0


def test_help_says_when_to_use_which_check(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["check", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--document-only" in out and "freshly started server" in out


def test_the_url_file_appears_only_once_signals_stop_cleanly(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A CI script may SIGTERM the server the moment the URL file appears: the signal handlers
    must be in place by then (once the file came first, and such a kill lost the state)."""
    url_file, state = tmp_path / "url", tmp_path / "state.json"
    real_write = Path.write_text
    seen: list[object] = []

    def write_then_signal(self: Path, text: str, *args: object, **kwargs: object) -> int:
        written = real_write(self, text, *args, **kwargs)  # type: ignore[arg-type]
        if self == url_file:
            seen.append(signal.getsignal(signal.SIGTERM))
            assert seen[-1] is not signal.SIG_DFL, "a SIGTERM now would kill the server"
            os.kill(os.getpid(), signal.SIGTERM)  # handled by the server's loop: a clean stop
        return written

    monkeypatch.setattr(Path, "write_text", write_then_signal)
    argv = ["serve", "--port", "0", "--url-file", str(url_file), "--state-file", str(state)]
    assert cli.main(argv) == 0
    assert seen and state.exists()


# ---- a stranger's findings: one line, and no empty token ------------------------------------
@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["serve", "--port", "70000"], "mock-anveo serve: error: argument --port:"),
        (["serve", "--bogus"], "mock-anveo serve: error: unrecognized arguments: --bogus"),
        (["serve", "--control-token", ""], "argument --control-token: must not be empty"),
        (["check"], "mock-anveo check: error: the following arguments are required: file"),
    ],
)
def test_a_bad_flag_is_exactly_one_line(
    capsys: pytest.CaptureFixture[str], argv: list[str], named: str
) -> None:
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and named in err and "usage:" not in err, err
    assert "--help" in err


def test_an_empty_token_in_the_environment_is_refused(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MOCK_ANVEO_CONTROL_TOKEN", "")
    assert cli.main(["serve", "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "$MOCK_ANVEO_CONTROL_TOKEN must not be empty" in err, err


def test_the_token_comes_from_the_flag_then_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("MOCK_ANVEO_CONTROL_TOKEN", raising=False)
    assert token_from_env(None) is None
    monkeypatch.setenv("MOCK_ANVEO_CONTROL_TOKEN", "from-env")
    assert token_from_env(None) == "from-env"
    assert token_from_env("from-flag") == "from-flag"
    monkeypatch.setenv("MOCK_ANVEO_CONTROL_TOKEN", "has space")
    with pytest.raises(ValueError, match=r"\$MOCK_ANVEO_CONTROL_TOKEN must be 1 to 256"):
        token_from_env(None)
