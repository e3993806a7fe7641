"""The JSON control API and fault injection, through aiohttp's test client."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer

from mock_anveo.http.app import ServerOptions, make_app
from mock_anveo.http.server import start
from mock_anveo.sim.world import World

from .helpers import KEY, Reply, xml_request

CONNECT = [("PHONENUMBER", "12157010680"), ("DESTPHONENUMBER", "12125551234")]


@pytest.fixture
async def client():
    async with TestClient(TestServer(make_app(World()))) as client:
        yield client


async def dial(client, userkey=KEY, params=CONNECT, door="/api/v3.asp"):
    response = await client.post(door, data=xml_request("DIAL.CONNECT", params, userkey))
    return Reply(await response.read())


async def test_health_and_openapi(client):
    health = await (await client.get("/_mock/health")).json()
    assert health["status"] == "ok" and health["tenants"] == 1
    spec = await (await client.get("/_mock/openapi.json")).json()
    assert spec["openapi"].startswith("3.")
    for path in (
        "/_mock/tenants",
        "/_mock/tenants/{userkey}/clock/advance",
        "/_mock/tenants/{userkey}/calls/{requestid}",
        "/_mock/reset",
    ):
        assert path in spec["paths"]


async def test_tenant_lifecycle_and_isolation(client):
    created = await client.post("/_mock/tenants", json={"balance": "5", "rate_per_minute": 1})
    assert created.status == 201
    tenant = await created.json()
    key = tenant["userkey"]
    assert len(key) == 40 and tenant["balance"] == "5"
    rid = (await dial(client, key)).requestid
    # the docs tenant cannot see it, by any door
    foreign = Reply(
        await (
            await client.post(
                "/api/v3.asp", data=xml_request("DIAL.GETSTATUS", [("REQUESTID", rid)])
            )
        ).read()
    )
    assert foreign.result == "ERROR" and "not a request of this account" in foreign.error
    missing = await client.get(f"/_mock/tenants/{KEY}/calls/{rid}")
    assert missing.status == 404
    patched = await client.patch(f"/_mock/tenants/{key}", json={"balance": "0.5"})
    assert (await patched.json())["balance"] == "0.5"
    refused = await dial(client, key)
    assert "insufficient funds" in refused.error
    deleted = await client.delete(f"/_mock/tenants/{key}")
    assert deleted.status == 200
    assert await deleted.json() == {"deleted": key, "errors": []}
    gone = await dial(client, key)
    assert "unknown USERKEY" in gone.error
    unattributed = await (await client.get("/_mock/journal")).json()
    assert unattributed["entries"][-1]["error_code"] == "UNKNOWN_USERKEY"


async def test_tenant_presets_and_per_tenant_reset(client):
    created = await client.post(
        "/_mock/tenants",
        json={
            "userkey": "preset-1",
            "balance": "9",
            "start": "2030-05-01T12:00:00Z",
            "scenarios": [{"match": "1212*", "outcome": "busy"}],
            "faults": [{"kind": "latency", "seconds": 0, "times": None}],
        },
    )
    assert created.status == 201
    assert (await created.json())["clock"]["now"] == "2030-05-01T12:00:00.000Z"
    await dial(client, "preset-1")
    await client.post("/_mock/tenants/preset-1/clock/advance", json={"seconds": 600})
    await client.post("/_mock/tenants/preset-1/scenarios", json={"match": "1"})
    await client.patch("/_mock/tenants/preset-1", json={"balance": "1"})
    reset = await client.post("/_mock/tenants/preset-1/reset")
    tenant = await reset.json()
    assert tenant["balance"] == "9" and tenant["calls"] == 0
    assert tenant["clock"]["now"] == "2030-05-01T12:00:00.000Z"
    rules = await (await client.get("/_mock/tenants/preset-1/scenarios")).json()
    assert [(r["match"], r["used"]) for r in rules] == [("1212*", 0)]
    faults = await (await client.get("/_mock/tenants/preset-1/faults")).json()
    assert [f["kind"] for f in faults] == ["latency"]
    # the configured account resets to the configuration
    await dial(client)
    body = await (await client.post(f"/_mock/tenants/{KEY}/reset")).json()
    assert body["calls"] == 0 and body["balance"] == "100.00"
    bad = await client.post("/_mock/tenants", json={"scenarios": [{"outcome": "explode"}]})
    assert bad.status == 400
    assert (await client.get("/_mock/tenants")).status == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"balance": "lots"}, "balance"),
        ({"verified_callerids": ["+1"]}, "verified_callerids"),
        ({"userkey": "has space"}, "userkey"),
        ({"colour": "red"}, "colour"),
        ({"userkey": KEY}, "userkey"),
        ({"start": "yesterday"}, "start"),
        ({"clock_rate": -1}, "clock_rate"),
    ],
)
async def test_bad_tenant_bodies_get_4xx_naming_the_field(client, body, field):
    response = await client.post("/_mock/tenants", json=body)
    assert 400 <= response.status < 500
    error = await response.json()
    assert error["field"] == field and error["error"]


async def test_bad_json_and_unknown_tenant(client):
    response = await client.post("/_mock/tenants", data=b"{nope")
    assert response.status == 400 and "JSON" in (await response.json())["error"]
    response = await client.get("/_mock/tenants/nobody/clock")
    assert response.status == 404


async def test_clock_advance_calls_and_journal(client):
    rid = (
        await dial(client, params=[*CONNECT, ("DELAY", "1440"), ("BILLINGCODE", "b1")])
    ).requestid
    clock = await (await client.get(f"/_mock/tenants/{KEY}/clock")).json()
    assert clock["now"] == "2026-01-01T00:00:00.000Z" and clock["pending_events"] == 1
    moved = await client.post(f"/_mock/tenants/{KEY}/clock/advance", json={"seconds": 86400})
    body = await moved.json()
    assert body["now"] == "2026-01-02T00:00:00.000Z" and body["events_fired"] == 1
    await client.post(f"/_mock/tenants/{KEY}/clock/advance", json={"until_idle": True})
    call = await (await client.get(f"/_mock/tenants/{KEY}/calls/{rid}")).json()
    assert call["status"] == "END" and call["reason"] == "answered-completed"
    assert [s["status"] for s in call["timeline"]] == ["NONE", "INIT", "INIT", "START", "END"]
    assert call["charge"] == "0.04" and call["billingcode"] == "b1"
    ended = await (await client.get(f"/_mock/tenants/{KEY}/calls?status=END")).json()
    assert [c["requestid"] for c in ended] == [rid]
    tenant = await (await client.get(f"/_mock/tenants/{KEY}")).json()
    assert tenant["charges_by_billingcode"] == {"b1": "0.04"}
    journal = await (
        await client.get(f"/_mock/tenants/{KEY}/journal?action=DIAL.CONNECT&kind=exchange")
    ).json()
    (entry,) = journal["entries"]
    assert entry["door"] == "v3" and entry["params"]["action"] == "DIAL.CONNECT"
    assert entry["virtual_time"] == "2026-01-01T00:00:00.000Z"
    back = await client.post(
        f"/_mock/tenants/{KEY}/clock/advance", json={"to": "2025-01-01T00:00:00Z"}
    )
    assert back.status == 400 and "before now" in (await back.json())["error"]


async def test_scenario_rules_drive_outcomes(client):
    rule = await client.post(
        f"/_mock/tenants/{KEY}/scenarios",
        json={"match": "12125551234", "leg": "second", "outcome": "busy"},
    )
    assert rule.status == 201
    rid = (await dial(client)).requestid
    await client.post(f"/_mock/tenants/{KEY}/clock/advance", json={"seconds": 60})
    call = await (await client.get(f"/_mock/tenants/{KEY}/calls/{rid}")).json()
    assert call["reason"] == "busy"
    rule_id = (await rule.json())["id"]
    assert (await client.delete(f"/_mock/tenants/{KEY}/scenarios/{rule_id}")).status == 204
    bad = await client.post(f"/_mock/tenants/{KEY}/scenarios", json={"outcome": "explode"})
    assert bad.status == 400 and (await bad.json())["field"] == "outcome"


async def test_reset_rebuilds_the_configured_world(client):
    await client.post("/_mock/tenants", json={})
    await dial(client)
    body = await (await client.post("/_mock/reset")).json()
    assert body["tenants"] == [KEY]
    calls = await (await client.get(f"/_mock/tenants/{KEY}/calls")).json()
    assert calls == []


async def test_control_token_is_required_when_configured():
    app = make_app(World(), ServerOptions(control_token="s3cret"))
    async with TestClient(TestServer(app)) as client:
        assert (await client.get("/_mock/health")).status == 200
        assert (await client.get("/_mock/tenants")).status == 401
        ok = await client.get("/_mock/tenants", headers={"Authorization": "Bearer s3cret"})
        assert ok.status == 200
        # the Anveo doors never need it
        assert (await dial(client)).ok


# ---- faults: a real server, since some faults break the connection ------------------------------
@pytest.fixture
async def server():
    running = await start(World())
    yield running
    await running.stop()


async def add_fault(session, url, **rule):
    response = await session.post(f"{url}/_mock/tenants/{KEY}/faults", json=rule)
    assert response.status == 201, await response.text()
    return await response.json()


async def post_connect(session, url):
    return await session.post(f"{url}/api/v3.asp", data=xml_request("DIAL.CONNECT", CONNECT))


async def calls_of(session, url):
    return await (await session.get(f"{url}/_mock/tenants/{KEY}/calls")).json()


async def test_http_status_and_html_faults_fire_on_the_nth_request(server):
    url = server.url
    async with aiohttp.ClientSession() as session:
        await add_fault(session, url, kind="http-status", status=503, nth=2)
        assert (await post_connect(session, url)).status == 200
        failed = await post_connect(session, url)
        assert failed.status == 503
        assert (await post_connect(session, url)).status == 200  # times defaults to 1
        assert len(await calls_of(session, url)) == 2  # the faulted request was not processed
        await add_fault(session, url, kind="html", action="DIAL.CONNECT", door="v3")
        page = await post_connect(session, url)
        assert page.status == 200 and page.content_type == "text/html"
        assert b"maintenance" in await page.read()
        journal = await (await session.get(f"{url}/_mock/tenants/{KEY}/journal")).json()
        fired = [e["detail"] for e in journal["entries"] if e["detail"]]
        assert any(d.startswith("http-status:") for d in fired)
        assert any(d.startswith("html:") for d in fired)


async def test_truncated_after_fault_processes_the_request_but_spoils_the_reply(server):
    url = server.url
    async with aiohttp.ClientSession() as session:
        await add_fault(session, url, kind="truncated", when="after")
        response = await post_connect(session, url)
        body = await response.read()
        assert body.startswith(b"<?xml") and not body.rstrip().endswith(b"</RESPONSE>")
        assert len(await calls_of(session, url)) == 1


async def test_reset_and_hang_faults_break_the_connection(server):
    url = server.url
    async with aiohttp.ClientSession() as session:
        await add_fault(session, url, kind="reset")
        with pytest.raises(aiohttp.ClientError):
            await post_connect(session, url)
        await add_fault(session, url, kind="hang", seconds=0.2)
        with pytest.raises(aiohttp.ClientError):
            await post_connect(session, url)
        await add_fault(session, url, kind="hang", seconds=30)
        with pytest.raises(asyncio.TimeoutError):
            await post_connect_with_timeout(session, url, 0.3)
        health = await (await session.get(f"{url}/_mock/health")).json()
        assert health["status"] == "ok"
        assert await calls_of(session, url) == []


async def post_connect_with_timeout(session, url, seconds):
    timeout = aiohttp.ClientTimeout(total=seconds)
    return await session.post(
        f"{url}/api/v3.asp", data=xml_request("DIAL.CONNECT", CONNECT), timeout=timeout
    )


async def test_latency_fault_and_seeded_probability(server):
    url = server.url
    async with aiohttp.ClientSession() as session:
        await add_fault(
            session,
            url,
            kind="latency",
            seconds=0.05,
            times=None,
            probability=0.5,
            action="DIAL.GETSTATUS",
        )
        rid = Reply(await (await post_connect(session, url)).read()).requestid
        for _ in range(20):
            response = await session.post(
                f"{url}/api/v3.asp", data=xml_request("DIAL.GETSTATUS", [("REQUESTID", rid)])
            )
            assert Reply(await response.read()).result == "INIT"
        faults = await (await session.get(f"{url}/_mock/tenants/{KEY}/faults")).json()
        assert faults[0]["seen"] == 20 and 3 <= faults[0]["fired"] <= 17


async def test_bad_fault_rules_are_refused(client):
    for body, field in [
        ({"kind": "explode"}, "kind"),
        ({"kind": "hang", "seconds": 999}, "seconds"),
        ({"kind": "html", "door": "v9"}, "door"),
    ]:
        response = await client.post(f"/_mock/tenants/{KEY}/faults", json=body)
        assert response.status == 400 and (await response.json())["field"] == field


# ---- the legacy v1 text door --------------------------------------------------------------------
async def test_v1_sms_success_error_and_records(client):
    ok = await client.get(
        "/api/v1.asp",
        params={
            "apikey": KEY,
            "action": "sms",
            "from": "12157010680",
            "destination": "12125551234",
            "message": "hello " * 30,
        },
    )  # 180 GSM characters: two parts
    text = await ok.text()
    assert ok.status == 200 and ok.content_type == "text/plain"
    fields = dict(part.split("=", 1) for part in text.split("^"))
    assert fields["result"] == "success" and fields["error"] == ""
    assert fields["parts"] == "2" and fields["fee"] == "0.088"
    assert len(fields["smsid"]) == 40
    bad = await client.post("/api/v1.asp", data={"apikey": "nope", "action": "sms"})
    assert bad.status == 200
    assert await bad.text() == "result=error^error=apikey is missing or invalid.."
    unicode = await client.post(
        "/api/v1.asp",
        data={
            "apikey": KEY,
            "action": "SMS",
            "from": "Anveo",
            "destination": "12125551234",
            "message": "Привет",
        },
    )
    assert "parts=1^fee=0.044" in await unicode.text()
    sent = await (await client.get(f"/_mock/tenants/{KEY}/sms")).json()
    assert [s["parts"] for s in sent] == [2, 1]
    tenant = await (await client.get(f"/_mock/tenants/{KEY}")).json()
    assert tenant["balance"] == "99.868"
    bad_dest = await client.get(
        "/api/v1.asp",
        params={"apikey": KEY, "action": "sms", "from": "1", "destination": "+1", "message": "x"},
    )
    assert (await bad_dest.text()).startswith("result=error^error=destination must be")


@pytest.mark.parametrize(
    ("method", "path", "status", "allow"),
    [
        ("GET", "/_mock/nothing-here", 404, None),
        ("GET", f"/_mock/tenants/{KEY}/nothing", 404, None),
        ("DELETE", "/_mock/health", 405, {"GET", "HEAD"}),
        ("PUT", f"/_mock/tenants/{KEY}/clock", 405, {"GET", "HEAD", "PATCH"}),
        ("GET", "/_mock/reset", 405, {"POST"}),
    ],
)
async def test_unknown_control_routes_get_json_404_or_405(client, method, path, status, allow):
    response = await client.request(method, path)
    assert response.status == status
    doc = await response.json()
    assert path in doc["error"] and "/_mock/openapi.json" in doc["error"]
    if allow is not None:
        assert set(response.headers["Allow"].split(",")) == allow


async def test_unknown_control_routes_need_the_token_too():
    options = ServerOptions(control_token="s3cret")
    async with TestClient(TestServer(make_app(World(), options))) as client:
        assert (await client.get("/_mock/nothing-here")).status == 401
        authorised = await client.get(
            "/_mock/nothing-here", headers={"Authorization": "Bearer s3cret"}
        )
        assert authorised.status == 404


def test_the_anveo_doors_run_no_middleware():
    """A middleware anywhere (even on the control sub-app) would run on every Anveo request."""
    app = make_app(World())
    app.freeze()
    assert not app.middlewares
    assert all(not sub.middlewares for sub in app._subapps)
