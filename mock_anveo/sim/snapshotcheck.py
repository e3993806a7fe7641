"""Whole-snapshot checks the field-by-field readers cannot make: no unknown keys, and money
that adds up across a tenant.

The readers (``Tenant.from_document``, ``calldoc``, ``state``) check each field against its own
rule; a document can pass them all and still not hold together: a key nobody reads (a typo
that silently restores nothing), an ended call charged more than its minutes cost, money held
by calls that the balance does not have. Each refusal is a ``SettingError`` naming the path.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ..errors import SettingError
from .calls import Phase, billable
from .document import Node
from .tenant import Tenant

#: The keys each object of a snapshot may hold (older snapshots may lack the newer ones).
_ROOT = frozenset({"format", "seed", "key_rng", "tenants"})
_TENANT = frozenset(
    {
        "account",
        "initial_balance",
        "total_charged",
        "charges_by_billingcode",
        "clock",
        "seed",
        "id_counter",
        "rng",
        "fault_rng",
        "rules",
        "faults",
        "next_rule_id",
        "origin",
        "sms",
        "calls",
        "ended_order",
        "ended_limit",
        "calls_dropped",
        "journal",
        "outbox",  # read and checked field by field by outboxdoc
    }
)
_CLOCK = frozenset({"now", "rate"})
_CALL = frozenset(
    {
        "requestid",
        "action",
        "legs",
        "plan",
        "created_at",
        "delay_minutes",
        "max_minutes",
        "memo",
        "billingcode",
        "callflow",
        "variables",
        "test",
        "phase",
        "reason",
        "result",
        "charge",
        "reserved",
        "rate",
        "timeline",
        "planned_reason",
        "result_hint",
        "pending",
    }
)
_PLAN = frozenset({"outcome", "ring", "talk", "own_talk"})
_JOURNAL = frozenset({"seq", "limit", "dropped", "entries"})
_ENTRY = frozenset(
    {
        "seq",
        "kind",
        "virtual_time",
        "real_time",
        "door",
        "action",
        "params",
        "request",
        "request_base64",
        "response",
        "error_code",
        "detail",
    }
)


def _only(node: Node, known: frozenset[str]) -> None:
    value = node.value
    if not isinstance(value, dict):
        return  # the reader refuses a non-object, naming it
    unknown = sorted(str(k) for k in value if k not in known)
    if unknown:
        bad = Node(None, key=unknown[0], parent=node).path
        raise SettingError(f"{bad} is not a field of a snapshot (known: {sorted(known)})", bad)


def _each(node: Node, key: str) -> list[Node]:
    value = node.value.get(key) if isinstance(node.value, dict) else None
    return node[key].items() if isinstance(value, list) else []


def check_keys(doc: Any) -> None:
    """Refuse a key the snapshot format does not have, anywhere the readers would skip it
    (accounts, rules and faults refuse theirs while being read)."""
    root = Node(doc, "")
    _only(root, _ROOT)
    for tenant in _each(root, "tenants"):
        _only(tenant, _TENANT)
        if isinstance(tenant.value, dict) and "clock" in tenant.value:
            _only(tenant["clock"], _CLOCK)
        for call in _each(tenant, "calls"):
            _only(call, _CALL)
            for step in _each(call, "plan"):
                _only(step, _PLAN)
        if isinstance(tenant.value, dict) and "journal" in tenant.value:
            journal = tenant["journal"]
            _only(journal, _JOURNAL)
            for entry in _each(journal, "entries"):
                _only(entry, _ENTRY)


def check_money(node: Node, tenant: Tenant) -> None:
    """Refuse a tenant whose money does not add up (``node`` is its document, for paths)."""
    calls = node["calls"].items()
    held = Decimal(0)
    spent = Decimal(0)
    by_code: dict[str, Decimal] = {}
    for item, call in zip(calls, tenant.calls.values(), strict=True):
        if call.reserved and not call.rate:
            raise item["reserved"].fail("0 for a call whose rate is 0")
        held += call.reserved
        if call.phase is Phase.ENDED and not call.test and "rate" in item.value:
            minutes = sum(
                billable(answered, ended)
                for answered, ended in (
                    (call.first_answered_at, call.first_ended_at),
                    (call.second_answered_at, call.second_ended_at),
                )
                if answered is not None and ended is not None
            )
            if call.charge != call.rate * minutes:
                raise item["charge"].fail(
                    f"the rate times the minutes its answered legs talked "
                    f"({call.rate} x {minutes} = {call.rate * minutes})"
                )
        if call.charge:
            spent += call.charge
            code = call.billingcode or ""
            by_code[code] = by_code.get(code, Decimal(0)) + call.charge
    balance = tenant.account.balance
    if held > balance:
        raise node["calls"].fail(
            f"calls holding at most the balance ({balance} USD) in 'reserved', they hold {held}"
        )
    for code, amount in by_code.items():
        if amount > tenant.charges_by_billingcode.get(code, Decimal(0)):
            field = Node(None, key=code, parent=node["charges_by_billingcode"]).path
            raise SettingError(
                f"{field} must be at least the {amount} USD its ended calls were charged", field
            )
    spent += sum((sms.fee for sms in tenant.sms), Decimal(0))
    total = tenant.total_charged
    if spent > total or sum(tenant.charges_by_billingcode.values(), Decimal(0)) > total:
        raise node["total_charged"].fail(
            "at least what the calls, SMS and billing codes it lists were charged"
        )
    if balance != tenant.initial_balance - total:
        raise node["account"]["balance"].fail(
            f"initial_balance less total_charged ({tenant.initial_balance} - {total} = "
            f"{tenant.initial_balance - total})"
        )
