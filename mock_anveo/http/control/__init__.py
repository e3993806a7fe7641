"""The JSON control API under ``/_mock/``: tenants, clocks, calls, journal, scenarios, faults.

Bad requests get ``{"error": message, "field": name}`` with a 4xx status (``common.refusal``).
The prefix can never collide with Anveo's ``.asp`` paths. When the server has a control token,
every control path but ``/_mock/health`` needs ``Authorization: Bearer TOKEN`` (or
``X-Mock-Token: TOKEN``).
"""

from __future__ import annotations

from aiohttp import web

from ...errors import ControlError
from .. import events
from ..base import Handler
from . import clock, notify, records, rules, system, tenants
from .common import PREFIX, guarded

__all__ = ["PREFIX", "make_control_app"]


async def no_route(request: web.Request) -> web.Response:
    """Any other path or method under the prefix: 404, or 405 naming the allowed methods."""
    allowed: set[str] = set()
    for resource in request.app.router.resources():
        if resource is not request.match_info.route.resource:
            _, methods = await resource.resolve(request)
            allowed |= methods
    if allowed:
        raise web.HTTPMethodNotAllowed(request.method, allowed)
    # A sink URL with extra segments (``/sink/a/b``) captures nothing: say how one is spelt.
    spelling = (
        f"a sink captures at {PREFIX}/sink/NAME and is read at {PREFIX}/sinks/NAME, NAME being "
        "one path segment (no '/')"
    )
    where = f"{request.method} {request.path}"
    if request.path.startswith(f"{PREFIX}/sink/"):
        raise ControlError(404, f"{where} is not a sink URL, so nothing was captured: {spelling}")
    if request.path.startswith(f"{PREFIX}/sinks/"):
        raise ControlError(404, f"{where} reads no sink: {spelling}")
    raise web.HTTPNotFound


#: The handlers that read filters from the query string; every other one refuses a query.
_READS_QUERY: frozenset[Handler] = frozenset(
    {
        records.list_calls,
        records.get_journal,
        records.unattributed_journal,
        notify.list_notifications,
        notify.capture,  # the sink keeps whatever query a forward carries
    }
)


#: The handlers that read a body (and the rules' create handlers); every other one refuses one.
_READS_BODY: frozenset[Handler] = frozenset(
    {
        tenants.create_tenant,
        tenants.patch_tenant,
        clock.patch_clock,
        clock.advance_clock,
        system.put_snapshot,
        notify.sms_inbound,
        notify.capture,  # the sink keeps whatever a notification carries
    }
)


def make_control_app() -> web.Application:
    """The control API as a sub-application, to be mounted at ``/_mock/``."""
    app = web.Application()
    t = "/tenants/{userkey}"
    table: list[tuple[str, str, Handler]] = [
        ("GET", "", system.index),  # /_mock without its slash
        ("GET", "/", system.index),
        ("GET", "/health", system.health),
        ("GET", "/openapi.json", system.openapi),
        ("POST", "/reset", system.reset),
        ("GET", "/errors", system.errors),
        ("GET", "/events", events.stream),
        ("GET", "/journal", records.unattributed_journal),
        ("GET", "/snapshot", system.get_snapshot),
        ("PUT", "/snapshot", system.put_snapshot),
        ("GET", "/tenants", tenants.list_tenants),
        ("POST", "/tenants", tenants.create_tenant),
        ("GET", t, tenants.get_tenant),
        ("PATCH", t, tenants.patch_tenant),
        ("DELETE", t, tenants.delete_tenant),
        ("POST", t + "/reset", tenants.reset_tenant),
        ("GET", t + "/errors", tenants.tenant_errors),
        ("GET", t + "/clock", clock.get_clock),
        ("PATCH", t + "/clock", clock.patch_clock),
        ("POST", t + "/clock/advance", clock.advance_clock),
        ("GET", t + "/calls", records.list_calls),
        ("GET", t + "/calls/{requestid}", records.get_call),
        ("GET", t + "/journal", records.get_journal),
        ("DELETE", t + "/journal", records.clear_journal),
        ("GET", t + "/sms", records.list_sms),
        ("GET", t + "/notifications", notify.list_notifications),
        ("POST", t + "/sms/inbound", notify.sms_inbound),
        ("*", "/sink/{name}", notify.capture),
        ("GET", "/sinks/{name}", notify.read_sink),
        ("DELETE", "/sinks/{name}", notify.clear_sink),
    ]
    bodies = set(_READS_BODY)
    for kind in ("scenario", "fault"):
        handlers = rules.routes(kind)
        path = f"{t}/{kind}s"
        bodies.add(handlers["create"])
        table += [
            ("GET", path, handlers["list"]),
            ("POST", path, handlers["create"]),
            ("DELETE", path, handlers["delete_all"]),
            ("DELETE", path + "/{rule_id}", handlers["delete_one"]),
        ]
    for method, path, handler in table:
        wrapped = guarded(
            handler, takes_query=handler in _READS_QUERY, takes_body=handler in bodies
        )
        app.router.add_route(method, path, wrapped)
        if method == "GET":
            app.router.add_route("HEAD", path, wrapped)
    # Last: only what nothing else matched.
    # A body or a query there is beside the point: the answer is 404 or 405, naming the path.
    unmatched = guarded(no_route, takes_query=True, takes_body=True)
    app.router.add_route("*", "", unmatched)
    app.router.add_route("*", "/{tail:.*}", unmatched)
    return app
