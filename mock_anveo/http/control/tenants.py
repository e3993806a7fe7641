"""Tenant routes: list, create, read, change, delete and reset tenants (policy in sim.setup)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ...sim import setup
from ..base import INTERNAL_ERRORS, WORLD
from ..views import tenant_view
from .common import json_body, reply, tenant_of


def _base(request: web.Request) -> str:
    """This server's URL as the client reached it: where ``"sink"`` points (as the marker's
    ``anveo.sink_url``, made from the controller's base URL, does)."""
    return str(request.url.origin())


def _take_errors(request: web.Request, userkey: str) -> list[dict[str, Any]]:
    """Remove and return the unexpected exceptions recorded for ``userkey``."""
    errors = request.config_dict[INTERNAL_ERRORS]
    mine = [e for e in errors if e["userkey"] == userkey]
    errors[:] = [e for e in errors if e["userkey"] != userkey]
    return mine


async def list_tenants(request: web.Request) -> web.Response:
    """GET /_mock/tenants."""
    world = request.config_dict[WORLD]
    return reply([tenant_view(t) for t in world.tenants.values()])


async def create_tenant(request: web.Request) -> web.Response:
    """POST /_mock/tenants: a new tenant (userkey random when not given), rules included."""
    doc = await json_body(request)
    tenant = setup.build_tenant(request.config_dict[WORLD], doc, _base(request))
    return reply(tenant_view(tenant), 201)


async def get_tenant(request: web.Request) -> web.Response:
    """GET /_mock/tenants/{userkey}."""
    return reply(tenant_view(tenant_of(request)))


async def patch_tenant(request: web.Request) -> web.Response:
    """PATCH /_mock/tenants/{userkey}: change account fields (balance, caller IDs, ...)."""
    tenant = tenant_of(request)
    doc = await json_body(request, required=True)
    world = request.config_dict[WORLD]
    allow = world.settings.callback_allow
    setup.patch_tenant(tenant, doc, world.monotonic, allow, _base(request))
    return reply(tenant_view(tenant))


async def delete_tenant(request: web.Request) -> web.Response:
    """DELETE /_mock/tenants/{userkey}: returns (and forgets) its unexpected server errors."""
    userkey = tenant_of(request).account.userkey
    request.config_dict[WORLD].remove(userkey)
    return reply({"deleted": userkey, "errors": _take_errors(request, userkey)})


async def reset_tenant(request: web.Request) -> web.Response:
    """POST /_mock/tenants/{userkey}/reset: the tenant as it was created, nothing since."""
    userkey = tenant_of(request).account.userkey
    fresh = setup.rebuild(request.config_dict[WORLD], userkey)
    _take_errors(request, userkey)
    return reply(tenant_view(fresh))


async def tenant_errors(request: web.Request) -> web.Response:
    """GET .../errors: unexpected exceptions attributed to this tenant."""
    userkey = tenant_of(request).account.userkey
    return reply([e for e in request.config_dict[INTERNAL_ERRORS] if e["userkey"] == userkey])
