"""The dashboard's server side without a browser: static files, ``/`` for browsers, the
``/_mock/events`` feed (token, frames, shutdown) and its OpenAPI entry."""

from __future__ import annotations

import asyncio
import re

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer

from mock_anveo.http import ui
from mock_anveo.http.app import ServerOptions, make_app
from mock_anveo.http.openapi import document
from mock_anveo.http.server import start
from mock_anveo.sim.world import World

from .helpers import KEY, xml_request

CONNECT = [("PHONENUMBER", "12157010680"), ("DESTPHONENUMBER", "12125551234")]


@pytest.fixture
async def client():
    async with TestClient(TestServer(make_app(World()))) as client:
        yield client


async def test_the_shell_is_served_without_a_token_and_holds_no_data():
    app = make_app(World(), ServerOptions(control_token="t0ken"))
    async with TestClient(TestServer(app)) as client:
        for name, kind in (
            ("", "text/html"),
            ("app.js", "text/javascript"),
            ("app.css", "text/css"),
        ):
            response = await client.get(ui.PREFIX + name)
            assert response.status == 200, name
            assert response.content_type == kind
            assert KEY not in await response.text()
        assert (await client.get("/_mock/events")).status == 401
        assert (await client.get("/_mock/tenants")).status == 401
        health = await (await client.get("/_mock/health")).json()
        assert health["token_required"] is True


async def test_only_the_shipped_files_are_served(client):
    modules = {"dom.js", "shell.js", "timeline.js", "calls.js", "journal.js", "sms.js"}
    assert set(ui.SHIPPED) == {"index.html", "app.js", "app.css", "controls.js", *modules}
    for name in ("../app.py", "ui.py", "%2e%2e%2fapp.py", "nope.js"):
        response = await client.get(ui.PREFIX + name)
        assert response.status == 404, name


async def test_every_module_the_dashboard_imports_is_shipped_and_served(client):
    # The page loads app.js as a module, which imports the rest: a module missing from the
    # package (or refused by the route) would leave the dashboard blank.
    html = (ui.FILES / "index.html").read_text(encoding="utf-8")
    assert '<script type="module" src="app.js">' in html
    wanted, seen = ["app.js"], set()
    while wanted:
        name = wanted.pop()
        seen.add(name)
        response = await client.get(ui.PREFIX + name)
        assert response.status == 200 and response.content_type == "text/javascript", name
        imports = re.findall(r'^import (?:[^"]* from )?"\./([^"]+)";$', await response.text(), re.M)
        wanted += [n for n in imports if n not in seen]
    assert seen == {n for n in ui.SHIPPED if n.endswith(".js")}


async def test_a_browser_at_the_root_lands_on_the_dashboard_and_curl_does_not(client):
    html = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    response = await client.get("/", headers={"Accept": html}, allow_redirects=False)
    assert response.status == 302 and response.headers["Location"] == ui.PREFIX
    response = await client.get("/", headers={"Accept": "*/*"}, allow_redirects=False)
    assert response.status == 404 and "Control API" in await response.text()
    assert (await client.get("/_mock/ui", allow_redirects=False)).status == 302
    # The doors are untouched: a POST to / is still the fallback's 404.
    assert (await client.post("/", data=b"x")).status == 404


async def _frames(response, count: int) -> list[str]:
    frames: list[str] = []
    buffer = ""
    while len(frames) < count:
        chunk = await asyncio.wait_for(response.content.readany(), 10)
        assert chunk, frames
        buffer += chunk.decode()
        while "\n\n" in buffer:
            frame, buffer = buffer.split("\n\n", 1)
            frames.append(frame)
    return frames


async def test_the_feed_says_hello_then_which_tenant_changed(client):
    response = await client.get("/_mock/events")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/event-stream")
    (hello,) = await _frames(response, 1)
    assert "event: hello" in hello and KEY in hello
    await client.post("/api/v3.asp", data=xml_request("DIAL.CONNECT", CONNECT))
    (change,) = await _frames(response, 1)
    assert "event: change" in change and KEY in change
    await client.post(f"/_mock/tenants/{KEY}/scenarios", json={"match": "*", "outcome": "busy"})
    (change,) = await _frames(response, 1)
    assert KEY in change
    response.close()


async def test_the_feed_refuses_query_parameters_and_is_documented(client):
    response = await client.get("/_mock/events?x=1")
    assert response.status == 400 and (await response.json())["error"]
    doc = document()["paths"]["/_mock/events"]["get"]
    assert "text/event-stream" in doc["responses"]["200"]["content"]


async def test_stopping_the_server_ends_an_open_feed():
    running = await start(World(), ServerOptions())
    async with aiohttp.ClientSession() as session:
        response = await session.get(running.url + "/_mock/events")
        await _frames(response, 1)
        await asyncio.wait_for(running.stop(), 5)  # not the 10 s shutdown timeout
        assert await asyncio.wait_for(response.content.read(), 5) == b""


def test_every_control_api_path_the_dashboard_reads_is_in_the_openapi_document():
    script = "\n".join(p.read_text(encoding="utf-8") for p in sorted(ui.FILES.glob("*.js")))
    used = set(re.findall(r'(?:api\("[A-Z]+", |fetch\()"(/[^"?]*)', script))
    for call in re.finditer(r"tpath\(([^()]*(?:\([^()]*\)[^()]*)*)\)", script):
        for literal in re.findall(r"[\"`](/[^\"`?]*)", call.group(1)):
            if literal.startswith("/${"):
                continue  # "/${kind}s": the scenarios and faults paths, also used literally
            used.add(re.sub(r"\$\{[^}]*\}", "{}", "/_mock/tenants/{userkey}" + literal))
    used.discard("/_mock/openapi.json")  # the document itself
    documented = document()["paths"]
    patterns = [re.compile("^" + re.sub(r"\{[^}]*\}", r"[^/]+", p) + "$") for p in documented]
    assert len(used) >= 12, used
    for path in sorted(used):
        concrete = path.replace("{}", "x").replace("{userkey}", "k")
        assert any(p.match(concrete) for p in patterns), f"{path} is not in the OpenAPI document"


async def test_the_feed_announces_an_sms_that_arrives_and_its_forward():
    app = make_app(World(), ServerOptions())
    async with TestClient(TestServer(app)) as client:
        sink = "/_mock/sink/feed"
        doc = {"userkey": "fwd", "numbers": [{"number": "12155550123", "sms_url": ""}]}
        doc["numbers"][0]["sms_url"] = str(client.make_url(sink))
        assert (await client.post("/_mock/tenants", json=doc)).status == 201
        response = await client.get("/_mock/events")
        await _frames(response, 1)
        inbound = {"from": "12125551234", "to": "12155550123", "message": "hi"}
        assert (await client.post("/_mock/tenants/fwd/sms/inbound", json=inbound)).status == 201
        (change,) = await _frames(response, 1)  # nothing but the outbox changed
        assert "event: change" in change and '"fwd"' in change
        response.close()
