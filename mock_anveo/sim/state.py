"""A tenant's parts in a snapshot besides its calls: generators, SMS, account, rules, money.

Each ``read_*`` checks a part of ``Tenant.to_document``'s output as ``Tenant.from_document``
reads it back; every refusal is a ``SettingError`` naming the field's path. Calls:
``sim.calldoc``.
"""

from __future__ import annotations

import random
import sys
from collections import OrderedDict, deque
from decimal import Decimal
from functools import partial
from typing import Any

from .accounts import Account, apply_fields, check_userkey
from .calls import Call, Phase
from .document import Node, finite_json
from .faults import FaultRule, fault_from_dict
from .outbound import with_sink
from .scenarios import Rule, rule_from_dict

#: What a snapshot's integer counters may hold, and its retention limits.
COUNT_MAX, LIMIT_MAX = 2**63 - 1, 2**62
HEX40 = r"[0-9a-f]{40}"


def rng_state(rng: random.Random) -> list[Any]:
    """A generator's state as JSON-ready data."""
    version, internal, gauss = rng.getstate()
    return [version, list(internal), gauss]


def read_rng(node: Node) -> random.Random:
    """A generator in the state ``rng_state`` wrote (Mersenne Twister, version 3)."""
    node.seq(size=3)
    node[0].whole(3, 3)
    words = node[1].seq(size=625)
    for index, word in enumerate(words):  # 624 words of 32 bits, then the position in them
        high = 624 if index == 624 else 2**32 - 1
        if isinstance(word, bool) or not isinstance(word, int) or not 0 <= word <= high:
            node[1][index].whole(0, high)  # raises, naming the word
    gauss = node[2]
    rng = random.Random()
    rng.setstate(
        (
            3,
            tuple(words),
            None if gauss.is_null() else gauss.real(-sys.float_info.max, sys.float_info.max),
        )
    )
    return rng


def read_sms(node: Node, now: float) -> tuple[str, str, str, str, int, Decimal, float]:
    """The fields of one SMS (smsid, sender, destination, message, parts, fee, sent_at)."""
    node.seq(size=7)
    sent_at = node[6].moment(now)
    return (
        node[0].text(40, HEX40, "40 lower-case hexadecimal characters"),
        node[1].text(64, least=1),
        node[2].text(64, least=1),
        node[3].text(1600),
        node[4].whole(1, 1600),
        node[5].money(),
        sent_at,
    )


def read_account(node: Node) -> Account:
    """The account of a tenant, checked as the control API checks one."""
    fields = dict(node.obj())
    userkey = node.build(lambda doc: check_userkey(doc.get("userkey")))
    fields.pop("userkey")
    # A snapshot knows no server URL, so with_sink refuses a "sink" saying what to write.
    return node.build(lambda _: apply_fields(Account(userkey), with_sink(fields, None, userkey)))


def read_charges(node: Node) -> OrderedDict[str, Decimal]:
    """The money charged per BILLINGCODE, in the order the codes were first charged."""
    charges: OrderedDict[str, Decimal] = OrderedDict()
    for code in node.obj():
        if len(code) > 255:
            raise node.fail("an object whose BILLINGCODEs have at most 255 characters")
        charges[code] = node[code].money()
    return charges


def read_rules(node: Node) -> list[Rule]:
    """A tenant's scenario rules, each with a unique id."""
    return [
        item.build(partial(rule_from_dict, rule_id=rule_id)) for item, rule_id in _rule_ids(node)
    ]


def read_faults(node: Node) -> list[FaultRule]:
    """A tenant's fault rules, each with a unique id."""
    return [
        item.build(partial(fault_from_dict, fault_id=rule_id)) for item, rule_id in _rule_ids(node)
    ]


def _rule_ids(node: Node) -> list[tuple[Node, str]]:
    out: list[tuple[Node, str]] = []
    seen: set[str] = set()
    for item in node.items(1000):  # the control API's bound per tenant
        rule_id = item["id"].text(64, least=1)
        if rule_id in seen:
            raise item["id"].fail("unique among the tenant's rules")
        seen.add(rule_id)
        out.append((item, rule_id))
    return out


def read_origin(node: Node, userkey: str) -> dict[str, Any] | None:
    """The control-API document a tenant was created from: null, or an object naming it."""
    if node.is_null():
        return None
    if node.obj().get("userkey") != userkey:
        raise node.fail(f"null or the tenant's creation document, with userkey {userkey!r}")
    return dict(finite_json(node))


def read_ended_order(node: Node, calls: dict[str, Call]) -> deque[str]:
    """The ended calls' REQUESTIDs in the order they ended: each ended call once."""
    order = [item.text(40) for item in node.items()]
    ended = {rid for rid, call in calls.items() if call.phase is Phase.ENDED}
    if len(set(order)) != len(order) or set(order) != ended:
        raise node.fail(
            "the REQUESTIDs of the tenant's ended calls, each once, in the order they ended"
        )
    return deque(order)
