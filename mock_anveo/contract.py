"""The API contract as data: actions, their parameters, value kinds and bounds (stdlib only).

One table read by ``wire/`` (the registry, the explanations of a refusal), by ``testing/``
(the Hypothesis strategies) and checked against ``wire/schemas/*.xsd`` and the docs by
``tests/test_contract.py``. Anveo documents the actions and most parameters; the bounds it
leaves open are the mock's choices (docs/compatibility.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "ACTIONS",
    "BILLINGCODE",
    "CALLFLOW_KEY",
    "DELAY",
    "DURATION",
    "FLAG",
    "MEMO",
    "NAME_MAX",
    "PARAMETERS_MAX",
    "PHONE",
    "PHONE_DIGITS",
    "QUERY_FIELDS_MAX",
    "REQUESTID",
    "SIGNATURE",
    "USERKEY",
    "USERKEY_MAX",
    "VALUE_MAX",
    "VARIABLES_MAX",
    "VARIABLE_NAME",
    "VARIABLE_VALUE",
    "XML_SPACE",
    "ActionSpec",
    "Kind",
    "Param",
    "by_kind",
    "required",
]


@dataclass(frozen=True, slots=True)
class Kind:
    """A kind of value: a full-match pattern (also an XSD pattern), an optional whole-number
    range, an optional length bound, the XSD type that states the same rule, and the rule in
    words for error messages."""

    name: str
    rule: str
    xsd_type: str
    pattern: str | None = None
    low: int | None = None
    high: int | None = None
    max_length: int | None = None

    def compiled(self) -> re.Pattern[str]:
        """The rule as a ``fullmatch`` pattern (ASCII classes, '.' matching any character);
        the range, when there is one, is checked apart."""
        if self.pattern is not None:
            source = self.pattern
        elif self.max_length is not None:
            source = f".{{0,{self.max_length}}}"
        else:
            source = ".*"
        return re.compile(source, re.ASCII | re.DOTALL)


#: E.164 allows at most 15 digits; 7 is the shortest national number in use.
PHONE_DIGITS = (7, 15)
PHONE = Kind(
    "phone number",
    f"{PHONE_DIGITS[0]} to {PHONE_DIGITS[1]} digits with the country "
    "code and no '+', spaces or dashes (e.g. 12157010680)",
    "PhoneNumber",
    pattern=f"[0-9]{{{PHONE_DIGITS[0]},{PHONE_DIGITS[1]}}}",
)
#: Anveo: DELAY is 0 to 86400 minutes (60 days).
DELAY = Kind(
    "whole minutes",
    "a whole number of minutes from 0 to 86400",
    "DelayMinutes",
    pattern="[0-9]+",
    low=0,
    high=86400,
)
#: Anveo states no bound for MAXCALLDURATION; the mock takes 1 minute to 24 hours.
DURATION = Kind(
    "whole minutes",
    "a whole number of minutes from 1 to 1440",
    "CallMinutes",
    pattern="[0-9]+",
    low=1,
    high=1440,
)
MEMO = Kind("free text", "at most 1024 characters", "Memo", max_length=1024)
BILLINGCODE = Kind("free text", "at most 255 characters", "BillingCode", max_length=255)
#: Anveo documents TEST=TRUE; FALSE and other letter cases are accepted leniently.
FLAG = Kind("flag", "TRUE or FALSE", "Flag", pattern="[Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee]")
CALLFLOW_KEY = Kind(
    "40-char key",
    "the call flow's 40-character API key (letters and digits)",
    "Key40",
    pattern="[0-9A-Za-z]{40}",
)
REQUESTID = Kind(
    "40 hex",
    "40 hexadecimal characters, as returned by DIAL.CONNECT or DIAL.CALLFLOW",
    "Hex40",
    pattern="[0-9a-fA-F]{40}",
)
SIGNATURE = Kind(
    "40 hex",
    "40 hexadecimal characters: HMAC-SHA1 of the account's e-mail keyed by its secure phrase",
    "Hex40",
    pattern="[0-9a-fA-F]{40}",
)
VARIABLE_NAME = Kind(
    "variable name",
    "a letter or '_' then up to 63 letters, digits or '_'",
    "VariableName",
    pattern="[A-Za-z_][A-Za-z0-9_]{0,63}",
)
VARIABLE_VALUE = Kind("free text", "at most 1024 characters", "VariableValue", max_length=1024)
#: VARIABLEs one DIAL.CALLFLOW may carry (each VARIABLENAME once).
VARIABLES_MAX = 50

# ---- envelope bounds (both XML doors and the GET door) -------------------------------------
#: What the mock trims from values and names: XML white space.
XML_SPACE = " \t\r\n"
#: Real keys are 40 characters; Anveo's own example key is not hex, so any printable ASCII
#: without spaces is taken and the account lookup decides.
USERKEY_MAX = 64
USERKEY = Kind(
    "user key",
    f"1 to {USERKEY_MAX} printable ASCII characters without spaces",
    "UserKey",
    pattern=f"[!-~]{{1,{USERKEY_MAX}}}",
)
#: ACTION NAME, PARAMETER NAME, VARIABLENAME and the names inside param[..] / var[..].
NAME_MAX = 64
#: PARAMETER elements in one <ACTION>, or param[] and var[] fields in one query.
PARAMETERS_MAX = 100
#: Characters in one value, before any per-kind rule: no value can make the server hold more.
VALUE_MAX = 4096
#: Fields in one GET-door query string.
QUERY_FIELDS_MAX = 200


@dataclass(frozen=True, slots=True)
class Param:
    """One parameter of an action. ``account`` names the account setting a valid value must
    also match ("callerids", "callflows", "requestids", "signature"), or is empty."""

    name: str
    kind: Kind
    required: bool = False
    account: str = ""


@dataclass(frozen=True, slots=True)
class ActionSpec:
    """One action: its parameters (TEST and SIGNATURE included) and whether it takes the
    repeatable VARIABLE (at most ``VARIABLES_MAX``, each a VARIABLE_NAME and VARIABLE_VALUE)."""

    name: str
    summary: str
    params: tuple[Param, ...]
    variables: bool = False


#: Accepted on every action (Anveo documents both for the DIAL actions).
_COMMON = (Param("TEST", FLAG), Param("SIGNATURE", SIGNATURE, account="signature"))
_BY_REQUESTID = (Param("REQUESTID", REQUESTID, True, "requestids"), *_COMMON)
_DIAL_OPTIONAL = (Param("DELAY", DELAY), Param("MEMO", MEMO), Param("BILLINGCODE", BILLINGCODE))

#: Every action the mock implements, by ACTION NAME.
ACTIONS: dict[str, ActionSpec] = {
    spec.name: spec
    for spec in (
        ActionSpec(
            "DIAL.CONNECT",
            "Ring PHONENUMBER, then DESTPHONENUMBER, and bridge them.",
            (
                Param("PHONENUMBER", PHONE, True),
                Param("DESTPHONENUMBER", PHONE, True),
                Param("MAXCALLDURATION", DURATION),
                Param("CALLERID", PHONE, account="callerids"),
                *_DIAL_OPTIONAL,
                *_COMMON,
            ),
        ),
        ActionSpec(
            "DIAL.CALLFLOW",
            "Ring PHONENUMBER and run the call flow CALLFLOW.",
            (
                Param("PHONENUMBER", PHONE, True),
                Param("CALLERID", PHONE, True, "callerids"),
                Param("CALLFLOW", CALLFLOW_KEY, True, "callflows"),
                *_DIAL_OPTIONAL,
                *_COMMON,
            ),
            variables=True,
        ),
        ActionSpec(
            "DIAL.GETSTATUS",
            "RESULT is the call's status: NONE, INIT, START or END.",
            _BY_REQUESTID,
        ),
        ActionSpec("DIAL.CANCEL", "Cancel a scheduled call or hang up a live one.", _BY_REQUESTID),
        ActionSpec(
            "DIAL.CALLFLOW.GETRESULT", "RESULT is what the call flow produced.", _BY_REQUESTID
        ),
        ActionSpec("ACCOUNT.GETBALANCE", "RESULT is the balance in USD.", _COMMON),
    )
}


def required(action: str) -> tuple[str, ...]:
    """The names of ``action``'s required parameters, in table order."""
    return tuple(p.name for p in ACTIONS[action].params if p.required)


def by_kind(action: str, *kinds: Kind) -> tuple[str, ...]:
    """The names of ``action``'s parameters of any of ``kinds``, in table order."""
    return tuple(p.name for p in ACTIONS[action].params if p.kind in kinds)
