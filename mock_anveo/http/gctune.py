"""Garbage-collector policy for a long-running standalone server.

A server holding many pending calls pays for every full collection in proportion to all the
objects it keeps: under load that is the p99 latency (pauses of hundreds of milliseconds at
100,000 calls). Objects that survive a generation-1 collection are overwhelmingly the long-lived
state (tenants, calls, journal entries), so after each such collection they are moved to the
permanent generation (``gc.freeze``) and never traversed again. The engine's own objects form no
reference cycles (``Tenant.close`` breaks the only one, and refused requests drop their
tracebacks), so reference counting still frees them. Measured under wrk: DIAL.CONNECT p99 69 ms
with freezing after full collections only, 7 ms after generation-1 ones, memory flat in both
(docs/benchmarks.md). ``MOCK_ANVEO_GC_FREEZE_GENERATION=2`` restores the cautious policy.

Only ``mock-anveo serve`` installs this: inside a user's test process the collector is theirs.
"""

from __future__ import annotations

import gc
import os
from typing import Any

_installed = False
#: Freeze after collections of this generation or older (1: also after gen-1 collections).
GENERATION = int(os.environ.get("MOCK_ANVEO_GC_FREEZE_GENERATION", "1"))
#: Young collections per generation-1 collection (the interpreter's default is 10).
YOUNG_PER_GEN1 = 2


def _freeze_after_collection(phase: str, info: dict[str, Any]) -> None:
    if phase == "stop" and info.get("generation", 0) >= GENERATION:
        gc.freeze()


def install() -> None:
    """Freeze start-up objects now, and the survivors of every later collection of
    generation ``GENERATION`` or older."""
    global _installed  # noqa: PLW0603 - a process-wide switch, set once
    if _installed:
        return
    gc.collect()
    gc.freeze()
    gc.callbacks.append(_freeze_after_collection)
    # A generation-1 collection traverses what survived the young collections since the last
    # one (pending calls, journal entries): every 2 of them instead of every 10 keeps each
    # pause near 0.2 ms instead of 1 ms, for about the same total work (measured under wrk).
    young, _, old = gc.get_threshold()
    gc.set_threshold(young, YOUNG_PER_GEN1, old)
    _installed = True


def thaw() -> None:
    """Give frozen objects back to the collector and collect (after a reset or restore)."""
    if _installed:
        gc.unfreeze()
        gc.collect()
        gc.freeze()
