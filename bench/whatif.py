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
- ``gc-freeze-full-only``: freeze the survivors after full (generation 2) collections only,
  the cautious policy (``gctune.GENERATION = 2``, read by ``gctune._freeze_after_collection``),
  to show what freezing after generation-1 collections too, as shipped, buys. (The earlier
  ``gc-freeze`` and ``gc-freeze-young`` prototypes added their own ``gc.callbacks`` beside
  gctune's once gctune shipped that policy, and so changed nothing: they are gone.)
- ``gc-no-tuning``: the interpreter's own collector, no freezing and default thresholds:
  ``gctune.install`` finds itself already installed (``gctune._installed = True``, read by
  ``gctune.install``) and does nothing, to show what gctune buys as a whole. A reset or a
  restore still freezes once (``gctune.thaw``).
- ``no-memo``: turn off the memo of accepted requests (``pipeline.MEMO_BODY_MAX = -1``, read by
  ``pipeline.Pipeline.__init__``), so every request is parsed and validated: what the memo saves.
- ``public-read``: take the body with aiohttp's public ``read_nowait`` instead of in place
  from its buffer (``body.in_place``, read by ``body.buffered``): the price of the re-entry
  into the HTTP parser.
- ``gc-young-every-10``: the interpreter's default generation-1 threshold (10) instead of the
  2 that ``gctune`` sets (``gctune.YOUNG_PER_GEN1``, read by ``gctune.install``), to show what
  the shorter generation-1 pauses buy.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Callable
from types import FunctionType, ModuleType

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
    reader: object = module
    for part in read_by.split("."):  # a function, or a method such as "Class.__init__"
        reader = getattr(reader, part, None)
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


def _not_yet_installed(patch: str) -> ModuleType:
    """``gctune``, after checking that its policy is not installed yet: a patch applied after
    ``install()`` would change nothing."""
    from mock_anveo.http import gctune

    if getattr(gctune, "_installed", False):
        raise TargetMoved(
            f"what-if {patch!r}: mock_anveo.http.gctune.install() has already run (or "
            "gc-no-tuning disabled it), so the collector policy is set: apply it before that"
        )
    return gctune


def _gc_freeze_full_only() -> None:
    gctune = _not_yet_installed("gc-freeze-full-only")
    replace("gc-freeze-full-only", gctune, "GENERATION", 2, read_by="_freeze_after_collection")


def _gc_no_tuning() -> None:
    gctune = _not_yet_installed("gc-no-tuning")
    replace("gc-no-tuning", gctune, "_installed", True, read_by="install")


def _no_memo() -> None:
    from mock_anveo.wire import pipeline

    # No body is short enough to be remembered (each Pipeline reads the bound when built).
    replace("no-memo", pipeline, "MEMO_BODY_MAX", -1, read_by="Pipeline.__init__")


def _public_read() -> None:
    from mock_anveo.http import body

    # in_place answering None is the signal that aiohttp's internals moved: read_nowait then.
    replace("public-read", body, "in_place", lambda content: None, read_by="buffered")


def _gc_young_every_10() -> None:
    gctune = _not_yet_installed("gc-young-every-10")
    replace("gc-young-every-10", gctune, "YOUNG_PER_GEN1", 10, read_by="install")


PATCHES: dict[str, Callable[[], None]] = {
    "gc-freeze-full-only": _gc_freeze_full_only,
    "gc-no-tuning": _gc_no_tuning,
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
    """Apply the named patches together in this process, or with none named, each patch alone
    in a fresh process (some exclude each other): a check that each still finds its target.
    Exit status 1, naming the target, when one has moved."""
    parser = argparse.ArgumentParser(
        prog="python -m bench whatif",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "patches", nargs="?", help=f"comma-separated, of {', '.join(PATCHES)} (default: each)"
    )
    args = parser.parse_args(argv)
    if args.patches is None:
        failed = [
            name
            for name in PATCHES
            if subprocess.run(
                [sys.executable, "-m", "bench", "whatif", name], check=False, timeout=120
            ).returncode
        ]
        if failed:
            print(f"bench whatif: failed: {', '.join(failed)}", file=sys.stderr)
            return 1
        print(f"every what-if found its target: {', '.join(PATCHES)}")
        return 0
    try:
        apply(args.patches)
    except (TargetMoved, ValueError) as exc:
        print(f"bench whatif: {exc}", file=sys.stderr)
        return 1
    return 0
