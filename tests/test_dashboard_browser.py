"""The dashboard in a real headless Chromium (Debian's ``chromium``, driven by Playwright).

One browser per module run (per xdist worker), not per session: Playwright's sync API keeps its
event loop running in the main thread while it is open, and the suite's asyncio tests in the
same worker could not start theirs. Each test opens its own server and page.
Without Chromium or Playwright these tests skip with the reason, except under ``CI=true``,
where a missing browser fails them: ``.ci/run`` installs it first.
"""

from __future__ import annotations

import json
import os
import shutil
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mock_anveo.http.app import ServerOptions
from mock_anveo.http.openapi import document
from mock_anveo.http.server import ThreadedServer

from .helpers import KEY, Reply, xml_request

try:
    from playwright.sync_api import Browser, Page, expect, sync_playwright
except ImportError:  # pragma: no cover - the test extra brings it
    sync_playwright = None

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOT = ROOT / "docs" / "dashboard.png"
CHROMIUM = os.environ.get("MOCK_ANVEO_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps calling home on a closed network.
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
CONNECT = [
    ("PHONENUMBER", "12157010680"),
    ("DESTPHONENUMBER", "12125551234"),
    ("BILLINGCODE", "ui-demo"),
    ("MEMO", "dashboard test"),
]


def _missing() -> str | None:
    if sync_playwright is None:
        return "the playwright package is not installed: pip install -e '.[test]'"
    if not Path(CHROMIUM).exists():
        return f"no Chromium at {CHROMIUM}: apt-get install -y chromium (.ci/run does)"
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    missing = _missing()
    if missing is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true and the browser tests cannot run: {missing}")
        pytest.skip(missing)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        launched.close()


def _open(browser: Browser, width: int = 1280, height: int = 800) -> tuple[Page, list[str]]:
    page = browser.new_page(viewport={"width": width, "height": height})
    page.set_default_timeout(10_000)
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    return page, problems


@pytest.fixture
def server() -> Iterator[ThreadedServer]:
    running = ThreadedServer(options=ServerOptions()).start()
    yield running
    running.stop()


def _post(url: str, body: bytes, headers: dict[str, str] | None = None) -> bytes:
    request = urllib.request.Request(url, data=body, headers=headers or {}, method="POST")
    with urllib.request.urlopen(request, timeout=10) as reply:
        return reply.read()


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as reply:
        return json.loads(reply.read())


def test_a_call_appears_live_ends_after_a_day_and_draws_its_timeline(browser, server):
    page, problems = _open(browser)
    page.goto(server.url + "/")  # a browser asking for HTML at / lands on the dashboard
    assert page.url.endswith("/_mock/ui/")
    expect(page.locator("#live")).to_have_attribute("data-state", "live")
    page.get_by_role("link", name="Calls").click()
    expect(page.locator("#calls")).to_contain_text("no calls yet")

    reply = Reply(_post(server.url + "/api/v3.asp", xml_request("DIAL.CONNECT", CONNECT)))
    requestid = reply.values["REQUESTID"]
    row = page.locator(f'tr[data-requestid="{requestid}"]')
    expect(row).to_be_visible()  # no reload: the feed said the tenant changed
    expect(row).to_contain_text("ui-demo")

    page.get_by_role("button", name="+1 day").click()
    expect(row.locator(".badge")).to_have_text("END")
    call = _get(f"{server.url}/_mock/tenants/{KEY}/calls/{requestid}")
    assert call["status"] == "END" and call["reason"]
    expect(row).to_contain_text(call["reason"])

    row.get_by_role("link").click()
    timeline = page.locator("svg.timeline")
    expect(timeline).to_be_visible()
    expect(timeline.locator(".endlabel")).to_have_text(f"ended: {call['reason']}")
    kinds = set(timeline.locator("rect.seg").evaluate_all("els => els.map(e => e.dataset.kind)"))
    assert kinds == {"queued", "ringing", "talking"}, kinds
    assert timeline.locator("text", has_text="leg 2").count() == 1
    if os.environ.get("MOCK_ANVEO_SCREENSHOT") or not SCREENSHOT.exists():
        page.screenshot(path=str(SCREENSHOT), full_page=False)

    page.get_by_role("link", name="Journal").click()
    entry = page.locator("#journal details.ok").first
    entry.locator("summary").click()
    entry.get_by_role("button", name="Copy as curl").click()
    expect(entry.locator(".curl-text")).to_contain_text("curl -sS -X POST")
    expect(entry.locator("pre").first).to_contain_text("<USERKEY>")
    assert problems == []


def test_errors_are_marked_and_a_narrow_window_still_works(browser, server):
    page, problems = _open(browser, 420, 800)
    _post(server.url + "/api/v3.asp", xml_request("DIAL.CONNECT", [("PHONENUMBER", "x")]))
    page.goto(server.url + "/_mock/ui/#/journal")
    failed = page.locator("#journal details.error").first
    expect(failed).to_be_visible()
    expect(failed.locator(".code")).not_to_be_empty()
    page.select_option("#journal-result", "ok")
    expect(page.locator("#journal details.error")).to_have_count(0)
    page.keyboard.press("Tab")  # the skip link first: the page is keyboard reachable
    expect(page.locator(".skip")).to_be_focused()
    assert problems == []


def test_a_token_protected_server_shows_nothing_before_the_token(browser):
    running = ThreadedServer(options=ServerOptions(control_token="s3cret-token")).start()
    try:
        page, problems = _open(browser)
        page.goto(running.url + "/_mock/ui/")
        expect(page.locator("#token-input")).to_be_visible()
        expect(page.locator("nav")).to_be_hidden()
        assert KEY not in page.content()
        page.fill("#token-input", "s3cret-token")
        page.get_by_role("button", name="Open dashboard").click()
        expect(page.locator("main")).to_contain_text(KEY)
        expect(page.locator("#live")).to_have_attribute("data-state", "live")
        assert problems == []
    finally:
        running.stop()


def test_an_sms_arrives_from_the_form(browser, server):
    if "/_mock/tenants/{userkey}/sms/inbound" not in document()["paths"]:
        pytest.skip(
            "POST /_mock/tenants/{userkey}/sms/inbound arrives with issue 12 (callbacks, "
            "branch notify); the form is there and disabled until then"
        )
    number = "12155550123"
    _post(
        server.url + "/_mock/tenants",
        json.dumps({"userkey": "smsui", "numbers": [{"number": number}]}).encode(),
        {"Content-Type": "application/json"},
    )
    page, problems = _open(browser)
    page.goto(server.url + "/_mock/ui/#/controls")
    page.select_option("#tenant", "smsui")
    page.get_by_role("link", name="Controls").click()
    expect(page.locator("#sms-to")).to_have_value(number)
    page.fill("#sms-message", "hello from the browser")
    page.get_by_role("button", name="Send inbound SMS").click()
    expect(page.locator("#notice")).to_contain_text("SMS arrived")
    page.get_by_role("link", name="SMS & notifications").click()
    expect(page.locator("#notifications")).to_be_visible()
    assert problems == []


def test_the_dashboard_survives_a_server_restart(browser):
    first = ThreadedServer(options=ServerOptions()).start()
    port = int(first.url.rsplit(":", 1)[1])
    page, _ = _open(browser)
    page.goto(first.url + "/_mock/ui/#/calls")
    live = page.locator("#live")
    expect(live).to_have_attribute("data-state", "live")
    first.stop()
    expect(live).to_have_attribute("data-state", "reconnecting")
    expect(live).to_have_text("reconnecting…")
    second = ThreadedServer(options=ServerOptions(), port=port).start()
    try:
        reply = Reply(_post(second.url + "/api/v3.asp", xml_request("DIAL.CONNECT", CONNECT)))
        expect(live).to_have_attribute("data-state", "live")
        expect(page.locator(f'tr[data-requestid="{reply.values["REQUESTID"]}"]')).to_be_visible()
    finally:
        second.stop()
    # Connection-refused errors while the server is down are the browser's own console lines.
