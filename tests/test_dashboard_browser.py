"""The dashboard in a real headless Chromium (Debian's ``chromium``, driven by Playwright).

One browser per module run (per xdist worker), not per session: Playwright's sync API keeps its
event loop running in the main thread while it is open, and the suite's asyncio tests in the
same worker could not start theirs. Each test opens its own server and page.
Without Chromium or Playwright these tests skip with the reason, except under ``CI=true``,
where a missing browser fails them: ``.ci/run`` installs it first.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import shutil
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mock_anveo.http.app import ServerOptions
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
DELAYED = [*CONNECT, ("DELAY", "10")]


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


def _post_json(url: str, doc: Any) -> Any:
    return json.loads(_post(url, json.dumps(doc).encode(), {"Content-Type": "application/json"}))


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as reply:
        return json.loads(reply.read())


def test_a_call_appears_live_ends_after_a_day_and_draws_its_timeline(browser, server):
    page, problems = _open(browser)
    page.goto(server.url + "/")  # a browser asking for HTML at / lands on the dashboard
    assert page.url.split("#")[0].endswith("/_mock/ui/")
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


def test_copy_as_curl_resends_a_body_that_is_not_utf8_byte_for_byte(browser, server):
    """The copied command once carried the journal's UTF-8 text of an ISO-8859-1 body, which
    the server then read by the body's declaration as other characters (``cafÃ©``)."""
    declaration = '<?xml version="1.0" encoding="ISO-8859-1"?>'
    text = xml_request("DIAL.CONNECT", [*CONNECT[:2], ("MEMO", "café")]).decode()
    body = (declaration + text.split("?>", 1)[1]).encode("latin-1")
    assert Reply(_post(server.url + "/api/v3.asp", body)).ok
    page, problems = _open(browser)
    page.goto(server.url + "/_mock/ui/#/journal")
    entry = page.locator("#journal details.ok").first
    entry.locator("summary").click()
    expect(entry.locator("pre").first).to_contain_text('<PARAMETER NAME="MEMO">café</PARAMETER>')
    entry.get_by_role("button", name="Copy as curl").click()
    command = entry.locator(".curl-text").inner_text()
    assert "base64 -d" in command, command
    subprocess.run(
        ["bash", "-euo", "pipefail", "-c", command], check=True, capture_output=True, timeout=30
    )
    journal = _get(f"{server.url}/_mock/tenants/{KEY}/journal?kind=exchange")
    assert [base64.b64decode(e["request_base64"]) for e in journal["entries"]] == [body, body]
    memos = {call["memo"] for call in _get(f"{server.url}/_mock/tenants/{KEY}/calls")}
    assert memos == {"café"}
    assert problems == []


def test_errors_are_marked_and_a_narrow_window_still_works(browser, server):
    page, problems = _open(browser, 420, 800)
    _post(server.url + "/api/v3.asp", xml_request("DIAL.CONNECT", [("PHONENUMBER", "x")]))
    page.goto(server.url + "/_mock/ui/#/journal")
    failed = page.locator("#journal details.error").first
    expect(failed).to_be_visible()
    expect(failed.locator(".code")).not_to_be_empty()
    fault = {"kind": "html", "action": "DIAL.CONNECT", "times": 1}
    _post_json(f"{server.url}/_mock/tenants/{KEY}/faults", fault)
    with contextlib.suppress(urllib.error.HTTPError):  # the html fault: a maintenance page
        _post(server.url + "/api/v3.asp", xml_request("DIAL.CONNECT", CONNECT))
    faulted = page.locator("#journal details.fault")
    expect(faulted).to_contain_text("fault: html")  # marked as the test's doing, not an error
    page.select_option("#journal-result", "fault")
    expect(page.locator("#journal details")).to_have_count(1)
    page.select_option("#journal-result", "ok")
    expect(page.locator("#journal details.error")).to_have_count(0)
    expect(page.locator("#journal details.fault")).to_have_count(0)
    page.keyboard.press("Tab")  # the skip link first: the page is keyboard reachable
    expect(page.locator(".skip")).to_be_focused()
    for name in ("tenants", "calls", "sms", "controls"):  # wide tables scroll in their box
        page.goto(f"{server.url}/_mock/ui/#/{name}")
        expect(page.locator("#main").locator(".scroll, .empty, .cards").first).to_be_visible()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 420, f"#/{name} is {width} px wide in a 420 px window"
    assert problems == []


def test_a_token_protected_server_shows_nothing_before_the_token(browser):
    running = ThreadedServer(options=ServerOptions(control_token="s3cret-token")).start()
    try:
        page, problems = _open(browser)
        refused: list[str] = []
        page.on("response", lambda r: refused.append(r.url) if r.status == 401 else None)
        page.goto(running.url + "/_mock/ui/")
        expect(page.locator("#token-input")).to_be_visible()
        expect(page.locator("#token-input")).to_be_focused()
        expect(page.locator("nav")).to_be_hidden()
        expect(page.locator("header .advance")).to_be_hidden()
        assert KEY not in page.content()
        page.fill("#token-input", "wrong-token")
        page.keyboard.press("Enter")
        expect(page.locator(".tokenbox")).to_contain_text("The server refused the token")
        expect(page.locator("nav")).to_be_hidden()
        assert KEY not in page.content()
        page.fill("#token-input", "s3cret-token")
        page.get_by_role("button", name="Open dashboard").click()
        expect(page.locator("main")).to_contain_text(KEY)
        expect(page.locator("#live")).to_have_attribute("data-state", "live")
        page.get_by_role("button", name="+1 h").click()  # controls carry the token too
        expect(page.locator("#clock")).to_contain_text("2026-01-01 01:00:00")
        # The browser reports each refused fetch (the wrong token's) as a console error.
        assert refused and all("401" in p for p in problems), problems
    finally:
        running.stop()


def test_every_control_works_and_money_reads_alike(browser, server):
    page, problems = _open(browser)
    page.goto(server.url + "/_mock/ui/#/tenants")
    expect(page.locator("#live")).to_have_attribute("data-state", "live")
    money = page.locator("#main tbody tr").first.locator("td.money")
    expect(money).to_have_text(["100.00", "0.00", "0.00"])  # balance, reserved, charged
    header, clock = page.locator("header"), page.locator("#clock")
    expect(clock).to_contain_text("virtual 2026-01-01 00:00:00")
    for button, moment in [("+1 min", "01 00:01"), ("+1 h", "01 01:01"), ("+1 day", "02 01:01")]:
        header.get_by_role("button", name=button, exact=True).click()
        expect(clock).to_contain_text(f"virtual 2026-01-{moment}:00")
    assert _get(f"{server.url}/_mock/tenants/{KEY}/clock")["now"].startswith("2026-01-02T01:01")

    page.get_by_role("link", name="Controls").click()
    page.locator("#main").get_by_role("button", name="+1 min", exact=True).click()
    expect(clock).to_contain_text("virtual 2026-01-02 01:02:00")
    page.fill("#advance-to", "2026-01-03T00:00:00")
    page.get_by_role("button", name="Advance to moment").click()
    expect(clock).to_contain_text("virtual 2026-01-03 00:00:00")
    page.fill("#advance-to", "2026-01-01T00:00:00")  # backwards: refused, with the reason
    page.get_by_role("button", name="Advance to moment").click()
    expect(page.locator("#notice .error")).to_contain_text("advancing the clock: refused:")
    page.fill("#clock-rate", "60")
    page.get_by_role("button", name="Set rate").click()
    expect(clock).to_contain_text("rate 60")
    page.fill("#clock-rate", "0")
    page.get_by_role("button", name="Set rate").click()
    expect(clock).to_contain_text("rate 0")
    reply = Reply(_post(server.url + "/api/v3.asp", xml_request("DIAL.CONNECT", DELAYED)))
    header.get_by_role("button", name="until idle").click()
    expect(page.locator("#notice")).to_contain_text("advanced until idle")
    call = _get(f"{server.url}/_mock/tenants/{KEY}/calls/{reply.values['REQUESTID']}")
    assert call["status"] == "END"

    rules = page.locator("#rules tbody tr")
    page.get_by_role("button", name="Add rule").click()  # the scenario example as given
    expect(rules).to_have_count(1)
    page.select_option("#rule-kind", "fault")
    page.get_by_role("button", name="Add rule").click()
    expect(rules).to_have_count(2)
    page.select_option("#rule-kind", "scenario")
    page.fill("#rule-json", '{"match": "*", "outcome": "nonsense"}')
    page.get_by_role("button", name="Add rule").click()
    expect(page.locator("#notice .error")).to_contain_text("adding the scenario: refused:")
    page.fill("#rule-json", "{not json")
    page.get_by_role("button", name="Add rule").click()
    expect(page.locator("#notice .error")).to_contain_text("the rule is not JSON")
    scenarios = _get(f"{server.url}/_mock/tenants/{KEY}/scenarios")
    faults = _get(f"{server.url}/_mock/tenants/{KEY}/faults")
    assert len(scenarios) == 1 and len(faults) == 1
    rules.filter(has_text="scenario").get_by_role("button", name="Remove").click()
    expect(rules).to_have_count(1)
    rules.get_by_role("button", name="Remove").click()
    expect(page.locator("#rules")).to_contain_text("no scenario or fault rules")
    assert _get(f"{server.url}/_mock/tenants/{KEY}/faults") == []

    reset = page.get_by_role("button", name="Reset this tenant")
    reset.click()
    page.get_by_role("button", name="Click again to reset").click()
    expect(page.locator("#notice")).to_contain_text("tenant reset")
    expect(clock).to_contain_text("virtual 2026-01-01 00:00:00")
    assert _get(f"{server.url}/_mock/tenants/{KEY}/calls") == []

    page.fill("#new-key", "made-in-ui")
    page.fill("#new-balance", "7")
    page.get_by_role("button", name="Create tenant").click()
    expect(page.locator("#tenant")).to_have_value("made-in-ui")
    page.get_by_role("link", name="Tenants").click()
    expect(page.locator("tr.selected td.money")).to_have_text(["7.00", "0.00", "0.00"])
    assert _get(f"{server.url}/_mock/tenants/made-in-ui")["balance"] == "7"
    # Only the two refusals asked for above (the browser logs each failed fetch).
    assert len(problems) == 2 and all("status of 400" in p for p in problems), problems


def test_the_keyboard_reaches_the_pages_and_the_controls(browser, server):
    page, problems = _open(browser)
    page.goto(server.url + "/_mock/ui/")
    expect(page.locator("#live")).to_have_attribute("data-state", "live")
    for _ in range(20):  # Tab through the header to the Controls link
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent") == "Controls":
            break
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Controls")).to_be_visible()
    page.focus("#new-key")
    page.keyboard.type("typed-key")
    page.keyboard.press("Enter")  # submits the form it is in
    expect(page.locator("#tenant")).to_have_value("typed-key")
    assert problems == []


def test_an_sms_arrives_from_the_form_and_its_forward_shows_live_elsewhere(browser, server):
    number = "12155550123"
    # The forward goes to the built-in sink answering 500, on a clock running 600 times real
    # time: the retries (5 virtual minutes apart) happen with nothing else changing, so only
    # the feed's word about the outbox can bring each attempt to the watching page.
    sink = f"{server.url}/_mock/sink/ui?status=500&from=$[from]$"
    _post_json(
        server.url + "/_mock/tenants",
        {"userkey": "smsui", "numbers": [{"number": number, "sms_url": sink}], "clock_rate": 600},
    )
    watcher, problems = _open(browser)
    watcher.goto(server.url + "/_mock/ui/#/sms")
    watcher.select_option("#tenant", "smsui")
    expect(watcher.locator("#notifications")).to_contain_text("no notifications")

    page, more = _open(browser)
    page.goto(server.url + "/_mock/ui/#/controls")
    page.select_option("#tenant", "smsui")
    expect(page.locator("#sms-to")).to_have_value(number)
    page.fill("#sms-message", "hello from the browser")
    page.get_by_role("button", name="Send inbound SMS").click()
    expect(page.locator("#notice")).to_contain_text("SMS arrived")

    forward = watcher.locator("#notifications details").first
    expect(forward).to_contain_text("FORWARD")
    expect(forward).to_contain_text("hello from the browser")
    expect(forward).to_contain_text("5 attempt(s)")  # no reload: every attempt was announced
    expect(forward).to_contain_text("cancelled")
    forward.locator("summary").click()
    expect(forward.locator("tbody tr")).to_have_count(5)
    expect(forward.locator("tbody tr").first).to_contain_text("HTTP 500")
    expect(forward).not_to_contain_text("not attempted yet")
    sent = _get(f"{server.url}/_mock/tenants/smsui/notifications")
    assert [m["state"] for m in sent] == ["cancelled"] and len(sent[0]["attempts"]) == 5
    assert problems == [] and more == []


def test_a_page_left_while_it_loads_does_not_come_back(browser, server):
    # Each page first reads the tenants. Hold those reads: leave #/controls for #/sms before
    # the first read ends, and let the reads end in the other order. The older navigation
    # must not draw its page over the newer one, nor put its address back.
    page, problems = _open(browser)
    page.goto(server.url + "/_mock/ui/#/tenants")
    expect(page.locator("#main h2")).to_have_text("Tenants")
    # "live": the feed's first event has sent its own read of the tenants (in the same task),
    # so every read held below is a navigation's.
    expect(page.locator("#live")).to_have_text("live")
    held: list[Any] = []

    def hold(route: Any) -> None:
        held.append(route)

    page.route("**/_mock/tenants", hold)
    for count, name in enumerate(("controls", "sms"), 1):
        page.goto(f"{server.url}/_mock/ui/#/{name}")
        for _ in range(500):  # the handler runs when Playwright next reads its events
            if len(held) == count:
                break
            page.wait_for_timeout(10)
    older, newer = held
    newer.continue_()
    expect(page.locator("#main h2")).to_have_text("SMS and notifications")
    with page.expect_response(lambda response: response.request == older.request):
        older.continue_()
    # A task later the older navigation has run on: before the fix it had drawn Controls here.
    page.evaluate("() => new Promise((done) => setTimeout(done, 0))")
    expect(page.locator("#main h2")).to_have_text("SMS and notifications")
    assert page.evaluate("location.hash").startswith("#/sms")
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


def test_long_urls_and_values_wrap_or_fold_and_no_page_is_wider_than_a_phone(browser, server):
    # An SMS of 4096 emoji makes a forward URL of ~49,000 characters; an ordinary URL must
    # fit at 360 px too. Both forwards go to the sink, with the message in the URL.
    sink = f"{server.url}/_mock/sink/ui?from=$[from]$&text=$[message]$"
    number = "12155550177"
    _post_json(
        server.url + "/_mock/tenants",
        {"userkey": "longui", "balance": "10", "numbers": [{"number": number, "sms_url": sink}]},
    )
    memo = [("MEMO", "m" * 1024)]  # one word: nothing to break it at
    call = xml_request("DIAL.CONNECT", [*CONNECT[:3], *memo], userkey="longui")
    requestid = Reply(_post(server.url + "/api/v3.asp", call)).values["REQUESTID"]
    inbound = f"{server.url}/_mock/tenants/longui/sms/inbound"
    _post_json(inbound, {"from": "12125551234", "to": number, "message": "short"})
    _post_json(inbound, {"from": "12125551234", "to": number, "message": "\U0001f600" * 4096})
    _post_json(f"{server.url}/_mock/tenants/longui/clock/advance", {"seconds": 60})
    notes = _get(f"{server.url}/_mock/tenants/longui/notifications")
    huge = max((n["url"] for n in notes), key=len)
    assert len(huge) > 40_000
    page, problems = _open(browser, 360, 700)
    page.goto(server.url + "/_mock/ui/#/sms")
    page.select_option("#tenant", "longui")
    forwards = page.locator("#notifications details")
    expect(forwards).to_have_count(2)
    for name in ("sms", "journal", "tenants", "calls", f"call/{requestid}", "controls"):
        page.goto(f"{server.url}/_mock/ui/#/{name}")
        expect(page.locator("#main h2")).to_be_visible()
        if name == "sms":
            expect(forwards).to_have_count(2)
            forwards.first.locator("summary").click()  # the huge one's body: URL wrapped
            forwards.last.locator("summary").click()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, f"#/{name} is {width} px wide in a 360 px window"
    page.goto(f"{server.url}/_mock/ui/#/sms")
    folded = forwards.first.locator("summary .long")
    expect(folded).to_have_attribute("title", huge)  # the whole value, a hover away
    expect(forwards.first.locator(".body pre").first).to_have_text(huge)
    folded.get_by_role("button").click()  # shows it all, wrapped, without toggling the entry
    expect(forwards.first.locator("summary .note-url")).to_have_text(huge)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.screenshot(full_page=True, timeout=10_000)  # finishes: the page is not miles wide
    assert problems == []


def _patch_json(url: str, doc: Any) -> Any:
    body = json.dumps(doc).encode()
    headers = {"Content-Type": "application/json"}
    request = urllib.request.Request(url, data=body, headers=headers, method="PATCH")
    with urllib.request.urlopen(request, timeout=10) as reply:
        return json.loads(reply.read())


def test_fields_follow_the_server_and_the_chosen_tenant_survives_reset_and_reload(browser, server):
    number = "12155550188"
    _post_json(
        server.url + "/_mock/tenants", {"userkey": "keep-me", "numbers": [{"number": number}]}
    )
    _post_json(server.url + "/_mock/tenants", {"userkey": "bare"})
    clock = f"{server.url}/_mock/tenants/keep-me/clock"
    page, problems = _open(browser)
    page.goto(server.url + "/_mock/ui/#/controls")
    page.select_option("#tenant", "keep-me")
    expect(page.locator("#sms-to")).to_have_value(number)
    moment, rate = page.locator("#advance-to"), page.locator("#clock-rate")
    _post_json(clock + "/advance", {"seconds": 3600})  # from outside: the fields follow
    expect(moment).to_have_value(re.compile(r"^2026-01-01T01:00"))
    _patch_json(clock, {"rate": 2})
    expect(rate).to_have_value("2")
    rate.fill("5")  # being edited: an outside change does not overwrite it
    _patch_json(clock, {"rate": 3})
    expect(page.locator("#clock")).to_contain_text("rate 3")
    expect(rate).to_have_value("5")
    page.get_by_role("button", name="Set rate").click()
    expect(page.locator("#clock")).to_contain_text("rate 5")
    _patch_json(clock, {"rate": 0})  # the stranger's case: the box kept its old value
    expect(page.locator("#clock")).to_contain_text("rate 0")
    expect(rate).to_have_value("0")

    page.get_by_role("button", name="Reset this tenant").click()
    page.get_by_role("button", name="Click again to reset").click()
    expect(page.locator("#notice")).to_contain_text("tenant reset")
    expect(page.locator("#tenant")).to_have_value("keep-me")
    assert "tenant=keep-me" in page.url
    page.reload()
    expect(page.locator("#tenant")).to_have_value("keep-me")
    expect(page.locator("#sms-to")).to_have_value(number)
    fresh, more = _open(browser)  # a new browser context: only the link knows the tenant
    fresh.goto(page.url)
    expect(fresh.locator("#tenant")).to_have_value("keep-me")
    expect(fresh.locator("#sms-to")).to_have_value(number)
    page.get_by_role("button", name="Send inbound SMS").click()  # the number has no sms_url
    expect(page.locator("#notice")).to_contain_text(f"not forwarded: number {number} has no")

    page.select_option("#tenant", "bare")
    expect(page.locator("#sms-no-numbers")).to_contain_text("owns no numbers")
    expect(page.locator("#sms-to")).to_have_value("")
    page.get_by_role("button", name="Send inbound SMS").click()
    expect(page.locator("#notice .error")).to_contain_text("To (one of the account's numbers)")
    expect(page.locator("#sms-to")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#inbound-form .why")).to_be_visible()  # beside the field as well
    page.fill("#sms-to", "12125550000")
    expect(page.locator("#inbound-form .why")).to_have_count(0)
    assert problems == [] and more == []
