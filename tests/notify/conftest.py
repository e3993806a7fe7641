"""The server and client session every notification test here uses (aiohttp lives in this
package's conftest, not the root one, which stays free of it)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from mock_anveo.http.server import RunningServer, start
from mock_anveo.sim.world import World


@pytest.fixture
async def server() -> AsyncIterator[RunningServer]:
    """A server on a free loopback port in the test's loop, with the default world."""
    running = await start(World())
    yield running
    await running.stop()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """A client session for the control API, the doors and the receivers."""
    async with aiohttp.ClientSession() as s:
        yield s
