"""The call engine: each call's steps (dial, outcomes, bridge, end) on the tenant's scheduler.

Scenario plans decide how each leg behaves; the engine turns them into phase changes at their
virtual moments, cuts calls short when the money runs out, and charges them when they end.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Final

from ..errors import SettingError
from . import scenarios
from .accounts import Account, apply_fields
from .calls import ZERO, Call, Phase, Reason, billable
from .notify import Notifier
from .tenantstate import answer_times

FIRST, SECOND = "first", "second"
# Enum member lookups (Phase.X) go through a descriptor in Python 3.11; the engine runs them
# millions of times, so it uses plain module-level names.
RINGING_FIRST, RINGING_SECOND = Phase.RINGING_FIRST, Phase.RINGING_SECOND
CONNECTED, ENDED = Phase.CONNECTED, Phase.ENDED
COMPLETED, HANGUP = Reason.ANSWERED_COMPLETED, Reason.HANGUP
MAX_DURATION, NO_FUNDS = Reason.MAX_DURATION, Reason.INSUFFICIENT_FUNDS


class Engine(Notifier):
    """A tenant's calls in motion; ``Tenant`` adds the API actions on top."""

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

    def _plan(self, call: Call) -> None:
        """Decide how each leg of a new call behaves, by the rules in force now: a rule
        changed or removed later does not change a call already accepted."""
        rules, action, rng = self.rules, call.action, self.rng
        call.first_plan, hint = scenarios.resolve(rules, call.first_number, action, FIRST, rng)
        if call.second_number is not None:
            call.second_plan, second_hint = scenarios.resolve(
                rules, call.second_number, action, SECOND, rng
            )
            hint = hint or second_hint
        call.result_hint = hint

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
            call.second_plan, hint = scenarios.resolve(
                self.rules, number, call.action, SECOND, self.rng
            )
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
            bridged = (
                call.first_answered_at if call.second_number is None else call.second_answered_at
            )
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
        owed = [call.rate * sum(billable(at, now) for at in answer_times(call)) for call in live]
        total = sum(owed, ZERO)
        if value < total:
            shown = "; ".join(
                f"{call.requestid}: {cost} USD" for call, cost in zip(live[:3], owed, strict=False)
            )
            more = f"; and {len(live) - 3} more" if len(live) > 3 else ""
            raise SettingError(
                f"balance cannot be set to {value} USD: calls in progress already owe "
                f"{total} USD for the minutes their answered parties have started ({shown}"
                f"{more}); set at least that (they then end when those minutes do), or "
                "cancel them first",
                "balance",
            )
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
            call.result = (
                call.result_hint
                if answered and call.result_hint is not None
                else ("COMPLETED" if answered else reason.value.upper())
            )
        if first_answered is not None:
            self._live.pop(call.requestid, None)
        if self.account.notification_url is not None:  # its CDR (see sim/notify.py)
            self.notify_call(call, at)
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


_FAILURE: Final = {"busy": Reason.BUSY, "no-answer": Reason.NO_ANSWER, "fail": Reason.FAILED}
#: Each reason's plain string, the note of an ENDED step (see ``Tenant._move``).
_REASON_TEXT: Final[dict[Reason, str]] = {reason: reason.value for reason in Reason}
