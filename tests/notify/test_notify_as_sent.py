"""The URL a message records is the URL on the wire: the receiver's raw request target equals
the recorded ``url`` (path and query), for a forward whose values and template hold every
character that gets re-normalised, and for a notification URL with escapes of its own."""

from __future__ import annotations

from urllib.parse import parse_qsl, unquote, urlsplit

import pytest

from mock_anveo.sim.outbound import as_sent, fill

from ..notify_helpers import ThreadReceiver, aiohttp_receiver, control, dial

NASTY = "Tom & Jerry = 100% #1 + more 😀 a?b=c ~ %3F done"
# The template's own query (?a=b), an escape (%3F) and a lower-case one (%7e) yarl would
# rewrite, a space in the path and in the query, a non-ASCII literal.
TEMPLATE = "/in box/sms?a=b&esc=%3F%7e&lit=x y&ü=1&m=$[message]$&from=$[from]$"


def _target(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


@pytest.mark.parametrize("kind", ["aiohttp", "http.server"])
async def test_a_forward_arrives_exactly_as_recorded(server, session, kind: str) -> None:
    thread = ThreadReceiver() if kind == "http.server" else None
    async with aiohttp_receiver() as app:
        receiver = thread or app
        numbers = [{"number": "12155550123", "sms_url": receiver.url + TEMPLATE}]
        doc = await control(session, server.url, "POST", "/tenants", {"numbers": numbers})
        key = doc["userkey"]
        sms = {"from": "4915112345678", "to": "12155550123", "message": NASTY}
        sent = await control(session, server.url, "POST", f"/tenants/{key}/sms/inbound", sms)
        if thread is not None:
            thread.close()
    (got,) = receiver.got
    recorded = sent["message"]["url"]
    assert got["target"] == _target(recorded)
    assert got["query"]["m"] == NASTY and got["query"]["from"] == "4915112345678"
    assert got["query"]["a"] == "b" and got["query"]["esc"] == "?~"
    assert got["query"]["lit"] == "x y" and got["query"]["ü"] == "1"
    assert unquote(got["path"]) == "/in box/sms"
    assert "%3F%7e" in got["target"]  # the template's own escapes, verbatim


async def test_a_notification_url_with_escapes_arrives_as_recorded(server, session) -> None:
    async with aiohttp_receiver() as receiver:
        url = receiver.url + "/cdr here?token=a%3Fb c&x=%7e"
        doc = await control(session, server.url, "POST", "/tenants", {"notification_url": url})
        key = doc["userkey"]
        await dial(session, server.url, key, PHONENUMBER="12155550100")  # busy after 2 s
        await control(session, server.url, "POST", f"/tenants/{key}/clock/advance", {"seconds": 2})
        (message,) = await control(session, server.url, "GET", f"/tenants/{key}/notifications")
    (got,) = receiver.got
    assert got["target"] == _target(message["url"]) == "/cdr%20here?token=a%3Fb%20c&x=%7e"
    assert got["query"] == {"token": "a?b c", "x": "~"}
    assert got["form"]["NOTIFICATIONID"] == message["id"]


def test_as_sent_is_idempotent_and_fill_encodes_every_reserved_value() -> None:
    url = fill("http://127.0.0.1/s?a=b&m=$[message]$", "1", "2", NASTY)
    assert as_sent(url) == url
    assert dict(parse_qsl(urlsplit(url).query)) == {"a": "b", "m": NASTY}
    assert as_sent("http://127.0.0.1/a#frag") == "http://127.0.0.1/a"  # never sent
