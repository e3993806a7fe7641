"""Accounts from TOML, signatures and caller IDs, as the contract describes them."""

from __future__ import annotations

import hashlib
import hmac
from decimal import Decimal
from pathlib import Path

import pytest

from mock_anveo.sim.accounts import load_accounts
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
        return Reply(pipeline.handle(world, "v2", b"", query=v2_query(action, params, userkey,
                                                                     key_name="USERKEY")).body)
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
    for text, words in [('[[account]]\nuserkey = "a"\n[[account]]\nuserkey = "a"\n', "twice"),
                        ("nothing = 1\n", "no [[account]]"), ("[[account\n", "cannot read"),
                        ('[[account]]\nuserkey = "a"\ncallflows = "x"\n', "callflows")]:
        path = tmp_path / "c.toml"
        path.write_text(text)
        with pytest.raises(ValueError, match=words.replace("[", r"\[")):
            load_accounts(path)
