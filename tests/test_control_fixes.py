"""Control API: filters refuse what they do not know, messages list the real fields, strict
JSON both ways, rules say their kind, and ``until_idle`` never claims an idle it did not reach.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import given
from hypothesis import strategies as st

from mock_anveo.http.app import make_app
from mock_anveo.http.control.common import reply
from mock_anveo.sim.setup import PATCH_FIELDS, TENANT_FIELDS
from mock_anveo.sim.world import World

from .helpers import KEY, Reply, xml_request

T = f"/_mock/tenants/{KEY}"
CONNECT = [("PHONENUMBER", "12157010680"), ("DESTPHONENUMBER", "12125551234")]


@pytest.fixture
async def client() -> AsyncIterator[TestClient]:
    async with TestClient(TestServer(make_app(World()))) as client:
        yield client


async def _json(client: TestClient, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    response = await client.request(method, path, json=body)
    return response.status, await response.json()


async def _ended_call(client: TestClient) -> str:
    reply = Reply(
        await (await client.post("/api/v3.asp", data=xml_request("DIAL.CONNECT", CONNECT))).read()
    )
    await client.post(T + "/clock/advance", json={"until_idle": True})
    return reply.requestid


# ---- item 8: filters and queries ------------------------------------------------------------
@pytest.mark.parametrize(
    ("query", "field", "listed"),
    [
        ("status=BOGUS", "status", "['END', 'INIT', 'NONE', 'START']"),
        ("action=FOO", "action", "DIAL.CALLFLOW"),
        ("colour=red", "colour", "['status', 'action', 'billingcode', 'offset', 'limit']"),
        ("limit=-1", "limit", "whole number"),
        ("status=END&status=INIT", "status", "more than once"),
    ],
)
async def test_calls_refuses_unknown_filters_listing_the_valid_ones(
    client: TestClient, query: str, field: str, listed: str
) -> None:
    await _ended_call(client)
    status, doc = await _json(client, "GET", f"{T}/calls?{query}")
    assert status == 400, doc
    assert doc["field"] == field and listed in doc["error"], doc


async def test_status_filter_takes_any_letter_case(client: TestClient) -> None:
    """``status=end`` once answered ``[]`` although the call had ended."""
    rid = await _ended_call(client)
    for spelled in ("END", "end", "End"):
        status, calls = await _json(client, "GET", f"{T}/calls?status={spelled}")
        assert status == 200 and [c["requestid"] for c in calls] == [rid], spelled
    status, calls = await _json(client, "GET", f"{T}/calls?action=dial.connect")
    assert status == 200 and len(calls) == 1


@pytest.mark.parametrize(
    ("path", "query", "field"),
    [
        (f"{T}/journal", "kind=foo", "kind"),
        (f"{T}/journal", "action=FOO", "action"),
        (f"{T}/journal", "colour=red", "colour"),
        ("/_mock/journal", "kind=foo", "kind"),
        ("/_mock/journal", "colour=red", "colour"),
    ],
)
async def test_journal_refuses_unknown_filters(
    client: TestClient, path: str, query: str, field: str
) -> None:
    status, doc = await _json(client, "GET", f"{path}?{query}")
    assert status == 400 and doc["field"] == field, doc
    assert "valid" in doc["error"] or "must be one of" in doc["error"]


async def test_journal_filters_that_exist_still_filter(client: TestClient) -> None:
    await _ended_call(client)
    _, exchanges = await _json(client, "GET", f"{T}/journal?kind=EXCHANGE")
    assert [e["kind"] for e in exchanges["entries"]] == ["exchange"]
    _, sms = await _json(client, "GET", f"{T}/journal?action=sms")
    assert sms["entries"] == []


# ---- item 16: messages name the real fields -------------------------------------------------
async def test_tenant_create_lists_every_field_it_takes(client: TestClient) -> None:
    status, doc = await _json(client, "POST", "/_mock/tenants", {"colour": "red"})
    assert status == 400 and doc["field"] == "colour"
    for name in ("start", "clock_rate", "scenarios", "faults", "balance"):
        assert repr(name) in doc["error"], name
    assert set(TENANT_FIELDS) >= {"start", "clock_rate", "scenarios", "faults"}


@pytest.mark.parametrize(
    ("body", "field", "said"),
    [
        ({"colour": "red"}, "colour", "'clock_rate'"),
        ({"start": "2026-01-01T00:00:00Z"}, "start", "clock/advance"),
        ({"scenarios": []}, "scenarios", ".../scenarios"),
        ({"faults": []}, "faults", ".../faults"),
        ({"userkey": "other"}, "userkey", "cannot change"),
    ],
)
async def test_tenant_patch_names_what_it_can_change(
    client: TestClient, body: dict[str, Any], field: str, said: str
) -> None:
    status, doc = await _json(client, "PATCH", T, body)
    assert status == 400 and doc["field"] == field and said in doc["error"], doc
    assert "clock_rate" in PATCH_FIELDS


async def test_advance_names_an_unknown_field(client: TestClient) -> None:
    """Once: "send exactly one of seconds, to or until_idle" for {"seconds": 5, "extra": 1}."""
    status, doc = await _json(client, "POST", T + "/clock/advance", {"seconds": 5, "extra": 1})
    assert status == 400 and doc["field"] == "extra", doc
    assert "unknown advance fields ['extra']" in doc["error"]
    _, clock = await _json(client, "GET", T + "/clock")
    assert clock["now"].startswith("2026-01-01T00:00:00")  # nothing moved


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "seconds"),
        ({"seconds": 1, "to": "2026-01-02T00:00:00Z"}, "to"),
        ({"seconds": 1, "max_seconds": 5}, "max_seconds"),
        ({"rate": 1}, "rate"),
    ],
)
async def test_advance_says_which_combination_is_wrong(
    client: TestClient, body: dict[str, Any], field: str
) -> None:
    status, doc = await _json(client, "POST", T + "/clock/advance", body)
    assert status == 400 and doc["field"] == field, doc


async def test_clock_patch_names_its_one_field(client: TestClient) -> None:
    status, doc = await _json(client, "PATCH", T + "/clock", {"rate": 1, "speed": 2})
    assert status == 400 and doc["field"] == "speed" and "['rate']" in doc["error"]
    status, doc = await _json(client, "PATCH", T + "/clock", {"rate": -1})
    assert status == 400 and doc["field"] == "rate" and "rate must be" in doc["error"]


# ---- item 11: until_idle never claims an idle it did not reach -----------------------------
async def test_until_idle_that_hits_its_cap_answers_409_with_what_is_pending(
    client: TestClient,
) -> None:
    await client.post(T + "/scenarios", json={"match": "*", "outcome": "answer", "talk": 86400})
    await client.post("/api/v3.asp", data=xml_request("DIAL.CONNECT", CONNECT))
    status, doc = await _json(
        client, "POST", T + "/clock/advance", {"until_idle": True, "max_seconds": 3600}
    )
    assert status == 409, doc
    assert doc["field"] == "max_seconds" and doc["pending_events"] >= 1
    assert "max_seconds=3600" in doc["error"] and "31622400" in doc["error"]
    # Events up to the cap fired (the call connected); the one past it is still pending.
    assert "2026-01-01T00:00:00" < doc["now"] < doc["next_event_at"]
    status, doc = await _json(
        client, "POST", T + "/clock/advance", {"until_idle": True, "max_seconds": 2 * 86400}
    )
    assert status == 200 and doc["pending_events"] == 0


async def test_until_idle_default_cap_is_61_days(client: TestClient) -> None:
    """The issue's case: a call that outlasts the default cap used to get a 200."""
    await client.post(T + "/scenarios", json={"match": "*", "outcome": "answer", "talk": 86400})
    await client.post(
        "/api/v3.asp", data=xml_request("DIAL.CONNECT", [*CONNECT, ("DELAY", "86400")])
    )  # 60 days, then a day of talk
    status, doc = await _json(client, "POST", T + "/clock/advance", {"until_idle": True})
    assert status == 409 and "max_seconds=5270400" in doc["error"], doc


# ---- item 2: rules say their kind -----------------------------------------------------------
async def test_rules_carry_their_kind(client: TestClient) -> None:
    status, scenario = await _json(client, "POST", T + "/scenarios", {"match": "1212*"})
    assert status == 201 and scenario["rule"] == "scenario" and "kind" not in scenario
    status, fault = await _json(client, "POST", T + "/faults", {"kind": "html"})
    assert status == 201 and fault["rule"] == "fault" and fault["kind"] == "html"
    _, listed = await _json(client, "GET", T + "/scenarios")
    assert [r["rule"] for r in listed] == ["scenario"]
    # A listed rule can be sent back as it is (the server's own fields are ignored).
    status, again = await _json(client, "POST", T + "/scenarios", scenario)
    assert status == 201 and again["id"] != scenario["id"]
    status, doc = await _json(client, "POST", T + "/scenarios", fault)
    assert status == 400 and doc["field"] == "rule"


# ---- item 5: strict JSON both ways ----------------------------------------------------------
@given(
    st.sampled_from(["NaN", "Infinity", "-Infinity", "1e999", "-1e400"]),
    st.sampled_from(["balance", "clock_rate", "rate_per_minute"]),
)
async def test_non_finite_numbers_are_refused_naming_the_field(text: str, name: str) -> None:
    async with TestClient(TestServer(make_app(World()))) as client:
        response = await client.patch(T, data=f'{{"{name}": {text}}}')
        doc = await response.json()
    assert response.status == 400 and doc["field"] == name, doc
    assert "finite" in doc["error"]


async def test_nested_non_finite_numbers_are_found(client: TestClient) -> None:
    response = await client.post(
        T + "/scenarios", data='{"match": "*", "sequence": [{"ring": NaN}]}'
    )
    doc = await response.json()
    assert response.status == 400 and doc["field"] == "sequence[0].ring"
    said = "sequence[0].ring holds NaN, which no field accepts: numbers must be finite"
    assert said in doc["error"]


def test_the_renderer_never_writes_bare_nan() -> None:
    with pytest.raises(ValueError, match="JSON compliant"):
        reply({"x": float("nan")})
    assert json.loads(reply({"x": 1.5}).body)["x"] == 1.5  # type: ignore[arg-type]
