"""Command line: ``mock-anveo serve`` runs the server, ``mock-anveo check`` validates offline.

Every flag's value is checked by its argparse type function, so a bad value is refused before
anything starts, on one line naming the flag, with exit code 2.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import NoReturn

from . import flags
from ._version import __version__
from .errors import Code, SettingError
from .http import gctune
from .http.base import ServerOptions
from .http.console import Console
from .http.server import is_loopback, start
from .http.statefile import StateFile
from .sim import setup
from .sim.accounts import default_account
from .sim.clock import DEFAULT_EPOCH, iso
from .sim.world import Settings, World
from .wire import pipeline


class _Parser(argparse.ArgumentParser):
    """argparse, except that a mistake is one line naming it (no usage block above it)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (also used by the docs test to check the README's flags)."""
    parser = _Parser(
        prog="mock-anveo",
        description=("Offline, deterministic test double of the Anveo telephony API."),
    )
    parser.add_argument("--version", action="version", version=f"mock-anveo {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    flags.serve_flags(commands.add_parser("serve", help="run the server"))
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
        type=flags.config,
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
        speed = 1.0 if args.speed is None else args.speed
        settings.clock_rate = 0.0 if args.clock == "manual" else speed
        settings.start = DEFAULT_EPOCH if args.start is None else args.start
        settings.journal_limit = args.journal_limit
        settings.ended_limit = args.ended_limit
        settings.callback_allow = frozenset(args.callback_allow)
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


def _say(line: str, *, error: bool = False) -> None:
    """Print one line; a closed stdout or stderr (``serve ... | head -1``) is ignored, so
    printing can never stop the server or lose its state."""
    stream = sys.stderr if error else sys.stdout
    try:
        print(line, file=stream, flush=True)
    except (OSError, ValueError):
        # Point the dead stream at /dev/null: later prints and the interpreter's own flush at
        # exit then succeed silently instead of raising BrokenPipeError again.
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, stream.fileno())
            os.close(devnull)
        except (OSError, ValueError):
            pass


def _note(args: argparse.Namespace, kind: str, lines: list[str], **fields: object) -> None:
    """Print a line of the server's life on stdout: ``lines`` as text, or under
    ``--log-format json`` one object (``type``, wall time, ``fields``, the text as ``message``),
    so every stdout line is JSON for log tools; ``--quiet`` does not silence these."""
    if args.log_format != "json":
        for line in lines:
            _say(line)
        return
    event = {"type": kind, "wall": iso(time.time()), **fields, "message": lines[0]}
    _say(json.dumps(event, separators=(",", ":")))


async def serve(args: argparse.Namespace) -> int:
    """Run until SIGINT or SIGTERM, then shut down cleanly."""
    world = World(_settings(args), monotonic=time.monotonic, wallclock=time.time)
    state: StateFile | None = args.state_file
    # Said after the banner: scripts read the first stdout line as the listening URL.
    state_lines: list[str] = []
    if state is not None:
        restored = state.restore(world)
        state_lines.append(f"mock-anveo: {restored}")
        if args.config is not None and restored.startswith("restored"):
            state_lines.append(
                f"mock-anveo: --state-file {state.path} exists, so its tenants replace the "
                "accounts of --config (delete the file to start from --config)"
            )
    options = ServerOptions(
        max_body=args.max_body,
        read_timeout=args.read_timeout,
        control_token=args.control_token,
        callback_timeout=args.callback_timeout,
        console=None if args.quiet else Console(sys.stdout, args.log_format),
    )
    if not _callbacks_safe(world):
        return 2
    try:
        running = await start(world, options, host=args.host, port=args.port)
    except OSError as exc:
        _say(
            f"mock-anveo: cannot listen on --host {args.host} --port {args.port}: "
            f"{exc.strerror or exc}",
            error=True,
        )
        return 2
    gctune.install()  # this process is ours: tune the collector for long-lived state
    if not is_loopback(args.host):
        _say(
            f"mock-anveo: WARNING: listening on {args.host}, reachable from other machines; "
            + (
                "the control API needs its token"
                if options.control_token
                else "the control API is OPEN to anyone who can connect (set --control-token)"
            ),
            error=True,
        )
    keys = ", ".join(world.tenants) or "(none)"
    url = running.url
    _note(
        args,
        "listening",
        [
            f"mock-anveo {__version__} listening on {url}",
            f"  v3 door: POST {url}/api/v3.asp   USERKEY: {keys}",
            f"  control: {url}/_mock/  (Ctrl-C stops)",
            f"  dashboard: {url}/_mock/ui/",
        ],
        version=__version__,
        url=url,
        v3_door=f"{url}/api/v3.asp",
        control=f"{url}/_mock/",
        dashboard=f"{url}/_mock/ui/",
        userkeys=list(world.tenants),
    )
    for line in state_lines:
        _note(args, "state", [line], path=str(state.path) if state is not None else "")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    # Only now: a CI script that signals as soon as the file appears gets a clean stop (and
    # the state saved), not the default handler's instant death.
    if args.url_file:
        args.url_file.write_text(running.url + "\n", encoding="utf-8")
    await stop.wait()
    _note(args, "stopping", ["mock-anveo: stopping"])
    await running.stop()
    if args.url_file:  # the URL no longer answers: a stale file would mislead the next script
        args.url_file.unlink(missing_ok=True)
    if state is not None:
        try:
            saved = state.save(world)
        except OSError as exc:
            _say(
                f"mock-anveo: cannot save the state to {state.path} (--state-file): "
                f"{exc.strerror or exc}",
                error=True,
            )
            return 1
        _note(args, "state", [f"mock-anveo: {saved}"], path=str(state.path))
    return 0


def _callbacks_safe(world: World) -> bool:
    """Refuse configured notification URLs the safety rule forbids; warn about '*'."""
    allow = world.settings.callback_allow
    if "*" in allow:
        print(
            "mock-anveo: WARNING: --callback-allow '*': notifications and SMS forwards may be "
            "sent to ANY host",
            file=sys.stderr,
            flush=True,
        )
    for account in world.settings.accounts:
        try:
            setup.check_destinations(account, allow)
        except SettingError as exc:
            print(f"mock-anveo: account {account.userkey}: {exc.message}", file=sys.stderr)
            return False
    return True


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``mock-anveo`` console script and ``python -m mock_anveo``."""
    parser = build_parser()
    try:
        args, extra = parser.parse_known_args(argv)
        if (
            not extra
            and args.command == "serve"
            and args.clock == "manual"
            and args.speed is not None
        ):
            parser.error(
                "argument --speed: a manual clock has no speed, it moves only when advanced "
                "through the control API; drop --speed or use --clock real"
            )
    except SystemExit as exc:  # argparse: --help, --version (0) or a bad flag (2)
        return int(exc.code or 0)
    if extra:  # named by the command it was given to, which argparse's own line does not say
        prog = f"mock-anveo {args.command}"
        print(
            f"{prog}: error: unrecognized arguments: {' '.join(extra)} (see {prog} --help)",
            file=sys.stderr,
        )
        return 2
    if args.command == "check":
        return check(args)
    try:
        args.control_token = flags.token_from_env(args.control_token)
    except ValueError as exc:
        print(f"mock-anveo serve: error: {exc}", file=sys.stderr)
        return 2
    return asyncio.run(serve(args))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
