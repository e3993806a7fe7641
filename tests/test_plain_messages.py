"""Messages read as the document was written (true, null, 1000, "a number of seconds"), and
combinations that cannot mean anything are refused instead of half-honoured."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import given
from hypothesis import strategies as st

from mock_anveo import cli
from mock_anveo.errors import SettingError
from mock_anveo.http.app import make_app
from mock_anveo.sim.accounts import money
from mock_anveo.sim.faults import fault_from_dict
from mock_anveo.sim.scenarios import rule_from_dict
from mock_anveo.sim.world import World

from .helpers import KEY

T = f"/_mock/tenants/{KEY}"


def _refusal(build: Any, *args: Any) -> SettingError:
    with pytest.raises(SettingError) as caught:
        build(*args)
    return caught.value


# ---- wording a JSON user reads --------------------------------------------------------------
@pytest.mark.parametrize(
    ("build", "doc", "shown"),
    [
        (fault_from_dict, {"kind": "latency", "seconds": True}, "got true"),
        (fault_from_dict, {"kind": "latency", "nth": False}, "got false"),
        (fault_from_dict, {"kind": None}, "got null"),
        (fault_from_dict, {"kind": "html", "when": True}, "got true"),
        (rule_from_dict, {"match": "*", "leg": False}, "got false"),
        (rule_from_dict, {"match": None}, "got null"),
        (rule_from_dict, {"match": "*", "outcome": None}, "got null"),
    ],
)
def test_refused_json_values_are_shown_in_json_spelling(
    build: Any, doc: dict[str, Any], shown: str
) -> None:
    message = _refusal(build, doc, "r1").message
    assert shown in message, message
    assert not any(word in message for word in ("True", "False", "None")), message


def test_a_money_refusal_says_true_not_true_capitalised() -> None:
    message = _refusal(money, True, "balance").message
    assert message.endswith("got true"), message


def test_a_unit_reads_a_number_of_seconds() -> None:
    message = _refusal(fault_from_dict, {"kind": "latency", "seconds": -1}, "f1").message
    assert "must be a number of seconds from 0 to" in message, message


@given(st.integers(0, 10**6), st.integers(0, 3))
def test_money_in_exponent_form_is_kept_as_its_plain_value(mantissa: int, exponent: int) -> None:
    written = f"{mantissa}e{exponent}"
    amount = money(written, "balance")
    assert amount == Decimal(written)
    assert "E" not in str(amount) and str(amount) == str(mantissa * 10**exponent)


async def test_a_tenant_created_with_1e3_shows_1000() -> None:
    async with TestClient(TestServer(make_app(World()))) as client:
        reply = await client.post("/_mock/tenants", json={"balance": "1e3"})
        assert reply.status == 201
        assert (await reply.json())["balance"] == "1000"


# ---- combinations that mean nothing ---------------------------------------------------------
def test_a_fault_on_the_nth_request_with_a_probability_is_refused() -> None:
    error = _refusal(fault_from_dict, {"kind": "html", "nth": 3, "probability": 0.5}, "f1")
    assert error.field == "probability" and "not both" in error.message


def test_a_probability_fault_still_round_trips_with_its_default_nth() -> None:
    rule = fault_from_dict({"kind": "html", "probability": 0.5}, "f1")
    assert fault_from_dict(rule.to_dict(), "f1") == rule  # a snapshot writes nth: 1


def test_a_manual_clock_refuses_a_speed(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["serve", "--port", "0", "--clock", "manual", "--speed", "60"]) == 2
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if "error:" in line]
    assert len(lines) == 1 and "argument --speed:" in lines[0] and "--clock real" in lines[0]
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("flag", "value", "span"),
    [
        ("--speed", "2000000", "from 0 to 1000000,"),
        ("--read-timeout", "0", "more than 0 and at most 3600,"),
    ],
)
def test_flag_bounds_are_written_as_people_write_numbers(
    capsys: pytest.CaptureFixture[str], flag: str, value: str, span: str
) -> None:
    assert cli.main(["serve", "--port", "0", flag, value]) == 2
    err = capsys.readouterr().err
    assert f"argument {flag}: must be a number {span}" in err and "e+" not in err, err


@pytest.mark.parametrize(
    ("argv", "rate"),
    [([], 1.0), (["--speed", "60"], 60.0), (["--clock", "manual"], 0.0), (["--speed", "0"], 0.0)],
)
def test_speed_defaults_to_one_and_a_manual_clock_to_frozen(argv: list[str], rate: float) -> None:
    args = cli.build_parser().parse_args(["serve", *argv])
    assert cli._settings(args).clock_rate == rate


@pytest.fixture
async def client() -> AsyncIterator[TestClient]:
    async with TestClient(TestServer(make_app(World()))) as client:
        yield client


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", T + "/reset"),
        ("POST", "/_mock/reset"),
        ("DELETE", T + "/journal"),
        ("DELETE", T + "/scenarios"),
    ],
)
async def test_a_request_that_reads_no_body_refuses_one_and_changes_nothing(
    client: TestClient, method: str, path: str
) -> None:
    await client.patch(T, json={"balance": "5"})
    await client.post(T + "/scenarios", json={"match": "1212*", "outcome": "busy"})
    reply = await client.request(method, path, json={"balance": "1"})
    assert reply.status == 400
    doc = await reply.json()
    assert f"{method} {path} takes no body" in doc["error"]
    tenant = await (await client.get(T)).json()
    assert tenant["balance"] == "5" and tenant["scenarios"] == 1  # not reset, nothing removed


@pytest.mark.parametrize("body", [None, b"", b"{}", b" {} \n"])
async def test_a_reset_without_a_body_or_with_an_empty_object_still_works(
    client: TestClient, body: bytes | None
) -> None:
    await client.patch(T, json={"balance": "5"})
    reply = await client.post(T + "/reset", data=body)
    assert reply.status == 200, await reply.text()
    assert (await (await client.get(T)).json())["balance"] != "5"


async def test_an_unknown_path_with_a_body_is_still_a_404(client: TestClient) -> None:
    reply = await client.post("/_mock/nowhere", json={"x": 1})
    assert reply.status == 404
