"""Scenario and fault rule routes: list, add (the core numbers them), delete one or all."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ...sim import setup
from ...sim.setup import RuleKind
from ...sim.tenant import Tenant
from ..base import Handler
from ..views import fault_view, scenario_view
from .common import json_body, reply, tenant_of


def _items(tenant: Tenant, kind: RuleKind) -> list[Any]:
    return tenant.rules if kind == "scenario" else tenant.faults


def _view(rule: Any, kind: RuleKind) -> dict[str, Any]:
    return scenario_view(rule) if kind == "scenario" else fault_view(rule)


def routes(kind: RuleKind) -> dict[str, Handler]:
    """The four handlers of one rule list, by name: list, create, delete_one, delete_all."""

    async def list_(request: web.Request) -> web.Response:
        return reply([_view(r, kind) for r in _items(tenant_of(request), kind)])

    async def create(request: web.Request) -> web.Response:
        tenant = tenant_of(request)
        doc = await json_body(request, required=True)
        return reply(_view(setup.add_rule(tenant, kind, doc), kind), 201)

    async def delete_one(request: web.Request) -> web.Response:
        setup.remove_rule(tenant_of(request), kind, request.match_info["rule_id"])
        return web.Response(status=204)

    async def delete_all(request: web.Request) -> web.Response:
        _items(tenant_of(request), kind).clear()
        return web.Response(status=204)

    return {"list": list_, "create": create, "delete_one": delete_one, "delete_all": delete_all}
