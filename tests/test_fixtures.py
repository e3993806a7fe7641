"""Every fixture: pinned reply, schema-valid, and the same verdict offline and over HTTP."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest
import xmlschema
from aiohttp.test_utils import TestClient, TestServer

from mock_anveo import cli
from mock_anveo.http.app import make_app
from mock_anveo.sim.world import World

from .helpers import FIXTURES, Reply
from .regen_fixtures import reply_for

REQUESTS = sorted(FIXTURES.glob("*.request.xml"))
XMLSCHEMA = xmlschema.XMLSchema(str(FIXTURES.parent / "schemas" / "response.xsd"))


def _expected(path: Path) -> bytes:
    return path.with_name(path.name.replace(".request.xml", ".response.xml")).read_bytes()


def test_there_are_fixtures_of_both_verdicts():
    verdicts = {Reply(_expected(p)).ok for p in REQUESTS}
    assert len(REQUESTS) >= 15
    assert verdicts == {True, False}


@pytest.mark.parametrize("path", REQUESTS, ids=lambda p: p.name.split(".")[0])
def test_pinned_reply_is_what_a_fresh_server_says(path: Path):
    assert reply_for(path.read_bytes()) == _expected(path)


@pytest.mark.parametrize("path", REQUESTS, ids=lambda p: p.name.split(".")[0])
def test_reply_is_valid_for_both_schema_validators(path: Path):
    body = _expected(path)
    Reply(body)  # lxml
    XMLSCHEMA.validate(body.decode())  # xmlschema, independently


@pytest.mark.parametrize("path", REQUESTS, ids=lambda p: p.name.split(".")[0])
async def test_checker_and_server_agree(path: Path, monkeypatch, capsys):
    async with TestClient(TestServer(make_app(World()))) as client:
        response = await client.post("/api/v3.asp", data=path.read_bytes())
        assert response.status == 200
        over_http = await response.read()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(path.read_bytes())))
    code = cli.main(["check", "-"])
    offline = capsys.readouterr().out.encode()
    assert offline == over_http
    assert code == (0 if Reply(over_http).ok else 1)


async def test_documentation_example_succeeds_byte_for_byte():
    body = (FIXTURES / "dial_connect_docs_example.request.xml").read_bytes()
    assert b"df141891e2e883904b0b294dc5bq79c1c1c13f6d" in body
    async with TestClient(TestServer(make_app())) as client:
        response = await client.post(
            "/api/v3.asp", data=body, headers={"Content-Type": "application/xml; charset=UTF-8"}
        )
        reply = Reply(await response.read())
    assert response.status == 200
    assert reply.result == "SUCCESS"
    assert len(reply.requestid) == 40
