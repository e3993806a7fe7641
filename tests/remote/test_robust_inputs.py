"""A stranger's black-box findings: settings that were silently accepted are refused naming
the field (SMS forward placeholders, empty or unmatchable scenario rules), JSON type mistakes
are named as such, inbound SMS senders may be E.164 or alphanumeric, and ``"sink"`` means the
tenant's own sink wherever a notification URL is set."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mock_anveo import MockAnveo
from mock_anveo.errors import ControlError, SettingError
from mock_anveo.sim import outbound
from mock_anveo.sim.accounts import load_accounts

from ..helpers import xml_request

NUMBER = "12155550123"
BAD_TEMPLATES = [
    ("http://127.0.0.1/sms?f=$[bogus]$", "unknown placeholder '$[bogus]$'"),
    ("http://127.0.0.1/sms?f=$[FROM]$", "unknown placeholder '$[FROM]$'"),
    ("http://127.0.0.1/sms?m=$[ message ]$", "unknown placeholder '$[ message ]$'"),
    ("http://127.0.0.1/sms?f=$[from", "malformed placeholder starting '$[from'"),
]


@pytest.fixture
def anveo(server_url: str) -> Iterator[MockAnveo]:
    with MockAnveo.remote(server_url, numbers=[{"number": NUMBER}]) as controller:
        yield controller


def _post(url: str, body: bytes) -> tuple[int, Any]:
    request = urllib.request.Request(url, data=body, method="POST")
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


# ---- SMS forward templates ------------------------------------------------------------------
@pytest.mark.parametrize(("template", "said"), BAD_TEMPLATES)
def test_a_bad_placeholder_is_refused_naming_the_valid_ones(
    anveo: MockAnveo, server_url: str, template: str, said: str
) -> None:
    numbers = [{"number": NUMBER, "sms_url": template}]
    with pytest.raises(ControlError) as caught:
        anveo.set_account(numbers=numbers)
    assert caught.value.status == 400 and caught.value.field == "numbers[0].sms_url"
    assert said in caught.value.message and "$[from]$, $[to]$, $[message]$" in caught.value.message
    with pytest.raises(ControlError, match=r"placeholder"):  # a new tenant, as the marker makes
        MockAnveo.remote(server_url, numbers=numbers).open()
    assert anveo.tenant()["numbers"] == [{"number": NUMBER, "sms_url": None}]  # unchanged


@pytest.mark.parametrize(("template", "said"), BAD_TEMPLATES)
def test_a_bad_placeholder_in_the_accounts_file_is_refused(
    tmp_path: Path, template: str, said: str
) -> None:
    path = tmp_path / "accounts.toml"
    path.write_text(
        f'[[account]]\nuserkey = "k"\n[[account.numbers]]\nnumber = "{NUMBER}"\n'
        f"sms_url = '{template}'\n",
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match=r"account #1: numbers\[0\]\.sms_url") as caught:
        load_accounts(path)
    assert said in str(caught.value)


def test_every_placeholder_spelt_right_is_filled(anveo: MockAnveo) -> None:
    template = "http://127.0.0.1:9/sms?f=$[from]$&t=$[to]$&m=$[message]$&price=$5"
    anveo.set_account(numbers=[{"number": NUMBER, "sms_url": template}])
    forward = anveo.sms_inbound("4915112345678", NUMBER, "hi")
    assert forward is not None
    assert forward.url.endswith(f"f=4915112345678&t={NUMBER}&m=hi&price=$5")


# ---- scenario rules -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("rule", "field", "said"),
    [
        ({"match": "*", "sequence": []}, "sequence", "sequence is empty"),
        ({"match": "["}, "match", "has a [ without its closing ]"),
        ({"match": "1212[0-5"}, "match", "has a [ without its closing ]"),
        ({"match": "1212]"}, "match", "has a ] without its opening ["),
        ({"match": "1212-555"}, "match", "is not a glob of digits"),
        ({"match": 12125551234}, "match", "must be a JSON string"),
    ],
)
def test_a_rule_that_could_do_nothing_is_refused(
    anveo: MockAnveo, rule: dict[str, Any], field: str, said: str
) -> None:
    with pytest.raises(ControlError) as caught:
        anveo.scenario(**rule)
    assert caught.value.status == 400 and caught.value.field == field
    assert said in caught.value.message
    assert anveo.scenarios() == []


def test_globs_and_plain_rules_still_work(anveo: MockAnveo) -> None:
    for match in ("*", "1212*", "1212555[0-4]???", "[!0]*", "12125551234"):
        anveo.scenario(match)
    plain = anveo.scenarios()[0]
    again = _post(
        f"{anveo.url}/_mock/tenants/{anveo.userkey}/scenarios", json.dumps(plain).encode()
    )
    assert again[0] == 201  # a listed rule can be sent back as it is


# ---- JSON field types -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "said"),
    [
        (b'{"from": 1, "to": "12155550123", "message": "m"}', "got the number 1"),
        (b'{"from": "1", "to": 12155550123, "message": "m"}', "to must be a JSON string"),
        (b'{"from": "1", "to": "12155550123", "message": null}', "message must be a JSON string"),
        (b'{"from": 1e999, "to": "1", "message": "m"}', "from holds 1e999, which no field"),
        (b'{"from": ' + b"7" * 5000 + b', "to": "1", "message": "m"}', "a number of 5000 digits"),
    ],
)
def test_json_type_mistakes_are_named_without_python_internals(
    anveo: MockAnveo, raw: bytes, said: str
) -> None:
    status, doc = _post(f"{anveo.url}/_mock/tenants/{anveo.userkey}/sms/inbound", raw)
    assert status == 400 and said in doc["error"], doc
    assert "sys." not in doc["error"] and "int_max_str_digits" not in doc["error"]
    assert doc["field"] in ("from", "to", "message")


@given(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False)))
def test_a_non_string_sender_is_a_json_type_error(value: object) -> None:
    with pytest.raises(SettingError, match="from must be a JSON string") as caught:
        outbound.sms_sender(value)
    assert caught.value.field == "from"


# ---- inbound SMS senders --------------------------------------------------------------------
@given(st.from_regex(r"\+?[0-9]{1,20}", fullmatch=True))
def test_a_phone_number_sender_is_stored_as_digits(sender: str) -> None:
    assert outbound.sms_sender(sender) == sender.removeprefix("+")


@given(st.from_regex(r"[A-Za-z][A-Za-z0-9]{0,10}", fullmatch=True))
def test_an_alphanumeric_sender_is_kept_as_it_is(sender: str) -> None:
    assert outbound.sms_sender(sender) == sender


@pytest.mark.parametrize("sender", ["TwelveLetter", "Pay\nPal", "+PayPal", "", " PayPal", "PäyPal"])
def test_a_sender_that_is_neither_is_refused(sender: str) -> None:
    with pytest.raises(SettingError, match=r"alphanumeric sender|phone number"):
        outbound.sms_sender(sender)


@pytest.mark.parametrize(
    ("sender", "shown"), [("+4915112345678", "4915112345678"), ("PayPal", "PayPal")]
)
def test_e164_and_alphanumeric_senders_are_forwarded(
    anveo: MockAnveo, sender: str, shown: str
) -> None:
    anveo.set_account(numbers=[{"number": NUMBER, "sms_url": anveo.sink_url + "?f=$[from]$"}])
    forward = anveo.sms_inbound(sender, "+" + NUMBER, "hello")
    assert forward is not None and forward.delivered
    assert forward.fields["from"] == shown
    assert anveo.sink()[0]["query"] == {"f": shown}


# ---- "sink" wherever a notification URL is set -----------------------------------------------
def test_sink_is_the_tenants_own_sink_everywhere(anveo: MockAnveo, server_url: str) -> None:
    anveo.set_account(notification_url="sink")
    assert anveo.tenant()["notification_url"] == anveo.sink_url
    anveo.reset()  # the tenant as created: no URL; a created "sink" survives a reset
    assert anveo.tenant()["notification_url"] is None
    status, created = _post(server_url + "/_mock/tenants", b'{"notification_url": "sink"}')
    assert status == 201
    assert created["notification_url"] == f"{server_url}/_mock/sink/{created['userkey']}"
    with MockAnveo.remote(server_url, notification_url="sink") as other:
        other.reset()
        assert other.tenant()["notification_url"] == other.sink_url
        pair = [("PHONENUMBER", NUMBER), ("DESTPHONENUMBER", "12155550124")]
        urllib.request.urlopen(other.api_url, xml_request("DIAL.CONNECT", pair, other.userkey))
        other.advance(120)
        assert other.notifications("CALL").last.delivered
        assert other.sink()[0]["form"]["NOTIFICATIONTYPE"] == "CALL"


def test_sink_in_the_accounts_file_shows_the_url_to_use(tmp_path: Path) -> None:
    path = tmp_path / "accounts.toml"
    path.write_text('[[account]]\nuserkey = "k"\nnotification_url = "sink"\n', encoding="utf-8")
    with pytest.raises(ValueError, match="/_mock/sink/USERKEY"):
        load_accounts(path)


def test_sink_as_an_sms_url_says_to_give_the_sinks_url_with_a_query() -> None:
    with pytest.raises(SettingError) as refused:
        outbound.check_template("sink", "numbers[0].sms_url")
    assert refused.value.field == "numbers[0].sms_url"
    assert "notification_url only" in str(refused.value) and "/_mock/sink/NAME?" in str(
        refused.value
    )
