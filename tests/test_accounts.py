"""Accounts from TOML, signatures and caller IDs, as the contract describes them."""

from __future__ import annotations

import hashlib
import hmac
from decimal import Decimal
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from mock_anveo.errors import SettingError
from mock_anveo.http.app import make_app
from mock_anveo.sim.accounts import Account, apply_fields, load_accounts
from mock_anveo.sim.world import Settings, World
from mock_anveo.wire import pipeline

from .helpers import Reply, v2_query, xml_request

ROOT = Path(__file__).resolve().parent.parent
STRICT = "0123456789abcdef0123456789abcdef01234567"
CONNECT = [("PHONENUMBER", "12157010680"), ("DESTPHONENUMBER", "12125551234")]


@pytest.fixture
def world() -> World:
    return World(Settings(accounts=load_accounts(ROOT / "examples" / "accounts.toml")))


def send(world: World, params, userkey=STRICT, door="v3", action="DIAL.CONNECT") -> Reply:
    if door == "v2":
        return Reply(
            pipeline.handle(
                world, "v2", b"", query=v2_query(action, params, userkey, key_name="USERKEY")
            ).body
        )
    return Reply(pipeline.handle(world, door, xml_request(action, params, userkey)).body)


def signature(phrase: str, email: str) -> str:
    return hmac.new(phrase.encode(), email.encode(), hashlib.sha1).hexdigest()


def test_example_config_loads_every_documented_field(world):
    strict = world.get(STRICT).account
    assert strict.require_signature and strict.secure_phrase == "s3cret phrase"
    assert strict.balance == Decimal("0.50") and strict.rate_per_minute == Decimal("0.0095")
    assert strict.verified_callerids == {"12157010680", "442071234567"}


@pytest.mark.parametrize("door", ["v3", "apicall", "v2"])
def test_signature_required_checked_and_accepted(world, door):
    missing = send(world, CONNECT, door=door)
    assert "requires SIGNATURE" in missing.error
    wrong = send(world, [*CONNECT, ("SIGNATURE", "0" * 40)], door=door)
    assert "SIGNATURE does not match" in wrong.error
    good = signature("s3cret phrase", "billing@example.com")
    assert send(world, [*CONNECT, ("SIGNATURE", good.upper())], door=door).ok


def test_signature_is_ignored_where_the_account_has_no_phrase(world):
    key = "df141891e2e883904b0b294dc5bq79c1c1c13f6d"
    assert send(world, [*CONNECT, ("SIGNATURE", "a" * 40)], userkey=key).ok


def test_callerid_must_be_verified(world):
    key = "df141891e2e883904b0b294dc5bq79c1c1c13f6d"
    reply = send(world, [*CONNECT, ("CALLERID", "442071234567")], userkey=key)
    assert reply.error == 'CALLERID "442071234567" is not a verified caller ID of this account'
    sig = signature("s3cret phrase", "billing@example.com")
    assert send(world, [*CONNECT, ("CALLERID", "442071234567"), ("SIGNATURE", sig)]).ok


def test_unknown_userkey_and_bad_config(tmp_path):
    reply = send(World(), CONNECT, userkey="nobody")
    assert reply.error == 'unknown USERKEY "nobody": no account has this key'
    for text, words in [
        ('[[account]]\nuserkey = "a"\n[[account]]\nuserkey = "a"\n', "twice"),
        ("nothing = 1\n", "no [[account]]"),
        ("[[account\n", "cannot read"),
        ('[[account]]\nuserkey = "a"\ncallflows = "x"\n', "callflows"),
    ]:
        path = tmp_path / "c.toml"
        path.write_text(text)
        with pytest.raises(ValueError, match=words.replace("[", r"\[")):
            load_accounts(path)


# ---- bug 11: require_signature without a secure phrase let any SIGNATURE through --------------
def test_a_toml_account_requiring_signatures_needs_a_secure_phrase(tmp_path):
    path = tmp_path / "c.toml"
    for phrase in ("", 'secure_phrase = ""\n'):
        path.write_text(f'[[account]]\nuserkey = "a"\nrequire_signature = true\n{phrase}')
        with pytest.raises(ValueError, match=r"account #1: require_signature .*set secure_phrase"):
            load_accounts(path)
    path.write_text('[[account]]\nuserkey = "a"\nrequire_signature = true\nsecure_phrase = "p"\n')
    assert load_accounts(path)[0].require_signature


@pytest.fixture
async def client():
    async with TestClient(TestServer(make_app(World()))) as client:
        yield client


async def test_creating_a_signing_account_without_a_phrase_is_refused(client):
    response = await client.post(
        "/_mock/tenants", json={"userkey": "strict", "require_signature": True}
    )
    body = await response.json()
    assert response.status == 400 and body["field"] == "require_signature", body
    assert "set secure_phrase" in body["error"]
    assert (await client.get("/_mock/tenants/strict")).status == 404
    made = await client.post(
        "/_mock/tenants",
        json={"userkey": "strict", "secure_phrase": "p", "require_signature": True},
    )
    assert made.status == 201


async def test_patching_a_signing_account_out_of_its_phrase_is_refused(client):
    key = "df141891e2e883904b0b294dc5bq79c1c1c13f6d"
    refused = await client.patch(
        f"/_mock/tenants/{key}", json={"require_signature": True, "balance": "7"}
    )
    assert refused.status == 400 and "set secure_phrase" in (await refused.json())["error"]
    tenant = await (await client.get(f"/_mock/tenants/{key}")).json()
    assert not tenant["require_signature"] and tenant["balance"] == "100.00"  # nothing applied
    await client.patch(
        f"/_mock/tenants/{key}", json={"require_signature": True, "secure_phrase": "p"}
    )
    for phrase in (None, ""):
        refused = await client.patch(f"/_mock/tenants/{key}", json={"secure_phrase": phrase})
        body = await refused.json()
        assert refused.status == 400 and body["field"] == "secure_phrase", body
    # and the account still checks signatures: a made-up one is refused
    reply = Reply(
        await (
            await client.post(
                "/api/v3.asp",
                data=xml_request("DIAL.CONNECT", [*CONNECT, ("SIGNATURE", "a" * 40)], key),
            )
        ).read()
    )
    assert "SIGNATURE does not match" in reply.error


def test_account_fields_are_all_or_nothing():
    account = Account("k", balance=Decimal(1))
    with pytest.raises(SettingError, match="rate_per_minute"):
        apply_fields(account, {"balance": "5", "email": "x@y", "rate_per_minute": "-1"})
    assert (account.balance, account.email) == (Decimal(1), "user@example.com")


@pytest.mark.parametrize("field", ["email", "secure_phrase"])
def test_signing_strings_must_be_encodable(field):
    # A lone surrogate (JSON "\ud800") once reached the HMAC and raised UnicodeEncodeError.
    with pytest.raises(SettingError, match=field):
        apply_fields(Account("k"), {field: "a\ud800"})


@pytest.mark.parametrize(
    ("rate", "ok"),
    [
        ("1e-297", False),
        ("0.0000000000001", False),
        (1e-20, False),
        ("0.000000000001", True),
        ("0.0095", True),
        ("1.50000000000000000000", True),
    ],
)
def test_money_has_at_most_twelve_decimal_places(rate, ok):
    # A rate of 1e-297 mixed with 0.01 once left "reserved" at -4E-297 and a balance of
    # 99.96000000000000000000000000: Decimal's 28 digits cannot hold both scales exactly.
    account = Account("k")
    if ok:
        assert apply_fields(account, {"rate_per_minute": rate}).rate_per_minute == Decimal(
            str(rate)
        )
    else:
        with pytest.raises(SettingError, match="at most 12 decimal places"):
            apply_fields(account, {"rate_per_minute": rate})


def test_reserved_money_stays_exact_across_a_rate_change_mid_call():
    world = World()
    tenant = world.get("df141891e2e883904b0b294dc5bq79c1c1c13f6d")
    tenant.dial_connect("12157010680", "12125551234")
    tenant.advance(11)  # bridged: its money is reserved at 0.01 a minute
    apply_fields(tenant.account, {"rate_per_minute": "0.000000000007"})
    tenant.dial_connect("12157010680", "12125551234")
    tenant.advance(11)
    tenant.run_until_idle()
    assert tenant.committed == 0 and tenant.account.balance == Decimal("99.959999999972")
