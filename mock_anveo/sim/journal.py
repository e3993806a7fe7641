"""A bounded, append-only record of every exchange and state change of one tenant.

Entries are tuples in a ``deque(maxlen=...)``: appending is O(1), the oldest entry falls out
when full (counted in ``dropped``), and tuples of atoms keep the garbage collector's work low.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re
from collections import deque
from collections.abc import Iterator
from typing import Any

from .clock import iso, parse_iso
from .document import MOMENT_MAX, MOMENT_MIN, Node, finite_json

#: Bytes of a raw request kept per entry; the rest is cut and marked.
RAW_LIMIT = 4096
#: The longest base64 of RAW_LIMIT bytes, as a snapshot may carry it.
BASE64_LIMIT = (RAW_LIMIT + 2) // 3 * 4
#: First bytes that name a document's encoding: byte-order marks, UTF-32's first (its
#: little-endian mark starts with UTF-16's), then UTF-16 without one. A UTF-8 mark needs no
#: entry: such a body is read as UTF-8 anyway.
_SIGNATURES = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
    (b"<\x00?\x00", "utf-16-le"),  # UTF-16 without a mark, by how "<?" is spelt (XML 1.0 F.1)
    (b"\x00<\x00?", "utf-16-be"),
)
#: The encoding an XML declaration names, read from bytes in an ASCII-compatible encoding.
_DECLARED = re.compile(
    rb"""\A[ \t\r\n]*<\?xml[ \t\r\n][^>]{0,200}?\bencoding[ \t\r\n]*=[ \t\r\n]*"""
    rb"""["']([A-Za-z][A-Za-z0-9._-]{0,39})["']"""
)
#: Bounds a snapshot's journal is read with: counters, the limit, a reply or detail's length.
COUNT_MAX, LIMIT_MAX, TEXT_LIMIT = 2**63 - 1, 2**62, 65536
KINDS = ("exchange", "transition")

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

    def __reversed__(self) -> Iterator[Entry]:
        return reversed(self._entries)

    def exchange(  # noqa: PLR0917 - keywords cost a measurable share of a request here
        self,
        virtual: float,
        real: float,
        door: str,
        action: str,
        params: Any,
        raw: bytes,
        response: str,
        code: str,
        detail: str,
    ) -> None:
        """Append one API exchange, dropping the oldest entry when full (positional: every
        request of every door comes through here)."""
        entries = self._entries
        if len(entries) == entries.maxlen:
            self.dropped += 1
        self.seq += 1
        if len(raw) > RAW_LIMIT:
            raw = raw[:RAW_LIMIT]
        entries.append(
            (self.seq, "exchange", virtual, real, door, action, params, raw, response, code, detail)
        )

    def transition(  # noqa: PLR0917 - positional: the engine calls this four times per call
        self,
        virtual: float,
        real: float,
        action: str,
        requestid: str,
        before: str,
        after: str,
        note: str,
    ) -> None:
        """Append a call's state change; formatted only when read (``entry_to_dict``), since
        the engine records millions of them.

        The change rides in the entry's own string fields (params, response, code, detail):
        one tuple per transition rather than two, for the engine's four per call.
        """
        entries = self._entries
        if len(entries) == entries.maxlen:
            self.dropped += 1
        self.seq += 1
        entries.append(
            (self.seq, "transition", virtual, real, "", action, requestid, b"", before, after, note)
        )

    def clear(self) -> None:
        """Forget every entry (the sequence keeps counting)."""
        self._entries.clear()

    def to_document(self) -> dict[str, Any]:
        """The journal as JSON-ready data (one part of a snapshot)."""
        return {
            "limit": self.limit,
            "dropped": self.dropped,
            "seq": self.seq,
            "entries": [entry_to_dict(e) for e in self._entries],
        }

    @classmethod
    def from_document(cls, doc: Any, path: str = "journal") -> Journal:
        """The journal ``to_document`` wrote; raises SettingError naming the bad field's path."""
        node = Node(doc, path)
        journal = cls(node["limit"].whole(1, LIMIT_MAX))
        journal.dropped = node["dropped"].whole(0, COUNT_MAX)
        journal.seq = node["seq"].whole(0, COUNT_MAX)
        last = 0
        for item in node["entries"].items(journal.limit):
            entry = _read_entry(item)
            if not last < entry[0] <= journal.seq:
                raise item["seq"].fail(
                    f"above the entry before ({last}) and at most the journal's seq ({journal.seq})"
                )
            last = entry[0]
            journal._entries.append(entry)
        return journal


def entry_to_dict(entry: Entry) -> dict[str, Any]:
    """JSON form of one entry."""
    seq, kind, virtual, real, door, action, params, raw, response, code, detail = entry
    if kind == "transition" and isinstance(params, str):  # as ``Journal.transition`` packs it
        requestid, before, after, note = params, response, code, detail
        params = {"requestid": requestid, "from": before, "to": after, "note": note}
        response = code = ""
        detail = f"{requestid} {before}->{after} {note}".rstrip()
    packed: str | None = None
    try:  # nearly every body, and every query string: UTF-8, no look at a declaration
        request = raw.decode("utf-8") if raw else None
    except UnicodeDecodeError:
        request, packed = _not_utf8(raw)
    return {
        "seq": seq,
        "kind": kind,
        "virtual_time": iso(virtual),
        "real_time": iso(real),
        "door": door or None,
        "action": action or None,
        "params": params.to_dict() if hasattr(params, "to_dict") else params,
        "request": request,
        "request_base64": packed,
        "response": response or None,
        "error_code": code or None,
        "detail": detail or None,
    }


def _not_utf8(raw: bytes) -> tuple[str, str]:
    """A raw request that is not UTF-8 as text (read by its BOM or declaration), and its exact
    bytes in base64: the text alone could not resend them as they came."""
    packed = base64.b64encode(raw).decode("ascii")
    try:
        return raw.decode(_encoding_of(raw), "replace"), packed
    except (UnicodeError, ValueError):  # a codec without "replace" (idna): read as UTF-8
        return raw.decode("utf-8", "replace"), packed


def _encoding_of(raw: bytes) -> str:
    """How to read bytes that are not UTF-8, as an XML parser would: by their byte-order mark,
    else by their declaration's encoding when Python knows it, else as UTF-8 (what cannot be
    read becomes U+FFFD; the bytes stay in ``request_base64``)."""
    for mark, name in _SIGNATURES:
        if raw.startswith(mark):
            return name
    declared = _DECLARED.match(raw)
    if declared is not None:
        name = declared.group(1).decode("ascii")
        try:  # a declaration read as ASCII can only name an ASCII-compatible text encoding
            if b"<?xml".decode(name) == "<?xml":
                return name
        except (LookupError, UnicodeError, ValueError):
            pass  # unknown to Python, not a text encoding (hex), or not ASCII-compatible
    return "utf-8"


def _raw_of(node: Node) -> bytes:
    """The raw bytes of an entry read from a snapshot: ``request_base64`` when given (the
    exact bytes), else the text of ``request`` in UTF-8."""
    raw = node.get("request")
    request = "" if raw.is_null() else raw.text(RAW_LIMIT)
    packed = node.get("request_base64")
    if not packed.is_null():
        rule = f"the base64 of at most {RAW_LIMIT} bytes"
        try:
            exact = base64.b64decode(packed.text(BASE64_LIMIT, rule=rule), validate=True)
        except binascii.Error:
            raise packed.fail(rule) from None
        if len(exact) > RAW_LIMIT:
            raise packed.fail(rule)
        return exact
    try:
        return request.encode("utf-8")
    except UnicodeEncodeError:
        raise raw.fail("text that UTF-8 can encode (no lone surrogates)") from None


def _read_entry(node: Node) -> Entry:
    """Inverse of ``entry_to_dict`` (restoring a snapshot); raises SettingError naming the
    bad field."""
    raw_bytes = _raw_of(node)
    return (
        node["seq"].whole(1, COUNT_MAX),
        node["kind"].choice(KINDS),
        _moment(node["virtual_time"]),
        _moment(node["real_time"]),
        _optional(node.get("door"), 16),
        _optional(node.get("action"), 1024),
        finite_json(node.get("params")),
        raw_bytes,
        _optional(node.get("response"), TEXT_LIMIT),
        _optional(node.get("error_code"), 64),
        _optional(node.get("detail"), TEXT_LIMIT),
    )


def _moment(node: Node) -> float:
    try:
        moment = parse_iso(node.text(64))
    except (ValueError, OverflowError):
        raise node.fail("an ISO-8601 moment such as 2026-01-01T00:00:00.000Z") from None
    if not MOMENT_MIN <= moment <= MOMENT_MAX:
        raise node.fail("a moment from year 1 to 9999")
    return moment


def _optional(node: Node, limit: int) -> str:
    return "" if node.is_null() else node.text(limit)
