"""The console log of ``mock-anveo serve``: one line per API exchange and per state change.

Events are plain dicts (``type`` is ``exchange``, ``call`` or the journal kind that made them);
``Console`` renders them as aligned text (coloured only on a terminal) or as one JSON object a
line. Only ``serve`` installs a console: the pytest fixture and ``ThreadedServer`` stay silent.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any, TextIO

from ..sim.clock import iso
from ..sim.journal import Entry
from ..sim.outbox import Attempt, Message

Sink = Callable[[dict[str, Any]], None]
_REQUESTID = re.compile(rb"<VALUE NAME=\"REQUESTID\">([^<]*)</VALUE>")
_RESULT = re.compile(rb"<RESULT>([^<]*)</RESULT>")
_TEXT_RESULT = re.compile(rb"result=([a-z]+)")
#: What a developer calls each phase a call enters (the engine's names are about legs).
_PHASE_WORDS = {
    "scheduled": "queued",
    "ringing-first": "ringing",
    "ringing-second": "ringing the second leg",
    "connected": "bridged",
    "ended": "ended",
}
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_COLOURS = {"ok": "32", "error": "31", "fault": "35", "call": "36", "dim": "2"}
#: How much of a client's free text (a malformed request's bytes, say) one line shows.
CLIENT_TEXT_MAX = 200


def short_key(userkey: str | None) -> str:
    """A USERKEY shortened for a text line: enough to tell tenants apart, not to reuse it
    (JSON lines carry it in full, for log tools to filter by)."""
    if not userkey:
        return "-"
    return _printable(userkey if len(userkey) <= 10 else f"{userkey[:4]}...{userkey[-3:]}")


def _printable(text: str) -> str:
    """``text`` with control characters shown as ``?``: a client's bytes (an unknown key or
    action) must not move the cursor or recolour a developer's terminal."""
    return _CONTROL.sub("?", text)


def one_line(text: str, limit: int = CLIENT_TEXT_MAX) -> str:
    """``text`` fit for one console line: its lines joined by a space (blank ones dropped),
    cut to ``limit`` characters ending in ``...``, control characters shown as ``?``."""
    joined = " ".join(part.strip() for part in text.splitlines() if part.strip())
    if len(joined) > limit:
        joined = joined[: limit - 3] + "..."
    return _printable(joined)


def exchange_event(
    exchange: Any, door: str, virtual: float | None, wall: float, millis: float
) -> dict[str, Any]:
    """The event of one finished API exchange (``exchange``: a pipeline or v1 door exchange)."""
    body: bytes = exchange.body or b""
    error = exchange.error
    found = _REQUESTID.search(body)
    result = _RESULT.search(body) or _TEXT_RESULT.search(body)
    tenant = exchange.tenant
    request = getattr(exchange, "request", None)
    userkey = tenant.account.userkey if tenant is not None else getattr(request, "userkey", None)
    return {
        "type": "exchange",
        "virtual": iso(virtual) if virtual is not None else None,
        "wall": iso(wall),
        "door": door,
        "action": exchange.action or None,
        "userkey": userkey or None,
        "result": result.group(1).decode("utf-8", "replace") if result else None,
        "error_code": error.code.value if error is not None else None,
        "fault": exchange.fault or None,
        "requestid": found.group(1).decode("ascii", "replace") if found else None,
        "ms": round(millis, 2),
    }


def journal_event(userkey: str, entry: Entry) -> dict[str, Any] | None:
    """The event of a journal entry worth a line (a call's state change, or a kind such as a
    notification attempt that another part records); None for exchanges, logged on their own."""
    seq, kind, virtual, real, _door, action, params, _raw, response, code, detail = entry
    if kind == "exchange":
        return None
    event: dict[str, Any] = {
        "type": "call" if kind == "transition" else kind,
        "virtual": iso(virtual),
        "wall": iso(real) if real else None,
        "userkey": userkey,
        "action": action or None,
        "seq": seq,
    }
    if kind == "transition":
        event.update(
            requestid=params, state=_PHASE_WORDS.get(code, code), phase=code, reason=detail or None
        )
        event["from"] = _PHASE_WORDS.get(response, response)
    else:
        event["detail"] = detail or response or None
    return event


def attempt_event(userkey: str, message: Message, attempt: Attempt) -> dict[str, Any]:
    """The event of one delivery attempt of an outgoing message, with its outcome."""
    outcome = f"HTTP {attempt.status}" if attempt.status is not None else attempt.error
    return {
        "type": "notify",
        "virtual": iso(attempt.at),
        "wall": None,
        "userkey": userkey,
        "message": message.kind,
        "id": message.id,
        "attempt": len(message.attempts),
        "status": attempt.status,
        "error": attempt.error,
        "state": message.state,
        "detail": f"{message.kind} {message.id[:12]} attempt {len(message.attempts)} "
        f"{outcome} -> {message.state}",
    }


class Console:
    """Writes events to a stream: ``fmt`` is ``text`` or ``json``; ``colour`` None means
    "when the stream is a terminal"."""

    def __init__(self, stream: TextIO, fmt: str = "text", colour: bool | None = None) -> None:
        self.stream = stream
        self.fmt = fmt
        self.colour = stream.isatty() if colour is None else colour
        self.dead = False

    def __call__(self, event: dict[str, Any]) -> None:
        """Write one event as one line."""
        json_line = self.fmt == "json"
        line = json.dumps(event, separators=(",", ":")) if json_line else self.text(event)
        if self.dead:
            return
        try:
            self.stream.write(line + "\n")
            self.stream.flush()
        except (OSError, ValueError):
            # A reader that went away (serve | head) must never fail a request: go quiet.
            self.dead = True

    def _paint(self, text: str, tone: str) -> str:
        return f"\x1b[{_COLOURS[tone]}m{text}\x1b[0m" if self.colour else text

    def text(self, event: dict[str, Any]) -> str:
        """The human line of an event."""
        virtual = (event.get("virtual") or "-")[:19].replace("T", " ")
        wall = (event.get("wall") or "")[11:19] or "--:--:--"  # UTC, like the virtual time
        head = f"{virtual} {self._paint(f'[{wall}]', 'dim')}"
        if event["type"] == "exchange":
            outcome = event["error_code"] or event["result"] or "-"
            tone = "error" if event["error_code"] else "ok"
            if event["fault"]:
                outcome, tone = f"fault:{event['fault']} {outcome}", "fault"
            requestid = f" rid={event['requestid']}" if event["requestid"] else ""
            action = _printable(event["action"] or "?")
            return (
                f"{head} {event['door']:<7} {action:<16} "
                f"key={short_key(event['userkey']):<10} {self._paint(outcome, tone)}{requestid} "
                f"{event['ms']:.1f} ms"
            )
        if event["type"] == "call":
            said = event["reason"]
            reason = f" ({said})" if said and said != event["state"] else ""
            state = self._paint(f"{event['state']}{reason}", "call")
            key = short_key(event["userkey"])
            return f"{head} call    {event['requestid']} key={key} {state}"
        detail = _printable(str(event.get("detail") or ""))
        return f"{head} {event['type']:<7} key={short_key(event['userkey'])} {detail}"
