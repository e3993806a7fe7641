"""State shared by the Anveo doors and the control API: app keys, server options, error log.

A leaf of the ``http`` package: ``app`` (the doors) and ``control`` (the JSON API) both import
it, and neither imports the other's internals.
"""

from __future__ import annotations

import asyncio
import contextlib
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from ..sim.world import World

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
#: Unexpected exceptions kept for the control API (and the pytest plugin).
ERRORS_KEPT = 100


@dataclass(slots=True)
class ServerOptions:
    """Bounds and switches of one server (the CLI and the controller fill these in)."""

    max_body: int = 64 * 1024
    read_timeout: float = 10.0
    control_token: str | None = None
    callback_timeout: float = 5.0  # seconds one notification attempt may take
    callback_concurrency: int = 32  # notification attempts in flight at once
    shutting_down: bool = False
    # Set at shutdown so injected latency and hangs end at once instead of holding it up.
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    # Where ``serve`` prints exchanges and state changes (http.console.Console); None: silent.
    console: Callable[[dict[str, Any]], None] | None = None


WORLD = web.AppKey("world", World)
OPTIONS = web.AppKey("options", ServerOptions)
INTERNAL_ERRORS = web.AppKey("internal_errors", list)  # list[dict[str, Any]]
STARTED = web.AppKey("started", float)
#: The request key a door leaves its exchange under, for the console log (a typed key where
#: aiohttp has them, 3.12+; older versions take the plain string).
EXCHANGE: Any = (
    web.RequestKey("exchange", object) if hasattr(web, "RequestKey") else "mock_anveo.exchange"
)


async def pause(options: ServerOptions, seconds: float) -> None:
    """Wait ``seconds``, or less if the server starts shutting down meanwhile."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(options.stopping.wait(), seconds)


def note_internal_error(
    request: web.Request, exc: BaseException, where: str, userkey: str | None
) -> None:
    """Keep an unexpected exception for the control API (bounded to the last 100)."""
    errors: list[dict[str, Any]] = request.config_dict[INTERNAL_ERRORS]
    errors.append(
        {
            "where": where,
            "userkey": userkey,
            "error": repr(exc),
            "traceback": "".join(traceback.format_exception(exc)),
        }
    )
    del errors[:-ERRORS_KEPT]
