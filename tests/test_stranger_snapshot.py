"""A snapshot PUT refuses keys the format does not have and money that does not add up,
naming the field's path, and changes nothing (what a stranger found after bug 4)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from mock_anveo.errors import SettingError
from mock_anveo.http.app import make_app
from mock_anveo.sim.snapshot import restore, snapshot

from .test_snapshot_validation import rich_world

Doc = dict[str, Any]


def _call(doc: Doc, phase: str) -> Doc:
    return next(c for c in doc["tenants"][0]["calls"] if c["phase"] == phase and not c["test"])


def _tenant(doc: Doc) -> Doc:
    return doc["tenants"][0]


def _charged(doc: Doc) -> Doc:
    """An ended call charged 0.02 for no minute talked."""
    call = _call(doc, "ended")
    call["charge"] = "0.02"
    return call


MUTATIONS: list[tuple[str, Callable[[Doc], object], str]] = [
    ("root key", lambda d: d.update(tenantz=[]), "tenantz"),
    ("tenant key", lambda d: _tenant(d).update(balance="5"), "tenants[0].balance"),
    ("clock key", lambda d: _tenant(d)["clock"].update(speed=2), "tenants[0].clock.speed"),
    ("call key", lambda d: _call(d, "ended").update(charged="1"), ".charged"),
    ("plan key", lambda d: _call(d, "scheduled")["plan"][0].update(x=1), ".plan[0].x"),
    ("journal key", lambda d: _tenant(d)["journal"].update(max=3), "tenants[0].journal.max"),
    ("entry key", lambda d: _tenant(d)["journal"]["entries"][0].update(x=1), "entries[0].x"),
    ("charge", _charged, ".charge"),
    (
        "reserved beyond the balance",
        lambda d: _call(d, "ringing-second").update(reserved="1000"),
        "tenants[0].calls",
    ),
    (
        "reserved at rate 0",
        lambda d: _call(d, "ringing-second").update(rate="0"),
        ".reserved",
    ),
    ("balance", lambda d: _tenant(d)["account"].update(balance="50"), "account.balance"),
    ("total_charged", lambda d: _tenant(d).update(total_charged="0"), "total_charged"),
]


@pytest.mark.parametrize(("name", "mutate", "field"), MUTATIONS, ids=[m[0] for m in MUTATIONS])
def test_an_inconsistent_snapshot_is_refused_naming_the_field(
    name: str, mutate: Callable[[Doc], object], field: str
) -> None:
    world = rich_world()
    doc = snapshot(world)
    before = copy.deepcopy(doc)
    mutate(doc)
    with pytest.raises(SettingError) as refused:
        restore(world, doc)
    assert refused.value.field is not None and refused.value.field.endswith(field), (
        refused.value.field,
        refused.value.message,
    )
    assert snapshot(world) == before  # nothing changed


async def test_the_put_answers_400_naming_the_path() -> None:
    world = rich_world()
    doc = snapshot(world)
    _tenant(doc)["clock"]["speed"] = 2
    async with TestClient(TestServer(make_app(world))) as client:
        response = await client.put("/_mock/snapshot", json=doc)
        assert response.status == 400
        assert (await response.json())["field"] == "tenants[0].clock.speed"
