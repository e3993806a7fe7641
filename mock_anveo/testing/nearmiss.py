"""Hypothesis strategies for near misses: valid requests with exactly one rule broken.

Public through ``mock_anveo.strategies``. The value rules broken (ranges, lengths, which
action takes what) are read from ``mock_anveo.contract``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

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
    Kind,
)
from ..sim.accounts import DEFAULT_CALLFLOW, DOCS_CALLERID, DOCS_USERKEY
from ..wire.requests import ActionRequest, query_field
from .valid import ACTIONS, DOORS, Account, account_of, drawable, hex40, phone_numbers, requests


@dataclass(frozen=True, slots=True)
class NearMiss:
    """A request one mistake away from valid: which mistake, the error code, the payload.

    ``xml`` is set for door "v3" (POST it to /api/v3.asp or /apicall.asp), ``query`` for "v2".
    """

    name: str
    code: str
    door: str
    xml: bytes | None
    query: str | None
    base: ActionRequest


_Mutate = Callable[[st.DrawFn, ActionRequest, Account], ActionRequest]
_Applies = Callable[[ActionRequest, Account], bool]


def _set(request: ActionRequest, name: str, value: str) -> ActionRequest:
    kept = tuple(p for p in request.params if p[0] != name)
    return replace(request, params=(*kept, (name, value)))


def _takes(kind: Kind) -> _Applies:
    return lambda r, _a: bool(contract.by_kind(r.action, kind))


def _missing(draw: st.DrawFn, r: ActionRequest, _a: Account) -> ActionRequest:
    gone = draw(st.sampled_from(contract.required(r.action)))
    return replace(r, params=tuple(p for p in r.params if p[0] != gone))


def _empty(draw: st.DrawFn, r: ActionRequest, _a: Account) -> ActionRequest:
    return _set(r, draw(st.sampled_from(contract.required(r.action))), "")


def _bad_phone(draw: st.DrawFn, r: ActionRequest, _a: Account) -> ActionRequest:
    digits = st.from_regex(r"[0-9]{10,11}", fullmatch=True)
    low, high = contract.PHONE_DIGITS
    value = draw(st.one_of(
        digits.map(lambda d: "+" + d), digits.map(lambda d: f"{d[:1]} {d[1:4]} {d[4:]}"),
        digits.map(lambda d: f"{d[:4]}-{d[4:]}"),
        st.from_regex(f"[0-9]{{1,{low - 1}}}", fullmatch=True),
        st.from_regex(f"[0-9]{{{high + 1},{high + 5}}}", fullmatch=True),
        st.just("1215CALLNOW")))
    phones = contract.by_kind(r.action, PHONE)
    present = [n for n, _ in r.params if n in phones]
    return _set(r, draw(st.sampled_from(present or list(phones))), value)


def _out_of_range(kind: Kind) -> _Mutate:
    def mutate(draw: st.DrawFn, r: ActionRequest, _a: Account) -> ActionRequest:
        assert kind.low is not None and kind.high is not None
        value = draw(st.one_of(st.integers(kind.high + 1, 10**9).map(str),
                               st.just(str(kind.low - 1)), st.just("1.5"), st.just("10m")))
        return _set(r, contract.by_kind(r.action, kind)[0], value)
    return mutate


def _too_long(kind: Kind) -> _Mutate:
    def mutate(draw: st.DrawFn, r: ActionRequest, _a: Account) -> ActionRequest:
        # ASCII letters: long enough to break the rule, short enough for a GET request line.
        assert kind.max_length is not None
        size = draw(st.integers(kind.max_length + 1, kind.max_length + 76))
        name = contract.by_kind(r.action, kind)[0]
        return _set(r, name, draw(st.text("abcXYZ", min_size=size, max_size=size)))
    return mutate


def _bad_requestid(draw: st.DrawFn, r: ActionRequest, _a: Account) -> ActionRequest:
    return _set(r, "REQUESTID", draw(st.one_of(
        st.from_regex(r"[0-9a-f]{39}", fullmatch=True),
        st.from_regex(r"[0-9a-f]{41}", fullmatch=True),
        st.from_regex(r"[0-9a-f]{39}[g-z]", fullmatch=True))))


def _bad_callflow(draw: st.DrawFn, r: ActionRequest, _a: Account) -> ActionRequest:
    return _set(r, "CALLFLOW", draw(st.one_of(
        st.from_regex(r"[0-9a-z]{39}", fullmatch=True),
        st.from_regex(r"[0-9a-z]{41}", fullmatch=True),
        st.from_regex(r"[0-9a-z]{20}-[0-9a-z]{19}", fullmatch=True))))


def _bad_flag(draw: st.DrawFn, r: ActionRequest, _a: Account) -> ActionRequest:
    return _set(r, "TEST", draw(st.sampled_from(["yes", "1", "Y", "on"])))


def _unknown_param(draw: st.DrawFn, r: ActionRequest, _a: Account) -> ActionRequest:
    name = draw(st.sampled_from(["PHONE", "DESTINATION", "CALLER_ID", "DELAYMINUTES", "APIKEY"]))
    return replace(r, params=(*r.params, (name, "1")))


def _lower_param(draw: st.DrawFn, r: ActionRequest, _a: Account) -> ActionRequest:
    index = draw(st.integers(0, len(r.params) - 1))
    name, value = r.params[index]
    renamed = draw(st.sampled_from([name.lower(), name.capitalize()]))
    return replace(r, params=(*r.params[:index], (renamed, value), *r.params[index + 1:]))


def _duplicate(draw: st.DrawFn, r: ActionRequest, _a: Account) -> ActionRequest:
    return replace(r, params=(*r.params, draw(st.sampled_from(r.params))))


def _lower_action(draw: st.DrawFn, r: ActionRequest, _a: Account) -> ActionRequest:
    return replace(r, action=draw(st.sampled_from([r.action.lower(), r.action.title()])))


def _unknown_action(draw: st.DrawFn, r: ActionRequest, _a: Account) -> ActionRequest:
    typo = draw(st.sampled_from([r.action[:-1], r.action + "S", r.action.replace(".", "_"),
                                 r.action.replace(".", "")]))
    return replace(r, action=typo)


def _variable(_draw: st.DrawFn, r: ActionRequest, _a: Account) -> ActionRequest:
    return replace(r, variables=(("ACCOUNTID", "8732123"),))


def _bad_variable(draw: st.DrawFn, r: ActionRequest, _a: Account) -> ActionRequest:
    name = draw(st.sampled_from(["1ACCOUNT", "ACCOUNT-ID", "ACCOUNT ID"]))
    return replace(r, variables=((name, "1"), *r.variables[:5]))


def _many_variables(_draw: st.DrawFn, r: ActionRequest, _a: Account) -> ActionRequest:
    return replace(r, variables=tuple((f"V{i}", "1") for i in range(VARIABLES_MAX + 1)))


def _unknown_key(draw: st.DrawFn, r: ActionRequest, _a: Account) -> ActionRequest:
    # Upper-case letters: the server's own random userkeys are lower case, so never taken.
    return replace(r, userkey=draw(st.from_regex(r"[A-Z]{40}", fullmatch=True)))


def _other(known: Iterable[str], values: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    taken = set(known)
    return values.filter(lambda v: v not in taken)


def _unverified(draw: st.DrawFn, r: ActionRequest, a: Account) -> ActionRequest:
    return _set(r, "CALLERID", draw(_other(a["callerids"], phone_numbers())))


def _unknown_callflow(draw: st.DrawFn, r: ActionRequest, a: Account) -> ActionRequest:
    key = st.from_regex(r"[0-9a-z]{40}", fullmatch=True)
    return _set(r, "CALLFLOW", draw(_other(a["callflows"], key)))


def _wrong_signature(draw: st.DrawFn, r: ActionRequest, a: Account) -> ActionRequest:
    return _set(r, "SIGNATURE", draw(_other([v.lower() for v in a["signature"]], hex40())))


def _always(_r: ActionRequest, _a: Account) -> bool:
    return True


def _has_required(r: ActionRequest, _a: Account) -> bool:
    return bool(contract.required(r.action))


def _bound_to(setting: str) -> _Applies:
    return lambda r, _a: any(p.account == setting for p in contract.ACTIONS[r.action].params)


@dataclass(frozen=True, slots=True)
class _Rule:
    what: str
    code: str
    applies: _Applies
    mutate: _Mutate | None = None  # None: a mistake of the door's syntax (below)
    doors: tuple[str, ...] = DOORS


def _range(kind: Kind) -> str:
    return f"below {kind.low}, fractional, with a unit, or beyond {kind.high} minutes"


def _length(kind: Kind) -> str:
    assert kind.max_length is not None
    return f"of {kind.max_length + 1} to {kind.max_length + 76} characters"


_XML, _V2 = ("v3",), ("v2",)
_RULES: dict[str, _Rule] = {
    "missing-required": _Rule("a required parameter is left out", "MISSING_PARAMETER",
                              _has_required, _missing),
    "empty-required": _Rule("a required parameter is sent empty", "MISSING_PARAMETER",
                            _has_required, _empty),
    "bad-phone": _Rule("a phone number with '+', spaces or dashes, letters, or the wrong length",
                       "INVALID_PARAMETER", _takes(PHONE), _bad_phone),
    "delay-out-of-range": _Rule(f"DELAY {_range(DELAY)}", "INVALID_PARAMETER", _takes(DELAY),
                                _out_of_range(DELAY)),
    "duration-out-of-range": _Rule(f"MAXCALLDURATION {_range(DURATION)}", "INVALID_PARAMETER",
                                   _takes(DURATION), _out_of_range(DURATION)),
    "memo-too-long": _Rule(f"MEMO {_length(MEMO)}", "INVALID_PARAMETER", _takes(MEMO),
                           _too_long(MEMO)),
    "billingcode-too-long": _Rule(f"BILLINGCODE {_length(BILLINGCODE)}", "INVALID_PARAMETER",
                                  _takes(BILLINGCODE), _too_long(BILLINGCODE)),
    "bad-requestid": _Rule("REQUESTID of 39 or 41 hex digits, or with a non-hex character",
                           "INVALID_PARAMETER", _takes(REQUESTID), _bad_requestid),
    "bad-callflow": _Rule("CALLFLOW key of the wrong length or with punctuation",
                          "INVALID_PARAMETER", _takes(CALLFLOW_KEY), _bad_callflow),
    "bad-test-flag": _Rule("TEST other than TRUE/FALSE (yes, 1, Y)", "INVALID_PARAMETER",
                           _takes(FLAG), _bad_flag),
    "unknown-parameter": _Rule("a parameter the action does not take (a plausible wrong name)",
                               "UNKNOWN_PARAMETER", _always, _unknown_param),
    "lower-case-parameter": _Rule("a parameter name not in upper case", "WRONG_CASE",
                                  lambda r, _a: bool(r.params), _lower_param),
    "duplicate-parameter": _Rule("the same parameter twice", "DUPLICATE_PARAMETER",
                                 lambda r, _a: bool(r.params), _duplicate),
    "lower-case-action": _Rule("the ACTION NAME not in upper case", "WRONG_CASE", _always,
                               _lower_action),
    "unknown-action": _Rule("a misspelt ACTION NAME", "UNKNOWN_ACTION", _always,
                            _unknown_action),
    "variable-not-taken": _Rule("a VARIABLE on an action that takes none", "UNKNOWN_PARAMETER",
                                lambda r, _a: not contract.ACTIONS[r.action].variables,
                                _variable),
    "bad-variable-name": _Rule("a VARIABLENAME starting with a digit or holding '-' or a space",
                               "INVALID_PARAMETER",
                               lambda r, _a: contract.ACTIONS[r.action].variables,
                               _bad_variable),
    "too-many-variables": _Rule(f"{VARIABLES_MAX + 1} VARIABLEs", "TOO_MANY_PARAMETERS",
                                lambda r, _a: contract.ACTIONS[r.action].variables,
                                _many_variables),
    "unknown-userkey": _Rule("a well-formed USERKEY no account has", "UNKNOWN_USERKEY",
                             _always, _unknown_key),
    "unverified-callerid": _Rule("a CALLERID the account has not verified",
                                 "UNVERIFIED_CALLERID", _bound_to("callerids"), _unverified),
    "unknown-callflow": _Rule("a well-formed CALLFLOW key the account does not have",
                              "UNKNOWN_CALLFLOW", _bound_to("callflows"), _unknown_callflow),
    "wrong-signature": _Rule("a well-formed SIGNATURE that is not the account's (when given "
                             "one)", "BAD_SIGNATURE", lambda _r, a: bool(a["signature"]),
                             _wrong_signature),
    "lower-case-tag": _Rule("XML only: an element name not in upper case (<userkey>)",
                            "WRONG_CASE", _always, doors=_XML),
    "missing-usertoken": _Rule("XML only: no <USERTOKEN> element", "MISSING_USERTOKEN",
                               _always, doors=_XML),
    "truncated": _Rule("XML only: the document cut off before </REQUEST>", "MALFORMED_XML",
                       _always, doors=_XML),
    "unescaped-ampersand": _Rule("XML only: a raw '&' in a value (AT&T instead of AT&amp;T)",
                                 "MALFORMED_XML", _always, doors=_XML),
    "form-to-xml-door": _Rule("XML only: a GET-door query string posted instead of XML",
                              "MALFORMED_XML", _always, doors=_XML),
    "param-variable": _Rule("v2 only: param[VARIABLE]= instead of var[NAME]=", "BAD_QUERY",
                            _always, doors=_V2),
    "unknown-query-field": _Rule("v2 only: a query field other than userkey, action, param[], "
                                 "var[]", "BAD_QUERY", _always, doors=_V2),
    "missing-userkey": _Rule("v2 only: no userkey field", "MISSING_USERKEY", _always,
                             doors=_V2),
}

#: name -> what the mistake is. Each near miss breaks exactly this one rule.
NEAR_MISSES: dict[str, str] = {name: rule.what for name, rule in _RULES.items()}


def _xml_mistake(draw: st.DrawFn, name: str, r: ActionRequest) -> bytes:
    text = r.to_xml().decode("utf-8")
    if name == "lower-case-tag":
        tag = draw(st.sampled_from(["USERTOKEN", "USERKEY", "ACTION"]))
        text = text.replace(f"<{tag}", f"<{tag.lower()}").replace(f"</{tag}>",
                                                                  f"</{tag.lower()}>")
    elif name == "missing-usertoken":
        text = text[:text.index("<USERTOKEN>")] + text[text.index("</USERTOKEN>") + 12:]
    elif name == "truncated":
        # Cut just after a tag, inside <REQUEST>: never inside an escaped character.
        start, end = text.index("<REQUEST>") + len("<REQUEST>"), text.rindex("</REQUEST>")
        cuts = [i + 1 for i in range(start, end) if text[i] == ">"]
        text = text[:draw(st.sampled_from(cuts))] if cuts else text[:end]
    elif name == "unescaped-ampersand":
        return _set(r, "TEST", "FALSE").to_xml().replace(b">FALSE<", b">FALSE & TRUE<")
    else:  # form-to-xml-door
        return r.to_query().encode("utf-8")
    return text.encode("utf-8")


def _v2_mistake(draw: st.DrawFn, name: str, r: ActionRequest) -> str:
    query = r.to_query()
    if name == "param-variable":
        return query + "&" + query_field("param[VARIABLE]", "1")
    if name == "unknown-query-field":
        field = draw(st.sampled_from(["apikey", "key", "param", "format", "callback"]))
        return query + "&" + query_field(field, "1")
    return query.split("&", 1)[1]  # missing-userkey: it is always the first field


def _fits(name: str, door: str, request: ActionRequest, account: Account) -> bool:
    rule = _RULES[name]
    return door in rule.doors and rule.applies(request, account)


@st.composite
def _near_miss(draw: st.DrawFn, base: st.SearchStrategy[ActionRequest], door: str,
               names: tuple[str, ...], account: Account) -> NearMiss:
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
        query = _v2_mistake(draw, name, request)
    else:
        xml = _xml_mistake(draw, name, request)
    return NearMiss(name, rule.code, door, xml, query, request)


def near_misses(action: str | None = None, *, door: str = "v3",
                names: Iterable[str] | None = None, userkey: str = DOCS_USERKEY,
                callerids: Sequence[str] = (DOCS_CALLERID,),
                callflows: Sequence[str] = (DEFAULT_CALLFLOW,),
                requestids: Sequence[str] | None = None,
                signature: str | None = None) -> st.SearchStrategy[NearMiss]:
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
    fitting = [a for a in ([action] if action else ACTIONS) if drawable(a, account)
               and any(_fits(n, door, _bare(userkey, a), account) for n in chosen)]
    if not fitting:
        raise ValueError(f"none of {list(chosen)} applies to {action or 'any action'} "
                         f"through door {door!r}")
    base = st.sampled_from(fitting).flatmap(
        lambda a: requests(a, userkey=userkey, callerids=callerids, callflows=callflows,
                           requestids=requestids, signature=signature, door=door))
    return _near_miss(base, door, chosen, account)


def _bare(userkey: str, action: str) -> ActionRequest:
    return ActionRequest(userkey, action, tuple((n, "1") for n in contract.required(action)))
