"""Calls and their state machine: phases, the transition table, legs and timelines.

Anveo exposes four statuses (NONE, INIT, START, END). Internally a call moves through finer
phases so that the timeline says which leg was ringing; ``STATUS_OF`` maps phase to status.
"""

from __future__ import annotations

import math
from decimal import Decimal
from enum import StrEnum


class Phase(StrEnum):
    """Where a call is; each maps to one Anveo status."""

    SCHEDULED = "scheduled"
    RINGING_FIRST = "ringing-first"
    RINGING_SECOND = "ringing-second"
    CONNECTED = "connected"
    ENDED = "ended"


class Status(StrEnum):
    """The four statuses DIAL.GETSTATUS reports."""

    NONE = "NONE"
    INIT = "INIT"
    START = "START"
    END = "END"


class Reason(StrEnum):
    """Why a call ended (kept on the call, shown by the control API, never on the wire)."""

    ANSWERED_COMPLETED = "answered-completed"
    HANGUP = "hangup"
    BUSY = "busy"
    NO_ANSWER = "no-answer"
    FAILED = "failed"
    MAX_DURATION = "max-duration"
    CANCELLED = "cancelled"
    INSUFFICIENT_FUNDS = "insufficient-funds"


STATUS_OF: dict[Phase, Status] = {
    Phase.SCHEDULED: Status.NONE,
    Phase.RINGING_FIRST: Status.INIT,
    Phase.RINGING_SECOND: Status.INIT,
    Phase.CONNECTED: Status.START,
    Phase.ENDED: Status.END,
}

#: Every legal move. Anything else is a bug in the engine and raises IllegalTransition.
TRANSITIONS: frozenset[tuple[Phase, Phase]] = frozenset(
    {
        (Phase.SCHEDULED, Phase.RINGING_FIRST),
        (Phase.SCHEDULED, Phase.ENDED),  # cancelled, or no funds when the DELAY elapsed
        (Phase.RINGING_FIRST, Phase.RINGING_SECOND),  # DIAL.CONNECT: first party answered
        (Phase.RINGING_FIRST, Phase.CONNECTED),  # DIAL.CALLFLOW: the party answered
        (Phase.RINGING_FIRST, Phase.ENDED),
        (Phase.RINGING_SECOND, Phase.CONNECTED),
        (Phase.RINGING_SECOND, Phase.ENDED),
        (Phase.CONNECTED, Phase.ENDED),
    }
)

STATUS_RANK: dict[Status, int] = {Status.NONE: 0, Status.INIT: 1, Status.START: 2, Status.END: 3}


class IllegalTransition(RuntimeError):
    """The engine tried a move the transition table does not allow (a mock-anveo bug)."""


def billable(start: float, end: float) -> int:
    """Whole minutes from ``start`` to ``end``, rounded up (a 61-second leg is 2 minutes)."""
    return max(0, math.ceil((end - start) / 60.0 - 1e-9))


class Leg:
    """One party of a call: the number dialled and when it answered and hung up."""

    __slots__ = ("answered_at", "callerid", "ended_at", "number", "outcome")

    def __init__(self, number: str, callerid: str) -> None:
        self.number = number
        self.callerid = callerid
        self.answered_at: float | None = None
        self.ended_at: float | None = None
        self.outcome: str | None = None

    def billable_minutes(self) -> int:
        """Whole minutes from answer to hang-up, rounded up; 0 for a leg never answered."""
        if self.answered_at is None or self.ended_at is None:
            return 0
        return billable(self.answered_at, self.ended_at)


class Call:
    """One DIAL request: its parameters, legs, phase and timeline of (time, phase, note)."""

    __slots__ = (
        "action",
        "billingcode",
        "callflow",
        "charge",
        "created_at",
        "delay_minutes",
        "legs",
        "max_minutes",
        "memo",
        "pending_at",
        "pending_seq",
        "pending_step",
        "phase",
        "plan",
        "planned_reason",
        "rate",
        "reason",
        "requestid",
        "reserved",
        "result",
        "result_hint",
        "test",
        "timeline",
        "variables",
    )

    def __init__(
        self,
        requestid: str,
        action: str,
        legs: list[Leg],
        created_at: float,
        *,
        delay_minutes: int = 0,
        max_minutes: int | None = None,
        memo: str | None = None,
        billingcode: str | None = None,
        callflow: str | None = None,
        variables: dict[str, str] | None = None,
        test: bool = False,
    ) -> None:
        self.requestid = requestid
        self.action = action
        self.legs = legs
        self.created_at = created_at
        self.delay_minutes = delay_minutes
        self.max_minutes = max_minutes
        self.memo = memo
        self.billingcode = billingcode
        self.callflow = callflow
        self.variables = variables
        self.test = test
        self.phase = Phase.SCHEDULED
        self.reason: Reason | None = None
        self.result: str | None = None
        self.charge = Decimal(0)
        self.reserved = Decimal(0)  # money held against the balance while the call lives
        self.rate = Decimal(0)  # USD per leg-minute, fixed when the call is dialled
        # The one pending engine step of this call: its scheduler seq (0 = none), name, time.
        self.pending_seq = 0
        self.pending_step = ""
        self.pending_at = 0.0
        self.plan: list[object] = []  # LegBehaviour per leg, resolved as each leg is dialled
        self.planned_reason: Reason | None = None
        self.result_hint: str | None = None
        self.timeline: list[tuple[float, str, str]] = [(created_at, Phase.SCHEDULED.value, "")]

    @property
    def status(self) -> Status:
        """The Anveo status of the current phase."""
        return STATUS_OF[self.phase]

    def move(self, to: Phase, at: float, note: str = "") -> None:
        """Change phase, recording it on the timeline; raises on a move the table forbids."""
        if (self.phase, to) not in TRANSITIONS:
            raise IllegalTransition(f"{self.requestid}: {self.phase.value} -> {to.value}")
        if at < self.timeline[-1][0]:
            raise IllegalTransition(f"{self.requestid}: transition at {at} before the last one")
        self.phase = to
        self.timeline.append((at, to, note))  # the member is a str; .value costs a lookup
