"""Many concurrent clients on the same and on different tenants, through the real HTTP server.

Each worker has its own ``aiohttp.ClientSession`` (its own connections) and issues DIAL.CONNECT,
DIAL.CANCEL, DIAL.GETSTATUS, ACCOUNT.GETBALANCE and clock advances on shared tenants, through
all three doors. Afterwards every tenant is run until idle and the books are checked:

- no lost or duplicated REQUESTID: the ids handed out are unique and are exactly the tenant's
  calls;
- every timeline follows ``calls.TRANSITIONS``, in time order, with the right status per phase;
- a call is cancelled at most once, and is "cancelled" exactly when a DIAL.CANCEL succeeded;
- balances are exact: initial - sum of charges, each charge rate x billable minutes recomputed
  from the legs' own timestamps, and ACCOUNT.GETBALANCE says the same.

Then isolation: no tenant can read, cancel or observe another tenant's calls by any door.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import random
import re
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

import aiohttp
import pytest

from mock_anveo.http.server import RunningServer, start
from mock_anveo.sim.accounts import DEFAULT_CALLFLOW, DOCS_CALLERID
from mock_anveo.sim.calls import STATUS_OF, STATUS_RANK, TRANSITIONS, Phase, Status
from mock_anveo.sim.world import World

from .helpers import Reply, v2_query, xml_request

DOORS = ("/api/v3.asp", "/apicall.asp", "/api/v2.asp")
RATE = Decimal("0.07")
#: Ordinary numbers answer after 4 s and talk 90 s; magic ones (1NPA55501XX) vary the story.
NUMBERS = [
    "12125551234",
    "12125551235",
    "12125550100",
    "12125550101",
    "12125550102",
    "12125550103",
    "12125550131",
    "12125550160",
    "12125550112",
]


@dataclass
class Rig:
    server: RunningServer
    sessions: list[aiohttp.ClientSession]

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def control(self) -> aiohttp.ClientSession:
        return self.sessions[0]

    async def json(
        self, method: str, path: str, body: Any = None, session: aiohttp.ClientSession | None = None
    ) -> Any:
        async with (session or self.control).request(
            method, self.url + path, json=body
        ) as response:
            assert response.status < 300, (path, response.status, await response.text())
            return None if response.status == 204 else await response.json()

    async def call(
        self,
        session: aiohttp.ClientSession,
        door: str,
        key: str,
        action: str,
        params: list[tuple[str, str]],
        variables: list[tuple[str, str]] = (),
    ) -> Reply:
        if door == "/api/v2.asp":
            query = v2_query(action, params, key, variables)
            async with session.get(f"{self.url}{door}?{query}") as response:
                assert response.status == 200
                return Reply(await response.read())
        async with session.post(
            self.url + door, data=xml_request(action, params, key, variables)
        ) as response:
            assert response.status == 200
            return Reply(await response.read())

    async def tenant(self, key: str, balance: str = "20.00") -> dict[str, Any]:
        return await self.json(
            "POST",
            "/_mock/tenants",
            {"userkey": key, "balance": balance, "rate_per_minute": str(RATE)},
        )


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    server = await start()
    sessions = [aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) for _ in range(24)]
    try:
        yield Rig(server, sessions)
        health = await Rig(server, sessions).json("GET", "/_mock/health")
        assert health["status"] == "ok"
        assert await Rig(server, sessions).json("GET", "/_mock/errors") == []
    finally:
        for session in sessions:
            await session.close()
        await server.stop()


# ---- checking the books --------------------------------------------------------------------
def moment(text: str | None) -> float:
    assert text is not None
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def check_timeline(call: dict[str, Any]) -> None:
    timeline = call["timeline"]
    assert timeline[0]["phase"] == Phase.SCHEDULED.value, call
    for entry in timeline:
        assert entry["status"] == STATUS_OF[Phase(entry["phase"])].value, call
    for before, after in itertools.pairwise(timeline):
        assert (Phase(before["phase"]), Phase(after["phase"])) in TRANSITIONS, call
        assert moment(before["at"]) <= moment(after["at"]), call
    assert call["phase"] == timeline[-1]["phase"]
    assert call["status"] == STATUS_OF[Phase(call["phase"])].value


def expected_charge(call: dict[str, Any]) -> Decimal:
    """rate x whole minutes of every answered leg, recomputed from the timestamps."""
    if call["test"]:
        return Decimal(0)
    minutes = 0
    for leg in call["legs"]:
        if leg["answered_at"] is not None:
            seconds = moment(leg["ended_at"]) - moment(leg["answered_at"])
            minutes += max(0, math.ceil(seconds / 60 - 1e-9))
    return RATE * minutes


async def check_books(
    rig: Rig, key: str, issued: list[str], test_ids: set[str], cancels: Counter[str]
) -> list[dict[str, Any]]:
    """Run ``key`` until idle and check ids, timelines, cancels and money; returns its calls."""
    await rig.json("POST", f"/_mock/tenants/{key}/clock/advance", {"until_idle": True})
    calls = await rig.json("GET", f"/_mock/tenants/{key}/calls")
    view = await rig.json("GET", f"/_mock/tenants/{key}")
    assert sorted(c["requestid"] for c in calls) == sorted(issued), "lost or extra calls"
    charged = Decimal(0)
    for call in calls:
        check_timeline(call)
        rid = call["requestid"]
        assert cancels[rid] <= 1, f"{rid} cancelled {cancels[rid]} times"
        assert (call["reason"] == "cancelled") == (cancels[rid] == 1), call
        if rid in test_ids:
            assert call["test"] and Decimal(call["charge"]) == 0
            assert call["status"] in ("NONE", "END")
        else:
            assert call["status"] == Status.END.value, call
            assert Decimal(call["charge"]) == expected_charge(call), call
        charged += Decimal(call["charge"])
    assert Decimal(view["total_charged"]) == charged
    assert Decimal(view["balance"]) == Decimal(view["initial_balance"]) - charged
    assert sum(Decimal(v) for v in view["charges_by_billingcode"].values()) == charged
    door_balance = await rig.call(rig.control, "/api/v3.asp", key, "ACCOUNT.GETBALANCE", [])
    assert Decimal(door_balance.result or "x") == Decimal(view["balance"])
    return calls


# ---- mixed traffic ---------------------------------------------------------------------------
@dataclass
class Ledger:
    issued: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    test_ids: set[str] = field(default_factory=set)
    cancels: Counter[str] = field(default_factory=Counter)
    refusals: Counter[str] = field(default_factory=Counter)


async def worker(rig: Rig, index: int, keys: list[str], ledger: Ledger, ops: int) -> None:
    rng = random.Random(index)
    session = rig.sessions[index % len(rig.sessions)]
    seen: dict[str, list[int]] = defaultdict(list)  # requestid -> status ranks, in order
    for _ in range(ops):
        key = rng.choice(keys)
        door = rng.choice(DOORS)
        known = ledger.issued[key]
        roll = rng.random()
        if roll < 0.4 or not known:
            params = [
                ("PHONENUMBER", rng.choice(NUMBERS)),
                ("DESTPHONENUMBER", rng.choice(NUMBERS)),
            ]
            if rng.random() < 0.3:
                params.append(("DELAY", str(rng.randint(0, 2))))
            if rng.random() < 0.3:
                params.append(("MAXCALLDURATION", str(rng.randint(1, 3))))
            if rng.random() < 0.3:
                params.append(("BILLINGCODE", f"bc{rng.randint(0, 2)}"))
            test = rng.random() < 0.1
            if test:
                params.append(("TEST", "TRUE"))
            rng.shuffle(params)
            reply = await rig.call(session, door, key, "DIAL.CONNECT", params)
            if reply.ok:
                ledger.issued[key].append(reply.requestid)
                if test:
                    ledger.test_ids.add(reply.requestid)
            else:
                assert reply.error and reply.error.startswith("insufficient funds"), reply.error
                ledger.refusals["funds"] += 1
        elif roll < 0.6:
            rid = rng.choice(known)
            reply = await rig.call(session, door, key, "DIAL.CANCEL", [("REQUESTID", rid)])
            if reply.ok:
                assert reply.requestid == rid
                ledger.cancels[rid] += 1
            else:
                assert reply.error and "has already ended" in reply.error, reply.error
                ledger.refusals["ended"] += 1
        elif roll < 0.8:
            rid = rng.choice(known)
            reply = await rig.call(
                session,
                door,
                key,
                "DIAL.GETSTATUS",
                [("REQUESTID", rid.upper() if rng.random() < 0.2 else rid)],
            )
            assert reply.ok and reply.result in Status.__members__, reply.body
            seen[rid].append(STATUS_RANK[Status(reply.result)])
        elif roll < 0.95:
            await rig.json(
                "POST",
                f"/_mock/tenants/{key}/clock/advance",
                {"seconds": rng.choice([0, 1, 5, 30, 61, 200])},
                session,
            )
        else:
            reply = await rig.call(session, door, key, "ACCOUNT.GETBALANCE", [])
            assert reply.ok and Decimal(reply.result or "x") == Decimal(reply.result or "x")
    for rid, ranks in seen.items():
        assert ranks == sorted(ranks), f"status of {rid} went backwards: {ranks}"


async def test_mixed_concurrent_traffic_keeps_ids_timelines_and_balances_exact(rig: Rig) -> None:
    keys = [f"conc{i}".ljust(40, "0") for i in range(4)]
    for key, balance in zip(keys, ["20.00", "20.00", "3.00", "0.50"], strict=True):
        await rig.tenant(key, balance)
    ledger = Ledger()
    await asyncio.gather(*(worker(rig, i, keys, ledger, 30) for i in range(32)))
    all_ids = [rid for key in keys for rid in ledger.issued[key]]
    assert len(all_ids) == len(set(all_ids)), "a REQUESTID was handed out twice"
    assert len(all_ids) > 100 and sum(ledger.cancels.values()) > 10
    reasons: Counter[str] = Counter()
    for key in keys:
        calls = await check_books(rig, key, ledger.issued[key], ledger.test_ids, ledger.cancels)
        reasons.update(c["reason"] for c in calls)
    # The mix really exercised the engine: cancels, busy numbers, completed calls, no funds.
    assert {"cancelled", "busy", "answered-completed", "no-answer"} <= set(reasons), reasons
    assert ledger.refusals["funds"] > 0 and ledger.refusals["ended"] > 0


async def test_a_burst_of_connects_on_every_door_loses_and_repeats_no_id(rig: Rig) -> None:
    keys = ["burstA".ljust(40, "0"), "burstB".ljust(40, "0")]
    for key in keys:
        await rig.tenant(key, "1000")
    params = [("PHONENUMBER", "12125551234"), ("DESTPHONENUMBER", "12125551235")]

    async def one(i: int) -> tuple[str, str]:
        key = keys[i % 2]
        reply = await rig.call(
            rig.sessions[i % len(rig.sessions)], DOORS[i % 3], key, "DIAL.CONNECT", params
        )
        assert reply.ok, reply.error
        return key, reply.requestid

    results = await asyncio.gather(*(one(i) for i in range(300)))
    ids = [rid for _, rid in results]
    assert len(set(ids)) == 300
    for key in keys:
        mine = [rid for k, rid in results if k == key]
        await check_books(rig, key, mine, set(), Counter())


async def test_concurrent_cancels_of_one_call_succeed_exactly_once(rig: Rig) -> None:
    key = "cancel".ljust(40, "0")
    await rig.tenant(key)
    for delay in ("0", "5"):  # one live call (ringing), one still scheduled
        reply = await rig.call(
            rig.control,
            "/api/v3.asp",
            key,
            "DIAL.CONNECT",
            [("PHONENUMBER", "12125551234"), ("DESTPHONENUMBER", "12125551235"), ("DELAY", delay)],
        )
        rid = reply.requestid
        replies = await asyncio.gather(
            *(
                rig.call(rig.sessions[i], DOORS[i % 3], key, "DIAL.CANCEL", [("REQUESTID", rid)])
                for i in range(len(rig.sessions))
            )
        )
        assert sum(r.ok for r in replies) == 1
        assert all("has already ended (cancelled)" in (r.error or "") for r in replies if not r.ok)
        call = await rig.json("GET", f"/_mock/tenants/{key}/calls/{rid}")
        assert call["reason"] == "cancelled" and Decimal(call["charge"]) == 0


async def test_concurrent_clock_advances_add_up_exactly(rig: Rig) -> None:
    key = "clock".ljust(40, "0")
    start = (await rig.tenant(key))["clock"]["epoch_seconds"]
    reply = await rig.call(
        rig.control,
        "/api/v3.asp",
        key,
        "DIAL.CONNECT",
        [("PHONENUMBER", "12125551234"), ("DESTPHONENUMBER", "12125551235")],
    )
    views = await asyncio.gather(
        *(
            rig.json(
                "POST",
                f"/_mock/tenants/{key}/clock/advance",
                {"seconds": 7},
                rig.sessions[i % len(rig.sessions)],
            )
            for i in range(40)
        )
    )
    clock = await rig.json("GET", f"/_mock/tenants/{key}/clock")
    assert clock["epoch_seconds"] == start + 280
    assert sorted(v["epoch_seconds"] for v in views) == [start + 7 * n for n in range(1, 41)]
    call = await rig.json("GET", f"/_mock/tenants/{key}/calls/{reply.requestid}")
    check_timeline(call)
    assert call["status"] == "END" and Decimal(call["charge"]) == expected_charge(call)


async def test_concurrent_calls_never_overdraw_the_balance(rig: Rig) -> None:
    key = "overdraw".ljust(40, "0")
    await rig.tenant(key, "0.50")
    replies = await asyncio.gather(
        *(
            rig.call(
                rig.sessions[i],
                "/api/v3.asp",
                key,
                "DIAL.CONNECT",
                [("PHONENUMBER", "12125551234"), ("DESTPHONENUMBER", "12125551235")],
            )
            for i in range(3)
        )
    )
    assert all(r.ok for r in replies)  # each one is affordable on its own (0.14 per minute)
    await rig.json("POST", f"/_mock/tenants/{key}/clock/advance", {"until_idle": True})
    view = await rig.json("GET", f"/_mock/tenants/{key}")
    assert Decimal(view["balance"]) >= 0, f"balance went to {view['balance']}"


async def test_concurrent_traffic_on_a_running_clock_has_no_internal_errors() -> None:
    """A running clock once made a third of calls fail with IllegalTransition (BUG 9)."""
    server = await start()
    try:
        async with aiohttp.ClientSession() as session:
            rig = Rig(server, [session])
            key = "running".ljust(40, "0")
            await rig.json("POST", "/_mock/tenants", {"userkey": key, "clock_rate": 600})
            params = [("PHONENUMBER", "12125551234"), ("DESTPHONENUMBER", "12125551235")]

            async def dial_and_poll(i: int) -> Reply:
                reply = await rig.call(session, DOORS[i % 3], key, "DIAL.CONNECT", params)
                assert reply.ok, reply.error
                return await rig.call(
                    session, DOORS[i % 3], key, "DIAL.GETSTATUS", [("REQUESTID", reply.requestid)]
                )

            polls = await asyncio.gather(*(dial_and_poll(i) for i in range(60)))
            assert [p.error for p in polls if not p.ok] == []
            assert await rig.json("GET", "/_mock/errors") == []
            for call in await rig.json("GET", f"/_mock/tenants/{key}/calls"):
                check_timeline(call)
    finally:
        await server.stop()


class SlowRealClock:
    """A monotonic source that moves 5 ms each time it is read: a loaded or paused server."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        self.now += 0.005
        return self.now


async def test_relative_advance_on_a_running_clock_never_fails() -> None:
    server = await start(World(monotonic=SlowRealClock(), wallclock=time.time))
    try:
        async with aiohttp.ClientSession() as session:
            rig = Rig(server, [session])
            key = "slowclock".ljust(40, "0")
            await rig.json("POST", "/_mock/tenants", {"userkey": key, "clock_rate": 600})
            before = (await rig.json("GET", f"/_mock/tenants/{key}/clock"))["epoch_seconds"]
            async with session.post(
                f"{rig.url}/_mock/tenants/{key}/clock/advance", json={"seconds": 1}
            ) as response:
                assert response.status == 200, await response.text()
                assert (await response.json())["epoch_seconds"] >= before + 1
    finally:
        await server.stop()


# ---- isolation --------------------------------------------------------------------------------
OWNER = "ownerkey".ljust(40, "0")
SECRET_MEMO = "owner-secret-memo-91c2"
SECRET_NUMBERS = ("12125559876", "12125559877")


async def owner_calls(rig: Rig) -> dict[str, str]:
    """OWNER gets a scheduled, a ringing, a connected, an ended and a call-flow call."""
    params = [
        ("PHONENUMBER", SECRET_NUMBERS[0]),
        ("DESTPHONENUMBER", SECRET_NUMBERS[1]),
        ("MEMO", SECRET_MEMO),
        ("BILLINGCODE", SECRET_MEMO),
    ]
    calls = {}
    for name, extra in (
        ("ended", []),
        ("connected", []),
        ("ringing", []),
        ("scheduled", [("DELAY", "60")]),
    ):
        reply = await rig.call(rig.control, "/api/v3.asp", OWNER, "DIAL.CONNECT", params + extra)
        calls[name] = reply.requestid
        advance = {"ended": 0, "connected": 200, "ringing": 20, "scheduled": 0}[name]
        await rig.json("POST", f"/_mock/tenants/{OWNER}/clock/advance", {"seconds": advance})
    flow = await rig.call(
        rig.control,
        "/api/v3.asp",
        OWNER,
        "DIAL.CALLFLOW",
        [
            ("PHONENUMBER", SECRET_NUMBERS[0]),
            ("CALLERID", DOCS_CALLERID),
            ("CALLFLOW", DEFAULT_CALLFLOW),
            ("MEMO", SECRET_MEMO),
        ],
        [("SECRET", SECRET_MEMO)],
    )
    calls["callflow"] = flow.requestid
    await rig.json("POST", f"/_mock/tenants/{OWNER}/clock/advance", {"seconds": 300})
    statuses = {
        c["requestid"]: c["status"] for c in await rig.json("GET", f"/_mock/tenants/{OWNER}/calls")
    }
    assert statuses[calls["ended"]] == "END" and statuses[calls["callflow"]] == "END"
    assert statuses[calls["scheduled"]] == "NONE"
    return calls


async def owner_state(rig: Rig) -> Any:
    view = await rig.json("GET", f"/_mock/tenants/{OWNER}")
    view.pop("journal_entries")
    view.pop("journal_dropped")
    return view, await rig.json("GET", f"/_mock/tenants/{OWNER}/calls")


async def test_no_tenant_reaches_another_tenants_calls_by_any_door(rig: Rig) -> None:
    intruders = ["intruder".ljust(40, "0"), OWNER.upper()]  # OWNERKEY000... differs by case
    await rig.tenant(OWNER)
    for key in intruders:
        await rig.tenant(key)
    owned = await owner_calls(rig)
    before = await owner_state(rig)
    unknown = "0123456789abcdef" * 2 + "01234567"
    seen: list[str] = []

    async def probe(i: int, intruder: str, door: str, action: str, rid: str) -> None:
        session = rig.sessions[i % len(rig.sessions)]
        for sent, control in ((rid, unknown), (rid.upper(), unknown.upper())):
            reply = await rig.call(session, door, intruder, action, [("REQUESTID", sent)])
            baseline = await rig.call(session, door, intruder, action, [("REQUESTID", control)])
            assert not reply.ok and not baseline.ok
            assert (reply.error or "").replace(sent, "ID") == (baseline.error or "").replace(
                control, "ID"
            ), "another tenant's id is told apart from an unknown one"
            seen.append(reply.body.decode())

    # Probe while the owner keeps using its own calls, concurrently.
    async def owner_traffic() -> None:
        for _ in range(20):
            for rid in owned.values():
                reply = await rig.call(
                    rig.sessions[-1], "/api/v2.asp", OWNER, "DIAL.GETSTATUS", [("REQUESTID", rid)]
                )
                assert reply.ok

    probes = [
        probe(i, intruder, door, action, rid)
        for i, (intruder, door, action, rid) in enumerate(
            (x, d, a, r)
            for x in intruders
            for d in DOORS
            for a in ("DIAL.GETSTATUS", "DIAL.CANCEL", "DIAL.CALLFLOW.GETRESULT")
            for r in owned.values()
        )
    ]
    await asyncio.gather(owner_traffic(), *probes)
    assert await owner_state(rig) == before, "an intruder changed the owner's calls"
    for intruder in intruders:
        for rid in owned.values():
            async with rig.control.get(
                f"{rig.url}/_mock/tenants/{intruder}/calls/{rid}"
            ) as response:
                assert response.status == 404
        mine = await rig.json("GET", f"/_mock/tenants/{intruder}/calls")
        assert mine == []
        journal = json.dumps(await rig.json("GET", f"/_mock/tenants/{intruder}/journal"))
        seen.append(journal)
        view = await rig.json("GET", f"/_mock/tenants/{intruder}")
        assert Decimal(view["balance"]) == Decimal("20.00") and view["total_charged"] == "0"
        seen.append(json.dumps(view))
    leaked = [s for s in seen for secret in (SECRET_MEMO, *SECRET_NUMBERS) if secret in s]
    assert leaked == [], "an intruder saw the owner's call details"


async def test_one_tenants_rules_and_faults_do_not_touch_another(rig: Rig) -> None:
    other = "bystander".ljust(40, "0")
    await rig.tenant(OWNER)
    await rig.tenant(other)
    await rig.json(
        "POST", f"/_mock/tenants/{OWNER}/scenarios", {"match": "12125551234", "outcome": "busy"}
    )
    await rig.json(
        "POST",
        f"/_mock/tenants/{OWNER}/faults",
        {"kind": "http-status", "status": 503, "times": None},
    )
    params = [("PHONENUMBER", "12125551234"), ("DESTPHONENUMBER", "12125551235")]
    replies = await asyncio.gather(
        *(rig.call(rig.sessions[i], DOORS[i % 3], other, "DIAL.CONNECT", params) for i in range(12))
    )
    assert all(r.ok for r in replies)
    await rig.json("POST", f"/_mock/tenants/{other}/clock/advance", {"until_idle": True})
    for call in await rig.json("GET", f"/_mock/tenants/{other}/calls"):
        assert call["reason"] == "answered-completed", call
    async with rig.control.post(
        rig.url + "/api/v3.asp", data=xml_request("DIAL.CONNECT", params, OWNER)
    ) as response:
        assert response.status == 503  # the owner's own fault still fires for the owner


@pytest.mark.parametrize("how", ["v2-two-userkeys", "xml-two-usertokens", "xml-two-userkeys"])
async def test_a_request_naming_two_tenants_is_refused_and_touches_neither(
    rig: Rig, how: str
) -> None:
    other = "second".ljust(40, "0")
    await rig.tenant(OWNER)
    await rig.tenant(other)
    before = (await owner_state(rig), await rig.json("GET", f"/_mock/tenants/{other}/calls"))
    params = [("PHONENUMBER", "12125551234"), ("DESTPHONENUMBER", "12125551235")]
    if how == "v2-two-userkeys":
        query = v2_query("DIAL.CONNECT", params, OWNER) + f"&USERKEY={other}"
        async with rig.control.get(f"{rig.url}/api/v2.asp?{query}") as response:
            reply = Reply(await response.read())
    else:
        body = xml_request("DIAL.CONNECT", params, OWNER)
        token = f"<USERKEY>{OWNER}</USERKEY>".encode()
        doubled = (
            token + f"<USERKEY>{other}</USERKEY>".encode()
            if how == "xml-two-userkeys"
            else token + b"</USERTOKEN><USERTOKEN>" + f"<USERKEY>{other}</USERKEY>".encode()
        )
        async with rig.control.post(
            rig.url + "/api/v3.asp", data=body.replace(token, doubled)
        ) as response:
            reply = Reply(await response.read())
    assert not reply.ok
    assert re.search("more than once|USERKEY|USERTOKEN", reply.error or ""), reply.error
    after = (await owner_state(rig), await rig.json("GET", f"/_mock/tenants/{other}/calls"))
    assert after == before
