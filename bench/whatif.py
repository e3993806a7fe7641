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
- ``read-body``: skip ``asyncio.timeout`` (a TimerHandle per request) when the body is
  already fully buffered, which it is for any request that arrived in one segment.
- ``validate-cache``: remember the verdict of ``actions.validate`` for each distinct
  (action, parameters, variables) it accepted (bounded; refusals are never cached), so the
  canonical tree and the actions.xsd pass are skipped for repeated parameter sets.
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


def _read_body() -> None:
    from aiohttp import web

    from mock_anveo import app
    from mock_anveo.errors import AnveoError, Code

    slow = app._read_body

    async def read_body(request: web.Request, options: Any) -> bytes:
        if not request.content.is_eof():
            return await slow(request, options)
        length = request.content_length
        if length is not None and length > options.max_body:
            return await slow(request, options)  # the original explains the refusal
        body = await request.read()
        if len(body) > options.max_body:
            raise AnveoError(Code.BODY_TOO_LARGE, f"the body is {len(body)} bytes; this server "
                                                  f"takes at most {options.max_body}")
        return body

    app._read_body = read_body  # type: ignore[assignment]


def _validate_cache() -> None:
    from mock_anveo import actions

    slow = actions.validate
    cache: dict[tuple[Any, ...], tuple[Any, dict[str, str]]] = {}

    def validate(request: Any) -> tuple[Any, dict[str, str]]:
        key = (request.action, tuple(request.params), tuple(request.variables))
        hit = cache.get(key)
        if hit is None:
            hit = slow(request)  # refusals raise and are never cached
            if len(cache) >= 4096:
                cache.clear()
            cache[key] = hit
        return hit[0], dict(hit[1])

    actions.validate = validate


PATCHES = {"gc-freeze": _gc_freeze, "gc-freeze-young": _gc_freeze_young,
           "read-body": _read_body, "validate-cache": _validate_cache}


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
