"""Request bodies sent with a Content-Encoding, bodies refused while they arrive, and the
tenant such a refusal is journaled on (a black-box tester's findings 1-3).

Before: a body labelled gzip that was not gzip gave an INTERNAL envelope and a traceback in
``/_mock/errors``; a 39 KB gzip of 40 MB was decoded in full before ``--max-body`` refused
it; and refusals of the body itself (too large, too slow, wrong method) went to the server's
journal even when the tenant's key had arrived.
"""

from __future__ import annotations

import asyncio
import gzip
import importlib.util
import logging
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, cast

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import given
from hypothesis import strategies as st

from mock_anveo.errors import AnveoError, Code
from mock_anveo.http import body
from mock_anveo.http.app import ServerOptions, make_app
from mock_anveo.sim.world import World

from .helpers import KEY, Reply, xml_request

BALANCE = xml_request("ACCOUNT.GETBALANCE", [])
LIMIT = 65_536
GZIP = {"Content-Encoding": "gzip"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _app(decoded: list[int] | None = None, **options: Any) -> web.Application:
    """The server's app; ``decoded`` collects, per request, how many body bytes aiohttp had
    decoded when the door answered (the stream's own count, compressed or not)."""
    app = make_app(World(), ServerOptions(**options))
    if decoded is not None:

        @web.middleware
        async def count(request: web.Request, handler: Handler) -> web.StreamResponse:
            response = await handler(request)
            decoded.append(request.content.total_bytes)
            return response

        app.middlewares.append(count)
    return app


@pytest.fixture
async def client() -> AsyncIterator[TestClient]:
    async with TestClient(TestServer(_app())) as client:
        yield client


async def _entries(client: TestClient, path: str) -> list[dict[str, Any]]:
    response = await client.get(path, params={"kind": "exchange"})
    return cast(list[dict[str, Any]], (await response.json())["entries"])


async def _last_code(client: TestClient, tenant: bool = True) -> str | None:
    """The error code of the last exchange journaled on the tenant (or the server)."""
    path = f"/_mock/tenants/{KEY}/journal" if tenant else "/_mock/journal"
    entries = await _entries(client, path)
    return cast("str | None", entries[-1]["error_code"]) if entries else "(none)"


async def _no_internal_errors(client: TestClient) -> None:
    assert await (await client.get("/_mock/errors")).json() == []


# ---- finding 1: a body that is not what its Content-Encoding says --------------------------
@pytest.mark.parametrize(
    "data", [BALANCE, gzip.compress(BALANCE) + b"trailing junk"], ids=["plain-xml", "junk"]
)
@pytest.mark.parametrize("path", ["/api/v3.asp", "/apicall.asp"])
async def test_bad_gzip_on_an_xml_door_is_a_refusal(
    client: TestClient, path: str, data: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    response = await client.post(path, data=data, headers=GZIP)
    reply = Reply(await response.read())
    assert response.status == 200 and reply.result == "ERROR"
    assert reply.error == "the body is not valid gzip data, though its Content-Encoding is gzip"
    assert response.headers["Connection"] == "close"  # the parser stopped on this connection
    await _no_internal_errors(client)
    # Nothing of the body could be decoded, so no key: the server's journal keeps it.
    assert await _last_code(client, tenant=False) == "BAD_ENCODING"
    assert await _last_code(client) == "(none)"
    # The connection was closed: aiohttp did not try to drain the broken body (before the
    # fix, an "Unhandled exception" ERROR with a traceback per request).
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


async def test_plain_xml_labelled_deflate_is_a_refusal_naming_deflate(client: TestClient) -> None:
    response = await client.post(
        "/api/v3.asp", data=BALANCE, headers={"Content-Encoding": "deflate"}
    )
    reply = Reply(await response.read())
    assert (
        reply.error == "the body is not valid deflate data, though its Content-Encoding is deflate"
    )
    await _no_internal_errors(client)


async def test_a_gzip_body_cut_short_is_judged_by_what_it_decodes_to(client: TestClient) -> None:
    """aiohttp does not notice a gzip stream that stops early (docs/compatibility.md): the
    part that decoded is the body, here a document cut in the middle."""
    response = await client.post("/api/v3.asp", data=gzip.compress(BALANCE)[:-12], headers=GZIP)
    assert "not well-formed" in (Reply(await response.read()).error or "")
    await _no_internal_errors(client)
    assert await _last_code(client) == "MALFORMED_XML"  # its key had been decoded


def _installed(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:  # backports itself is absent
        return False


@pytest.mark.parametrize(
    ("encoding", "data"),
    [("deflate", zlib.compress(BALANCE)[:-6]), ("br", BALANCE), ("zstd", BALANCE)],
    ids=["deflate-cut-short", "br", "zstd"],
)
async def test_what_aiohttp_refuses_before_any_door_is_its_plain_400(
    client: TestClient, encoding: str, data: bytes
) -> None:
    """As docs/compatibility.md says: a deflate stream cut short is found when the request is
    complete, and br/zstd without their package when its headers are; either way before
    aiohttp hands the request to a door, so no envelope and no journal entry."""
    package = {"br": "brotli", "zstd": "backports.zstd"}.get(encoding)
    if package is not None and _installed(package):
        pytest.skip(f"{encoding} is decoded when {package} is installed")
    head = f"POST /api/v3.asp HTTP/1.1\r\nHost: x\r\nContent-Encoding: {encoding}\r\n"
    head += f"Content-Length: {len(data)}\r\n\r\n"
    reader, writer = await asyncio.open_connection(client.server.host, client.server.port)
    writer.write(head.encode() + data)
    async with asyncio.timeout(10):
        reply = await reader.read()  # aiohttp closes the connection after its 400
    writer.close()
    assert reply.startswith(b"HTTP/1.0 400 ") or reply.startswith(b"HTTP/1.1 400 "), reply
    assert b"<RESPONSE>" not in reply
    assert await _last_code(client) == "(none)"
    assert await _last_code(client, tenant=False) == "(none)"


async def test_bad_gzip_to_the_get_door_goes_to_the_querys_tenant(client: TestClient) -> None:
    response = await client.post(
        f"/api/v2.asp?userkey={KEY}",
        data=b"action=ACCOUNT.GETBALANCE",
        headers={**GZIP, **FORM},
    )
    reply = Reply(await response.read())
    assert reply.result == "ERROR" and "not valid gzip" in (reply.error or "")
    await _no_internal_errors(client)
    assert await _last_code(client) == "BAD_ENCODING"


async def test_bad_gzip_to_the_text_door_goes_to_the_querys_tenant(client: TestClient) -> None:
    response = await client.post(
        f"/api/v1.asp?apikey={KEY}", data=b"action=sms&message=hi", headers={**GZIP, **FORM}
    )
    text = await response.text()
    assert text == (
        "result=error^error=the body is not valid gzip data, though its Content-Encoding is gzip"
    )
    await _no_internal_errors(client)
    assert await _last_code(client) == "BAD_ENCODING"


@pytest.mark.parametrize(
    ("encoding", "compress"), [("gzip", gzip.compress), ("deflate", zlib.compress)]
)
async def test_a_compressed_body_is_decoded_and_served(
    client: TestClient, encoding: str, compress: Callable[[bytes], bytes]
) -> None:
    response = await client.post(
        "/api/v3.asp", data=compress(BALANCE), headers={"Content-Encoding": encoding}
    )
    assert Reply(await response.read()).result == "100.00"


# ---- finding 2: --max-body stops the reading, not only the answer ---------------------------
def _bomb(head: bytes, size: int) -> bytes:
    """``head`` then ``size`` spaces, gzipped (about a thousandth of ``size``)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: the gzip container
    block = b" " * 1_000_000
    parts = [packer.compress(head)]
    parts += [packer.compress(block) for _ in range(size // len(block))]
    return b"".join([*parts, packer.flush()])


async def test_a_gzip_bomb_is_refused_without_being_decoded() -> None:
    """40 MB of XML in 40 KB of gzip: refused once 64 KiB came out, on the tenant whose key
    opens the document. aiohttp decodes ahead of the reader up to its buffer limits (512 KiB
    with aiohttp 3.14's defaults): 1.5 MiB had come out when the door answered."""
    decoded: list[int] = []
    head = b"<REQUEST><USERTOKEN><USERKEY>" + KEY.encode() + b"</USERKEY></USERTOKEN>"
    bomb = _bomb(head, 40_000_000)
    assert len(bomb) < 100_000
    async with TestClient(TestServer(_app(decoded))) as client:
        response = await client.post("/api/v3.asp", data=bomb, headers=GZIP)
        reply = Reply(await response.read())
        assert reply.error == (
            "the body exceeds 65536 bytes once decoded from gzip; "
            "this server takes at most 65536 (--max-body)"
        )
        assert await _last_code(client) == "BODY_TOO_LARGE"
        await _no_internal_errors(client)
    assert decoded and decoded[0] < 4_000_000, decoded  # was 40,000,342 before the fix


async def test_a_long_chunked_body_is_refused_while_the_client_still_sends() -> None:
    """A chunked body with no end in sight: the refusal comes after 64 KiB, while the client
    has most of its 64 MB still to send (socket buffers hold a few MB at most)."""
    total = 64 * 1024 * 1024
    async with TestClient(TestServer(_app())) as client:
        reader, writer = await asyncio.open_connection(client.server.host, client.server.port)
        start = b"<REQUEST><USERTOKEN><USERKEY>" + KEY.encode() + b"</USERKEY></USERTOKEN>"
        writer.write(
            b"POST /api/v3.asp HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
            + b"%x\r\n%s\r\n" % (len(start), start)
        )
        sent = 0

        async def send() -> None:
            nonlocal sent
            chunk = b"4000\r\n" + b" " * 0x4000 + b"\r\n"
            while sent < total:
                writer.write(chunk)
                await writer.drain()
                sent += 0x4000

        sender = asyncio.create_task(send())
        try:
            async with asyncio.timeout(30):
                reply = await reader.readuntil(b"</RESPONSE>")
            sent_then = sent
        finally:
            sender.cancel()
            writer.close()
        assert b"the body exceeds 65536 bytes;" in reply
        assert sent_then < total // 2, sent_then
        assert await _last_code(client) == "BODY_TOO_LARGE"


class _Endless:
    """A body stream that would give ``total`` bytes, 16 KiB at a time, counting what it gave."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.given = 0

    def is_eof(self) -> bool:
        return False

    def exception(self) -> BaseException | None:
        return None

    async def readany(self) -> bytes:
        if self.given >= self.total:
            return b""
        self.given += 16_384
        return b"x" * 16_384


class _Request(dict[Any, Any]):
    """What ``read_body`` uses of a request: its stream, length, headers and keys."""

    def __init__(self, content: object, content_length: int | None = None) -> None:
        super().__init__()
        self.content = content
        self.content_length = content_length
        self.headers: dict[str, str] = {}


async def test_read_body_stops_at_the_bound() -> None:
    stream = _Endless(100 * 1024 * 1024)
    request = _Request(stream)
    with pytest.raises(AnveoError) as refused:
        await body.read_body(cast(web.Request, request), ServerOptions(max_body=LIMIT))
    assert refused.value.code is Code.BODY_TOO_LARGE
    assert stream.given <= LIMIT + 16_384
    assert request[body.RECEIVED] == b"x" * body.RECEIVED_MAX  # kept for the tenant's journal


async def test_read_body_follows_a_larger_bound() -> None:
    stream = _Endless(100 * 1024 * 1024)
    request = _Request(stream)
    with pytest.raises(AnveoError):
        await body.read_body(cast(web.Request, request), ServerOptions(max_body=1_000_000))
    assert 1_000_000 < stream.given <= 1_000_000 + 16_384
    assert len(request[body.RECEIVED]) == body.RECEIVED_MAX


# ---- finding 3: refusals of the body go to the tenant whose key arrived ---------------------
async def _raw(client: TestClient, data: bytes) -> bytes:
    """Send ``data`` in one write and read one reply (to its </RESPONSE>)."""
    reader, writer = await asyncio.open_connection(client.server.host, client.server.port)
    try:
        writer.write(data)
        async with asyncio.timeout(10):
            return await reader.readuntil(b"</RESPONSE>")
    finally:
        writer.close()


async def test_a_declared_oversized_body_goes_to_the_tenant_whose_key_came_with_it(
    client: TestClient,
) -> None:
    start = b"<REQUEST><USERTOKEN><USERKEY>" + KEY.encode() + b"</USERKEY></USERTOKEN>"
    head = b"POST /api/v3.asp HTTP/1.1\r\nHost: x\r\nContent-Length: 70000\r\n\r\n"
    reply = await _raw(client, head + start + b" " * 1000)  # the rest never comes
    assert b"the body is 70000 bytes" in reply
    assert await _last_code(client) == "BODY_TOO_LARGE"
    assert await _last_code(client, tenant=False) == "(none)"


async def test_a_buffered_oversized_body_goes_to_its_tenant(client: TestClient) -> None:
    data = BALANCE.replace(b"</REQUEST>", b" " * 70_000 + b"</REQUEST>")
    reply = Reply(await (await client.post("/api/v3.asp", data=data)).read())
    assert reply.error is not None and "at most 65536" in reply.error
    assert await _last_code(client) == "BODY_TOO_LARGE"


async def test_a_stalled_body_goes_to_the_tenant_whose_key_arrived() -> None:
    async with TestClient(TestServer(_app(read_timeout=0.3))) as client:
        head = f"POST /apicall.asp HTTP/1.1\r\nHost: x\r\nContent-Length: {len(BALANCE) + 50}"
        reply = await _raw(client, head.encode() + b"\r\n\r\n" + BALANCE)
        assert b"did not arrive within 0.3 seconds" in reply
        assert await _last_code(client) == "READ_TIMEOUT"
        entries = await _entries(client, f"/_mock/tenants/{KEY}/journal")
        assert entries[-1]["request"] == BALANCE.decode()  # what arrived, as it arrived


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
async def test_a_wrong_method_with_a_keyed_body_goes_to_its_tenant(
    client: TestClient, method: str
) -> None:
    response = await client.request(method, "/api/v3.asp", data=BALANCE)
    assert f"{method} is not accepted" in (Reply(await response.read()).error or "")
    assert await _last_code(client) == "METHOD_NOT_ALLOWED"


async def test_a_wrong_method_on_the_get_door_goes_to_the_querys_tenant(
    client: TestClient,
) -> None:
    response = await client.put(f"/api/v2.asp?userkey={KEY}&action=ACCOUNT.GETBALANCE")
    assert "PUT is not accepted" in (Reply(await response.read()).error or "")
    assert await _last_code(client) == "METHOD_NOT_ALLOWED"


async def test_an_oversized_form_goes_to_the_tenant_its_whole_fields_name(
    client: TestClient,
) -> None:
    form = f"userkey={KEY}&action=ACCOUNT.GETBALANCE&param[MEMO]=".encode() + b"x" * 70_000
    response = await client.post("/api/v2.asp", data=form, headers=FORM)
    assert "at most 65536" in (Reply(await response.read()).error or "")
    assert await _last_code(client) == "BODY_TOO_LARGE"


async def test_an_oversized_text_door_form_goes_to_the_tenant_its_fields_name(
    client: TestClient,
) -> None:
    form = f"apikey={KEY}&action=sms&message=".encode() + b"x" * 70_000
    response = await client.post("/api/v1.asp", data=form, headers=FORM)
    assert (await response.text()).startswith("result=error^error=the body is 70")
    assert await _last_code(client) == "BODY_TOO_LARGE"


async def test_a_field_cut_short_is_not_read_as_a_key() -> None:
    """A stalled form ending in ``userkey=`` and the start of a key: that start must not pick
    the tenant whose whole key it happens to be."""
    async with TestClient(TestServer(_app(read_timeout=0.3))) as client:
        short = KEY[:10]
        assert (await client.post("/_mock/tenants", json={"userkey": short})).status == 201
        form = f"action=ACCOUNT.GETBALANCE&userkey={short}".encode()
        head = f"POST /api/v2.asp HTTP/1.1\r\nHost: x\r\nContent-Length: {len(form) + 30}\r\n"
        await _raw(client, head.encode() + b"\r\n" + form)
        assert await _entries(client, f"/_mock/tenants/{short}/journal") == []
        assert await _last_code(client, tenant=False) == "READ_TIMEOUT"


async def test_an_internal_error_names_the_querys_tenant(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: object) -> str:
        raise RuntimeError("boom")

    monkeypatch.setattr("mock_anveo.http.app.with_form", broken)
    reply = Reply(await (await client.get(f"/api/v2.asp?userkey={KEY}&action=X")).read())
    assert "internal error" in (reply.error or "")
    errors = await (await client.get("/_mock/errors")).json()
    assert [e["userkey"] for e in errors] == [KEY]
    assert await _last_code(client) == "INTERNAL"


@given(
    st.lists(st.from_regex(r"[a-z]{1,8}=[A-Za-z0-9]{0,12}", fullmatch=True), min_size=1),
    st.data(),
)
def test_received_form_keeps_only_whole_fields(fields: list[str], data: st.DataObject) -> None:
    form = "&".join(fields).encode()
    cut = data.draw(st.integers(0, len(form)))
    request = _Request(None, content_length=len(form))
    request[body.RECEIVED] = form[:cut]
    kept = body.received_form(cast(web.Request, request), "")
    whole = set(fields)
    assert all(field in whole for field in kept.split("&") if kept)
    if cut == len(form):
        assert kept == form.decode()
