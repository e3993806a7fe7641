"""One tenant's world: account, clock, scheduler, calls, rules, charges and journal.

Pure Python: no HTTP, no XML. Time comes from the tenant's ``Clock``; randomness from a
``random.Random`` seeded by (world seed, userkey), so a tenant's story is the same whatever
other tenants do. Every public method first brings the engine up to the clock's ``now``.
"""

from __future__ import annotations

import hashlib
import random
from collections import OrderedDict, deque
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Final

from ..errors import AnveoError, Code, SettingError
from . import scenarios
from .accounts import Account, apply_fields
from .calls import (
    ALLOWED_FROM,
    PLAIN,
    SCHEDULED_VALUE,
    ZERO,
    Call,
    IllegalTransition,
    Phase,
    Reason,
    Status,
    billable,
)
from .clock import Clock, ClockError, iso, tick
from .faults import FaultRule
from .journal import Journal
from .scenarios import Rule
from .scheduler import Scheduler

#: Events one lazy sync may run before yielding; ``advance`` itself is unbounded.
SYNC_LIMIT = 1_000_000

FIRST, SECOND = "first", "second"
# Enum member lookups (Phase.X) go through a descriptor in Python 3.11; the engine runs them
# millions of times, so it uses plain module-level names.
SCHEDULED, RINGING_FIRST = Phase.SCHEDULED, Phase.RINGING_FIRST
RINGING_SECOND, CONNECTED, ENDED = Phase.RINGING_SECOND, Phase.CONNECTED, Phase.ENDED
COMPLETED, HANGUP, CANCELLED = Reason.ANSWERED_COMPLETED, Reason.HANGUP, Reason.CANCELLED
MAX_DURATION, NO_FUNDS = Reason.MAX_DURATION, Reason.INSUFFICIENT_FUNDS
#: USD per SMS part (the figure in Anveo's own v1 example reply).
SMS_RATE = Decimal("0.044")


def _no_real() -> float:
    """The default real-time source: always 0.0 (recognised by ``Tenant._move``)."""
    return 0.0


class Sms:
    """One message sent through the legacy text door."""

    __slots__ = ("destination", "fee", "message", "parts", "sender", "sent_at", "smsid")

    def __init__(self, smsid: str, sender: str, destination: str, message: str, *, parts: int,
                 fee: Decimal, sent_at: float) -> None:
        self.smsid = smsid
        self.sender = sender
        self.destination = destination
        self.message = message
        self.parts = parts
        self.fee = fee
        self.sent_at = sent_at


class Tenant:
    """The simulated Anveo account behind one USERKEY."""

    def __init__(
        self,
        account: Account,
        *,
        seed: int = 0,
        clock: Clock | None = None,
        real: Callable[[], float] = _no_real,
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

    def close(self) -> None:
        """Forget everything and break the tenant <-> scheduler reference cycle, so reference
        counting alone frees a deleted tenant."""
        self.scheduler = Scheduler(_discard)
        self.calls.clear()
        self._ended.clear()
        self.journal.clear()
        self.sms.clear()
        self.rules.clear()
        self.faults.clear()
        self._live.clear()

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

    # ---- requests ---------------------------------------------------------------------
    def _new_requestid(self) -> str:
        # sha1("{seed}:{userkey}:{counter}"): the digest of the constant prefix is kept and
        # copied, which saves formatting and hashing it again for every request.
        seed, userkey = self.seed, self.account.userkey
        prefix = self._id_prefix
        if prefix is None or prefix[0] != seed or prefix[1] != userkey:
            prefix = self._id_prefix = (seed, userkey, hashlib.sha1(
                f"{seed}:{userkey}:".encode(), usedforsecurity=False))
        while True:
            self._id_counter += 1
            digest = prefix[2].copy()
            digest.update(str(self._id_counter).encode())
            rid = digest.hexdigest()
            if rid not in self.calls:
                return rid

    def _check_callerid(self, callerid: str) -> None:
        if callerid not in self.account.verified_callerids:
            raise AnveoError(Code.UNVERIFIED_CALLERID,
                             f'CALLERID "{callerid}" is not a verified caller ID of this '
                             "account")

    def _check_funds(self, legs: int) -> None:
        account = self.account
        rate = account.rate_per_minute
        need = rate * legs
        if account.balance - self.committed < need:  # available(), without the method call
            legs_text = "2 legs" if legs == 2 else "its leg"
            raise self._shortfall(f"one minute ({need} USD: {legs_text} at {rate} USD a "
                                  "minute)")

    def _shortfall(self, what: str) -> AnveoError:
        """INSUFFICIENT_FUNDS: the balance, what live calls hold of it and why, and ``what``
        the rest cannot cover."""
        balance = self.account.balance
        if not self.committed:
            return AnveoError(Code.INSUFFICIENT_FUNDS,
                              f"insufficient funds: balance {balance} USD cannot cover {what}")
        holders = [call for call in self._live_calls() if call.reserved]
        count = len(holders)
        shown = "; ".join(f"{call.requestid}: {call.reserved} USD up to {iso(call.pending_at)}"
                          for call in holders[:3])
        more = f"; and {count - 3} more" if count > 3 else ""
        calls = "1 call" if count == 1 else f"{count} calls"
        return AnveoError(
            Code.INSUFFICIENT_FUNDS,
            f"insufficient funds: balance {balance} USD, of which {self.committed} USD is held "
            f"by {calls} in progress for the minutes their answered parties are planned to "
            f"talk ({shown}{more}), leaves {self.available()} USD, which cannot cover {what}")

    def dial_connect(
        self,
        first: str,
        second: str,
        *,
        callerid: str | None = None,
        max_minutes: int | None = None,
        delay: int = 0,
        memo: str | None = None,
        billingcode: str | None = None,
        test: bool = False,
    ) -> Call:
        """Accept a DIAL.CONNECT: ring ``first``, then ``second``, and bridge them."""
        self.sync()
        if callerid is not None:
            self._check_callerid(callerid)
        if not test:
            self._check_funds(2)
        call = Call(self._new_requestid(), "DIAL.CONNECT", first, callerid or second, second,
                    callerid or first, self.clock.now(), delay, max_minutes, memo, billingcode,
                    None, None, test)
        self.calls[call.requestid] = call  # _accept, inlined: once per call
        if not test:
            if self.rules or "555" in first or "555" in second:
                self._plan(call)
            else:  # what _plan decides without rules for numbers that cannot be magic
                call.first_plan, call.second_plan = _DEFAULT_FIRST, _DEFAULT_SECOND
            self._schedule(call, call.created_at + delay * 60.0, "dial")
        return call

    def dial_callflow(
        self,
        number: str,
        *,
        callerid: str,
        callflow: str,
        variables: dict[str, str] | None = None,
        delay: int = 0,
        memo: str | None = None,
        billingcode: str | None = None,
        test: bool = False,
    ) -> Call:
        """Accept a DIAL.CALLFLOW: ring ``number`` and run the call flow when it answers."""
        self.sync()
        self._check_callerid(callerid)
        if callflow not in self.account.callflows:
            raise AnveoError(Code.UNKNOWN_CALLFLOW,
                             f'CALLFLOW "{callflow}" is not a call flow of this account')
        if not test:
            self._check_funds(1)
        call = Call(self._new_requestid(), "DIAL.CALLFLOW", number, callerid, None, None,
                    self.clock.now(), delay_minutes=delay, memo=memo, billingcode=billingcode,
                    callflow=callflow, variables=variables or None, test=test)
        return self._accept(call)

    def _accept(self, call: Call) -> Call:
        self.calls[call.requestid] = call
        if not call.test:  # a TEST request is never dialled: it stays NONE
            self._plan(call)
            self._schedule(call, call.created_at + call.delay_minutes * 60.0, "dial")
        return call

    def _plan(self, call: Call) -> None:
        """Decide how each leg of a new call behaves, by the rules in force now: a rule
        changed or removed later does not change a call already accepted."""
        rules, action, rng = self.rules, call.action, self.rng
        call.first_plan, hint = scenarios.resolve(rules, call.first_number, action, FIRST, rng)
        if call.second_number is not None:
            call.second_plan, second_hint = scenarios.resolve(rules, call.second_number, action,
                                                              SECOND, rng)
            hint = hint or second_hint
        call.result_hint = hint

    def find(self, requestid: str) -> Call:
        """The call with this REQUESTID, or UNKNOWN_REQUESTID (also for other tenants' ids)."""
        self.sync()
        call = self.calls.get(requestid.lower())
        if call is None:
            raise AnveoError(Code.UNKNOWN_REQUESTID,
                             f'REQUESTID "{requestid}" is not a request of this account')
        return call

    def status(self, requestid: str) -> Status:
        """DIAL.GETSTATUS: NONE, INIT, START or END."""
        return self.find(requestid).status

    def cancel(self, requestid: str) -> Call:
        """DIAL.CANCEL: drop a scheduled call or hang up a live one; both end in END."""
        call = self.find(requestid)
        if call.phase is Phase.ENDED:
            raise AnveoError(Code.ALREADY_ENDED,
                             f'REQUESTID "{requestid}" has already ended '
                             f"({call.reason.value if call.reason else 'ended'})")
        held = call.reserved
        self._end(call, self.clock.now(), Reason.CANCELLED)
        if held > call.charge:  # money held for minutes that will not be talked now
            self._replan_starved()
        return call

    def callflow_result(self, requestid: str) -> str:
        """DIAL.CALLFLOW.GETRESULT: what the call flow produced, once the call ended."""
        call = self.find(requestid)
        if call.action != "DIAL.CALLFLOW":
            raise AnveoError(Code.NOT_A_CALLFLOW,
                             f'REQUESTID "{requestid}" is a {call.action} request, not '
                             "DIAL.CALLFLOW")
        if call.phase is not Phase.ENDED or call.result is None:
            raise AnveoError(Code.RESULT_NOT_READY,
                             f'the call flow of REQUESTID "{requestid}" has not finished '
                             f"(status {call.status.value})")
        return call.result

    def send_sms(self, sender: str, destination: str, message: str, parts: int) -> Sms:
        """Send an SMS through the v1 door: charged at once, ``SMS_RATE`` per part."""
        self.sync()
        fee = SMS_RATE * parts
        if self.available() < fee:  # money reserved by live calls is not there to spend
            parts_text = "1 part" if parts == 1 else f"{parts} parts"
            raise self._shortfall(f"{fee} USD ({parts_text} at {SMS_RATE} USD)")
        self.account.balance -= fee
        self.total_charged += fee
        sms = Sms(self._new_requestid(), sender, destination, message, parts=parts, fee=fee,
                  sent_at=self.clock.now())
        self.sms.append(sms)
        return sms

    def balance(self) -> Decimal:
        """ACCOUNT.GETBALANCE: the balance after every call ended so far."""
        self.sync()
        return self.account.balance

    def set_balance(self, amount: Any) -> Decimal:
        """Set the account's balance now (``amount``: a decimal number, as in an account
        document) and re-plan every live call against it; returns the new balance.

        A lower balance moves the end of calls it no longer pays for to the last moment it
        does (``insufficient-funds``); a higher one lets calls planned to end for lack of
        money run on. The minutes their answered legs have already started are owed: a
        balance below that is refused with SettingError naming the calls, and nothing changes.
        """
        value = apply_fields(Account(self.account.userkey), {"balance": amount}).balance
        self.sync()
        now = self.clock.now()
        live = self._live_calls()
        owed = [call.rate * sum(billable(at, now) for at in _answer_times(call))
                for call in live]
        total = sum(owed, ZERO)
        if value < total:
            shown = "; ".join(f"{call.requestid}: {cost} USD" for call, cost in
                              zip(live[:3], owed, strict=False))
            more = f"; and {len(live) - 3} more" if len(live) > 3 else ""
            raise SettingError(
                f"balance cannot be set to {value} USD: calls in progress already owe "
                f"{total} USD for the minutes their answered parties have started ({shown}"
                f"{more}); set at least that (they then end when those minutes do), or "
                "cancel them first", "balance")
        self.account.balance = value
        self.initial_balance = value + self.total_charged
        # First hold only what each call owes, then plan each afresh, in the order they
        # answered: the earlier calls keep their plans first when the money is short.
        for call, cost in zip(live, owed, strict=True):
            self.committed += cost - call.reserved
            call.reserved = cost
        for call in live:
            self._replan(call)
        self.sync()  # a call whose money ran out at this very moment ends now
        return value

    # ---- the engine -------------------------------------------------------------------
    # Every call costs four events (dial, first outcome, second outcome, end), each with a
    # transition, so this section is written for the interpreter: no generators, no min()
    # over lists, locals for repeated attribute reads.
    def _schedule(self, call: Call, when: float, step: str) -> None:
        when = tick(when)
        call.pending_seq = self.scheduler.call_at(when, call)
        call.pending_step = step
        call.pending_at = when

    def _fire(self, call: Call, when: float, seq: int) -> None:
        if seq != call.pending_seq:  # superseded step; cancellation normally removes these
            return
        call.pending_seq = 0
        step = call.pending_step
        if step == "dial":
            self._dial(call, when)
        elif step == "first":
            self._first_outcome(call, when)
        elif step == "second":
            self._second_outcome(call, when)
        elif step == "end":
            self._end(call, when, call.planned_reason or COMPLETED)
        elif step == "hangup":
            self._end(call, when, HANGUP)
        else:  # pragma: no cover - a step name not produced by this module
            raise RuntimeError(f"unknown engine step {step!r}")

    def _move(self, call: Call, to: Phase, at: float, note: str = "") -> None:
        # The one place a call changes phase: checked against the transition table, appended
        # to the flat timeline (see Call), journaled. Written inline for the interpreter, as
        # the engine moves every call four times.
        if call.phase not in ALLOWED_FROM[to]:
            raise IllegalTransition(f"{call.requestid}: {call.phase.value} -> {to.value}")
        flat = call.flat_timeline
        if flat is None:
            if at < call.created_at:
                raise IllegalTransition(f"{call.requestid}: transition at {at} before the "
                                        "last one")
            call.flat_timeline = [call.created_at, SCHEDULED_VALUE, "", at, PLAIN[to], note]
            before = SCHEDULED_VALUE
        else:
            if at < flat[-3]:
                raise IllegalTransition(f"{call.requestid}: transition at {at} before the "
                                        "last one")
            before = flat[-2]
            flat += (at, PLAIN[to], note)
        call.phase = to
        if self.journal_transitions:
            # Plain strings only: the collector stops tracking a tuple of atoms, so the
            # journal's ten thousand entries are never traversed, nor frozen by gctune.
            real = self.real
            self.journal.transition(at, 0.0 if real is _no_real else real(), call.action,
                                    call.requestid, before, PLAIN[to], note)

    def _dial(self, call: Call, at: float) -> None:
        account = self.account
        rate = call.rate = account.rate_per_minute  # the rate a call starts with is its rate
        legs = 1 if call.second_number is None else 2
        if account.balance - self.committed < rate * legs:  # available() < one minute
            self._end(call, at, NO_FUNDS)
            return
        behaviour = call.first_plan
        if behaviour is None:  # restored from a snapshot taken before calls were planned
            self._plan(call)  # when accepted
            behaviour = call.first_plan
            assert behaviour is not None, "_plan plans the first leg"
        self._move(call, RINGING_FIRST, at, "first party ringing")
        self._schedule(call, at + behaviour.ring, "first")

    def _settle(self, call: Call, planned: str, at: float) -> str:
        """The outcome at ``at`` of a leg of ``call`` whose plan says ``planned``: "answered",
        or the failure, which ends the call. The caller records it on its leg."""
        if planned == "answer":
            return "answered"
        self._end(call, at, _FAILURE[planned])
        return planned

    def _first_outcome(self, call: Call, at: float) -> None:
        first = call.first_plan
        assert first is not None, "_dial plans the first leg before scheduling its outcome"
        outcome = call.first_outcome = self._settle(call, first.outcome, at)
        if outcome != "answered":
            return
        call.first_answered_at = at
        self._live[call.requestid] = call  # it holds money from now on (see _afford)
        number = call.second_number
        if number is None:  # DIAL.CALLFLOW: its one party answered
            self._connect(call, at)
            return
        if call.second_plan is None:  # restored from an older snapshot (see _dial)
            call.second_plan, hint = scenarios.resolve(self.rules, number, call.action, SECOND,
                                                       self.rng)
            call.result_hint = call.result_hint or hint
        self._move(call, RINGING_SECOND, at, "second party ringing")
        # _ringing_step, inlined (once per call)
        first_hangs_up = at + first.talk
        second_at = at + call.second_plan.ring
        if first_hangs_up < second_at:
            when, step = first_hangs_up, "hangup"
        else:
            when, step = second_at, "second"
        cut = self._afford(call, when)  # the first party is talking, and must be paid for
        if cut is not None:
            call.planned_reason = NO_FUNDS
            when, step = cut, "end"
        self._schedule(call, when, step)

    def _second_outcome(self, call: Call, at: float) -> None:
        second = call.second_plan
        assert second is not None, "_first_outcome plans the second leg before its outcome"
        outcome = call.second_outcome = self._settle(call, second.outcome, at)
        if outcome == "answered":
            call.second_answered_at = at
            self._connect(call, at)

    def _ringing_step(self, call: Call) -> tuple[float, str]:
        """The next step of a call whose answered first party waits for the second: the
        second party's outcome, or the first party hanging up first (ties: the outcome)."""
        first, second, at = call.first_plan, call.second_plan, call.first_answered_at
        assert first is not None and second is not None and at is not None, "both planned"
        first_hangs_up = at + first.talk
        second_at = at + second.ring
        if first_hangs_up < second_at:
            return first_hangs_up, "hangup"
        return second_at, "second"

    def _connect(self, call: Call, at: float) -> None:
        self._move(call, CONNECTED, at, "answered" if call.second_number is None else "bridged")
        when, reason = self._bridged_end(call, at)
        cut = self._afford(call, when)
        if cut is not None:
            when, reason = cut, NO_FUNDS
        call.planned_reason = reason
        self._schedule(call, when, "end")

    @staticmethod
    def _bridged_end(call: Call, at: float) -> tuple[float, Reason]:
        """When and why a call bridged (or answered, for DIAL.CALLFLOW) at ``at`` ends.

        A party with a talk time of its own hangs up when it runs out, counted from its own
        answer; a party without one stays until the other hangs up. So the call ends at the
        first own talk time to run out, or, when neither party has one, at the first default
        one (the first party's: it answered first); MAXCALLDURATION may end it sooner. Ties
        go to that order.
        """
        first, second = call.first_plan, call.second_plan
        assert first is not None, "a call connects once its first leg answered"
        # (Conditional expressions rather than min()/max(): builtin calls cost more on this
        # path.)
        when, reason = (call.first_answered_at or at) + first.talk, COMPLETED
        if second is not None:
            second_end = at + second.talk
            if first.own_talk is second.own_talk:  # both have one, or neither: the first
                when = second_end if second_end < when else when
            elif second.own_talk:  # only the second party hangs up by itself
                when = second_end
        if call.max_minutes is not None:
            limit = at + call.max_minutes * 60.0
            if limit < when:
                when, reason = limit, MAX_DURATION
        return (at if when < at else when), reason

    def _replan(self, call: Call) -> None:
        """Plan a live call's next step afresh, from its legs' behaviour and the money there
        is now (its own reservation included), replacing the step it had."""
        if call.phase is CONNECTED:
            bridged = (call.first_answered_at if call.second_number is None
                       else call.second_answered_at)
            assert bridged is not None, "a connected call has answered"
            when, reason = self._bridged_end(call, bridged)
            step = "end"
        else:  # RINGING_SECOND: the first party answered, the second rings
            (when, step), reason = self._ringing_step(call), None
        cut = self._afford(call, when)
        if cut is not None:
            when, step, reason = cut, "end", NO_FUNDS
        if call.pending_seq:
            self.scheduler.cancel(call.pending_seq, call.pending_at)
        call.planned_reason = reason
        self._schedule(call, when, step)

    def _replan_starved(self) -> None:
        """Money was freed: let the calls planned to end for lack of it run on if it pays."""
        for call in self._live_calls():
            if call.planned_reason is NO_FUNDS:
                self._replan(call)

    def _live_calls(self) -> list[Call]:
        """The calls that hold money or may (first party answered, not ended), in the order
        they answered."""
        if not self._live_known:
            live = [call for call in self.calls.values() if call.phase is not ENDED
                    and call.first_answered_at is not None and not call.test]
            live.sort(key=lambda call: call.first_answered_at or 0.0)
            self._live = {call.requestid: call for call in live}
            self._live_known = True
        return list(self._live.values())

    def available(self) -> Decimal:
        """The balance less what live calls have reserved: what a new minute may draw on."""
        return self.account.balance - self.committed

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
            cost = rate * sum(billable(answered, until) for answered in _answer_times(call))
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
        starts = _answer_times(call)
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

    def _end(self, call: Call, at: float, reason: Reason) -> None:
        if call.pending_seq:
            self.scheduler.cancel(call.pending_seq, call.pending_at)
            call.pending_seq = 0
        # Every answered party hangs up now (a leg's ended_at is set here only, once).
        first_answered, second_answered = call.first_answered_at, call.second_answered_at
        if first_answered is not None:
            call.first_ended_at = at
        if second_answered is not None:
            call.second_ended_at = at
        call.reason = reason
        self._move(call, ENDED, at, _REASON_TEXT[reason])
        # Decimal zeros are not skipped here: ``x - Decimal("0.00")`` changes x's exponent,
        # which the control API shows ("0" against "0.00").
        self.committed -= call.reserved
        call.reserved = ZERO
        if not call.test:
            minutes = 0
            for answered in (first_answered, second_answered):
                if answered is not None:  # so it ended now
                    minutes += billable(answered, at)
            call.charge = charge = call.rate * minutes
            if charge:
                self.account.balance -= charge
                self.total_charged += charge
                code = call.billingcode or ""
                charges = self.charges_by_billingcode
                charges[code] = charges.get(code, ZERO) + charge
        if call.action == "DIAL.CALLFLOW":
            answered = first_answered is not None
            call.result = call.result_hint if answered and call.result_hint is not None else (
                "COMPLETED" if answered else reason.value.upper())
        if first_answered is not None:
            self._live.pop(call.requestid, None)
        retired = self._ended  # the last ended_limit ended calls are kept (inlined: per call)
        retired.append(call.requestid)
        if len(retired) > self.ended_limit:  # once full, one call leaves as each one ends
            old = retired.popleft()
            if self.calls.pop(old, None) is not None:
                self.calls_dropped += 1
            if len(retired) > self.ended_limit:  # the limit was lowered meanwhile
                self._drop_ended()

    def _drop_ended(self) -> None:
        while len(self._ended) > self.ended_limit:
            old = self._ended.popleft()
            if self.calls.pop(old, None) is not None:
                self.calls_dropped += 1

    # ---- snapshots: the parts' JSON forms and their checks live in sim/calldoc.py and
    # sim/state.py, imported where used since only snapshots need them ---------------------
    def to_document(self) -> dict[str, Any]:
        """Everything about this tenant as JSON-ready data: one tenant of a snapshot, read
        back by ``from_document``."""
        from . import calldoc, state

        return {
            "account": self.account.to_dict(),
            "initial_balance": str(self.initial_balance),
            "total_charged": str(self.total_charged),
            "charges_by_billingcode": {k: str(v) for k, v in self.charges_by_billingcode.items()},
            "clock": {"now": self.clock.now(), "rate": self.clock.rate},
            "seed": self.seed, "id_counter": self._id_counter,
            "rng": state.rng_state(self.rng), "fault_rng": state.rng_state(self.fault_rng),
            "rules": [r.to_dict() for r in self.rules],
            "faults": [f.to_dict() for f in self.faults],
            "next_rule_id": self.next_rule_id, "origin": self.origin,
            "sms": [[s.smsid, s.sender, s.destination, s.message, s.parts, str(s.fee),
                     s.sent_at] for s in self.sms],
            "calls": [calldoc.call_document(c) for c in self.calls.values()],
            "ended_order": list(self._ended),
            "ended_limit": self.ended_limit, "calls_dropped": self.calls_dropped,
            "journal": self.journal.to_document(),
        }

    @classmethod
    def from_document(cls, doc: Any, *, path: str = "tenant",
                      monotonic: Callable[[], float] = _no_real,
                      real: Callable[[], float] = _no_real) -> Tenant:
        """The tenant ``to_document`` wrote, checked whole: anything that does not hold
        together raises a SettingError naming the field's path (under ``path``).
        ``monotonic`` drives a running clock; ``real`` stamps the journal."""
        from . import calldoc, state
        from .document import Node

        node = Node(doc, path)
        clock = node["clock"]
        now = clock["now"].moment()
        tenant = cls(state.read_account(node["account"]),
                     seed=node["seed"].whole(-state.COUNT_MAX, state.COUNT_MAX),
                     clock=Clock(now, rate=clock["rate"].real(0, 1e6), real=monotonic),
                     real=real, ended_limit=node["ended_limit"].whole(1, state.LIMIT_MAX))
        tenant.journal = Journal.from_document(node["journal"].value, f"{path}.journal")
        tenant.initial_balance = node["initial_balance"].money()
        tenant.total_charged = node["total_charged"].money()
        tenant.charges_by_billingcode = state.read_charges(node["charges_by_billingcode"])
        tenant._id_counter = node["id_counter"].whole(0, state.COUNT_MAX)
        tenant.rng = state.read_rng(node["rng"])
        tenant.fault_rng = state.read_rng(node["fault_rng"])
        tenant.rules = state.read_rules(node["rules"])
        tenant.faults = state.read_faults(node["faults"])
        tenant.next_rule_id = node["next_rule_id"].whole(1, state.COUNT_MAX)
        tenant.origin = state.read_origin(node.get("origin"), tenant.account.userkey)
        for item in node["sms"].items(tenant.ended_limit):
            smsid, sender, destination, message, parts, fee, sent_at = state.read_sms(item, now)
            tenant.sms.append(Sms(smsid, sender, destination, message, parts=parts, fee=fee,
                                  sent_at=sent_at))
        pending: list[tuple[float, int, str, Call]] = []
        for item in node["calls"].items():
            call, step = calldoc.read_call(item, now)
            if call.requestid in tenant.calls:
                raise item["requestid"].fail("unique among the tenant's calls")
            tenant.calls[call.requestid] = call
            tenant.committed += call.reserved  # what live calls hold: see _afford
            if step is not None:
                pending.append((*step, call))
        # Re-queued in the original (time, sequence) order, so ties fire as they would have.
        pending.sort(key=lambda p: (p[0], p[1]))
        for when, _, step_name, call in pending:
            tenant._schedule(call, when, step_name)
        tenant._ended = state.read_ended_order(node["ended_order"], tenant.calls)
        tenant.calls_dropped = node["calls_dropped"].whole(0, state.COUNT_MAX)
        return tenant


def _answer_times(call: Call) -> list[float]:
    """When each answered leg of ``call`` answered (for the rare paths; the hot ones inline)."""
    return [at for at in (call.first_answered_at, call.second_answered_at) if at is not None]


def _discard(_call: Call, _when: float, _seq: int) -> None:
    """The handler of a closed tenant's scheduler: nothing happens any more."""


_DEFAULT_FIRST, _DEFAULT_SECOND = scenarios.DEFAULT_FIRST, scenarios.DEFAULT_SECOND
_FAILURE: Final = {"busy": Reason.BUSY, "no-answer": Reason.NO_ANSWER, "fail": Reason.FAILED}
#: Each reason's plain string, the note of an ENDED step (see ``Tenant._move``).
_REASON_TEXT: Final[dict[Reason, str]] = {reason: reason.value for reason in Reason}

