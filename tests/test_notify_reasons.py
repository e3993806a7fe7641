"""Issue 12: every ended call yields one CALL message, whatever ended it: completed, busy, no
answer, failed, cancelled, cut off when the balance ran out, both DIAL.CONNECT and
DIAL.CALLFLOW; a TEST request yields none. Pure core, no HTTP: the outbox is read directly."""

from __future__ import annotations

from decimal import Decimal

from mock_anveo.sim.accounts import DEFAULT_CALLFLOW, DOCS_CALLERID, Account
from mock_anveo.sim.calls import Reason
from mock_anveo.sim.tenant import Tenant

A, B = "12157010680", "12125551234"
BUSY, NO_ANSWER, FAIL, LONG = "12125550100", "12125550101", "12125550102", "12125550104"


def _tenant(balance: str = "100") -> Tenant:
    account = Account(
        "k" * 40,
        balance=Decimal(balance),
        verified_callerids={DOCS_CALLERID},
        callflows={DEFAULT_CALLFLOW},
        notification_url="http://127.0.0.1:9/cdr",
    )
    return Tenant(account, seed=7)


def _cdrs(tenant: Tenant) -> dict[str, dict[str, str]]:
    """RESPONSEID -> the CALL message's fields (each call at most once, checked)."""
    messages = [dict(m.fields) for m in tenant.outbox.messages.values() if m.kind == "CALL"]
    by_call = {fields["RESPONSEID"]: fields for fields in messages}
    assert len(by_call) == len(messages), "a call has two CALL messages"
    return by_call


def test_every_end_reason_of_both_dial_actions_yields_one_cdr() -> None:
    t = _tenant()
    rids = {
        "connect": t.dial_connect(A, B).requestid,
        "busy": t.dial_connect(A, BUSY).requestid,
        "no-answer": t.dial_connect(A, NO_ANSWER).requestid,
        "failed": t.dial_connect(FAIL, B).requestid,
        "cancel": t.dial_connect(A, B, delay=30).requestid,
        "test": t.dial_connect(A, B, test=True).requestid,
        "callflow": t.dial_callflow(B, callerid=DOCS_CALLERID, callflow=DEFAULT_CALLFLOW).requestid,
        "callflow-cancel": t.dial_callflow(
            B, callerid=DOCS_CALLERID, callflow=DEFAULT_CALLFLOW, delay=30
        ).requestid,
    }
    t.advance(60)
    t.cancel(rids["cancel"])
    t.cancel(rids["callflow-cancel"])
    t.advance(86400)
    cdrs = _cdrs(t)
    ended = {rid for rid, call in t.calls.items() if call.reason is not None}
    assert set(cdrs) == ended == set(rids.values()) - {rids["test"]}
    reasons = {name: t.calls[rid].reason for name, rid in rids.items() if name != "test"}
    assert reasons["cancel"] is reasons["callflow-cancel"] is Reason.CANCELLED
    assert {reasons[n] for n in ("busy", "no-answer", "failed")} == {
        Reason.BUSY,
        Reason.NO_ANSWER,
        Reason.FAILED,
    }
    for name, rid in rids.items():
        if name == "test":
            continue
        fields = cdrs[rid]
        assert fields["STATUS"] == t.calls[rid].reason.value.upper()
        assert fields["ACTION"] == t.calls[rid].action
        assert fields["FEE"] == str(t.calls[rid].charge)
    assert "DESTPHONENUMBER" not in cdrs[rids["callflow"]]  # DIAL.CONNECT's field only
    assert cdrs[rids["connect"]]["DESTPHONENUMBER"] == B


def test_a_call_cut_off_when_the_balance_runs_out_is_reported_with_its_fees() -> None:
    t = _tenant(balance="0.10")  # ten leg-minutes; LONG alone talks 4 hours
    rid = t.dial_connect(A, LONG).requestid
    t.advance(86400)
    call = t.calls[rid]
    assert call.reason is Reason.INSUFFICIENT_FUNDS
    fields = _cdrs(t)[rid]
    assert fields["STATUS"] == "INSUFFICIENT-FUNDS"
    assert Decimal(fields["FEE"]) == call.charge > 0
    assert Decimal(fields["LEG1FEE"]) + Decimal(fields["LEG2FEE"]) == call.charge
