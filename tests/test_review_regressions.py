"""Regression tests for problems an independent review found (one test each)."""

from __future__ import annotations

import json
from decimal import Decimal

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer

from mock_anveo.http.app import make_app
from mock_anveo.http.server import ThreadedServer, start
from mock_anveo.sim import snapshot
from mock_anveo.sim.accounts import Account
from mock_anveo.sim.tenant import Tenant
from mock_anveo.sim.world import World
from mock_anveo.testing.controller import MockAnveo

from .helpers import KEY, Reply, xml_request

CONNECT = [("PHONENUMBER", "12157010680"), ("DESTPHONENUMBER", "12125551234")]


@pytest.fixture
async def client():
    async with TestClient(TestServer(make_app(World()))) as client:
        yield client


async def connect_until_start(client, userkey=KEY) -> str:
    reply = Reply(
        await (
            await client.post("/api/v3.asp", data=xml_request("DIAL.CONNECT", CONNECT, userkey))
        ).read()
    )
    await client.post(f"/_mock/tenants/{userkey}/clock/advance", json={"seconds": 11})
    return reply.requestid


async def test_an_sms_cannot_spend_money_a_live_call_reserved(client):
    await client.patch(f"/_mock/tenants/{KEY}", json={"balance": "0.05"})
    rid = await connect_until_start(client)
    tenant = await (await client.get(f"/_mock/tenants/{KEY}")).json()
    assert tenant["reserved"] == "0.04"
    sms = await client.get(
        "/api/v1.asp",
        params={
            "apikey": KEY,
            "action": "sms",
            "from": "1",
            "destination": "12125551234",
            "message": "hi",
        },
    )
    assert (await sms.text()).startswith("result=error^error=insufficient funds")
    await client.post(f"/_mock/tenants/{KEY}/clock/advance", json={"until_idle": True})
    call = await (await client.get(f"/_mock/tenants/{KEY}/calls/{rid}")).json()
    assert call["reason"] == "answered-completed"
    assert Decimal((await (await client.get(f"/_mock/tenants/{KEY}")).json())["balance"]) >= 0


@pytest.mark.parametrize(
    ("weights", "said"),
    [
        ('{"answer": Infinity}', "weights.answer holds Infinity, which no"),  # the JSON reader
        ('{"answer": 1e308, "busy": 1e308}', "weights.answer must be a number from 0 to 1000000"),
    ],
)
async def test_unbounded_weights_are_refused(client, weights, said):
    response = await client.post(
        f"/_mock/tenants/{KEY}/scenarios", data=f'{{"match": "*", "weights": {weights}}}'
    )
    assert response.status == 400 and said in (await response.json())["error"]


async def test_v1_door_answers_200_and_records_a_bug(client, monkeypatch):
    def boom(*_args):
        raise RuntimeError("sms engine broke")

    monkeypatch.setattr(Tenant, "send_sms", boom)
    response = await client.get(
        "/api/v1.asp",
        params={
            "apikey": KEY,
            "action": "sms",
            "from": "1",
            "destination": "12125551234",
            "message": "x",
        },
    )
    assert response.status == 200
    assert (await response.text()).startswith("result=error^error=internal error")
    errors = await (await client.get("/_mock/errors")).json()
    assert "sms engine broke" in errors[0]["error"]


async def test_reset_of_a_tenant_without_origin_is_a_409_and_keeps_it(client):
    world = World()
    world.add(Account("from-elsewhere"))  # neither configured nor created over the API
    doc = snapshot.snapshot(world)
    assert (await client.put("/_mock/snapshot", json=doc)).status == 200
    response = await client.post("/_mock/tenants/from-elsewhere/reset")
    assert response.status == 409
    assert (await client.get("/_mock/tenants/from-elsewhere")).status == 200


async def test_a_truncated_before_fault_does_not_process_the_request():
    server = await start(World())
    try:
        async with aiohttp.ClientSession() as session:
            await session.post(
                f"{server.url}/_mock/tenants/{KEY}/faults", json={"kind": "truncated"}
            )
            response = await session.post(
                f"{server.url}/api/v3.asp", data=xml_request("DIAL.CONNECT", CONNECT)
            )
            body = await response.read()
            assert body.startswith(b"<?xml") and b"SUCCESS" not in body
            assert not server.world.get(KEY).calls
            journal = await (
                await session.get(f"{server.url}/_mock/tenants/{KEY}/journal?kind=exchange")
            ).json()
            (entry,) = journal["entries"]
            assert entry["error_code"] == "FAULT" and entry["response"]
    finally:
        await server.stop()


async def test_a_snapshot_of_the_wrong_shape_is_a_400(client):
    doc = json.loads(json.dumps(snapshot.snapshot(World())))
    doc["tenants"][0]["charges_by_billingcode"] = []
    response = await client.put("/_mock/snapshot", json=doc)
    assert response.status == 400 and "snapshot is not valid" in (await response.json())["error"]


async def test_a_rate_change_mid_call_does_not_overdraw(client):
    await client.patch(f"/_mock/tenants/{KEY}", json={"balance": "0.05"})
    rid = await connect_until_start(client)
    await client.patch(f"/_mock/tenants/{KEY}", json={"rate_per_minute": "0.02"})
    await client.post(f"/_mock/tenants/{KEY}/clock/advance", json={"until_idle": True})
    call = await (await client.get(f"/_mock/tenants/{KEY}/calls/{rid}")).json()
    assert call["charge"] == "0.04"  # the rate the call was dialled at
    assert Decimal((await (await client.get(f"/_mock/tenants/{KEY}")).json())["balance"]) >= 0


def test_controller_accepts_decimals_for_every_money_field():
    server = ThreadedServer().start()
    try:
        with MockAnveo.remote(server.url) as anveo:
            tenant = anveo.set_account(balance=Decimal("5.5"), rate_per_minute=Decimal("0.0095"))
            assert (tenant["balance"], tenant["rate_per_minute"]) == ("5.5", "0.0095")
    finally:
        server.stop()
