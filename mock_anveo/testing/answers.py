"""How a verb reads its answer: the control API's JSON turned into what the verb returns.

Each parser that builds records imports their module (``records``, ``notices``, ``sent``) at
its first call, not at the controller's import: defining those frozen dataclasses costs a few
milliseconds, and a pytest session whose tests only create and delete tenants (the ``anveo``
fixture's own two requests) never needs one. Later calls find the module already loaded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from datetime import datetime

    from .notices import Notification, Notifications
    from .records import Call, Clock, JournalEntry, ServerError, Sms
    from .sent import Requests

# The imports inside the functions below are the point of this module (see its docstring).
# ruff: noqa: PLC0415

__all__ = [
    "call",
    "calls",
    "clock",
    "entries",
    "forward",
    "json_object",
    "none",
    "notifications",
    "now",
    "objects",
    "raise_errors",
    "requests",
    "server_errors",
    "sms",
]


def json_object(doc: Any) -> dict[str, Any]:
    """A JSON object answer, as a dict of its own."""
    return dict(doc)


def objects(doc: Any) -> list[dict[str, Any]]:
    """A JSON array of objects, as dicts of their own."""
    return [dict(d) for d in doc]


def none(_doc: Any) -> None:
    """An answer with nothing to return."""
    return None


def server_errors(docs: Any) -> list[ServerError]:
    """Records of the unexpected exceptions a server reported (usually none)."""
    if not docs:  # every deleted tenant answers so: no record class needed
        return []
    from .records import ServerError

    return [
        ServerError(
            e.get("where", ""), e.get("error", ""), e.get("traceback", ""), e.get("userkey")
        )
        for e in docs
    ]


def raise_errors(docs: Any) -> None:
    """Raise UnexpectedServerError if the server reported exceptions."""
    found = server_errors(docs)
    if found:
        from .records import UnexpectedServerError

        raise UnexpectedServerError(found)


def clock(doc: Any) -> Clock:
    """A tenant's clock."""
    from .records import Clock

    return Clock.from_json(doc)


def now(doc: Any) -> datetime:
    """A tenant's virtual time, from its clock."""
    return clock(doc).now


def calls(doc: Any) -> list[Call]:
    """A list of calls."""
    from .records import Call

    return [Call.from_json(c) for c in doc]


def call(doc: Any) -> Call:
    """One call."""
    from .records import Call

    return Call.from_json(doc)


def entries(doc: Any) -> list[JournalEntry]:
    """A journal's entries."""
    from .records import JournalEntry

    return [JournalEntry.from_json(e) for e in doc["entries"]]


def requests(doc: Any) -> Requests:
    """A journal's exchanges as ``Requests``."""
    from .sent import Requests

    return Requests(entries(doc))


def sms(doc: Any) -> list[Sms]:
    """A list of SMS sent through the v1 door."""
    from .records import Sms

    return [Sms.from_json(s) for s in doc]


def notifications(doc: Any) -> Notifications:
    """Outgoing messages as ``Notifications``."""
    from .notices import Notification, Notifications

    return Notifications(Notification.from_json(m) for m in doc)


def forward(doc: Any) -> Notification | None:
    """The forward an inbound SMS made, if its number has an ``sms_url``."""
    if not doc.get("forwarded"):
        return None
    from .notices import Notification

    return Notification.from_json(doc["message"])
