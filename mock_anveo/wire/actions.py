"""The action registry: ACTION NAME -> its contract entry and a handler over a ``Tenant``.

The actions, parameters and value rules come from ``mock_anveo.contract``. ``actions.xsd``
decides whether parameter values are valid; the contract's rules word a failure (a test keeps
the two in step). Handlers are thin: coerce validated strings, call the simulation, return a
``Reply``.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

from .. import contract
from ..contract import VARIABLE_NAME, VARIABLE_VALUE, VARIABLES_MAX, Kind, Param
from ..errors import AnveoError, Code, shown
from ..sim.tenant import Tenant
from .requests import ActionRequest
from .xsd import ACTIONS_SCHEMA, build_canonical, last_error

#: Each kind's rule compiled once (kinds are frozen, so they key a dict).
_PATTERNS: dict[Kind, re.Pattern[str]] = {}


def _pattern(kind: Kind) -> re.Pattern[str]:
    pattern = _PATTERNS.get(kind)
    if pattern is None:
        pattern = _PATTERNS[kind] = kind.compiled()
    return pattern


def problem(kind: Kind, name: str, value: str) -> str | None:
    """The message for a value of ``name`` that breaks ``kind``'s rule, or None when fine."""
    ok = _pattern(kind).fullmatch(value) is not None
    if ok and kind.low is not None and kind.high is not None:
        ok = kind.low <= int(value) <= kind.high
    return None if ok else f"{name} must be {kind.rule}, got {shown(value)}"


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


#: One parameter's rule for the fast check: its pattern (None: any text up to the length), the
#: length bound, the range when it has both ends, and whether its values are free text (the
#: only ones that may hold characters XML cannot carry: the patterns of the others are classes
#: of ASCII letters and digits).
Check = tuple[re.Pattern[str] | None, int, int | None, int | None, bool]
_FREE = re.compile(r"\.|\\|\[\^")  # a pattern with any of these could match anything


class Rules(NamedTuple):
    """An action's parameter table as the fast check reads it."""

    names: frozenset[str]
    required: frozenset[str]
    checks: dict[str, Check]


def _rules(params: dict[str, Param]) -> Rules:
    checks: dict[str, Check] = {}
    for name, param in params.items():
        kind = param.kind
        low, high = (kind.low, kind.high) if kind.high is not None else (None, None)
        free = kind.pattern is None or _FREE.search(kind.pattern) is not None
        pattern = _pattern(kind) if kind.pattern is not None else None
        longest = kind.max_length if kind.max_length is not None else sys.maxsize
        checks[name] = (pattern, longest, low, high, free)
    required = frozenset(name for name, param in params.items() if param.required)
    return Rules(frozenset(params), required, checks)


@dataclass(frozen=True, slots=True)
class Action:
    """A registered action: its parameters, whether it takes VARIABLEs, and its handler."""

    name: str
    params: dict[str, Param]
    handler: Handler
    variables: bool = False
    #: Made from ``params`` (so ``dataclasses.replace`` remakes it).
    rules: Rules = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "rules", _rules(self.params))


REGISTRY: dict[str, Action] = {}


def action(name: str) -> Callable[[Handler], Handler]:
    """Register ``handler`` for ACTION ``name``, with the contract's parameters for it."""
    spec = contract.ACTIONS[name]

    def register(handler: Handler) -> Handler:
        REGISTRY[name] = Action(name, {p.name: p for p in spec.params}, handler, spec.variables)
        return handler

    return register


def validate(request: ActionRequest, *, fast: bool = True) -> tuple[Action, Params]:
    """Check a request against its action's rules; returns the action and trimmed parameters.

    ``fast=False`` takes the schema to every request, not only to those the contract's rules
    cannot plainly accept (the reference the fast path is tested against)."""
    spec = REGISTRY.get(request.action)
    if fast and spec is not None and not request.variables:
        plain = _plain(spec.rules, request.params)
        if plain is not None:
            return spec, plain
    if spec is None:
        hint = next((n for n in REGISTRY if n == request.action.upper()), None)
        if hint:
            raise AnveoError(
                Code.WRONG_CASE, f"ACTION {shown(request.action)} must be upper case: {hint}"
            )
        raise AnveoError(
            Code.UNKNOWN_ACTION,
            f"unknown ACTION {shown(request.action)}; known: {', '.join(REGISTRY)}",
        )
    params: Params = {}
    seen: set[str] = set()
    for name, value in request.params:
        param = spec.params.get(name)
        if param is None:
            if name.upper() in spec.params:
                raise AnveoError(
                    Code.WRONG_CASE, f"parameter {shown(name)} must be upper case: {name.upper()}"
                )
            raise AnveoError(
                Code.UNKNOWN_PARAMETER,
                f"{request.action} takes no parameter {shown(name)}; it takes "
                f"{', '.join(spec.params)}" + (" and VARIABLE" if spec.variables else ""),
            )
        if name in seen:
            raise AnveoError(
                Code.DUPLICATE_PARAMETER, f"parameter {name} appears more than once; send it once"
            )
        seen.add(name)
        if value:
            params[name] = value
        elif param.required:
            raise AnveoError(Code.MISSING_PARAMETER, f"{name} is required and was sent empty")
    for param in spec.params.values():
        if param.required and param.name not in seen:
            raise AnveoError(
                Code.MISSING_PARAMETER, f"{request.action} needs parameter {param.name}"
            )
    if request.variables and not spec.variables:
        raise AnveoError(Code.UNKNOWN_PARAMETER, f"{request.action} takes no VARIABLE")
    if len(request.variables) > VARIABLES_MAX:
        raise AnveoError(
            Code.TOO_MANY_PARAMETERS,
            f"at most {VARIABLES_MAX} VARIABLEs, got {len(request.variables)}",
        )
    if fast and _plainly_valid(spec, params, request.variables):
        return spec, params
    canonical = build_canonical(request.action, params.items(), request.variables)
    if not ACTIONS_SCHEMA.validate(canonical):
        raise _explain(spec, params, request.variables)
    return spec, params


#: What lxml will not put in a document (and so what only the schema path may judge).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
#: Longer numbers go to the schema: ``int`` of thousands of digits is slow, or refused.
_DIGITS_MAX = 9


def _within(digits: str, low: int, high: int) -> bool:
    return len(digits) <= _DIGITS_MAX and low <= int(digits) <= high


def _fits(check: Check, value: str) -> bool:
    pattern, longest, low, high, free = check
    if pattern is None:
        if len(value) > longest:
            return False
    elif pattern.fullmatch(value) is None:
        return False
    # Printable text is all XML characters; the search only runs for the rest.
    if free and not value.isprintable() and _NOT_XML.search(value):
        return False
    return low is None or high is None or _within(value, low, high)


def _plain(rules: Rules, pairs: Pairs) -> Params | None:
    """The parameters of a request without VARIABLEs when every one plainly passes (set
    operations in C for the names, one rule per value); None on any doubt, never a refusal."""
    params = dict(pairs)
    if (
        len(params) != len(pairs)
        or "" in params.values()
        or not params.keys() <= rules.names
        or not params.keys() >= rules.required
    ):
        return None
    checks = rules.checks
    for name, value in params.items():
        if not _fits(checks[name], value):
            return None
    return params


def _plainly_valid(spec: Action, params: Params, variables: Pairs) -> bool:
    """Whether actions.xsd surely accepts these values, judged by the contract's own rules
    (the ones ``_explain`` words refusals with); False on any doubt, never a refusal."""
    checks = spec.rules.checks
    if not all(_fits(checks[name], value) for name, value in params.items()):
        return False
    if variables:
        if len({name for name, _ in variables}) != len(variables):
            return False
        name_rule, value_rule = _pattern(VARIABLE_NAME), _pattern(VARIABLE_VALUE)
        for name, value in variables:
            if name_rule.fullmatch(name) is None or value_rule.fullmatch(value) is None:
                return False
            if _NOT_XML.search(value):
                return False
    return True


def _explain(spec: Action, params: Params, variables: Pairs) -> AnveoError:
    for name, value in params.items():
        found = problem(spec.params[name].kind, name, value)
        if found:
            return AnveoError(Code.INVALID_PARAMETER, found)
    names: set[str] = set()
    for name, value in variables:
        found = problem(VARIABLE_NAME, "VARIABLENAME", name)
        if found:
            return AnveoError(Code.INVALID_PARAMETER, found)
        if name in names:
            return AnveoError(
                Code.DUPLICATE_PARAMETER, f"VARIABLE {name} appears more than once; send it once"
            )
        names.add(name)
        found = problem(VARIABLE_VALUE, f"VARIABLE {name}", value)
        if found:
            return AnveoError(Code.INVALID_PARAMETER, found)
    error = last_error(ACTIONS_SCHEMA)
    detail = error.message if error else "invalid"
    return AnveoError(Code.INVALID_PARAMETER, f"{spec.name} parameters break the schema: {detail}")


def is_test(params: Params) -> bool:
    """Whether TEST=TRUE was sent (any letter case)."""
    return params.get("TEST", "").upper() == "TRUE"


# ---- handlers -------------------------------------------------------------------------------
def _requestid_reply(requestid: str) -> Reply:
    return Reply("SUCCESS", (("REQUESTID", requestid),))


@action("DIAL.CONNECT")
def dial_connect(tenant: Tenant, p: Params, _vars: Pairs) -> Reply:
    """Ring PHONENUMBER, then DESTPHONENUMBER, and bridge them."""
    duration = p.get("MAXCALLDURATION")
    call = tenant.dial_connect(
        p["PHONENUMBER"],
        p["DESTPHONENUMBER"],
        callerid=p.get("CALLERID"),
        max_minutes=int(duration) if duration else None,
        delay=int(p.get("DELAY", "0")),
        memo=p.get("MEMO"),
        billingcode=p.get("BILLINGCODE"),
        test=is_test(p),
    )
    return _requestid_reply(call.requestid)


@action("DIAL.CALLFLOW")
def dial_callflow(tenant: Tenant, p: Params, variables: Pairs) -> Reply:
    """Ring PHONENUMBER and run the call flow CALLFLOW with VARIABLEs."""
    call = tenant.dial_callflow(
        p["PHONENUMBER"],
        callerid=p["CALLERID"],
        callflow=p["CALLFLOW"],
        variables=dict(variables),
        delay=int(p.get("DELAY", "0")),
        memo=p.get("MEMO"),
        billingcode=p.get("BILLINGCODE"),
        test=is_test(p),
    )
    return _requestid_reply(call.requestid)


@action("DIAL.GETSTATUS")
def dial_getstatus(tenant: Tenant, p: Params, _vars: Pairs) -> Reply:
    """RESULT is the call's status: NONE, INIT, START or END."""
    return Reply(tenant.status(p["REQUESTID"]).value)


@action("DIAL.CANCEL")
def dial_cancel(tenant: Tenant, p: Params, _vars: Pairs) -> Reply:
    """Cancel a scheduled call or hang up a live one."""
    call = tenant.cancel(p["REQUESTID"])
    return _requestid_reply(call.requestid)


@action("DIAL.CALLFLOW.GETRESULT")
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
