"""Outgoing messages: list them, make an SMS arrive, and the built-in sink (a request bin).

The sink is a capture URL on the mock itself, ``/_mock/sink/{name}``: it records every request
it gets (any method) and answers 200, or the status given as ``?status=N``; an account pointed
at it needs no receiving application. ``GET /_mock/sinks/{name}`` reads what arrived.
"""

from __future__ import annotations

from collections import deque
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from ...errors import ControlError
from ...sim.outbox import KINDS, STATES
from ..delivery import DELIVERY, drain
from ..views import message_view
from .common import Parse, choice, count, json_body, query, reply, tenant_of

SINK_KEPT = 1000
SINK_BODY_MAX = 64 * 1024
SINKS = web.AppKey("sinks", dict)  # name -> deque of captured requests
_LIST: dict[str, Parse] = {
    "type": choice("type", KINDS),
    "state": choice("state", STATES),
    "offset": count("offset"),
    "limit": count("limit"),
}


async def list_notifications(request: web.Request) -> web.Response:
    """GET .../notifications[?type=CALL&state=pending&offset=N&limit=N], oldest first."""
    tenant = tenant_of(request)
    q = query(request, _LIST)
    kind, state = q.get("type"), q.get("state")
    offset, limit = q.get("offset", 0), q.get("limit", 1_000_000)
    chosen = [
        m
        for m in tenant.outbox.messages.values()
        if (kind is None or m.kind == kind) and (state is None or m.state == state)
    ]
    return reply([message_view(m) for m in chosen[offset : offset + limit]])


async def sms_inbound(request: web.Request) -> web.Response:
    """POST .../sms/inbound with {"from", "to", "message"}: an SMS arrives on one of the
    account's numbers now; its forward's first attempt has completed when this answers."""
    tenant = tenant_of(request)
    doc = await json_body(request, required=True)
    unknown = sorted(set(doc) - {"from", "to", "message"})
    if unknown:
        raise ControlError(400, f"unknown fields {unknown}; valid: from, to, message", unknown[0])
    for name in ("from", "to", "message"):
        if name not in doc:
            raise ControlError(400, f"{name} is required", name)
    delivery = request.config_dict[DELIVERY]
    async with delivery.lock(tenant):
        message = tenant.sms_inbound(doc["from"], doc["to"], doc["message"])
        await drain(delivery, tenant, tenant.clock.now())
    if message is None:
        return reply({"forwarded": False, "reason": f"number {doc['to']} has no sms_url"}, 201)
    return reply({"forwarded": True, "message": message_view(message)}, 201)


async def capture(request: web.Request) -> web.Response:
    """Any method on /_mock/sink/{name}: record the request, answer 200 (or ``?status=N``)."""
    wanted = request.query.get("status", "200")
    status = int(wanted) if wanted.isdigit() and 200 <= int(wanted) <= 599 else 200
    body = await request.content.read(SINK_BODY_MAX)
    form: dict[str, str] = {}
    if request.content_type == "application/x-www-form-urlencoded":
        text = body.decode("utf-8", "replace")
        form = dict(parse_qsl(text, keep_blank_values=True))
    entry: dict[str, Any] = {
        "method": request.method,
        "path": request.path,
        "query": {k: v for k, v in request.query.items() if k != "status"},
        "raw_query": request.rel_url.raw_query_string,
        "form": form,
        "headers": dict(request.headers),
        "body": body.decode("utf-8", "replace"),
        "status": status,
    }
    sinks: dict[str, deque[dict[str, Any]]] = request.config_dict[SINKS]
    name = request.match_info["name"]
    sinks.setdefault(name, deque(maxlen=SINK_KEPT)).append(entry)
    return web.Response(status=status, text="OK" if status < 300 else "sink error")


async def read_sink(request: web.Request) -> web.Response:
    """GET /_mock/sinks/{name}: the requests the sink received, oldest first."""
    sinks = request.config_dict[SINKS]
    return reply(list(sinks.get(request.match_info["name"], ())))


async def clear_sink(request: web.Request) -> web.Response:
    """DELETE /_mock/sinks/{name}: forget what the sink received."""
    request.config_dict[SINKS].pop(request.match_info["name"], None)
    return reply({"cleared": request.match_info["name"]})
