"""Scenario and fault rules: only rules that can mean something are accepted, every numeric
field is checked by ``sim.bounds.bounded``, and a call's legs follow the rules in force when
its request was accepted."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mock_anveo.errors import SettingError
from mock_anveo.sim.accounts import DEFAULT_CALLFLOW, DOCS_CALLERID, Account
from mock_anveo.sim.calls import Reason
from mock_anveo.sim.faults import ACTIONS, DOORS, V1_ACTION, fault_from_dict
from mock_anveo.sim.legs import DEFAULT_TALK, LegBehaviour
from mock_anveo.sim.scenarios import rule_from_dict
from mock_anveo.sim.tenant import Tenant

A, B = "12157010680", "12125551234"

# Anything JSON can carry that is not a finite number in range, plus values of the wrong type.
NOT_NUMBERS = st.one_of(
    st.booleans(),
    st.text(max_size=5),
    st.none(),
    st.lists(st.integers()),
    st.sampled_from([math.nan, math.inf, -math.inf]),
)


def tenant() -> Tenant:
    return Tenant(
        Account("r" * 40, verified_callerids={DOCS_CALLERID}, callflows={DEFAULT_CALLFLOW}), seed=2
    )


def refused(build: Any, doc: Any) -> SettingError:
    with pytest.raises(SettingError) as info:
        build(doc, "x1")
    return info.value


# ---- faults -------------------------------------------------------------------------------
def test_a_fault_on_an_action_no_request_carries_is_refused():
    error = refused(fault_from_dict, {"kind": "html", "action": "FOO"})
    assert error.field == "action" and "DIAL.CONNECT" in error.message


@pytest.mark.parametrize("action", [*ACTIONS, V1_ACTION])
def test_every_action_name_is_accepted(action):
    assert fault_from_dict({"kind": "html", "action": action}, "f1").action == action


def test_the_v1_door_can_be_targeted_with_its_one_action():
    fault = fault_from_dict({"kind": "http-status", "door": "v1", "status": 502}, "f1")
    assert "v1" in DOORS and fault.door == "v1"
    assert fault_from_dict({"kind": "reset", "door": "v1", "action": "SMS"}, "f2").action == "SMS"


@pytest.mark.parametrize(
    ("doc", "field"),
    [
        ({"door": "v1", "action": "DIAL.CONNECT"}, "action"),  # the text door sends SMS only
        ({"door": "v3", "action": "SMS"}, "door"),  # and SMS never arrives elsewhere
    ],
)
def test_a_door_and_action_that_never_meet_are_refused(doc, field):
    assert refused(fault_from_dict, {"kind": "html", **doc}).field == field


@pytest.mark.parametrize("status", [100, 101, 199, 600, 0, -1])
def test_http_status_outside_200_to_599_is_refused(status):
    # 1xx would send "100 Continue" and never a final answer: the client hangs.
    error = refused(fault_from_dict, {"kind": "http-status", "status": status})
    assert error.field == "status" and "from 200 to 599" in error.message


@pytest.mark.parametrize("status", [200, 204, 302, 404, 599])
def test_http_status_from_200_to_599_is_accepted(status):
    assert fault_from_dict({"kind": "http-status", "status": status}, "f1").status == status


@pytest.mark.parametrize(
    "field", ["nth", "times", "seconds", "status", "probability", "seen", "fired"]
)
@given(value=NOT_NUMBERS)
def test_every_numeric_fault_field_refuses_what_is_not_a_number(field, value):
    if field == "times" and value is None:
        return  # an explicit null: no limit
    if field == "probability" and value is None:
        return  # absent: every matching request
    error = refused(fault_from_dict, {"kind": "latency", field: value})
    assert error.field == field and error.message.startswith(f"{field} must be")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("nth", 1.5),
        ("times", 0),
        ("seconds", 61),
        ("probability", 1.01),
        ("seen", -1),
        ("status", 503.0),
    ],
)
def test_numeric_fault_fields_are_bounded(field, value):
    assert refused(fault_from_dict, {"kind": "latency", field: value}).field == field


def test_a_fault_round_trips_through_its_json_form():
    fault = fault_from_dict(
        {"kind": "latency", "door": "v1", "seconds": 0.5, "times": None, "probability": 0.25}, "f9"
    )
    assert fault_from_dict(fault.to_dict(), "f9") == fault


# ---- scenarios ----------------------------------------------------------------------------
def test_an_empty_scenario_is_refused_rather_than_overriding_every_magic_number():
    error = refused(rule_from_dict, {})
    assert error.field == "match" and "required" in error.message
    assert refused(rule_from_dict, {"outcome": "busy"}).field == "match"


@pytest.mark.parametrize("match", ["", "abc", "1212 555", "+12125551234", "1" * 65, 12125551234])
def test_a_match_that_no_phone_number_can_meet_is_refused(match):
    assert refused(rule_from_dict, {"match": match}).field == "match"


@pytest.mark.parametrize("match", ["12125551234", "1212*", "*", "1212555123?", "1[2-3]*"])
def test_numbers_and_globs_are_accepted(match):
    assert rule_from_dict({"match": match}, "s1").match == match


@pytest.mark.parametrize(
    ("doc", "field"),
    [
        ({"action": "DIAL.CALLFLOW", "leg": "second"}, "leg"),  # a call flow has one party
        ({"action": "DIAL.CONNECT", "result": "PRESSED 1"}, "result"),  # only call flows have one
        ({"leg": "second", "result": "PRESSED 1"}, "result"),
        ({"action": "DIAL.GETSTATUS"}, "action"),  # rules decide how dialled numbers behave
    ],
)
def test_combinations_that_can_never_apply_are_refused(doc, field):
    assert refused(rule_from_dict, {"match": "*", **doc}).field == field


@pytest.mark.parametrize("field", ["ring", "talk", "times", "used"])
@given(value=NOT_NUMBERS)
def test_every_numeric_scenario_field_refuses_what_is_not_a_number(field, value):
    if value is None and field in ("talk", "times"):
        return  # null talk: no talk time of its own; null times: no limit
    error = refused(rule_from_dict, {"match": "*", field: value})
    assert error.field == field and error.message.startswith(f"{field} must be")


@given(value=NOT_NUMBERS)
def test_weights_refuse_what_is_not_a_number(value):
    error = refused(rule_from_dict, {"match": "*", "weights": {"busy": value}})
    assert error.field == "weights" and "weights.busy" in error.message


def test_sequence_steps_are_bounded_and_named_by_position():
    error = refused(rule_from_dict, {"match": "*", "sequence": ["busy", {"ring": -1}]})
    assert error.field == "sequence[1].ring"


def test_talk_null_means_no_talk_time_of_its_own_and_round_trips():
    rule = rule_from_dict(
        {"match": "*", "sequence": [{"ring": 2}, {"talk": 90}, {"talk": None}]}, "s1"
    )
    assert [step.own_talk for step in rule.sequence] == [False, True, False]
    assert rule_from_dict(rule.to_dict(), "s1") == rule


def test_a_plan_saved_without_own_talk_infers_it_from_the_talk_time():
    assert LegBehaviour.from_dict({"outcome": "answer", "ring": 3, "talk": 600}).own_talk
    assert not LegBehaviour.from_dict(
        {"outcome": "answer", "ring": 3, "talk": DEFAULT_TALK}
    ).own_talk
    plan = LegBehaviour("answer", 3.0, 90.0, own_talk=True)
    assert LegBehaviour.from_dict(plan.to_dict()) == plan


# ---- rules are resolved when the request is accepted ----------------------------------------
def test_a_rule_removed_after_the_dial_still_decides_the_second_leg():
    t = tenant()
    t.rules.append(rule_from_dict({"match": B, "leg": "second", "outcome": "busy"}, "s1"))
    rid = t.dial_connect(A, B).requestid
    t.rules.clear()  # before the second party rings (at 4 s)
    t.run_until_idle()
    assert t.calls[rid].reason is Reason.BUSY


def test_a_rule_added_after_the_dial_does_not_change_the_call():
    t = tenant()
    rid = t.dial_connect(A, B, delay=5).requestid
    t.rules.append(rule_from_dict({"match": "*", "outcome": "fail"}, "s1"))
    t.run_until_idle()
    assert t.calls[rid].reason is Reason.ANSWERED_COMPLETED
    assert t.rules[0].used == 0


def test_both_legs_take_their_rule_uses_when_the_request_is_accepted():
    t = tenant()
    t.rules.append(rule_from_dict({"match": "*", "sequence": ["answer", "busy"], "times": 2}, "s1"))
    call = t.dial_connect(A, B, delay=60)
    assert t.rules[0].used == 2  # both legs decided now, though nothing rings for an hour
    assert [b.outcome for b in call.plan] == ["answer", "busy"]
    test_call = t.dial_connect(A, B, test=True)
    assert test_call.plan == ()  # a TEST request is never dialled, so it takes no rule
