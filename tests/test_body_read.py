"""How the XML doors take a request body: in place from aiohttp's buffer when it is all there."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.streams import StreamReader
from aiohttp.test_utils import TestClient, TestServer

from mock_anveo.http import body
from mock_anveo.http.app import make_app
from mock_anveo.sim.world import World

from .helpers import Reply, xml_request

BALANCE = xml_request("ACCOUNT.GETBALANCE", [])


@pytest.fixture
async def client() -> AsyncIterator[TestClient]:
    async with TestClient(TestServer(make_app(World()))) as client:
        yield client


async def test_a_body_that_came_with_its_headers_is_read_in_place() -> None:
    """With the installed aiohttp the in-place read is the path taken, not the fallback: if an
    aiohttp upgrade changes its buffer, ``in_place`` answers None and this fails, rather than
    the server silently slowing down (docs/benchmarks.md, "public-read")."""
    seen: list[bytes | None] = []

    async def peek(request: web.Request) -> web.Response:
        seen.append(body.in_place(request.content))
        return web.Response(text="ok")

    server = web.Application()
    server.router.add_post("/", peek)
    async with TestClient(TestServer(server)) as client:
        assert (await client.post("/", data=BALANCE)).status == 200
    assert seen == [BALANCE]


async def test_the_doors_take_the_in_place_path(
    monkeypatch: pytest.MonkeyPatch, client: TestClient
) -> None:
    """The doors really call ``in_place`` (and use what it gives) for a body that arrived
    with its headers: a door that took the public read would leave ``taken`` empty."""
    taken: list[bytes] = []
    real = body.in_place

    def spy(content: StreamReader) -> bytes | None:
        found = real(content)
        if found is not None:
            taken.append(found)
        return found

    monkeypatch.setattr(body, "in_place", spy)
    reply = Reply(await (await client.post("/api/v3.asp", data=BALANCE)).read())
    assert reply.result == "100.00"
    assert taken == [BALANCE]


async def test_the_fallback_gives_the_same_body(
    monkeypatch: pytest.MonkeyPatch, client: TestClient
) -> None:
    monkeypatch.setattr(body, "in_place", lambda content: None)  # as after an aiohttp change
    reply = Reply(await (await client.post("/api/v3.asp", data=BALANCE)).read())
    assert reply.result == "100.00"


async def test_a_body_in_many_chunks_is_joined(client: TestClient) -> None:
    async def pieces() -> AsyncIterator[bytes]:
        for start in range(0, len(BALANCE), 7):
            yield BALANCE[start : start + 7]

    reply = Reply(await (await client.post("/api/v3.asp", data=pieces())).read())
    assert reply.result == "100.00"


async def test_a_body_still_arriving_is_read_by_the_public_path(client: TestClient) -> None:
    async def late() -> AsyncIterator[bytes]:
        yield BALANCE[:40]
        await asyncio.sleep(0.05)  # a slow client, not a wait for simulated time
        yield BALANCE[40:]

    reply = Reply(await (await client.post("/api/v3.asp", data=late())).read())
    assert reply.result == "100.00"


async def test_two_requests_on_one_connection_each_get_their_own_body(client: TestClient) -> None:
    status = xml_request("DIAL.GETSTATUS", [("REQUESTID", "ab" * 20)])
    first = Reply(await (await client.post("/api/v3.asp", data=BALANCE)).read())
    second = Reply(await (await client.post("/api/v3.asp", data=status)).read())
    assert first.result == "100.00"
    assert second.result == "ERROR" and "ab" * 20 in (second.error or "")
