"""The v2 GET door's query string: ``userkey=&action=&param[NAME]=&var[NAME]=`` to a request."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, unquote_plus

from ..contract import NAME_MAX, PARAMETERS_MAX, QUERY_FIELDS_MAX, USERKEY, VALUE_MAX, XML_SPACE
from ..errors import AnveoError, Code, shown
from .requests import ActionRequest

#: Characters XML 1.0 cannot carry; the GET door must refuse them before building XML.
NOT_XML_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_USERKEY = USERKEY.compiled()


def _pairs(query: str) -> list[tuple[str, str]]:
    try:
        return parse_qsl(
            query,
            keep_blank_values=True,
            encoding="utf-8",
            errors="strict",
            max_num_fields=QUERY_FIELDS_MAX,
        )
    except UnicodeDecodeError:
        raise AnveoError(
            Code.BAD_QUERY, "the query string is not valid UTF-8 once percent-decoded"
        ) from None
    except ValueError:
        raise AnveoError(
            Code.TOO_MANY_PARAMETERS, f"the query string has more than {QUERY_FIELDS_MAX} fields"
        ) from None


def parse_query(query: str) -> ActionRequest:
    """Map ``userkey=&action=&param[NAME]=&var[NAME]=`` (any order, any key case) to a request."""
    userkey: str | None = None
    action: str | None = None
    params: list[tuple[str, str]] = []
    variables: list[tuple[str, str]] = []
    for key, value in _pairs(query):
        lower = key.strip().lower()
        bad = NOT_XML_CHAR.search(value) or NOT_XML_CHAR.search(key)
        if bad:
            raise AnveoError(
                Code.BAD_QUERY,
                f"query field {shown(key)} holds a character XML "
                f"cannot carry ({shown(bad.group())})",
            )
        if len(value) > VALUE_MAX:
            raise AnveoError(
                Code.INVALID_PARAMETER,
                f"query field {shown(key)} is longer than {VALUE_MAX} characters",
            )
        if lower == "userkey":
            if userkey is not None:
                raise AnveoError(Code.DUPLICATE_PARAMETER, "userkey appears more than once")
            userkey = value.strip(XML_SPACE)
        elif lower == "action":
            if action is not None:
                raise AnveoError(Code.DUPLICATE_PARAMETER, "action appears more than once")
            action = value.strip(XML_SPACE)
        elif lower.startswith(("param[", "var[")) and lower.endswith("]"):
            inner = key.strip()[key.strip().index("[") + 1 : -1].strip(XML_SPACE)
            if not 0 < len(inner) <= NAME_MAX:
                raise AnveoError(
                    Code.BAD_QUERY,
                    f"query field {shown(key)} needs a name of "
                    f"1 to {NAME_MAX} characters inside the "
                    "brackets",
                )
            target = params if lower.startswith("param[") else variables
            target.append((inner, value.strip(XML_SPACE)))
        else:
            raise AnveoError(
                Code.BAD_QUERY,
                f"unknown query field {shown(key)}; expected "
                "userkey, action, param[NAME] or var[NAME]",
            )
    if not userkey:
        raise AnveoError(Code.MISSING_USERKEY, "the query has no userkey (or it is empty)")
    if not _USERKEY.fullmatch(userkey):
        raise AnveoError(Code.ENVELOPE, f"userkey must be {USERKEY.rule}, got {shown(userkey)}")
    if not action:
        raise AnveoError(Code.MISSING_ACTION, "the query has no action (e.g. action=DIAL.CONNECT)")
    if len(params) + len(variables) > PARAMETERS_MAX:
        raise AnveoError(
            Code.TOO_MANY_PARAMETERS,
            f"the query has more than {PARAMETERS_MAX} param[] and var[] fields",
        )
    for name, _ in params:
        if name == "VARIABLE":
            raise AnveoError(
                Code.BAD_QUERY,
                "in the GET door a VARIABLE is sent as var[NAME]=VALUE, not param[VARIABLE]",
            )
    return ActionRequest(userkey, action, tuple(params), tuple(variables))


def userkey_of(query: str) -> str | None:
    """The userkey a refused query names (field name in any letter case), or None.

    Used only to journal a refusal on the tenant it concerns; the caller looks the key up.
    """
    for field in query.split("&", QUERY_FIELDS_MAX)[:QUERY_FIELDS_MAX]:
        name, _, value = field.partition("=")
        if unquote_plus(name).strip().lower() == "userkey":
            return unquote_plus(value, errors="replace").strip(XML_SPACE) or None
    return None
