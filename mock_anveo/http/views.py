"""JSON views of the simulation for the control API (and the controller that reads them)."""

from __future__ import annotations

from typing import Any

from ..sim.calls import STATUS_OF, Call, Phase
from ..sim.clock import iso
from ..sim.faults import FaultRule
from ..sim.outbox import Message
from ..sim.scenarios import Rule
from ..sim.tenant import Tenant


def _iso(moment: float | None) -> str | None:
    return None if moment is None else iso(moment)


def call_view(call: Call) -> dict[str, Any]:
    """A call as the control API shows it."""
    return {
        "requestid": call.requestid,
        "action": call.action,
        "status": call.status.value,
        "phase": call.phase.value,
        "reason": call.reason.value if call.reason else None,
        "test": call.test,
        "memo": call.memo,
        "billingcode": call.billingcode,
        "callflow": call.callflow,
        "variables": dict(call.variables or {}),
        "delay_minutes": call.delay_minutes,
        "max_minutes": call.max_minutes,
        "charge": str(call.charge),
        "result": call.result,
        "created_at": iso(call.created_at),
        "next_event_at": _iso(call.pending_at) if call.pending_seq else None,
        "legs": [
            {
                "number": leg.number,
                "callerid": leg.callerid,
                "outcome": leg.outcome,
                "answered_at": _iso(leg.answered_at),
                "ended_at": _iso(leg.ended_at),
                "billable_minutes": leg.billable_minutes(),
            }
            for leg in call.legs
        ],
        "timeline": [
            {"at": iso(at), "phase": phase, "status": STATUS_OF[Phase(phase)].value, "note": note}
            for at, phase, note in call.timeline
        ],
    }


def clock_view(tenant: Tenant) -> dict[str, Any]:
    """The tenant's clock: now, speed and what is pending (call events and delivery
    attempts alike; ``pending_deliveries`` says how many of them are attempts)."""
    now = tenant.clock.now()
    deliveries = tenant.outbox.pending_attempts()
    return {
        "now": iso(now),
        "epoch_seconds": now,
        "rate": tenant.clock.rate,
        "pending_events": len(tenant.scheduler) + deliveries,
        "pending_deliveries": deliveries,
        "next_event_at": _iso(tenant.next_event_due()),
    }


def tenant_view(tenant: Tenant) -> dict[str, Any]:
    """A tenant: its account, money, clock and counters."""
    doc = tenant.account.to_dict()
    doc.update(
        {
            "initial_balance": str(tenant.initial_balance),
            "total_charged": str(tenant.total_charged),
            "reserved": str(tenant.committed),
            "charges_by_billingcode": {k: str(v) for k, v in tenant.charges_by_billingcode.items()},
            "clock": clock_view(tenant),
            "calls": len(tenant.calls),
            "calls_dropped": tenant.calls_dropped,
            "journal_entries": len(tenant.journal),
            "journal_dropped": tenant.journal.dropped,
            "scenarios": len(tenant.rules),
            "faults": len(tenant.faults),
        }
    )
    return doc


def scenario_view(rule: Rule) -> dict[str, Any]:
    """A scenario rule: its fields plus ``"rule": "scenario"``, so a
    client tells rules apart by a field, never by the shape of an id."""
    return {**rule.to_dict(), "rule": "scenario"}


def fault_view(fault: FaultRule) -> dict[str, Any]:
    """A fault rule: its fields (``kind`` is the fault's kind: html, reset, ...) plus
    ``"rule": "fault"``."""
    return {**fault.to_dict(), "rule": "fault"}


def message_view(message: Message) -> dict[str, Any]:
    """An outgoing message: what was sent where, its state and every attempt. ``fields``
    are those of the latest attempt (ATTEMPT is its number); for a FORWARD, the values
    filled into the URL."""
    fields = message.fields
    if message.kind != "FORWARD":
        last = str(max(1, len(message.attempts)))
        fields = [(k, last if k == "ATTEMPT" else v) for k, v in fields]
    return {
        "id": message.id,
        "type": message.kind,
        "method": message.method,
        "url": message.url,
        "fields": dict(fields),
        "state": message.state,
        "event_at": iso(message.event_at),
        "record_id": message.record_id,
        "next_attempt_at": None if message.pending_at is None else iso(message.pending_at),
        "attempts": [
            {
                "attempt": number,
                "at": iso(a.at),
                "status": a.status,
                "error": a.error,
                "duration": a.duration,
                "head": a.head,
            }
            for number, a in enumerate(message.attempts, 1)
        ],
    }
