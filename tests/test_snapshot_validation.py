"""A restored snapshot holds together or is refused whole, naming the field (bug 4).

The property takes a real snapshot (calls in every phase, SMS, rules, faults, journal), breaks
one field anywhere in the tree, and asserts that restoring either refuses it and changes
nothing, or gives a world that serves requests with no error but Anveo's documented refusals.
"""

from __future__ import annotations

import copy
import json
from typing import Any
from urllib.parse import urlencode

import pytest
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import given
from hypothesis import strategies as st

from mock_anveo.errors import SettingError
from mock_anveo.http.app import make_app
from mock_anveo.http.views import call_view, clock_view, tenant_view
from mock_anveo.sim import snapshot
from mock_anveo.sim.accounts import DEFAULT_CALLFLOW, DOCS_CALLERID, Account, default_account
from mock_anveo.sim.faults import fault_from_dict
from mock_anveo.sim.journal import entry_to_dict
from mock_anveo.sim.scenarios import rule_from_dict
from mock_anveo.sim.world import Settings, World
from mock_anveo.wire import pipeline, textdoor

from .helpers import KEY, Reply, xml_request

OTHER = "o" * 40


def send(
    world: World,
    action: str,
    params: list[tuple[str, str]],
    userkey: str = KEY,
    variables: list[tuple[str, str]] = (),
) -> Reply:
    return Reply(pipeline.handle(world, "v3", xml_request(action, params, userkey, variables)).body)


def dial(world: World, second: str, *extra: tuple[str, str], userkey: str = KEY) -> str:
    reply = send(
        world,
        "DIAL.CONNECT",
        [("PHONENUMBER", "12157010680"), ("DESTPHONENUMBER", second), *extra],
        userkey,
    )
    return reply.requestid


def rich_world() -> World:
    """Two tenants; calls scheduled, ringing each leg, connected, ended in several ways; a
    TEST call, a call flow with variables, SMS, rules, faults and a journal of it all."""
    other = Account(
        OTHER,
        balance=default_account().balance,
        verified_callerids={DOCS_CALLERID},
        callflows={DEFAULT_CALLFLOW},
    )
    world = World(Settings(accounts=[default_account(), other], seed=7))
    tenant = world.get(KEY)
    tenant.rules.append(rule_from_dict({"match": "1999*", "outcome": "busy"}, "s1"))
    tenant.rules.append(
        rule_from_dict(
            {
                "match": "1888*",
                "weights": {"answer": 1, "fail": 1},
                "times": 3,
                "result": "PRESSED-1",
            },
            "s2",
        )
    )
    tenant.faults.append(fault_from_dict({"kind": "html", "probability": 0.5}, "f3"))
    tenant.next_rule_id = 4
    dial(world, "12125551234", ("BILLINGCODE", "x"))  # connected by the end
    dial(world, "19995551234")  # busy: ended
    dial(world, "12125551234", ("DELAY", "90"), ("MEMO", "later"))  # scheduled
    dial(world, "12125551234", ("TEST", "TRUE"))  # a TEST request: NONE for ever
    flow = send(
        world,
        "DIAL.CALLFLOW",
        [
            ("PHONENUMBER", "18885551234"),
            ("CALLERID", DOCS_CALLERID),
            ("CALLFLOW", DEFAULT_CALLFLOW),
        ],
        variables=[("ACCOUNTID", "8732123")],
    )
    assert flow.ok, flow.error
    cancelled = dial(world, "12125551234", ("MAXCALLDURATION", "1"))
    tenant.advance(3)
    send(world, "DIAL.CANCEL", [("REQUESTID", cancelled)])
    tenant.advance(4)  # past the first legs' answer: the second legs ring
    dial(world, "12125551234")  # ringing its first leg
    query = urlencode(
        {
            "apikey": KEY,
            "action": "sms",
            "from": "1",
            "destination": "12125551234",
            "message": "hello",
        }
    )
    assert textdoor.handle(world, query)[2] is None
    send(world, "ACCOUNT.GETBALANCE", [])
    send(world, "DIAL.GETSTATUS", [("REQUESTID", "0" * 40)])  # a refusal in the journal
    world.get(OTHER).advance(60)
    dial(world, "12125551234", userkey=OTHER)
    world.get(OTHER).advance(20)
    return world


BASE: dict[str, Any] = json.loads(json.dumps(snapshot.snapshot(rich_world())))


def test_the_base_snapshot_has_calls_in_every_phase():
    phases = {c["phase"] for t in BASE["tenants"] for c in t["calls"]}
    assert phases == {"scheduled", "ringing-first", "ringing-second", "connected", "ended"}
    assert BASE["tenants"][0]["sms"] and BASE["tenants"][0]["faults"]


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path of the tree, except the 624 words inside each random generator's state
    (two of them stand for the rest), so the sample is not mostly generator words."""
    out = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            out += paths(item, (*prefix, key))
    elif isinstance(value, list):
        keep = range(len(value))
        if len(value) == 625 and all(isinstance(v, int) for v in value):
            keep = range(0, 625, 624)
        for index in keep:
            out += paths(value[index], (*prefix, index))
    return out


PATHS = paths(BASE)[1:]
WEIRD = st.one_of(
    st.none(),
    st.booleans(),
    st.sampled_from(["", "x", "NaN", "Infinity", "1e999", "-1", "0"]),
    st.integers(),
    st.sampled_from([-1, 0, 1, 2**31, 2**64, 10**30, -(10**30)]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.just([]),
    st.just({}),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=3), st.none(), max_size=2),
)


@st.composite
def mutated(draw: st.DrawFn) -> tuple[dict[str, Any], str]:
    """The base snapshot with one field replaced, deleted, emptied or duplicated."""
    doc = copy.deepcopy(BASE)
    path = draw(st.sampled_from(PATHS))
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    last = path[-1]
    how = draw(st.sampled_from(["replace", "delete", "duplicate", "nudge"]))
    old = parent[last]
    if how == "delete":
        del parent[last]
    elif how == "duplicate" and isinstance(parent, list):
        parent.insert(last, copy.deepcopy(old))
    elif how == "nudge" and isinstance(old, int | float) and not isinstance(old, bool):
        parent[last] = draw(st.sampled_from([old + 1, old - 1, -old, old * 1e6, old + 0.5]))
    else:
        parent[last] = draw(WEIRD)
    return doc, f"{how} {path}"


def exercise(world: World) -> None:
    """Requests, views and time on every tenant; only Anveo's refusals may come back."""
    for userkey, tenant in list(world.tenants.items()):
        for requestid in list(tenant.calls):
            for action in ("DIAL.GETSTATUS", "DIAL.CALLFLOW.GETRESULT"):
                send(world, action, [("REQUESTID", requestid)], userkey)
        json.dumps([tenant_view(tenant), clock_view(tenant)], allow_nan=False)
        json.dumps([call_view(c) for c in tenant.calls.values()], allow_nan=False)
        json.dumps([entry_to_dict(e) for e in tenant.journal], allow_nan=False)
        send(
            world,
            "DIAL.CONNECT",
            [("PHONENUMBER", "12157010680"), ("DESTPHONENUMBER", "12125551234")],
            userkey,
        )
        tenant.advance(5)
        for requestid in list(tenant.calls)[::2]:
            send(world, "DIAL.CANCEL", [("REQUESTID", requestid)], userkey)
        send(world, "ACCOUNT.GETBALANCE", [], userkey)
        tenant.run_until_idle()
        assert tenant.committed >= 0
    json.dumps(snapshot.snapshot(world), allow_nan=False)


@given(mutated())
def test_a_broken_snapshot_is_refused_whole_or_runs(case: tuple[dict[str, Any], str]) -> None:
    doc, _how = case
    world = rich_world()
    before = json.dumps(snapshot.snapshot(world))
    try:
        snapshot.restore(world, doc)
    except SettingError as exc:
        assert json.dumps(snapshot.snapshot(world)) == before
        assert exc.field, exc.message  # always a path, never the catch-all's "unexpected"
        assert exc.field in exc.message or exc.field == "format"
        return
    exercise(world)


def test_the_unbroken_snapshot_restores_and_runs() -> None:
    world = World(Settings(seed=7))
    assert snapshot.restore(world, copy.deepcopy(BASE)) == 2
    exercise(world)


def tenant0(doc: dict[str, Any]) -> dict[str, Any]:
    return doc["tenants"][0]


def call_in(doc: dict[str, Any], phase: str) -> dict[str, Any]:
    return next(c for c in tenant0(doc)["calls"] if c["phase"] == phase)


# The reported cases, each refused with the path of the field and the world left as it was.
@pytest.mark.parametrize(
    ("field", "change"),
    [
        ("tenants[0].calls[0].timeline", lambda d: tenant0(d)["calls"][0].update(timeline=[])),
        ("tenants[0].calls[0].variables", lambda d: tenant0(d)["calls"][0].update(variables=True)),
        (
            "tenants[0].calls[0].max_minutes",
            lambda d: tenant0(d)["calls"][0].update(max_minutes="x"),
        ),
        ("tenants[0].clock.rate", lambda d: tenant0(d)["clock"].update(rate="NaN")),
        ("tenants[0].clock.now", lambda d: tenant0(d)["clock"].update(now=float("nan"))),
        ("tenants[0].calls[0].phase", lambda d: tenant0(d)["calls"][0].update(phase="flying")),
        (
            "tenants[0].calls[2].pending[1]",
            lambda d: call_in(d, "scheduled")["pending"].__setitem__(1, "second"),
        ),
        (
            "tenants[0].calls[2].timeline[1][1]",
            lambda d: call_in(d, "scheduled")["timeline"].append([1767225600.0, "connected", ""]),
        ),
        (
            "tenants[0].journal.entries[0].params.x",
            lambda d: tenant0(d)["journal"]["entries"][0].update(params={"x": float("inf")}),
        ),
        ("tenants[1].account.userkey", lambda d: d["tenants"][1]["account"].update(userkey=KEY)),
        (
            "tenants[0].account.require_signature",
            lambda d: tenant0(d)["account"].update(require_signature=True),
        ),
    ],
)
def test_reported_bad_snapshots_are_refused_naming_the_field(field, change) -> None:
    world = rich_world()
    before = json.dumps(snapshot.snapshot(world))
    doc = copy.deepcopy(BASE)
    assert call_in(doc, "scheduled") is tenant0(doc)["calls"][2]
    change(doc)
    with pytest.raises(SettingError) as caught:
        snapshot.restore(world, doc)
    assert caught.value.field == field
    assert caught.value.message.startswith(f"snapshot is not valid: {field}")
    assert json.dumps(snapshot.snapshot(world)) == before


async def test_put_snapshot_refuses_a_bare_nan_with_a_400_naming_the_field() -> None:
    world = rich_world()
    doc = copy.deepcopy(BASE)
    tenant0(doc)["clock"]["rate"] = float("nan")  # sent as bare NaN, which aiohttp's json reads
    async with TestClient(TestServer(make_app(world))) as client:
        before = await (await client.get("/_mock/snapshot")).text()
        response = await client.put(
            "/_mock/snapshot", data=json.dumps(doc), headers={"Content-Type": "application/json"}
        )
        body = await response.json()
        assert response.status == 400, body
        assert body["field"] == "tenants[0].clock.rate"
        after = await (await client.get("/_mock/snapshot")).text()
    assert after == before and "NaN" not in after
