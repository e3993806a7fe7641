"""Prototypes of the proposed optimisations, applied to a running server by monkeypatching.

The profile (bench/profile_hotpath.py) starts mock-anveo with ``whatif.apply("a,b")`` as a
prelude, to measure what each proposal in docs/benchmarks.md would gain *before* anyone edits
mock_anveo/. Nothing here is used by the server itself. A patch whose target has moved (the
package is being edited) is skipped and reported, never fatal.

Patches:
- ``gc-freeze``: after every full (generation 2) collection, ``gc.freeze()`` the survivors, so
  long-lived calls and journal entries are never traversed again (pauses bounded by growth).
- ``gc-freeze-young``: freeze after every generation-1 collection too: whatever survived two
  young collections (pending calls, journal entries) is never traversed again, so full
  collections find nothing to do. Cyclic garbage that old is only reclaimed by an explicit
  ``gc.unfreeze(); gc.collect()``.
- ``no-memo``: turn off the memo of accepted requests (``pipeline.MEMO_BODY_MAX = -1``), so
  every request is parsed and validated: what the memo saves, measured in the same run.
- ``public-read``: take the body with aiohttp's public ``read_nowait`` instead of in place
  from its buffer (``body.in_place``): the price of the re-entry into the HTTP parser.
- ``gc-young-every-10``: the interpreter's default generation-1 threshold (10) instead of the
  2 that ``gctune`` sets, to show what the shorter generation-1 pauses buy.
"""

from __future__ import annotations

import gc
import sys
from typing import Any

APPLIED: list[str] = []
SKIPPED: list[str] = []


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

    pipeline.MEMO_BODY_MAX = -1  # no body is short enough to be remembered


def _public_read() -> None:
    from mock_anveo.http import body

    body.in_place = lambda content: None  # the checks "fail": read_nowait every time


def _gc_young_every_10() -> None:
    from mock_anveo.http import gctune

    gctune.YOUNG_PER_GEN1 = 10  # read by gctune.install(), which runs after the prelude


PATCHES = {"gc-freeze": _gc_freeze, "gc-freeze-young": _gc_freeze_young,
           "no-memo": _no_memo, "public-read": _public_read,
           "gc-young-every-10": _gc_young_every_10}


def apply(names: str) -> None:
    """Apply the comma-separated patches; report what was applied on stderr."""
    for name in filter(None, (n.strip() for n in names.split(","))):
        try:
            PATCHES[name]()
        except (AttributeError, ImportError, KeyError) as exc:
            SKIPPED.append(f"{name}: {exc!r}")
        else:
            APPLIED.append(name)
    print(f"whatif applied={APPLIED} skipped={SKIPPED}", file=sys.stderr, flush=True)
