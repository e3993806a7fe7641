"""The action registry: ACTION NAME -> parameter rules and a handler over a ``Tenant``.

``schemas/actions.xsd`` decides whether parameter values are valid; the ``Kind`` rules here
mirror it only to explain a failure in words (a test keeps the two in step). Handlers are thin:
coerce validated strings, call the simulation, return a ``Reply``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

from ..errors import AnveoError, Code, shown
from ..sim.tenant import Tenant
from . import codec


@dataclass(frozen=True, slots=True)
class Kind:
    """A value rule: a full-match pattern, an optional integer range, and its message."""

    pattern: re.Pattern[str]
    rule: str
    low: int | None = None
    high: int | None = None

    def problem(self, name: str, value: str) -> str | None:
        """The message for a value that breaks this rule, or None when it is fine."""
        ok = self.pattern.fullmatch(value) is not None
        if ok and self.low is not None and self.high is not None:
            ok = self.low <= int(value) <= self.high
        return None if ok else f"{name} must be {self.rule}, got {shown(value)}"


def _kind(pattern: str, rule: str, low: int | None = None, high: int | None = None) -> Kind:
    return Kind(re.compile(pattern, re.ASCII | re.DOTALL), rule, low, high)


PHONE = _kind(r"[0-9]{7,15}", "7 to 15 digits with the country code and no '+', spaces or "
                              "dashes (e.g. 12157010680)")
DELAY = _kind(r"[0-9]+", "a whole number of minutes from 0 to 86400", 0, 86400)
DURATION = _kind(r"[0-9]+", "a whole number of minutes from 1 to 1440", 1, 1440)
MEMO = _kind(r".{0,1024}", "at most 1024 characters")
BILLINGCODE = _kind(r".{0,255}", "at most 255 characters")
FLAG = _kind(r"(?i:true|false)", "TRUE or FALSE")
KEY40 = _kind(r"[0-9A-Za-z]{40}", "the call flow's 40-character API key (letters and digits)")
REQUESTID = _kind(r"[0-9a-fA-F]{40}", "40 hexadecimal characters, as returned by DIAL.CONNECT "
                                      "or DIAL.CALLFLOW")
VARIABLE_NAME = _kind(r"[A-Za-z_][A-Za-z0-9_]{0,63}", "a letter or '_' then up to 63 letters, "
                                                      "digits or '_'")
VARIABLE_VALUE = _kind(r".{0,1024}", "at most 1024 characters")
MAX_VARIABLES = 50

SIGNATURE = _kind(r"[0-9a-fA-F]{40}", "40 hexadecimal characters: HMAC-SHA1 of the account's "
                                      "e-mail keyed by its secure phrase")


@dataclass(frozen=True, slots=True)
class Param:
    """One parameter an action takes."""

    name: str
    kind: Kind
    required: bool = False


class Reply(NamedTuple):
    """What a handler answers: RESULT text and named VALUEs.

    A named tuple: one is built per request, and a frozen dataclass's ``__init__`` costs
    several times as much.
    """

    result: str
    values: tuple[tuple[str, str], ...] = ()


Params = dict[str, str]
#: NAME/value pairs in the order they were sent (VARIABLEs).
Pairs = tuple[tuple[str, str], ...]
Handler = Callable[[Tenant, Params, Pairs], Reply]


@dataclass(frozen=True, slots=True)
class Action:
    """A registered action: its parameters, whether it takes VARIABLEs, and its handler."""

    name: str
    params: dict[str, Param]
    handler: Handler
    variables: bool = False


REGISTRY: dict[str, Action] = {}
_COMMON = (Param("TEST", FLAG), Param("SIGNATURE", SIGNATURE))


def action(name: str, *params: Param, variables: bool = False) -> Callable[[Handler], Handler]:
    """Register ``handler`` for ACTION ``name`` with its parameters (TEST, SIGNATURE implied)."""

    def register(handler: Handler) -> Handler:
        spec = {p.name: p for p in (*params, *_COMMON)}
        REGISTRY[name] = Action(name, spec, handler, variables)
        return handler

    return register


def validate(request: codec.ActionRequest) -> tuple[Action, Params]:
    """Check a request against its action's rules; returns the action and trimmed parameters."""
    spec = REGISTRY.get(request.action)
    if spec is None:
        hint = next((n for n in REGISTRY if n == request.action.upper()), None)
        if hint:
            raise AnveoError(Code.WRONG_CASE, f"ACTION {shown(request.action)} must be upper "
                                              f"case: {hint}")
        raise AnveoError(Code.UNKNOWN_ACTION, f"unknown ACTION {shown(request.action)}; "
                                              f"known: {', '.join(REGISTRY)}")
    params: Params = {}
    seen: set[str] = set()
    for name, value in request.params:
        param = spec.params.get(name)
        if param is None:
            if name.upper() in spec.params:
                raise AnveoError(Code.WRONG_CASE, f"parameter {shown(name)} must be upper case: "
                                                  f"{name.upper()}")
            raise AnveoError(Code.UNKNOWN_PARAMETER,
                             f"{request.action} takes no parameter {shown(name)}; it takes "
                             f"{', '.join(spec.params)}"
                             + (" and VARIABLE" if spec.variables else ""))
        if name in seen:
            raise AnveoError(Code.DUPLICATE_PARAMETER,
                             f"parameter {name} appears more than once; send it once")
        seen.add(name)
        if value:
            params[name] = value
        elif param.required:
            raise AnveoError(Code.MISSING_PARAMETER, f"{name} is required and was sent empty")
    for param in spec.params.values():
        if param.required and param.name not in seen:
            raise AnveoError(Code.MISSING_PARAMETER,
                             f"{request.action} needs parameter {param.name}")
    if request.variables and not spec.variables:
        raise AnveoError(Code.UNKNOWN_PARAMETER, f"{request.action} takes no VARIABLE")
    if len(request.variables) > MAX_VARIABLES:
        raise AnveoError(Code.TOO_MANY_PARAMETERS,
                         f"at most {MAX_VARIABLES} VARIABLEs, got {len(request.variables)}")
    canonical = codec.build_canonical(request.action, params.items(), request.variables)
    if not codec.ACTIONS_SCHEMA.validate(canonical):
        raise _explain(spec, params, request.variables)
    return spec, params


def _explain(spec: Action, params: Params, variables: Pairs) -> AnveoError:
    for name, value in params.items():
        problem = spec.params[name].kind.problem(name, value)
        if problem:
            return AnveoError(Code.INVALID_PARAMETER, problem)
    names: set[str] = set()
    for name, value in variables:
        problem = VARIABLE_NAME.problem("VARIABLENAME", name)
        if problem:
            return AnveoError(Code.INVALID_PARAMETER, problem)
        if name in names:
            return AnveoError(Code.DUPLICATE_PARAMETER,
                              f"VARIABLE {name} appears more than once; send it once")
        names.add(name)
        problem = VARIABLE_VALUE.problem(f"VARIABLE {name}", value)
        if problem:
            return AnveoError(Code.INVALID_PARAMETER, problem)
    error = codec.last_error(codec.ACTIONS_SCHEMA)
    detail = error.message if error else "invalid"
    return AnveoError(Code.INVALID_PARAMETER, f"{spec.name} parameters break the schema: {detail}")


def is_test(params: Params) -> bool:
    """Whether TEST=TRUE was sent (any letter case)."""
    return params.get("TEST", "").upper() == "TRUE"


# ---- handlers -------------------------------------------------------------------------------
def _requestid_reply(requestid: str) -> Reply:
    return Reply("SUCCESS", (("REQUESTID", requestid),))


@action("DIAL.CONNECT", Param("PHONENUMBER", PHONE, True), Param("DESTPHONENUMBER", PHONE, True),
        Param("MAXCALLDURATION", DURATION), Param("CALLERID", PHONE), Param("DELAY", DELAY),
        Param("MEMO", MEMO), Param("BILLINGCODE", BILLINGCODE))
def dial_connect(tenant: Tenant, p: Params, _vars: Pairs) -> Reply:
    """Ring PHONENUMBER, then DESTPHONENUMBER, and bridge them."""
    duration = p.get("MAXCALLDURATION")
    call = tenant.dial_connect(
        p["PHONENUMBER"], p["DESTPHONENUMBER"], callerid=p.get("CALLERID"),
        max_minutes=int(duration) if duration else None, delay=int(p.get("DELAY", "0")),
        memo=p.get("MEMO"), billingcode=p.get("BILLINGCODE"), test=is_test(p))
    return _requestid_reply(call.requestid)


@action("DIAL.CALLFLOW", Param("PHONENUMBER", PHONE, True), Param("CALLERID", PHONE, True),
        Param("CALLFLOW", KEY40, True), Param("DELAY", DELAY), Param("MEMO", MEMO),
        Param("BILLINGCODE", BILLINGCODE), variables=True)
def dial_callflow(tenant: Tenant, p: Params, variables: Pairs) -> Reply:
    """Ring PHONENUMBER and run the call flow CALLFLOW with VARIABLEs."""
    call = tenant.dial_callflow(
        p["PHONENUMBER"], callerid=p["CALLERID"], callflow=p["CALLFLOW"],
        variables=dict(variables), delay=int(p.get("DELAY", "0")), memo=p.get("MEMO"),
        billingcode=p.get("BILLINGCODE"), test=is_test(p))
    return _requestid_reply(call.requestid)


@action("DIAL.GETSTATUS", Param("REQUESTID", REQUESTID, True))
def dial_getstatus(tenant: Tenant, p: Params, _vars: Pairs) -> Reply:
    """RESULT is the call's status: NONE, INIT, START or END."""
    return Reply(tenant.status(p["REQUESTID"]).value)


@action("DIAL.CANCEL", Param("REQUESTID", REQUESTID, True))
def dial_cancel(tenant: Tenant, p: Params, _vars: Pairs) -> Reply:
    """Cancel a scheduled call or hang up a live one."""
    call = tenant.cancel(p["REQUESTID"])
    return _requestid_reply(call.requestid)


@action("DIAL.CALLFLOW.GETRESULT", Param("REQUESTID", REQUESTID, True))
def dial_callflow_getresult(tenant: Tenant, p: Params, _vars: Pairs) -> Reply:
    """RESULT is what the call flow produced."""
    return Reply(tenant.callflow_result(p["REQUESTID"]))


@action("ACCOUNT.GETBALANCE")
def account_getbalance(tenant: Tenant, _p: Params, _vars: Pairs) -> Reply:
    """RESULT is the balance in USD with two to four decimals."""
    balance = tenant.balance()
    text = f"{balance:.4f}".rstrip("0")
    if len(text.partition(".")[2]) < 2:
        text = f"{balance:.2f}"
    return Reply(text)
