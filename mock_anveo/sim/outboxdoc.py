"""Reading an outbox back from a snapshot or state file, checked field by field.

Pending messages are scheduled again at the moment their next attempt was due, so deliveries
that were waiting when the server stopped go out after a restart.
"""

from __future__ import annotations

from .document import Node
from .outbound import check_url
from .outbox import HEAD_BYTES, KINDS, MAX_ATTEMPTS, STATES, Attempt, Message, Outbox

_COUNT_MAX = 10**12
_HEX40 = r"[0-9a-f]{40}"


def _attempt(node: Node) -> Attempt:
    node.seq(5)
    at, status, error, duration, head = node.items()
    return Attempt(
        at.moment(),
        None if status.is_null() else status.whole(100, 599),
        None if error.is_null() else error.text(1000),
        duration.real(0, 1e6),
        head.text(HEAD_BYTES),
    )


def _message(node: Node) -> Message:
    parts = node.items(10)  # a tenth, the copies still owed, since duplicate faults
    if len(parts) < 9:
        raise node.fail("a list of 9 or 10 items")
    mid, kind, url, fields, event_at, record_id, state, attempts, pending_at = parts[:9]
    pairs = [tuple(pair.seq(2)) for pair in fields.items(100)]
    if not all(isinstance(part, str) and len(part) <= 8192 for pair in pairs for part in pair):
        raise fields.fail("a list of [name, value] string pairs")
    message = Message(
        mid.text(40, _HEX40, "40 lower-case hex characters"),
        kind.choice(KINDS),
        url.build(lambda value: check_url(value, "url")),
        [(str(a), str(b)) for a, b in pairs],
        event_at.moment(),
        record_id.whole(1, _COUNT_MAX),
    )
    message.state = state.choice(STATES)
    message.attempts = [_attempt(item) for item in attempts.items(MAX_ATTEMPTS)]
    if len(parts) == 10:
        message.copies = parts[9].whole(0, 1)
    if message.state == "pending":
        if len(message.attempts) >= MAX_ATTEMPTS and not message.copies:
            raise attempts.fail(f"fewer than {MAX_ATTEMPTS} attempts for a pending message")
        message.pending_at = pending_at.moment()
    return message


def read_outbox(node: Node, fresh: Outbox) -> Outbox:
    """The outbox a snapshot holds (``fresh``, filled), or ``fresh`` as is when the document
    predates outboxes (``node`` is null)."""
    if node.is_null():
        return fresh
    fresh.counter = node["counter"].whole(0, _COUNT_MAX)
    fresh.dropped = node["dropped"].whole(0, _COUNT_MAX)
    waiting: list[Message] = []
    for item in node["messages"].items(fresh.limit):
        message = _message(item)
        if message.id in fresh.messages:
            raise item[0].fail("unique among the outbox's messages")
        fresh.messages[message.id] = message
        if message.pending_at is not None:
            waiting.append(message)
    waiting.sort(key=lambda m: (m.pending_at, m.record_id))
    for message in waiting:
        fresh.schedule(message, message.pending_at or message.event_at)
    return fresh
