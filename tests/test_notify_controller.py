"""Issue 12 through the controller: ``notifications()`` in unittest.mock vocabulary,
``sms_inbound``, the built-in sink, the fixture marker, and no deadlock when the receiver
lives in the caller's event loop."""

from __future__ import annotations

import asyncio
import urllib.request

import aiohttp
import pytest

from mock_anveo import MockAnveo
from mock_anveo.http.base import ServerOptions

from .helpers import xml_request
from .notify_helpers import ThreadReceiver, aiohttp_receiver

PAIR = [("PHONENUMBER", "12155550123"), ("DESTPHONENUMBER", "12155550124")]


def _dial(anveo: MockAnveo, **extra: str) -> str:
    body = xml_request("DIAL.CONNECT", list({**dict(PAIR), **extra}.items()), anveo.userkey)
    with urllib.request.urlopen(anveo.api_url, body) as response:
        text = response.read().decode()
    return text.split('NAME="REQUESTID">')[1].split("<")[0]


def test_notifications_speak_the_mock_vocabulary() -> None:
    receiver = ThreadReceiver()
    try:
        with MockAnveo(notification_url=receiver.url + "/cdr") as anveo:
            anveo.notifications().assert_not_called()
            rid = _dial(anveo, BILLINGCODE="b1")
            anveo.advance(until_idle=True)
            sent = anveo.notifications()
            sent.assert_called_once()
            sent.assert_called_with(NOTIFICATIONTYPE="CALL", RESPONSEID=rid, BILLINGCODE="b1")
            assert sent.last.delivered and sent.last.attempts[0].status == 200
            with pytest.raises(AssertionError, match="RESPONSEID"):
                sent.assert_called_with(RESPONSEID="nope")
            assert receiver.got[0]["form"]["NOTIFICATIONID"] == sent.last.id
    finally:
        receiver.close()


def test_sms_inbound_and_the_sink() -> None:
    with MockAnveo(numbers=[{"number": "12155550123"}]) as anveo:
        template = anveo.sink_url + "?from=$[from]$&message=$[message]$"
        anveo.set_account(
            notification_url=anveo.sink_url,
            numbers=[{"number": "12155550123", "sms_url": template}],
        )
        forward = anveo.sms_inbound("4915112345678", "12155550123", "a&b=c #1 + 😀")
        assert forward is not None and forward.delivered
        (got,) = anveo.sink()
        assert got["method"] == "GET"
        assert got["query"] == {"from": "4915112345678", "message": "a&b=c #1 + 😀"}
        anveo.notifications("FORWARD").assert_called_once()


async def test_receiver_in_the_callers_loop_async_face_delivers() -> None:
    async with aiohttp_receiver() as receiver, MockAnveo(notification_url=receiver.url) as anveo:
        await anveo.advance(0)
        body = xml_request("DIAL.CONNECT", PAIR, anveo.userkey)
        async with (
            aiohttp.ClientSession() as session,
            session.post(anveo.api_url, data=body) as response,
        ):
            assert response.status == 200
        await anveo.advance(until_idle=True)  # the server awaits the receiver: same loop, fine
        (message,) = await anveo.notifications()
        assert message.delivered and len(receiver.got) == 1


async def test_blocking_advance_from_the_receivers_loop_does_not_deadlock() -> None:
    # The receiver lives in this test's loop; the blocking face stops that loop while it
    # waits, so the receiver cannot answer: the attempt ends at the callback timeout (it does
    # not hang), and the retry, driven without blocking the loop, is delivered.
    options = ServerOptions(callback_timeout=0.5)
    async with aiohttp_receiver() as receiver:
        with MockAnveo(notification_url=receiver.url, options=options) as anveo:
            _dial(anveo, PHONENUMBER="12155550100")  # busy after 2 s
            anveo.advance(2)  # blocks this loop: the attempt times out
            (message,) = anveo.notifications()
            assert message.state == "pending" and "timeout" in (message.attempts[0].error or "")
            await asyncio.to_thread(anveo.advance, 300)  # the loop runs: the receiver answers
            (message,) = anveo.notifications()
            assert message.delivered and [a.status for a in message.attempts] == [None, 200]


def test_marker_presets_the_sink(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(
        """
        import urllib.request
        import pytest

        @pytest.mark.anveo(notification_url="sink")
        def test_sink(anveo):
            q = f"apikey={anveo.userkey}&action=sms&from=1&destination=12155550199&message=hi"
            urllib.request.urlopen(f"{anveo.v1_url}?{q}").read()
            anveo.advance(5)
            anveo.notifications("SMS").assert_called_with(STATUS="DELIVERED", ATTEMPT=1)
            assert anveo.sink()[0]["form"]["STATUS"] == "DELIVERED"
        """
    )
    pytester.runpytest_inprocess("-p", "no:xdist").assert_outcomes(passed=1)
