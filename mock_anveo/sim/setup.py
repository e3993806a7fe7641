"""Tenants built and changed from JSON documents: defaults, validation order and rule ids.

The control API's domain policy lives here so it can be tested without HTTP: what a new
tenant starts with (the documentation's caller ID and a call flow key), that a document is
validated completely before anything changes, how rules are numbered, and what a change of
balance does to ``initial_balance``. Everything raises ``SettingError`` (``Conflict`` when a
valid document clashes with the world's state); nothing here knows about HTTP.
"""

from __future__ import annotations

import json
import string
from collections.abc import Callable
from typing import Any, Literal

from ..errors import SettingError
from . import outbound
from .accounts import (
    DEFAULT_CALLFLOW,
    DOCS_CALLERID,
    Account,
    apply_fields,
    check_userkey,
)
from .bounds import bounded, shown_value
from .clock import parse_iso
from .faults import FaultRule, fault_from_dict
from .fields import ACCOUNT_FIELDS, PATCH_FIELDS, TENANT_FIELDS
from .scenarios import Rule, rule_from_dict
from .tenant import Tenant
from .world import World

#: A tenant's clock may start from 1970-01-01 to 9000-01-01, so 60 days of calls still have
#: an ISO date.
EARLIEST, LATEST = 0.0, 221845392000.0
MAX_RULES = 1000
MAX_CLOCK_RATE = 1_000_000
#: Why the other tenant fields cannot be patched, and what to do instead.
_NOT_PATCHABLE = {
    "userkey": "the userkey of a tenant cannot change",
    "start": "start is fixed at creation; move the clock with POST .../clock/advance",
    "scenarios": "scenarios are changed with POST and DELETE .../scenarios",
    "faults": "faults are changed with POST and DELETE .../faults",
}
RuleKind = Literal["scenario", "fault"]
_KEY_ALPHABET = string.ascii_lowercase + string.digits


class Conflict(SettingError):
    """A valid document that clashes with the world's state (a taken key, a full server)."""


class Missing(SettingError):
    """The tenant or rule a request names does not exist."""


def _unknown(doc: dict[str, Any], known: tuple[str, ...], what: str) -> None:
    unknown = sorted(set(doc) - set(known))
    if unknown:
        raise SettingError(f"unknown {what} fields {unknown}; valid: {list(known)}", unknown[0])


def clock_rate(value: Any, name: str = "clock_rate") -> float:
    """A clock rate: virtual seconds per real second, from 0 (frozen) to 1000000."""
    return bounded(value, name, 0.0, MAX_CLOCK_RATE, whole=False)


def _start(value: Any) -> float:
    if not isinstance(value, str):
        raise SettingError(f"start must be an ISO-8601 moment, got {shown_value(value)}", "start")
    try:
        start = parse_iso(value)
    except (ValueError, OverflowError) as exc:
        raise SettingError(f"start must be an ISO-8601 moment: {exc}", "start") from None
    if not EARLIEST <= start <= LATEST:
        raise SettingError(
            "start must be from 1970-01-01 to 9000-01-01 (so 60 days of calls "
            f"still have a date), got {shown_value(value)}",
            "start",
        )
    return start


def _rule_list(value: Any, name: str) -> list[Any]:
    if not isinstance(value, list) or len(value) > MAX_RULES:
        raise SettingError(f"{name} must be a list of at most {MAX_RULES} rules", name)
    return value


def _fresh_key(world: World) -> str:
    while True:
        key = "".join(world.key_rng.choice(_KEY_ALPHABET) for _ in range(40))
        if key not in world.tenants:
            return key


def build_tenant(world: World, doc: dict[str, Any]) -> Tenant:
    """Validate a tenant document completely, then add the tenant; it remembers the document
    (with its userkey) so ``rebuild`` can make it again.

    A new account verifies the documentation's caller ID and knows one call flow key, so
    Anveo's own examples work on it; the document's fields replace those defaults. Rules are
    numbered s1, s2, ... then f(n+1), ... in the order given.
    """
    _unknown(doc, TENANT_FIELDS, "tenant")
    if len(world.tenants) >= world.settings.max_tenants:
        raise Conflict(f"this server holds at most {world.settings.max_tenants} tenants")
    origin = json.loads(json.dumps(doc))  # a private, JSON-clean copy
    if "userkey" in doc:
        userkey = check_userkey(doc["userkey"])
        if userkey in world.tenants:
            raise Conflict(f"a tenant with userkey {userkey!r} exists", "userkey")
    else:
        userkey = _fresh_key(world)
    origin["userkey"] = userkey
    start = _start(doc["start"]) if doc.get("start") is not None else None
    rate = clock_rate(doc["clock_rate"]) if doc.get("clock_rate") is not None else None
    account_doc = {k: v for k, v in doc.items() if k in ACCOUNT_FIELDS and k != "userkey"}
    account = apply_fields(
        Account(userkey, verified_callerids={DOCS_CALLERID}, callflows={DEFAULT_CALLFLOW}),
        account_doc,
    )
    scenarios = _rule_list(doc.get("scenarios", []), "scenarios")
    faults = _rule_list(doc.get("faults", []), "faults")
    rules = [rule_from_dict(_rule_doc(r, "scenario"), f"s{i + 1}") for i, r in enumerate(scenarios)]
    fault_rules = [
        fault_from_dict(_rule_doc(f, "fault"), f"f{len(rules) + i + 1}")
        for i, f in enumerate(faults)
    ]
    check_destinations(account, world.settings.callback_allow)
    tenant = world.add(account, start=start, rate=rate)
    tenant.rules.extend(rules)
    tenant.faults.extend(fault_rules)
    tenant.next_rule_id = len(rules) + len(fault_rules) + 1
    tenant.origin = origin
    return tenant


def rebuild(world: World, userkey: str) -> Tenant:
    """The tenant ``userkey`` as it was created (its document, or its configured account):
    same key, fresh calls, clock, journal and rules. Nothing changes when it cannot be done."""
    tenant = world.tenants.get(userkey)
    if tenant is None:
        raise Missing(f"no tenant with userkey {userkey!r}", "userkey")
    if tenant.origin is None and not world.is_configured(userkey):
        raise Conflict(
            f"tenant {userkey!r} came from a snapshot or state file and has no "
            "creation document or configured account to reset to",
            "userkey",
        )
    del world.tenants[userkey]
    try:
        fresh = (
            world.add_configured(userkey)
            if tenant.origin is None
            else build_tenant(world, tenant.origin)
        )
    except Exception:
        world.tenants[userkey] = tenant  # a document that built once builds again; be sure
        raise
    tenant.close()
    return fresh


def check_destinations(account: Account, allow: frozenset[str]) -> None:
    """Refuse an account whose notification URL or SMS forward templates the outbound safety
    rule forbids (loopback only unless the server allows the host)."""
    outbound.check_allowed(account.notification_url, allow, "notification_url")
    for index, template in enumerate(account.numbers.values()):
        outbound.check_allowed(template, allow, f"numbers[{index}].sms_url")


def patch_tenant(
    tenant: Tenant,
    doc: dict[str, Any],
    real: Callable[[], float],
    allow: frozenset[str] = frozenset(),
) -> None:
    """Change account fields and the clock rate, all or nothing.

    A new ``balance`` counts as money paid in (``Tenant.set_balance``: ``initial_balance``
    moves with it, and live calls are planned again against it).
    """
    for name, why in _NOT_PATCHABLE.items():
        if name in doc:
            raise SettingError(f"{why}; fields that can change: {list(PATCH_FIELDS)}", name)
    _unknown(doc, PATCH_FIELDS, "tenant")
    rate = clock_rate(doc["clock_rate"]) if "clock_rate" in doc else None
    account_doc = {k: v for k, v in doc.items() if k != "clock_rate"}
    scratch = Account(**{n: getattr(tenant.account, n) for n in tenant.account.__slots__})
    apply_fields(scratch, account_doc)  # validate everything before changing anything
    check_destinations(scratch, allow)
    if "balance" in account_doc:  # first: it alone can still refuse (calls owe more)
        tenant.set_balance(account_doc.pop("balance"))
    if rate is not None:
        set_clock_rate(tenant, rate, real)
    apply_fields(tenant.account, account_doc)


def set_clock_rate(
    tenant: Tenant, rate: Any, real: Callable[[], float], name: str = "clock_rate"
) -> None:
    """Run the tenant's clock at ``rate`` from now on (0 freezes it), after firing what is due;
    ``name`` is the field an error names."""
    value = clock_rate(rate, name)
    tenant.sync()
    tenant.clock.set_rate(value, real)


def _rule_doc(doc: Any, kind: RuleKind) -> Any:
    """A rule document without the fields the server adds to its views (id and rule kind)."""
    if not isinstance(doc, dict):
        return doc
    if doc.get("rule", kind) != kind:
        raise SettingError(f"this list holds {kind} rules, got a {doc['rule']!r} rule", "rule")
    doc = {k: v for k, v in doc.items() if k not in ("id", "rule")}
    if kind == "scenario" and "kind" in doc:
        if doc["kind"] != "scenario":
            raise SettingError(
                f"a scenario rule's kind is 'scenario', got {shown_value(doc['kind'])} "
                "(fault kinds go to .../faults)",
                "kind",
            )
        del doc["kind"]
    return doc


def add_rule(tenant: Tenant, kind: RuleKind, doc: Any) -> Rule | FaultRule:
    """Validate a scenario or fault rule, give it the tenant's next id (s1, f2, ...) and add it
    after the existing ones (the first matching rule wins)."""
    rules: list[Any] = tenant.rules if kind == "scenario" else tenant.faults
    if len(rules) >= MAX_RULES:
        raise Conflict(f"at most {MAX_RULES} {kind}s per tenant")
    rule_id = f"{kind[0]}{tenant.next_rule_id}"
    clean = _rule_doc(doc, kind)
    rule = rule_from_dict(clean, rule_id) if kind == "scenario" else fault_from_dict(clean, rule_id)
    tenant.next_rule_id += 1
    rules.append(rule)
    return rule


def remove_rule(tenant: Tenant, kind: RuleKind, rule_id: str) -> None:
    """Delete one rule by id; ``SettingError`` when this tenant has no such rule."""
    rules: list[Any] = tenant.rules if kind == "scenario" else tenant.faults
    for index, rule in enumerate(rules):
        if rule.id == rule_id:
            del rules[index]
            return
    raise Missing(f"no {kind} {rule_id!r} in this tenant", "id")
