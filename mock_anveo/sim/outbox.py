"""The outbox: messages Anveo sends out (call notifications, SMS reports, inbound SMS forwards).

Pure Python. Each message's attempts are entries of the outbox's own ``Scheduler`` on the
tenant's virtual time: when one falls due it waits in ``due`` until the HTTP layer has tried it
and reported the outcome with ``record``, which schedules the next attempt 5 virtual minutes
later, or ends the message (``delivered`` on a 2xx, ``cancelled`` after the 5th failure).
The core never does I/O; it only says what to send, where and when.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from typing import Any, Final, NamedTuple

from .clock import tick
from .scheduler import Scheduler

#: Attempts per message (Anveo: "up to 5 attempts, 5 minutes apart").
MAX_ATTEMPTS: Final = 5
RETRY_AFTER: Final = 300.0
KINDS: Final = ("CALL", "SMS", "FORWARD")
STATES: Final = ("pending", "delivered", "cancelled")
#: How many bytes of the receiver's answer an attempt keeps.
HEAD_BYTES: Final = 200


class Attempt(NamedTuple):
    """One try: its virtual moment, the receiver's status or an error, real duration, head."""

    at: float
    status: int | None
    error: str | None
    duration: float
    head: str

    def ok(self) -> bool:
        """Whether the receiver answered 2xx."""
        return self.status is not None and 200 <= self.status < 300


class Message:
    """One outgoing message: a form POST (``CALL``, ``SMS``) or a GET of a filled URL."""

    __slots__ = (
        "attempts",
        "copies",
        "event_at",
        "flat",
        "id",
        "kind",
        "pending_at",
        "pending_seq",
        "record_id",
        "state",
        "url",
    )

    def __init__(  # noqa: PLR0917 - the snapshot reader and the notifier pass them in order
        self,
        mid: str,
        kind: str,
        url: str,
        fields: list[tuple[str, str]],
        event_at: float,
        record_id: int,
    ) -> None:
        self.id = mid
        self.kind = kind
        self.url = url
        # Keys and values alternating in one tuple: a server keeps up to 100,000 messages of
        # ~21 fields, and a tuple per pair cost ~1 KB more per message.
        self.flat: tuple[str, ...] = tuple(part for pair in fields for part in pair)
        self.event_at = event_at
        self.record_id = record_id
        self.state = "pending"
        self.attempts: list[Attempt] = []
        self.pending_at: float | None = None
        self.pending_seq = 0
        self.copies = 0  # deliveries still owed after the first (a duplicate fault)

    @property
    def fields(self) -> list[tuple[str, str]]:
        """The form fields (or a forward's values) as (name, value) pairs, in order."""
        flat = self.flat
        return list(zip(flat[::2], flat[1::2], strict=True))

    @property
    def method(self) -> str:
        """``POST`` for notifications (form fields), ``GET`` for forwards (values in the URL)."""
        return "GET" if self.kind == "FORWARD" else "POST"

    def wire_fields(self) -> list[tuple[str, str]]:
        """The form fields of the next attempt: ``fields`` with ATTEMPT set to its number."""
        if self.kind == "FORWARD":
            return []
        number = str(len(self.attempts) + 1)
        return [(k, number if k == "ATTEMPT" else v) for k, v in self.fields]

    def to_list(self) -> list[Any]:
        """The JSON form a snapshot keeps."""
        return [
            self.id,
            self.kind,
            self.url,
            [list(pair) for pair in self.fields],
            self.event_at,
            self.record_id,
            self.state,
            [list(a) for a in self.attempts],
            self.pending_at,
            self.copies,
        ]


class Outbox:
    """A tenant's outgoing messages, oldest first, and the schedule of their attempts."""

    def __init__(self, id_seed: str, limit: int = 100_000) -> None:
        self.id_seed = id_seed
        self.limit = limit
        self.messages: OrderedDict[str, Message] = OrderedDict()
        self.scheduler: Scheduler[Message] = Scheduler(self._fall_due)
        self.due: list[Message] = []
        self.counter = 0  # messages ever made: RECORDID and the id's input
        self.dropped = 0
        # Messages an out-of-order fault holds back until the next message overtakes them.
        self.held: list[Message] = []

    def _fall_due(self, message: Message, when: float, seq: int) -> None:
        if seq == message.pending_seq:
            message.pending_seq = 0
            self.due.append(message)

    def new_id(self) -> tuple[str, int]:
        """The next message's NOTIFICATIONID (40 hex, seeded) and RECORDID."""
        self.counter += 1
        text = f"{self.id_seed}:notification:{self.counter}"
        return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest(), self.counter

    def add(self, message: Message, *, delay: float = 0.0, hold: float | None = None) -> Message:
        """Keep ``message`` and schedule its first attempt at its event's moment (``delay``
        virtual seconds later); ``hold``: sent right after the next message instead, or
        ``hold`` seconds later if none comes first."""
        self.messages[message.id] = message
        while len(self.messages) > self.limit:  # the oldest finished ones make room
            oldest = next(iter(self.messages.values()))
            if oldest.state == "pending":
                break
            self.messages.popitem(last=False)
            self.dropped += 1
        self.schedule(message, message.event_at + delay)
        overtaken = [m for m in self.held if m.state == "pending" and m.pending_seq]
        self.held = []
        for held in overtaken:  # a virtual second after this one: attempts due at one
            # moment go out together, so only a later moment orders them on the wire
            after = (message.pending_at or message.event_at) + 1.0
            if after < (held.pending_at or 0):
                self.schedule(held, after)
        if hold is not None:
            self.schedule(message, message.event_at + hold)
            self.held.append(message)
        return message

    def schedule(self, message: Message, when: float) -> None:
        """Make ``message``'s next attempt due at ``when`` (instead of any it had)."""
        when = tick(when)
        if message.pending_seq and message.pending_at is not None:  # one entry per message,
            self.scheduler.cancel(message.pending_seq, message.pending_at)  # so len counts it
        message.pending_at = when
        message.pending_seq = self.scheduler.call_at(when, message)

    def pending_attempts(self) -> int:
        """Attempts scheduled or due and not tried yet (one per pending message at most)."""
        return len(self.scheduler) + len(self.due)

    def next_due(self) -> float | None:
        """The virtual moment of the earliest attempt not tried yet (due ones included)."""
        if self.due:
            return min(m.pending_at or 0.0 for m in self.due)
        return self.scheduler.next_due()

    def take_due(self, moment: float) -> list[Message]:
        """The messages whose attempt is due at the earliest moment up to ``moment``, in
        order; an empty list when none is due by then. They wait for ``record``."""
        if not self.due:
            first = self.scheduler.next_due()
            if first is None or first > moment:
                return []
            self.scheduler.run_until(first)
        taken, self.due = self.due, []
        return taken

    def record(
        self,
        message: Message,
        status: int | None,
        error: str | None,
        duration: float = 0.0,
        head: str = "",
    ) -> Attempt:
        """The outcome of ``message``'s attempt due at its ``pending_at``: delivered on a 2xx,
        cancelled after the 5th failure, else tried again 5 virtual minutes later."""
        at = message.pending_at if message.pending_at is not None else message.event_at
        attempt = Attempt(at, status, error, round(duration, 6), head[:HEAD_BYTES])
        message.attempts.append(attempt)
        message.pending_at = None
        # A duplicate (once delivered) is sent whatever came of it, never retried.
        if attempt.ok() or any(a.ok() for a in message.attempts[:-1]):
            if message.copies > 0:
                message.copies -= 1
                self.schedule(message, at)
            else:
                message.state = "delivered"
        elif len(message.attempts) >= MAX_ATTEMPTS:
            message.state = "cancelled"
        else:
            self.schedule(message, at + RETRY_AFTER)
        return attempt

    def pending(self) -> int:
        """Messages neither delivered nor cancelled."""
        return sum(1 for m in self.messages.values() if m.state == "pending")

    def to_document(self) -> dict[str, Any]:
        """Every kept message with its attempts, and the counters: a snapshot's part."""
        return {
            "counter": self.counter,
            "dropped": self.dropped,
            "messages": [m.to_list() for m in self.messages.values()],
        }
