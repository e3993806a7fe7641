"""A bounded, append-only record of every exchange and state change of one tenant.

Entries are tuples in a ``deque(maxlen=...)``: appending is O(1), the oldest entry falls out
when full (counted in ``dropped``), and tuples of atoms keep the garbage collector's work low.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from typing import Any

from .clock import iso

#: Bytes of a raw request kept per entry; the rest is cut and marked.
RAW_LIMIT = 4096

# (seq, kind, virtual, real, door, action, params, raw, response, code, detail)
Entry = tuple[int, str, float, float, str, str, Any, bytes, str, str, str]


class Journal:
    """Bounded journal; ``seq`` numbers keep counting across drops."""

    __slots__ = ("_entries", "dropped", "seq")

    def __init__(self, limit: int = 10_000) -> None:
        self._entries: deque[Entry] = deque(maxlen=max(1, limit))
        self.dropped = 0
        self.seq = 0

    @property
    def limit(self) -> int:
        """How many entries are kept."""
        return self._entries.maxlen or 0

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[Entry]:
        return iter(self._entries)

    def exchange(  # noqa: PLR0917 - keywords cost a measurable share of a request here
            self, virtual: float, real: float, door: str, action: str, params: Any,
            raw: bytes, response: str, code: str, detail: str) -> None:
        """Append one API exchange, dropping the oldest entry when full (positional: every
        request of every door comes through here)."""
        entries = self._entries
        if len(entries) == entries.maxlen:
            self.dropped += 1
        self.seq += 1
        if len(raw) > RAW_LIMIT:
            raw = raw[:RAW_LIMIT]
        entries.append((self.seq, "exchange", virtual, real, door, action, params, raw,
                        response, code, detail))

    def transition(  # noqa: PLR0917 - positional: the engine calls this four times per call
            self, virtual: float, real: float, action: str, requestid: str, before: str,
            after: str, note: str) -> None:
        """Append a call's state change; formatted only when read (``entry_to_dict``), since
        the engine records millions of them.

        The change rides in the entry's own string fields (params, response, code, detail):
        one tuple per transition rather than two, for the engine's four per call.
        """
        entries = self._entries
        if len(entries) == entries.maxlen:
            self.dropped += 1
        self.seq += 1
        entries.append((self.seq, "transition", virtual, real, "", action, requestid, b"",
                        before, after, note))

    def clear(self) -> None:
        """Forget every entry (the sequence keeps counting)."""
        self._entries.clear()


def entry_to_dict(entry: Entry) -> dict[str, Any]:
    """JSON form of one entry."""
    seq, kind, virtual, real, door, action, params, raw, response, code, detail = entry
    if kind == "transition" and isinstance(params, str):  # as ``Journal.transition`` packs it
        requestid, before, after, note = params, response, code, detail
        params = {"requestid": requestid, "from": before, "to": after, "note": note}
        response = code = ""
        detail = f"{requestid} {before}->{after} {note}".rstrip()
    return {
        "seq": seq,
        "kind": kind,
        "virtual_time": iso(virtual),
        "real_time": iso(real),
        "door": door or None,
        "action": action or None,
        "params": params.to_dict() if hasattr(params, "to_dict") else params,
        "request": raw.decode("utf-8", "replace") if raw else None,
        "response": response or None,
        "error_code": code or None,
        "detail": detail or None,
    }


def entry_from_dict(doc: dict[str, Any]) -> Entry:
    """Inverse of ``entry_to_dict`` (used when restoring a snapshot)."""
    from .clock import parse_iso

    return (
        int(doc["seq"]), str(doc["kind"]), parse_iso(doc["virtual_time"]),
        parse_iso(doc["real_time"]), doc.get("door") or "", doc.get("action") or "",
        doc.get("params"), (doc.get("request") or "").encode("utf-8"),
        doc.get("response") or "", doc.get("error_code") or "", doc.get("detail") or "",
    )
