"""Hypothesis strategies for valid requests, drawn from ``mock_anveo.contract``'s table.

Public through ``mock_anveo.strategies``; see its docstring for the guarantees.
"""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import strategies as st

from .. import contract
from ..contract import FLAG, PHONE, VARIABLE_NAME, Kind, Param
from ..sim.accounts import DEFAULT_CALLFLOW, DOCS_CALLERID, DOCS_USERKEY
from ..wire.requests import ActionRequest

#: Every action the mock implements.
ACTIONS = tuple(contract.ACTIONS)
DOORS = ("v3", "v2")

# ---- bounds (each from the contract, or from a door's size limit) ----------------------------
MEMO_MAX = contract.MEMO.max_length or 0
BILLINGCODE_MAX = contract.BILLINGCODE.max_length or 0
VARIABLE_VALUE_MAX = contract.VARIABLE_VALUE.max_length or 0
VARIABLES_MAX = contract.VARIABLES_MAX
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
#: TEST values the mock takes: Anveo's TRUE, and FALSE, in a few letter cases.
FLAGS = ("TRUE", "FALSE", "true", "True", "false")

#: What a test knows of the account: "callerids", "callflows", "requestids", "signature".
Account = dict[str, Sequence[str]]


# ---- values ---------------------------------------------------------------------------------
def phone_numbers() -> st.SearchStrategy[str]:
    """Numbers as Anveo wants them: the contract's digits, country code included, no '+'."""
    return st.from_regex(PHONE.pattern or "", fullmatch=True)


def texts(max_size: int) -> st.SearchStrategy[str]:
    """Free text that XML 1.0 can carry, without spaces at either end."""
    chars = st.characters(exclude_categories=("Cc", "Cs", "Cn"))
    return st.text(chars, max_size=max_size).map(lambda s: s.strip(" "))


def hex40() -> st.SearchStrategy[str]:
    """40 lower-case hex digits, the form of REQUESTIDs and SIGNATUREs."""
    return st.from_regex(r"[0-9a-f]{40}", fullmatch=True)


def values(kind: Kind, *, v2: bool = False) -> st.SearchStrategy[str]:
    """Values ``kind`` accepts; free text is kept short for the GET door when ``v2``."""
    if kind == FLAG:
        return st.sampled_from(FLAGS)
    if kind.low is not None and kind.high is not None:
        return st.integers(kind.low, kind.high).map(str)
    if kind.max_length is not None:
        return texts(min(kind.max_length, V2_TEXT_MAX) if v2 else kind.max_length)
    return st.from_regex(kind.pattern or "", fullmatch=True)


def _values_of(param: Param, account: Account) -> st.SearchStrategy[str] | None:
    """Values of ``param`` valid for the account; None when the account has none to offer."""
    if param.account == "requestids":
        known = account.get("requestids")
        return st.sampled_from(list(known)) if known else hex40()
    if param.account:
        known = account.get(param.account) or ()
        return st.sampled_from(list(known)) if known else None
    return None


def drawable(action: str, account: Account) -> bool:
    """Whether a valid ``action`` exists for the account (its required values are known)."""
    return all(
        _values_of(p, account) is not None or not p.account
        for p in contract.ACTIONS[action].params
        if p.required
    )


def _variables(v2: bool) -> st.SearchStrategy[list[tuple[str, str]]]:
    names = st.from_regex(VARIABLE_NAME.pattern or "", fullmatch=True)

    def group(count: int, size: int) -> st.SearchStrategy[list[tuple[str, str]]]:
        return st.lists(
            st.tuples(names, texts(size)), max_size=count, unique_by=lambda pair: pair[0]
        )

    if v2:
        return group(V2_VARIABLES_MAX, V2_VARIABLE_VALUE_MAX)
    return st.one_of(
        group(XML_LONG_VARIABLES, VARIABLE_VALUE_MAX), group(VARIABLES_MAX, XML_SHORT_VALUE)
    )


@st.composite
def _request(
    draw: st.DrawFn, action: str | None, *, userkey: str, account: Account, v2: bool
) -> ActionRequest:
    name = action or draw(st.sampled_from([a for a in ACTIONS if drawable(a, account)]))
    spec = contract.ACTIONS[name]
    required: list[tuple[str, str]] = []
    optional: dict[str, st.SearchStrategy[str]] = {}
    signature = account.get("signature")
    for param in spec.params:
        if param.account == "signature":
            continue  # sent exactly when the account has one, below
        strategy = _values_of(param, account) if param.account else values(param.kind, v2=v2)
        if param.required:
            assert strategy is not None  # drawable() said so
            required.append((param.name, draw(strategy)))
        elif strategy is not None:
            optional[param.name] = strategy
    variables = draw(_variables(v2)) if spec.variables else []
    picked = draw(st.lists(st.sampled_from(sorted(optional)), unique=True)) if optional else []
    params = required + [(p, draw(optional[p])) for p in picked]
    if signature:
        params.append(("SIGNATURE", signature[0]))
    params = draw(st.permutations(params))  # clients send parameters in any order
    return ActionRequest(userkey, name, tuple(params), tuple(variables))


def account_of(
    callerids: Sequence[str],
    callflows: Sequence[str],
    requestids: Sequence[str] | None,
    signature: str | None,
) -> Account:
    """The account description the strategies share, from their keyword arguments."""
    account: Account = {
        "callerids": tuple(callerids),
        "callflows": tuple(callflows),
        "signature": (signature,) if signature else (),
    }
    if requestids is not None:
        account["requestids"] = tuple(requestids)
    return account


def requests(
    action: str | None = None,
    *,
    userkey: str = DOCS_USERKEY,
    callerids: Sequence[str] = (DOCS_CALLERID,),
    callflows: Sequence[str] = (DEFAULT_CALLFLOW,),
    requestids: Sequence[str] | None = None,
    signature: str | None = None,
    door: str = "v3",
) -> st.SearchStrategy[ActionRequest]:
    """Valid requests of ``action`` (any action when None) for the account described.

    ``signature`` (the account's SIGNATURE) goes into every request when given. The defaults
    describe a fresh tenant (the ``anveo`` fixture's, or the documentation's account);
    ``requestids`` are REQUESTIDs to refer to (random ones when None); ``door="v2"`` keeps
    text short enough for a GET request line.
    """
    if action is not None and action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}; known: {ACTIONS}")
    account = account_of(callerids, callflows, requestids, signature)
    if action is not None and not drawable(action, account):
        raise ValueError(f"{action} needs a verified caller ID and a call flow key")
    if door not in DOORS:
        raise ValueError(f"door must be 'v3' or 'v2', got {door!r}")
    return _request(action, userkey=userkey, account=account, v2=door == "v2")


_DECLARATIONS = (
    '<?xml version="1.0" standalone="no" ?>',
    '<?xml version="1.0"?>',
    '<?xml version="1.0" encoding="UTF-8"?>',
    "",
)
_SEPARATORS = ("\n", "", "\r\n", "\n\t", "  ", "\n\n")  # tabs and blank lines are fine


def xml_requests(
    action: str | None = None,
    *,
    userkey: str = DOCS_USERKEY,
    callerids: Sequence[str] = (DOCS_CALLERID,),
    callflows: Sequence[str] = (DEFAULT_CALLFLOW,),
    requestids: Sequence[str] | None = None,
    signature: str | None = None,
) -> st.SearchStrategy[bytes]:
    """Valid ``<REQUEST>`` documents (UTF-8 bytes) in the layouts real clients use."""
    return st.builds(
        lambda r, d, s: r.to_xml(declaration=d, separator=s),
        requests(
            action,
            userkey=userkey,
            callerids=callerids,
            callflows=callflows,
            requestids=requestids,
            signature=signature,
        ),
        st.sampled_from(_DECLARATIONS),
        st.sampled_from(_SEPARATORS),
    )


@st.composite
def _query(draw: st.DrawFn, request: ActionRequest) -> str:
    fields = draw(
        st.permutations(
            request.to_query(userkey_field=draw(st.sampled_from(["userkey", "USERKEY"]))).split("&")
        )
    )
    return "&".join(fields)


def v2_queries(
    action: str | None = None,
    *,
    userkey: str = DOCS_USERKEY,
    callerids: Sequence[str] = (DOCS_CALLERID,),
    callflows: Sequence[str] = (DEFAULT_CALLFLOW,),
    requestids: Sequence[str] | None = None,
    signature: str | None = None,
) -> st.SearchStrategy[str]:
    """Valid GET-door query strings (no leading '?'), fields in any order."""
    return requests(
        action,
        userkey=userkey,
        callerids=callerids,
        callflows=callflows,
        requestids=requestids,
        signature=signature,
        door="v2",
    ).flatmap(_query)
