"""The Anveo doors: any letter case in paths, exact form bytes in the journal, faults on the v1
door, a stalled body's connection closed right after its reply, and logging kept to our own.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from mock_anveo.http.app import ServerOptions, make_app
from mock_anveo.http.server import start
from mock_anveo.sim.world import World

from .helpers import KEY, Reply, v2_query, xml_request

T = f"/_mock/tenants/{KEY}"
SMS = {
    "apikey": KEY,
    "action": "sms",
    "from": "12157010680",
    "destination": "12125551234",
    "message": "hi",
}


@pytest.fixture
async def client() -> AsyncIterator[TestClient]:
    async with TestClient(TestServer(make_app(World()))) as client:
        yield client


# ---- item 15: IIS ignores letter case in paths ----------------------------------------------
@pytest.mark.parametrize("path", ["/API/V3.ASP", "/Api/V3.asp", "/APICALL.ASP"])
async def test_xml_doors_answer_in_any_letter_case(client: TestClient, path: str) -> None:
    response = await client.post(path, data=xml_request("ACCOUNT.GETBALANCE", []))
    assert response.status == 200 and Reply(await response.read()).result == "100.00"


async def test_get_and_text_doors_answer_in_any_letter_case(client: TestClient) -> None:
    response = await client.get("/Api/V2.asp?" + v2_query("ACCOUNT.GETBALANCE", []))
    assert Reply(await response.read()).result == "100.00"
    response = await client.get("/API/v1.ASP", params=SMS)
    assert (await response.text()).startswith("result=success^")
    _, entries = await _journal(client)
    assert [e["door"] for e in entries] == ["v2", "v1"]


async def test_the_control_api_stays_case_sensitive(client: TestClient) -> None:
    assert (await client.get("/_MOCK/health")).status == 404
    assert (await client.get("/_mock/HEALTH")).status == 404
    assert (await client.get("/api/v4.asp")).status == 404


# ---- item 9: the journal keeps a v2 form's exact text ---------------------------------------
async def _journal(client: TestClient) -> tuple[int, list[dict[str, object]]]:
    response = await client.get(T + "/journal?kind=exchange")
    return response.status, (await response.json())["entries"]


async def test_a_utf8_form_body_is_journaled_as_sent(client: TestClient) -> None:
    """The journal once showed ``???`` and U+FFFD for a UTF-8 form of the v2 door."""
    memo = "Zürich ☎ 東京"
    query = v2_query(
        "DIAL.CONNECT", [("PHONENUMBER", "12157010680"), ("DESTPHONENUMBER", "12125551234")]
    )
    form = f"{query}&param[MEMO]=".encode() + memo.encode("utf-8")
    response = await client.post(
        "/api/v2.asp", data=form, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert response.status == 200
    _, entries = await _journal(client)
    assert memo in str(entries[-1]["request"]), entries[-1]["request"]


async def test_a_utf8_v1_form_is_journaled_as_sent(client: TestClient) -> None:
    form = "&".join(f"{k}={v}" for k, v in {**SMS, "message": "Grüße ☎"}.items())
    response = await client.post(
        "/api/v1.asp",
        data=form.encode("utf-8"),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert (await response.text()).startswith("result=success^")
    _, entries = await _journal(client)
    assert "Grüße ☎" in str(entries[-1]["request"])


# ---- item 10: the v1 door honours fault rules -----------------------------------------------
async def _sms_count(client: TestClient) -> int:
    return len(await (await client.get(T + "/sms")).json())


async def test_v1_before_fault_spoils_the_reply_and_sends_nothing(client: TestClient) -> None:
    assert (await client.post(T + "/faults", json={"kind": "html"})).status == 201
    response = await client.get("/api/v1.asp", params=SMS)
    assert (await response.text()).startswith("<!DOCTYPE html>")
    assert await _sms_count(client) == 0
    _, entries = await _journal(client)
    assert str(entries[-1]["detail"]).startswith("html:f1:before")
    response = await client.get("/api/v1.asp", params=SMS)  # the rule fired its one time
    assert (await response.text()).startswith("result=success^")


async def test_v1_after_fault_sends_then_spoils(client: TestClient) -> None:
    await client.post(T + "/faults", json={"kind": "http-status", "status": 503, "when": "after"})
    response = await client.get("/api/v1.asp", params=SMS)
    assert response.status == 503
    assert await _sms_count(client) == 1


async def test_v1_truncated_before_fault_is_half_a_text_refusal(client: TestClient) -> None:
    await client.post(T + "/faults", json={"kind": "truncated", "action": "SMS"})
    response = await client.get("/api/v1.asp", params=SMS)
    text = await response.text()
    assert response.content_type == "text/plain"
    assert text.startswith("result=error^error=the reply was cut") and "nothing" not in text
    assert await _sms_count(client) == 0


async def test_v1_fault_rules_of_another_tenant_do_not_fire(client: TestClient) -> None:
    await client.post("/_mock/tenants", json={"userkey": "other", "faults": [{"kind": "html"}]})
    response = await client.get("/api/v1.asp", params=SMS)
    assert (await response.text()).startswith("result=success^")


# ---- item 13: a stalled body's connection closes with its reply -----------------------------
async def test_a_stalled_body_gets_its_reply_and_the_connection_closes_at_once() -> None:
    """Once: READ_TIMEOUT at the read timeout, but the socket closed only after aiohttp's
    lingering time (10 s more). The client waits for EOF a bounded 5 s here."""
    server = await start(World(), ServerOptions(read_timeout=0.3))
    try:
        url = urlsplit(server.url)
        reader, writer = await asyncio.open_connection(url.hostname, url.port)
        writer.write(
            b"POST /api/v3.asp HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
            b"Content-Length: 100\r\n\r\n<REQUEST>"
        )
        await writer.drain()
        loop = asyncio.get_running_loop()
        sent = loop.time()
        data = await asyncio.wait_for(reader.read(), 5)  # everything, up to EOF
        closed = loop.time() - sent
        writer.close()
        assert b"did not arrive within 0.3 seconds" in data
        assert closed < 3, f"connection closed {closed:.1f} s after the request"
    finally:
        await server.stop()


async def test_a_stalled_form_body_of_the_text_door_also_closes() -> None:
    server = await start(World(), ServerOptions(read_timeout=0.3))
    try:
        url = urlsplit(server.url)
        reader, writer = await asyncio.open_connection(url.hostname, url.port)
        writer.write(
            b"POST /api/v1.asp HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n\r\napikey="
        )
        await writer.drain()
        data = await asyncio.wait_for(reader.read(), 5)
        writer.close()
        assert b"result=error^error=the body did not arrive" in data
    finally:
        await server.stop()


# ---- item 3: logging stays on mock-anveo's own logger ---------------------------------------
async def test_other_aiohttp_servers_logs_are_left_alone(caplog: pytest.LogCaptureFixture) -> None:
    """``start`` once put a filter on the process-wide ``aiohttp.server`` logger, rewriting the
    records of every aiohttp server of the user's process."""
    server = await start(World())
    try:
        assert logging.getLogger("aiohttp.server").filters == []
        caplog.set_level(logging.DEBUG)
        # A user's own aiohttp server in the same process keeps aiohttp's own records.
        app = web.Application()
        async with TestClient(TestServer(app)) as theirs:
            host, port = theirs.server.host, theirs.server.port
            reader, writer = await asyncio.open_connection(host, port)
            writer.write(b"GARBAGE\r\n\r\n")
            await asyncio.wait_for(reader.read(), 5)
            writer.close()
        theirs_records = [r for r in caplog.records if r.name == "aiohttp.server"]
        assert all(not r.getMessage().startswith("refused malformed") for r in theirs_records)
    finally:
        await server.stop()
