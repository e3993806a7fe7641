"""A call in a snapshot: its JSON form, and reading it back with its story checked.

Besides every field, reading checks that the call holds together as the engine leaves calls:
its timeline follows the transition table in time order, its pending step is one the engine
schedules in its phase, its legs, plan, reason and money agree with the phase. A restored call
then runs on without surprises; every refusal is a ``SettingError`` naming the field's path.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

from ..errors import SettingError
from .calls import TRANSITIONS, Call, Phase, Reason
from .document import Node
from .legs import OUTCOMES, LegBehaviour
from .state import COUNT_MAX, HEX40

TEXT_MAX = 1024  # memo, result, notes (the wire's MEMO bound)
ACTIONS = ("DIAL.CONNECT", "DIAL.CALLFLOW")
PHASES = tuple(phase.value for phase in Phase)
REASONS = tuple(reason.value for reason in Reason)
#: A leg's outcome as the engine records it (``Tenant._settle``).
LEG_OUTCOMES = ("answered", "busy", "no-answer", "fail")
#: The engine step a call in each phase waits for (``Tenant._dial``, ``_first_outcome``,
#: ``_connect``); an ended call waits for nothing.
STEPS: MappingProxyType[Phase, tuple[str, ...]] = MappingProxyType(
    {
        Phase.SCHEDULED: ("dial",),
        Phase.RINGING_FIRST: ("first",),
        Phase.RINGING_SECOND: ("second", "hangup", "end"),
        Phase.CONNECTED: ("end",),
        Phase.ENDED: (),
    }
)
ALL_STEPS = ("dial", "first", "second", "hangup", "end")
#: Each live phase's leg outcomes, for a call of two legs (DIAL.CALLFLOW: the first only).
LIVE_OUTCOMES: MappingProxyType[Phase, tuple[str | None, str | None]] = MappingProxyType(
    {
        Phase.SCHEDULED: (None, None),
        Phase.RINGING_FIRST: (None, None),
        Phase.RINGING_SECOND: ("answered", None),
        Phase.CONNECTED: ("answered", "answered"),
    }
)
#: Legs planned (dialled) by each live phase; None: every leg of the call.
PLANNED: MappingProxyType[Phase, int | None] = MappingProxyType(
    {
        Phase.SCHEDULED: 0,
        Phase.RINGING_FIRST: 1,
        Phase.RINGING_SECOND: 2,
        Phase.CONNECTED: None,
    }
)
#: (time, sequence, step) of a call's pending engine step.
Pending = tuple[float, int, str]


def call_document(call: Call) -> dict[str, Any]:
    """One call as JSON-ready data, its pending engine step included."""
    return {
        "requestid": call.requestid,
        "action": call.action,
        "created_at": call.created_at,
        "legs": [
            [leg.number, leg.callerid, leg.answered_at, leg.ended_at, leg.outcome]
            for leg in call.legs
        ],
        "delay_minutes": call.delay_minutes,
        "max_minutes": call.max_minutes,
        "memo": call.memo,
        "billingcode": call.billingcode,
        "callflow": call.callflow,
        "variables": call.variables,
        "test": call.test,
        "phase": call.phase.value,
        "reason": call.reason.value if call.reason else None,
        "result": call.result,
        "charge": str(call.charge),
        "reserved": str(call.reserved),
        "rate": str(call.rate),
        "timeline": [list(step) for step in call.timeline],
        "pending": (
            [call.pending_at, call.pending_step, call.pending_seq] if call.pending_seq else None
        ),
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
        raise SettingError(
            f"{plan_node.path}: a plan of {len(plan)} legs for a call of {len(legs)}",
            plan_node.path,
        )
    if len(legs) != (2 if action == "DIAL.CONNECT" else 1):
        raise SettingError(
            f"{legs_node.path}: a {action} call has "
            f"{'two legs' if action == 'DIAL.CONNECT' else 'one leg'}",
            legs_node.path,
        )
    created_at = node["created_at"].moment()
    first, second = legs[0], legs[1] if len(legs) == 2 else None
    call = Call(
        node["requestid"].text(40, HEX40, "40 lower-case hexadecimal characters"),
        action,
        first[0],
        first[1],
        None if second is None else second[0],
        None if second is None else second[1],
        created_at,
        node["delay_minutes"].whole(0, 86400),
        None if node["max_minutes"].is_null() else node["max_minutes"].whole(1, 1440),
        _text(node["memo"], TEXT_MAX),
        _text(node["billingcode"], 255),
        None if node["callflow"].is_null() else node["callflow"].text(64, least=1),
        _variables(node["variables"]),
        node["test"].flag(),
    )
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
        step = (pending[0].moment(), pending[2].whole(1, COUNT_MAX), pending[1].choice(ALL_STEPS))
    _check_story(node, call, step)
    return call, step


def _leg(node: Node) -> tuple[str, str, float | None, float | None, str | None]:
    node.seq(size=5)
    outcome = node[4]
    return (
        node[0].text(64, least=1),
        node[1].text(64, least=1),
        _moment(node[2]),
        _moment(node[3]),
        None if outcome.is_null() else outcome.choice(LEG_OUTCOMES),
    )


def _behaviour(node: Node) -> LegBehaviour:
    own = node.get("own_talk")  # absent in snapshots older than the field: LegBehaviour infers
    return LegBehaviour(
        node["outcome"].choice(OUTCOMES),
        node["ring"].real(0, 86400),
        node["talk"].real(0, 86400),
        None if own.is_null() else own.flag(),
    )


def _moment(node: Node) -> float | None:
    return None if node.is_null() else node.moment()


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
        at = step[0].moment(now)
        phase = Phase(step[1].choice(PHASES))
        note = step[2].text(TEXT_MAX)
        if not steps:
            if at != call.created_at or phase is not Phase.SCHEDULED:
                raise step.fail(f'the call\'s creation, [{call.created_at!r}, "scheduled", note]')
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
        raise node["timeline"].fail(
            "scheduled, then perhaps ended: a TEST request is never dialled"
        )
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
                f"{phase.value} call"
            )
        if pending[0] < call.timeline[-1][0]:
            raise node["pending"][0].fail("no earlier than the call's last step")
    plan = call.plan
    # Calls are planned whole when accepted (a TEST call never); snapshots from before that
    # hold the legs dialled so far. An ended call: any plan up to its legs.
    legacy = PLANNED.get(phase, len(plan))
    if legacy is None:
        legacy = len(legs)
    allowed = {legacy} if call.test else {legacy, len(legs)}
    if len(plan) not in allowed:
        wanted = " or ".join(str(n) for n in sorted(allowed))
        raise node["plan"].fail(f"a plan of {wanted} legs for a {phase.value} call")
    for index, leg in enumerate(legs):
        if not ended and leg.outcome != LIVE_OUTCOMES[phase][index]:
            raise _leg_field(node, index, 4).fail(
                f"{LIVE_OUTCOMES[phase][index]!r} in a {phase.value} call"
            )
        if leg.outcome is not None and (
            index >= len(plan)
            or leg.outcome
            != ("answered" if plan[index].outcome == "answer" else plan[index].outcome)
        ):
            raise _leg_field(node, index, 4).fail("the outcome its plan says")
        if (leg.answered_at is None) != (leg.outcome != "answered"):
            raise _leg_field(node, index, 2).fail(
                "a moment exactly when the leg's outcome is 'answered'"
            )
        if (leg.ended_at is not None) != (ended and leg.answered_at is not None):
            raise _leg_field(node, index, 3).fail(
                "a moment exactly when the leg answered and the call ended"
            )
    if (call.reason is None) == ended:
        raise node["reason"].fail("a reason exactly when the call ended")
    if call.reserved and phase not in (Phase.RINGING_SECOND, Phase.CONNECTED):
        raise node["reserved"].fail("0 unless a party is talking")
    if call.charge and (not ended or call.test):
        raise node["charge"].fail("0 until the call ended (and for a TEST request)")
    if call.result is not None and not (ended and action_is_flow):
        raise node["result"].fail("null until a DIAL.CALLFLOW call ended")
