"""The JSON control API under ``/_mock/``: tenants, clocks, calls, journal, scenarios, faults.

Bad requests get ``{"error": message, "field": name}`` with a 4xx status. The prefix can never
collide with Anveo's ``.asp`` paths. When the server has a control token, every control path
but ``/_mock/health`` needs ``Authorization: Bearer TOKEN`` (or ``X-Mock-Token: TOKEN``).
"""

from __future__ import annotations

import hmac
import json
import random
import string
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from .._version import __version__
from ..errors import ControlError, SettingError
from ..sim.accounts import DEFAULT_CALLFLOW, DOCS_CALLERID, Account, apply_fields, check_userkey
from ..sim.clock import ClockError, iso, parse_iso
from ..sim.faults import fault_from_dict
from ..sim.journal import entry_to_dict
from ..sim.scenarios import rule_from_dict
from ..sim.tenant import Tenant
from ..sim.world import World
from . import gctune
from .app import INTERNAL_ERRORS, OPTIONS, STARTED, WORLD
from .views import call_view, clock_view, tenant_view

PREFIX = "/_mock"
EARLIEST, LATEST = 0.0, 221845392000.0  # 1970-01-01 and 9000-01-01, in epoch seconds
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_KEY_ALPHABET = string.ascii_lowercase + string.digits


def _error(status: int, message: str, field: str | None = None) -> web.Response:
    return web.json_response({"error": message, "field": field}, status=status)


def guarded(handler: Handler) -> Handler:
    """Token check and error rendering around one control handler.

    A wrapper per route rather than a middleware: any middleware on a sub-application makes
    aiohttp run the middleware chain for every request of the whole server, the Anveo doors'
    hot path included.
    """

    async def guard(request: web.Request) -> web.StreamResponse:
        token = request.config_dict[OPTIONS].control_token
        if token and request.path != f"{PREFIX}/health":
            given = request.headers.get("X-Mock-Token") or request.headers.get(
                "Authorization", "").removeprefix("Bearer ").strip()
            if not hmac.compare_digest(given.encode(), token.encode()):
                return _error(401, "this control API needs its token: Authorization: Bearer "
                                   "TOKEN")
        try:
            return await handler(request)
        except ControlError as exc:
            return _error(exc.status, exc.message, exc.field)
        except SettingError as exc:
            return _error(400, exc.message, exc.field)
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            response = _error(exc.status, f"{exc.reason}: {request.method} {request.path} "
                                          "(the control API is described at "
                                          "/_mock/openapi.json)")
            if "Allow" in exc.headers:
                response.headers["Allow"] = exc.headers["Allow"]
            return response
        except Exception as exc:  # noqa: BLE001 - a bug must become a JSON error, not a traceback
            from .app import note_internal_error

            note_internal_error(request, exc, f"{request.method} {request.path}",
                                request.match_info.get("userkey"))
            return _error(500, f"internal error in mock-anveo: {exc!r}")

    return guard


async def no_route(request: web.Request) -> web.Response:
    """Any other path or method under the prefix: 404, or 405 naming the allowed methods."""
    allowed: set[str] = set()
    for resource in request.app.router.resources():
        if resource is not request.match_info.route.resource:
            _, methods = await resource.resolve(request)
            allowed |= methods
    if allowed:
        raise web.HTTPMethodNotAllowed(request.method, allowed)
    raise web.HTTPNotFound


async def _json(request: web.Request, *, required: bool = False) -> dict[str, Any]:
    raw = await request.read()
    if not raw.strip():
        if required:
            raise ControlError(400, "this request needs a JSON object body")
        return {}
    try:
        doc = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise ControlError(400, f"the body is not valid JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise ControlError(400, "the body must be a JSON object")
    return doc


def _tenant(request: web.Request) -> Tenant:
    userkey = request.match_info["userkey"]
    tenant = request.config_dict[WORLD].get(userkey)
    if tenant is None:
        raise ControlError(404, f"no tenant with userkey {userkey!r}", "userkey")
    tenant.sync()
    return tenant


# ---- server-wide ----------------------------------------------------------------------------
async def health(request: web.Request) -> web.Response:
    """GET /_mock/health."""
    world = request.config_dict[WORLD]
    return web.json_response({"status": "ok", "version": __version__,
                              "tenants": len(world.tenants), "seed": world.settings.seed,
                              "started": request.config_dict[STARTED]})


async def openapi(request: web.Request) -> web.Response:
    """GET /_mock/openapi.json: this API, described."""
    from .openapi import document

    return web.json_response(document())


async def reset(request: web.Request) -> web.Response:
    """POST /_mock/reset: back to the configured accounts, nothing else."""
    world = request.config_dict[WORLD]
    world.reset()
    request.config_dict[INTERNAL_ERRORS].clear()
    gctune.thaw()
    return web.json_response({"status": "reset", "tenants": sorted(world.tenants)})


async def errors(request: web.Request) -> web.Response:
    """GET /_mock/errors: unexpected exceptions inside the server (should stay empty)."""
    return web.json_response(request.config_dict[INTERNAL_ERRORS])


async def get_snapshot(request: web.Request) -> web.Response:
    """GET /_mock/snapshot: the whole state, restorable with PUT."""
    from ..sim.snapshot import snapshot

    return web.json_response(snapshot(request.config_dict[WORLD]))


async def put_snapshot(request: web.Request) -> web.Response:
    """PUT /_mock/snapshot: replace the whole state (all or nothing)."""
    from ..sim.snapshot import restore

    count = restore(request.config_dict[WORLD], await _json(request, required=True))
    return web.json_response({"status": "restored", "tenants": count})


async def list_tenants(request: web.Request) -> web.Response:
    """GET /_mock/tenants."""
    world = request.config_dict[WORLD]
    return web.json_response([tenant_view(t) for t in world.tenants.values()])


def _fresh_key(rng: random.Random) -> str:
    return "".join(rng.choice(_KEY_ALPHABET) for _ in range(40))


def build_tenant(world: World, doc: dict[str, Any]) -> Tenant:
    """Validate a tenant document completely, then add the tenant; remembers it for reset."""
    doc = dict(doc)
    origin = json.loads(json.dumps(doc))  # a private, JSON-clean copy
    if "userkey" in doc:
        userkey = check_userkey(doc.pop("userkey"))
        if userkey in world.tenants:
            raise ControlError(409, f"a tenant with userkey {userkey!r} exists", "userkey")
    else:
        userkey = _fresh_key(world.key_rng)
        while userkey in world.tenants:
            userkey = _fresh_key(world.key_rng)
    origin["userkey"] = userkey
    start_text = doc.pop("start", None)
    rate = doc.pop("clock_rate", None)
    start: float | None = None
    if start_text is not None:
        try:
            if not isinstance(start_text, str):
                raise ValueError("not a string")
            start = parse_iso(start_text)
        except (ValueError, OverflowError) as exc:
            raise ControlError(400, f"start must be an ISO-8601 moment: {exc}", "start") from None
        if not EARLIEST <= start <= LATEST:
            raise ControlError(400, "start must be from 1970-01-01 to 9000-01-01 (so 60 days "
                                    f"of calls still have a date), got {start_text!r}", "start")
    if rate is not None:
        rate = _check_rate(rate)
    rules = _preset(doc.pop("scenarios", []), "scenarios")
    faults = _preset(doc.pop("faults", []), "faults")
    account = apply_fields(Account(userkey, verified_callerids={DOCS_CALLERID},
                                   callflows={DEFAULT_CALLFLOW}), doc)
    built_rules = [rule_from_dict(r, f"s{i + 1}") for i, r in enumerate(rules)]
    built_faults = [fault_from_dict(f, f"f{len(rules) + i + 1}") for i, f in enumerate(faults)]
    tenant = world.add(account, start=start, rate=rate)
    tenant.rules.extend(built_rules)
    tenant.faults.extend(built_faults)
    tenant.next_rule_id = len(rules) + len(faults) + 1
    tenant.origin = origin
    return tenant


def _preset(value: Any, name: str) -> list[Any]:
    if not isinstance(value, list) or len(value) > 1000:
        raise ControlError(400, f"{name} must be a list of at most 1000 rules", name)
    return [{k: v for k, v in item.items() if k != "id"} if isinstance(item, dict) else item
            for item in value]


async def create_tenant(request: web.Request) -> web.Response:
    """POST /_mock/tenants: a new tenant (userkey random when not given), rules included."""
    world = request.config_dict[WORLD]
    doc = await _json(request)
    if len(world.tenants) >= world.settings.max_tenants:
        raise ControlError(409, f"this server holds at most {world.settings.max_tenants} tenants")
    return web.json_response(tenant_view(build_tenant(world, doc)), status=201)


async def reset_tenant(request: web.Request) -> web.Response:
    """POST /_mock/tenants/{userkey}/reset: the tenant as it was created, nothing since."""
    tenant = _tenant(request)
    world = request.config_dict[WORLD]
    userkey = tenant.account.userkey
    if tenant.origin is None and not world.is_configured(userkey):
        raise ControlError(409, f"tenant {userkey!r} came from a snapshot or state file and has "
                                "no creation document or configured account to reset to",
                           "userkey")
    _take_errors(request, userkey)
    del world.tenants[userkey]
    try:
        if tenant.origin is None:
            fresh = world.add_configured(userkey)
        else:
            fresh = build_tenant(world, tenant.origin)
    except Exception:
        world.tenants[userkey] = tenant  # a document that built once builds again; be sure
        raise
    tenant.close()
    return web.json_response(tenant_view(fresh))


def _take_errors(request: web.Request, userkey: str) -> list[dict[str, Any]]:
    errors = request.config_dict[INTERNAL_ERRORS]
    mine = [e for e in errors if e["userkey"] == userkey]
    errors[:] = [e for e in errors if e["userkey"] != userkey]
    return mine


def _check_rate(rate: Any) -> float:
    if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 <= rate <= 1e6:
        raise ControlError(400, f"clock_rate must be from 0 to 1000000, got {rate!r}",
                           "clock_rate")
    return float(rate)


def _set_rate(tenant: Tenant, rate: Any, world: Any) -> None:
    rate = _check_rate(rate)
    tenant.sync()
    tenant.clock.set_rate(float(rate), world.monotonic)


async def get_tenant(request: web.Request) -> web.Response:
    """GET /_mock/tenants/{userkey}."""
    return web.json_response(tenant_view(_tenant(request)))


async def patch_tenant(request: web.Request) -> web.Response:
    """PATCH /_mock/tenants/{userkey}: change account fields (balance, caller IDs, ...)."""
    tenant = _tenant(request)
    doc = await _json(request, required=True)
    if "userkey" in doc:
        raise ControlError(400, "the userkey of a tenant cannot change", "userkey")
    rate = doc.pop("clock_rate", None)
    scratch = Account(**{n: getattr(tenant.account, n) for n in tenant.account.__slots__})
    apply_fields(scratch, doc)  # validate everything before changing anything
    if rate is not None:
        _set_rate(tenant, rate, request.config_dict[WORLD])
    apply_fields(tenant.account, doc)
    if "balance" in doc:
        tenant.initial_balance = tenant.account.balance + tenant.total_charged
    return web.json_response(tenant_view(tenant))


async def delete_tenant(request: web.Request) -> web.Response:
    """DELETE /_mock/tenants/{userkey}: returns (and forgets) its unexpected server errors."""
    tenant = _tenant(request)
    userkey = tenant.account.userkey
    request.config_dict[WORLD].remove(userkey)
    return web.json_response({"deleted": userkey, "errors": _take_errors(request, userkey)})


# ---- clock ------------------------------------------------------------------------------------
async def get_clock(request: web.Request) -> web.Response:
    """GET /_mock/tenants/{userkey}/clock."""
    return web.json_response(clock_view(_tenant(request)))


async def patch_clock(request: web.Request) -> web.Response:
    """PATCH /_mock/tenants/{userkey}/clock with {"rate": N}: 0 freezes, 60 = a minute a second."""
    tenant = _tenant(request)
    doc = await _json(request, required=True)
    if set(doc) != {"rate"}:
        raise ControlError(400, "send exactly {\"rate\": N}", "rate")
    _set_rate(tenant, doc["rate"], request.config_dict[WORLD])
    return web.json_response(clock_view(tenant))


async def advance_clock(request: web.Request) -> web.Response:
    """POST .../clock/advance with one of {"seconds": N}, {"to": ISO}, {"until_idle": true}."""
    tenant = _tenant(request)
    doc = await _json(request, required=True)
    given = [k for k in ("seconds", "to", "until_idle") if k in doc]
    unknown = set(doc) - {"seconds", "to", "until_idle", "max_seconds"}
    if len(given) != 1 or unknown:
        raise ControlError(400, "send exactly one of seconds, to or until_idle "
                                "(max_seconds goes with until_idle)", (given or ["seconds"])[0])
    before = tenant.scheduler.fired
    try:
        if "seconds" in doc:
            seconds = doc["seconds"]
            if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not (
                    0 <= seconds <= 366 * 86400):
                raise ControlError(400, f"seconds must be from 0 to 31622400 (366 days), got "
                                        f"{seconds!r}", "seconds")
            tenant.advance(float(seconds))
        elif "to" in doc:
            if not isinstance(doc["to"], str):
                raise ControlError(400, "to must be an ISO-8601 moment", "to")
            try:
                moment = parse_iso(doc["to"])
            except (ValueError, OverflowError) as exc:
                raise ControlError(400, f"to must be an ISO-8601 moment: {exc}", "to") from None
            if moment - tenant.clock.now() > 366 * 86400:
                raise ControlError(400, "to may be at most 366 days ahead", "to")
            tenant.advance_to(moment)
        else:
            if doc["until_idle"] is not True:
                raise ControlError(400, "until_idle must be true", "until_idle")
            limit = doc.get("max_seconds", 61 * 86400)
            if isinstance(limit, bool) or not isinstance(limit, int | float) or not (
                    0 <= limit <= 366 * 86400):
                raise ControlError(400, "max_seconds must be from 0 to 31622400", "max_seconds")
            tenant.run_until_idle(float(limit))
    except ClockError as exc:
        raise ControlError(400, str(exc), given[0]) from None
    view = clock_view(tenant)
    view["events_fired"] = tenant.scheduler.fired - before
    return web.json_response(view)


# ---- calls and journal ------------------------------------------------------------------------
async def list_calls(request: web.Request) -> web.Response:
    """GET .../calls[?status=END&action=DIAL.CONNECT&billingcode=X&offset=N&limit=N]."""
    tenant = _tenant(request)
    status = request.query.get("status")
    action = request.query.get("action")
    billingcode = request.query.get("billingcode")
    offset = _int_query(request, "offset", 0)
    limit = _int_query(request, "limit", 1_000_000)
    chosen = [c for c in tenant.calls.values()
              if (status is None or c.status.value == status)
              and (action is None or c.action == action)
              and (billingcode is None or c.billingcode == billingcode)]
    return web.json_response([call_view(c) for c in chosen[offset:offset + limit]])


async def get_call(request: web.Request) -> web.Response:
    """GET .../calls/{requestid}."""
    tenant = _tenant(request)
    requestid = request.match_info["requestid"].lower()
    call = tenant.calls.get(requestid)
    if call is None:
        raise ControlError(404, f"no call {requestid!r} in this tenant", "requestid")
    return web.json_response(call_view(call))


def _int_query(request: web.Request, name: str, default: int) -> int:
    text = request.query.get(name)
    if text is None:
        return default
    if not text.isdigit() or len(text) > 12:
        raise ControlError(400, f"{name} must be a non-negative integer, got {text!r}", name)
    return int(text)


async def get_journal(request: web.Request) -> web.Response:
    """GET .../journal[?action=&kind=exchange|transition&since=SEQ&limit=N]."""
    tenant = _tenant(request)
    action = request.query.get("action")
    kind = request.query.get("kind")
    since = _int_query(request, "since", 0)
    limit = _int_query(request, "limit", 10_000)
    chosen = [e for e in tenant.journal
              if e[0] > since and (action is None or e[5] == action)
              and (kind is None or e[1] == kind)]
    # Slice before converting: rendering 10,000 entries to answer ?limit=20 is wasted work.
    entries = [entry_to_dict(e) for e in chosen[-limit:]] if limit else []
    return web.json_response({"entries": entries,
                              "dropped": tenant.journal.dropped, "limit": tenant.journal.limit})


async def unattributed_journal(request: web.Request) -> web.Response:
    """GET /_mock/journal: requests no tenant owns (unreadable, or an unknown USERKEY)."""
    journal = request.config_dict[WORLD].unattributed
    limit = _int_query(request, "limit", 10_000)
    entries = [entry_to_dict(e) for e in list(journal)[-limit:]] if limit else []
    return web.json_response({"entries": entries,
                              "dropped": journal.dropped, "limit": journal.limit})


async def clear_journal(request: web.Request) -> web.Response:
    """DELETE .../journal."""
    _tenant(request).journal.clear()
    return web.Response(status=204)


async def list_sms(request: web.Request) -> web.Response:
    """GET .../sms: messages sent through the legacy v1 door, oldest first."""
    return web.json_response([
        {"smsid": s.smsid, "from": s.sender, "destination": s.destination,
         "message": s.message, "parts": s.parts, "fee": str(s.fee), "sent_at": iso(s.sent_at)}
        for s in _tenant(request).sms])


async def tenant_errors(request: web.Request) -> web.Response:
    """GET .../errors: unexpected exceptions attributed to this tenant."""
    tenant = _tenant(request)
    userkey = tenant.account.userkey
    mine = [e for e in request.config_dict[INTERNAL_ERRORS] if e["userkey"] == userkey]
    return web.json_response(mine)


# ---- scenarios and faults ---------------------------------------------------------------------
def _rules_routes(kind: str) -> tuple[Handler, Handler, Handler, Handler]:
    def items(tenant: Tenant) -> list[Any]:
        return tenant.rules if kind == "scenarios" else tenant.faults

    async def list_(request: web.Request) -> web.Response:
        return web.json_response([r.to_dict() for r in items(_tenant(request))])

    async def create(request: web.Request) -> web.Response:
        tenant = _tenant(request)
        doc = await _json(request, required=True)
        if len(items(tenant)) >= 1000:
            raise ControlError(409, f"at most 1000 {kind} per tenant")
        prefix = "s" if kind == "scenarios" else "f"
        rule_id = f"{prefix}{tenant.next_rule_id}"
        doc.pop("id", None)
        rule = (rule_from_dict(doc, rule_id) if kind == "scenarios"
                else fault_from_dict(doc, rule_id))
        tenant.next_rule_id += 1
        items(tenant).append(rule)
        return web.json_response(rule.to_dict(), status=201)

    async def delete_one(request: web.Request) -> web.Response:
        tenant = _tenant(request)
        rule_id = request.match_info["rule_id"]
        rules = items(tenant)
        for index, rule in enumerate(rules):
            if rule.id == rule_id:
                del rules[index]
                return web.Response(status=204)
        raise ControlError(404, f"no {kind[:-1]} {rule_id!r}", "id")

    async def delete_all(request: web.Request) -> web.Response:
        items(_tenant(request)).clear()
        return web.Response(status=204)

    return list_, create, delete_one, delete_all


def make_control_app() -> web.Application:
    """The control API as a sub-application, to be mounted at ``/_mock/``."""
    app = web.Application()
    r = app.router
    t = "/tenants/{userkey}"
    routes: list[tuple[str, str, Handler]] = [
        ("GET", "/health", health),
        ("GET", "/openapi.json", openapi),
        ("POST", "/reset", reset),
        ("GET", "/errors", errors),
        ("GET", "/journal", unattributed_journal),
        ("GET", "/snapshot", get_snapshot),
        ("PUT", "/snapshot", put_snapshot),
        ("GET", "/tenants", list_tenants),
        ("POST", "/tenants", create_tenant),
        ("GET", t, get_tenant),
        ("PATCH", t, patch_tenant),
        ("DELETE", t, delete_tenant),
        ("POST", t + "/reset", reset_tenant),
        ("GET", t + "/clock", get_clock),
        ("PATCH", t + "/clock", patch_clock),
        ("POST", t + "/clock/advance", advance_clock),
        ("GET", t + "/calls", list_calls),
        ("GET", t + "/calls/{requestid}", get_call),
        ("GET", t + "/journal", get_journal),
        ("DELETE", t + "/journal", clear_journal),
        ("GET", t + "/errors", tenant_errors),
        ("GET", t + "/sms", list_sms),
    ]
    for kind in ("scenarios", "faults"):
        list_, create, delete_one, delete_all = _rules_routes(kind)
        routes += [("GET", f"{t}/{kind}", list_), ("POST", f"{t}/{kind}", create),
                   ("DELETE", f"{t}/{kind}", delete_all),
                   ("DELETE", f"{t}/{kind}/{{rule_id}}", delete_one)]
    for method, path, handler in routes:
        r.add_route(method, path, guarded(handler))
        if method == "GET":
            r.add_route("HEAD", path, guarded(handler))
    r.add_route("*", "/{tail:.*}", guarded(no_route))  # last: only what nothing else matched
    return app
