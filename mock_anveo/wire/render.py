"""Replies rendered: the RESPONSE envelope of a result or a refusal, one element per line."""

from __future__ import annotations

import re

from ..errors import AnveoError

_HEAD = '<?xml version="1.0" standalone="no" ?>\n<RESPONSE>\n'
_ILLEGAL_OR_BREAK = re.compile("[^\t\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
#: Longest ERROR text: a last bound, whatever a parser message echoed.
MESSAGE_MAX = 500


def _text(value: str) -> str:
    if value.isalnum():  # statuses, REQUESTIDs, amounts' digits: nothing to escape or replace
        return value
    if _ILLEGAL_OR_BREAK.search(value):
        value = _ILLEGAL_OR_BREAK.sub(" ", value)  # one line, XML-legal, whatever came in
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def render(result: str, values: tuple[tuple[str, str], ...] = ()) -> bytes:
    """A RESPONSE with RESULT and VALUEs, each element on its own line."""
    lines = [_HEAD, "<RESULT>", _text(result), "</RESULT>\n"]
    for name, value in values:
        lines += ['<VALUE NAME="', name, '">', _text(value), "</VALUE>\n"]
    lines.append("</RESPONSE>\n")
    return "".join(lines).encode("utf-8")


def render_error(error: AnveoError) -> bytes:
    """The error envelope: RESULT ERROR and the message (at most 500 characters) in ERROR."""
    message = error.message
    if len(message) > MESSAGE_MAX:
        message = message[:MESSAGE_MAX] + "..."
    return (
        f"{_HEAD}<RESULT>ERROR</RESULT>\n<ERROR>{_text(message)}</ERROR>\n</RESPONSE>\n"
    ).encode()
