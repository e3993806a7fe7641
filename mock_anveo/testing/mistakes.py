"""The mistakes near misses make: each turns a valid request into one breaking one rule."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from hypothesis import strategies as st

from .. import contract
from ..contract import PHONE, VARIABLES_MAX, Kind
from ..wire.requests import ActionRequest, query_field
from .valid import Account, hex40, phone_numbers


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


Mutate = Callable[[st.DrawFn, ActionRequest, Account], ActionRequest]
#: Whether a mistake can be made in a request (for an account).
Applies = Callable[[ActionRequest, Account], bool]


def takes(kind: Kind) -> Applies:
    """Applies to actions taking a parameter of ``kind``."""
    return lambda r, _a: bool(contract.by_kind(r.action, kind))


def always(_r: ActionRequest, _a: Account) -> bool:
    return True


def has_required(r: ActionRequest, _a: Account) -> bool:
    return bool(contract.required(r.action))


def bound_to(setting: str) -> Applies:
    return lambda r, _a: any(p.account == setting for p in contract.ACTIONS[r.action].params)


def set_param(request: ActionRequest, name: str, value: str) -> ActionRequest:
    kept = tuple(p for p in request.params if p[0] != name)
    return replace(request, params=(*kept, (name, value)))


def missing(draw: st.DrawFn, r: ActionRequest, _a: Account) -> ActionRequest:
    gone = draw(st.sampled_from(contract.required(r.action)))
    return replace(r, params=tuple(p for p in r.params if p[0] != gone))


def empty(draw: st.DrawFn, r: ActionRequest, _a: Account) -> ActionRequest:
    return set_param(r, draw(st.sampled_from(contract.required(r.action))), "")


def bad_phone(draw: st.DrawFn, r: ActionRequest, _a: Account) -> ActionRequest:
    digits = st.from_regex(r"[0-9]{10,11}", fullmatch=True)
    low, high = contract.PHONE_DIGITS
    value = draw(
        st.one_of(
            digits.map(lambda d: "+" + d),
            digits.map(lambda d: f"{d[:1]} {d[1:4]} {d[4:]}"),
            digits.map(lambda d: f"{d[:4]}-{d[4:]}"),
            st.from_regex(f"[0-9]{{1,{low - 1}}}", fullmatch=True),
            st.from_regex(f"[0-9]{{{high + 1},{high + 5}}}", fullmatch=True),
            st.just("1215CALLNOW"),
        )
    )
    phones = contract.by_kind(r.action, PHONE)
    present = [n for n, _ in r.params if n in phones]
    return set_param(r, draw(st.sampled_from(present or list(phones))), value)


def out_of_range(kind: Kind) -> Mutate:
    def mutate(draw: st.DrawFn, r: ActionRequest, _a: Account) -> ActionRequest:
        assert kind.low is not None and kind.high is not None
        value = draw(
            st.one_of(
                st.integers(kind.high + 1, 10**9).map(str),
                st.just(str(kind.low - 1)),
                st.just("1.5"),
                st.just("10m"),
            )
        )
        return set_param(r, contract.by_kind(r.action, kind)[0], value)

    return mutate


def too_long(kind: Kind) -> Mutate:
    def mutate(draw: st.DrawFn, r: ActionRequest, _a: Account) -> ActionRequest:
        # ASCII letters: long enough to break the rule, short enough for a GET request line.
        assert kind.max_length is not None
        size = draw(st.integers(kind.max_length + 1, kind.max_length + 76))
        name = contract.by_kind(r.action, kind)[0]
        return set_param(r, name, draw(st.text("abcXYZ", min_size=size, max_size=size)))

    return mutate


def bad_requestid(draw: st.DrawFn, r: ActionRequest, _a: Account) -> ActionRequest:
    return set_param(
        r,
        "REQUESTID",
        draw(
            st.one_of(
                st.from_regex(r"[0-9a-f]{39}", fullmatch=True),
                st.from_regex(r"[0-9a-f]{41}", fullmatch=True),
                st.from_regex(r"[0-9a-f]{39}[g-z]", fullmatch=True),
            )
        ),
    )


def bad_callflow(draw: st.DrawFn, r: ActionRequest, _a: Account) -> ActionRequest:
    return set_param(
        r,
        "CALLFLOW",
        draw(
            st.one_of(
                st.from_regex(r"[0-9a-z]{39}", fullmatch=True),
                st.from_regex(r"[0-9a-z]{41}", fullmatch=True),
                st.from_regex(r"[0-9a-z]{20}-[0-9a-z]{19}", fullmatch=True),
            )
        ),
    )


def bad_flag(draw: st.DrawFn, r: ActionRequest, _a: Account) -> ActionRequest:
    return set_param(r, "TEST", draw(st.sampled_from(["yes", "1", "Y", "on"])))


def unknown_param(draw: st.DrawFn, r: ActionRequest, _a: Account) -> ActionRequest:
    name = draw(st.sampled_from(["PHONE", "DESTINATION", "CALLER_ID", "DELAYMINUTES", "APIKEY"]))
    return replace(r, params=(*r.params, (name, "1")))


def lower_param(draw: st.DrawFn, r: ActionRequest, _a: Account) -> ActionRequest:
    index = draw(st.integers(0, len(r.params) - 1))
    name, value = r.params[index]
    renamed = draw(st.sampled_from([name.lower(), name.capitalize()]))
    return replace(r, params=(*r.params[:index], (renamed, value), *r.params[index + 1 :]))


def duplicate(draw: st.DrawFn, r: ActionRequest, _a: Account) -> ActionRequest:
    return replace(r, params=(*r.params, draw(st.sampled_from(r.params))))


def lower_action(draw: st.DrawFn, r: ActionRequest, _a: Account) -> ActionRequest:
    return replace(r, action=draw(st.sampled_from([r.action.lower(), r.action.title()])))


def unknown_action(draw: st.DrawFn, r: ActionRequest, _a: Account) -> ActionRequest:
    typo = draw(
        st.sampled_from(
            [r.action[:-1], r.action + "S", r.action.replace(".", "_"), r.action.replace(".", "")]
        )
    )
    return replace(r, action=typo)


def variable(_draw: st.DrawFn, r: ActionRequest, _a: Account) -> ActionRequest:
    return replace(r, variables=(("ACCOUNTID", "8732123"),))


def bad_variable(draw: st.DrawFn, r: ActionRequest, _a: Account) -> ActionRequest:
    name = draw(st.sampled_from(["1ACCOUNT", "ACCOUNT-ID", "ACCOUNT ID"]))
    return replace(r, variables=((name, "1"), *r.variables[:5]))


def many_variables(_draw: st.DrawFn, r: ActionRequest, _a: Account) -> ActionRequest:
    return replace(r, variables=tuple((f"V{i}", "1") for i in range(VARIABLES_MAX + 1)))


def unknown_key(draw: st.DrawFn, r: ActionRequest, _a: Account) -> ActionRequest:
    # Upper-case letters: the server's own random userkeys are lower case, so never taken.
    return replace(r, userkey=draw(st.from_regex(r"[A-Z]{40}", fullmatch=True)))


def _other(known: Iterable[str], values: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    taken = set(known)
    return values.filter(lambda v: v not in taken)


def unverified(draw: st.DrawFn, r: ActionRequest, a: Account) -> ActionRequest:
    return set_param(r, "CALLERID", draw(_other(a["callerids"], phone_numbers())))


def unknown_callflow(draw: st.DrawFn, r: ActionRequest, a: Account) -> ActionRequest:
    key = st.from_regex(r"[0-9a-z]{40}", fullmatch=True)
    return set_param(r, "CALLFLOW", draw(_other(a["callflows"], key)))


def wrong_signature(draw: st.DrawFn, r: ActionRequest, a: Account) -> ActionRequest:
    return set_param(r, "SIGNATURE", draw(_other([v.lower() for v in a["signature"]], hex40())))


def xml_mistake(draw: st.DrawFn, name: str, r: ActionRequest) -> bytes:
    text = r.to_xml().decode("utf-8")
    if name == "lower-case-tag":
        tag = draw(st.sampled_from(["USERTOKEN", "USERKEY", "ACTION"]))
        text = text.replace(f"<{tag}", f"<{tag.lower()}").replace(f"</{tag}>", f"</{tag.lower()}>")
    elif name == "missing-usertoken":
        text = text[: text.index("<USERTOKEN>")] + text[text.index("</USERTOKEN>") + 12 :]
    elif name == "truncated":
        # Cut just after a tag, inside <REQUEST>: never inside an escaped character.
        start, end = text.index("<REQUEST>") + len("<REQUEST>"), text.rindex("</REQUEST>")
        cuts = [i + 1 for i in range(start, end) if text[i] == ">"]
        text = text[: draw(st.sampled_from(cuts))] if cuts else text[:end]
    elif name == "unescaped-ampersand":
        return set_param(r, "TEST", "FALSE").to_xml().replace(b">FALSE<", b">FALSE & TRUE<")
    else:  # form-to-xml-door
        return r.to_query().encode("utf-8")
    return text.encode("utf-8")


def v2_mistake(draw: st.DrawFn, name: str, r: ActionRequest) -> str:
    query = r.to_query()
    if name == "param-variable":
        return query + "&" + query_field("param[VARIABLE]", "1")
    if name == "unknown-query-field":
        field = draw(st.sampled_from(["apikey", "key", "param", "format", "callback"]))
        return query + "&" + query_field(field, "1")
    return query.split("&", 1)[1]  # missing-userkey: it is always the first field


def range_text(kind: Kind) -> str:
    """How a value of ``kind`` misses its range, in words."""
    return f"below {kind.low}, fractional, with a unit, or beyond {kind.high} minutes"


def length_text(kind: Kind) -> str:
    """How long a too-long value of ``kind`` is, in words."""
    assert kind.max_length is not None
    return f"of {kind.max_length + 1} to {kind.max_length + 76} characters"
