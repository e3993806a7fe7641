"""The README's magic-number table, row by row, on either leg of DIAL.CONNECT and on the one
leg of DIAL.CALLFLOW, against a model written from the README's text alone."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mock_anveo.sim.accounts import DEFAULT_CALLFLOW, DOCS_CALLERID, Account
from mock_anveo.sim.calls import Reason
from mock_anveo.sim.tenant import Tenant

ORDINARY_FIRST, ORDINARY_SECOND = "12157010680", "12125551234"
CODES = range(100)


def row(code: int) -> tuple[str, float, float | None]:
    """The README row for ``1NPA55501XX``: outcome, seconds until it, the party's own talk
    time (None: none of its own, it stays until the other party hangs up)."""
    if code == 0:
        return "busy", 2, None
    if code == 1:
        return "no-answer", 30, None
    if code == 2:
        return "fail", 1, None
    if code == 3:
        return "answer", 3, 1
    if code == 4:
        return "answer", 3, 4 * 3600
    if code == 5:
        return "answer", 25, None
    if 10 <= code <= 29:
        return "answer", code - 10, None
    if 30 <= code <= 59:
        return "answer", 3, (code - 29) * 10
    if 60 <= code <= 99:
        return "answer", 3, (code - 59) * 60
    raise ValueError(f"{code:02d} is reserved: an ordinary number")


def party(code: int | None, leg: str) -> tuple[str, str, float, float | None]:
    """(number, outcome, ring, own talk) of a party: magic ``code``, or ordinary for None."""
    if code is None or 6 <= code <= 9:
        number = ORDINARY_FIRST if leg == "first" else ORDINARY_SECOND
        if code is not None:
            number = f"1212555010{code}"
        return number, "answer", 4 if leg == "first" else 6, None
    return (f"12125550{100 + code}", *row(code))


FAILED = {"busy": Reason.BUSY, "no-answer": Reason.NO_ANSWER, "fail": Reason.FAILED}


def model(first: int | None, second: int | None) -> tuple[Reason, float, float | None]:
    """(reason, end, bridged-at) of a DIAL.CONNECT, seconds after dialling, per the README:
    a party hangs up when its own talk time runs out (counted from its answer), which ends
    the call; one without stays until the other hangs up; when neither has one, the call
    lasts 90 s from the first party's answer; an answered first party waits up to its own
    talk time (else 90 s) for the second."""
    _, out1, ring1, talk1 = party(first, "first")
    _, out2, ring2, talk2 = party(second, "second")
    if out1 != "answer":
        return FAILED[out1], ring1, None
    answered = ring1
    gives_up = answered + (talk1 if talk1 is not None else 90)
    if gives_up < answered + ring2:
        return Reason.HANGUP, gives_up, None
    if out2 != "answer":
        return FAILED[out2], answered + ring2, None
    bridged = answered + ring2
    ends = [
        end
        for end in (
            answered + talk1 if talk1 is not None else None,
            bridged + talk2 if talk2 is not None else None,
        )
        if end is not None
    ]
    return Reason.ANSWERED_COMPLETED, min(ends) if ends else answered + 90, bridged


def story(first: int | None, second: int | None) -> tuple[Reason, float, float | None]:
    t = Tenant(Account("g" * 40, balance=Decimal(10_000)), seed=4)
    call = t.dial_connect(party(first, "first")[0], party(second, "second")[0])
    t.run_until_idle()
    assert call.reason is not None
    bridged = next((at for at, phase, _ in call.timeline if phase == "connected"), None)
    return (
        call.reason,
        call.timeline[-1][0] - call.created_at,
        None if bridged is None else bridged - call.created_at,
    )


@pytest.mark.parametrize("code", CODES)
def test_each_row_on_the_first_leg(code):
    assert story(code, None) == model(code, None)


@pytest.mark.parametrize("code", CODES)
def test_each_row_on_the_second_leg(code):
    assert story(None, code) == model(None, code)


@given(first=st.sampled_from(CODES), second=st.sampled_from(CODES))
def test_two_magic_legs_end_with_the_first_party_to_hang_up(first, second):
    assert story(first, second) == model(first, second)


def test_a_long_call_number_alone_makes_the_whole_call_long():
    # The reported case: DESTPHONENUMBER ...0104 alone used to end after 90 s of talk.
    for first, second in ((None, 4), (4, None)):
        reason, end, bridged = story(first, second)
        assert reason is Reason.ANSWERED_COMPLETED and bridged is not None
        assert end - bridged >= 4 * 3600 - 6


@pytest.mark.parametrize("code", CODES)
def test_each_row_on_the_one_leg_of_a_call_flow(code):
    t = Tenant(
        Account("g" * 40, verified_callerids={DOCS_CALLERID}, callflows={DEFAULT_CALLFLOW}), seed=4
    )
    number, outcome, ring, talk = party(code, "first")
    call = t.dial_callflow(number, callerid=DOCS_CALLERID, callflow=DEFAULT_CALLFLOW)
    t.run_until_idle()
    end = call.timeline[-1][0] - call.created_at
    if outcome != "answer":
        assert (call.reason, end) == (FAILED[outcome], ring)
    else:
        assert (call.reason, end) == (
            Reason.ANSWERED_COMPLETED,
            ring + (talk if talk is not None else 90),
        )


def test_the_readme_table_lists_the_rows_the_model_knows():
    text = Path(__file__).resolve().parent.parent.joinpath("README.md").read_text("utf-8")
    table = text[text.index("| last two digits |") :]
    table = table[: table.index("\n\n")]
    rows = re.findall(r"^\| `(\d\d)`(?:-`(\d\d)`)? \|", table, re.MULTILINE)
    covered = set()
    for low, high in rows:
        covered.update(range(int(low), int(high or low) + 1))
    assert covered == set(CODES) - {6, 7, 8, 9}
