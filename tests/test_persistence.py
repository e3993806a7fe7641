"""Snapshots and the state file: nothing lost, nothing corrupted, bad files kept aside."""

from __future__ import annotations

import ast
import inspect
import json
import os
import random
import signal
import subprocess
import sys
import time
import urllib.request
from decimal import Decimal
from pathlib import Path

import pytest

from mock_anveo.errors import AnveoError, SettingError
from mock_anveo.http.statefile import StateFile
from mock_anveo.sim import snapshot
from mock_anveo.sim.accounts import DEFAULT_CALLFLOW, DOCS_CALLERID, Account
from mock_anveo.sim.scenarios import rule_from_dict
from mock_anveo.sim.tenant import Tenant
from mock_anveo.sim.world import Settings, World
from mock_anveo.wire import pipeline

from .helpers import KEY, Reply, xml_request


def busy_world() -> World:
    world = World(Settings(seed=5))
    tenant = world.get(KEY)
    tenant.rules.append(rule_from_dict({"match": "1999*", "outcome": "busy"}, "s1"))
    for number, delay in (("12125551234", "0"), ("19995551234", "0"), ("12125551234", "90")):
        params = [
            ("PHONENUMBER", "12157010680"),
            ("DESTPHONENUMBER", number),
            ("DELAY", delay),
            ("BILLINGCODE", "x"),
        ]
        assert Reply(pipeline.handle(world, "v3", xml_request("DIAL.CONNECT", params)).body).ok
    tenant.advance(7)  # one call bridging, one ringing, one scheduled
    return world


def story(world: World) -> list[object]:
    tenant = world.get(KEY)
    tenant.run_until_idle()
    reply = Reply(
        pipeline.handle(
            world,
            "v3",
            xml_request(
                "DIAL.CONNECT", [("PHONENUMBER", "12157010680"), ("DESTPHONENUMBER", "12125551234")]
            ),
        ).body
    )
    return [
        reply.requestid,
        str(tenant.account.balance),
        [(r, c.timeline, str(c.charge)) for r, c in tenant.calls.items()],
    ]


def test_snapshot_round_trip_continues_the_same_story():
    original = busy_world()
    doc = json.loads(json.dumps(snapshot.snapshot(original)))
    copy = World(Settings(seed=5))
    assert snapshot.restore(copy, doc) == 1
    assert story(copy) == story(original)


def test_a_bad_snapshot_changes_nothing():
    world = busy_world()
    before = json.dumps(snapshot.snapshot(world))
    for bad in (
        {},
        {"format": "other"},
        {"format": snapshot.FORMAT},
        {"format": snapshot.FORMAT, "tenants": [{"account": {}}], "key_rng": []},
        [],
    ):
        with pytest.raises(SettingError):
            snapshot.restore(world, bad)
    doc = json.loads(before)
    doc["tenants"][0]["calls"][0]["phase"] = "flying"
    with pytest.raises(SettingError):
        snapshot.restore(world, doc)
    assert json.dumps(snapshot.snapshot(world)) == before


def test_restoring_a_snapshot_gives_back_every_leg_and_plan_exactly():
    world = busy_world()
    tenant = world.get(KEY)
    flow = tenant.dial_callflow("12125551234", callerid=DOCS_CALLERID, callflow=DEFAULT_CALLFLOW)
    tenant.advance(3)  # the call flow's one party answers; the bridged call is still talking
    doc = json.loads(json.dumps(snapshot.snapshot(world)))
    copy = World(Settings(seed=5))
    snapshot.restore(copy, doc)
    again = json.loads(json.dumps(snapshot.snapshot(copy)))
    # (Not the whole document: restoring renumbers the scheduler's sequence, keeping order.)
    assert [(c["legs"], c["plan"]) for c in again["tenants"][0]["calls"]] == [
        (c["legs"], c["plan"]) for c in doc["tenants"][0]["calls"]
    ]
    restored = copy.get(KEY).calls
    for requestid, call in tenant.calls.items():
        assert restored[requestid].legs == call.legs
        assert restored[requestid].plan == call.plan
    assert len(restored[flow.requestid].legs) == 1
    assert {len(call.plan) for call in restored.values()} == {1, 2}  # planned when accepted


@pytest.mark.parametrize("legs", [0, 3])
def test_a_snapshot_call_has_one_or_two_legs(legs: int):
    world = busy_world()
    before = json.dumps(snapshot.snapshot(world))
    doc = json.loads(before)
    call = doc["tenants"][0]["calls"][0]
    call["legs"] = (call["legs"] * 2)[:legs]
    with pytest.raises(SettingError, match="one or two legs"):
        snapshot.restore(world, doc)
    assert json.dumps(snapshot.snapshot(world)) == before


def test_a_snapshot_plan_has_no_more_legs_than_its_call():
    world = busy_world()
    doc = json.loads(json.dumps(snapshot.snapshot(world)))
    call = next(c for c in doc["tenants"][0]["calls"] if len(c["plan"]) == 2)
    call["legs"] = call["legs"][:1]
    with pytest.raises(SettingError, match="a plan of 2 legs for a call of 1"):
        snapshot.restore(world, doc)


def test_state_file_save_is_atomic_and_restores(tmp_path: Path):
    path = tmp_path / "state.json"
    world = busy_world()
    state = StateFile(path)
    assert "no state file" in state.restore(World())
    assert "saved 1 tenant" in state.save(world)
    assert not (tmp_path / "state.json.tmp").exists()
    again = World(Settings(seed=5))
    assert "restored 1 tenant" in state.restore(again)
    assert story(again) == story(world)


def test_corrupt_state_file_is_kept_aside_never_overwritten(tmp_path: Path):
    path = tmp_path / "state.json"
    path.write_text('{"format": "mock-anveo-snapshot/1", "tenants": [{"no": 1}]}')
    world = World()
    message = StateFile(path).restore(world)
    assert "could not be used" in message
    assert (tmp_path / "state.json.corrupt").read_text().startswith('{"format"')
    assert not path.exists()
    assert KEY in world.tenants  # started fresh with the configured account


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read()


@pytest.mark.slow
def test_server_keeps_state_across_sigterm_restart(tmp_path: Path):
    state = tmp_path / "state.json"
    url_file = tmp_path / "url"
    cmd = [
        sys.executable,
        "-m",
        "mock_anveo",
        "serve",
        "--port",
        "0",
        "--clock",
        "manual",
        "--state-file",
        str(state),
        "--url-file",
        str(url_file),
    ]

    def launch() -> tuple[subprocess.Popen[bytes], str]:
        url_file.unlink(missing_ok=True)
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while not url_file.exists() or not url_file.read_text().strip():
            assert proc.poll() is None, proc.stdout.read().decode()
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.02)
        return proc, url_file.read_text().strip()

    proc, url = launch()
    request = urllib.request.Request(
        url + "/api/v3.asp",
        data=xml_request(
            "DIAL.CONNECT",
            [("PHONENUMBER", "12157010680"), ("DESTPHONENUMBER", "12125551234"), ("DELAY", "60")],
        ),
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        rid = Reply(response.read()).requestid
    proc.send_signal(signal.SIGTERM)
    out = proc.communicate(timeout=20)[0].decode()
    assert proc.returncode == 0, out
    assert "saved 1 tenant" in out

    proc, url = launch()
    try:
        call = json.loads(_get(f"{url}/_mock/tenants/{KEY}/calls/{rid}"))
        assert call["status"] == "NONE" and call["next_event_at"] is not None
        advance = urllib.request.Request(
            f"{url}/_mock/tenants/{KEY}/clock/advance",
            method="POST",
            data=json.dumps({"seconds": 3600 * 2}).encode(),
        )
        urllib.request.urlopen(advance, timeout=10).read()
        call = json.loads(_get(f"{url}/_mock/tenants/{KEY}/calls/{rid}"))
        assert call["status"] == "END" and call["reason"] == "answered-completed"
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        proc.communicate(timeout=20)


def test_snapshot_module_touches_no_private_attribute():
    # Tenant.to_document/from_document and Journal's own methods own the format; persistence
    # only calls them (it once poked _id_counter, _ended, _schedule and journal._entries).
    tree = ast.parse(inspect.getsource(snapshot))
    private = [
        node.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and node.attr.startswith("_")
        and not node.attr.startswith("__")
    ]
    assert private == []


def test_a_snapshot_from_before_reserved_rate_and_origin_still_restores():
    doc = json.loads(json.dumps(snapshot.snapshot(busy_world())))
    for tenant in doc["tenants"]:
        del tenant["origin"]
        for call in tenant["calls"]:
            if call["reserved"] == "0" and call["rate"] in ("0", "0.01"):
                del call["reserved"], call["rate"]
    copy = World(Settings(seed=5))
    assert snapshot.restore(copy, doc) == 1
    assert copy.get(KEY).calls


@pytest.mark.parametrize("seed", [1, 2])
def test_every_moment_of_a_random_story_round_trips(seed: int):
    """Snapshots taken all along seeded random traffic restore to the same document, so the
    checks refuse nothing the engine itself produces."""
    rng = random.Random(seed)
    tenant = Tenant(
        Account(
            "k" * 40,
            verified_callerids={DOCS_CALLERID},
            callflows={DEFAULT_CALLFLOW},
            balance=Decimal("3"),
        ),
        seed=seed,
        ended_limit=4,
    )
    tenant.rules.append(
        rule_from_dict({"match": "*", "weights": {"answer": 3, "busy": 1, "no-answer": 1}}, "w")
    )
    rids: list[str] = []
    for step in range(120):
        try:
            roll = rng.random()
            if roll < 0.35:
                rids.append(
                    tenant.dial_connect(
                        "12157010680",
                        rng.choice(["12125551234", "12125550104"]),
                        delay=rng.choice([0, 1]),
                        max_minutes=rng.choice([None, 1]),
                        test=rng.random() < 0.1,
                    ).requestid
                )
            elif roll < 0.45:
                rids.append(
                    tenant.dial_callflow(
                        "12125551234",
                        callerid=DOCS_CALLERID,
                        callflow=DEFAULT_CALLFLOW,
                        variables={"A": "1"},
                    ).requestid
                )
            elif roll < 0.5 and rids:
                tenant.cancel(rng.choice(rids))
            elif roll < 0.55:
                tenant.send_sms("1", "12125551234", "hi", 1)
            else:
                tenant.advance(rng.choice([1, 3, 5, 30, 61]))
        except AnveoError:
            pass
        if step % 3:
            continue
        doc = json.loads(json.dumps(tenant.to_document(), allow_nan=False))
        again = Tenant.from_document(json.loads(json.dumps(doc))).to_document()
        for document in (doc, again):  # restoring renumbers the scheduler, keeping the order
            for call in document["calls"]:
                if call["pending"]:
                    call["pending"][2] = 0
        assert json.loads(json.dumps(again)) == doc, step
