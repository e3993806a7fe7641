"""The server every test here binds to with ``MockAnveo.remote``: one per module, in a thread
(aiohttp lives in this package's conftest, not the root one, which stays free of it)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mock_anveo.http.server import ThreadedServer


@pytest.fixture(scope="module")
def server_url() -> Iterator[str]:
    """The base URL of a server started for the module and stopped after its last test."""
    server = ThreadedServer().start()
    yield server.url
    server.stop()
