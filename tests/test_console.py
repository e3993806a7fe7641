"""The console log of ``mock-anveo serve``: a line per exchange and per state change, --quiet,
--log-format json, colour only on a terminal, and silence everywhere else."""

from __future__ import annotations

import asyncio
import io
import json
import signal
import urllib.request
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from mock_anveo.http.app import ServerOptions, make_app
from mock_anveo.http.console import Console, short_key
from mock_anveo.sim.world import World

from .helpers import KEY, Reply, xml_request
from .notify_helpers import aiohttp_receiver
from .test_cli import serve

CONNECT = [("PHONENUMBER", "12157010680"), ("DESTPHONENUMBER", "12125551234")]


@pytest.fixture
async def logged():
    events: list[dict[str, Any]] = []
    app = make_app(World(), ServerOptions(console=events.append))
    async with TestClient(TestServer(app)) as client:
        yield client, events


async def test_an_exchange_is_one_event_with_what_a_developer_needs(logged):
    client, events = logged
    reply = Reply(
        await (await client.post("/api/v3.asp", data=xml_request("DIAL.CONNECT", CONNECT))).read()
    )
    (event,) = events
    assert event["type"] == "exchange"
    assert event["door"] == "v3" and event["action"] == "DIAL.CONNECT"
    assert event["result"] == "SUCCESS" and event["error_code"] is None
    assert event["requestid"] == reply.values["REQUESTID"]
    assert event["userkey"] == KEY  # in full: log tools filter by it; text lines shorten it
    line = Console(io.StringIO()).text(event)
    assert f"key={short_key(KEY)} " in line and KEY not in line
    assert event["virtual"].startswith("2026-01-01T00:00:00")
    assert event["ms"] >= 0


async def test_refusals_carry_the_error_code_on_every_door(logged):
    client, events = logged
    await client.post("/api/v3.asp", data=b"<REQUEST>")
    await client.get("/api/v2.asp?ACTION=NOPE")
    await client.get("/api/v1.asp?apikey=unknown")
    assert [(e["door"], bool(e["error_code"])) for e in events] == [
        ("v3", True),
        ("v2", True),
        ("v1", True),
    ]


async def test_state_changes_are_lines_of_their_own(logged):
    client, events = logged
    await client.post("/api/v3.asp", data=xml_request("DIAL.CONNECT", CONNECT))
    advance = f"/_mock/tenants/{KEY}/clock/advance"
    assert (await client.post(advance, json={"until_idle": True})).status == 200
    # The watcher logs what the advance fired; its next look comes within a tick.
    hub_events = await _wait_for(events, lambda e: e["type"] == "call" and e["state"] == "ended")
    states = [e["state"] for e in hub_events if e["type"] == "call"]
    assert states[0] == "ringing" and "bridged" in states and states[-1] == "ended"
    assert hub_events[-1]["reason"]


async def _wait_for(events: list[dict[str, Any]], done: Any) -> list[dict[str, Any]]:
    for _ in range(200):  # a bounded wait for the watcher's task (a real-time tick, not a clock)
        if any(done(e) for e in events):
            return events
        await asyncio.sleep(0.02)
    raise AssertionError(events)


def _event(**extra: Any) -> dict[str, Any]:
    base = {
        "type": "exchange",
        "virtual": "2026-01-01T00:00:05.000Z",
        "wall": "2026-12-01T22:00:01.000Z",
        "door": "v3",
        "action": "DIAL.CONNECT",
        "userkey": "abcd...xyz",
        "result": "SUCCESS",
        "error_code": None,
        "fault": None,
        "requestid": "r1",
        "ms": 1.25,
    }
    return {**base, **extra}


def test_text_lines_show_times_door_action_key_result_id_and_ms():
    out = io.StringIO()
    Console(out)(_event())
    line = out.getvalue()
    assert line.count("\n") == 1
    for part in ("2026-01-01 00:00:05", "22:00:01", "v3", "DIAL.CONNECT", "abcd...xyz", "SUCCESS"):
        assert part in line
    assert "rid=r1" in line and "1.2 ms" in line
    assert "\x1b[" not in line  # StringIO is not a terminal: no colour


def test_colour_only_on_a_terminal():
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    out = Tty()
    Console(out)(_event(error_code="UNKNOWN_USERKEY", result="ERROR"))
    assert "\x1b[31mUNKNOWN_USERKEY\x1b[0m" in out.getvalue()


def test_json_lines_are_one_object_each():
    out = io.StringIO()
    console = Console(out, "json")
    console(_event())
    console(
        {
            "type": "call",
            "virtual": "x",
            "wall": None,
            "userkey": "k",
            "requestid": "r1",
            "state": "ended",
            "reason": "busy",
            "from": "ringing",
            "phase": "ended",
            "action": "DIAL.CONNECT",
            "seq": 3,
        }
    )
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [d["type"] for d in lines] == ["exchange", "call"]
    assert lines[1]["reason"] == "busy"


def test_short_key_hides_most_of_a_long_key():
    assert short_key(None) == "-"
    assert short_key("short") == "short"
    assert short_key("0123456789abcdef") == "0123...def"


def test_in_process_servers_stay_silent(capsys):
    from mock_anveo.http.server import ThreadedServer

    server = ThreadedServer().start()
    try:
        urllib.request.urlopen(
            urllib.request.Request(
                server.url + "/api/v3.asp", data=xml_request("DIAL.CONNECT", CONNECT)
            ),
            timeout=10,
        ).close()
    finally:
        server.stop()
    captured = capsys.readouterr()
    assert "DIAL.CONNECT" not in captured.out + captured.err


def _run(tmp_path, *flags: str) -> str:
    proc, url = serve("--clock", "manual", *flags, tmp=tmp_path)
    try:
        body = xml_request("DIAL.CONNECT", CONNECT)
        urllib.request.urlopen(
            urllib.request.Request(url + "/api/v3.asp", data=body), timeout=10
        ).close()
        advance = urllib.request.Request(
            f"{url}/_mock/tenants/{KEY}/clock/advance",
            data=b'{"until_idle": true}',
            method="POST",
        )
        urllib.request.urlopen(advance, timeout=10).close()
        # Another exchange after the advance: the state changes it fired are logged before it.
        urllib.request.urlopen(
            urllib.request.Request(url + "/api/v3.asp", data=b"<REQUEST/>"), timeout=10
        ).close()
    finally:
        proc.send_signal(signal.SIGTERM)
        out = proc.communicate(timeout=20)[0]
    assert proc.returncode == 0, out
    return out


@pytest.mark.slow
def test_serve_prints_exchanges_and_state_changes_and_quiet_silences_them(tmp_path):
    out = _run(tmp_path)
    assert "DIAL.CONNECT" in out and "SUCCESS" in out and "ms" in out
    assert " bridged" in out and " ended (" in out
    assert "/_mock/ui/" in out  # the dashboard's address is printed at start
    (tmp_path / "quiet").mkdir()
    quiet = _run(tmp_path / "quiet", "--quiet")
    assert "DIAL.CONNECT" not in quiet and "bridged" not in quiet
    assert "listening on" in quiet


@pytest.mark.slow
def test_serve_log_format_json_makes_every_line_one_object_banner_included(tmp_path):
    state = tmp_path / "state.json"
    out = _run(tmp_path, "--log-format", "json", "--state-file", str(state))
    events = [json.loads(line) for line in out.splitlines()]  # every line: no plain text
    kinds = [e["type"] for e in events]
    # The banner first: a script reading one line gets the URL; the state file's line follows.
    assert kinds[:2] == ["listening", "state"] and kinds[-2:] == ["stopping", "state"]
    listening = events[0]
    assert listening["url"].startswith("http://127.0.0.1:")
    assert listening["dashboard"] == listening["url"] + "/_mock/ui/"
    assert listening["userkeys"] == [KEY] and "listening on" in listening["message"]
    assert {"exchange", "call"} <= set(kinds)
    ended = [e for e in events if e["type"] == "call" and e["state"] == "ended"]
    assert ended and ended[0]["reason"]
    # In full; the last exchange (<REQUEST/>) named no key at all.
    assert {e["userkey"] for e in events if e["type"] in {"exchange", "call"}} == {KEY, None}
    assert state.exists()


def test_text_lines_show_control_characters_of_a_client_as_question_marks():
    out = io.StringIO()
    Console(out)(_event(action="DIAL\x1b[2J", userkey="\x1b[31mkey\n"))
    line = out.getvalue()
    assert "\x1b" not in line and line.count("\n") == 1
    assert "DIAL?[2J" in line


def test_a_console_whose_reader_went_away_goes_quiet_instead_of_failing_the_request():
    class Closed(io.StringIO):
        def write(self, text: str) -> int:
            raise BrokenPipeError(32, "Broken pipe")

    console = Console(Closed(), "json")
    console({"kind": "exchange"})  # raised BrokenPipeError before
    assert console.dead
    console({"kind": "exchange"})


async def test_each_notification_attempt_is_a_line_with_its_outcome(logged):
    client, events = logged
    async with aiohttp_receiver([500, 200]) as receiver:
        patch = {"notification_url": receiver.url + "/cdr"}
        assert (await client.patch(f"/_mock/tenants/{KEY}", json=patch)).status == 200
        await client.post("/api/v3.asp", data=xml_request("DIAL.CONNECT", CONNECT))
        advance = f"/_mock/tenants/{KEY}/clock/advance"
        assert (await client.post(advance, json={"until_idle": True})).status == 200
    # advance returns after the attempts that fell due: no wait for the watcher needed
    attempts = [e for e in events if e["type"] == "notify"]
    assert [(e["attempt"], e["status"], e["state"]) for e in attempts] == [
        (1, 500, "pending"),
        (2, 200, "delivered"),
    ]
    line = Console(io.StringIO()).text(attempts[0])
    assert "CALL" in line and "attempt 1 HTTP 500 -> pending" in line


async def test_lines_come_in_virtual_time_order_attempts_after_the_changes_that_caused_them(
    logged,
):
    client, events = logged
    # The first call's notification fails once: its retry (5 virtual minutes later) comes
    # after the second call (DELAY=3 minutes) has rung, talked, ended and been notified.
    async with aiohttp_receiver([500, 200, 200]) as receiver:
        patch = {"notification_url": receiver.url + "/cdr"}
        assert (await client.patch(f"/_mock/tenants/{KEY}", json=patch)).status == 200
        await client.post("/api/v3.asp", data=xml_request("DIAL.CONNECT", CONNECT))
        later = [*CONNECT, ("DELAY", "3")]
        await client.post("/api/v3.asp", data=xml_request("DIAL.CONNECT", later))
        advance = f"/_mock/tenants/{KEY}/clock/advance"
        assert (await client.post(advance, json={"until_idle": True})).status == 200
    moments = [e["virtual"] for e in events]
    assert moments == sorted(moments), [(e["type"], e["virtual"]) for e in events]
    lines = [
        e["type"] if e["type"] != "call" else f"{e['requestid'][:4]} {e['state']}"
        for e in events
        if e["type"] != "call" or e["state"] in {"ringing", "bridged", "ended"}
    ]
    first, second = (e["requestid"][:4] for e in events if e["type"] == "exchange")
    assert lines == [
        "exchange",
        f"{first} ringing",
        "exchange",
        f"{first} bridged",
        f"{first} ended",
        "notify",  # attempt 1 of the first call's notification: HTTP 500
        f"{second} ringing",
        f"{second} bridged",
        f"{second} ended",
        "notify",
        "notify",  # attempt 2 of the first call's, 5 virtual minutes after its first
    ]
    attempts = [(e["attempt"], e["status"]) for e in events if e["type"] == "notify"]
    assert attempts == [(1, 500), (1, 200), (2, 200)]


def test_a_call_line_gives_the_note_only_when_it_adds_something():
    call = {"type": "call", "virtual": None, "wall": None, "userkey": KEY, "requestid": "r1"}
    console = Console(io.StringIO())
    assert console.text(call | {"state": "bridged", "reason": "bridged"}).endswith(" bridged")
    ended = console.text(call | {"state": "ended", "reason": "busy"})
    assert ended.endswith(" ended (busy)") and f"key={short_key(KEY)} " in ended


def test_the_banner_is_text_or_one_json_object_quiet_or_not(capsys):
    from argparse import Namespace

    from mock_anveo.cli import _note

    _note(Namespace(log_format="text", quiet=True), "listening", ["one", "two"], url="u")
    assert capsys.readouterr().out == "one\ntwo\n"
    _note(Namespace(log_format="json", quiet=True), "listening", ["one", "two"], url="u")
    (line,) = capsys.readouterr().out.splitlines()
    event = json.loads(line)
    assert event["type"] == "listening" and event["url"] == "u" and event["message"] == "one"
