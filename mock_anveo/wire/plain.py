"""The accepting-only fast path for ``<REQUEST>`` documents in the layout every client sends.

A body recognised as plainly well-formed and request.xsd-valid (UTF-8, an optional plain XML
declaration, USERTOKEN before ACTION, double-quoted NAME attributes, no comments, CDATA, DTD
or character references) is read here without lxml and without the schema: printable-ASCII
bodies by string checks and a regular expression over the tags only, others by one regular
expression over every character. Anything else, including every body that would be
refused, gets ``None`` and goes to ``xmlparse.parse_xml``, which parses, validates and words
refusals as before. What this module accepts, ``parse_xml`` accepts with the same
``ActionRequest`` (tests/test_fastpath.py checks it with Hypothesis).
"""

from __future__ import annotations

import re

from ..contract import XML_SPACE
from .requests import ActionRequest

_S = "[ \t\r\n]"
# Only ASCII values in the declaration, and only the encoding the body is decoded with;
# "<?xml " with a space, as xmlparse's scan for processing instructions wants it.
_DECLARATION = (
    rf'<\?xml {_S}*version="1\.0"(?:{_S}+encoding="(?:UTF|utf)-8")?'
    rf'(?:{_S}+standalone="(?:yes|no)")?{_S}*\?>'
)
# request.xsd's Name and UserKey, narrowed to what needs no whitespace collapsing and no
# attribute-value normalisation: printable ASCII without blanks, quotes, '<' or '&'.
_NAME = "[!#-%'-;=-~]{1,64}"
_USERKEY = "[!-%'-;=-~]{1,64}"
# Character data as XML 1.0 reads it unchanged: no markup, no carriage return (the parser
# would turn CR LF into LF), no C0/C1 controls or non-characters, and only the five
# predefined entities.
_CHARS = "[^<&\r\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]*"
_TEXT = f"{_CHARS}(?:&(?:amp|lt|gt|quot|apos);{_CHARS})*"  # unrolled: no alternation per character
_PARAMETER = f'<PARAMETER NAME="{_NAME}"(?: VARIABLENAME="{_NAME}")?>{_TEXT}</PARAMETER>{_S}*'
_DOCUMENT = re.compile(
    rf"(?:{_DECLARATION})?{_S}*<REQUEST>{_S}*"
    rf"<USERTOKEN>{_S}*<USERKEY>({_USERKEY})</USERKEY>{_S}*</USERTOKEN>{_S}*"
    rf'<ACTION NAME="({_NAME})">{_S}*((?:{_PARAMETER})*)</ACTION>{_S}*</REQUEST>{_S}*'
)
_EACH = re.compile(
    f'<PARAMETER NAME="({_NAME})"(?: VARIABLENAME="({_NAME})")?>({_TEXT})</PARAMETER>'
)
_ENTITY = re.compile("&(amp|lt|gt|quot|apos);")
_ENTITIES = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}
#: request.xsd: at most this many PARAMETERs, each value at most this long.
PARAMETERS_MAX = 100
VALUE_MAX = 4096

# The quick reading, for bodies of printable ASCII, tabs and line feeds only (most bodies):
# Python's regular expressions cost about as much per character as lxml does for a document
# (each character is matched against a class), so the text is checked with C string methods
# and only the envelope and the tags are matched.
_PLAIN_BYTES = bytes(range(0x20, 0x7F)) + b"\t\n"
_SKELETON = re.compile(
    rf"(?:{_DECLARATION})?{_S}*<REQUEST>{_S}*"
    rf"<USERTOKEN>{_S}*<USERKEY>({_USERKEY})</USERKEY>{_S}*</USERTOKEN>{_S}*"
    rf'<ACTION NAME="({_NAME})">(.*)</ACTION>{_S}*</REQUEST>{_S}*',
    re.DOTALL,
)
_HEAD = re.compile(f'<PARAMETER NAME="({_NAME})(?:" VARIABLENAME="({_NAME}))?')
_ESCAPED = re.compile("[^&]*(?:&(?:amp|lt|gt|quot|apos);[^&]*)*")
_BLANKS = " \t\n"


def _unescape(found: re.Match[str]) -> str:
    return _ENTITIES[found.group(1)]


def parse(body: bytes) -> ActionRequest | None:
    """The request in a plainly valid body, as ``parse_xml`` would give it; None on any doubt."""
    if b"]]>" in body:  # may not appear in character data
        return None
    if body.translate(None, _PLAIN_BYTES):  # anything but printable ASCII, tab or line feed
        return _parse_any(body)
    document = _SKELETON.fullmatch(body.decode("ascii"))
    if document is None:
        return None
    userkey, action, inner = document.groups()
    pieces = inner.split("</PARAMETER>")
    if len(pieces) > PARAMETERS_MAX + 1 or pieces[-1].strip(_BLANKS):
        return None
    found: list[tuple[str, str, str]] = []
    for piece in pieces[:-1]:
        head, end, escaped = piece.lstrip(_BLANKS).partition('">')
        tag = _HEAD.fullmatch(head)
        if not end or tag is None or "<" in escaped:
            return None
        if "&" in escaped and _ESCAPED.fullmatch(escaped) is None:
            return None
        name, varname = tag.groups()
        found.append((name, varname or "", escaped))
    return _request(userkey, action, found)


def _parse_any(body: bytes) -> ActionRequest | None:
    """``parse`` for bodies with other characters (UTF-8 text, carriage returns): one regular
    expression checks every character."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    document = _DOCUMENT.fullmatch(text)
    if document is None:
        return None
    userkey, action, inner = document.groups()
    found = _EACH.findall(inner)
    if len(found) > PARAMETERS_MAX:
        return None
    return _request(userkey, action, found)


def _request(userkey: str, action: str, found: list[tuple[str, str, str]]) -> ActionRequest | None:
    params: list[tuple[str, str]] = []
    variables: list[tuple[str, str]] = []
    for name, varname, escaped in found:
        value = _ENTITY.sub(_unescape, escaped) if "&" in escaped else escaped
        if len(value) > VALUE_MAX:
            return None
        value = value.strip(XML_SPACE)
        if name == "VARIABLE":
            if not varname:  # refused by parse_xml, in its own words
                return None
            variables.append((varname, value))
        elif varname:
            return None
        else:
            params.append((name, value))
    return ActionRequest(userkey, action, tuple(params), tuple(variables))
