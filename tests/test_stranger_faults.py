"""What a stranger found about faults and journals: a 2xx http-status fault keeps the envelope,
a fault that stops a request is journaled as FAULT, journal DELETE honours no unknown query,
and the v1 door journals its parameters."""

from __future__ import annotations

import contextlib
import urllib.request
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer

from mock_anveo import MockAnveo
from mock_anveo.http.app import make_app
from mock_anveo.http.base import ServerOptions
from mock_anveo.sim.world import World

from .helpers import KEY, Reply, xml_request

T = f"/_mock/tenants/{KEY}"
BALANCE = xml_request("ACCOUNT.GETBALANCE", [])


@pytest.fixture
async def client() -> AsyncIterator[TestClient]:
    async with TestClient(TestServer(make_app(World()))) as client:
        yield client


async def _last(client: TestClient) -> dict[str, Any]:
    entries = (await (await client.get(T + "/journal?kind=exchange")).json())["entries"]
    return entries[-1]


@pytest.mark.parametrize("status", [200, 202, 299])
async def test_a_2xx_http_status_fault_after_keeps_the_real_reply(
    client: TestClient, status: int
) -> None:
    fault = {"kind": "http-status", "status": status, "when": "after"}
    assert (await client.post(T + "/faults", json=fault)).status == 201
    response = await client.post("/api/v3.asp", data=BALANCE)
    assert response.status == status
    assert response.content_type == "application/xml"
    assert Reply(await response.read()).result == "100.00"


async def test_a_2xx_http_status_fault_before_is_a_fault_refusal(client: TestClient) -> None:
    fault = {"kind": "http-status", "status": 200, "when": "before"}
    assert (await client.post(T + "/faults", json=fault)).status == 201
    response = await client.post("/api/v3.asp", data=BALANCE)
    assert response.status == 200 and response.content_type == "application/xml"
    assert "nothing was done" in (Reply(await response.read()).error or "")
    assert (await _last(client))["error_code"] == "FAULT"


@pytest.mark.parametrize(
    ("kind", "extra"),
    [("html", {}), ("http-status", {"status": 503}), ("truncated", {}), ("reset", {})],
)
async def test_a_fault_that_stops_the_request_is_journaled_as_fault(
    client: TestClient, kind: str, extra: dict[str, Any]
) -> None:
    assert (await client.post(T + "/faults", json={"kind": kind, **extra})).status == 201
    with contextlib.suppress(aiohttp.ClientError):  # a reset fault drops the connection
        await (await client.post("/api/v3.asp", data=BALANCE)).read()
    entry = await _last(client)
    assert entry["error_code"] == "FAULT"
    assert entry["detail"].startswith(kind + ":")


async def test_an_after_fault_keeps_the_real_outcome_in_the_journal(client: TestClient) -> None:
    assert (await client.post(T + "/faults", json={"kind": "html", "when": "after"})).status == 201
    await (await client.post("/api/v3.asp", data=BALANCE)).read()
    assert (await _last(client))["error_code"] is None


@pytest.mark.parametrize("query", ["kind=transition", "action=SMS", "since=3", "colour=red"])
async def test_journal_delete_refuses_any_query_and_deletes_nothing(
    client: TestClient, query: str
) -> None:
    await (await client.post("/api/v3.asp", data=BALANCE)).read()
    response = await client.delete(f"{T}/journal?{query}")
    assert response.status == 400
    refusal = await response.json()
    assert refusal["field"] == query.split("=", maxsplit=1)[0] and "no query" in refusal["error"]
    assert (await _last(client))["action"] == "ACCOUNT.GETBALANCE"


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/_mock/reset"), ("DELETE", T + "/faults"), ("POST", T + "/reset")],
)
async def test_no_control_request_ignores_a_query(client: TestClient, method: str, path: str):
    response = await client.request(method, path + "?dry_run=1")
    assert response.status == 400 and (await response.json())["field"] == "dry_run"


def test_v1_sms_parameters_are_journaled_for_assert_called_with() -> None:

    with MockAnveo() as anveo:
        query = urlencode(
            {
                "apikey": anveo.userkey,
                "action": "sms",
                "from": "12157010680",
                "destination": "12125551234",
                "message": "hello",
            }
        )
        with urllib.request.urlopen(f"{anveo.v1_url}?{query}", timeout=10) as reply:
            assert reply.read().startswith(b"result=success")
        sent = anveo.requests()
        sent.assert_called_with(destination="12125551234", message="hello")
        sent.assert_called_with(**{"from": "12157010680"})
        with pytest.raises(AssertionError, match="destination"):
            sent.assert_called_with(destination="12125550000")


async def test_the_401_says_how_to_give_the_token() -> None:
    app = make_app(World(), ServerOptions(control_token="s3cret"))
    async with TestClient(TestServer(app)) as client:
        response = await client.get("/_mock/tenants")
        assert response.status == 401
        message = (await response.json())["error"]
        for needed in ("Authorization: Bearer", "X-Mock-Token", "MOCK_ANVEO_CONTROL_TOKEN"):
            assert needed in message
