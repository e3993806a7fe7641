"""What a stranger found about faults and journals: a 2xx http-status fault keeps the envelope,
a fault that stops a request is journaled as FAULT, journal DELETE honours no unknown query,
and the v1 door journals its parameters."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer

from mock_anveo.http.app import make_app
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
