"""Receivers for the notification tests: an aiohttp app in the test's loop, and a plain
``http.server`` in a thread, each recording what arrives and answering a scripted status."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import aiohttp
from aiohttp import web

from .helpers import KEY, xml_request


class Receiver:
    """What arrived (method, path, query, form) and the statuses to answer, in order."""

    def __init__(self, statuses: list[int] | None = None) -> None:
        self.statuses = list(statuses or [])
        self.got: list[dict[str, Any]] = []
        self.url = ""

    def next_status(self) -> int:
        return self.statuses.pop(0) if self.statuses else 200


@asynccontextmanager
async def aiohttp_receiver(statuses: list[int] | None = None) -> AsyncIterator[Receiver]:
    receiver = Receiver(statuses)

    async def handle(request: web.Request) -> web.Response:
        form = dict(await request.post()) if request.method == "POST" else {}
        receiver.got.append(
            {
                "method": request.method,
                "path": request.path,
                "target": request.raw_path,  # the request line's target, as it arrived
                "query": dict(request.query),
                "raw_query": request.rel_url.raw_query_string,
                "form": {k: str(v) for k, v in form.items()},
            }
        )
        return web.Response(status=receiver.next_status(), text="thanks")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    receiver.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        yield receiver
    finally:
        await runner.cleanup()


class ThreadReceiver(Receiver):
    """A ``http.server`` receiver in its own thread (stop with ``close``)."""

    def __init__(self, statuses: list[int] | None = None) -> None:
        super().__init__(statuses)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode()
                parts = urlsplit(self.path)
                receiver.got.append(
                    {
                        "method": self.command,
                        "path": parts.path,
                        "target": self.path,
                        "query": dict(parse_qsl(parts.query, keep_blank_values=True)),
                        "raw_query": parts.query,
                        "form": dict(parse_qsl(body, keep_blank_values=True)),
                    }
                )
                status = receiver.next_status()
                self.send_response(status)
                body = b"" if status == 204 else b"ok"  # a 204 has no body
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _answer

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


async def control(
    session: aiohttp.ClientSession, base: str, method: str, path: str, body: Any = None
) -> Any:
    async with session.request(method, base + "/_mock" + path, json=body) as response:
        data = await response.json()
        assert response.status < 300, (response.status, data)
        return data


async def control_raw(
    session: aiohttp.ClientSession, base: str, method: str, path: str, body: Any = None
) -> tuple[int, Any]:
    async with session.request(method, base + "/_mock" + path, json=body) as response:
        return response.status, await response.json()


async def dial(session: aiohttp.ClientSession, base: str, userkey: str = KEY, **params: str) -> str:
    given = {"PHONENUMBER": "12155550123", "DESTPHONENUMBER": "12155550124", **params}
    pairs = list(given.items())
    async with session.post(
        base + "/api/v3.asp", data=xml_request("DIAL.CONNECT", pairs, userkey)
    ) as response:
        text = await response.text()
    assert "<RESULT>SUCCESS</RESULT>" in text, text
    return text.split('NAME="REQUESTID">')[1].split("<")[0]
