"""Issue 12: inbound SMS forwards (percent-encoded, emoji intact), SMS delivery reports, and
the built-in sink."""

from __future__ import annotations

import pytest

from ..notify_helpers import aiohttp_receiver, control, control_raw

NASTY = "Tom & Jerry = 100% #1 + more 😀 ünïcode / ?x=y"


async def test_inbound_sms_reaches_the_receiver_query_intact(server, session) -> None:
    async with aiohttp_receiver() as receiver:
        template = receiver.url + "/sms?from=$[from]$&to=$[to]$&message=$[message]$"
        doc = {"numbers": [{"number": "12155550123", "sms_url": template}]}
        key = (await control(session, server.url, "POST", "/tenants", doc))["userkey"]
        sent = {"from": "4915112345678", "to": "12155550123", "message": NASTY}
        out = await control(session, server.url, "POST", f"/tenants/{key}/sms/inbound", sent)
        assert out["forwarded"] is True
        (got,) = receiver.got  # the first attempt completed before the verb answered
        assert got["method"] == "GET"
        assert got["query"] == {"from": "4915112345678", "to": "12155550123", "message": NASTY}
        (message,) = await control(session, server.url, "GET", f"/tenants/{key}/notifications")
        assert message["type"] == "FORWARD" and message["state"] == "delivered"
        assert message["fields"]["message"] == NASTY


async def test_inbound_sms_to_a_foreign_number_is_a_clear_400(server, session) -> None:
    doc = {"numbers": [{"number": "12155550123"}]}
    key = (await control(session, server.url, "POST", "/tenants", doc))["userkey"]
    bad = {"from": "1", "to": "19999999999", "message": "hi"}
    status, error = await control_raw(
        session, server.url, "POST", f"/tenants/{key}/sms/inbound", bad
    )
    assert status == 400 and error["field"] == "to" and "12155550123" in error["error"]
    ok = {"from": "1", "to": "12155550123", "message": "hi"}
    out = await control(session, server.url, "POST", f"/tenants/{key}/sms/inbound", ok)
    assert out["forwarded"] is False  # a number without sms_url forwards nothing


async def test_sms_delivery_reports_via_the_builtin_sink(server, session) -> None:
    sink = server.url + "/_mock/sink/reports"
    key = (await control(session, server.url, "POST", "/tenants", {"notification_url": sink}))[
        "userkey"
    ]
    for destination in ("12155550199", "12155550102", "12155550101"):
        query = {
            "apikey": key,
            "action": "sms",
            "from": "12155550123",
            "destination": destination,
            "message": "hi",
        }
        async with session.get(server.url + "/api/v1.asp", params=query) as response:
            assert "result=success" in await response.text()
    await control(session, server.url, "POST", f"/tenants/{key}/clock/advance", {"seconds": 4})
    assert await control(session, server.url, "GET", "/sinks/reports") == []
    await control(session, server.url, "POST", f"/tenants/{key}/clock/advance", {"seconds": 1})
    got = await control(session, server.url, "GET", "/sinks/reports")
    reports = {g["form"]["DESTINATION"]: g["form"]["STATUS"] for g in got}
    assert reports == {"12155550199": "DELIVERED", "12155550102": "FAILED"}
    assert all(g["form"]["NOTIFICATIONTYPE"] == "SMS" for g in got)


async def test_sink_can_answer_an_error_status(server, session) -> None:
    sink = server.url + "/_mock/sink/failing?status=500"
    key = (await control(session, server.url, "POST", "/tenants", {"notification_url": sink}))[
        "userkey"
    ]
    query = {
        "apikey": key,
        "action": "sms",
        "from": "1",
        "destination": "12155550199",
        "message": "x",
    }
    async with session.get(server.url + "/api/v1.asp", params=query) as response:
        assert response.status == 200
    await control(session, server.url, "POST", f"/tenants/{key}/clock/advance", {"seconds": 3600})
    got = await control(session, server.url, "GET", "/sinks/failing")
    assert [g["form"]["ATTEMPT"] for g in got] == ["1", "2", "3", "4", "5"]
    (message,) = await control(session, server.url, "GET", f"/tenants/{key}/notifications")
    assert message["state"] == "cancelled"


async def test_a_forward_is_retried_like_a_notification(server, session) -> None:
    async with aiohttp_receiver([500, 502, 200]) as receiver:
        template = receiver.url + "/sms?m=$[message]$"
        doc = {"numbers": [{"number": "12155550123", "sms_url": template}]}
        key = (await control(session, server.url, "POST", "/tenants", doc))["userkey"]
        sent = {"from": "4915112345678", "to": "12155550123", "message": NASTY}
        out = await control(session, server.url, "POST", f"/tenants/{key}/sms/inbound", sent)
        assert out["message"]["state"] == "pending" and len(receiver.got) == 1
        advance = f"/tenants/{key}/clock/advance"
        await control(session, server.url, "POST", advance, {"seconds": 299})
        assert len(receiver.got) == 1  # not before +5 virtual minutes
        await control(session, server.url, "POST", advance, {"seconds": 301})
        assert [g["query"]["m"] for g in receiver.got] == [NASTY] * 3  # same URL each time
        (message,) = await control(session, server.url, "GET", f"/tenants/{key}/notifications")
    assert message["state"] == "delivered"
    assert [a["status"] for a in message["attempts"]] == [500, 502, 200]
    assert [a["at"][11:19] for a in message["attempts"]] == ["00:00:00", "00:05:00", "00:10:00"]


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize(
    ("path", "said"),
    [
        ("/_mock/sink/a/b", "is not a sink URL, so nothing was captured"),
        ("/_mock/sink/", "is not a sink URL, so nothing was captured"),
        ("/_mock/sinks/a/b", "reads no sink"),
    ],
)
async def test_a_sink_url_with_a_wrong_path_is_a_404_naming_the_path(
    server, session, method: str, path: str, said: str
) -> None:
    # With a query, as a forward template's URL has one: the answer is about the path, not
    # "takes no query parameters" (the query is fine on a sink).
    url = server.url + path + "?from=12155550123&text=hi"
    async with session.request(method, url, data=b"STATUS=DELIVERED") as response:
        status, error = response.status, await response.json()
    assert status == 404
    assert error["error"].startswith(f"{method} {path} {said}: ")
    assert "/_mock/sink/NAME" in error["error"] and "/_mock/sinks/NAME" in error["error"]
    assert "query" not in error["error"]
    assert await control(session, server.url, "GET", "/sinks/a") == []  # nothing captured


async def test_an_unknown_control_path_with_a_query_is_a_404(server, session) -> None:
    async with session.get(server.url + "/_mock/tenants/k/bogus?x=1") as response:
        status, error = response.status, await response.json()
    assert status == 404
    assert error["error"].startswith("Not Found: GET /_mock/tenants/k/bogus")
