"""The engine: call progress, scenarios, cancel, call flows, money and determinism."""

from __future__ import annotations

from decimal import Decimal

import pytest

from mock_anveo.errors import AnveoError, Code
from mock_anveo.sim.accounts import DEFAULT_CALLFLOW, DOCS_CALLERID, Account
from mock_anveo.sim.calls import Phase, Reason, Status
from mock_anveo.sim.journal import entry_to_dict
from mock_anveo.sim.legs import RING_TIMEOUT, magic
from mock_anveo.sim.scenarios import rule_from_dict
from mock_anveo.sim.tenant import Tenant

A, B = "12157010680", "12125551234"  # ordinary numbers: default behaviour
BUSY, NO_ANSWER, FAIL, LONG = "12125550100", "12125550101", "12125550102", "12125550104"


def tenant(**fields) -> Tenant:
    account = Account("k" * 40, verified_callerids={DOCS_CALLERID}, callflows={DEFAULT_CALLFLOW})
    for name, value in fields.items():
        setattr(account, name, value)
    return Tenant(account, seed=7)


def phases(t: Tenant, rid: str) -> list[str]:
    return [phase for _, phase, _ in t.calls[rid].timeline]


def test_default_call_goes_none_init_start_end_with_documented_timings():
    t = tenant()
    rid = t.dial_connect(A, B, delay=1440).requestid
    assert t.status(rid) is Status.NONE
    t.advance(1440 * 60 - 0.001)
    assert t.status(rid) is Status.NONE
    t.advance(0.001)
    assert t.status(rid) is Status.INIT  # first party ringing
    t.advance(4)
    assert t.calls[rid].phase is Phase.RINGING_SECOND  # still INIT
    assert t.status(rid) is Status.INIT
    t.advance(6)
    assert t.status(rid) is Status.START
    t.advance(3600)
    call = t.calls[rid]
    assert call.status is Status.END and call.reason is Reason.ANSWERED_COMPLETED
    assert phases(t, rid) == ["scheduled", "ringing-first", "ringing-second", "connected", "ended"]
    # first leg talks 90 s from its answer, so it hangs up 84 s after the bridge
    times = [at - call.created_at for at, _, _ in call.timeline]
    assert times == [0, 86400, 86404, 86410, 86494]


def test_second_party_busy_ends_the_call_before_start():
    t = tenant()
    rid = t.dial_connect(A, BUSY).requestid
    t.advance(60)
    call = t.calls[rid]
    assert call.reason is Reason.BUSY
    assert "connected" not in phases(t, rid)
    assert call.legs[1].outcome == "busy"
    # only the first party was connected (4 s -> 6 s): one billable minute
    assert call.charge == Decimal("0.01")


def test_legs_are_read_only_views_of_the_call():
    t = tenant()
    call = t.dial_connect(A, B)
    t.advance(5)  # the first party answered at 4 s; the second is ringing
    first, second = call.legs
    assert (first.number, first.answered_at, first.outcome) == (A, call.created_at + 4, "answered")
    assert (second.number, second.answered_at, second.outcome) == (B, None, None)
    with pytest.raises(AttributeError):
        first.outcome = "busy"  # type: ignore[misc]
    assert call.legs[0].outcome == "answered"


@pytest.mark.parametrize(
    ("number", "reason", "after"),
    [
        (BUSY, Reason.BUSY, 2.0),
        (NO_ANSWER, Reason.NO_ANSWER, RING_TIMEOUT),
        (FAIL, Reason.FAILED, 1.0),
    ],
)
def test_magic_numbers_on_the_first_leg(number, reason, after):
    t = tenant()
    rid = t.dial_connect(number, B).requestid
    t.advance(after - 0.5)
    assert t.status(rid) is Status.INIT
    t.advance(0.5)
    assert t.calls[rid].reason is reason
    assert t.calls[rid].charge == 0


def test_magic_number_table():
    assert magic("12125550110").ring == 0 and magic("12125550129").ring == 19
    assert magic("12125550130").talk == 10 and magic("12125550159").talk == 300
    assert magic("12125550160").talk == 60 and magic("12125550199").talk == 40 * 60
    assert magic("12125550106") is None and magic("12125550200") is None
    assert magic("2125550100") is None  # needs the leading country code 1


def test_maxcallduration_cuts_a_long_call():
    t = tenant()
    rid = t.dial_connect(A, LONG, max_minutes=5).requestid  # LONG alone talks 4 hours
    t.advance(4 * 3600)
    call = t.calls[rid]
    assert call.reason is Reason.MAX_DURATION
    bridged = next(at for at, phase, _ in call.timeline if phase == "connected")
    assert call.timeline[-1][0] - bridged == 300
    assert call.legs[1].billable_minutes() == 5


def test_cancel_before_dialing_never_rings_and_costs_nothing():
    t = tenant()
    rid = t.dial_connect(A, B, delay=10).requestid
    t.cancel(rid)
    assert t.status(rid) is Status.END and t.calls[rid].reason is Reason.CANCELLED
    t.advance(3600)
    assert phases(t, rid) == ["scheduled", "ended"]
    assert t.balance() == Decimal("100.00")
    with pytest.raises(AnveoError) as info:
        t.cancel(rid)
    assert info.value.code is Code.ALREADY_ENDED


def test_cancel_during_the_call_hangs_up_and_charges_talk_time():
    t = tenant()
    rid = t.dial_connect(A, B).requestid
    t.advance(70)  # bridged at 10 s, first party answered at 4 s
    assert t.status(rid) is Status.START
    t.cancel(rid)
    call = t.calls[rid]
    assert call.reason is Reason.CANCELLED
    assert [leg.billable_minutes() for leg in call.legs] == [2, 1]
    assert t.balance() == Decimal("100.00") - Decimal("0.03")


def test_unknown_and_foreign_requestids_are_not_found():
    mine, other = tenant(), Tenant(Account("o" * 40), seed=7)
    rid = other.dial_connect(A, B).requestid
    for fn in (mine.status, mine.cancel, mine.callflow_result):
        with pytest.raises(AnveoError) as info:
            fn(rid)
        assert info.value.code is Code.UNKNOWN_REQUESTID


def test_test_requests_are_never_dialled_or_charged():
    t = tenant()
    rid = t.dial_connect(A, B, test=True).requestid
    t.advance(86400)
    assert t.status(rid) is Status.NONE
    assert t.balance() == Decimal("100.00")
    assert len(t.scheduler) == 0


def test_insufficient_funds_refuses_the_request_and_ends_delayed_calls():
    t = tenant(balance=Decimal("0.015"))
    with pytest.raises(AnveoError) as info:
        t.dial_connect(A, B)
    assert info.value.code is Code.INSUFFICIENT_FUNDS
    rid = t.dial_callflow(B, callerid=DOCS_CALLERID, callflow=DEFAULT_CALLFLOW, delay=1).requestid
    t.account.balance = Decimal("0.001")
    t.advance(61)
    assert t.calls[rid].reason is Reason.INSUFFICIENT_FUNDS


def test_a_call_is_cut_when_the_balance_runs_out():
    t = tenant(balance=Decimal("0.10"))  # ten leg-minutes
    rid = t.dial_connect(A, LONG).requestid  # LONG alone talks 4 hours
    t.advance(86400)
    call = t.calls[rid]
    assert call.reason is Reason.INSUFFICIENT_FUNDS
    assert call.charge <= Decimal("0.10")
    assert t.balance() >= 0


def test_charges_are_summed_per_billingcode():
    t = tenant(rate_per_minute=Decimal("0.0095"))
    for code in ("a", "a", "b"):
        t.dial_connect(A, B, billingcode=code)
    t.dial_connect(A, B)
    t.advance(3600)
    assert t.charges_by_billingcode == {
        "a": Decimal("0.0760"),
        "b": Decimal("0.0380"),
        "": Decimal("0.0380"),
    }
    assert t.balance() == Decimal("100.00") - t.total_charged


def test_callflow_answers_runs_and_reports_its_result():
    t = tenant()
    t.rules.append(
        rule_from_dict(
            {"match": B, "action": "DIAL.CALLFLOW", "result": "PRESSED 1", "talk": 30}, "s1"
        )
    )
    rid = t.dial_callflow(
        B, callerid=DOCS_CALLERID, callflow=DEFAULT_CALLFLOW, variables={"ACCOUNTID": "8732123"}
    ).requestid
    with pytest.raises(AnveoError) as info:
        t.callflow_result(rid)
    assert info.value.code is Code.RESULT_NOT_READY
    t.advance(4)
    assert t.status(rid) is Status.START
    t.advance(30)
    assert t.status(rid) is Status.END
    assert t.callflow_result(rid) == "PRESSED 1"
    assert t.calls[rid].variables == {"ACCOUNTID": "8732123"}


def test_callflow_requires_known_flow_and_verified_callerid():
    t = tenant()
    with pytest.raises(AnveoError) as info:
        t.dial_callflow(B, callerid="19998887777", callflow=DEFAULT_CALLFLOW)
    assert info.value.code is Code.UNVERIFIED_CALLERID
    with pytest.raises(AnveoError) as info:
        t.dial_callflow(B, callerid=DOCS_CALLERID, callflow="x" * 40)
    assert info.value.code is Code.UNKNOWN_CALLFLOW


def test_rule_sequence_then_count_then_fallback_to_magic_and_defaults():
    t = tenant()
    t.rules.append(
        rule_from_dict(
            {
                "match": "1212*",
                "leg": "second",
                "sequence": ["busy", {"outcome": "answer", "ring": 1}],
                "times": 3,
            },
            "s1",
        )
    )
    rids = [t.dial_connect(A, B, delay=i).requestid for i in range(4)]
    t.advance(3600 * 2)
    reasons = [t.calls[r].reason for r in rids]
    assert reasons[0] is Reason.BUSY
    assert reasons[1:] == [Reason.ANSWERED_COMPLETED] * 3
    second_rings = [t.calls[r].timeline[3][0] - t.calls[r].timeline[2][0] for r in rids[1:]]
    assert second_rings == [1.0, 1.0, 6.0]  # the third use is the last; then defaults


def test_seeded_random_outcomes_are_reproducible():
    def run() -> list[str]:
        t = tenant()
        t.rules.append(
            rule_from_dict(
                {"match": "*", "weights": {"answer": 2, "busy": 1, "no-answer": 1}}, "s1"
            )
        )
        rids = [t.dial_connect(A, B).requestid for _ in range(40)]
        t.advance(3600)
        return [t.calls[r].reason.value for r in rids]

    first = run()
    assert first == run()
    assert {"busy", "no-answer", "answered-completed"} <= set(first)


def test_same_seed_same_requests_same_ids_and_timelines():
    def story(seed: int) -> list[object]:
        t = Tenant(Account("k" * 40, verified_callerids={DOCS_CALLERID}), seed=seed)
        rids = [
            t.dial_connect(A, n, delay=d).requestid
            for n, d in ((B, 0), (BUSY, 5), (LONG, 1), (NO_ANSWER, 2))
        ]
        t.advance(3 * 3600)
        t.cancel(t.dial_connect(A, B).requestid)
        return [(r, t.calls[r].timeline, str(t.calls[r].charge)) for r in rids]

    assert story(1) == story(1)
    assert story(1) != story(2)


def test_run_until_idle_stops_when_nothing_is_pending():
    t = tenant()
    t.dial_connect(A, B, delay=86400)
    end = t.run_until_idle()
    assert len(t.scheduler) == 0
    assert all(c.status is Status.END for c in t.calls.values())
    assert end == t.clock.now()


def test_ended_calls_are_kept_in_a_bounded_amount():
    t = tenant()
    t.ended_limit = 3
    rids = [t.dial_connect(A, BUSY).requestid for _ in range(5)]
    t.advance(3600)
    assert list(t.calls) == rids[2:]
    assert t.calls_dropped == 2


def test_journal_records_transitions_with_virtual_time():
    t = tenant()
    rid = t.dial_connect(A, B).requestid
    t.advance(3600)
    details = [entry_to_dict(e)["detail"] for e in t.journal if e[1] == "transition"]
    assert details[0].startswith(f"{rid} scheduled->ringing-first")
    assert len(details) == 4
