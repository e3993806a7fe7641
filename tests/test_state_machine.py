"""A Hypothesis state machine dials, cancels, polls and advances time through the real
request pipeline, checking the engine's invariants after every step."""

from __future__ import annotations

import itertools
from decimal import Decimal

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    multiple,
    precondition,
    rule,
)

from mock_anveo.errors import SettingError
from mock_anveo.sim.calls import STATUS_RANK, TRANSITIONS, Phase, Status, billable
from mock_anveo.sim.scenarios import rule_from_dict
from mock_anveo.sim.world import Settings, World
from mock_anveo.wire import pipeline

from .helpers import KEY, Reply, v2_query, xml_request

# Ordinary numbers plus the busy / no-answer / fail / long-call magic numbers.
NUMBERS = st.sampled_from(
    [
        "12157010680",
        "12125551234",
        "12125550100",
        "12125550101",
        "12125550102",
        "12125550104",
        "12125550115",
        "12125550161",
    ]
)
# Delays up to two days keep the story short while crossing day boundaries.
DELAYS = st.integers(0, 2880)
# Steps from a fraction of a second (inside a ringing phase) to a day.
STEPS = st.one_of(st.floats(0, 120, allow_nan=False), st.sampled_from([3600.0, 86400.0]))
# Balances set mid-story: below, near and well above what the calls in progress owe.
BALANCES = st.sampled_from(["0", "0.01", "0.03", "0.07", "0.60", "5"])


class CallEngine(RuleBasedStateMachine):
    """Random stories against one tenant; every invariant is checked after each step."""

    requests = Bundle("requests")

    def __init__(self) -> None:
        super().__init__()
        self.world = World(Settings(seed=3))
        self.tenant = self.world.get(KEY)
        assert self.tenant is not None
        self.tenant.account.balance = Decimal("0.60")  # tight: calls compete for the money
        self.initial = self.tenant.account.balance
        self.last_now = self.tenant.clock.now()
        self.seen_status: dict[str, Status] = {}
        self.cancelled_while_scheduled: set[str] = set()
        self.test_ids: set[str] = set()
        self.refused = 0

    def send(self, door: str, action: str, params: list[tuple[str, str]]) -> Reply:
        if door == "v2":
            exchange = pipeline.handle(self.world, door, b"", query=v2_query(action, params))
        else:
            exchange = pipeline.handle(self.world, door, xml_request(action, params))
        return Reply(exchange.body)

    @rule(
        target=requests,
        first=NUMBERS,
        second=NUMBERS,
        delay=DELAYS,
        door=st.sampled_from(["v3", "v2"]),
        max_minutes=st.none() | st.integers(1, 30),
    )
    def dial(self, first, second, delay, door, max_minutes):
        params = [("PHONENUMBER", first), ("DESTPHONENUMBER", second), ("DELAY", str(delay))]
        if max_minutes:
            params.append(("MAXCALLDURATION", str(max_minutes)))
        self.tenant.sync()  # what is already due happens first, as in the server
        available = self.tenant.available()
        reply = self.send(door, "DIAL.CONNECT", params)
        if reply.result == "ERROR":  # only a shortage of free money may refuse a valid dial
            assert "insufficient funds" in reply.error and available < Decimal("0.02")
            self.refused += 1
            return multiple()
        return reply.requestid

    @rule(target=requests, number=NUMBERS)
    def dial_test(self, number):
        before = self._observable()
        reply = self.send(
            "v3",
            "DIAL.CONNECT",
            [("PHONENUMBER", number), ("DESTPHONENUMBER", number), ("TEST", "TRUE")],
        )
        after = self._observable()
        del after["calls"][reply.requestid]
        assert before == after  # a TEST request changes nothing but its own record + journal
        self.test_ids.add(reply.requestid)
        return reply.requestid

    def _observable(self) -> dict[str, object]:
        t = self.tenant
        t.sync()  # what is already due happens whatever the request
        return {
            "balance": t.account.balance,
            "now": t.clock.now(),
            "pending": len(t.scheduler),
            "calls": {r: (c.phase, len(c.timeline)) for r, c in t.calls.items()},
        }

    @rule(rid=requests, door=st.sampled_from(["v3", "v2"]))
    def poll(self, rid, door):
        reply = self.send(door, "DIAL.GETSTATUS", [("REQUESTID", rid)])
        status = Status(reply.result)
        previous = self.seen_status.get(rid, Status.NONE)
        assert STATUS_RANK[status] >= STATUS_RANK[previous]
        self.seen_status[rid] = status

    @rule(rid=requests)
    def cancel(self, rid):
        was = self.tenant.find(rid).phase  # find() first runs what is due, as a request would
        reply = self.send("v3", "DIAL.CANCEL", [("REQUESTID", rid)])
        if was is Phase.ENDED:
            assert reply.result == "ERROR" and "already ended" in reply.error
        else:
            assert reply.result == "SUCCESS"
            assert self.tenant.calls[rid].status is Status.END
            if was is Phase.SCHEDULED:
                self.cancelled_while_scheduled.add(rid)

    @rule(seconds=STEPS)
    def advance(self, seconds):
        self.tenant.advance(seconds)

    @rule(amount=BALANCES)
    def set_balance(self, amount):
        t = self.tenant
        t.sync()
        now = t.clock.now()
        owed = sum(
            (
                c.rate
                * sum(
                    billable(leg.answered_at, now) for leg in c.legs if leg.answered_at is not None
                )
                for c in t.calls.values()
                if c.phase is not Phase.ENDED
            ),
            Decimal(0),
        )
        try:
            t.set_balance(amount)
        except SettingError as error:  # refused only below what live calls already owe
            assert Decimal(amount) < owed and error.field == "balance"
            return
        assert Decimal(amount) >= owed and t.account.balance == Decimal(amount)
        self.initial = t.initial_balance

    @precondition(lambda self: len(self.tenant.calls) > 0)
    @rule(number=NUMBERS, outcome=st.sampled_from(["answer", "busy", "no-answer", "fail"]))
    def add_scenario(self, number, outcome):
        self.tenant.rules.append(
            rule_from_dict(
                {"match": number, "outcome": outcome, "times": 2}, f"s{len(self.tenant.rules)}"
            )
        )

    @invariant()
    def clock_never_goes_back(self):
        now = self.tenant.clock.now()
        assert now >= self.last_now
        self.last_now = now

    @invariant()
    def timelines_follow_the_transition_table(self):
        for call in self.tenant.calls.values():
            steps = call.timeline
            for (t0, p0, _), (t1, p1, _) in itertools.pairwise(steps):
                assert (Phase(p0), Phase(p1)) in TRANSITIONS
                assert t1 >= t0

    @invariant()
    def balance_is_initial_minus_charges(self):
        charges = sum((c.charge for c in self.tenant.calls.values()), Decimal(0))
        assert self.tenant.total_charged == charges
        assert self.tenant.account.balance == self.initial - charges

    @invariant()
    def money_is_never_spent_twice(self):
        live = sum((c.reserved for c in self.tenant.calls.values()), Decimal(0))
        assert self.tenant.committed == live
        assert self.tenant.account.balance >= 0
        assert self.tenant.available() >= 0  # what calls hold never exceeds the balance

    @invariant()
    def cancelled_calls_never_rang(self):
        for rid in self.cancelled_while_scheduled:
            assert [p for _, p, _ in self.tenant.calls[rid].timeline] == ["scheduled", "ended"]

    @invariant()
    def test_requests_stay_none(self):
        for rid in self.test_ids:
            call = self.tenant.calls[rid]
            assert call.charge == 0
            assert call.status is Status.NONE or call.reason.value == "cancelled"


CallEngine.TestCase.settings = settings(CallEngine.TestCase.settings, stateful_step_count=30)
TestCallEngine = CallEngine.TestCase
