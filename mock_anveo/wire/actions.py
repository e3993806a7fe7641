"""The action registry: ACTION NAME -> its contract entry and a handler over a ``Tenant``.

The actions, parameters and value rules come from ``mock_anveo.contract``. ``actions.xsd``
decides whether parameter values are valid; the contract's rules word a failure (a test keeps
the two in step). Handlers are thin: coerce validated strings, call the simulation, return a
``Reply``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

from .. import contract
from ..contract import VARIABLE_NAME, VARIABLE_VALUE, VARIABLES_MAX, Param
from ..errors import AnveoError, Code, shown
from ..sim.tenant import Tenant
from . import rules
from .requests import ActionRequest
from .rules import Pairs, Params, problem
from .xsd import ACTIONS_SCHEMA, build_canonical, last_error


class Reply(NamedTuple):
    """What a handler answers: RESULT text and named VALUEs.

    A named tuple: one is built per request, and a frozen dataclass's ``__init__`` costs
    several times as much.
    """

    result: str
    values: tuple[tuple[str, str], ...] = ()


Handler = Callable[[Tenant, Params, Pairs], Reply]


@dataclass(frozen=True, slots=True)
class Action:
    """A registered action: its parameters, whether it takes VARIABLEs, and its handler."""

    name: str
    params: dict[str, Param]
    handler: Handler
    variables: bool = False
    #: Made from ``params`` (so ``dataclasses.replace`` remakes it).
    rules: rules.Rules = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "rules", rules.rules_of(self.params))


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
        plain = rules.plain(spec.rules, request.params)
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


def _plainly_valid(spec: Action, params: Params, variables: Pairs) -> bool:
    """Whether actions.xsd surely accepts these values, judged by the contract's own rules
    (the ones ``_explain`` words refusals with); False on any doubt, never a refusal."""
    if not rules.fit(spec.rules.checks, params):
        return False
    if variables:
        if len({name for name, _ in variables}) != len(variables):
            return False
        name_rule, value_rule = rules.pattern_of(VARIABLE_NAME), rules.pattern_of(VARIABLE_VALUE)
        for name, value in variables:
            if name_rule.fullmatch(name) is None or value_rule.fullmatch(value) is None:
                return False
            if rules.NOT_XML.search(value):
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
