"""A tenant's state and its money bookkeeping: account, clock, scheduler, calls and charges.

The base of ``Tenant`` (through ``Engine``): everything here reads or keeps state and never
moves a call by itself, except ``_move``, the one place a call changes phase. Pure Python.
"""

from __future__ import annotations

import random
from collections import OrderedDict, deque
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from ..errors import AnveoError, Code
from .accounts import Account
from .calls import ALLOWED_FROM, PLAIN, SCHEDULED_VALUE, Call, IllegalTransition, Phase, billable
from .clock import Clock, ClockError, iso, tick
from .faults import FaultRule
from .journal import Journal
from .outbox import Outbox
from .scenarios import Rule
from .scheduler import Scheduler
from .sms import Sms

#: Events one lazy sync may run before yielding; ``advance`` itself is unbounded.
SYNC_LIMIT = 1_000_000
ENDED = Phase.ENDED


def no_real() -> float:
    """The default real-time source: always 0.0 (recognised by ``TenantState._move``)."""
    return 0.0


class TenantState:
    """The state behind one USERKEY, its clock and its money; ``Tenant`` adds the actions."""

    def __init__(
        self,
        account: Account,
        *,
        seed: int = 0,
        clock: Clock | None = None,
        real: Callable[[], float] = no_real,
        journal_limit: int = 10_000,
        ended_limit: int = 100_000,
        journal_transitions: bool = True,
    ) -> None:
        self.account = account
        self.initial_balance = account.balance
        self.seed = seed
        self.clock = clock or Clock()
        self.real = real
        self.journal = Journal(journal_limit)
        self.journal_transitions = journal_transitions
        self.scheduler: Scheduler[Call] = Scheduler(self._fire)
        self.calls: dict[str, Call] = {}
        self._ended: deque[str] = deque()
        self.ended_limit = ended_limit
        self.calls_dropped = 0
        self.rules: list[Rule] = []
        self.faults: list[FaultRule] = []  # carried out by the HTTP layer
        self.next_rule_id = 1
        self.rng = random.Random(f"{seed}:{account.userkey}")
        self.fault_rng = random.Random(f"{seed}:{account.userkey}:faults")
        self.charges_by_billingcode: OrderedDict[str, Decimal] = OrderedDict()
        self.total_charged = Decimal(0)
        self.committed = Decimal(0)  # money reserved by live calls (see _afford)
        # The calls whose first party answered and that have not ended, in the order they
        # first reserved money: the ones a change of the money there is must re-plan. Kept
        # by the engine; rebuilt from ``calls`` on first use, as a restored tenant's calls
        # are put in place without the engine (see _live_calls).
        self._live: dict[str, Call] = {}
        self._live_known = False
        self._id_counter = 0
        self._id_prefix: tuple[int, str, Any] | None = None  # see _new_requestid
        self.sms: deque[Sms] = deque(maxlen=ended_limit)
        # The control-API document this tenant was created from (None: from the config), so
        # a per-tenant reset can rebuild it exactly.
        self.origin: dict[str, Any] | None = None
        self.outbox = Outbox(f"{seed}:{account.userkey}", ended_limit)  # see sim/notify.py

    def close(self) -> None:
        """Forget everything and break the tenant <-> scheduler reference cycle, so reference
        counting alone frees a deleted tenant."""
        self.scheduler = Scheduler(discard)
        self.calls.clear()
        self._ended.clear()
        self.journal.clear()
        self.sms.clear()
        self.rules.clear()
        self.faults.clear()
        self._live.clear()
        self.outbox = Outbox(self.outbox.id_seed)

    def _fire(self, call: Call, when: float, seq: int) -> None:
        """Run the step of ``call`` due at ``when`` (the engine's, see ``Engine._fire``)."""
        raise NotImplementedError

    # ---- time -------------------------------------------------------------------------
    def sync(self) -> None:
        """Run every event due by the clock's current time (for clocks that follow real time)."""
        self.scheduler.run_until(self.clock.now(), SYNC_LIMIT)

    def advance(self, seconds: float) -> float:
        """Move this tenant's time forward, firing due events in order; returns the new now."""
        if not seconds >= 0:  # also NaN
            raise ClockError(f"cannot advance by {seconds} seconds: time never goes back")
        return self.advance_to(self.clock.now() + seconds, relative=True)

    def advance_to(self, moment: float, *, relative: bool = False) -> float:
        """Jump to ``moment`` (never backwards), firing every event due by then.

        ``relative``: the moment was computed from ``now`` an instant ago; on a running clock
        real time has moved since, so a target just behind ``now`` means "now".
        """
        moment = tick(moment)
        now = self.clock.now()
        if moment < now:
            if not relative:
                self.clock.advance_to(moment)  # raises ClockError with a clear message
            moment = now
        self.scheduler.run_until(moment)
        return self.clock.advance_to(moment, clamp=True)

    def run_until_idle(self, max_seconds: float = 61 * 86400.0) -> float:
        """Advance to each next event until nothing is pending or ``max_seconds`` have passed."""
        horizon = self.clock.now() + max_seconds
        while True:
            due = self.scheduler.next_due()
            if due is None or due > horizon:
                break
            self.advance_to(max(due, self.clock.now()))
        return self.clock.now()

    # ---- the engine's bookkeeping ------------------------------------------------------
    # Every call costs four events (dial, first outcome, second outcome, end), each with a
    # transition, so the engine is written for the interpreter: no generators, no min()
    # over lists, locals for repeated attribute reads.
    def _schedule(self, call: Call, when: float, step: str) -> None:
        when = tick(when)
        call.pending_seq = self.scheduler.call_at(when, call)
        call.pending_step = step
        call.pending_at = when

    def _move(self, call: Call, to: Phase, at: float, note: str = "") -> None:
        # The one place a call changes phase: checked against the transition table, appended
        # to the flat timeline (see Call), journaled. Written inline for the interpreter, as
        # the engine moves every call four times.
        if call.phase not in ALLOWED_FROM[to]:
            raise IllegalTransition(f"{call.requestid}: {call.phase.value} -> {to.value}")
        flat = call.flat_timeline
        if flat is None:
            if at < call.created_at:
                raise IllegalTransition(f"{call.requestid}: transition at {at} before the last one")
            call.flat_timeline = [call.created_at, SCHEDULED_VALUE, "", at, PLAIN[to], note]
            before = SCHEDULED_VALUE
        else:
            if at < flat[-3]:
                raise IllegalTransition(f"{call.requestid}: transition at {at} before the last one")
            before = flat[-2]
            flat += (at, PLAIN[to], note)
        call.phase = to
        if self.journal_transitions:
            # Plain strings only: the collector stops tracking a tuple of atoms, so the
            # journal's ten thousand entries are never traversed, nor frozen by gctune.
            real = self.real
            self.journal.transition(
                at,
                0.0 if real is no_real else real(),
                call.action,
                call.requestid,
                before,
                PLAIN[to],
                note,
            )

    # ---- money ---------------------------------------------------------------------------
    def available(self) -> Decimal:
        """The balance less what live calls have reserved: what a new minute may draw on."""
        return self.account.balance - self.committed

    def _live_calls(self) -> list[Call]:
        """The calls that hold money or may (first party answered, not ended), in the order
        they answered."""
        if not self._live_known:
            live = [
                call
                for call in self.calls.values()
                if call.phase is not ENDED and call.first_answered_at is not None and not call.test
            ]
            live.sort(key=lambda call: call.first_answered_at or 0.0)
            self._live = {call.requestid: call for call in live}
            self._live_known = True
        return list(self._live.values())

    def _afford(self, call: Call, until: float) -> float | None:
        """Reserve the cost of ``call``'s answered legs up to ``until`` against the balance,
        so calls running at the same time never spend the same money twice. When the money
        not reserved by other calls falls short, return the last moment it pays for (and
        reserve up to it) instead; None when the plan is affordable, the usual O(1) case."""
        if call.test:
            return None
        minutes = 0
        for answered in (call.first_answered_at, call.second_answered_at):
            if answered is not None:
                minutes += billable(answered, until)
        rate = call.rate
        cost = rate * minutes
        reserved = call.reserved
        free = self.account.balance - self.committed
        if reserved:  # only compared, so adding a zero (of any exponent) can be skipped
            free += reserved
        if cost > free and rate > 0:
            until = self._cut_off(call, until, max(0, int(free / rate)))
            cost = rate * sum(billable(answered, until) for answered in answer_times(call))
            self.committed += cost - call.reserved
            call.reserved = cost
            return until
        self.committed += cost - reserved  # even a zero: it sets the Decimal's exponent
        call.reserved = cost
        return None

    @staticmethod
    def _cut_off(call: Call, planned: float, budget: int) -> float:
        """The latest moment up to ``planned`` when ``call``'s answered legs have used at
        most ``budget`` leg-minutes (each leg billed in started minutes).

        The legs' total only grows just after one of them completes a whole minute, so that
        moment is such a boundary of one of the legs: for each leg, the last of its
        boundaries that fits is found by bisection, and the latest of those wins.
        """
        starts = answer_times(call)
        best: float | None = None
        for start in starts:
            low, high = -1, billable(start, planned)  # -1: none of this leg's boundaries
            while low < high:
                mid = (low + high + 1) // 2
                end = tick(start + mid * 60.0)  # the moment the engine would schedule
                if end <= planned and sum(billable(s, end) for s in starts) <= budget:
                    low = mid
                else:
                    high = mid - 1
            if low >= 0:
                end = tick(start + low * 60.0)
                best = end if best is None or end > best else best
        # Reservations keep what a call already owes within its budget, so some boundary
        # (at least the latest answer) fits; the fallback only guards against a broken state.
        return best if best is not None else max(starts)

    def _check_funds(self, legs: int) -> None:
        account = self.account
        rate = account.rate_per_minute
        need = rate * legs
        if account.balance - self.committed < need:  # available(), without the method call
            legs_text = "2 legs" if legs == 2 else "its leg"
            raise self._shortfall(f"one minute ({need} USD: {legs_text} at {rate} USD a minute)")

    def _shortfall(self, what: str) -> AnveoError:
        """INSUFFICIENT_FUNDS: the balance, what live calls hold of it and why, and ``what``
        the rest cannot cover."""
        balance = self.account.balance
        if not self.committed:
            return AnveoError(
                Code.INSUFFICIENT_FUNDS,
                f"insufficient funds: balance {balance} USD cannot cover {what}",
            )
        holders = [call for call in self._live_calls() if call.reserved]
        count = len(holders)
        shown = "; ".join(
            f"{call.requestid}: {call.reserved} USD up to {iso(call.pending_at)}"
            for call in holders[:3]
        )
        more = f"; and {count - 3} more" if count > 3 else ""
        calls = "1 call" if count == 1 else f"{count} calls"
        return AnveoError(
            Code.INSUFFICIENT_FUNDS,
            f"insufficient funds: balance {balance} USD, of which {self.committed} USD is held "
            f"by {calls} in progress for the minutes their answered parties are planned to "
            f"talk ({shown}{more}), leaves {self.available()} USD, which cannot cover {what}",
        )


def answer_times(call: Call) -> list[float]:
    """When each answered leg of ``call`` answered (for the rare paths; the hot ones inline)."""
    return [at for at in (call.first_answered_at, call.second_answered_at) if at is not None]


def discard(_call: Call, _when: float, _seq: int) -> None:
    """The handler of a closed tenant's scheduler: nothing happens any more."""
