"""``python -m bench COMMAND [ARGS]``: the one entry point of the benchmarks and the soak.

Run it from the repository root (``bench`` is not installed with the package). Every command
is bounded in time and talks to 127.0.0.1 only; ``python -m bench COMMAND --help`` shows its
flags.
"""

from __future__ import annotations

import importlib
import sys

#: command -> (module of bench, what it does). Imported only when chosen, so ``soak`` does not
#: pay for matplotlib, nor ``whatif`` for aiohttp.
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("run", "every benchmark -> docs/benchmarks.md (--smoke: seconds)"),
    "http": ("http_bench", "HTTP load: the floor and mock-anveo, same run"),
    "engine": ("engine_bench", "the engine alone: n calls over 60 days"),
    "fixture": ("fixture_bench", "per-test tenant cost and session start"),
    "memory": ("memory_bench", "server RSS under sustained load"),
    "notify": ("notify_bench", "n ended calls' notifications sent to a loopback receiver"),
    "stages": ("stages_bench", "in-process cost of each pipeline stage"),
    "profile": ("profile_hotpath", "py-spy profile and the what-if variants"),
    "whatif": ("whatif", "check that every what-if prototype still finds its target"),
    "soak": ("soak", "mixed and hostile traffic for a while, memory at start and end"),
    "loadgen": ("loadgen", "the Python load generator alone (loopback URLs only)"),
    "floor": ("floor_server", "the floor: bare aiohttp returning fixed bytes"),
}


def usage() -> str:
    """The list of commands."""
    rows = "\n".join(f"  {name:9} {text}" for name, (_, text) in COMMANDS.items())
    return f"usage: python -m bench COMMAND [ARGS]\n\ncommands:\n{rows}\n"


def main(argv: list[str] | None = None) -> int:
    """Dispatch to the chosen command's ``main``; its exit status is ours."""
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in ("-h", "--help"):
        print(usage())
        return 0 if args else 2
    command, rest = args[0], args[1:]
    if command not in COMMANDS:
        print(f"python -m bench: unknown command {command!r}\n\n{usage()}", file=sys.stderr)
        return 2
    module = importlib.import_module(f"bench.{COMMANDS[command][0]}")
    status = module.main(rest)
    return status if isinstance(status, int) else 0


if __name__ == "__main__":
    sys.exit(main())
