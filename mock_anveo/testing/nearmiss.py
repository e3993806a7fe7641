"""Hypothesis strategies for near misses: valid requests with exactly one rule broken.

Public through ``mock_anveo.strategies``. The value rules broken (ranges, lengths, which
action takes what) are read from ``mock_anveo.contract``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from hypothesis import strategies as st

from .. import contract
from ..contract import (
    BILLINGCODE,
    CALLFLOW_KEY,
    DELAY,
    DURATION,
    FLAG,
    MEMO,
    PHONE,
    REQUESTID,
    VARIABLES_MAX,
)
from ..sim.accounts import DEFAULT_CALLFLOW, DOCS_CALLERID, DOCS_USERKEY
from ..wire.requests import ActionRequest
from . import mistakes
from .mistakes import NearMiss, always, bound_to, has_required, length_text, range_text, takes
from .valid import ACTIONS, DOORS, Account, account_of, drawable, requests


@dataclass(frozen=True, slots=True)
class _Rule:
    what: str
    code: str
    applies: mistakes.Applies
    mutate: mistakes.Mutate | None = None  # None: a mistake of the door's syntax (below)
    doors: tuple[str, ...] = DOORS


_XML, _V2 = ("v3",), ("v2",)
_RULES: dict[str, _Rule] = {
    "missing-required": _Rule(
        "a required parameter is left out",
        "MISSING_PARAMETER",
        has_required,
        mistakes.missing,
    ),
    "empty-required": _Rule(
        "a required parameter is sent empty",
        "MISSING_PARAMETER",
        has_required,
        mistakes.empty,
    ),
    "bad-phone": _Rule(
        "a phone number with '+', spaces or dashes, letters, or the wrong length",
        "INVALID_PARAMETER",
        takes(PHONE),
        mistakes.bad_phone,
    ),
    "delay-out-of-range": _Rule(
        f"DELAY {range_text(DELAY)}",
        "INVALID_PARAMETER",
        takes(DELAY),
        mistakes.out_of_range(DELAY),
    ),
    "duration-out-of-range": _Rule(
        f"MAXCALLDURATION {range_text(DURATION)}",
        "INVALID_PARAMETER",
        takes(DURATION),
        mistakes.out_of_range(DURATION),
    ),
    "memo-too-long": _Rule(
        f"MEMO {length_text(MEMO)}", "INVALID_PARAMETER", takes(MEMO), mistakes.too_long(MEMO)
    ),
    "billingcode-too-long": _Rule(
        f"BILLINGCODE {length_text(BILLINGCODE)}",
        "INVALID_PARAMETER",
        takes(BILLINGCODE),
        mistakes.too_long(BILLINGCODE),
    ),
    "bad-requestid": _Rule(
        "REQUESTID of 39 or 41 hex digits, or with a non-hex character",
        "INVALID_PARAMETER",
        takes(REQUESTID),
        mistakes.bad_requestid,
    ),
    "bad-callflow": _Rule(
        "CALLFLOW key of the wrong length or with punctuation",
        "INVALID_PARAMETER",
        takes(CALLFLOW_KEY),
        mistakes.bad_callflow,
    ),
    "bad-test-flag": _Rule(
        "TEST other than TRUE/FALSE (yes, 1, Y)",
        "INVALID_PARAMETER",
        takes(FLAG),
        mistakes.bad_flag,
    ),
    "unknown-parameter": _Rule(
        "a parameter the action does not take (a plausible wrong name)",
        "UNKNOWN_PARAMETER",
        always,
        mistakes.unknown_param,
    ),
    "lower-case-parameter": _Rule(
        "a parameter name not in upper case",
        "WRONG_CASE",
        lambda r, _a: bool(r.params),
        mistakes.lower_param,
    ),
    "duplicate-parameter": _Rule(
        "the same parameter twice",
        "DUPLICATE_PARAMETER",
        lambda r, _a: bool(r.params),
        mistakes.duplicate,
    ),
    "lower-case-action": _Rule(
        "the ACTION NAME not in upper case", "WRONG_CASE", always, mistakes.lower_action
    ),
    "unknown-action": _Rule(
        "a misspelt ACTION NAME", "UNKNOWN_ACTION", always, mistakes.unknown_action
    ),
    "variable-not-taken": _Rule(
        "a VARIABLE on an action that takes none",
        "UNKNOWN_PARAMETER",
        lambda r, _a: not contract.ACTIONS[r.action].variables,
        mistakes.variable,
    ),
    "bad-variable-name": _Rule(
        "a VARIABLENAME starting with a digit or holding '-' or a space",
        "INVALID_PARAMETER",
        lambda r, _a: contract.ACTIONS[r.action].variables,
        mistakes.bad_variable,
    ),
    "too-many-variables": _Rule(
        f"{VARIABLES_MAX + 1} VARIABLEs",
        "TOO_MANY_PARAMETERS",
        lambda r, _a: contract.ACTIONS[r.action].variables,
        mistakes.many_variables,
    ),
    "unknown-userkey": _Rule(
        "a well-formed USERKEY no account has",
        "UNKNOWN_USERKEY",
        always,
        mistakes.unknown_key,
    ),
    "unverified-callerid": _Rule(
        "a CALLERID the account has not verified",
        "UNVERIFIED_CALLERID",
        bound_to("callerids"),
        mistakes.unverified,
    ),
    "unknown-callflow": _Rule(
        "a well-formed CALLFLOW key the account does not have",
        "UNKNOWN_CALLFLOW",
        bound_to("callflows"),
        mistakes.unknown_callflow,
    ),
    "wrong-signature": _Rule(
        "a well-formed SIGNATURE that is not the account's (when given one)",
        "BAD_SIGNATURE",
        lambda _r, a: bool(a["signature"]),
        mistakes.wrong_signature,
    ),
    "lower-case-tag": _Rule(
        "XML only: an element name not in upper case (<userkey>)",
        "WRONG_CASE",
        always,
        doors=_XML,
    ),
    "missing-usertoken": _Rule(
        "XML only: no <USERTOKEN> element", "MISSING_USERTOKEN", always, doors=_XML
    ),
    "truncated": _Rule(
        "XML only: the document cut off before </REQUEST>",
        "MALFORMED_XML",
        always,
        doors=_XML,
    ),
    "unescaped-ampersand": _Rule(
        "XML only: a raw '&' in a value (AT&T instead of AT&amp;T)",
        "MALFORMED_XML",
        always,
        doors=_XML,
    ),
    "form-to-xml-door": _Rule(
        "XML only: a GET-door query string posted instead of XML",
        "MALFORMED_XML",
        always,
        doors=_XML,
    ),
    "param-variable": _Rule(
        "v2 only: param[VARIABLE]= instead of var[NAME]=", "BAD_QUERY", always, doors=_V2
    ),
    "unknown-query-field": _Rule(
        "v2 only: a query field other than userkey, action, param[], var[]",
        "BAD_QUERY",
        always,
        doors=_V2,
    ),
    "missing-userkey": _Rule("v2 only: no userkey field", "MISSING_USERKEY", always, doors=_V2),
}

#: name -> what the mistake is. Each near miss breaks exactly this one rule.
NEAR_MISSES: dict[str, str] = {name: rule.what for name, rule in _RULES.items()}


def _fits(name: str, door: str, request: ActionRequest, account: Account) -> bool:
    rule = _RULES[name]
    return door in rule.doors and rule.applies(request, account)


@st.composite
def _near_miss(
    draw: st.DrawFn,
    base: st.SearchStrategy[ActionRequest],
    door: str,
    names: tuple[str, ...],
    account: Account,
) -> NearMiss:
    request = draw(base)
    name = draw(st.sampled_from([n for n in names if _fits(n, door, request, account)]))
    rule = _RULES[name]
    xml: bytes | None = None
    query: str | None = None
    if rule.mutate is not None:
        broken = rule.mutate(draw, request, account)
        if door == "v2":
            query = broken.to_query()
        else:
            xml = broken.to_xml()
    elif door == "v2":
        query = mistakes.v2_mistake(draw, name, request)
    else:
        xml = mistakes.xml_mistake(draw, name, request)
    return NearMiss(name, rule.code, door, xml, query, request)


def near_misses(
    action: str | None = None,
    *,
    door: str = "v3",
    names: Iterable[str] | None = None,
    userkey: str = DOCS_USERKEY,
    callerids: Sequence[str] = (DOCS_CALLERID,),
    callflows: Sequence[str] = (DEFAULT_CALLFLOW,),
    requestids: Sequence[str] | None = None,
    signature: str | None = None,
) -> st.SearchStrategy[NearMiss]:
    """Requests one mistake away from valid, for ``door`` "v3" (XML) or "v2" (GET).

    ``names`` limits the mistakes to some of ``NEAR_MISSES``; the rest is as for ``requests``.
    """
    if door not in DOORS:
        raise ValueError(f"door must be 'v3' or 'v2', got {door!r}")
    chosen = tuple(NEAR_MISSES) if names is None else tuple(names)
    unknown = [n for n in chosen if n not in NEAR_MISSES]
    if unknown:
        raise ValueError(f"unknown near misses {unknown}; known: {list(NEAR_MISSES)}")
    account = account_of(callerids, callflows, requestids, signature)
    # Pick the action first, among those some chosen mistake fits, so no draw is wasted. A
    # request holding only its required parameters stands for its action: the rules depend on
    # the action and on parameters being present, and a drawn request has at least those.
    fitting = [
        a
        for a in ([action] if action else ACTIONS)
        if drawable(a, account) and any(_fits(n, door, _bare(userkey, a), account) for n in chosen)
    ]
    if not fitting:
        raise ValueError(
            f"none of {list(chosen)} applies to {action or 'any action'} through door {door!r}"
        )
    base = st.sampled_from(fitting).flatmap(
        lambda a: requests(
            a,
            userkey=userkey,
            callerids=callerids,
            callflows=callflows,
            requestids=requestids,
            signature=signature,
            door=door,
        )
    )
    return _near_miss(base, door, chosen, account)


def _bare(userkey: str, action: str) -> ActionRequest:
    return ActionRequest(userkey, action, tuple((n, "1") for n in contract.required(action)))
