"""What happened to a tenant: its calls, journal and SMS (and the journal no tenant owns).

Filters are checked like the v2 door's parameters: an unknown key or value is a 400 listing the
valid ones, never an empty list that looks like "nothing matched".
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ...errors import ControlError
from ...sim.calls import Status
from ...sim.clock import iso
from ...sim.journal import Entry, Journal, entry_to_dict
from ...wire.actions import REGISTRY
from ..base import WORLD
from ..views import call_view
from .common import Parse, choice, count, query, reply, tenant_of, text

#: Actions a call can have; the journal also holds the v1 door's SMS exchanges.
CALL_ACTIONS = ("DIAL.CONNECT", "DIAL.CALLFLOW")
JOURNAL_KINDS = ("exchange", "transition")
_CALLS: dict[str, Parse] = {
    "status": choice("status", [s.value for s in Status]),
    "action": choice("action", CALL_ACTIONS),
    "billingcode": text("billingcode"),
    "offset": count("offset"),
    "limit": count("limit"),
}


def _journal_spec() -> dict[str, Parse]:
    # Built on first use: the registry is complete once wire.actions has been imported.
    return {
        "action": choice("action", [*REGISTRY, "SMS"]),
        "kind": choice("kind", JOURNAL_KINDS),
        "since": count("since"),
        "limit": count("limit"),
    }


async def list_calls(request: web.Request) -> web.Response:
    """GET .../calls[?status=END&action=DIAL.CONNECT&billingcode=X&offset=N&limit=N]."""
    tenant = tenant_of(request)
    q = query(request, _CALLS)
    status, action, billingcode = q.get("status"), q.get("action"), q.get("billingcode")
    offset, limit = q.get("offset", 0), q.get("limit", 1_000_000)
    chosen = [
        c
        for c in tenant.calls.values()
        if (status is None or c.status.value == status)
        and (action is None or c.action == action)
        and (billingcode is None or c.billingcode == billingcode)
    ]
    return reply([call_view(c) for c in chosen[offset : offset + limit]])


async def get_call(request: web.Request) -> web.Response:
    """GET .../calls/{requestid}."""
    tenant = tenant_of(request)
    requestid = request.match_info["requestid"].lower()
    call = tenant.calls.get(requestid)
    if call is None:
        raise ControlError(404, f"no call {requestid!r} in this tenant", "requestid")
    return reply(call_view(call))


def _journal_reply(request: web.Request, journal: Journal) -> web.Response:
    q = query(request, _journal_spec())
    action, kind = q.get("action"), q.get("kind")
    since, limit = q.get("since", 0), q.get("limit", 10_000)
    chosen: list[Entry] = [
        e
        for e in journal
        if e[0] > since and (action is None or e[5] == action) and (kind is None or e[1] == kind)
    ]
    # Slice before converting: rendering 10,000 entries to answer ?limit=20 is wasted work.
    entries = [entry_to_dict(e) for e in chosen[-limit:]] if limit else []
    return reply({"entries": entries, "dropped": journal.dropped, "limit": journal.limit})


async def get_journal(request: web.Request) -> web.Response:
    """GET .../journal[?action=&kind=exchange|transition&since=SEQ&limit=N]."""
    return _journal_reply(request, tenant_of(request).journal)


async def unattributed_journal(request: web.Request) -> web.Response:
    """GET /_mock/journal: requests no tenant owns (unreadable, or an unknown USERKEY)."""
    return _journal_reply(request, request.config_dict[WORLD].unattributed)


async def clear_journal(request: web.Request) -> web.Response:
    """DELETE .../journal."""
    tenant_of(request).journal.clear()
    return web.Response(status=204)


def _sms(sms: Any) -> dict[str, Any]:
    return {
        "smsid": sms.smsid,
        "from": sms.sender,
        "destination": sms.destination,
        "message": sms.message,
        "parts": sms.parts,
        "fee": str(sms.fee),
        "sent_at": iso(sms.sent_at),
    }


async def list_sms(request: web.Request) -> web.Response:
    """GET .../sms: messages sent through the legacy v1 door, oldest first."""
    return reply([_sms(s) for s in tenant_of(request).sms])
