"""The memo of accepted requests in ``service``: invisible to clients, bounded, never stale."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mock_anveo.sim.accounts import Account
from mock_anveo.sim.world import World
from mock_anveo.testing import strategies
from mock_anveo.wire import actions, codec, pipeline
from mock_anveo.wire.pipeline import Exchange

from .helpers import KEY, Reply, xml_request

STATUS = xml_request("DIAL.GETSTATUS", [("REQUESTID", "ab" * 20)])
BALANCE = xml_request("ACCOUNT.GETBALANCE", [])


@pytest.fixture(autouse=True)
def empty_memo() -> Iterator[None]:
    pipeline.forget_accepted()
    yield
    pipeline.forget_accepted()


def count_parses(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    seen: list[bytes] = []
    real = codec.parse_xml

    def counting(body: bytes, door: str = "v3") -> codec.ActionRequest:
        seen.append(body)
        return real(body, door)

    monkeypatch.setattr(codec, "parse_xml", counting)
    return seen


def outcome(exchange: Exchange) -> tuple[object, ...]:
    error = exchange.error
    return (error.code if error else None, error.message if error else None, exchange.request,
            exchange.params)


def test_an_identical_accepted_body_is_parsed_once_and_still_dials_a_new_call(
        monkeypatch: pytest.MonkeyPatch) -> None:
    parses = count_parses(monkeypatch)
    world = World()
    body = xml_request(
        "DIAL.CONNECT", [("PHONENUMBER", "12157010680"), ("DESTPHONENUMBER", "12157010681")])
    first = Reply(pipeline.handle(world, "v3", body).body)
    second = Reply(pipeline.handle(world, "v3", body).body)
    assert len(parses) == 1
    assert first.requestid != second.requestid
    assert len(world.get(KEY).calls) == 2  # both were dialled
    # Both exchanges are journaled with the (shared, frozen) parsed request.
    journaled = [e for e in world.get(KEY).journal if e[1] == "exchange"]
    assert [e[6].action for e in journaled] == ["DIAL.CONNECT", "DIAL.CONNECT"]


def test_invalid_requests_are_never_remembered(monkeypatch: pytest.MonkeyPatch) -> None:
    parses = count_parses(monkeypatch)
    world = World()
    bad = xml_request("DIAL.CONNECT", [("PHONENUMBER", "12"), ("DESTPHONENUMBER", "1215701")])
    answers = [pipeline.handle(world, "v3", bad) for _ in range(3)]
    assert len(parses) == 3
    assert {a.error.message for a in answers if a.error} == {
        answers[0].error.message if answers[0].error else ""}
    assert all(a.error and a.error.code.value == "INVALID_PARAMETER" for a in answers)


def test_the_tenant_and_the_signature_are_checked_on_every_hit() -> None:
    world = World()
    assert pipeline.handle(world, "v3", BALANCE).error is None
    world.remove(KEY)
    gone = pipeline.handle(world, "v3", BALANCE)
    assert gone.error is not None and gone.error.code.value == "UNKNOWN_USERKEY"
    strict = Account(userkey=KEY, require_signature=True)
    world.add(strict)
    unsigned = pipeline.handle(world, "v3", BALANCE)
    assert unsigned.error is not None and unsigned.error.code.value == "SIGNATURE_REQUIRED"
    world.add(Account(userkey=KEY))
    assert pipeline.handle(world, "v3", BALANCE).error is None


def test_replacing_an_action_in_the_registry_bypasses_what_was_remembered(
        monkeypatch: pytest.MonkeyPatch) -> None:
    world = World()
    assert Reply(pipeline.handle(world, "v3", BALANCE).body).result == "100.00"
    spec = actions.REGISTRY["ACCOUNT.GETBALANCE"]
    monkeypatch.setitem(actions.REGISTRY, spec.name, dataclasses.replace(
        spec, handler=lambda *_: actions.Reply("42.00")))
    assert Reply(pipeline.handle(world, "v3", BALANCE).body).result == "42.00"


def test_the_memo_is_bounded_first_in_first_out(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pipeline, "MEMO_LIMIT", 8)
    world = World()
    bodies = [xml_request("DIAL.GETSTATUS", [("REQUESTID", f"{i:040x}")]) for i in range(20)]
    for body in bodies:
        pipeline.handle(world, "v3", body)
        assert len(pipeline._accepted) <= 8
    assert [key[1] for key in pipeline._accepted] == bodies[-8:]


def test_long_bodies_are_not_remembered() -> None:
    world = World()
    memo = "x" * pipeline.MEMO_BODY_MAX
    body = xml_request("DIAL.CONNECT", [("PHONENUMBER", "12157010680"),
                                        ("DESTPHONENUMBER", "12157010681"), ("MEMO", memo[:1024])])
    padded = body.replace(b"</REQUEST>", b" " * pipeline.MEMO_BODY_MAX + b"</REQUEST>")
    assert pipeline.handle(world, "v3", padded).error is None
    assert not pipeline._accepted


def test_the_same_text_through_another_door_is_another_request() -> None:
    world = World()
    query = f"userkey={KEY}&action=ACCOUNT.GETBALANCE"
    v2 = pipeline.handle(world, "v2", query.encode(), query=query)
    xml = pipeline.handle(world, "v3", BALANCE)
    assert v2.request is not None and v2.request.door == "v2"
    assert xml.request is not None and xml.request.door == "v3"


payloads = st.one_of(
    strategies.xml_requests(),
    strategies.near_misses(door="v3").map(lambda miss: miss.xml or b""),
    st.sampled_from([STATUS, BALANCE]),
)


@settings(max_examples=60)
@given(st.lists(payloads, min_size=1, max_size=6))
def test_the_memo_never_changes_a_verdict(bodies: list[bytes]) -> None:
    """Every body, sent twice with the memo warm, gets the verdict of a cold pass."""
    warm, cold = World(), World()
    memo = pipeline._accepted
    for body in bodies * 2:
        remembered = pipeline.handle(warm, "v3", body)
        kept = dict(memo)
        memo.clear()
        fresh = pipeline.handle(cold, "v3", body)
        memo.clear()
        memo.update(kept)
        assert outcome(remembered) == outcome(fresh)
