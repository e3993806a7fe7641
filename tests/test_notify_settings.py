"""Issue 12 settings: TOML accounts carry notification_url and numbers; serve refuses a
configured URL the safety rule forbids and names --callback-allow; the core's URL rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from mock_anveo import cli
from mock_anveo.errors import SettingError
from mock_anveo.sim import outbound, snapshot
from mock_anveo.sim.accounts import load_accounts
from mock_anveo.sim.world import Settings, World

TOML = """
[[account]]
userkey = "k1"
notification_url = "URL"

[[account.numbers]]
number = "12155550123"
sms_url = "http://127.0.0.1:8000/sms?from=$[from]$&text=$[message]$"

[[account.numbers]]
number = "12155550124"
"""


def test_toml_accounts_carry_notification_settings(tmp_path: Path) -> None:
    path = tmp_path / "a.toml"
    path.write_text(TOML.replace("URL", "http://localhost:8000/cdr"), encoding="utf-8")
    (account,) = load_accounts(path)
    assert account.notification_url == "http://localhost:8000/cdr"
    assert account.numbers == {
        "12155550123": "http://127.0.0.1:8000/sms?from=$[from]$&text=$[message]$",
        "12155550124": None,
    }


def test_serve_refuses_a_configured_url_it_may_not_call(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "a.toml"
    path.write_text(TOML.replace("URL", "http://billing.example/cdr"), encoding="utf-8")
    accounts = load_accounts(path)
    assert not cli._callbacks_safe(World(Settings(accounts=accounts)))
    assert "--callback-allow billing.example" in capsys.readouterr().err
    allowed = Settings(accounts=accounts, callback_allow=frozenset({"billing.example"}))
    assert cli._callbacks_safe(World(allowed))
    everyone = Settings(accounts=accounts, callback_allow=frozenset({"*"}))
    assert cli._callbacks_safe(World(everyone))
    assert "WARNING" in capsys.readouterr().err


def test_callback_allow_flag_is_repeatable() -> None:
    args = cli.build_parser().parse_args(
        ["serve", "--callback-allow", "a.example", "--callback-allow", "B.example"]
    )
    assert cli._settings(args).callback_allow == frozenset({"a.example", "b.example"})
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(["serve", "--callback-allow", "http://x/"])


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "gopher://127.0.0.1/",
        "http://user:pw@127.0.0.1/",
        "http://:80/",
        "http://127.0.0.1:99999/",
        "",
        "http://127.0.0.1/\n",
        123,
    ],
)
def test_bad_urls_are_refused_naming_the_field(url: object) -> None:
    with pytest.raises(SettingError) as caught:
        outbound.check_url(url, "notification_url")
    assert caught.value.field == "notification_url"


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("127.9.9.9", True), ("::1", True), ("localhost", True),
     ("app.localhost", True), ("10.0.0.1", False), ("example.com", False),
     ("localhost.example.com", False)],
)  # fmt: skip
def test_loopback_is_judged_by_the_text(host: str, loopback: bool) -> None:
    assert outbound.is_loopback(host) is loopback


def test_fill_percent_encodes_every_reserved_character() -> None:
    url = outbound.fill("http://h/?m=$[message]$&f=$[from]$", "1", "2", "a&b=c#d+e f/😀%")
    assert url == "http://h/?m=a%26b%3Dc%23d%2Be%20f%2F%F0%9F%98%80%25&f=1"


# ---- the "sink" shorthand: resolved by the callers, never by the URL validator ---------------
@pytest.mark.parametrize("name", ["notification_url", "numbers[0].sms_url", "url"])
def test_the_url_validator_treats_sink_like_any_url_without_a_scheme(name: str) -> None:
    # One rule for every field: the shorthand is the caller's to resolve (with_sink) or to
    # explain (check_template), so check_url does not look at the field's name.
    with pytest.raises(SettingError) as caught:
        outbound.check_url("sink", name)
    assert caught.value.field == name
    assert str(caught.value) == f"{name} must use http or https, got no scheme in 'sink'"


def test_with_sink_resolves_with_a_server_and_refuses_without_one() -> None:
    doc = {"notification_url": "sink", "balance": "1"}
    resolved = outbound.with_sink(doc, "http://127.0.0.1:8080/", "k/1")
    assert resolved == {
        "notification_url": "http://127.0.0.1:8080/_mock/sink/k%2F1",
        "balance": "1",
    }
    assert outbound.with_sink({"balance": "1"}, None, "k") == {"balance": "1"}
    with pytest.raises(SettingError) as caught:  # a file or snapshot: no server URL to use
        outbound.with_sink(doc, None, "k")
    assert caught.value.field == "notification_url"
    assert "understood by the control API" in str(caught.value)
    assert "http://127.0.0.1:PORT/_mock/sink/USERKEY" in str(caught.value)


def test_a_snapshot_with_a_sink_notification_url_says_what_to_write() -> None:
    world = World()
    doc = snapshot.snapshot(world)
    doc["tenants"][0]["account"]["notification_url"] = "sink"
    with pytest.raises(SettingError) as caught:
        snapshot.restore(world, doc)
    assert caught.value.field == "tenants[0].account.notification_url"
    assert "/_mock/sink/USERKEY" in str(caught.value)
