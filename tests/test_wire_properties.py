"""Property tests of the wire layer and validation, through both doors.

Bounds: phone numbers 7-15 digits (the contract's format); free text up to the documented
maxima; at most one of each optional parameter (they are not repeatable).
"""

from __future__ import annotations

import re

import pytest
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from mock_anveo import contract
from mock_anveo.http.app import make_app
from mock_anveo.sim.accounts import DOCS_CALLERID
from mock_anveo.sim.world import World
from mock_anveo.testing.valid import values
from mock_anveo.wire import actions, pipeline, rules, xsd

from .helpers import Reply, v2_query, xml_request

DOORS = ("v3", "apicall", "v2")
PHONE = st.from_regex(contract.PHONE.pattern or "", fullmatch=True)
# XML 1.0 text without control characters; the mock strips XML whitespace at both ends.
TEXT_CHARS = st.characters(min_codepoint=0x20, max_codepoint=0xFFFD, exclude_categories=("Cs",))


def _case(word: str) -> st.SearchStrategy[str]:
    return st.lists(st.booleans(), min_size=len(word), max_size=len(word)).map(
        lambda flips: "".join(
            c.upper() if f else c.lower() for c, f in zip(word, flips, strict=True)
        )
    )


OPTIONAL = {
    "MAXCALLDURATION": values(contract.DURATION),
    "CALLERID": st.just(DOCS_CALLERID),  # must be verified for the account
    "DELAY": values(contract.DELAY),
    "MEMO": st.text(TEXT_CHARS, max_size=200),
    "BILLINGCODE": st.text(TEXT_CHARS, max_size=60),
    "TEST": st.sampled_from(["TRUE", "FALSE"]).flatmap(_case),
    "SIGNATURE": st.from_regex(r"[0-9a-fA-F]{40}", fullmatch=True),
}


@st.composite
def valid_connect(draw: st.DrawFn) -> list[tuple[str, str]]:
    """Both required parameters plus any subset of the optional ones, in any order."""
    params = [("PHONENUMBER", draw(PHONE)), ("DESTPHONENUMBER", draw(PHONE))]
    chosen = draw(st.lists(st.sampled_from(sorted(OPTIONAL)), unique=True))
    params += [(name, draw(OPTIONAL[name])) for name in chosen]
    return draw(st.permutations(params))


def send(
    world: World, door: str, params: list[tuple[str, str]], action: str = "DIAL.CONNECT"
) -> Reply:
    if door == "v2":
        exchange = pipeline.handle(world, door, b"", query=v2_query(action, params))
    else:
        exchange = pipeline.handle(world, door, xml_request(action, params))
    return Reply(exchange.body)


WORLD = World()
SEEN: set[str] = set()


@given(valid_connect(), st.sampled_from(DOORS))
def test_every_valid_dial_connect_succeeds_with_a_fresh_requestid(params, door):
    reply = send(WORLD, door, params)
    assert reply.result == "SUCCESS", reply.error
    assert reply.requestid not in SEEN
    SEEN.add(reply.requestid)


def _mutations(params: list[tuple[str, str]]) -> st.SearchStrategy[tuple[str, list]]:
    names = [n for n, _ in params]
    options: list[st.SearchStrategy[tuple[str, list]]] = []
    for required in ("PHONENUMBER", "DESTPHONENUMBER"):
        options.append(st.just((required, [p for p in params if p[0] != required])))
    for phone in ("PHONENUMBER", "DESTPHONENUMBER"):
        bad = st.from_regex(r"[0-9]{0,6}[^0-9\s][0-9]{0,6}", fullmatch=True).filter(
            lambda v: v.strip() and "\x00" not in v and v.isprintable()
        )
        options.append(
            bad.map(lambda v, n=phone: (n, [(k, v if k == n else x) for k, x in params]))
        )
    out_of_range = st.one_of(
        st.integers(86401, 10**9).map(lambda v: ("DELAY", str(v))),
        st.sampled_from(["0", "1441", "99999"]).map(lambda v: ("MAXCALLDURATION", v)),
    )
    options.append(
        out_of_range.map(lambda nv: (nv[0], [p for p in params if p[0] != nv[0]] + [nv]))
    )
    options.append(
        st.sampled_from(names).map(
            lambda n: (n, [(k.lower() if k == n else k, v) for k, v in params])
        )
    )
    options.append(st.sampled_from(params).map(lambda p: (p[0], [*params, p])))
    unknown = st.from_regex(r"[A-Z][A-Z_]{2,15}", fullmatch=True).filter(
        lambda n: n not in actions.REGISTRY["DIAL.CONNECT"].params and n != "VARIABLE"
    )
    options.append(unknown.map(lambda n: (n, [*params, (n, "1")])))
    return st.one_of(options)


@given(st.data(), valid_connect(), st.sampled_from(DOORS))
def test_every_single_fault_is_refused_naming_the_parameter(data, params, door):
    name, mutated = data.draw(_mutations(params))
    reply = send(World(), door, mutated)
    assert reply.result == "ERROR"
    assert name in reply.error.upper(), (name, reply.error)


@given(st.binary(max_size=2000), st.sampled_from(["v3", "apicall"]))
def test_arbitrary_bytes_get_an_envelope_never_an_exception(body, door):
    world = World()
    exchange = pipeline.handle(world, door, body)
    Reply(exchange.body)


XMLISH = st.lists(
    st.sampled_from(
        [
            b"<REQUEST>",
            b"</REQUEST>",
            b"<USERTOKEN>",
            b"</USERTOKEN>",
            b"<USERKEY>",
            b"</USERKEY>",
            b"df141891e2e883904b0b294dc5bq79c1c1c13f6d",
            b'<ACTION NAME="DIAL.CONNECT">',
            b"</ACTION>",
            b'<PARAMETER NAME="PHONENUMBER">',
            b'<PARAMETER NAME="DELAY">',
            b"</PARAMETER>",
            b'<PARAMETER NAME="VARIABLE" VARIABLENAME="X">',
            b"12157010680",
            b"&amp;",
            b"&x;",
            b"<![CDATA[x]]>",
            b"<!-- c -->",
            b"<?pi?>",
            b"\xff",
            b"\x00",
            b" ",
            b"\n",
            b"<",
            b">",
            b'<?xml version="1.0"?>',
            b"<!DOCTYPE REQUEST>",
            b'NAME="',
            b"<ACTION/>",
        ]
    ),
    max_size=40,
).map(b"".join)


@given(XMLISH)
def test_xml_like_garbage_gets_an_envelope(body):
    exchange = pipeline.handle(World(), "v3", body)
    reply = Reply(exchange.body)
    assert reply.ok == (exchange.error is None)


@given(st.text(max_size=300))
def test_arbitrary_query_strings_get_an_envelope(query):
    exchange = pipeline.handle(World(), "v2", query.encode("utf-8", "replace"), query=query)
    Reply(exchange.body)


QUERYISH = st.lists(
    st.sampled_from(
        [
            "userkey=df141891e2e883904b0b294dc5bq79c1c1c13f6d",
            "USERKEY=x",
            "action=DIAL.CONNECT",
            "action=DIAL.GETSTATUS",
            "param[PHONENUMBER]=12157010680",
            "param[DELAY]=5",
            "param[REQUESTID]=" + "a" * 40,
            "var[X]=1",
            "param[]=",
            "%ff",
            "%00",
            "=",
            "&",
            "param[",
            "param[DESTPHONENUMBER]=12125550123",
            "param[VARIABLE]=1",
            "%5B",
            "+",
        ]
    ),
    max_size=12,
).map("&".join)


@given(QUERYISH)
def test_query_like_garbage_gets_an_envelope(query):
    exchange = pipeline.handle(World(), "v2", query.encode(), query=query)
    Reply(exchange.body)


# ---- actions.xsd and the contract's rules must agree on values (tests/test_contract.py: on
# structure) --------------------------------------------------------------------------------
VALUES = (
    st.one_of(
        st.from_regex(r"[0-9]{1,20}", fullmatch=True),
        st.from_regex(r"[0-9a-fA-F]{38,42}", fullmatch=True),
        st.from_regex(r"[0-9A-Za-z]{39,41}", fullmatch=True),
        st.sampled_from(
            [
                "TRUE",
                "false",
                "TrUe",
                "yes",
                "0",
                "-1",
                "+5",
                "1e3",
                "٣٤٥٦٧٨٩",
                "0000000086400",
                "86400",
                "86401",
                "1440",
                "1441",
                "00",
            ]
        ),
        st.text(TEXT_CHARS, max_size=30),
        st.text(TEXT_CHARS, min_size=250, max_size=1100),
    )
    .map(lambda v: v.strip(" \t\r\n"))
    .filter(bool)
)


@given(st.sampled_from(sorted(actions.REGISTRY)), st.data())
def test_schema_and_python_rules_agree(action_name, data):
    spec = actions.REGISTRY[action_name]
    assume(spec.params)
    name = data.draw(st.sampled_from(sorted(spec.params)))
    value = data.draw(VALUES)
    canonical = xsd.build_canonical(action_name, [(name, value)], [])
    errors = xsd.ACTIONS_SCHEMA.validate(canonical) or [
        e for e in xsd.ACTIONS_SCHEMA.error_log if e.message.startswith(f"Element '{name}'")
    ]
    schema_ok = errors is True
    python_ok = rules.problem(spec.params[name].kind, name, value) is None
    if schema_ok:  # a whole valid document: the Python rule must accept the value too
        assert python_ok, (name, value)
    else:  # missing required siblings make the document invalid: judge only this parameter
        assert bool(errors) != python_ok, (name, value, errors)


# ---- the same through the real HTTP server ------------------------------------------------------
@pytest.fixture
async def client():
    async with TestClient(TestServer(make_app(World()))) as client:
        yield client


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=st.binary(max_size=500),
    door=st.sampled_from(["/api/v3.asp", "/apicall.asp"]),
    content_type=st.sampled_from(
        [
            None,
            "application/xml",
            "text/xml; charset=UTF-8",
            "application/x-www-form-urlencoded",
            "multipart/form-data",
            "nonsense",
        ]
    ),
)
async def test_arbitrary_bodies_over_http_get_200_and_an_envelope(client, body, door, content_type):
    headers = {"Content-Type": content_type} if content_type else {}
    response = await client.post(door, data=body, headers=headers)
    assert response.status == 200
    Reply(await response.read())


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    query=st.text(
        st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters="#"), max_size=200
    )
)
async def test_arbitrary_queries_over_http_get_200_and_an_envelope(client, query):
    response = await client.get("/api/v2.asp?" + query)
    assert response.status == 200
    Reply(await response.read())


async def test_wrong_methods_and_empty_bodies_get_envelopes(client):
    for method, path in [
        ("GET", "/api/v3.asp"),
        ("PUT", "/apicall.asp"),
        ("DELETE", "/api/v2.asp"),
        ("POST", "/api/v3.asp"),
    ]:
        response = await client.request(method, path)
        reply = Reply(await response.read())
        assert response.status == 200
        assert reply.result == "ERROR"
        assert re.search(r"POST|GET|empty", reply.error), reply.error
