"""What the mock sent out: ``Notification`` records and ``Notifications``, in the
``unittest.mock`` vocabulary of ``Requests`` (``called``, ``call_count``, ``last``,
``assert_called_with(**fields)``, ...), compared on the fields each message carried."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, overload

__all__ = ["Attempt", "Notification", "Notifications"]


@dataclass(frozen=True, slots=True)
class Attempt:
    """One try of a message: its virtual moment and the receiver's status or an error."""

    at: datetime
    status: int | None
    error: str | None
    duration: float
    head: str


@dataclass(frozen=True, slots=True)
class Notification:
    """One outgoing message: ``type`` CALL, SMS or FORWARD; ``fields`` as sent."""

    id: str
    type: str
    url: str
    fields: Mapping[str, str]
    state: str
    attempts: tuple[Attempt, ...]
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    @property
    def delivered(self) -> bool:
        """Whether a receiver answered one attempt with a 2xx."""
        return self.state == "delivered"

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Notification:
        """Build from the control API's JSON."""
        attempts = tuple(
            Attempt(
                datetime.fromisoformat(a["at"]), a["status"], a["error"], a["duration"], a["head"]
            )
            for a in doc["attempts"]
        )
        return cls(
            doc["id"], doc["type"], doc["url"], dict(doc["fields"]), doc["state"], attempts, doc
        )


def _differences(message: Notification, expected: Mapping[str, Any]) -> list[str]:
    found = []
    for name, value in expected.items():
        sent = message.fields.get(name)
        if value is None and sent is not None:
            found.append(f"{name}: expected absent, sent {sent!r}")
        elif value is not None and sent != str(value):
            found.append(f"{name}: expected {str(value)!r}, sent {sent!r}")
    return found


class Notifications(Sequence[Notification]):
    """A tenant's outgoing messages, oldest first."""

    def __init__(self, messages: Iterable[Notification]) -> None:
        self._messages = tuple(messages)

    @overload
    def __getitem__(self, index: int) -> Notification: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Notification]: ...
    def __getitem__(self, index: int | slice) -> Notification | Sequence[Notification]:
        return self._messages[index]

    def __len__(self) -> int:
        return len(self._messages)

    def __repr__(self) -> str:
        return f"<Notifications {[(m.type, m.state) for m in self._messages]}>"

    @property
    def called(self) -> bool:
        """Whether any message was made."""
        return bool(self._messages)

    @property
    def call_count(self) -> int:
        """How many messages were made."""
        return len(self._messages)

    @property
    def last(self) -> Notification:
        """The most recent message; AssertionError when there was none."""
        if not self._messages:
            raise AssertionError("mock-anveo sent no notification")
        return self._messages[-1]

    def assert_called(self) -> None:
        """Fail unless at least one message was made."""
        if not self._messages:
            raise AssertionError("expected a notification; mock-anveo sent none")

    def assert_called_once(self) -> None:
        """Fail unless exactly one message was made."""
        if len(self._messages) != 1:
            raise AssertionError(f"expected one notification, got {self!r}")

    def assert_not_called(self) -> None:
        """Fail if any message was made."""
        if self._messages:
            raise AssertionError(f"expected no notification, got {self!r}")

    def assert_called_with(self, **fields: Any) -> None:
        """Fail unless the LAST message carried these fields (as text; None: absent)."""
        found = _differences(self.last, fields)
        if found:
            raise AssertionError("the last notification differs:\n  " + "\n  ".join(found))

    def assert_any_call(self, **fields: Any) -> None:
        """Fail unless SOME message carried these fields."""
        if not any(not _differences(m, fields) for m in self._messages):
            wanted = ", ".join(f"{k}={v!r}" for k, v in fields.items())
            raise AssertionError(f"no notification had {wanted}; got {self!r}")
