"""Money: calls never take the balance below zero, are cut at the last moment their money
covers, re-planned when the balance changes, and refusals say what is held and why."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mock_anveo.errors import AnveoError, Code, SettingError
from mock_anveo.sim.accounts import DEFAULT_CALLFLOW, DOCS_CALLERID, Account
from mock_anveo.sim.calls import Reason, billable
from mock_anveo.sim.scenarios import rule_from_dict
from mock_anveo.sim.tenant import Tenant

A, B = "12157010680", "12125551234"  # ordinary: answer after 4 s / 6 s, 90 s of talk
LONG = "12125550104"  # answers after 3 s, talks 4 hours


def tenant(balance: str, rate: str = "0.01") -> Tenant:
    account = Account(
        "m" * 40,
        verified_callerids={DOCS_CALLERID},
        callflows={DEFAULT_CALLFLOW},
        balance=Decimal(balance),
        rate_per_minute=Decimal(rate),
    )
    return Tenant(account, seed=1)


def ended_after(t: Tenant, rid: str) -> float:
    call = t.calls[rid]
    return call.timeline[-1][0] - call.created_at


# ---- 1. a balance change re-plans live calls ------------------------------------------------
def test_lowering_the_balance_mid_call_cuts_the_call_where_the_new_balance_runs_out():
    # The reported story: 10.00, a call of two long-call legs, the balance PATCHed to 0.50.
    # Before set_balance the call kept its 4.80 USD plan and the balance ended at -4.30.
    t = tenant("10.00")
    rid = t.dial_connect(LONG, LONG).requestid
    t.advance(10)  # bridged at 6 s; 4.80 USD (2 x 240 leg-minutes) held
    assert t.set_balance("0.50") == Decimal("0.50")
    t.run_until_idle()
    call = t.calls[rid]
    assert call.reason is Reason.INSUFFICIENT_FUNDS
    assert t.balance() == Decimal("0.00") and call.charge == Decimal("0.50")
    # legs answered at 3 s and 6 s: 25 + 25 leg-minutes end at 3 + 25 * 60 s
    assert ended_after(t, rid) == 1503
    assert t.committed == 0


def test_raising_the_balance_mid_call_lets_a_call_planned_to_run_dry_run_on():
    t = tenant("0.10")
    rid = t.dial_connect(LONG, LONG).requestid
    t.advance(10)
    assert t.calls[rid].planned_reason is Reason.INSUFFICIENT_FUNDS  # ten leg-minutes only
    t.set_balance("100")
    t.run_until_idle()
    call = t.calls[rid]
    assert call.reason is Reason.ANSWERED_COMPLETED
    assert ended_after(t, rid) == 3 + 4 * 3600  # the first long-call party hangs up
    assert t.balance() == Decimal("100") - call.charge


def test_a_balance_below_what_live_calls_already_owe_is_refused_and_changes_nothing():
    t = tenant("10.00")
    rid = t.dial_connect(LONG, LONG).requestid
    t.advance(130)  # legs answered at 3 s and 6 s: 3 + 3 leg-minutes started
    before = (t.account.balance, t.committed, t.calls[rid].pending_at, t.initial_balance)
    with pytest.raises(SettingError) as info:
        t.set_balance("0.05")
    assert info.value.field == "balance"
    assert "already owe 0.06 USD" in info.value.message and rid in info.value.message
    assert (t.account.balance, t.committed, t.calls[rid].pending_at, t.initial_balance) == before
    t.set_balance("0.06")  # exactly what is owed: the call ends when those minutes do
    t.run_until_idle()
    assert t.calls[rid].reason is Reason.INSUFFICIENT_FUNDS
    assert ended_after(t, rid) == 183 and t.balance() == 0


def test_set_balance_validates_like_an_account_document():
    t = tenant("1.00")
    for bad in (-1, "abc", True, None, float("nan"), "1e10"):
        with pytest.raises(SettingError) as info:
            t.set_balance(bad)
        assert info.value.field == "balance"
    assert t.account.balance == Decimal("1.00")


def test_set_balance_keeps_the_initial_balance_consistent_with_the_charges():
    t = tenant("1.00")
    t.dial_connect(A, B)
    t.run_until_idle()
    t.set_balance("5")
    assert t.initial_balance - t.total_charged == Decimal("5")


def test_lowering_the_balance_while_the_second_party_rings_cuts_the_first_leg():
    t = tenant("10.00")
    t.rules.append(rule_from_dict({"match": B, "ring": 600}, "slow"))
    rid = t.dial_connect(LONG, B).requestid
    t.advance(30)  # the first party answered at 3 s, the second rings for 600 s
    t.set_balance("0.02")
    t.run_until_idle()
    call = t.calls[rid]
    assert call.reason is Reason.INSUFFICIENT_FUNDS and ended_after(t, rid) == 123
    assert t.balance() == 0 and call.legs[1].answered_at is None


def test_the_earliest_answered_call_keeps_its_plan_when_the_balance_drops():
    t = tenant("10.00")
    older = t.dial_connect(LONG, LONG).requestid
    t.advance(60)
    younger = t.dial_connect(LONG, LONG).requestid
    t.advance(10)
    t.set_balance("1.00")  # older owes 0.04, younger 0.02; 100 leg-minutes to share
    t.run_until_idle()
    assert t.balance() >= 0
    charges = t.calls[older].charge, t.calls[younger].charge
    assert sum(charges) <= Decimal("1.00")
    assert charges[0] > charges[1]  # the older call was planned first


def test_cancelling_a_call_frees_its_money_for_a_call_cut_short_by_it():
    t = tenant("0.20")
    short = t.dial_connect(A, B).requestid
    t.advance(10)  # bridged: 0.04 USD held until the first party hangs up at 94 s
    flow = t.dial_callflow(LONG, callerid=DOCS_CALLERID, callflow=DEFAULT_CALLFLOW).requestid
    t.advance(3)  # answered at 13 s: the 0.16 USD left pay 16 minutes, so cut at 973 s
    assert t.calls[flow].planned_reason is Reason.INSUFFICIENT_FUNDS
    t.advance(7)
    t.cancel(short)  # 1 + 1 leg-minutes used of the 4 held: 0.02 USD freed
    t.run_until_idle()
    call = t.calls[flow]
    assert call.reason is Reason.INSUFFICIENT_FUNDS
    assert ended_after(t, flow) == 3 + 18 * 60  # the freed money paid two more minutes
    assert t.balance() == 0


# ---- 2. cut at the last moment the money covers ----------------------------------------------
def test_a_call_running_out_of_money_is_cut_when_the_money_ends_not_a_minute_early():
    # Balance 0.03, default call: legs answered at 4 s and 10 s. At 70 s the first leg has
    # started 2 minutes and the second 1: 3 leg-minutes, all the money. (Before: cut at 64 s
    # with 0.01 left.)
    t = tenant("0.03")
    rid = t.dial_connect(A, B).requestid
    t.run_until_idle()
    call = t.calls[rid]
    assert call.reason is Reason.INSUFFICIENT_FUNDS
    assert ended_after(t, rid) == 70
    assert call.charge == Decimal("0.03") and t.balance() == 0


@given(
    cents=st.integers(2, 400),
    rate=st.sampled_from(["0.01", "0.013", "0.05"]),
    rings=st.lists(st.integers(0, 100_000), min_size=2, max_size=2),
)
def test_a_cut_call_spends_what_it_may_and_one_more_microsecond_would_overspend(cents, rate, rings):
    t = tenant(f"{Decimal(cents) / 100}", rate)
    for leg, ring in zip(("first", "second"), rings, strict=True):  # rings in milliseconds
        t.rules.append(
            rule_from_dict({"match": "*", "leg": leg, "ring": ring / 1000, "talk": 7200}, leg)
        )
    initial = t.account.balance
    if initial < 2 * Decimal(rate):
        return  # refused at the door; other tests cover that
    rid = t.dial_connect(A, B).requestid
    t.run_until_idle()
    call = t.calls[rid]
    assert t.balance() >= 0 and t.balance() == initial - call.charge
    if call.reason is Reason.INSUFFICIENT_FUNDS:
        end = call.timeline[-1][0]
        starts = [leg.answered_at for leg in call.legs if leg.answered_at is not None]
        later = sum(billable(s, end + 1e-6) for s in starts)
        assert Decimal(rate) * later > initial  # the money covered no moment after the cut
    else:
        assert call.reason is Reason.ANSWERED_COMPLETED


# ---- 3. refusals say what is held, by which calls, and why ----------------------------------
def test_an_sms_refusal_names_the_calls_holding_the_money():
    t = tenant("0.06")
    rid = t.dial_connect(A, B).requestid
    t.advance(10)  # bridged: 2 + 2 leg-minutes held until the first party hangs up at 94 s
    with pytest.raises(AnveoError) as info:
        t.send_sms("1", B, "hi", parts=1)
    text = info.value.message
    assert info.value.code is Code.INSUFFICIENT_FUNDS
    assert "balance 0.06 USD, of which 0.04 USD is held by 1 call in progress" in text
    assert f"{rid}: 0.04 USD up to 2026-01-01T00:01:34.000Z" in text
    assert "leaves 0.02 USD, which cannot cover 0.044 USD (1 part at 0.044 USD)" in text


def test_a_dial_refusal_names_the_calls_holding_the_money_and_what_a_minute_costs():
    t = tenant("100.00")
    rids = [t.dial_connect(LONG, LONG).requestid for _ in range(5)]
    t.advance(10)
    t.set_balance("0.11")  # 5 x 0.02 owed; the re-plan holds the remaining cent too
    with pytest.raises(AnveoError) as info:
        t.dial_connect(A, B)
    text = info.value.message
    assert "of which 0.11 USD is held by 5 calls in progress" in text
    assert all(rid in text for rid in rids[:3]) and "and 2 more" in text
    assert "leaves 0.00 USD, which cannot cover one minute (0.02 USD: 2 legs at 0.01" in text


def test_without_held_money_the_refusal_stays_short():
    t = tenant("0.01")
    with pytest.raises(AnveoError) as info:
        t.dial_connect(A, B)
    assert info.value.message == (
        "insufficient funds: balance 0.01 USD cannot cover one minute "
        "(0.02 USD: 2 legs at 0.01 USD a minute)"
    )


def test_a_restored_tenant_re_plans_its_live_calls_too():
    from mock_anveo.sim import snapshot
    from mock_anveo.sim.world import Settings, World

    world = World(Settings(seed=1))
    t = world.add(Account("s" * 40, balance=Decimal("100.00")))
    live = t.dial_connect(LONG, LONG).requestid
    later = t.dial_connect(LONG, LONG, delay=1).requestid  # still scheduled when saved
    t.advance(10)
    copy = World(Settings(seed=1))
    snapshot.restore(copy, snapshot.snapshot(world))
    restored = copy.tenants["s" * 40]
    restored.set_balance("50")  # its live call came from the snapshot, not the engine
    restored.advance(60)  # the scheduled one answers after the restore
    restored.set_balance("0.50")
    restored.run_until_idle()
    assert {restored.calls[rid].reason for rid in (live, later)} == {Reason.INSUFFICIENT_FUNDS}
    assert restored.balance() == 0
