"""Server-wide control routes: health, the OpenAPI document, reset, errors and snapshots."""

from __future__ import annotations

from aiohttp import web

from ..._version import __version__
from ...sim.snapshot import restore, snapshot
from .. import gctune
from ..base import INTERNAL_ERRORS, OPTIONS, STARTED, WORLD
from ..openapi import document
from .common import json_body, reply

#: What ``GET /_mock/`` points to: where to start reading the control API.
INDEX_LINKS = {
    "openapi": "/_mock/openapi.json",
    "health": "/_mock/health",
    "tenants": "/_mock/tenants",
    "journal": "/_mock/journal",
    "snapshot": "/_mock/snapshot",
    "errors": "/_mock/errors",
}


async def index(request: web.Request) -> web.Response:
    """GET /_mock and /_mock/: a small index of the control API, so the URL the start banner
    prints answers something useful."""
    return reply(
        {
            "name": "mock-anveo control API",
            "version": __version__,
            "links": INDEX_LINKS,
            "tenant": "/_mock/tenants/{userkey}",
        }
    )


async def health(request: web.Request) -> web.Response:
    """GET /_mock/health."""
    world = request.config_dict[WORLD]
    return reply(
        {
            "status": "ok",
            "version": __version__,
            "tenants": len(world.tenants),
            "seed": world.settings.seed,
            "started": request.config_dict[STARTED],
            # The dashboard asks for the token before its first read, not after a 401.
            "token_required": bool(request.config_dict[OPTIONS].control_token),
        }
    )


async def openapi(request: web.Request) -> web.Response:
    """GET /_mock/openapi.json: this API, described."""
    return reply(document())


async def reset(request: web.Request) -> web.Response:
    """POST /_mock/reset: back to the configured accounts, nothing else."""
    world = request.config_dict[WORLD]
    world.reset()
    request.config_dict[INTERNAL_ERRORS].clear()
    gctune.thaw()
    return reply({"status": "reset", "tenants": sorted(world.tenants)})


async def errors(request: web.Request) -> web.Response:
    """GET /_mock/errors: unexpected exceptions inside the server (should stay empty)."""
    return reply(request.config_dict[INTERNAL_ERRORS])


async def get_snapshot(request: web.Request) -> web.Response:
    """GET /_mock/snapshot: the whole state, restorable with PUT."""
    return reply(snapshot(request.config_dict[WORLD]))


async def put_snapshot(request: web.Request) -> web.Response:
    """PUT /_mock/snapshot: replace the whole state (all or nothing)."""
    count = restore(request.config_dict[WORLD], await json_body(request, required=True))
    return reply({"status": "restored", "tenants": count})
