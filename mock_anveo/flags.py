"""The flags of ``mock-anveo serve`` and the type functions that check each flag's value.

Each type function refuses a bad value with argparse's one-line error naming the flag, so
nothing starts on a bad value (exit code 2).
"""

from __future__ import annotations

import argparse
import ipaddress
import math
import os
import re
import time
from collections.abc import Callable
from pathlib import Path

from .http.server import LOOPBACK
from .http.statefile import StateFile
from .sim.accounts import Account, load_accounts
from .sim.clock import parse_iso
from .sim.setup import EARLIEST, LATEST

_HOSTNAME = re.compile(
    r"[A-Za-z0-9]([A-Za-z0-9-]{0,62}[A-Za-z0-9])?"
    r"(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}[A-Za-z0-9])?)*"
)
_TOKEN = re.compile(r"[!-~]{1,256}")  # printable ASCII without spaces: it goes into a header


def _whole(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"must be a whole number from {low} to {high}, got {text!r}"
            ) from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be from {low} to {high}, got {value}")
        return value

    return parse


def _plain(number: float) -> str:
    """A bound as people write it: 1000000, not 1e+06."""
    return str(int(number)) if float(number).is_integer() else repr(number)


def _real(low: float, high: float, *, above_low: bool = False) -> Callable[[str], float]:
    span = (
        f"more than {_plain(low)} and at most {_plain(high)}"
        if above_low
        else f"from {_plain(low)} to {_plain(high)}"
    )

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or not low <= value <= high or (above_low and value == low):
            raise argparse.ArgumentTypeError(f"must be a number {span}, got {text!r}")
        return value

    return parse


def _host(text: str) -> str:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        if len(text) > 253 or not _HOSTNAME.fullmatch(text):
            raise argparse.ArgumentTypeError(
                f"must be an IP address or a host name, got {text!r}"
            ) from None
    return text


def _start(text: str) -> float:
    if text == "now":
        return time.time()
    try:
        moment = parse_iso(text)
    except (ValueError, OverflowError):
        raise argparse.ArgumentTypeError(
            f"must be an ISO-8601 moment such as 2026-01-01T00:00:00Z, or 'now', got {text!r}"
        ) from None
    if not EARLIEST <= moment <= LATEST:
        raise argparse.ArgumentTypeError(f"must be from 1970-01-01 to 9000-01-01, got {text!r}")
    return moment


def config(text: str) -> list[Account]:
    try:
        return load_accounts(Path(text))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _token(text: str) -> str | None:
    if text == "":
        return None  # an empty $MOCK_ANVEO_CONTROL_TOKEN means no token
    if not _TOKEN.fullmatch(text):
        raise argparse.ArgumentTypeError(
            "must be 1 to 256 printable ASCII characters without "
            "spaces (it is sent in an HTTP header)"
        )
    return text


def _state_file(text: str) -> StateFile:
    state = StateFile(Path(text))
    try:
        state.check()
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return state


def _url_file(text: str) -> Path:
    path = Path(text)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{path} is a directory; give the path of a file")
    if not path.parent.is_dir():
        raise argparse.ArgumentTypeError(f"directory {path.parent} does not exist")
    return path


def _callback_host(text: str) -> str:
    host = text.strip().lower()
    if host != "*" and (not host or any(c in host for c in "/:@ ?#")):
        raise argparse.ArgumentTypeError(f"expected a host name or '*', got {text!r}")
    return host


def serve_flags(serve: argparse.ArgumentParser) -> None:
    serve.add_argument(
        "--host", type=_host, default=LOOPBACK, help="address to bind (default 127.0.0.1)"
    )
    serve.add_argument(
        "--port", type=_whole(0, 65535), default=8080, help="port, 0 to 65535 (0 picks a free one)"
    )
    serve.add_argument("--config", type=config, help="TOML file with [[account]] tables")
    serve.add_argument(
        "--seed", type=_whole(0, 2**63 - 1), default=0, help="seed for REQUESTIDs and outcomes"
    )
    serve.add_argument(
        "--clock",
        choices=("real", "manual"),
        default="real",
        help="real: time follows the wall clock (scaled by --speed); "
        "manual: frozen until advanced through the control API",
    )
    serve.add_argument(
        "--speed",
        type=_real(0, 1e6),
        default=None,  # None: not given, so --clock manual can refuse a given one
        help="virtual seconds per real second with --clock real (default 1; 60: a minute a second)",
    )
    serve.add_argument(
        "--start",
        type=_start,
        default=None,
        help="virtual start moment, ISO-8601 or 'now' (default 2026-01-01T00:00Z)",
    )
    serve.add_argument(
        "--max-body",
        type=_whole(1, 256 * 1024 * 1024),
        default=64 * 1024,
        help="largest API request body in bytes (default 65536)",
    )
    serve.add_argument(
        "--read-timeout",
        type=_real(0, 3600, above_low=True),
        default=10.0,
        help="seconds a client may take to send a request, headers and body; "
        "idle keep-alive connections close after it too (default 10)",
    )
    serve.add_argument(
        "--journal-limit",
        type=_whole(1, 100_000_000),
        default=10_000,
        help="journal entries kept per tenant (default 10000)",
    )
    serve.add_argument(
        "--ended-limit",
        type=_whole(1, 100_000_000),
        default=100_000,
        help="ended calls kept per tenant (default 100000)",
    )
    serve.add_argument(
        "--control-token",
        type=_token,
        default=os.environ.get("MOCK_ANVEO_CONTROL_TOKEN"),
        help="require this token on the control API (default: $MOCK_ANVEO_CONTROL_TOKEN)",
    )
    serve.add_argument(
        "--state-file",
        type=_state_file,
        help="restore state from this file at start, save it at shutdown",
    )
    serve.add_argument(
        "--callback-allow",
        action="append",
        type=_callback_host,
        default=[],
        metavar="HOST",
        help="also send notifications and SMS forwards to HOST (repeatable; '*' allows every "
        "host, with a warning); by default only loopback hosts are called",
    )
    serve.add_argument(
        "--callback-timeout",
        type=_real(0, 600, above_low=True),
        default=5.0,
        help="seconds one notification attempt may take (default 5)",
    )
    serve.add_argument(
        "--url-file",
        type=_url_file,
        help="write the server's base URL here once it listens (for CI)",
    )
    serve.add_argument(
        "--quiet",
        action="store_true",
        help="print no line per exchange and state change (start and stop lines only)",
    )
    serve.add_argument(
        "--log-format",
        choices=("text", "json"),
        default="text",
        help="the console log: text (coloured on a terminal) or json (one object a line)",
    )
