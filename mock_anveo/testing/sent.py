"""What a client sent: ``Requests``, a tenant's API exchanges in ``unittest.mock`` vocabulary."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, overload

from .records import JournalEntry

__all__ = ["Requests"]

_SHOWN = 20  # requests listed in a failure message


def _shown(entry: JournalEntry, number: int) -> str:
    params = ", ".join(f"{k}={v!r}" for k, v in entry.params.items())
    return f"#{number} {entry.action or '(unreadable)'}({params})"


def _differences(entry: JournalEntry, expected: Mapping[str, Any]) -> list[str]:
    found = []
    for name, value in expected.items():
        sent = entry.params.get(name)
        if value is None and sent is not None:
            found.append(f"{name}: expected absent, sent {sent!r}")
        elif value is not None and sent is None:
            found.append(f"{name}: expected {str(value)!r}, not sent")
        elif value is not None and sent != str(value):
            found.append(f"{name}: expected {str(value)!r}, sent {sent!r}")
    return found


class Requests(Sequence[JournalEntry]):
    """The API requests a tenant received, oldest first, in ``unittest.mock`` vocabulary."""

    def __init__(self, entries: Iterable[JournalEntry]) -> None:
        self._entries = tuple(entries)

    @overload
    def __getitem__(self, index: int) -> JournalEntry: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[JournalEntry]: ...
    def __getitem__(self, index: int | slice) -> JournalEntry | Sequence[JournalEntry]:
        return self._entries[index]

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"<Requests {[e.action for e in self._entries]}>"

    def _listing(self) -> str:
        if not self._entries:
            return "mock-anveo received no API request"
        lines = [_shown(e, n) for n, e in enumerate(self._entries, 1)][-_SHOWN:]
        if len(self._entries) > _SHOWN:  # a long test: the latest ones are the telling ones
            lines.insert(0, f"... {len(self._entries) - _SHOWN} earlier")
        return f"mock-anveo received {len(self._entries)}:\n  " + "\n  ".join(lines)

    @property
    def called(self) -> bool:
        """Whether any request arrived."""
        return bool(self._entries)

    @property
    def call_count(self) -> int:
        """How many requests arrived."""
        return len(self._entries)

    @property
    def last(self) -> JournalEntry:
        """The most recent request; AssertionError when there was none."""
        if not self._entries:
            raise AssertionError("mock-anveo received no API request")
        return self._entries[-1]

    def assert_called(self) -> None:
        """Fail unless at least one request arrived."""
        if not self._entries:
            raise AssertionError("expected an API request; mock-anveo received none")

    def assert_called_once(self) -> None:
        """Fail unless exactly one request arrived."""
        if len(self._entries) != 1:
            raise AssertionError(f"expected one API request, got {self!r}")

    def assert_not_called(self) -> None:
        """Fail if any request arrived."""
        if self._entries:
            raise AssertionError(f"expected no API request, got {self!r}")

    def assert_called_with(self, **params: Any) -> None:
        """Fail unless the LAST request carried these parameters (compared as text; None means
        "not sent"); parameters not named here may hold anything."""
        wanted = ", ".join(f"{k}={v!r}" for k, v in params.items())
        if not self._entries:
            raise AssertionError(
                f"expected the last API request to have {wanted}; "
                "mock-anveo received no API request"
            )
        found = _differences(self._entries[-1], params)
        if found:
            raise AssertionError(
                f"the last API request does not have {wanted}:\n  "
                + "\n  ".join(found)
                + f"\n{self._listing()}"
            )

    def assert_any_call(self, **params: Any) -> None:
        """Fail unless SOME request carried these parameters (as in ``assert_called_with``)."""
        if not any(not _differences(e, params) for e in self._entries):
            wanted = ", ".join(f"{k}={v!r}" for k, v in params.items())
            raise AssertionError(f"no API request had {wanted}; {self._listing()}")
