"""A refused request whose USERKEY can be read is journaled on that tenant (bug 7).

Before the fix, a refusal decided before the request was parsed (a misspelt query field, a
lower-case tag) went only to the world's unattributed journal, so ``anveo.requests().last``
silently showed the tenant's previous, older exchange.
"""

from __future__ import annotations

import urllib.request
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mock_anveo.errors import AnveoError, Code
from mock_anveo.sim.world import World
from mock_anveo.testing import strategies
from mock_anveo.testing.controller import MockAnveo
from mock_anveo.wire import pipeline
from mock_anveo.wire.pipeline import Pipeline

from .helpers import KEY, xml_request

BALANCE = "action=ACCOUNT.GETBALANCE"


def _get(anveo: MockAnveo, query: str) -> bytes:
    with urllib.request.urlopen(f"{anveo.url}/api/v2.asp?{query}") as reply:
        return reply.read()


def _post(anveo: MockAnveo, body: bytes, path: str = "/api/v3.asp") -> bytes:
    with urllib.request.urlopen(anveo.url + path, body) as reply:
        return reply.read()


def _accepted_first(anveo: MockAnveo) -> None:
    """An older, successful exchange: the entry a test would misread before the fix."""
    assert b"<RESULT>ERROR</RESULT>" not in _get(anveo, f"userkey={anveo.userkey}&{BALANCE}")


def test_a_misspelt_query_field_is_the_tenants_last_request(anveo: MockAnveo) -> None:
    _accepted_first(anveo)
    reply = _get(anveo, f"userkey={anveo.userkey}&action=DIAL.CONNECT&parm[DELAY]=1")
    assert b"<RESULT>ERROR</RESULT>" in reply
    requests = anveo.requests()
    assert requests.call_count == 2
    assert requests.last.error_code == "BAD_QUERY"


def test_param_variable_with_an_upper_case_userkey_field_is_the_tenants(anveo: MockAnveo) -> None:
    _accepted_first(anveo)
    _get(anveo, f"USERKEY={anveo.userkey}&action=DIAL.CALLFLOW&param[VARIABLE]=x")
    assert anveo.requests().last.error_code == "BAD_QUERY"
    assert anveo.requests().call_count == 2


@pytest.mark.parametrize(("path", "door"), [("/api/v3.asp", "v3"), ("/apicall.asp", "apicall")])
def test_a_lower_case_usertoken_is_the_tenants(anveo: MockAnveo, path: str, door: str) -> None:
    _accepted_first(anveo)
    body = xml_request("ACCOUNT.GETBALANCE", [], userkey=anveo.userkey)
    _post(anveo, body.replace(b"USERTOKEN>", b"usertoken>"), path)
    last = anveo.requests().last
    assert (last.error_code, last.door) == ("WRONG_CASE", door)


def test_a_document_that_does_not_parse_is_the_tenants_when_its_key_is_whole(
    anveo: MockAnveo,
) -> None:
    _accepted_first(anveo)
    body = xml_request("ACCOUNT.GETBALANCE", [("MEMO", "AT&T")], userkey=anveo.userkey)
    _post(anveo, body.replace(b"&amp;", b"&"))
    assert anveo.requests().last.error_code == "MALFORMED_XML"


def test_an_unknown_key_stays_unattributed() -> None:
    world = World()
    pipe = Pipeline(world)
    exchange = pipe.handle("v2", b"", query=f"userkey={'Z' * 40}&action=X&parm[A]=1")
    assert exchange.error is not None and exchange.tenant is None
    assert len(world.unattributed) == 1


#: Mistakes after which no key can be read: none sent, an unknown one, a query posted to the
#: XML door, or a document cut before its </USERKEY>.
KEYLESS = {
    "unknown-userkey",
    "missing-userkey",
    "missing-usertoken",
    "form-to-xml-door",
    "truncated",
}


@given(
    st.sampled_from(["v3", "v2"]).flatmap(
        lambda door: strategies.near_misses(
            door=door, names=[n for n in strategies.NEAR_MISSES if n not in KEYLESS]
        )
    )
)
def test_every_near_miss_with_a_readable_key_is_journaled_on_its_tenant(
    miss: strategies.NearMiss,
) -> None:
    world = World()
    pipe = Pipeline(world)
    if miss.query is not None:
        exchange = pipe.handle("v2", miss.query.encode(), query=miss.query)
    else:
        assert miss.xml is not None
        exchange = pipe.handle("v3", miss.xml)
    assert exchange.error is not None
    assert exchange.tenant is world.get(KEY), miss.name
    assert not len(world.unattributed)


def test_an_http_level_refusal_with_a_readable_key_is_the_tenants() -> None:
    """The doors' own refusals (here: a bug inside the handler) use the same attribution."""
    world = World()
    query = f"userkey={quote(KEY)}&{BALANCE}"
    refused = pipeline.refuse(world, "v2", query.encode(), AnveoError(Code.INTERNAL, "boom"))
    assert refused.tenant is world.get(KEY)
    assert pipeline.refuse(world, "v3", b"", AnveoError(Code.EMPTY_BODY, "empty")).tenant is None
