"""The memo of accepted requests of a ``Pipeline``: invisible to clients, bounded, never stale,
and never shared between pipelines."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mock_anveo.sim.accounts import Account
from mock_anveo.sim.world import World
from mock_anveo.testing import strategies
from mock_anveo.wire import actions, pipeline
from mock_anveo.wire.pipeline import Pipeline
from mock_anveo.wire.requests import ActionRequest

from .helpers import KEY, Reply, outcome, xml_request

STATUS = xml_request("DIAL.GETSTATUS", [("REQUESTID", "ab" * 20)])
BALANCE = xml_request("ACCOUNT.GETBALANCE", [])


def count_parses(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """Bodies the pipeline reads (every body goes to the fast reader first)."""
    seen: list[bytes] = []
    real = pipeline.parse_plain

    def counting(body: bytes) -> ActionRequest | None:
        seen.append(body)
        return real(body)

    monkeypatch.setattr(pipeline, "parse_plain", counting)
    return seen


def test_an_identical_accepted_body_is_parsed_twice_at_most_and_still_dials_a_new_call(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    parses = count_parses(monkeypatch)
    world = World()
    pipe = Pipeline(world)
    body = xml_request(
        "DIAL.CONNECT", [("PHONENUMBER", "12157010680"), ("DESTPHONENUMBER", "12157010681")]
    )
    replies = [Reply(pipe.handle("v3", body).body) for _ in range(4)]
    assert len(parses) == 2  # kept from its second sighting on
    assert len({reply.requestid for reply in replies}) == 4
    assert len(world.get(KEY).calls) == 4  # every one was dialled
    # Every exchange is journaled with the (shared, frozen) parsed request.
    journaled = [e for e in world.get(KEY).journal if e[1] == "exchange"]
    assert [e[6].action for e in journaled] == ["DIAL.CONNECT"] * 4


def test_a_body_sent_once_is_not_kept() -> None:
    """A suite that dials different numbers every time would fill the memo with bodies that
    never come again: only a body's second sighting is kept."""
    pipe = Pipeline(World())
    assert pipe.handle("v3", BALANCE).error is None
    assert not pipe.memo
    assert pipe.handle("v3", BALANCE).error is None
    assert list(pipe.memo) == [("v3", BALANCE)]


def test_invalid_requests_are_never_remembered(monkeypatch: pytest.MonkeyPatch) -> None:
    parses = count_parses(monkeypatch)
    world = World()
    pipe = Pipeline(world)
    bad = xml_request("DIAL.CONNECT", [("PHONENUMBER", "12"), ("DESTPHONENUMBER", "1215701")])
    answers = [pipe.handle("v3", bad) for _ in range(3)]
    assert len(parses) == 3
    assert {a.error.message for a in answers if a.error} == {
        answers[0].error.message if answers[0].error else ""
    }
    assert all(a.error and a.error.code.value == "INVALID_PARAMETER" for a in answers)


def test_the_tenant_and_the_signature_are_checked_on_every_hit() -> None:
    world = World()
    pipe = Pipeline(world)
    assert pipe.handle("v3", BALANCE).error is None
    world.remove(KEY)
    gone = pipe.handle("v3", BALANCE)
    assert gone.error is not None and gone.error.code.value == "UNKNOWN_USERKEY"
    strict = Account(userkey=KEY, require_signature=True)
    world.add(strict)
    unsigned = pipe.handle("v3", BALANCE)
    assert unsigned.error is not None and unsigned.error.code.value == "SIGNATURE_REQUIRED"
    world.add(Account(userkey=KEY))
    assert pipe.handle("v3", BALANCE).error is None


def test_replacing_an_action_in_the_registry_bypasses_what_was_remembered(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    world = World()
    pipe = Pipeline(world)
    assert Reply(pipe.handle("v3", BALANCE).body).result == "100.00"
    spec = actions.REGISTRY["ACCOUNT.GETBALANCE"]
    monkeypatch.setitem(
        actions.REGISTRY,
        spec.name,
        dataclasses.replace(spec, handler=lambda *_: actions.Reply("42.00")),
    )
    assert Reply(pipe.handle("v3", BALANCE).body).result == "42.00"


def test_the_memo_is_bounded_first_in_first_out() -> None:
    world = World()
    pipe = Pipeline(world, memo_limit=8)
    bodies = [xml_request("DIAL.GETSTATUS", [("REQUESTID", f"{i:040x}")]) for i in range(20)]
    for body in bodies:
        pipe.handle("v3", body)
        pipe.handle("v3", body)
        assert len(pipe.memo) <= 8
    assert [key[1] for key in pipe.memo] == bodies[-8:]


def test_each_pipeline_has_its_own_memo() -> None:
    """Two servers in one process share nothing: what one accepted, the other parses."""
    one, two = Pipeline(World()), Pipeline(World())
    assert one.handle("v3", BALANCE).error is None
    assert one.handle("v3", BALANCE).error is None
    assert list(one.memo) == [("v3", BALANCE)]
    assert not two.memo
    assert pipeline.handle(World(), "v3", BALANCE).error is None  # one-shot: no memo kept
    assert list(one.memo) == [("v3", BALANCE)] and not two.memo


def test_long_bodies_are_not_remembered() -> None:
    world = World()
    pipe = Pipeline(world)
    memo = "x" * pipeline.MEMO_BODY_MAX
    body = xml_request(
        "DIAL.CONNECT",
        [("PHONENUMBER", "12157010680"), ("DESTPHONENUMBER", "12157010681"), ("MEMO", memo[:1024])],
    )
    padded = body.replace(b"</REQUEST>", b" " * pipeline.MEMO_BODY_MAX + b"</REQUEST>")
    assert pipe.handle("v3", padded).error is None
    assert pipe.handle("v3", padded).error is None
    assert not pipe.memo


def test_the_same_text_through_another_door_is_another_request() -> None:
    world = World()
    pipe = Pipeline(world)
    query = f"userkey={KEY}&action=ACCOUNT.GETBALANCE"
    for _ in range(2):
        v2 = pipe.handle("v2", query.encode(), query=query)
        xml = pipe.handle("v3", BALANCE)
    assert (v2.door, xml.door) == ("v2", "v3")
    assert set(pipe.memo) == {("v2", query), ("v3", BALANCE)}


payloads = st.one_of(
    strategies.xml_requests(),
    strategies.near_misses(door="v3").map(lambda miss: miss.xml or b""),
    st.sampled_from([STATUS, BALANCE]),
)


@settings(max_examples=60)
@given(st.lists(payloads, min_size=1, max_size=6))
def test_the_memo_never_changes_a_verdict(bodies: list[bytes]) -> None:
    """Every body, sent three times through a pipeline whose memo is warm, gets the verdict
    of a pipeline without one."""
    warm = Pipeline(World())
    cold = Pipeline(World(), memo_limit=0)
    for sending in range(3):
        for body in bodies:
            remembered = warm.handle("v3", body)
            fresh = cold.handle("v3", body)
            assert outcome(remembered, body=False) == outcome(fresh, body=False)
            # Every request that passed parsing and validation twice is remembered, so the
            # third sending of it took the memo's path; the cold pipeline never keeps one.
            if sending and remembered.spec is not None and len(body) <= warm.memo_body_max:
                assert ("v3", body) in warm.memo
            assert not cold.memo
