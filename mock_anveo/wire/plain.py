"""The accepting-only fast path for ``<REQUEST>`` documents in the layout every client sends.

A body recognised as plainly well-formed and request.xsd-valid (UTF-8, an optional plain XML
declaration, USERTOKEN before ACTION, double-quoted NAME attributes, no comments, CDATA, DTD
or character references) is read here without lxml and without the schema: one regular
expression for the envelope's head, string methods for its tail, and one ``split`` that cuts
out every PARAMETER at once, so the work per parameter is done in C, not in a Python loop.
Anything else, including every body that would be refused, gets ``None`` and goes to
``xmlparse.parse_xml``, which parses, validates and words refusals as before. What this
module accepts, ``parse_xml`` accepts with the same ``ActionRequest``
(tests/test_fastpath.py checks it with Hypothesis).
"""

from __future__ import annotations

import re
from itertools import repeat

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
# attribute-value normalisation: printable ASCII without blanks, quotes, '<' or '&'. A
# USERKEY is character data, so it also goes without '>': no "]]>" can hide in it.
_NAME = "[!#-%'-;=-~]{1,64}"
_USERKEY = "[!-%'-;=?-~]{1,64}"
_HEAD = re.compile(
    rf"(?:{_DECLARATION})?{_S}*<REQUEST>{_S}*"
    rf"<USERTOKEN>{_S}*<USERKEY>({_USERKEY})</USERKEY>{_S}*</USERTOKEN>{_S}*"
    rf'<ACTION NAME="({_NAME})">'
)
# Character data as XML 1.0 reads it unchanged: no markup, no carriage return (the parser
# would turn CR LF into LF), no C0/C1 controls or non-characters.
_CHAR = "^<&\r\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff"
# The usual value: no entity, no '>' (so no "]]>"), and blanks only inside, so the value is
# cut out already trimmed. NAME="VARIABLE" needs a VARIABLENAME, which this form has not.
_INSIDE = f"[{_CHAR}>]"
_EDGE = f"[{_CHAR}> \t\n]"
_USUAL = re.compile(
    f'<PARAMETER NAME="((?!VARIABLE"){_NAME})">'
    f"[ \t\n]*((?:{_EDGE}(?:{_INSIDE}*{_EDGE})?)?)[ \t\n]*</PARAMETER>"
)
# Any other plain PARAMETER: entities, VARIABLENAME, '>' and blanks around the value.
_CHARS = f"[{_CHAR}]*"
_ANY = re.compile(
    f'<PARAMETER NAME="({_NAME})"(?: VARIABLENAME="({_NAME})")?>'
    f"({_CHARS}(?:&(?:amp|lt|gt|quot|apos);{_CHARS})*)</PARAMETER>"
)
_ENTITY = re.compile("&(amp|lt|gt|quot|apos);")
_ENTITIES = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}
#: request.xsd: at most this many PARAMETERs, each value at most this long.
PARAMETERS_MAX = 100
VALUE_MAX = 4096


def _unescape(found: re.Match[str]) -> str:
    return _ENTITIES[found.group(1)]


def parse(body: bytes) -> ActionRequest | None:
    """The request in a plainly valid body, as ``parse_xml`` would give it; None on any doubt."""
    try:
        text = body.decode("ascii") if body.isascii() else body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    head = _HEAD.match(text)
    if head is None:
        return None
    end = text.rfind("</ACTION>")
    # What follows </ACTION> is blanks, </REQUEST>, blanks: no regular expression needed.
    if end < 0 or text[end + 9 :].strip(XML_SPACE) != "</REQUEST>":
        return None
    userkey, action = head.groups()
    inner = text[head.end() : end]
    # split() leaves [blanks, NAME, value, blanks, ...]: anything but blanks between the
    # PARAMETERs means another layout.
    parts = _USUAL.split(inner)
    # Long bodies too: request.xsd bounds a value's length before it is trimmed.
    if "".join(parts[::3]).strip(XML_SPACE) or len(inner) > VALUE_MAX:
        return _unusual(userkey, action, inner)
    if len(parts) > 3 * PARAMETERS_MAX + 1:
        return None
    return ActionRequest(userkey, action, tuple(zip(parts[1::3], parts[2::3], strict=True)), ())


def _unusual(userkey: str, action: str, inner: str) -> ActionRequest | None:
    """``parse`` for PARAMETERs with entities, VARIABLENAME or a ">" in a value, and for bodies
    whose values could exceed request.xsd's bound before trimming."""
    if "]]>" in inner:  # may not appear in character data
        return None
    parts = _ANY.split(inner)  # [blanks, NAME, VARIABLENAME, value, blanks, ...]
    if "".join(parts[::4]).strip(XML_SPACE) or len(parts) > 4 * PARAMETERS_MAX + 1:
        return None
    values: list[str] = parts[3::4]
    if "&" in inner:
        values = [_ENTITY.sub(_unescape, value) if "&" in value else value for value in values]
    if any(len(value) > VALUE_MAX for value in values):
        return None
    values = list(map(str.strip, values, repeat(XML_SPACE, len(values))))
    params: list[tuple[str, str]] = []
    variables: list[tuple[str, str]] = []
    for name, varname, value in zip(parts[1::4], parts[2::4], values, strict=True):
        if name == "VARIABLE":
            if not varname:  # refused by parse_xml, in its own words
                return None
            variables.append((varname, value))
        elif varname:
            return None
        else:
            params.append((name, value))
    return ActionRequest(userkey, action, tuple(params), tuple(variables))
