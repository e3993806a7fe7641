"""A controller is usable while one of its own verbs is in flight: a notification receiver
(a thread of the test process, or a handler in the test's event loop) that asks the same
controller for ``calls()`` during ``advance`` is answered at once, so the delivery succeeds
instead of timing out behind the controller's own connection."""

from __future__ import annotations

import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import aiohttp
from aiohttp import web

from mock_anveo import MockAnveo
from mock_anveo.testing.transport import MAX_IDLE, connection

from .helpers import xml_request

PAIR = [("PHONENUMBER", "12155550123"), ("DESTPHONENUMBER", "12155550124")]


def _dial_body(userkey: str) -> bytes:
    return xml_request("DIAL.CONNECT", PAIR, userkey)


def test_a_thread_receiver_may_call_the_controller_during_advance() -> None:
    seen: list[Any] = []
    with MockAnveo() as anveo:

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                seen.append([call.status for call in anveo.calls()])  # the same controller
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                pass

        receiver = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=receiver.serve_forever, daemon=True).start()
        try:
            anveo.set_account(notification_url=f"http://127.0.0.1:{receiver.server_address[1]}/")
            urllib.request.urlopen(anveo.api_url, _dial_body(anveo.userkey)).read()
            anveo.advance(120)
            (sent,) = anveo.notifications("CALL")
            # Before the fix: attempts == [(None, "timeout after 5.0 s")] and nothing seen.
            assert [(a.status, a.error) for a in sent.attempts] == [(200, None)]
            assert seen == [["END"]]
        finally:
            receiver.shutdown()
            receiver.server_close()


async def test_an_async_receiver_may_await_the_controller_during_advance() -> None:
    seen: list[Any] = []
    async with MockAnveo() as anveo:  # the server and the receiver share this loop

        async def handle(request: web.Request) -> web.Response:
            await request.read()
            seen.append([call.status for call in await anveo.calls()])
            return web.Response(text="ok")

        app = web.Application()
        app.router.add_post("/cdr", handle)
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        try:
            port = runner.addresses[0][1]
            await anveo.set_account(notification_url=f"http://127.0.0.1:{port}/cdr")
            body = _dial_body(anveo.userkey)
            async with aiohttp.ClientSession() as s, s.post(anveo.api_url, data=body) as r:
                assert "SUCCESS" in await r.text()
            await anveo.advance(120)
            (sent,) = await anveo.notifications("CALL")
            assert [(a.status, a.error) for a in sent.attempts] == [(200, None)]
            assert seen == [["END"]]
        finally:
            await runner.cleanup()


def test_verbs_from_many_threads_share_a_bounded_pool() -> None:
    with MockAnveo() as anveo:
        failures: list[BaseException] = []
        barrier = threading.Barrier(MAX_IDLE + 2)

        def work() -> None:
            try:
                barrier.wait(timeout=30)
                for _ in range(5):
                    assert anveo.now() is not None
            except BaseException as exc:
                failures.append(exc)

        threads = [threading.Thread(target=work) for _ in range(MAX_IDLE + 2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert failures == []
        pooled = connection(anveo.url, None)
        assert len(pooled._idle) <= MAX_IDLE
