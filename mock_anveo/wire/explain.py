"""Why a parsed document breaks request.xsd, in words that name the element and the rule.

``explain`` walks the tree against the envelope's shape; only if that finds nothing does
xmlschema (loaded lazily, once: it costs ~260 ms to import and compile) word the failure,
because it names the failing path more clearly than libxml2 does.
"""

from __future__ import annotations

import functools
from typing import Any

from lxml import etree

from ..contract import NAME_MAX, PARAMETERS_MAX, USERKEY, VALUE_MAX, XML_SPACE
from ..errors import AnveoError, Code, shown
from .xsd import REQUEST_SCHEMA, last_error, schema_path

_USERKEY = USERKEY.compiled()


def _strip(text: str | None) -> str:
    return (text or "").strip(XML_SPACE)


# element -> (allowed attributes, required attributes, allowed children with max count, text?)
_SHAPE: dict[str, tuple[tuple[str, ...], tuple[str, ...], dict[str, int], bool]] = {
    "REQUEST": ((), (), {"USERTOKEN": 1, "ACTION": 1}, False),
    "USERTOKEN": ((), (), {"USERKEY": 1}, False),
    "USERKEY": ((), (), {}, True),
    "ACTION": (("NAME",), ("NAME",), {"PARAMETER": PARAMETERS_MAX}, False),
    "PARAMETER": (("NAME", "VARIABLENAME"), ("NAME",), {}, True),
}


def _short(name: str) -> str:
    """An element or attribute name for a message: names are unbounded in XML, messages not."""
    return name if len(name) <= 60 else name[:60] + "..."


def _case_hint(found: str, expected: tuple[str, ...] | list[str]) -> str | None:
    for name in expected:
        if found.upper() == name and found != name:
            return name
    return None


def explain(root: Any) -> AnveoError:
    """Say exactly why a parsed document does not follow request.xsd."""
    tag = root.tag if isinstance(root.tag, str) else ""
    if tag != "REQUEST":
        if "}" in tag:
            return AnveoError(
                Code.ENVELOPE,
                f"XML namespaces are not used by Anveo: <{_short(tag)}> must be a plain <REQUEST>",
            )
        if tag.upper() == "REQUEST":
            return AnveoError(
                Code.WRONG_CASE,
                f"<{_short(tag)}> must be upper case: <REQUEST> (Anveo XML is case sensitive)",
            )
        return AnveoError(Code.ENVELOPE, f"the root element must be <REQUEST>, got <{_short(tag)}>")
    found = _walk(root, "REQUEST")
    if found is not None:
        return found
    return _fallback(root)


def _walk(element: Any, tag: str) -> AnveoError | None:
    allowed_attrs, required_attrs, children, has_text = _SHAPE[tag]
    for attr in element.attrib:
        if attr not in allowed_attrs:
            hint = _case_hint(attr, allowed_attrs)
            if hint:
                return AnveoError(
                    Code.WRONG_CASE,
                    f"attribute {_short(attr)} on <{tag}> must be upper case: {hint}",
                )
            return AnveoError(Code.ENVELOPE, f"unexpected attribute {shown(attr)} on <{tag}>")
    for attr in required_attrs:
        if attr not in element.attrib:
            code = Code.MISSING_ACTION if tag == "ACTION" else Code.ENVELOPE
            example = ' (e.g. <ACTION NAME="DIAL.CONNECT">)' if tag == "ACTION" else ""
            return AnveoError(code, f"<{tag}> needs a {attr} attribute{example}")
        value = _strip(element.get(attr))
        if not value or len(value) > NAME_MAX:
            return AnveoError(
                Code.ENVELOPE,
                f"the {attr} attribute of <{tag}> must be 1 to "
                f"{NAME_MAX} characters, got "
                f"{shown(element.get(attr))}",
            )
    varname = element.get("VARIABLENAME")
    if varname is not None and not 0 < len(_strip(varname)) <= NAME_MAX:
        return AnveoError(
            Code.ENVELOPE, f"VARIABLENAME must be 1 to {NAME_MAX} characters, got {shown(varname)}"
        )
    if not has_text and _strip(element.text):
        return AnveoError(
            Code.ENVELOPE, f"unexpected text {shown(_strip(element.text))} inside <{tag}>"
        )
    counts: dict[str, int] = {}
    for child in element:
        if not isinstance(child.tag, str):  # comments are harmless
            continue
        if _strip(child.tail) and not has_text:
            return AnveoError(
                Code.ENVELOPE, f"unexpected text {shown(_strip(child.tail))} inside <{tag}>"
            )
        child_name = _short(child.tag)  # element names are unbounded in XML
        if child.tag not in children:
            if has_text:
                name = element.get("NAME")
                where = f"<{tag} NAME={shown(name)}>" if name else f"<{tag}>"
                return AnveoError(
                    Code.ENVELOPE, f"{where} must hold text only, found element <{child_name}>"
                )
            hint = _case_hint(child.tag, list(children))
            if hint:
                return AnveoError(
                    Code.WRONG_CASE,
                    f"<{child_name}> must be upper case: <{hint}> (Anveo XML is case sensitive)",
                )
            allowed = ", ".join(f"<{c}>" for c in children)
            return AnveoError(
                Code.ENVELOPE, f"unexpected element <{child_name}> in <{tag}>; allowed: {allowed}"
            )
        counts[child.tag] = counts.get(child.tag, 0) + 1
        if counts[child.tag] > children[child.tag]:
            if child.tag == "PARAMETER":
                return AnveoError(
                    Code.TOO_MANY_PARAMETERS,
                    f"<ACTION> holds more than {PARAMETERS_MAX} PARAMETER elements",
                )
            return AnveoError(Code.ENVELOPE, f"<{child_name}> appears more than once in <{tag}>")
        problem = _walk(child, child.tag)
        if problem is not None:
            return problem
    for child_tag in children:
        if child_tag != "PARAMETER" and counts.get(child_tag, 0) == 0:
            code = {
                "USERTOKEN": Code.MISSING_USERTOKEN,
                "USERKEY": Code.MISSING_USERKEY,
                "ACTION": Code.MISSING_ACTION,
            }[child_tag]
            return AnveoError(code, f"<{tag}> has no <{child_tag}> element")
    if tag == "USERKEY":
        key = _strip(element.text)
        if not key:
            return AnveoError(Code.MISSING_USERKEY, "<USERKEY> is empty")
        if not _USERKEY.fullmatch(key):
            return AnveoError(Code.ENVELOPE, f"USERKEY must be {USERKEY.rule}, got {shown(key)}")
    if tag == "PARAMETER" and len(element.text or "") > VALUE_MAX:
        return AnveoError(
            Code.INVALID_PARAMETER,
            f"PARAMETER {_strip(element.get('NAME'))} is longer than {VALUE_MAX} "
            f"characters ({len(element.text or '')})",
        )
    return None


@functools.cache
def _xmlschema() -> Any:
    """request.xsd compiled by xmlschema, once, on the first failure ``_walk`` cannot word."""
    import xmlschema  # noqa: PLC0415 - 185 ms to import: only when a refusal needs wording

    return xmlschema.XMLSchema(str(schema_path("request.xsd")))


def _fallback(root: Any) -> AnveoError:
    try:
        error = _xmlschema().validate(etree.tostring(root), use_defaults=False) or None
    except Exception as exc:  # noqa: BLE001 - any failure here still means "invalid"
        error = exc
    if error is None:
        log = last_error(REQUEST_SCHEMA)
        return AnveoError(
            Code.ENVELOPE,
            f"the request does not follow the schema: {log.message if log else 'invalid'}",
        )
    reason = getattr(error, "reason", None) or str(error).splitlines()[0]
    path = getattr(error, "path", None)
    where = f" at {path}" if path else ""
    return AnveoError(Code.ENVELOPE, f"the request does not follow the schema{where}: {reason}")
