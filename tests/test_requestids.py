"""What the ``n`` of a REQUESTID (SHA-1 of ``seed:userkey:n``) counts, as docs/compatibility.md
says: the requests the tenant accepted that got an id, not every request it received; so a
tenant deleted and created again hands out the same REQUESTIDs again."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient, TestServer

from mock_anveo.errors import AnveoError
from mock_anveo.http.app import make_app
from mock_anveo.sim.accounts import DEFAULT_CALLFLOW, DOCS_CALLERID
from mock_anveo.sim.world import World

from .helpers import KEY, Reply, xml_request

CONNECT = [("PHONENUMBER", DOCS_CALLERID), ("DESTPHONENUMBER", "12125551234")]


def _nth(userkey: str, n: int, seed: int = 0) -> str:
    return hashlib.sha1(f"{seed}:{userkey}:{n}".encode()).hexdigest()


def test_n_counts_accepted_dials_and_sms_not_refusals_or_status_requests():
    tenant = World().tenants[KEY]
    first = tenant.dial_connect(DOCS_CALLERID, "12125551234").requestid
    with pytest.raises(AnveoError):  # refused: no id handed out, nothing counted
        tenant.dial_connect(DOCS_CALLERID, "12125551234", callerid="19995550000")
    tenant.status(first)
    test = tenant.dial_connect(DOCS_CALLERID, "12125551234", test=True).requestid
    sms = tenant.send_sms(DOCS_CALLERID, "12125551234", "hi", 1).smsid
    flow = tenant.dial_callflow(
        "12125551234", callerid=DOCS_CALLERID, callflow=DEFAULT_CALLFLOW
    ).requestid
    assert [first, test, sms, flow] == [_nth(KEY, n) for n in (1, 2, 3, 4)]


@pytest.fixture
async def client() -> AsyncIterator[TestClient]:
    async with TestClient(TestServer(make_app(World()))) as client:
        yield client


async def test_a_deleted_and_recreated_or_reset_tenant_gets_the_same_requestids_again(
    client: TestClient,
):
    userkey = "recreated0000000000000000000000000000000"
    account = {"userkey": userkey, "verified_callerids": [DOCS_CALLERID]}

    async def dial() -> str:
        reply = await client.post("/api/v3.asp", data=xml_request("DIAL.CONNECT", CONNECT, userkey))
        return Reply(await reply.read()).values["REQUESTID"]

    assert (await client.post("/_mock/tenants", json=account)).status == 201
    before = [await dial(), await dial()]
    assert (await client.delete(f"/_mock/tenants/{userkey}")).status == 200
    assert (await client.post("/_mock/tenants", json=account)).status == 201
    assert [await dial(), await dial()] == before == [_nth(userkey, 1), _nth(userkey, 2)]
    assert (await client.post(f"/_mock/tenants/{userkey}/reset")).status == 200
    assert await dial() == before[0]  # a reset starts the count again too
