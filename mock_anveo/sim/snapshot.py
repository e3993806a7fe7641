"""Snapshots of the whole world as JSON documents, and restoring them all or nothing.

A snapshot holds every tenant: account, clock, calls with their pending engine step, rules,
faults, random generators and journal. Restoring builds a complete new set of tenants first
and swaps it in only when everything parsed, so a bad snapshot changes nothing.
"""

from __future__ import annotations

import random
from collections import OrderedDict, deque
from decimal import Decimal
from typing import Any

from ..errors import SettingError
from .accounts import Account, apply_fields, check_userkey
from .calls import Call, Leg, Phase, Reason
from .clock import Clock
from .faults import fault_from_dict
from .journal import entry_from_dict, entry_to_dict
from .scenarios import LegBehaviour, rule_from_dict
from .tenant import Sms, Tenant
from .world import World

FORMAT = "mock-anveo-snapshot/1"


def _rng_state(rng: random.Random) -> list[Any]:
    version, internal, gauss = rng.getstate()
    return [version, list(internal), gauss]


def _set_rng(rng: random.Random, state: list[Any]) -> None:
    rng.setstate((state[0], tuple(state[1]), state[2]))


def _call_to_dict(call: Call) -> dict[str, Any]:
    return {
        "requestid": call.requestid, "action": call.action, "created_at": call.created_at,
        "legs": [[leg.number, leg.callerid, leg.answered_at, leg.ended_at, leg.outcome]
                 for leg in call.legs],
        "delay_minutes": call.delay_minutes, "max_minutes": call.max_minutes,
        "memo": call.memo, "billingcode": call.billingcode, "callflow": call.callflow,
        "variables": call.variables, "test": call.test, "phase": call.phase.value,
        "reason": call.reason.value if call.reason else None, "result": call.result,
        "charge": str(call.charge), "reserved": str(call.reserved), "rate": str(call.rate),
        "timeline": [list(step) for step in call.timeline],
        "pending": ([call.pending_at, call.pending_step, call.pending_seq]
                    if call.pending_seq else None),
        "plan": [b.to_dict() for b in call.plan],
        "planned_reason": call.planned_reason.value if call.planned_reason else None,
        "result_hint": call.result_hint,
    }


def _call_from_dict(doc: dict[str, Any]) -> tuple[Call, list[Any] | None]:
    # The call keeps its legs' fields itself (see Call); Leg here only names them.
    legs = [Leg(str(number), str(callerid), answered_at, ended_at, outcome)
            for number, callerid, answered_at, ended_at, outcome in doc["legs"]]
    if not 1 <= len(legs) <= 2:
        raise ValueError(f"a call has one or two legs, not {len(legs)}")
    first, second = legs[0], legs[1] if len(legs) == 2 else None
    call = Call(str(doc["requestid"]), str(doc["action"]), first.number, first.callerid,
                None if second is None else second.number,
                None if second is None else second.callerid, float(doc["created_at"]),
                delay_minutes=int(doc["delay_minutes"]), max_minutes=doc["max_minutes"],
                memo=doc["memo"], billingcode=doc["billingcode"], callflow=doc["callflow"],
                variables=doc["variables"], test=bool(doc["test"]))
    call.first_answered_at, call.first_ended_at = first.answered_at, first.ended_at
    call.first_outcome = first.outcome
    if second is not None:
        call.second_answered_at, call.second_ended_at = second.answered_at, second.ended_at
        call.second_outcome = second.outcome
    call.phase = Phase(doc["phase"])
    call.reason = Reason(doc["reason"]) if doc["reason"] else None
    call.result = doc["result"]
    call.charge = Decimal(doc["charge"])
    call.reserved = Decimal(doc.get("reserved", "0"))
    call.rate = Decimal(doc.get("rate", "0"))
    call.timeline = [(float(at), str(phase), str(note)) for at, phase, note in doc["timeline"]]
    plan = [LegBehaviour(b["outcome"], float(b["ring"]), float(b["talk"])) for b in doc["plan"]]
    if len(plan) > len(legs):
        raise ValueError(f"a plan of {len(plan)} legs for a call of {len(legs)}")
    call.first_plan = plan[0] if plan else None
    call.second_plan = plan[1] if len(plan) == 2 else None
    call.planned_reason = Reason(doc["planned_reason"]) if doc["planned_reason"] else None
    call.result_hint = doc["result_hint"]
    return call, doc["pending"]


def tenant_to_dict(tenant: Tenant) -> dict[str, Any]:
    """Everything about one tenant, as JSON-ready data."""
    journal = tenant.journal
    return {
        "account": tenant.account.to_dict(),
        "initial_balance": str(tenant.initial_balance),
        "total_charged": str(tenant.total_charged),
        "charges_by_billingcode": {k: str(v) for k, v in tenant.charges_by_billingcode.items()},
        "clock": {"now": tenant.clock.now(), "rate": tenant.clock.rate},
        "seed": tenant.seed, "id_counter": tenant._id_counter,  # noqa: SLF001
        "rng": _rng_state(tenant.rng), "fault_rng": _rng_state(tenant.fault_rng),
        "rules": [r.to_dict() for r in tenant.rules],
        "faults": [f.to_dict() for f in tenant.faults],
        "next_rule_id": tenant.next_rule_id, "origin": tenant.origin,
        "sms": [[s.smsid, s.sender, s.destination, s.message, s.parts, str(s.fee), s.sent_at]
                for s in tenant.sms],
        "calls": [_call_to_dict(c) for c in tenant.calls.values()],
        "ended_order": list(tenant._ended),  # noqa: SLF001
        "ended_limit": tenant.ended_limit, "calls_dropped": tenant.calls_dropped,
        "journal": {"limit": journal.limit, "dropped": journal.dropped, "seq": journal.seq,
                    "entries": [entry_to_dict(e) for e in journal]},
    }


def tenant_from_dict(doc: dict[str, Any], world: World) -> Tenant:
    """Rebuild a tenant; raises KeyError, TypeError or ValueError on a malformed document."""
    fields = dict(doc["account"])
    account = apply_fields(Account(check_userkey(fields.pop("userkey"))), fields)
    clock = Clock(float(doc["clock"]["now"]), rate=float(doc["clock"]["rate"]),
                  real=world.monotonic)
    journal = doc["journal"]
    tenant = Tenant(account, seed=int(doc["seed"]), clock=clock, real=world.wallclock,
                    journal_limit=int(journal["limit"]), ended_limit=int(doc["ended_limit"]))
    tenant.initial_balance = Decimal(doc["initial_balance"])
    tenant.total_charged = Decimal(doc["total_charged"])
    tenant.charges_by_billingcode = OrderedDict(
        (str(k), Decimal(v)) for k, v in doc["charges_by_billingcode"].items())
    tenant._id_counter = int(doc["id_counter"])  # noqa: SLF001
    _set_rng(tenant.rng, doc["rng"])
    _set_rng(tenant.fault_rng, doc["fault_rng"])
    tenant.rules = [rule_from_dict(r, str(r["id"])) for r in doc["rules"]]
    tenant.faults = [fault_from_dict(f, str(f["id"])) for f in doc["faults"]]
    tenant.next_rule_id = int(doc["next_rule_id"])
    origin = doc.get("origin")
    tenant.origin = dict(origin) if isinstance(origin, dict) else None
    for smsid, sender, destination, message, parts, fee, sent_at in doc["sms"]:
        tenant.sms.append(Sms(str(smsid), str(sender), str(destination), str(message),
                              parts=int(parts), fee=Decimal(fee), sent_at=float(sent_at)))
    pending: list[tuple[float, int, str, Call]] = []
    for call_doc in doc["calls"]:
        call, step = _call_from_dict(call_doc)
        tenant.calls[call.requestid] = call
        if step is not None:
            pending.append((float(step[0]), int(step[2]), str(step[1]), call))
    # Re-queue in the original (time, sequence) order so ties still fire as they would have.
    tenant.committed = sum((c.reserved for c in tenant.calls.values()), Decimal(0))
    for when, _, step_name, call in sorted(pending, key=lambda p: (p[0], p[1])):
        tenant._schedule(call, when, step_name)  # noqa: SLF001
    tenant._ended = deque(str(r) for r in doc["ended_order"])  # noqa: SLF001
    tenant.calls_dropped = int(doc["calls_dropped"])
    tenant.journal.dropped = int(journal["dropped"])
    tenant.journal.seq = int(journal["seq"])
    for entry in journal["entries"]:
        tenant.journal._entries.append(entry_from_dict(entry))  # noqa: SLF001
    return tenant


def snapshot(world: World) -> dict[str, Any]:
    """The whole world as JSON-ready data."""
    for tenant in world.tenants.values():
        tenant.sync()
    return {"format": FORMAT, "seed": world.settings.seed,
            "key_rng": _rng_state(world.key_rng),
            "tenants": [tenant_to_dict(t) for t in world.tenants.values()]}


def restore(world: World, doc: Any) -> int:
    """Replace the world's tenants with those of ``doc``; all or nothing. Returns the count."""
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        found = doc.get("format") if isinstance(doc, dict) else type(doc).__name__
        raise SettingError(f"not a snapshot of format {FORMAT!r} (found {found!r})",
                           "format")
    try:
        tenants: dict[str, Tenant] = {}
        for tenant_doc in doc["tenants"]:
            tenant = tenant_from_dict(tenant_doc, world)
            tenants[tenant.account.userkey] = tenant
        key_rng = random.Random()
        _set_rng(key_rng, doc["key_rng"])
    except SettingError as exc:
        raise SettingError(f"snapshot is not valid: {exc.message}", exc.field) from None
    except KeyError as exc:
        raise SettingError(f"snapshot is not valid: missing field {exc}") from None
    except (TypeError, ValueError, IndexError, ArithmeticError, AttributeError) as exc:
        raise SettingError(f"snapshot is not valid: {type(exc).__name__}: {exc}") from None
    for old in world.tenants.values():
        old.close()
    world.tenants = tenants
    world.key_rng = key_rng
    return len(tenants)
