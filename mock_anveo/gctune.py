"""Garbage-collector policy for a long-running standalone server.

A server holding many pending calls pays for every full collection in proportion to all the
objects it keeps: under load that is the p99 latency (pauses of hundreds of milliseconds at
100,000 calls). Objects that survived a full collection are overwhelmingly the long-lived state
(tenants, calls, journal entries), so after each one they are moved to the permanent
generation (``gc.freeze``) and never traversed again. The engine's own objects form no
reference cycles (``Tenant.close`` breaks the only one), so reference counting still frees them.

Only ``mock-anveo serve`` installs this: inside a user's test process the collector is theirs.
"""

from __future__ import annotations

import gc
from typing import Any

_installed = False


def _freeze_after_full_collection(phase: str, info: dict[str, Any]) -> None:
    if phase == "stop" and info.get("generation") == 2:
        gc.freeze()


def install() -> None:
    """Freeze start-up objects now, and the survivors of every later full collection."""
    global _installed  # noqa: PLW0603 - a process-wide switch, set once
    if _installed:
        return
    gc.collect()
    gc.freeze()
    gc.callbacks.append(_freeze_after_full_collection)
    _installed = True


def thaw() -> None:
    """Give frozen objects back to the collector and collect (after a reset or restore)."""
    if _installed:
        gc.unfreeze()
        gc.collect()
        gc.freeze()
