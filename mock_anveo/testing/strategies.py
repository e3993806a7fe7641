"""Hypothesis strategies for property-testing your own Anveo client (needs the ``test`` extra).

Valid requests, per action:

- ``requests(action)``: ``AnveoRequest`` values (userkey, action, parameters, variables) that
  mock-anveo accepts for the account you describe (``userkey``, ``callerids``, ``callflows``,
  ``requestids``); render them yourself with ``to_xml()`` / ``to_query()``, or draw
- ``xml_requests(action)``: ``<REQUEST>`` documents (bytes) in the layouts real clients send
  (with or without declaration, any whitespace between elements, any parameter order), and
- ``v2_queries(action)``: GET-door query strings (any field order, ``userkey`` or ``USERKEY``).

DIAL.CONNECT and DIAL.CALLFLOW requests succeed (the account needs the balance for one minute
per leg); REQUESTID actions pass every check of the request's form, and succeed when
``requestids`` names requests the account owns in a state that allows the action.

Near misses: ``near_misses(action, door=...)`` draws a valid request and breaks exactly one
rule, the way clients get it wrong; each ``NearMiss`` carries its ``name`` (see ``NEAR_MISSES``)
and the error ``code`` mock-anveo reports for it (shown in the journal and control API).

Text values avoid control characters, surrogates and unassigned code points (XML 1.0 cannot
carry the first two) and never start or end with a space (the mock trims values), so what you
send is what the journal records.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from urllib.parse import quote

from hypothesis import strategies as st

from ..sim.accounts import DEFAULT_CALLFLOW, DOCS_CALLERID, DOCS_USERKEY

__all__ = ["ACTIONS", "NEAR_MISSES", "AnveoRequest", "NearMiss", "near_misses",
           "phone_numbers", "requests", "texts", "v2_queries", "xml_requests"]

ACTIONS = ("DIAL.CONNECT", "DIAL.CALLFLOW", "DIAL.GETSTATUS", "DIAL.CANCEL",
           "DIAL.CALLFLOW.GETRESULT", "ACCOUNT.GETBALANCE")
_BY_REQUESTID = ("DIAL.GETSTATUS", "DIAL.CANCEL", "DIAL.CALLFLOW.GETRESULT")
_DIALS = ("DIAL.CONNECT", "DIAL.CALLFLOW")
_BOTH = ("v3", "v2")
_REQUIRED = {"DIAL.CONNECT": ("PHONENUMBER", "DESTPHONENUMBER"),
             "DIAL.CALLFLOW": ("PHONENUMBER", "CALLERID", "CALLFLOW"),
             **{name: ("REQUESTID",) for name in _BY_REQUESTID}, "ACCOUNT.GETBALANCE": ()}

# ---- bounds (each from the contract, the mock's rules, or a door's size limit) ---------------
MEMO_MAX = 1024  # the mock's MEMO rule (Anveo states none)
BILLINGCODE_MAX = 255  # the mock's BILLINGCODE rule
VARIABLE_VALUE_MAX = 1024  # the mock's VARIABLE value rule
VARIABLES_MAX = 50  # the mock's MAX_VARIABLES per request
# The XML door takes 64 KiB bodies by default and a character costs at most 5 bytes there
# (4 in UTF-8, 5 as "&amp;"): 10 full-length VARIABLEs plus a full MEMO and BILLINGCODE stay
# under 60 KB, so long values come at most 10 at a time; the full 50 come 64 characters short.
XML_LONG_VARIABLES = 10
XML_SHORT_VALUE = 64
# The GET door travels in the request line, which aiohttp (like most servers) caps at 8190
# bytes; a character costs up to 12 bytes percent-encoded, so v2 text stays short:
# 2 x 100 (MEMO, BILLINGCODE) + 5 x 50 (VARIABLEs) characters = 5.4 KB at worst, plus names.
V2_TEXT_MAX = 100
V2_VARIABLES_MAX = 5
V2_VARIABLE_VALUE_MAX = 50


@dataclass(frozen=True, slots=True)
class AnveoRequest:
    """One API request as both doors carry it; render with ``to_xml()`` or ``to_query()``."""

    userkey: str
    action: str
    params: tuple[tuple[str, str], ...] = ()
    variables: tuple[tuple[str, str], ...] = ()

    def to_xml(self, *, declaration: str = '<?xml version="1.0" standalone="no" ?>',
               separator: str = "\n") -> bytes:
        """The ``<REQUEST>`` document, UTF-8; ``separator`` goes between elements."""
        lines = [declaration] if declaration else []
        lines += ["<REQUEST>", f"<USERTOKEN>{separator}<USERKEY>{_escape(self.userkey)}"
                               f"</USERKEY>{separator}</USERTOKEN>",
                  f'<ACTION NAME="{_escape(self.action)}">']
        lines += [f'<PARAMETER NAME="{_escape(n)}">{_escape(v)}</PARAMETER>'
                  for n, v in self.params]
        lines += [f'<PARAMETER NAME="VARIABLE" VARIABLENAME="{_escape(n)}">{_escape(v)}'
                  "</PARAMETER>" for n, v in self.variables]
        lines += ["</ACTION>", "</REQUEST>"]
        return separator.join(lines).encode("utf-8")

    def to_query(self, *, userkey_field: str = "userkey") -> str:
        """The GET-door query string, every name and value URL-encoded on its own."""
        fields = [(userkey_field, self.userkey), ("action", self.action)]
        fields += [(f"param[{n}]", v) for n, v in self.params]
        fields += [(f"var[{n}]", v) for n, v in self.variables]
        return "&".join(_field(n, v) for n, v in fields)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace(
        '"', "&quot;")


def _field(name: str, value: str) -> str:
    return f"{quote(name, safe='[]')}={quote(value, safe='')}"


# ---- values ---------------------------------------------------------------------------------
def phone_numbers() -> st.SearchStrategy[str]:
    """Numbers as Anveo wants them: 7 to 15 digits, country code included, no '+'."""
    return st.from_regex(r"[0-9]{7,15}", fullmatch=True)  # E.164: at most 15 digits


def texts(max_size: int) -> st.SearchStrategy[str]:
    """Free text that XML 1.0 can carry, without spaces at either end."""
    chars = st.characters(exclude_categories=("Cc", "Cs", "Cn"))
    return st.text(chars, max_size=max_size).map(lambda s: s.strip(" "))


def _hex40() -> st.SearchStrategy[str]:
    return st.from_regex(r"[0-9a-f]{40}", fullmatch=True)


def _variables(v2: bool) -> st.SearchStrategy[list[tuple[str, str]]]:
    names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,63}", fullmatch=True)  # the mock's rule

    def group(count: int, size: int) -> st.SearchStrategy[list[tuple[str, str]]]:
        return st.lists(st.tuples(names, texts(size)), max_size=count,
                        unique_by=lambda pair: pair[0])

    if v2:
        return group(V2_VARIABLES_MAX, V2_VARIABLE_VALUE_MAX)
    return st.one_of(group(XML_LONG_VARIABLES, VARIABLE_VALUE_MAX),
                     group(VARIABLES_MAX, XML_SHORT_VALUE))


@st.composite
def _request(draw: st.DrawFn, action: str | None, *, userkey: str, callerids: Sequence[str],
             callflows: Sequence[str], requestids: Sequence[str] | None,
             signature: str | None, v2: bool) -> AnveoRequest:
    choices = [a for a in ACTIONS if a != "DIAL.CALLFLOW" or (callerids and callflows)]
    name = action or draw(st.sampled_from(choices))
    text_max = V2_TEXT_MAX if v2 else None
    required: list[tuple[str, str]] = []
    optional: dict[str, st.SearchStrategy[str]] = {
        "TEST": st.sampled_from(["TRUE", "FALSE", "true", "True", "false"])}
    variables: list[tuple[str, str]] = []
    if name in _DIALS:
        required.append(("PHONENUMBER", draw(phone_numbers())))
        optional["DELAY"] = st.integers(0, 86400).map(str)  # Anveo: 0 to 60 days in minutes
        optional["MEMO"] = texts(text_max or MEMO_MAX)
        optional["BILLINGCODE"] = texts(text_max or BILLINGCODE_MAX)
    if name == "DIAL.CONNECT":
        required.append(("DESTPHONENUMBER", draw(phone_numbers())))
        optional["MAXCALLDURATION"] = st.integers(1, 1440).map(str)  # the mock: up to 24 h
        if callerids:
            optional["CALLERID"] = st.sampled_from(list(callerids))
    elif name == "DIAL.CALLFLOW":
        required.append(("CALLERID", draw(st.sampled_from(list(callerids)))))
        required.append(("CALLFLOW", draw(st.sampled_from(list(callflows)))))
        variables = draw(_variables(v2))
    elif name in _BY_REQUESTID:
        ids = st.sampled_from(list(requestids)) if requestids else _hex40()
        required.append(("REQUESTID", draw(ids)))
    picked = draw(st.lists(st.sampled_from(sorted(optional)), unique=True))
    params = required + [(p, draw(optional[p])) for p in picked]
    if signature is not None:
        params.append(("SIGNATURE", signature))
    params = draw(st.permutations(params))  # clients send parameters in any order
    return AnveoRequest(userkey, name, tuple(params), tuple(variables))


def requests(action: str | None = None, *, userkey: str = DOCS_USERKEY,
             callerids: Sequence[str] = (DOCS_CALLERID,),
             callflows: Sequence[str] = (DEFAULT_CALLFLOW,),
             requestids: Sequence[str] | None = None, signature: str | None = None,
             door: str = "v3") -> st.SearchStrategy[AnveoRequest]:
    """Valid requests of ``action`` (any action when None) for the account described.

    ``signature`` (the account's SIGNATURE) goes into every request when given. The defaults
    describe a fresh tenant (the ``anveo`` fixture's, or the documentation's
    account); ``requestids`` are REQUESTIDs to refer to (random ones when None); ``door="v2"``
    keeps text short enough for a GET request line.
    """
    if action is not None and action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}; known: {ACTIONS}")
    if action == "DIAL.CALLFLOW" and not (callerids and callflows):
        raise ValueError("DIAL.CALLFLOW needs a verified caller ID and a call flow key")
    if door not in _BOTH:
        raise ValueError(f"door must be 'v3' or 'v2', got {door!r}")
    return _request(action, userkey=userkey, callerids=tuple(callerids),
                    callflows=tuple(callflows),
                    requestids=None if requestids is None else tuple(requestids),
                    signature=signature, v2=door == "v2")


_DECLARATIONS = ('<?xml version="1.0" standalone="no" ?>', '<?xml version="1.0"?>',
                 '<?xml version="1.0" encoding="UTF-8"?>', "")
_SEPARATORS = ("\n", "", "\r\n", "\n\t", "  ", "\n\n")  # tabs and blank lines are fine


def xml_requests(action: str | None = None, *, userkey: str = DOCS_USERKEY,
                 callerids: Sequence[str] = (DOCS_CALLERID,),
                 callflows: Sequence[str] = (DEFAULT_CALLFLOW,),
                 requestids: Sequence[str] | None = None,
                 signature: str | None = None) -> st.SearchStrategy[bytes]:
    """Valid ``<REQUEST>`` documents (UTF-8 bytes) in the layouts real clients use."""
    return st.builds(lambda r, d, s: r.to_xml(declaration=d, separator=s),
                     requests(action, userkey=userkey, callerids=callerids,
                              callflows=callflows, requestids=requestids, signature=signature),
                     st.sampled_from(_DECLARATIONS), st.sampled_from(_SEPARATORS))


@st.composite
def _query(draw: st.DrawFn, request: AnveoRequest) -> str:
    fields = draw(st.permutations(request.to_query(
        userkey_field=draw(st.sampled_from(["userkey", "USERKEY"]))).split("&")))
    return "&".join(fields)


def v2_queries(action: str | None = None, *, userkey: str = DOCS_USERKEY,
               callerids: Sequence[str] = (DOCS_CALLERID,),
               callflows: Sequence[str] = (DEFAULT_CALLFLOW,),
               requestids: Sequence[str] | None = None,
               signature: str | None = None) -> st.SearchStrategy[str]:
    """Valid GET-door query strings (no leading '?'), fields in any order."""
    return requests(action, userkey=userkey, callerids=callerids, callflows=callflows,
                    requestids=requestids, signature=signature, door="v2").flatmap(_query)


# ---- near misses ----------------------------------------------------------------------------
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
    base: AnveoRequest


#: name -> what the mistake is. Each near miss breaks exactly this one rule.
NEAR_MISSES: dict[str, str] = {
    "missing-required": "a required parameter is left out",
    "empty-required": "a required parameter is sent empty",
    "bad-phone": "a phone number with '+', spaces or dashes, letters, or the wrong length",
    "delay-out-of-range": "DELAY negative, fractional, with a unit, or beyond 86400 minutes",
    "duration-out-of-range": "MAXCALLDURATION 0 or beyond 1440 minutes",
    "memo-too-long": "MEMO of 1025 to 1100 characters",
    "billingcode-too-long": "BILLINGCODE of 256 to 300 characters",
    "bad-requestid": "REQUESTID of 39 or 41 hex digits, or with a non-hex character",
    "bad-callflow": "CALLFLOW key of the wrong length or with punctuation",
    "bad-test-flag": "TEST other than TRUE/FALSE (yes, 1, Y)",
    "unknown-parameter": "a parameter the action does not take (a plausible wrong name)",
    "lower-case-parameter": "a parameter name not in upper case",
    "duplicate-parameter": "the same parameter twice",
    "lower-case-action": "the ACTION NAME not in upper case",
    "unknown-action": "a misspelt ACTION NAME",
    "variable-not-taken": "a VARIABLE on an action other than DIAL.CALLFLOW",
    "bad-variable-name": "a VARIABLENAME starting with a digit or holding '-' or a space",
    "too-many-variables": "51 VARIABLEs",
    "unknown-userkey": "a well-formed USERKEY no account has",
    "unverified-callerid": "a CALLERID the account has not verified",
    "unknown-callflow": "a well-formed CALLFLOW key the account does not have",
    "wrong-signature": "a well-formed SIGNATURE that is not the account's (when given one)",
    "lower-case-tag": "XML only: an element name not in upper case (<userkey>)",
    "missing-usertoken": "XML only: no <USERTOKEN> element",
    "truncated": "XML only: the document cut off before </REQUEST>",
    "unescaped-ampersand": "XML only: a raw '&' in a value (AT&T instead of AT&amp;T)",
    "form-to-xml-door": "XML only: a GET-door query string posted instead of XML",
    "param-variable": "v2 only: param[VARIABLE]= instead of var[NAME]=",
    "unknown-query-field": "v2 only: a query field other than userkey, action, param[], var[]",
    "missing-userkey": "v2 only: no userkey field",
}

_Mutate = Callable[[st.DrawFn, AnveoRequest], AnveoRequest]
_PHONES = ("PHONENUMBER", "DESTPHONENUMBER", "CALLERID")


def _set(request: AnveoRequest, name: str, value: str) -> AnveoRequest:
    kept = tuple(p for p in request.params if p[0] != name)
    return replace(request, params=(*kept, (name, value)))


def _pick(draw: st.DrawFn, request: AnveoRequest, names: Iterable[str]) -> str:
    present = [n for n, _ in request.params if n in names]
    return draw(st.sampled_from(present))


def _missing(draw: st.DrawFn, r: AnveoRequest) -> AnveoRequest:
    gone = draw(st.sampled_from(_REQUIRED[r.action]))
    return replace(r, params=tuple(p for p in r.params if p[0] != gone))


def _empty(draw: st.DrawFn, r: AnveoRequest) -> AnveoRequest:
    return _set(r, draw(st.sampled_from(_REQUIRED[r.action])), "")


def _bad_phone(draw: st.DrawFn, r: AnveoRequest) -> AnveoRequest:
    digits = st.from_regex(r"[0-9]{10,11}", fullmatch=True)
    value = draw(st.one_of(
        digits.map(lambda d: "+" + d), digits.map(lambda d: f"{d[:1]} {d[1:4]} {d[4:]}"),
        digits.map(lambda d: f"{d[:4]}-{d[4:]}"), st.from_regex(r"[0-9]{1,6}", fullmatch=True),
        st.from_regex(r"[0-9]{16,20}", fullmatch=True), st.just("1215CALLNOW")))
    return _set(r, _pick(draw, r, _PHONES), value)


def _bad_delay(draw: st.DrawFn, r: AnveoRequest) -> AnveoRequest:
    value = draw(st.one_of(st.integers(86401, 10**9).map(str), st.just("-1"),
                           st.just("1.5"), st.just("10m")))
    return _set(r, "DELAY", value)


def _bad_duration(draw: st.DrawFn, r: AnveoRequest) -> AnveoRequest:
    return _set(r, "MAXCALLDURATION", draw(st.one_of(st.just("0"),
                                                     st.integers(1441, 10**6).map(str))))


def _long(name: str, low: int, high: int) -> _Mutate:
    def mutate(draw: st.DrawFn, r: AnveoRequest) -> AnveoRequest:
        # ASCII letters: long enough to break the rule, short enough for a GET request line.
        size = draw(st.integers(low, high))
        return _set(r, name, draw(st.text("abcXYZ", min_size=size, max_size=size)))
    return mutate


def _bad_requestid(draw: st.DrawFn, r: AnveoRequest) -> AnveoRequest:
    return _set(r, "REQUESTID", draw(st.one_of(
        st.from_regex(r"[0-9a-f]{39}", fullmatch=True),
        st.from_regex(r"[0-9a-f]{41}", fullmatch=True),
        st.from_regex(r"[0-9a-f]{39}[g-z]", fullmatch=True))))


def _bad_callflow(draw: st.DrawFn, r: AnveoRequest) -> AnveoRequest:
    return _set(r, "CALLFLOW", draw(st.one_of(
        st.from_regex(r"[0-9a-z]{39}", fullmatch=True),
        st.from_regex(r"[0-9a-z]{41}", fullmatch=True),
        st.from_regex(r"[0-9a-z]{20}-[0-9a-z]{19}", fullmatch=True))))


def _bad_flag(draw: st.DrawFn, r: AnveoRequest) -> AnveoRequest:
    return _set(r, "TEST", draw(st.sampled_from(["yes", "1", "Y", "on"])))


def _unknown_param(draw: st.DrawFn, r: AnveoRequest) -> AnveoRequest:
    name = draw(st.sampled_from(["PHONE", "DESTINATION", "CALLER_ID", "DELAYMINUTES", "APIKEY"]))
    return replace(r, params=(*r.params, (name, "1")))


def _lower_param(draw: st.DrawFn, r: AnveoRequest) -> AnveoRequest:
    index = draw(st.integers(0, len(r.params) - 1))
    name, value = r.params[index]
    renamed = draw(st.sampled_from([name.lower(), name.capitalize()]))
    return replace(r, params=(*r.params[:index], (renamed, value), *r.params[index + 1:]))


def _duplicate(draw: st.DrawFn, r: AnveoRequest) -> AnveoRequest:
    return replace(r, params=(*r.params, draw(st.sampled_from(r.params))))


def _lower_action(draw: st.DrawFn, r: AnveoRequest) -> AnveoRequest:
    return replace(r, action=draw(st.sampled_from([r.action.lower(), r.action.title()])))


def _unknown_action(draw: st.DrawFn, r: AnveoRequest) -> AnveoRequest:
    typo = draw(st.sampled_from([r.action[:-1], r.action + "S", r.action.replace(".", "_"),
                                 r.action.replace(".", "")]))
    return replace(r, action=typo)


def _variable(draw: st.DrawFn, r: AnveoRequest) -> AnveoRequest:
    return replace(r, variables=(("ACCOUNTID", "8732123"),))


def _bad_variable(draw: st.DrawFn, r: AnveoRequest) -> AnveoRequest:
    name = draw(st.sampled_from(["1ACCOUNT", "ACCOUNT-ID", "ACCOUNT ID"]))
    return replace(r, variables=((name, "1"), *r.variables[:5]))


def _many_variables(draw: st.DrawFn, r: AnveoRequest) -> AnveoRequest:
    return replace(r, variables=tuple((f"V{i}", "1") for i in range(VARIABLES_MAX + 1)))


def _unknown_key(draw: st.DrawFn, r: AnveoRequest) -> AnveoRequest:
    # Upper-case letters: the server's own random userkeys are lower case, so never taken.
    return replace(r, userkey=draw(st.from_regex(r"[A-Z]{40}", fullmatch=True)))


def _other(known: Sequence[str], values: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return values.filter(lambda v: v not in known)


@dataclass(frozen=True, slots=True)
class _Rule:
    code: str
    doors: tuple[str, ...]
    applies: Callable[[AnveoRequest, dict[str, Sequence[str]]], bool]
    mutate: _Mutate | None = None


def _always(_r: AnveoRequest, _c: dict[str, Sequence[str]]) -> bool:
    return True


def _actions(*names: str) -> Callable[[AnveoRequest, dict[str, Sequence[str]]], bool]:
    return lambda r, _c: r.action in names


_RULES: dict[str, _Rule] = {
    "missing-required": _Rule("MISSING_PARAMETER", _BOTH, lambda r, _c: bool(_REQUIRED[r.action]),
                              _missing),
    "empty-required": _Rule("MISSING_PARAMETER", _BOTH, lambda r, _c: bool(_REQUIRED[r.action]),
                            _empty),
    "bad-phone": _Rule("INVALID_PARAMETER", _BOTH, _actions(*_DIALS), _bad_phone),
    "delay-out-of-range": _Rule("INVALID_PARAMETER", _BOTH, _actions(*_DIALS), _bad_delay),
    "duration-out-of-range": _Rule("INVALID_PARAMETER", _BOTH, _actions("DIAL.CONNECT"),
                                   _bad_duration),
    "memo-too-long": _Rule("INVALID_PARAMETER", _BOTH, _actions(*_DIALS),
                           _long("MEMO", MEMO_MAX + 1, MEMO_MAX + 76)),
    "billingcode-too-long": _Rule("INVALID_PARAMETER", _BOTH, _actions(*_DIALS),
                                  _long("BILLINGCODE", BILLINGCODE_MAX + 1, 300)),
    "bad-requestid": _Rule("INVALID_PARAMETER", _BOTH, _actions(*_BY_REQUESTID), _bad_requestid),
    "bad-callflow": _Rule("INVALID_PARAMETER", _BOTH, _actions("DIAL.CALLFLOW"), _bad_callflow),
    "bad-test-flag": _Rule("INVALID_PARAMETER", _BOTH, _always, _bad_flag),
    "unknown-parameter": _Rule("UNKNOWN_PARAMETER", _BOTH, _always, _unknown_param),
    "lower-case-parameter": _Rule("WRONG_CASE", _BOTH, lambda r, _c: bool(r.params),
                                  _lower_param),
    "duplicate-parameter": _Rule("DUPLICATE_PARAMETER", _BOTH, lambda r, _c: bool(r.params),
                                 _duplicate),
    "lower-case-action": _Rule("WRONG_CASE", _BOTH, _always, _lower_action),
    "unknown-action": _Rule("UNKNOWN_ACTION", _BOTH, _always, _unknown_action),
    "variable-not-taken": _Rule("UNKNOWN_PARAMETER", _BOTH,
                                lambda r, _c: r.action != "DIAL.CALLFLOW", _variable),
    "bad-variable-name": _Rule("INVALID_PARAMETER", _BOTH, _actions("DIAL.CALLFLOW"),
                               _bad_variable),
    "too-many-variables": _Rule("TOO_MANY_PARAMETERS", _BOTH, _actions("DIAL.CALLFLOW"),
                                _many_variables),
    "unknown-userkey": _Rule("UNKNOWN_USERKEY", _BOTH, _always, _unknown_key),
    "unverified-callerid": _Rule("UNVERIFIED_CALLERID", _BOTH, _actions(*_DIALS)),
    "unknown-callflow": _Rule("UNKNOWN_CALLFLOW", _BOTH, _actions("DIAL.CALLFLOW")),
    "wrong-signature": _Rule("BAD_SIGNATURE", _BOTH, lambda _r, c: bool(c["signature"])),
    "lower-case-tag": _Rule("WRONG_CASE", ("v3",), _always),
    "missing-usertoken": _Rule("MISSING_USERTOKEN", ("v3",), _always),
    "truncated": _Rule("MALFORMED_XML", ("v3",), _always),
    "unescaped-ampersand": _Rule("MALFORMED_XML", ("v3",), _always),
    "form-to-xml-door": _Rule("MALFORMED_XML", ("v3",), _always),
    "param-variable": _Rule("BAD_QUERY", ("v2",), _always),
    "unknown-query-field": _Rule("BAD_QUERY", ("v2",), _always),
    "missing-userkey": _Rule("MISSING_USERKEY", ("v2",), _always),
}


_ACCOUNT_MISTAKES = ("unverified-callerid", "unknown-callflow", "wrong-signature")


def _account_mistake(draw: st.DrawFn, name: str, r: AnveoRequest,
                     context: dict[str, Sequence[str]]) -> AnveoRequest:
    if name == "unverified-callerid":
        return _set(r, "CALLERID", draw(_other(context["callerids"], phone_numbers())))
    if name == "wrong-signature":
        known = [v.lower() for v in context["signature"]]
        return _set(r, "SIGNATURE", draw(_other(known, _hex40())))
    key = st.from_regex(r"[0-9a-z]{40}", fullmatch=True)
    return _set(r, "CALLFLOW", draw(_other(context["callflows"], key)))


def _xml_mistake(draw: st.DrawFn, name: str, r: AnveoRequest) -> bytes:
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


def _v2_mistake(draw: st.DrawFn, name: str, r: AnveoRequest) -> str:
    query = r.to_query()
    if name == "param-variable":
        return query + "&" + _field("param[VARIABLE]", "1")
    if name == "unknown-query-field":
        field = draw(st.sampled_from(["apikey", "key", "param", "format", "callback"]))
        return query + "&" + _field(field, "1")
    return query.split("&", 1)[1]  # missing-userkey: it is always the first field


@st.composite
def _near_miss(draw: st.DrawFn, base: st.SearchStrategy[AnveoRequest], door: str,
               names: tuple[str, ...], context: dict[str, Sequence[str]]) -> NearMiss:
    request = draw(base)
    fitting = [n for n in names if door in _RULES[n].doors and _RULES[n].applies(request,
                                                                                 context)]
    name = draw(st.sampled_from(fitting))
    rule = _RULES[name]
    xml: bytes | None = None
    query: str | None = None
    if rule.mutate is not None or name in _ACCOUNT_MISTAKES:
        broken = (rule.mutate(draw, request) if rule.mutate is not None
                  else _account_mistake(draw, name, request, context))
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
    if door not in _BOTH:
        raise ValueError(f"door must be 'v3' or 'v2', got {door!r}")
    chosen = tuple(NEAR_MISSES) if names is None else tuple(names)
    unknown = [n for n in chosen if n not in NEAR_MISSES]
    if unknown:
        raise ValueError(f"unknown near misses {unknown}; known: {list(NEAR_MISSES)}")
    context: dict[str, Sequence[str]] = {
        "callerids": tuple(callerids), "callflows": tuple(callflows),
        "signature": (signature,) if signature else ()}
    # Pick the action first, among those some chosen mistake fits, so no draw is wasted. A
    # request holding only its required parameters stands for its action: the rules depend on
    # the action and on parameters being present, and a drawn request has at least those.
    fitting = [a for a in ([action] if action else ACTIONS)
               if (a != "DIAL.CALLFLOW" or (callerids and callflows))
               and any(door in _RULES[n].doors and _RULES[n].applies(_bare(userkey, a), context)
                       for n in chosen)]
    if not fitting:
        raise ValueError(f"none of {list(chosen)} applies to {action or 'any action'} "
                         f"through door {door!r}")
    base = st.sampled_from(fitting).flatmap(
        lambda a: requests(a, userkey=userkey, callerids=callerids, callflows=callflows,
                           requestids=requestids, signature=signature, door=door))
    return _near_miss(base, door, chosen, context)


def _bare(userkey: str, action: str) -> AnveoRequest:
    return AnveoRequest(userkey, action, tuple((n, "1") for n in _REQUIRED[action]))
