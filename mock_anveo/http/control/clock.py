"""Clock routes: read a tenant's clock, set its rate, and advance it (never backwards)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ...errors import SettingError
from ...sim import setup
from ...sim.bounds import bounded, shown_value
from ...sim.clock import ClockError, iso, parse_iso
from ...sim.tenant import Tenant
from ..base import WORLD
from ..delivery import DELIVERY, DeliveryOptions, drain
from ..views import clock_view
from .common import Refused, json_body, reply, tenant_of

#: The longest single advance: a year and a day, past the longest DELAY (60 days).
MAX_ADVANCE = 366 * 86400
#: How far ``until_idle`` goes by default: past the longest DELAY plus a day of calls.
IDLE_HORIZON = 61 * 86400
_TARGETS = ("seconds", "to", "until_idle")
_ADVANCE_FIELDS = (*_TARGETS, "max_seconds")


async def get_clock(request: web.Request) -> web.Response:
    """GET /_mock/tenants/{userkey}/clock."""
    return reply(clock_view(tenant_of(request)))


async def patch_clock(request: web.Request) -> web.Response:
    """PATCH /_mock/tenants/{userkey}/clock with {"rate": N}: 0 freezes, 60 = a minute a second."""
    tenant = tenant_of(request)
    doc = await json_body(request, required=True)
    unknown = sorted(set(doc) - {"rate"})
    if unknown:
        raise SettingError(f"unknown clock fields {unknown}; valid: ['rate']", unknown[0])
    if "rate" not in doc:
        raise SettingError(
            'send {"rate": N}: 0 freezes the clock, 60 runs a minute a second', "rate"
        )
    setup.set_clock_rate(tenant, doc["rate"], request.config_dict[WORLD].monotonic, "rate")
    return reply(clock_view(tenant))


def _target(doc: dict[str, Any]) -> str:
    """Which kind of advance ``doc`` asks for, after checking its fields."""
    unknown = sorted(set(doc) - set(_ADVANCE_FIELDS))
    if unknown:
        raise SettingError(
            f"unknown advance fields {unknown}; valid: {list(_ADVANCE_FIELDS)} "
            "(one of seconds, to or until_idle; max_seconds goes with "
            "until_idle)",
            unknown[0],
        )
    given = [k for k in _TARGETS if k in doc]
    if len(given) != 1:
        raise SettingError(
            f"send exactly one of seconds, to or until_idle, got {given or 'none'}",
            given[1] if len(given) > 1 else "seconds",
        )
    if "max_seconds" in doc and given != ["until_idle"]:
        raise SettingError("max_seconds goes with until_idle only", "max_seconds")
    return given[0]


def _advance(tenant: Tenant, target: str, doc: dict[str, Any]) -> None:
    if target == "seconds":
        tenant.advance(bounded(doc["seconds"], "seconds", 0, MAX_ADVANCE, whole=False))
    elif target == "to":
        if not isinstance(doc["to"], str):
            raise SettingError(f"to must be an ISO-8601 moment, got {shown_value(doc['to'])}", "to")
        try:
            moment = parse_iso(doc["to"])
        except (ValueError, OverflowError) as exc:
            raise SettingError(f"to must be an ISO-8601 moment: {exc}", "to") from None
        if moment - tenant.clock.now() > MAX_ADVANCE:
            raise SettingError(f"to may be at most {MAX_ADVANCE} seconds (366 days) ahead", "to")
        tenant.advance_to(moment)
    else:
        if doc["until_idle"] is not True:
            raise SettingError(
                f"until_idle must be true, got {shown_value(doc['until_idle'])}", "until_idle"
            )
        tenant.run_until_idle(_idle_limit(doc))


def _idle_limit(doc: dict[str, Any]) -> float:
    return bounded(doc.get("max_seconds", IDLE_HORIZON), "max_seconds", 0, MAX_ADVANCE, whole=False)


def _not_idle(tenant: Tenant, limit: float, start: float, due: float) -> None:
    """The 409 of an ``until_idle`` that hit its cap. The events up to the cap have fired and
    stay fired (clients may have seen them); the answer says so rather than claiming idle.
    Pending delivery attempts count as events: the clock still has them to drive."""
    pending, now = tenant.pending_events(), iso(tenant.clock.now())
    raise Refused(
        409,
        f"not idle after max_seconds={_number(limit)}: the clock moved from "
        f"{iso(start)} to {now} and {pending} event(s) are still pending, the "
        f"next at {iso(due)}; send a larger max_seconds (at most "
        f"{MAX_ADVANCE}) or look for a call that never ends",
        "max_seconds",
        pending_events=pending,
        next_event_at=iso(due),
        now=now,
    )


def _number(value: float) -> str:
    return str(int(value)) if value.is_integer() else str(value)


async def advance_clock(request: web.Request) -> web.Response:
    """POST .../clock/advance with one of {"seconds": N}, {"to": ISO}, {"until_idle": true}."""
    tenant = tenant_of(request)
    doc = await json_body(request, required=True)
    target = _target(doc)
    before = tenant.scheduler.fired
    async with request.config_dict[DELIVERY].lock(tenant):
        start = tenant.clock.now()
        try:
            _advance(tenant, target, doc)
        except ClockError as exc:
            raise SettingError(str(exc), target) from None
        finally:  # the attempts due in the window moved over (also up to a 409's cap)
            sent = await _deliver(request.config_dict[DELIVERY], tenant, start, target, doc)
        if target == "until_idle" and (due := tenant.next_event_due()) is not None:
            _not_idle(tenant, _idle_limit(doc), start, due)
    view = clock_view(tenant)
    view["events_fired"] = tenant.scheduler.fired - before
    view["deliveries"] = sent
    return reply(view)


async def _deliver(
    options: DeliveryOptions, tenant: Tenant, start: float, target: str, doc: dict[str, Any]
) -> int:
    """Send every attempt due by the clock's new now; for ``until_idle``, keep moving to the
    next retry (and the calls before it) until no attempt is left within its horizon."""
    sent = await drain(options, tenant, tenant.clock.now())
    if target != "until_idle" or doc.get("until_idle") is not True:
        return sent
    horizon = start + _idle_limit(doc)
    while (due := tenant.outbox.next_due()) is not None and due <= horizon:
        tenant.advance_to(max(due, tenant.clock.now()))
        sent += await drain(options, tenant, tenant.clock.now())
    return sent
