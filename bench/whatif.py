"""Prototypes of the proposed optimisations, applied to a running server by monkeypatching.

The profile (``python -m bench profile``) starts mock-anveo with ``whatif.apply("a,b")`` as a
prelude, to measure what each proposal in docs/benchmarks.md would gain *before* anyone edits
mock_anveo/. Nothing here is used by the server itself.

A patch whose target has moved raises :class:`TargetMoved` naming the target: a prototype that
silently changes nothing would be measured as "no gain". Each patch checks that the name it
replaces exists *and* that the function which is meant to read it still does (by name, in its
own module), so a move of either the setting or its reader is caught. ``python -m bench whatif``
applies every patch in a throwaway process to check them all.

Patches:
- ``gc-freeze``: after every full (generation 2) collection, ``gc.freeze()`` the survivors, so
  long-lived calls and journal entries are never traversed again (pauses bounded by growth).
- ``gc-freeze-young``: freeze after every generation-1 collection too: whatever survived two
  young collections (pending calls, journal entries) is never traversed again, so full
  collections find nothing to do. Cyclic garbage that old is only reclaimed by an explicit
  ``gc.unfreeze(); gc.collect()``.
- ``no-memo``: turn off the memo of accepted requests (``pipeline.MEMO_BODY_MAX = -1``, read by
  ``pipeline.receive``), so every request is parsed and validated: what the memo saves.
- ``public-read``: take the body with aiohttp's public ``read_nowait`` instead of in place
  from its buffer (``app._buffered``, read by ``app._read_body``): the price of the re-entry
  into the HTTP parser.
- ``gc-young-every-10``: the interpreter's default generation-1 threshold (10) instead of the
  2 that ``gctune`` sets (``gctune.YOUNG_PER_GEN1``, read by ``gctune.install``), to show what
  the shorter generation-1 pauses buy.
"""

from __future__ import annotations

import argparse
import gc
import sys
from collections.abc import Callable
from types import FunctionType, ModuleType
from typing import Any

APPLIED: list[str] = []


class TargetMoved(RuntimeError):
    """The code a what-if patches is no longer where the patch expects it."""


def replace(patch: str, module: ModuleType, name: str, value: object, *, read_by: str) -> None:
    """Set ``module.name`` to ``value``, after checking that it exists and that the function
    ``module.read_by`` still reads it as a global; raise :class:`TargetMoved` otherwise."""
    target = f"{module.__name__}.{name}"
    if not hasattr(module, name):
        raise TargetMoved(
            f"what-if {patch!r}: {target} is gone; find where it moved and update bench/whatif.py"
        )
    reader = getattr(module, read_by, None)
    if not isinstance(reader, FunctionType) or name not in _globals_read(reader):
        raise TargetMoved(
            f"what-if {patch!r}: {module.__name__}.{read_by} no longer reads "
            f"{target}, so setting it would change nothing; update "
            f"bench/whatif.py"
        )
    setattr(module, name, value)


def _globals_read(function: FunctionType) -> set[str]:
    """Global names the function (or a function nested in it) looks up."""
    names: set[str] = set()
    codes = [function.__code__]
    while codes:
        code = codes.pop()
        names.update(code.co_names)
        codes.extend(c for c in code.co_consts if hasattr(c, "co_names"))
    return names


def _gc_freeze() -> None:
    def after_full_collection(phase: str, info: dict[str, Any]) -> None:
        if phase == "stop" and info.get("generation") == 2:
            gc.freeze()

    gc.callbacks.append(after_full_collection)


def _gc_freeze_young() -> None:
    def after_collection(phase: str, info: dict[str, Any]) -> None:
        if phase == "stop" and info.get("generation", 0) >= 1:
            gc.freeze()

    gc.callbacks.append(after_collection)


def _no_memo() -> None:
    from mock_anveo.wire import pipeline

    # No body is short enough to be remembered. If the memo moves into a class, this fails
    # here rather than guessing at the new home.
    replace("no-memo", pipeline, "MEMO_BODY_MAX", -1, read_by="receive")


def _public_read() -> None:
    from aiohttp import web

    from mock_anveo.http import app

    def buffered(request: web.Request) -> bytes | None:
        content = request.content
        return content.read_nowait() if content.is_eof() else None

    replace("public-read", app, "_buffered", buffered, read_by="_read_body")


def _gc_young_every_10() -> None:
    from mock_anveo.http import gctune

    if getattr(gctune, "_installed", False):
        raise TargetMoved(
            "what-if 'gc-young-every-10': mock_anveo.http.gctune.install() has "
            "already run, so the threshold is set; apply the patch before it"
        )
    replace("gc-young-every-10", gctune, "YOUNG_PER_GEN1", 10, read_by="install")


PATCHES: dict[str, Callable[[], None]] = {
    "gc-freeze": _gc_freeze,
    "gc-freeze-young": _gc_freeze_young,
    "no-memo": _no_memo,
    "public-read": _public_read,
    "gc-young-every-10": _gc_young_every_10,
}


def apply(names: str) -> None:
    """Apply the comma-separated patches; an unknown name or a moved target raises."""
    for name in filter(None, (n.strip() for n in names.split(","))):
        if name not in PATCHES:
            raise ValueError(f"unknown what-if {name!r}; known: {', '.join(PATCHES)}")
        PATCHES[name]()
        APPLIED.append(name)
    print(f"whatif applied={APPLIED}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    """Apply the named patches (all by default) in this process: a check that each still
    finds its target. Exit status 1, naming the target, when one has moved."""
    parser = argparse.ArgumentParser(
        prog="python -m bench whatif",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "patches",
        nargs="?",
        default=",".join(PATCHES),
        help=f"comma-separated, of {', '.join(PATCHES)} (default: all)",
    )
    args = parser.parse_args(argv)
    try:
        apply(args.patches)
    except (TargetMoved, ValueError) as exc:
        print(f"bench whatif: {exc}", file=sys.stderr)
        return 1
    print(f"every what-if found its target: {', '.join(APPLIED)}")
    return 0
