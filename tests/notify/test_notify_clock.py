"""The clock's views count delivery attempts still to come: ``pending_events`` and
``next_event_at`` in the control API's clock and tenant JSON, the controller's ``Clock``, and
the 409 of an ``until_idle`` that stopped at its cap."""

from __future__ import annotations

import urllib.request
from datetime import timedelta

from mock_anveo import MockAnveo

from ..helpers import xml_request
from ..notify_helpers import ThreadReceiver, aiohttp_receiver, control, control_raw, dial


async def test_a_retry_waiting_is_a_pending_event_with_its_moment(server, session) -> None:
    async with aiohttp_receiver([500] * 10) as receiver:
        doc = await control(
            session, server.url, "POST", "/tenants", {"notification_url": receiver.url}
        )
        key = doc["userkey"]
        await dial(session, server.url, key, PHONENUMBER="12155550100")  # busy after 2 s
        clock = await control(
            session, server.url, "POST", f"/tenants/{key}/clock/advance", {"seconds": 2}
        )
        assert len(receiver.got) == 1  # the call ended, its first attempt failed
        assert clock["pending_events"] == 1 and clock["pending_deliveries"] == 1
        (message,) = await control(session, server.url, "GET", f"/tenants/{key}/notifications")
        assert clock["next_event_at"] == message["next_attempt_at"]
        assert message["next_attempt_at"] > message["attempts"][0]["at"]
        tenant = await control(session, server.url, "GET", f"/tenants/{key}")
        assert tenant["clock"]["pending_events"] == 1
        assert tenant["clock"]["next_event_at"] == message["next_attempt_at"]
        # An until_idle capped before the retry is not idle: the attempt is what is left.
        status, refused = await control_raw(
            session,
            server.url,
            "POST",
            f"/tenants/{key}/clock/advance",
            {"until_idle": True, "max_seconds": 60},
        )
        assert status == 409 and refused["pending_events"] == 1
        assert refused["next_event_at"] == message["next_attempt_at"]
        done = await control(
            session, server.url, "POST", f"/tenants/{key}/clock/advance", {"until_idle": True}
        )
        assert len(receiver.got) == 5  # cancelled after the 5th: nothing is left
        assert done["pending_events"] == 0 and done["next_event_at"] is None


async def test_a_delivery_not_yet_due_counts_and_held_ones_count_once(server, session) -> None:
    # A delayed message and one held back by an out-of-order fault: each is one pending
    # attempt, however often it was rescheduled.
    async with aiohttp_receiver() as receiver:
        doc = await control(
            session, server.url, "POST", "/tenants", {"notification_url": receiver.url}
        )
        key = doc["userkey"]
        fault = {"kind": "out-of-order", "nth": 1, "times": 1}
        await control(session, server.url, "POST", f"/tenants/{key}/faults", fault)
        await dial(session, server.url, key, PHONENUMBER="12155550100")
        await dial(session, server.url, key, PHONENUMBER="12155550100")
        clock = await control(
            session, server.url, "POST", f"/tenants/{key}/clock/advance", {"seconds": 2}
        )
        # Both calls ended at +2 s: the second went out, the held first follows a second later.
        assert len(receiver.got) == 1
        assert clock["pending_deliveries"] == clock["pending_events"] == 1
        pending = await control(
            session, server.url, "GET", f"/tenants/{key}/notifications?state=pending"
        )
        assert clock["pending_deliveries"] == len(pending)
        assert clock["next_event_at"] == min(m["next_attempt_at"] for m in pending)
        await control(
            session, server.url, "POST", f"/tenants/{key}/clock/advance", {"until_idle": True}
        )
        assert len(receiver.got) == 2


def test_the_controller_clock_counts_attempts() -> None:
    receiver = ThreadReceiver([500] * 10)
    try:
        with MockAnveo(notification_url=receiver.url + "/cdr") as anveo:
            body = xml_request(
                "DIAL.CONNECT",
                [("PHONENUMBER", "12155550100"), ("DESTPHONENUMBER", "12155550124")],
                anveo.userkey,
            )
            with urllib.request.urlopen(anveo.api_url, body) as response:
                assert b"SUCCESS" in response.read()
            after = anveo.advance(2)
            assert after.pending_events == after.pending_deliveries == 1
            assert after.next_event_at == after.now + timedelta(minutes=5)
            assert anveo.clock().pending_events == 1
    finally:
        receiver.close()
