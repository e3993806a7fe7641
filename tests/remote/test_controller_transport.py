"""The controller's transport and error reporting: the server's exceptions reach the test,
a keep-alive connection the server closed is replaced, an unreachable server is named."""

from __future__ import annotations

import dataclasses
import http.server
import threading
import urllib.request
from collections.abc import Iterator

import pytest

from mock_anveo.http.server import ThreadedServer
from mock_anveo.testing.controller import MockAnveo, UnexpectedServerError
from mock_anveo.wire import actions

from ..helpers import xml_request


@pytest.fixture
def ctl(server_url: str) -> Iterator[MockAnveo]:
    # Closed by hand: a test here provokes server errors on purpose, which leaving a ``with``
    # block would raise.
    controller = MockAnveo.remote(server_url).open()
    yield controller
    controller.close()


# ---- server errors --------------------------------------------------------------------------
def test_server_exceptions_are_reported_with_their_traceback(
    ctl: MockAnveo, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctl.check_errors()

    def boom(*_args: object) -> actions.Reply:
        raise RuntimeError("boom in the handler")

    spec = actions.REGISTRY["ACCOUNT.GETBALANCE"]
    monkeypatch.setitem(actions.REGISTRY, spec.name, dataclasses.replace(spec, handler=boom))
    body = xml_request("ACCOUNT.GETBALANCE", [], userkey=ctl.userkey)
    assert b"ERROR" in urllib.request.urlopen(ctl.api_url, body).read()
    (error,) = ctl.errors()
    assert "boom in the handler" in error.error and "in boom" in error.traceback
    with pytest.raises(UnexpectedServerError, match="boom in the handler") as caught:
        ctl.check_errors()
    assert caught.value.errors == (error,)


def test_leaving_the_block_raises_what_the_server_recorded(
    server_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*_args: object) -> actions.Reply:
        raise RuntimeError("boom at exit")

    spec = actions.REGISTRY["ACCOUNT.GETBALANCE"]
    monkeypatch.setitem(actions.REGISTRY, spec.name, dataclasses.replace(spec, handler=boom))
    with (
        pytest.raises(UnexpectedServerError, match="boom at exit"),
        MockAnveo.remote(server_url) as anveo,
    ):
        body = xml_request("ACCOUNT.GETBALANCE", [], userkey=anveo.userkey)
        urllib.request.urlopen(anveo.api_url, body).read()
    with MockAnveo.remote(server_url) as clean:  # deleting the tenant forgot its errors
        assert clean.errors() == []


# ---- the keep-alive connection ----------------------------------------------------------------
class _OneShot(http.server.BaseHTTPRequestHandler):
    """Answers one request per connection, then hangs up without saying so (a stale socket)."""

    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"] or 0))
        body = b'{"userkey": "k1"}'
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True

    def do_DELETE(self) -> None:
        self.send_response(204)
        self.end_headers()
        self.close_connection = True

    def log_message(self, *_args: object) -> None:
        pass


def test_a_connection_closed_by_the_server_is_replaced() -> None:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _OneShot)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{httpd.server_address[1]}"
        with MockAnveo.remote(url) as anveo:  # POST, then DELETE on the stale connection
            assert anveo.userkey == "k1"
            anveo.reset()  # DELETE and POST, each after the server hung up
            assert anveo.userkey == "k1"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_unreachable_server_is_a_clear_connection_error() -> None:
    server = ThreadedServer().start()
    url = server.url
    server.stop()
    with pytest.raises(ConnectionError, match="cannot reach mock-anveo"):
        MockAnveo.remote(url).open()
