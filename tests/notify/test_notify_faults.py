"""Faults on the way out: a duplicate delivery, a delayed message and two messages delivered
out of order, as fault rules on the tenant's outgoing messages (virtual time throughout)."""

from __future__ import annotations

import aiohttp

from ..notify_helpers import aiohttp_receiver, control, control_raw, dial


async def _tenant(session: aiohttp.ClientSession, base: str, url: str, fault: dict) -> str:
    doc = await control(session, base, "POST", "/tenants", {"notification_url": url})
    key = str(doc["userkey"])
    await control(session, base, "POST", f"/tenants/{key}/faults", fault)
    return key


async def _advance(session: aiohttp.ClientSession, base: str, key: str, seconds: int) -> None:
    await control(session, base, "POST", f"/tenants/{key}/clock/advance", {"seconds": seconds})


async def test_a_duplicate_fault_delivers_the_same_message_twice(server, session) -> None:
    async with aiohttp_receiver() as receiver:
        fault = {"kind": "duplicate", "action": "CALL"}
        key = await _tenant(session, server.url, receiver.url + "/cdr", fault)
        await dial(session, server.url, key, PHONENUMBER="12155550100")  # busy after 2 s
        await _advance(session, server.url, key, 2)
        ids = [g["form"]["NOTIFICATIONID"] for g in receiver.got]
        assert len(ids) == 2 and ids[0] == ids[1]  # a receiver must de-duplicate by the id
        (message,) = await control(session, server.url, "GET", f"/tenants/{key}/notifications")
        assert message["state"] == "delivered" and len(message["attempts"]) == 2


async def test_a_delay_fault_holds_the_first_attempt_in_virtual_time(server, session) -> None:
    async with aiohttp_receiver() as receiver:
        fault = {"kind": "delay", "seconds": 600}
        key = await _tenant(session, server.url, receiver.url + "/cdr", fault)
        await dial(session, server.url, key, PHONENUMBER="12155550100")
        await _advance(session, server.url, key, 601)
        assert receiver.got == []
        await _advance(session, server.url, key, 1)
        assert len(receiver.got) == 1
        (message,) = await control(session, server.url, "GET", f"/tenants/{key}/notifications")
        assert message["attempts"][0]["at"][11:19] == "00:10:02"


async def test_an_out_of_order_fault_lets_the_next_message_overtake(server, session) -> None:
    async with aiohttp_receiver() as receiver:
        fault = {"kind": "out-of-order", "nth": 1, "times": 1}
        key = await _tenant(session, server.url, receiver.url + "/cdr", fault)
        first = await dial(session, server.url, key, PHONENUMBER="12155550100")
        await _advance(session, server.url, key, 10)  # the first call ended: its CDR held
        assert receiver.got == []
        second = await dial(session, server.url, key, PHONENUMBER="12155550100")
        await _advance(session, server.url, key, 10)
        order = [g["form"]["RESPONSEID"] for g in receiver.got]
        assert order == [second, first]


async def test_message_faults_name_message_types_and_no_door(server, session) -> None:
    doc = await control(session, server.url, "POST", "/tenants", {})
    path = f"/tenants/{doc['userkey']}/faults"
    for bad, field in (
        ({"kind": "duplicate", "action": "DIAL.CONNECT"}, "action"),
        ({"kind": "delay", "door": "v3"}, "door"),
        ({"kind": "delay", "seconds": 86_401}, "seconds"),
    ):
        status, reply = await control_raw(session, server.url, "POST", path, bad)
        assert status == 400 and reply["field"] == field, reply
    assert await control(session, server.url, "GET", path) == []
