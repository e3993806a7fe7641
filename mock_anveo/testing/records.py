"""What the controller answers with: small frozen records built from the control API's JSON.

``Call``, ``Leg``, ``Transition``, ``Clock``, ``JournalEntry``, ``Sms`` and ``ServerError``,
plus ``UnexpectedServerError``, raised when the server recorded exceptions for a tenant.
(``Requests``, the ``unittest.mock``-style view of what a client sent, is in ``sent``.)
The controller imports this module at the first answer that needs a record: building seven
frozen dataclasses costs a few milliseconds, which a pytest session whose tests only create
and delete tenants should not pay.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from .ops import iso_moment  # its home before ops; kept importable from here

__all__ = [
    "Call",
    "Clock",
    "JournalEntry",
    "Leg",
    "ServerError",
    "Sms",
    "Transition",
    "UnexpectedServerError",
    "iso_moment",
]


def _time(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


# ---- records --------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Leg:
    """One party of a call: the number dialled, how it went, and the billable minutes."""

    number: str
    callerid: str | None
    outcome: str | None
    answered_at: datetime | None
    ended_at: datetime | None
    billable_minutes: int


@dataclass(frozen=True, slots=True)
class Transition:
    """One step of a call's timeline: when, the internal phase, the Anveo status, a note."""

    at: datetime
    phase: str
    status: str
    note: str


@dataclass(frozen=True, slots=True)
class Call:
    """A call of the tenant as the control API shows it (``raw`` keeps the whole JSON)."""

    requestid: str
    action: str
    status: str
    reason: str | None
    test: bool
    memo: str | None
    billingcode: str | None
    charge: Decimal
    legs: tuple[Leg, ...]
    timeline: tuple[Transition, ...]
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    @property
    def statuses(self) -> tuple[str, ...]:
        """The Anveo statuses the call went through, in order, without repeats."""
        seen: list[str] = []
        for step in self.timeline:
            if not seen or seen[-1] != step.status:
                seen.append(step.status)
        return tuple(seen)

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Call:
        """Build from the control API's JSON."""
        legs = tuple(
            Leg(
                g["number"],
                g.get("callerid"),
                g.get("outcome"),
                _time(g.get("answered_at")),
                _time(g.get("ended_at")),
                int(g.get("billable_minutes") or 0),
            )
            for g in doc.get("legs", ())
        )
        timeline = tuple(
            Transition(
                datetime.fromisoformat(s["at"]), s["phase"], s["status"], s.get("note") or ""
            )
            for s in doc.get("timeline", ())
        )
        return cls(
            doc["requestid"],
            doc["action"],
            doc["status"],
            doc.get("reason"),
            bool(doc.get("test")),
            doc.get("memo"),
            doc.get("billingcode"),
            Decimal(str(doc.get("charge", "0"))),
            legs,
            timeline,
            doc,
        )


@dataclass(frozen=True, slots=True)
class Clock:
    """A tenant's virtual clock: now, speed (0 = frozen) and what is pending: call events
    and notification attempts alike (``pending_deliveries`` of them are attempts).
    ``events_fired`` counts what the ``advance`` that returned it fired (0 from ``clock()``)."""

    now: datetime
    rate: float
    pending_events: int
    next_event_at: datetime | None
    events_fired: int = 0
    pending_deliveries: int = 0

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Clock:
        """Build from the control API's JSON."""
        return cls(
            datetime.fromisoformat(doc["now"]),
            float(doc.get("rate", 0)),
            int(doc.get("pending_events", 0)),
            _time(doc.get("next_event_at")),
            int(doc.get("events_fired", 0)),
            int(doc.get("pending_deliveries", 0)),
        )


_RESULT = re.compile(r"<RESULT>(.*?)</RESULT>", re.DOTALL)
_ERROR = re.compile(r"<ERROR>(.*?)</ERROR>", re.DOTALL)
_VALUE = re.compile(r'<VALUE NAME="([^"]*)">(.*?)</VALUE>', re.DOTALL)


def _unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _pairs(value: Any) -> dict[str, str]:
    if isinstance(value, Mapping):
        return {str(k): str(v) for k, v in value.items()}
    return {str(p[0]): str(p[1]) for p in value or ()}


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """One journal entry: an API exchange (``kind="exchange"``) or a call's state change."""

    seq: int
    kind: str
    virtual_time: datetime
    real_time: datetime
    door: str | None
    action: str | None
    params: Mapping[str, str]
    variables: Mapping[str, str]
    request: str | None
    response: str | None
    error_code: str | None
    detail: str | None
    #: The request's exact bytes in base64 when they are not UTF-8 (``request`` is then read
    #: by the body's BOM or XML declaration); None otherwise.
    request_base64: str | None = None

    @property
    def request_bytes(self) -> bytes | None:
        """The request exactly as the server received it (its first 4096 bytes)."""
        if self.request_base64 is not None:
            return base64.b64decode(self.request_base64)
        return None if self.request is None else self.request.encode("utf-8")

    @property
    def result(self) -> str | None:
        """The reply's RESULT text (``SUCCESS``, a status, ``ERROR``), None without a reply."""
        found = _RESULT.search(self.response or "")
        return _unescape(found.group(1)) if found else None

    @property
    def error(self) -> str | None:
        """The reply's ERROR message, if the request was refused."""
        found = _ERROR.search(self.response or "")
        return _unescape(found.group(1)) if found else None

    @property
    def values(self) -> dict[str, str]:
        """The reply's named VALUEs (e.g. ``REQUESTID``)."""
        return {n: _unescape(v) for n, v in _VALUE.findall(self.response or "")}

    @property
    def fault(self) -> str | None:
        """Which injected fault spoiled this exchange (``kind:id:when``), if any."""
        return self.detail if self.kind == "exchange" and self.detail else None

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> JournalEntry:
        """Build from the control API's JSON (``params`` as the parsed request)."""
        parsed = doc.get("params") or {}
        if isinstance(parsed, Mapping) and "params" in parsed:
            params, variables = _pairs(parsed.get("params")), _pairs(parsed.get("variables"))
        else:
            params, variables = _pairs(parsed), {}
        return cls(
            int(doc["seq"]),
            doc["kind"],
            datetime.fromisoformat(doc["virtual_time"]),
            datetime.fromisoformat(doc["real_time"]),
            doc.get("door"),
            doc.get("action"),
            params,
            variables,
            doc.get("request"),
            doc.get("response"),
            doc.get("error_code"),
            doc.get("detail"),
            doc.get("request_base64"),
        )


@dataclass(frozen=True, slots=True)
class Sms:
    """An SMS the tenant sent through the legacy v1 door (``raw`` keeps the whole JSON)."""

    smsid: str
    sender: str  # the v1 request's ``from``
    destination: str
    message: str
    parts: int
    fee: Decimal
    sent_at: datetime
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Sms:
        """Build from the control API's JSON."""
        return cls(
            doc["smsid"],
            doc["from"],
            doc["destination"],
            doc["message"],
            int(doc["parts"]),
            Decimal(str(doc["fee"])),
            datetime.fromisoformat(doc["sent_at"]),
            doc,
        )


@dataclass(frozen=True, slots=True)
class ServerError:
    """An unexpected exception inside the server (a mock-anveo bug), with its traceback."""

    where: str
    error: str
    traceback: str
    userkey: str | None = None


class UnexpectedServerError(AssertionError):
    """Raised by ``check_errors`` (and the pytest plugin) when the server recorded exceptions."""

    def __init__(self, errors: Sequence[ServerError]) -> None:
        self.errors = tuple(errors)
        parts = [f"mock-anveo raised {len(errors)} unexpected exception(s) during this test:"]
        parts += [f"--- {e.where}: {e.error}\n{e.traceback.rstrip()}" for e in errors]
        super().__init__("\n".join(parts))
