"""Calls and their state machine: phases, the transition table, legs and timelines.

Anveo exposes four statuses (NONE, INIT, START, END). Internally a call moves through finer
phases so that the timeline says which leg was ringing; ``STATUS_OF`` maps phase to status.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Final, NamedTuple

from .legs import LegBehaviour


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


STATUS_OF: Final = MappingProxyType(
    {
        Phase.SCHEDULED: Status.NONE,
        Phase.RINGING_FIRST: Status.INIT,
        Phase.RINGING_SECOND: Status.INIT,
        Phase.CONNECTED: Status.START,
        Phase.ENDED: Status.END,
    }
)

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

# The engine's own tables (ALLOWED_FROM, PLAIN, and tenant's _FAILURE and _REASON_TEXT) are
# constants never changed after import. They stay plain dicts rather than read-only proxies:
# the engine reads them about a dozen times per call, and a proxy costs ~23 ns more per read.

#: TRANSITIONS by destination: one dict and one set lookup, no tuple, per move.
ALLOWED_FROM: Final[dict[Phase, frozenset[Phase]]] = {
    to: frozenset(start for start, end in TRANSITIONS if end is to) for to in Phase
}

STATUS_RANK: Final = MappingProxyType(
    {Status.NONE: 0, Status.INIT: 1, Status.START: 2, Status.END: 3}
)


#: Shared by every call: a fresh ``Decimal(0)`` per field was 104 bytes per call (Decimals are
#: immutable, so sharing is safe).
ZERO = Decimal(0)


class IllegalTransition(RuntimeError):
    """The engine tried a move the transition table does not allow (a mock-anveo bug)."""


def billable(start: float, end: float) -> int:
    """Whole minutes from ``start`` to ``end``, rounded up (a 61-second leg is 2 minutes)."""
    # Engine moments are whole microseconds, but as epoch-scale floats each is off by up to
    # 0.12 us: half a microsecond of slack makes exactly 60 s one minute and 60.000001 s two.
    minutes = math.ceil((end - start - 5e-7) / 60.0)
    return minutes if minutes > 0 else 0  # max() is a builtin call; the engine runs this a lot


class Leg(NamedTuple):
    """One party of a call: the number dialled and when it answered and hung up.

    A read-only view, built on demand by ``Call.legs``: the call keeps its legs' fields itself
    (see Call), so changing a view would change nothing.
    """

    number: str
    callerid: str
    answered_at: float | None = None
    ended_at: float | None = None
    outcome: str | None = None

    def billable_minutes(self) -> int:
        """Whole minutes from answer to hang-up, rounded up; 0 for a leg never answered."""
        if self.answered_at is None or self.ended_at is None:
            return 0
        return billable(self.answered_at, self.ended_at)


class Call:
    """One DIAL request: its parameters, legs, phase and timeline of (time, phase, note)."""

    # Every pending call lives in memory until it fires (a million of them in the engine
    # benchmark), so attributes a pending call does not need yet start as shared constants.
    # Its one or two legs are fields of the call itself (first_*, second_*), not objects of
    # their own: the engine fires events in time order, i.e. in random memory order, so each
    # object an event touches is a likely cache miss, and each is one more for the collector
    # to track. ``legs`` builds read-only views for everyone else.
    __slots__ = (
        "action",
        "billingcode",
        "callflow",
        "charge",
        "created_at",
        "delay_minutes",
        "first_answered_at",
        "first_callerid",
        "first_ended_at",
        "first_number",
        "first_outcome",
        "first_plan",
        "flat_timeline",
        "max_minutes",
        "memo",
        "pending_at",
        "pending_seq",
        "pending_step",
        "phase",
        "planned_reason",
        "rate",
        "reason",
        "requestid",
        "reserved",
        "result",
        "result_hint",
        "second_answered_at",
        "second_callerid",
        "second_ended_at",
        "second_number",
        "second_outcome",
        "second_plan",
        "test",
        "variables",
    )

    def __init__(  # noqa: PLR0917 - see the comment on delay_minutes
        self,
        requestid: str,
        action: str,
        first_number: str,
        first_callerid: str,
        second_number: str | None,
        second_callerid: str | None,
        created_at: float,
        # Positional too: the engine passes them so, as keywords would make the instance
        # call build a dict per call (~0.2 us of the ~4 us a DIAL.CONNECT costs).
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
        # Each leg: the number dialled and the caller ID it is shown, then when it answered
        # and hung up and how it ended, None until they happen. A second_number of None: no
        # second leg (DIAL.CALLFLOW rings one party).
        self.first_number = first_number
        self.first_callerid = first_callerid
        self.first_answered_at: float | None = None
        self.first_ended_at: float | None = None
        self.first_outcome: str | None = None
        self.second_number = second_number
        self.second_callerid = second_callerid
        self.second_answered_at: float | None = None
        self.second_ended_at: float | None = None
        self.second_outcome: str | None = None
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
        self.charge = ZERO
        self.reserved = ZERO  # money held against the balance while the call lives
        self.rate = ZERO  # USD per leg-minute, fixed when the call is dialled
        # The one pending engine step of this call: its scheduler seq (0 = none), name, time.
        self.pending_seq = 0
        self.pending_step = ""
        self.pending_at = 0.0
        # Each leg's behaviour, decided when the request is accepted (None for a TEST
        # request, never dialled, and in snapshots taken before plans were made then).
        self.first_plan: LegBehaviour | None = None
        self.second_plan: LegBehaviour | None = None
        self.planned_reason: Reason | None = None
        self.result_hint: str | None = None
        # The timeline, flat: [time, phase, note, time, phase, note, ...] with plain strings.
        # One list and no tuple per step: tuples would be objects for the collector to track
        # (the engine makes four steps per call), and cost 64 bytes each. None stands for
        # the one-step timeline of a call not dialled yet, which then carries no list at all.
        # Public for the engine, which appends to it without a method call (Tenant._move).
        self.flat_timeline: list[Any] | None = None  # floats and strings, alternating

    @property
    def legs(self) -> tuple[Leg, ...]:
        """The call's one or two legs, first first (new read-only views)."""
        first = Leg(
            self.first_number,
            self.first_callerid,
            self.first_answered_at,
            self.first_ended_at,
            self.first_outcome,
        )
        if self.second_number is None or self.second_callerid is None:
            return (first,)
        return (
            first,
            Leg(
                self.second_number,
                self.second_callerid,
                self.second_answered_at,
                self.second_ended_at,
                self.second_outcome,
            ),
        )

    @property
    def plan(self) -> tuple[LegBehaviour, ...]:
        """The behaviour of each leg dialled so far, first first."""
        if self.first_plan is None:
            return ()
        if self.second_plan is None:
            return (self.first_plan,)
        return (self.first_plan, self.second_plan)

    @property
    def timeline(self) -> list[tuple[float, str, str]]:
        """Every (time, phase, note) the call went through, oldest first (a new list)."""
        flat = self.flat_timeline
        if flat is None:
            return [(self.created_at, SCHEDULED_VALUE, "")]
        steps = iter(flat)
        return list(zip(steps, steps, steps, strict=True))

    @timeline.setter
    def timeline(self, steps: Iterable[tuple[float, str, str]]) -> None:
        flat: list[Any] = []
        for at, phase, note in steps:
            flat += (at, str(phase), str(note))
        self.flat_timeline = flat

    @property
    def status(self) -> Status:
        """The Anveo status of the current phase."""
        return STATUS_OF[self.phase]


SCHEDULED_VALUE = Phase.SCHEDULED.value
#: Each phase's plain-string value, without the ``.value`` descriptor (slow in Python 3.11).
PLAIN: Final[dict[Phase, str]] = {phase: phase.value for phase in Phase}
