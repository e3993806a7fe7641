"""Issue 12: CALL notifications reach a real receiver after ``advance``, retried 5 virtual
minutes apart with one NOTIFICATIONID, cancelled after 5 failures; unsafe URLs are refused."""

from __future__ import annotations

import aiohttp
import pytest

from mock_anveo.http.server import start
from mock_anveo.sim.world import World

from ..notify_helpers import ThreadReceiver, aiohttp_receiver, control, control_raw, dial

CDR_FIELDS = {
    "NOTIFICATIONID", "NOTIFICATIONTYPE", "EVENTTIME", "ATTEMPT", "STATUS", "PHONENUMBER",
    "DESTPHONENUMBER", "CALLERID", "DIALTIME", "ANSWERTIME", "ENDTIME", "DURATION", "FEE",
    "LEG1FEE", "LEG2FEE", "SOURCE", "ACTION", "RESPONSEID", "BILLINGCODE", "MEMO", "RECORDID",
}  # fmt: skip


async def _tenant(session: aiohttp.ClientSession, base: str, url: str) -> str:
    doc = await control(session, base, "POST", "/tenants", {"notification_url": url})
    return str(doc["userkey"])


async def test_cdr_reaches_an_aiohttp_receiver_with_fields_and_fees(server, session) -> None:
    async with aiohttp_receiver() as receiver:
        key = await _tenant(session, server.url, receiver.url + "/cdr")
        rid = await dial(session, server.url, key, BILLINGCODE="acme", MEMO="hi")
        await control(session, server.url, "POST", f"/tenants/{key}/clock/advance", {"seconds": 0})
        assert receiver.got == []  # nothing before the call ends
        done = await control(
            session, server.url, "POST", f"/tenants/{key}/clock/advance", {"until_idle": True}
        )
        assert done["deliveries"] == 1
        (got,) = receiver.got
        form = got["form"]
        assert got["method"] == "POST" and got["path"] == "/cdr"
        assert set(form) == CDR_FIELDS
        call = await control(session, server.url, "GET", f"/tenants/{key}/calls/{rid}")
        assert form["RESPONSEID"] == rid and form["BILLINGCODE"] == "acme"
        assert form["MEMO"] == "hi" and form["NOTIFICATIONTYPE"] == "CALL"
        assert form["STATUS"] == "ANSWERED-COMPLETED" and form["ATTEMPT"] == "1"
        assert form["FEE"] == call["charge"] and form["RECORDID"] == "1"
        fee = float(form["LEG1FEE"]) + float(form["LEG2FEE"])
        assert fee == pytest.approx(float(form["FEE"])) and float(form["FEE"]) > 0
        (message,) = await control(session, server.url, "GET", f"/tenants/{key}/notifications")
        assert message["state"] == "delivered" and message["id"] == form["NOTIFICATIONID"]
        assert message["attempts"][0]["status"] == 200


async def test_retries_five_minutes_apart_with_one_id(server, session) -> None:
    async with aiohttp_receiver([500, 500, 200]) as receiver:
        key = await _tenant(session, server.url, receiver.url + "/cdr")
        await dial(session, server.url, key, PHONENUMBER="12155550100")  # busy after 2 s
        t = f"/tenants/{key}/clock/advance"
        await control(session, server.url, "POST", t, {"seconds": 2})
        assert [g["form"]["ATTEMPT"] for g in receiver.got] == ["1"]
        await control(session, server.url, "POST", t, {"seconds": 299})
        assert len(receiver.got) == 1  # not before +5 virtual minutes
        await control(session, server.url, "POST", t, {"seconds": 1})
        await control(session, server.url, "POST", t, {"seconds": 300})
        assert [g["form"]["ATTEMPT"] for g in receiver.got] == ["1", "2", "3"]
        assert len({g["form"]["NOTIFICATIONID"] for g in receiver.got}) == 1
        (message,) = await control(session, server.url, "GET", f"/tenants/{key}/notifications")
        attempts = message["attempts"]
        assert [a["status"] for a in attempts] == [500, 500, 200]
        assert [a["at"][11:19] for a in attempts] == ["00:00:02", "00:05:02", "00:10:02"]
        assert message["state"] == "delivered"


async def test_dead_receiver_ends_cancelled_after_five_attempts(server, session) -> None:
    async with aiohttp_receiver() as receiver:
        dead = receiver.url  # closed below: connection refused from then on
    key = await _tenant(session, server.url, dead + "/cdr")
    await dial(session, server.url, key, PHONENUMBER="12155550100")
    done = await control(
        session, server.url, "POST", f"/tenants/{key}/clock/advance", {"until_idle": True}
    )
    assert done["deliveries"] == 5
    (message,) = await control(session, server.url, "GET", f"/tenants/{key}/notifications")
    assert message["state"] == "cancelled" and message["next_attempt_at"] is None
    assert [a["status"] for a in message["attempts"]] == [None] * 5
    assert all(a["error"] for a in message["attempts"])
    minutes = [a["at"][14:16] for a in message["attempts"]]
    assert minutes == ["00", "05", "10", "15", "20"]


async def test_cdr_reaches_a_plain_http_server_in_a_thread(server, session) -> None:
    receiver = ThreadReceiver([503, 204])
    try:
        key = await _tenant(session, server.url, receiver.url + "/hook?src=anveo")
        rid = await dial(session, server.url, key)
        await control(
            session,
            server.url,
            "POST",
            f"/tenants/{key}/clock/advance",
            {"to": "2026-01-01T02:00:00Z"},
        )
        assert [g["form"]["ATTEMPT"] for g in receiver.got] == ["1", "2"]
        assert receiver.got[0]["query"] == {"src": "anveo"}
        assert receiver.got[1]["form"]["RESPONSEID"] == rid
        (message,) = await control(session, server.url, "GET", f"/tenants/{key}/notifications")
        assert message["state"] == "delivered"
    finally:
        receiver.close()


async def test_non_loopback_notification_url_is_refused(server, session) -> None:
    status, doc = await control_raw(
        session, server.url, "POST", "/tenants", {"notification_url": "http://example.com/cdr"}
    )
    assert status == 400 and doc["field"] == "notification_url"
    assert "--callback-allow example.com" in doc["error"]
    key = await _tenant(session, server.url, "http://127.0.0.1:9/cdr")
    for bad in (
        "http://10.0.0.1/x",
        "http://user:pw@127.0.0.1/x",
        "file:///etc/passwd",
        "ftp://127.0.0.1/",
    ):
        status, doc = await control_raw(
            session, server.url, "PATCH", f"/tenants/{key}", {"notification_url": bad}
        )
        assert status == 400 and doc["field"] == "notification_url", (bad, doc)
    tenant = await control(session, server.url, "GET", f"/tenants/{key}")
    assert tenant["notification_url"] == "http://127.0.0.1:9/cdr"  # nothing half-applied


async def test_allowed_host_is_accepted() -> None:
    from mock_anveo.sim.world import Settings

    running = await start(World(Settings(callback_allow=frozenset({"hooks.example"}))))
    try:
        async with aiohttp.ClientSession() as session:
            doc = {"notification_url": "https://hooks.example/cdr"}
            tenant = await control(session, running.url, "POST", "/tenants", doc)
            assert tenant["notification_url"] == doc["notification_url"]
            status, _ = await control_raw(
                session,
                running.url,
                "POST",
                "/tenants",
                {"notification_url": "http://other.example/"},
            )
            assert status == 400
    finally:
        await running.stop()


async def test_test_requests_and_accounts_without_url_send_nothing(server, session) -> None:
    async with aiohttp_receiver() as receiver:
        key = await _tenant(session, server.url, receiver.url)
        await dial(session, server.url, key, TEST="TRUE")
        plain = await control(session, server.url, "POST", "/tenants", {})
        await dial(session, server.url, plain["userkey"])
        for k in (key, plain["userkey"]):
            await control(
                session, server.url, "POST", f"/tenants/{k}/clock/advance", {"until_idle": True}
            )
            assert await control(session, server.url, "GET", f"/tenants/{k}/notifications") == []
        assert receiver.got == []


async def test_pending_delivery_survives_snapshot_and_state_file(server, session, tmp_path) -> None:
    from mock_anveo.http.statefile import StateFile

    async with aiohttp_receiver() as gone:
        dead = gone.url
    key = await _tenant(session, server.url, dead + "/cdr")
    await dial(session, server.url, key, PHONENUMBER="12155550100")
    await control(session, server.url, "POST", f"/tenants/{key}/clock/advance", {"seconds": 2})
    (before,) = await control(session, server.url, "GET", f"/tenants/{key}/notifications")
    assert before["state"] == "pending" and len(before["attempts"]) == 1
    state = StateFile(tmp_path / "state.json")
    state.save(server.world)
    world = World()
    state.restore(world)
    assert world.tenants[key].outbox.next_due() is not None
    restored = await start(world)
    try:
        async with aiohttp_receiver() as receiver:
            port = receiver.url.rsplit(":", 1)[1]
            # the receiver came back on another port: point the pending message there
            world.tenants[key].outbox.messages[before["id"]].url = f"http://127.0.0.1:{port}/cdr"
            await control(
                session, restored.url, "POST", f"/tenants/{key}/clock/advance", {"seconds": 300}
            )
            (after,) = await control(session, restored.url, "GET", f"/tenants/{key}/notifications")
            assert after["state"] == "delivered"
            assert after["attempts"][0] == before["attempts"][0]
            assert receiver.got[0]["form"]["ATTEMPT"] == "2"
            assert receiver.got[0]["form"]["NOTIFICATIONID"] == before["id"]
        snap = await control(session, restored.url, "GET", "/snapshot")
        await control(session, server.url, "PUT", "/snapshot", snap)
        (again,) = await control(session, server.url, "GET", f"/tenants/{key}/notifications")
        assert again == after
    finally:
        await restored.stop()
