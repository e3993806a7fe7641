"""Issue 12 property: for any seeded mix of calls, cancels and advances, every ended call
yields exactly one CALL message, attempts are at most 5 and 5 virtual minutes apart, and no
attempt is made before its event's virtual time. The core is driven as the HTTP layer drives
it (``take_due`` then ``record``), with receivers answering by a seeded script."""

from __future__ import annotations

import itertools
import random
from decimal import Decimal

from hypothesis import example, given
from hypothesis import strategies as st

from mock_anveo.errors import AnveoError
from mock_anveo.sim.accounts import Account
from mock_anveo.sim.outbox import MAX_ATTEMPTS, RETRY_AFTER
from mock_anveo.sim.tenant import Tenant

NUMBERS = ["12155550100", "12155550101", "12155550103", "12155550140", "12155550199"]
op = st.one_of(
    st.tuples(st.just("dial"), st.sampled_from(NUMBERS), st.sampled_from(NUMBERS),
              st.sampled_from([0, 1, 5]), st.booleans()),
    st.tuples(st.just("cancel"), st.integers(0, 50)),
    st.tuples(st.just("advance"), st.sampled_from([0, 1, 3, 59, 60, 299, 300, 301, 3600])),
)  # fmt: skip


def drive(tenant: Tenant, rng: random.Random, now: float) -> None:
    """What http.delivery.drain does, with a scripted receiver instead of HTTP."""
    while batch := tenant.outbox.take_due(now):
        for message in batch:
            assert message.pending_at is not None and message.pending_at >= message.event_at
            assert message.pending_at <= now
            ok = rng.random() < 0.4
            tenant.outbox.record(message, 200 if ok else None, None if ok else "refused")


@example([("dial", NUMBERS[4], NUMBERS[3], 0, False), ("dial", NUMBERS[0], NUMBERS[1], 1, False),
          ("cancel", 1), ("advance", 3600)], 7)  # fmt: skip
@given(st.lists(op, max_size=40), st.integers(0, 2**32))
def test_every_ended_call_yields_one_bounded_message(ops: list[tuple], seed: int) -> None:
    tenant = Tenant(Account("k", balance=Decimal("5")), seed=seed)
    tenant.account.notification_url = "http://127.0.0.1:9/cdr"
    rng = random.Random(seed)
    rids: list[str] = []
    for item in ops:
        try:
            if item[0] == "dial":
                _, first, second, delay, test = item
                rids.append(tenant.dial_connect(first, second, delay=delay, test=test).requestid)
            elif item[0] == "cancel" and rids:
                tenant.cancel(rids[item[1] % len(rids)])
            elif item[0] == "advance":
                tenant.advance(item[1])
        except AnveoError:
            pass
        drive(tenant, rng, tenant.clock.now())
    # and then everything, to the end (retries included)
    for _ in range(3 * MAX_ATTEMPTS):
        tenant.run_until_idle()
        due = tenant.outbox.next_due()
        if due is not None:
            tenant.advance_to(max(due, tenant.clock.now()))
        drive(tenant, rng, tenant.clock.now())
    ended = {c.requestid: c for c in tenant.calls.values() if c.reason is not None and not c.test}
    messages = [m for m in tenant.outbox.messages.values() if m.kind == "CALL"]
    by_call = [dict(m.fields)["RESPONSEID"] for m in messages]
    assert sorted(by_call) == sorted(ended)  # exactly one per ended call, none for TEST
    for message in messages:
        assert message.state in ("delivered", "cancelled")
        assert 1 <= len(message.attempts) <= MAX_ATTEMPTS
        times = [a.at for a in message.attempts]
        assert times[0] == message.event_at
        assert all(abs(b - a - RETRY_AFTER) < 1e-6 for a, b in itertools.pairwise(times))
        assert (message.state == "delivered") == message.attempts[-1].ok()
        assert message.state == "delivered" or len(message.attempts) == MAX_ATTEMPTS
    if ops and ops[0] == ("dial", NUMBERS[4], NUMBERS[3], 0, False) and seed == 7:
        assert len(messages) == 2  # the example is not vacuous
    ids = [m.id for m in tenant.outbox.messages.values()]
    assert len(set(ids)) == len(ids)
