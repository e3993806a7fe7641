"""The Python controller: own server (thread and loop), remote binding, verbs and records."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import aiohttp
import pytest

from mock_anveo.errors import ControlError
from mock_anveo.http.app import ServerOptions
from mock_anveo.sim.world import Settings
from mock_anveo.testing.controller import (
    AsyncMockAnveo,
    MockAnveo,
    Requests,
)

from ..helpers import xml_request

FIRST, SECOND = "12157010680", "12125551234"  # ordinary numbers: answer after 4 s and 6 s


def dial(
    anveo: MockAnveo,
    first: str = FIRST,
    second: str = SECOND,
    extra: list[tuple[str, str]] | None = None,
) -> str:
    body = xml_request(
        "DIAL.CONNECT",
        [("PHONENUMBER", first), ("DESTPHONENUMBER", second), *(extra or [])],
        userkey=anveo.userkey,
    )
    with urllib.request.urlopen(anveo.api_url, body) as reply:
        return reply.read().decode()


@pytest.fixture
def ctl(server_url: str) -> Iterator[MockAnveo]:
    with MockAnveo.remote(server_url) as controller:  # not named "anveo": not the fixture
        yield controller


# ---- lifecycle ----------------------------------------------------------------------------
def test_own_server_in_a_thread_serves_a_fresh_tenant_and_stops() -> None:
    with MockAnveo() as anveo:
        assert anveo.url.startswith("http://127.0.0.1:")
        assert anveo.api_url == anveo.url + "/api/v3.asp"
        assert anveo.v2_url == anveo.url + "/api/v2.asp"
        assert len(anveo.userkey) == 40
        assert "<RESULT>SUCCESS</RESULT>" in dial(anveo)
        assert [c.action for c in anveo.calls()] == ["DIAL.CONNECT"]
        url = anveo.url
    with pytest.raises(OSError):
        urllib.request.urlopen(url + "/_mock/health", timeout=2)
    with pytest.raises(RuntimeError, match="not started"):
        _ = anveo.url


async def test_async_with_serves_in_the_running_loop() -> None:
    async with MockAnveo(balance="3.00") as anveo:
        assert isinstance(anveo, AsyncMockAnveo)
        body = xml_request(
            "DIAL.CONNECT",
            [("PHONENUMBER", FIRST), ("DESTPHONENUMBER", SECOND)],
            userkey=anveo.userkey,
        )
        async with (
            aiohttp.ClientSession() as session,
            session.post(anveo.api_url, data=body) as reply,
        ):
            assert "<RESULT>SUCCESS</RESULT>" in await reply.text()
        clock = await anveo.advance(until_idle=True)
        assert clock.pending_events == 0
        (call,) = await anveo.calls()
        assert call.status == "END"
        assert await anveo.balance() == Decimal("3.00") - call.charge
        assert (await anveo.requests()).call_count == 1
        url = anveo.url
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.ClientConnectionError):
            await session.get(url + "/_mock/health")


async def test_async_remote_drives_a_server_in_another_thread(server_url: str) -> None:
    async with AsyncMockAnveo.remote(server_url) as anveo:
        rule = await anveo.scenario(SECOND, "busy")
        assert [r["id"] for r in await anveo.scenarios()] == [rule["id"]]
        await anveo.reset()
        assert await anveo.scenarios() == []


def test_each_controller_has_its_own_tenant_and_close_deletes_it(server_url: str) -> None:
    with MockAnveo.remote(server_url) as one, MockAnveo.remote(server_url) as two:
        assert one.userkey != two.userkey
        dial(one)
        assert one.requests().call_count == 1
        two.requests().assert_not_called()
        gone = one.userkey
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(f"{server_url}/_mock/tenants/{gone}")
    assert caught.value.code == 404


def tenant_count(url: str) -> int:
    with urllib.request.urlopen(url + "/_mock/tenants") as reply:
        return len(json.loads(reply.read()))


def test_a_bad_preset_rule_leaves_no_tenant_behind(server_url: str) -> None:
    before = tenant_count(server_url)
    with pytest.raises(ControlError) as caught:
        MockAnveo.remote(server_url, scenarios=[{"match": SECOND, "outcome": "sideways"}]).open()
    assert caught.value.field == "outcome"
    with pytest.raises(ControlError) as caught:
        MockAnveo.remote(server_url, faults=[{"kind": "meteor"}]).open()
    assert caught.value.field == "kind"
    assert tenant_count(server_url) == before


async def test_async_bad_preset_rule_leaves_no_tenant_behind(server_url: str) -> None:
    before = tenant_count(server_url)
    with pytest.raises(ControlError):
        await AsyncMockAnveo.remote(server_url, faults=[{"kind": "meteor"}]).open()
    assert tenant_count(server_url) == before


def test_remote_refuses_server_settings(server_url: str) -> None:
    with pytest.raises(ValueError, match="remote"):
        MockAnveo.remote(server_url, options=ServerOptions())


def test_control_token_is_used_for_the_server_it_starts() -> None:
    with MockAnveo(options=ServerOptions(control_token="s3cret")) as anveo:
        assert anveo.balance() == Decimal("100.00")
        with pytest.raises(ControlError) as caught, MockAnveo.remote(anveo.url):
            pass
        assert caught.value.status == 401
        with MockAnveo.remote(anveo.url, token="s3cret") as other:
            assert other.userkey != anveo.userkey


# ---- clock --------------------------------------------------------------------------------
def test_advance_by_seconds_timedelta_moment_and_until_idle(ctl: MockAnveo) -> None:
    start = ctl.now()
    assert start == datetime(2026, 1, 1, tzinfo=UTC)
    assert ctl.advance(30).now == start + timedelta(seconds=30)
    assert ctl.advance(timedelta(minutes=1)).now == start + timedelta(seconds=90)
    assert ctl.advance(to=start + timedelta(hours=1)).now == start + timedelta(hours=1)
    dial(ctl, extra=[("DELAY", "10")])
    clock = ctl.clock()
    assert clock.pending_events == 1
    assert clock.next_event_at == start + timedelta(hours=1, minutes=10)
    idle = ctl.advance(until_idle=True)
    assert idle.pending_events == 0 and idle.events_fired >= 3


def test_advance_refuses_going_back_and_ambiguous_arguments(ctl: MockAnveo) -> None:
    ctl.advance(60)
    with pytest.raises(ControlError) as caught:
        ctl.advance(to=datetime(2025, 1, 1, tzinfo=UTC))
    assert caught.value.status == 400 and caught.value.field == "to"
    with pytest.raises(TypeError):
        ctl.advance()
    with pytest.raises(TypeError):
        ctl.advance(5, until_idle=True)


def test_frozen_clock_is_the_default_even_on_a_real_time_server() -> None:
    with MockAnveo(settings=Settings(clock_rate=1000.0)) as anveo:
        assert anveo.clock().rate == 0
    with MockAnveo(settings=Settings(clock_rate=1000.0), clock_rate=None) as anveo:
        assert anveo.clock().rate == 1000.0


# ---- calls, scenarios, faults --------------------------------------------------------------
def test_call_record_follows_the_timeline(ctl: MockAnveo) -> None:
    ctl.scenario(SECOND, "busy")
    reply = dial(ctl, extra=[("BILLINGCODE", "team-7"), ("MEMO", "hello")])
    requestid = ctl.requests().last.values["REQUESTID"]
    assert requestid in reply
    assert ctl.call(requestid).status == "INIT"
    ctl.advance(until_idle=True)
    call = ctl.call(requestid)
    assert call.statuses == ("NONE", "INIT", "END")
    assert call.reason == "busy"
    assert (call.memo, call.billingcode) == ("hello", "team-7")
    assert [leg.number for leg in call.legs] == [FIRST, SECOND]
    assert call.legs[0].answered_at is not None and call.legs[1].answered_at is None
    assert ctl.calls(status="END", billingcode="team-7") == [call]
    assert ctl.calls(billingcode="other") == []
    with pytest.raises(ControlError) as caught:
        ctl.call("0" * 40)
    assert caught.value.status == 404


def test_scenario_sequence_then_remove(ctl: MockAnveo) -> None:
    rule = ctl.scenario("1212555*", sequence=["no-answer", {"outcome": "answer", "ring": 1}])
    assert rule["match"] == "1212555*"
    for _ in range(2):
        dial(ctl)
    ctl.advance(until_idle=True)
    assert [c.reason for c in ctl.calls()] == ["no-answer", "answered-completed"]
    ctl.remove(rule)  # its "kind" field, which the control API adds on another branch
    assert ctl.scenarios() == []
    with pytest.raises(ControlError) as caught:
        ctl.scenario(SECOND, "sideways")
    assert caught.value.field == "outcome"


def test_fault_spoils_the_nth_request_once(ctl: MockAnveo) -> None:
    rule = ctl.fault("html", nth=2)
    assert "SUCCESS" in dial(ctl)
    assert "Down for maintenance" in dial(ctl)
    assert "SUCCESS" in dial(ctl)
    (fault,) = ctl.faults()
    assert (fault["id"], fault["fired"], fault["seen"]) == (rule["id"], 1, 2)
    assert [e.fault is not None for e in ctl.requests()] == [False, True, False]
    ctl.remove(rule["id"], kind="fault")  # by id, the kind named
    assert ctl.faults() == []


def test_fault_without_limit_fires_every_time(ctl: MockAnveo) -> None:
    ctl.fault("http-status", status=502, times=None)
    for _ in range(3):
        with pytest.raises(urllib.error.HTTPError) as caught:
            dial(ctl)
        assert caught.value.code == 502
    assert ctl.faults()[0]["fired"] == 3


# ---- journal and requests ---------------------------------------------------------------------
def test_requests_speak_unittest_mock(ctl: MockAnveo) -> None:
    sent = ctl.requests()
    assert isinstance(sent, Requests) and not sent.called and sent.call_count == 0
    sent.assert_not_called()
    with pytest.raises(AssertionError):
        _ = sent.last
    with pytest.raises(AssertionError):
        sent.assert_called()
    dial(ctl, extra=[("MEMO", "AT&T <sales>")])
    balance = xml_request("ACCOUNT.GETBALANCE", [], userkey=ctl.userkey)
    urllib.request.urlopen(ctl.api_url, balance).read()
    sent = ctl.requests()
    assert sent.called and sent.call_count == len(sent) == 2
    with pytest.raises(AssertionError):
        sent.assert_called_once()
    first = sent[0]
    assert first.action == "DIAL.CONNECT" and first.door == "v3"
    assert first.params["MEMO"] == "AT&T <sales>"
    assert first.result == "SUCCESS" and first.error is None and first.error_code is None
    assert sent.last.result == "100.00"
    only = ctl.requests("ACCOUNT.GETBALANCE")
    only.assert_called_once()
    assert only.last.action == "ACCOUNT.GETBALANCE"


def test_refused_request_shows_code_and_message(ctl: MockAnveo) -> None:
    dial(ctl, first="+12157010680")
    last = ctl.requests().last
    assert last.error_code == "INVALID_PARAMETER"
    assert last.result == "ERROR"
    assert last.error is not None and "PHONENUMBER" in last.error


def test_journal_holds_transitions_too(ctl: MockAnveo) -> None:
    dial(ctl)
    ctl.advance(until_idle=True)
    kinds = {e.kind for e in ctl.journal()}
    assert kinds == {"exchange", "transition"}
    transitions = ctl.journal(kind="transition")
    assert transitions[-1].detail is not None and "->ended" in transitions[-1].detail
    seqs = [e.seq for e in transitions]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)


# ---- account and reset --------------------------------------------------------------------------
def test_preset_account_and_set_account(server_url: str) -> None:
    with MockAnveo.remote(
        server_url,
        balance=Decimal("0.01"),
        verified_callerids=["15550001"],
        start=datetime(2030, 5, 1, 12, 0),
    ) as anveo:
        view = anveo.tenant()
        assert view["verified_callerids"] == ["15550001"]
        assert anveo.now() == datetime(2030, 5, 1, 12, 0, tzinfo=UTC)
        assert "ERROR" in dial(anveo)  # two legs need 0.02 USD
        assert anveo.requests().last.error_code == "INSUFFICIENT_FUNDS"
        anveo.set_account(balance=Decimal("5"))
        assert anveo.balance() == Decimal("5")
        assert "SUCCESS" in dial(anveo)
        with pytest.raises(ControlError) as caught:
            anveo.set_account(colour="blue")
        assert caught.value.status == 400 and caught.value.field == "colour"


def test_reset_restores_the_configured_start(server_url: str) -> None:
    preset = [{"match": SECOND, "outcome": "busy"}]
    with MockAnveo.remote(
        server_url,
        balance="9.00",
        scenarios=preset,
        faults=[{"kind": "latency", "seconds": 0, "times": None}],
    ) as anveo:
        userkey = anveo.userkey
        dial(anveo)
        anveo.scenario(FIRST, "fail")
        anveo.advance(3600)
        anveo.set_account(balance="1.00")
        anveo.reset()
        assert anveo.userkey == userkey
        assert anveo.calls() == [] and anveo.requests().call_count == 0
        assert anveo.balance() == Decimal("9.00")
        assert anveo.now() == datetime(2026, 1, 1, tzinfo=UTC)
        assert [r["match"] for r in anveo.scenarios()] == [SECOND]
        assert [f["kind"] for f in anveo.faults()] == ["latency"]
