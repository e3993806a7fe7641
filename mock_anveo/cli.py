"""Command line: ``mock-anveo serve`` runs the server, ``mock-anveo check`` validates offline.

Every flag's value is checked by its argparse type function, so a bad value is refused before
anything starts, on one line naming the flag, with exit code 2.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import math
import os
import re
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

from ._version import __version__
from .errors import Code
from .http import gctune
from .http.base import ServerOptions
from .http.server import LOOPBACK, is_loopback, start
from .http.statefile import StateFile
from .sim.accounts import Account, default_account, load_accounts
from .sim.clock import DEFAULT_EPOCH, parse_iso
from .sim.setup import EARLIEST, LATEST
from .sim.world import Settings, World
from .wire import pipeline

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


def _real(low: float, high: float, *, above_low: bool = False) -> Callable[[str], float]:
    least = f"more than {low:g}" if above_low else f"from {low:g}"

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or not low <= value <= high or (above_low and value == low):
            raise argparse.ArgumentTypeError(f"must be a number {least} to {high:g}, got {text!r}")
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


def _config(text: str) -> list[Account]:
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


def _serve_parser(serve: argparse.ArgumentParser) -> None:
    serve.add_argument(
        "--host", type=_host, default=LOOPBACK, help="address to bind (default 127.0.0.1)"
    )
    serve.add_argument(
        "--port", type=_whole(0, 65535), default=8080, help="port, 0 to 65535 (0 picks a free one)"
    )
    serve.add_argument("--config", type=_config, help="TOML file with [[account]] tables")
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
        default=1.0,
        help="virtual seconds per real second with --clock real (60: a minute a second)",
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
        "--url-file",
        type=_url_file,
        help="write the server's base URL here once it listens (for CI)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (also used by the docs test to check the README's flags)."""
    parser = argparse.ArgumentParser(
        prog="mock-anveo",
        description=("Offline, deterministic test double of the Anveo telephony API."),
    )
    parser.add_argument("--version", action="version", version=f"mock-anveo {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    _serve_parser(commands.add_parser("serve", help="run the server"))
    check = commands.add_parser(
        "check",
        help="validate a request document offline",
        description="Answer a request document as a freshly started server would (its "
        "default account, or --config's), or with --document-only check the "
        "document alone: syntax, schema and parameter rules.",
    )
    check.add_argument("file", help="request XML file, or - for standard input")
    mode = check.add_mutually_exclusive_group()
    mode.add_argument(
        "--config",
        type=_config,
        help="accounts to check USERKEYs, caller IDs and call flows against",
    )
    mode.add_argument(
        "--document-only",
        action="store_true",
        help="check only syntax, schema and parameter rules: any USERKEY, "
        "CALLERID or CALLFLOW passes",
    )
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    settings = Settings(accounts=args.config or [default_account()], seed=getattr(args, "seed", 0))
    if args.command == "serve":
        settings.clock_rate = 0.0 if args.clock == "manual" else args.speed
        settings.start = DEFAULT_EPOCH if args.start is None else args.start
        settings.journal_limit = args.journal_limit
        settings.ended_limit = args.ended_limit
    return settings


def check(args: argparse.Namespace) -> int:
    """Validate one document as the server would; print its reply; 0 when it succeeds."""
    try:
        data = sys.stdin.buffer.read() if args.file == "-" else Path(args.file).read_bytes()
    except OSError as exc:
        print(f"mock-anveo check: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return 2
    if args.document_only:
        return _check_document(args.file, data)
    world = World(_settings(args))
    exchange = pipeline.handle(world, "v3", data)
    sys.stdout.write(exchange.body.decode("utf-8"))
    if exchange.error is not None:
        print(
            f"{args.file}: {exchange.error.code.value}: {exchange.error.message}", file=sys.stderr
        )
        return 1
    return 0


def _check_document(name: str, data: bytes) -> int:
    """Parse and validate only: a world without accounts refuses every USERKEY, and that
    refusal comes only after the document passed syntax, schema and parameter rules."""
    exchange = pipeline.Pipeline(World(Settings(accounts=[]))).receive("v3", data)
    error = exchange.error
    if error is not None and error.code is not Code.UNKNOWN_USERKEY:
        pipeline.execute(exchange)
        sys.stdout.write(exchange.body.decode("utf-8"))
        print(f"{name}: {error.code.value}: {error.message}", file=sys.stderr)
        return 1
    print(
        f"{name}: a valid {exchange.action} request (document only: the USERKEY, SIGNATURE, "
        "caller IDs, call flows and funds were not checked)"
    )
    return 0


async def serve(args: argparse.Namespace) -> int:
    """Run until SIGINT or SIGTERM, then shut down cleanly."""
    world = World(_settings(args), monotonic=time.monotonic, wallclock=time.time)
    state: StateFile | None = args.state_file
    if state is not None:
        print(f"mock-anveo: {state.restore(world)}", flush=True)
    options = ServerOptions(
        max_body=args.max_body, read_timeout=args.read_timeout, control_token=args.control_token
    )
    try:
        running = await start(world, options, host=args.host, port=args.port)
    except OSError as exc:
        print(
            f"mock-anveo: cannot listen on --host {args.host} --port {args.port}: "
            f"{exc.strerror or exc}",
            file=sys.stderr,
        )
        return 2
    gctune.install()  # this process is ours: tune the collector for long-lived state
    if not is_loopback(args.host):
        print(
            f"mock-anveo: WARNING: listening on {args.host}, reachable from other machines; "
            + (
                "the control API needs its token"
                if options.control_token
                else "the control API is OPEN to anyone who can connect (set --control-token)"
            ),
            file=sys.stderr,
            flush=True,
        )
    keys = ", ".join(world.tenants) or "(none)"
    print(f"mock-anveo {__version__} listening on {running.url}", flush=True)
    print(f"  v3 door: POST {running.url}/api/v3.asp   USERKEY: {keys}", flush=True)
    print(f"  control: {running.url}/_mock/  (Ctrl-C stops)", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    # Only now: a CI script that signals as soon as the file appears gets a clean stop (and
    # the state saved), not the default handler's instant death.
    if args.url_file:
        args.url_file.write_text(running.url + "\n", encoding="utf-8")
    await stop.wait()
    print("mock-anveo: stopping", flush=True)
    await running.stop()
    if state is not None:
        try:
            print(f"mock-anveo: {state.save(world)}", flush=True)
        except OSError as exc:
            print(
                f"mock-anveo: cannot save the state to {state.path} (--state-file): "
                f"{exc.strerror or exc}",
                file=sys.stderr,
            )
            return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``mock-anveo`` console script and ``python -m mock_anveo``."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # argparse: --help, --version (0) or a bad flag (2)
        return int(exc.code or 0)
    if args.command == "check":
        return check(args)
    return asyncio.run(serve(args))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
