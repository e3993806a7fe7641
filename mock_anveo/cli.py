"""Command line: ``mock-anveo serve`` runs the server, ``mock-anveo check`` validates offline."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import time
from pathlib import Path

from ._version import __version__
from .http import gctune
from .http.app import ServerOptions
from .http.server import LOOPBACK, is_loopback, start
from .sim.accounts import default_account, load_accounts
from .sim.clock import DEFAULT_EPOCH, parse_iso
from .sim.world import Settings, World
from .wire import pipeline


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _speed(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 1e6:
        raise argparse.ArgumentTypeError(f"must be from 0 to 1000000, got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (also used by the docs test to check the README's flags)."""
    parser = argparse.ArgumentParser(prog="mock-anveo", description=(
        "Offline, deterministic test double of the Anveo telephony API."))
    parser.add_argument("--version", action="version", version=f"mock-anveo {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the server")
    serve.add_argument("--host", default=LOOPBACK, help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8080, help="port (0 picks a free one)")
    serve.add_argument("--config", type=Path, help="TOML file with [[account]] tables")
    serve.add_argument("--seed", type=int, default=0, help="seed for REQUESTIDs and outcomes")
    serve.add_argument("--clock", choices=("real", "manual"), default="real",
                       help="real: time follows the wall clock (scaled by --speed); "
                            "manual: frozen until advanced through the control API")
    serve.add_argument("--speed", type=_speed, default=1.0,
                       help="virtual seconds per real second with --clock real (60: a minute "
                            "a second)")
    serve.add_argument("--start", default=None,
                       help="virtual start moment, ISO-8601 or 'now' (default 2026-01-01T00:00Z)")
    serve.add_argument("--max-body", type=_positive_int, default=64 * 1024,
                       help="largest API request body in bytes (default 65536)")
    serve.add_argument("--read-timeout", type=float, default=10.0,
                       help="seconds a client may take to send a request, headers and body; "
                            "idle keep-alive connections close after it too (default 10)")
    serve.add_argument("--journal-limit", type=_positive_int, default=10_000,
                       help="journal entries kept per tenant (default 10000)")
    serve.add_argument("--ended-limit", type=_positive_int, default=100_000,
                       help="ended calls kept per tenant (default 100000)")
    serve.add_argument("--control-token", default=os.environ.get("MOCK_ANVEO_CONTROL_TOKEN"),
                       help="require this token on the control API "
                            "(default: $MOCK_ANVEO_CONTROL_TOKEN)")
    serve.add_argument("--state-file", type=Path,
                       help="restore state from this file at start, save it at shutdown")
    serve.add_argument("--url-file", type=Path,
                       help="write the server's base URL here once it listens (for CI)")

    check = commands.add_parser("check", help="validate a request document offline")
    check.add_argument("file", help="request XML file, or - for standard input")
    check.add_argument("--config", type=Path, help="accounts to check USERKEYs against")
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    accounts = load_accounts(args.config) if args.config else [default_account()]
    settings = Settings(accounts=accounts, seed=getattr(args, "seed", 0))
    if getattr(args, "command", "") == "serve":
        settings.clock_rate = 0.0 if args.clock == "manual" else args.speed
        if args.start == "now":
            settings.start = time.time()
        elif args.start:
            settings.start = parse_iso(args.start)
        else:
            settings.start = DEFAULT_EPOCH
        settings.journal_limit = args.journal_limit
        settings.ended_limit = args.ended_limit
    return settings


def check(args: argparse.Namespace) -> int:
    """Validate one document as the server would; print its reply; 0 when it succeeds."""
    try:
        data = sys.stdin.buffer.read() if args.file == "-" else Path(args.file).read_bytes()
    except OSError as exc:
        print(f"mock-anveo check: cannot read {args.file}: {exc}", file=sys.stderr)
        return 2
    world = World(_settings(args))
    exchange = pipeline.handle(world, "v3", data)
    sys.stdout.write(exchange.body.decode("utf-8"))
    if exchange.error is not None:
        print(f"{args.file}: {exchange.error.code.value}: {exchange.error.message}",
              file=sys.stderr)
        return 1
    return 0


async def serve(args: argparse.Namespace) -> int:
    """Run until SIGINT or SIGTERM, then shut down cleanly."""
    world = World(_settings(args), monotonic=time.monotonic, wallclock=time.time)
    state = None
    if args.state_file:
        from .http import statefile

        state = statefile.StateFile(args.state_file)
        message = state.restore(world)
        if message:
            print(f"mock-anveo: {message}", flush=True)
    options = ServerOptions(max_body=args.max_body, read_timeout=args.read_timeout,
                            control_token=args.control_token or None)
    running = await start(world, options, host=args.host, port=args.port)
    gctune.install()  # this process is ours: tune the collector for long-lived state
    if not is_loopback(args.host):
        print(f"mock-anveo: WARNING: listening on {args.host}, reachable from other machines; "
              + ("the control API needs its token" if options.control_token else
                 "the control API is OPEN to anyone who can connect (set --control-token)"),
              file=sys.stderr, flush=True)
    keys = ", ".join(world.tenants) or "(none)"
    print(f"mock-anveo {__version__} listening on {running.url}", flush=True)
    print(f"  v3 door: POST {running.url}/api/v3.asp   USERKEY: {keys}", flush=True)
    print(f"  control: {running.url}/_mock/  (Ctrl-C stops)", flush=True)
    if args.url_file:
        args.url_file.write_text(running.url + "\n", encoding="utf-8")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    print("mock-anveo: stopping", flush=True)
    await running.stop()
    if state is not None:
        print(f"mock-anveo: {state.save(world)}", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``mock-anveo`` console script and ``python -m mock_anveo``."""
    args = build_parser().parse_args(argv)
    try:
        if args.command == "check":
            return check(args)
        return asyncio.run(serve(args))
    except ValueError as exc:  # a bad config or start moment: one clear line, no traceback
        print(f"mock-anveo: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"mock-anveo: cannot start: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
