"""Controller verbs added for bug 21 (v1 SMS list, the server's journal) and the
``assert_called_with`` / ``assert_any_call`` checks on request records, on both faces."""

from __future__ import annotations

import inspect
import secrets
import urllib.request
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlencode

import pytest

from mock_anveo.testing.controller import AsyncMockAnveo, MockAnveo
from mock_anveo.testing.ops import verb
from mock_anveo.testing.verbs import Controller

from ..helpers import xml_request

FIRST, SECOND = "12157010680", "12125551234"


@pytest.fixture
def ctl(server_url: str) -> Iterator[MockAnveo]:
    with MockAnveo.remote(server_url) as controller:
        yield controller


def send_sms(url: str, apikey: str, message: str) -> str:
    query = urlencode(
        {
            "apikey": apikey,
            "action": "sms",
            "from": FIRST,
            "destination": SECOND,
            "message": message,
        }
    )
    with urllib.request.urlopen(f"{url}/api/v1.asp?{query}") as reply:
        return reply.read().decode()


def dial(anveo: MockAnveo | AsyncMockAnveo, second: str = SECOND, **extra: str) -> None:
    body = xml_request(
        "DIAL.CONNECT",
        [("PHONENUMBER", FIRST), ("DESTPHONENUMBER", second), *extra.items()],
        userkey=anveo.userkey,
    )
    urllib.request.urlopen(anveo.api_url, body).read()


# ---- sms() and server_journal() -----------------------------------------------------------
def test_sms_lists_what_the_v1_door_sent(ctl: MockAnveo) -> None:
    assert ctl.sms() == []
    reply = send_sms(ctl.url, ctl.userkey, "hello there")
    assert reply.startswith("result=success")
    (sms,) = ctl.sms()
    assert (sms.sender, sms.destination, sms.message, sms.parts) == (
        FIRST,
        SECOND,
        "hello there",
        1,
    )
    assert f"smsid={sms.smsid}" in reply and f"fee={sms.fee}" in reply
    assert isinstance(sms.fee, Decimal) and isinstance(sms.sent_at, datetime)
    assert sms.sent_at == ctl.now()  # virtual time, frozen at the tenant's start


def test_server_journal_shows_requests_no_tenant_owns(ctl: MockAnveo) -> None:
    stranger = secrets.token_hex(20)  # a USERKEY no tenant has; unique in the shared journal
    body = xml_request("ACCOUNT.GETBALANCE", [], userkey=stranger)
    assert b"ERROR" in urllib.request.urlopen(ctl.api_url, body).read()
    mine = [e for e in ctl.server_journal() if stranger in (e.request or "")]
    assert len(mine) == 1 and mine[0].error_code == "UNKNOWN_USERKEY"
    assert mine[0].result == "ERROR"
    assert len(ctl.server_journal(limit=1)) == 1
    ctl.requests().assert_not_called()  # the tenant's own journal never saw it


async def test_async_face_has_the_same_new_verbs(server_url: str) -> None:
    async with AsyncMockAnveo.remote(server_url) as anveo:
        assert await anveo.sms() == []
        stranger = secrets.token_hex(20)
        urllib.request.urlopen(
            anveo.api_url, xml_request("ACCOUNT.GETBALANCE", [], userkey=stranger)
        ).read()
        assert any(stranger in (e.request or "") for e in await anveo.server_journal())
        dial(anveo, MEMO="async")
        (await anveo.requests()).assert_called_with(MEMO="async")


# ---- assert_called_with and assert_any_call ----------------------------------------------------
def test_assert_called_with_checks_the_last_request_only(ctl: MockAnveo) -> None:
    dial(ctl, MEMO="first")
    dial(ctl, "12125559999", BILLINGCODE="7")
    sent = ctl.requests()
    sent.assert_called_with(DESTPHONENUMBER="12125559999", BILLINGCODE=7)  # compared as text
    sent.assert_called_with(MEMO=None)  # None: the parameter was not sent
    sent.assert_called_with()  # nothing asked: any last request will do
    with pytest.raises(AssertionError) as caught:
        sent.assert_called_with(MEMO="first")  # the first request had it, not the last
    message = str(caught.value)
    assert "the last API request does not have MEMO='first'" in message
    assert "MEMO: expected 'first', not sent" in message
    assert "mock-anveo received 2:" in message  # what was sent, request by request
    assert f"#1 DIAL.CONNECT(PHONENUMBER='{FIRST}'" in message
    assert "#2 DIAL.CONNECT(" in message and "BILLINGCODE='7'" in message


def test_assert_called_with_names_each_difference(ctl: MockAnveo) -> None:
    dial(ctl, MEMO="sent")
    with pytest.raises(AssertionError) as caught:
        ctl.requests().assert_called_with(DESTPHONENUMBER="1", MEMO=None, CALLERID="2")
    message = str(caught.value)
    assert f"DESTPHONENUMBER: expected '1', sent '{SECOND}'" in message
    assert "MEMO: expected absent, sent 'sent'" in message
    assert "CALLERID: expected '2', not sent" in message


def test_assert_any_call_looks_at_every_request(ctl: MockAnveo) -> None:
    with pytest.raises(AssertionError, match="received no API request"):
        ctl.requests().assert_called_with(MEMO="x")
    with pytest.raises(AssertionError, match="received no API request"):
        ctl.requests().assert_any_call(MEMO="x")
    dial(ctl, MEMO="one")
    dial(ctl, MEMO="two")
    sent = ctl.requests()
    sent.assert_any_call(MEMO="one", DESTPHONENUMBER=SECOND)
    sent.assert_any_call(MEMO="two")
    with pytest.raises(AssertionError) as caught:
        sent.assert_any_call(MEMO="three")
    message = str(caught.value)
    assert "no API request had MEMO='three'" in message
    assert "MEMO='one'" in message and "MEMO='two'" in message


def test_a_long_history_shows_the_latest_requests(ctl: MockAnveo) -> None:
    for n in range(23):
        dial(ctl, MEMO=f"m{n}")
    with pytest.raises(AssertionError) as caught:
        ctl.requests().assert_any_call(MEMO="never")
    message = str(caught.value)
    assert "mock-anveo received 23:" in message and "... 3 earlier" in message
    assert "MEMO='m22'" in message and "MEMO='m2'" not in message


# ---- remove() reads the rule's kind ---------------------------------------------------------
def test_remove_by_id_needs_the_kind(ctl: MockAnveo) -> None:
    rule = ctl.scenario(SECOND, "busy")
    for bad in (rule["id"], {"id": rule["id"]}, {"id": rule["id"], "rule": "other"}):
        with pytest.raises(ValueError, match="kind, 'scenario' or 'fault'"):
            ctl.remove(bad)
    ctl.remove(rule["id"], kind="scenario")
    assert ctl.scenarios() == []


def test_remove_follows_the_rule_field_of_the_servers_rule_json(ctl: MockAnveo) -> None:
    # A fault's "kind" is its fault type, so the list a rule belongs to is its "rule" field.
    scenario, fault = ctl.scenario(SECOND, "busy"), ctl.fault("html")
    assert (scenario["rule"], fault["rule"], fault["kind"]) == ("scenario", "fault", "html")
    ctl.remove(fault)
    ctl.remove(scenario)
    assert ctl.scenarios() == [] and ctl.faults() == []


# ---- bug 20: blocking clients in async tests -------------------------------------------------
async def test_with_form_serves_blocking_clients_inside_async_tests() -> None:
    # ``with`` runs the server in a thread, so a blocking client called from the test's loop
    # is answered (inside ``async with`` the server shares that loop and could not answer).
    with MockAnveo() as anveo:
        dial(anveo, MEMO="from a coroutine")
        anveo.requests().assert_called_with(MEMO="from a coroutine")


# ---- one implementation, two faces ----------------------------------------------------------
def test_both_faces_share_every_verb_and_the_readme_lists_them() -> None:
    names = sorted(n for n, v in vars(Controller).items() if isinstance(v, verb))
    assert len(names) >= 20
    sync, awaited = MockAnveo.remote("http://127.0.0.1:9"), AsyncMockAnveo.remote("http://x")
    for name in names:
        assert inspect.signature(getattr(sync, name)) == inspect.signature(
            getattr(awaited, name)
        ), name
        assert "self" not in inspect.signature(getattr(sync, name)).parameters
        assert inspect.iscoroutinefunction(getattr(awaited, name)), name
        assert not inspect.iscoroutinefunction(getattr(sync, name)), name
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("| verb | does |") : readme.index("`assert_called_with(PHONE")]
    assert [n for n in names if f"`{n}(" not in table] == []
