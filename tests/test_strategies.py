"""The user-facing Hypothesis strategies produce what they claim, checked by the real pipeline."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mock_anveo.http.app import ServerOptions
from mock_anveo.sim.accounts import DEFAULT_CALLFLOW, DOCS_CALLERID, Account
from mock_anveo.sim.world import Settings, World
from mock_anveo.testing import strategies
from mock_anveo.testing.strategies import NEAR_MISSES, AnveoRequest, NearMiss
from mock_anveo.wire import actions, pipeline
from mock_anveo.wire.pipeline import Exchange
from mock_anveo.wire.requests import ActionRequest

#: Refusals about a request's target, not its form: what random REQUESTIDs may meet.
STATE_ONLY = {"UNKNOWN_REQUESTID", "ALREADY_ENDED", "RESULT_NOT_READY", "NOT_A_CALLFLOW"}
BY_REQUESTID = {"DIAL.GETSTATUS", "DIAL.CANCEL", "DIAL.CALLFLOW.GETRESULT"}
XML_ONLY = {
    "lower-case-tag",
    "missing-usertoken",
    "truncated",
    "form-to-xml-door",
    "unescaped-ampersand",
}
V2_ONLY = {"param-variable", "unknown-query-field", "missing-userkey"}
#: aiohttp's default cap on the request line, which carries the whole v2 query.
REQUEST_LINE_MAX = 8190
#: The server answers this near miss with FORBIDDEN_XML today (see test below).
AMPERSAND = "unescaped-ampersand"


def send(world: World, door: str, payload: bytes | str) -> Exchange:
    if isinstance(payload, str):
        return pipeline.handle(world, door, payload.encode(), query=payload)
    return pipeline.handle(world, door, payload)


def send_miss(world: World, miss: NearMiss) -> Exchange:
    if miss.door == "v2":
        assert miss.query is not None and miss.xml is None
        return send(world, "v2", miss.query)
    assert miss.xml is not None and miss.query is None
    return send(world, "v3", miss.xml)


def code(exchange: Exchange) -> str | None:
    return exchange.error.code.value if exchange.error else None


def assert_accepted(exchange: Exchange) -> None:
    assert exchange.request is not None, exchange.error
    if exchange.request.action in BY_REQUESTID:
        assert code(exchange) in {None, *STATE_ONLY}, exchange.error
    else:
        assert exchange.error is None, (exchange.error, exchange.raw)


# ---- valid requests ---------------------------------------------------------------------------
@given(strategies.xml_requests())
def test_xml_requests_are_accepted(body: bytes) -> None:
    assert_accepted(send(World(), "v3", body))


@given(strategies.v2_queries())
def test_v2_queries_are_accepted(query: str) -> None:
    assert_accepted(send(World(), "v2", query))


@given(
    st.sampled_from(["v3", "v2"]).flatmap(
        lambda door: st.tuples(st.just(door), strategies.requests(door=door))
    )
)
def test_what_is_sent_is_what_the_mock_records(drawn: tuple[str, AnveoRequest]) -> None:
    door, request = drawn
    payload = request.to_query() if door == "v2" else request.to_xml()
    exchange = send(World(), door, payload)
    assert exchange.request is not None
    assert exchange.request.params == tuple(request.params)
    assert exchange.request.variables == tuple(request.variables)


@given(data=st.data())
@settings(max_examples=20)
def test_requestid_actions_succeed_for_the_accounts_calls(data: st.DataObject) -> None:
    world = World()
    dial = data.draw(strategies.xml_requests("DIAL.CALLFLOW"))
    requestid = send(world, "v3", dial).body.decode().split('"REQUESTID">')[1][:40]
    status = data.draw(strategies.xml_requests("DIAL.GETSTATUS", requestids=[requestid]))
    reply = send(world, "v3", status)
    assert reply.error is None and b"<RESULT>" in reply.body
    cancel = data.draw(strategies.v2_queries("DIAL.CANCEL", requestids=[requestid]))
    assert send(world, "v2", cancel).error is None


@given(strategies.xml_requests(), strategies.v2_queries())
def test_payloads_fit_the_doors(body: bytes, query: str) -> None:
    assert len(body) <= ServerOptions().max_body
    assert len(f"GET /api/v2.asp?{query} HTTP/1.1") <= REQUEST_LINE_MAX


def test_the_documented_bounds_hold_in_the_worst_case() -> None:
    # The costliest characters: "&" (5 bytes escaped in XML), an emoji (12 bytes in a query).
    name = "V" * 64
    xml_worst = AnveoRequest(
        "k" * 40,
        "DIAL.CALLFLOW",
        (("MEMO", "&" * strategies.MEMO_MAX), ("BILLINGCODE", "&" * strategies.BILLINGCODE_MAX)),
        tuple(
            (f"{name[:-2]}{i:02}", "&" * strategies.VARIABLE_VALUE_MAX)
            for i in range(strategies.XML_LONG_VARIABLES)
        ),
    )
    xml_many = AnveoRequest(
        "k" * 40,
        "DIAL.CALLFLOW",
        (),
        tuple(
            (f"{name[:-2]}{i:02}", "&" * strategies.XML_SHORT_VALUE)
            for i in range(strategies.VARIABLES_MAX)
        ),
    )
    for request in (xml_worst, xml_many):
        assert len(request.to_xml(separator="\r\n")) <= ServerOptions().max_body
    emoji = "\U0001f600"
    v2_worst = AnveoRequest(
        "k" * 40,
        "DIAL.CALLFLOW",
        (
            ("PHONENUMBER", "1" * 15),
            ("CALLERID", "1" * 15),
            ("CALLFLOW", "c" * 40),
            ("DELAY", "86400"),
            ("TEST", "FALSE"),
            ("MEMO", emoji * strategies.V2_TEXT_MAX),
            ("BILLINGCODE", emoji * strategies.V2_TEXT_MAX),
        ),
        tuple(
            (f"{name[:-2]}{i:02}", emoji * strategies.V2_VARIABLE_VALUE_MAX)
            for i in range(strategies.V2_VARIABLES_MAX)
        ),
    )
    line = f"GET /api/v2.asp?{v2_worst.to_query(userkey_field='USERKEY')} HTTP/1.1"
    assert len(line) <= REQUEST_LINE_MAX


# ---- near misses --------------------------------------------------------------------------------
_CHECKED = list(NEAR_MISSES)
NEEDS_SIGNATURE = {"wrong-signature"}


@given(
    st.sampled_from(["v3", "v2"]).flatmap(
        lambda door: strategies.near_misses(door=door, names=_CHECKED)
    )
)
def test_near_misses_get_exactly_their_code(miss: NearMiss) -> None:
    assert code(send_miss(World(), miss)) == miss.code, miss


@pytest.mark.parametrize(
    ("name", "door"),
    [
        (name, door)
        for name in _CHECKED
        for door in ("v3", "v2")
        if name not in NEEDS_SIGNATURE
        and not (name in XML_ONLY and door == "v2")
        and not (name in V2_ONLY and door == "v3")
    ],
)
@settings(max_examples=8)
@given(data=st.data())
def test_every_near_miss_is_reachable(name: str, door: str, data: st.DataObject) -> None:
    miss = data.draw(strategies.near_misses(door=door, names=[name]))
    assert (miss.name, miss.door) == (name, door)
    assert code(send_miss(World(), miss)) == miss.code


@settings(max_examples=5)
@given(strategies.near_misses(names=[AMPERSAND]))
def test_unescaped_ampersand_is_malformed_xml(miss: NearMiss) -> None:
    assert code(send_miss(World(), miss)) == "MALFORMED_XML"


@given(
    strategies.near_misses(
        "DIAL.CONNECT",
        userkey="u" * 40,
        callerids=["15550001111"],
        names=["unverified-callerid", "unknown-userkey"],
    )
)
def test_near_misses_follow_the_account_described(miss: NearMiss) -> None:
    assert miss.base.userkey == "u" * 40
    assert miss.xml is not None
    if miss.name == "unverified-callerid":
        assert b">15550001111<" not in miss.xml
    else:
        assert b"u" * 40 not in miss.xml


def signing_world() -> tuple[World, str]:
    account = Account(
        "s" * 40,
        email="ops@example.com",
        secure_phrase="open sesame",
        require_signature=True,
        verified_callerids={DOCS_CALLERID},
        callflows={DEFAULT_CALLFLOW},
    )
    signature = account.expected_signature()
    assert signature is not None
    return World(Settings(accounts=[account])), signature


_SIGNING_WORLD, _SIGNATURE = signing_world()


@given(
    strategies.xml_requests(userkey="s" * 40, signature=_SIGNATURE),
    strategies.v2_queries(userkey="s" * 40, signature=_SIGNATURE.upper()),
)
def test_requests_carry_the_accounts_signature(body: bytes, query: str) -> None:
    world, _ = signing_world()
    assert_accepted(send(world, "v3", body))
    assert_accepted(send(world, "v2", query))


@given(
    st.sampled_from(["v3", "v2"]).flatmap(
        lambda door: strategies.near_misses(
            door=door, names=["wrong-signature"], userkey="s" * 40, signature=_SIGNATURE
        )
    )
)
def test_wrong_signature_is_refused(miss: NearMiss) -> None:
    world, _ = signing_world()
    assert code(send_miss(world, miss)) == miss.code == "BAD_SIGNATURE"


def test_strategies_know_every_action_and_its_required_parameters() -> None:
    assert set(strategies.ACTIONS) == set(actions.REGISTRY)
    assert strategies.AnveoRequest is strategies.ActionRequest is ActionRequest


@given(st.sampled_from(sorted(actions.REGISTRY)).flatmap(strategies.requests))
def test_drawn_requests_hold_every_required_parameter(request: ActionRequest) -> None:
    sent = {name for name, _ in request.params}
    spec = actions.REGISTRY[request.action]
    assert {p.name for p in spec.params.values() if p.required} <= sent <= set(spec.params)


def test_strategy_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match="unknown action"):
        strategies.requests("DIAL.NOTHING")
    with pytest.raises(ValueError, match="unknown near misses"):
        strategies.near_misses(names=["typo"])
    with pytest.raises(ValueError, match="applies"):
        strategies.near_misses("ACCOUNT.GETBALANCE", names=["bad-callflow"])
    with pytest.raises(ValueError, match="applies"):
        strategies.near_misses(door="v2", names=["truncated"])
    with pytest.raises(ValueError, match="door"):
        strategies.near_misses(door="v9")
    with pytest.raises(ValueError, match="applies"):
        strategies.near_misses(names=["wrong-signature"])  # no signature to get wrong
    with pytest.raises(ValueError, match="call flow"):
        strategies.requests("DIAL.CALLFLOW", callflows=[])


def test_importing_mock_anveo_does_not_import_hypothesis() -> None:
    code_ = (
        "import sys, mock_anveo, mock_anveo.testing.controller, mock_anveo.http.server; "
        "print('hypothesis' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code_], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    assert out.strip() == "False"


def test_importing_the_strategies_does_not_import_lxml() -> None:
    """The testing layer renders requests with ``wire.requests``, which loads no lxml."""
    code_ = (
        "import sys; from mock_anveo import strategies; strategies.xml_requests(); "
        "strategies.near_misses(); print('lxml' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code_], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    assert out.strip() == "False"
