"""A tenant's parts in a snapshot: their JSON forms, and reading them back checked.

The parts are calls with their pending engine step, SMS, random generators, rules and money.
Reading a call back checks every field and that its story holds together (its timeline follows
the transition table, its pending step is one the engine could have scheduled in that phase,
its legs and plan agree), so a restored tenant runs on without surprises. Every refusal is a
``SettingError`` naming the field's path.
"""

from __future__ import annotations

import random
import sys
from collections import OrderedDict, deque
from decimal import Decimal
from functools import partial
from typing import Any

from ..errors import SettingError
from .accounts import Account, apply_fields, check_userkey
from .calls import TRANSITIONS, Call, Phase, Reason
from .document import Node, finite_json
from .faults import FaultRule, fault_from_dict
from .scenarios import OUTCOMES, LegBehaviour, Rule, rule_from_dict

#: What a snapshot's integer counters may hold, and its retention limits.
COUNT_MAX, LIMIT_MAX = 2**63 - 1, 2**62
HEX40 = r"[0-9a-f]{40}"
TEXT_MAX = 1024  # memo, result, notes (the wire's MEMO bound)
ACTIONS = ("DIAL.CONNECT", "DIAL.CALLFLOW")
PHASES = tuple(phase.value for phase in Phase)
REASONS = tuple(reason.value for reason in Reason)
#: A leg's outcome as the engine records it (``Tenant._settle``).
LEG_OUTCOMES = ("answered", "busy", "no-answer", "fail")
#: The engine step a call in each phase waits for (``Tenant._dial``, ``_first_outcome``,
#: ``_connect``); an ended call waits for nothing.
STEPS: dict[Phase, tuple[str, ...]] = {
    Phase.SCHEDULED: ("dial",),
    Phase.RINGING_FIRST: ("first",),
    Phase.RINGING_SECOND: ("second", "hangup", "end"),
    Phase.CONNECTED: ("end",),
    Phase.ENDED: (),
}
ALL_STEPS = ("dial", "first", "second", "hangup", "end")
#: Each live phase's leg outcomes, for a call of two legs (DIAL.CALLFLOW: the first only).
LIVE_OUTCOMES: dict[Phase, tuple[str | None, str | None]] = {
    Phase.SCHEDULED: (None, None),
    Phase.RINGING_FIRST: (None, None),
    Phase.RINGING_SECOND: ("answered", None),
    Phase.CONNECTED: ("answered", "answered"),
}
#: (time, sequence, step) of a call's pending engine step.
Pending = tuple[float, int, str]


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
    rng.setstate((3, tuple(words), None if gauss.is_null()
                  else gauss.real(-sys.float_info.max, sys.float_info.max)))
    return rng


def read_sms(node: Node, now: float) -> tuple[str, str, str, str, int, Decimal, float]:
    """The fields of one SMS (smsid, sender, destination, message, parts, fee, sent_at)."""
    node.seq(size=7)
    sent_at = _until(node[6], now)
    return (node[0].text(40, HEX40, "40 lower-case hexadecimal characters"),
            node[1].text(64, least=1), node[2].text(64, least=1), node[3].text(1600),
            node[4].whole(1, 1600),
            node[5].money(), sent_at)


def call_document(call: Call) -> dict[str, Any]:
    """One call as JSON-ready data, its pending engine step included."""
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


def read_call(node: Node, now: float) -> tuple[Call, Pending | None]:
    """A call written by ``call_document``, and its pending step, checked against a clock at
    ``now`` (no step of its timeline may lie ahead of it)."""
    action = node["action"].choice(ACTIONS)
    legs_node = node["legs"]
    if not 1 <= len(legs_node.seq()) <= 2:
        raise legs_node.fail("a list of one or two legs")
    legs = [_leg(leg) for leg in legs_node.items()]
    plan_node = node["plan"]
    plan = [_behaviour(step) for step in plan_node.items(2)]
    if len(plan) > len(legs):
        raise SettingError(f"{plan_node.path}: a plan of {len(plan)} legs for a call of "
                           f"{len(legs)}", plan_node.path)
    if len(legs) != (2 if action == "DIAL.CONNECT" else 1):
        raise SettingError(f"{legs_node.path}: a {action} call has "
                           f"{'two legs' if action == 'DIAL.CONNECT' else 'one leg'}",
                           legs_node.path)
    created_at = node["created_at"].moment()
    first, second = legs[0], legs[1] if len(legs) == 2 else None
    call = Call(
        node["requestid"].text(40, HEX40, "40 lower-case hexadecimal characters"), action,
        first[0], first[1], None if second is None else second[0],
        None if second is None else second[1], created_at,
        node["delay_minutes"].whole(0, 86400),
        None if node["max_minutes"].is_null() else node["max_minutes"].whole(1, 1440),
        _text(node["memo"], TEXT_MAX), _text(node["billingcode"], 255),
        None if node["callflow"].is_null() else node["callflow"].text(64, least=1),
        _variables(node["variables"]), node["test"].flag())
    call.first_answered_at, call.first_ended_at, call.first_outcome = first[2:]
    if second is not None:
        call.second_answered_at, call.second_ended_at, call.second_outcome = second[2:]
    call.phase = Phase(node["phase"].choice(PHASES))
    call.reason = _reason(node["reason"])
    call.result = _text(node["result"], TEXT_MAX)
    call.charge = node["charge"].money()
    call.reserved = node.get("reserved", "0").money()
    call.rate = node.get("rate", "0").money()
    call.timeline = _timeline(node["timeline"], call, now)
    call.first_plan = plan[0] if plan else None
    call.second_plan = plan[1] if len(plan) == 2 else None
    call.planned_reason = _reason(node["planned_reason"])
    call.result_hint = _text(node["result_hint"], TEXT_MAX)
    pending = node["pending"]
    step = None
    if not pending.is_null():
        pending.seq(size=3)
        step = (pending[0].moment(), pending[2].whole(1, COUNT_MAX),
                pending[1].choice(ALL_STEPS))
    _check_story(node, call, step)
    return call, step


def _leg(node: Node) -> tuple[str, str, float | None, float | None, str | None]:
    node.seq(size=5)
    outcome = node[4]
    return (node[0].text(64, least=1), node[1].text(64, least=1), _moment(node[2]),
            _moment(node[3]),
            None if outcome.is_null() else outcome.choice(LEG_OUTCOMES))


def _behaviour(node: Node) -> LegBehaviour:
    return LegBehaviour(node["outcome"].choice(OUTCOMES), node["ring"].real(0, 86400),
                        node["talk"].real(0, 86400))


def _moment(node: Node) -> float | None:
    return None if node.is_null() else node.moment()


def _until(node: Node, now: float) -> float:
    moment = node.moment()
    if moment > now:
        raise node.fail(f"a moment no later than the clock's now ({now!r})")
    return moment


def _text(node: Node, limit: int) -> str | None:
    return None if node.is_null() else node.text(limit)


def _reason(node: Node) -> Reason | None:
    return None if node.is_null() else Reason(node.choice(REASONS))


def _variables(node: Node) -> dict[str, str] | None:
    if node.is_null():
        return None
    variables = node.obj()
    if len(variables) > 50:
        raise node.fail("an object of at most 50 call flow variables")
    for name, value in variables.items():
        if len(name) > 64:
            raise node.fail("an object whose names have at most 64 characters")
        if not isinstance(value, str) or len(value) > TEXT_MAX:
            node[name].text(TEXT_MAX)  # raises, naming the variable
    return dict(variables)


def _timeline(node: Node, call: Call, now: float) -> list[tuple[float, str, str]]:
    """The steps, each a legal move no earlier than the one before, ending in the call's
    phase; the first is the call's creation."""
    steps: list[tuple[float, str, str]] = []
    for step in node.items():
        step.seq(size=3)
        at = _until(step[0], now)
        phase = Phase(step[1].choice(PHASES))
        note = step[2].text(TEXT_MAX)
        if not steps:
            if at != call.created_at or phase is not Phase.SCHEDULED:
                raise step.fail(f"the call's creation, [{call.created_at!r}, \"scheduled\", "
                                "note]")
        else:
            before, last = steps[-1][0], Phase(steps[-1][1])
            if (last, phase) not in TRANSITIONS:
                raise step[1].fail(f"a phase the transition table allows after {last.value}")
            if at < before:
                raise step[0].fail(f"no earlier than the step before ({before!r})")
        steps.append((at, phase.value, note))
    if not steps:
        raise node.fail("a list of [time, phase, note] steps, the first the call's creation")
    if steps[-1][1] != call.phase.value:
        raise node.fail(f"a list ending in the call's phase {call.phase.value!r}")
    return steps


def _leg_field(node: Node, index: int, field: int) -> Node:
    return node["legs"][index][field]


def _check_story(node: Node, call: Call, pending: Pending | None) -> None:
    """The call's parts agree with its phase, as the engine leaves them."""
    phase, ended, legs = call.phase, call.phase is Phase.ENDED, call.legs
    if call.test and (phase not in (Phase.SCHEDULED, Phase.ENDED) or len(call.timeline) > 2):
        raise node["timeline"].fail("scheduled, then perhaps ended: a TEST request is never "
                                    "dialled")
    if (action_is_flow := call.action == "DIAL.CALLFLOW") != (call.callflow is not None):
        raise node["callflow"].fail("a call flow key for DIAL.CALLFLOW, null for DIAL.CONNECT")
    if not action_is_flow and call.variables is not None:
        raise node["variables"].fail("null for DIAL.CONNECT")
    waits = () if call.test else STEPS[phase]
    if pending is None and waits:
        raise node["pending"].fail(f"one of the steps {list(waits)} of a {phase.value} call")
    if pending is not None:
        if pending[2] not in waits:
            raise node["pending"][1].fail(
                f"one of the steps {list(waits)} of a{' TEST' if call.test else ''} "
                f"{phase.value} call")
        if pending[0] < call.timeline[-1][0]:
            raise node["pending"][0].fail("no earlier than the call's last step")
    plan = call.plan
    planned = {Phase.SCHEDULED: 0, Phase.RINGING_FIRST: 1, Phase.RINGING_SECOND: 2,
               Phase.CONNECTED: len(legs)}.get(phase, len(plan))
    if len(plan) != planned:
        raise node["plan"].fail(f"a plan of {planned} legs for a {phase.value} call")
    for index, leg in enumerate(legs):
        if not ended and leg.outcome != LIVE_OUTCOMES[phase][index]:
            raise _leg_field(node, index, 4).fail(
                f"{LIVE_OUTCOMES[phase][index]!r} in a {phase.value} call")
        if leg.outcome is not None and (index >= len(plan) or leg.outcome != (
                "answered" if plan[index].outcome == "answer" else plan[index].outcome)):
            raise _leg_field(node, index, 4).fail("the outcome its plan says")
        if (leg.answered_at is None) != (leg.outcome != "answered"):
            raise _leg_field(node, index, 2).fail(
                "a moment exactly when the leg's outcome is 'answered'")
        if (leg.ended_at is not None) != (ended and leg.answered_at is not None):
            raise _leg_field(node, index, 3).fail(
                "a moment exactly when the leg answered and the call ended")
    if (call.reason is None) == ended:
        raise node["reason"].fail("a reason exactly when the call ended")
    if call.reserved and phase not in (Phase.RINGING_SECOND, Phase.CONNECTED):
        raise node["reserved"].fail("0 unless a party is talking")
    if call.charge and (not ended or call.test):
        raise node["charge"].fail("0 until the call ended (and for a TEST request)")
    if call.result is not None and not (ended and action_is_flow):
        raise node["result"].fail("null until a DIAL.CALLFLOW call ended")


def read_account(node: Node) -> Account:
    """The account of a tenant, checked as the control API checks one."""
    fields = dict(node.obj())
    userkey = node.build(lambda doc: check_userkey(doc.get("userkey")))
    fields.pop("userkey")
    return node.build(lambda _: apply_fields(Account(userkey), fields))


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
    return [item.build(partial(rule_from_dict, rule_id=rule_id))
            for item, rule_id in _rule_ids(node)]


def read_faults(node: Node) -> list[FaultRule]:
    """A tenant's fault rules, each with a unique id."""
    return [item.build(partial(fault_from_dict, fault_id=rule_id))
            for item, rule_id in _rule_ids(node)]


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
        raise node.fail("the REQUESTIDs of the tenant's ended calls, each once, in the order "
                        "they ended")
    return deque(order)
