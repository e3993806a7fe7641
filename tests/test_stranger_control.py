"""The control API's front door and shape: /_mock and /_mock/ answer a JSON index (the URL the
start banner prints), and every JSON reply, refusals included, ends with a newline."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient, TestServer

from mock_anveo.http.app import make_app
from mock_anveo.http.openapi import document
from mock_anveo.sim.world import World

from .helpers import KEY

T = f"/_mock/tenants/{KEY}"


@pytest.fixture
async def client() -> AsyncIterator[TestClient]:
    async with TestClient(TestServer(make_app(World()))) as client:
        yield client


@pytest.mark.parametrize("path", ["/_mock", "/_mock/"])
async def test_the_control_prefix_answers_an_index(client: TestClient, path: str) -> None:
    response = await client.get(path, allow_redirects=False)
    assert response.status == 200 and response.content_type == "application/json"
    links = (await response.json())["links"]
    for name in ("openapi", "health", "tenants"):
        assert (await client.get(links[name])).status == 200
    assert "/_mock/" in document()["paths"]


async def test_another_method_on_the_prefix_is_a_json_405(client: TestClient) -> None:
    response = await client.post("/_mock")
    assert response.status == 405 and response.content_type == "application/json"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", T + "/clock/advance", {"seconds": 1}),
        ("GET", "/_mock/tenants", None),
        ("GET", "/_mock/health", None),
        ("GET", T + "/journal", None),
        ("POST", T + "/clock/advance", {"seconds": "x"}),  # a refusal
        ("GET", "/_mock/nothing", None),  # a 404
    ],
)
async def test_every_json_reply_ends_with_a_newline(
    client: TestClient, method: str, path: str, body: object
) -> None:
    response = await client.request(method, path, json=body)
    text = await response.text()
    assert text.endswith("}\n") or text.endswith("]\n"), text
