"""Stopping the server: in-flight requests finish, new ones are refused cleanly."""

from __future__ import annotations

import asyncio

import aiohttp

from mock_anveo.http.app import OPTIONS
from mock_anveo.http.server import start
from mock_anveo.sim.world import World

from .helpers import KEY, Reply, xml_request

CONNECT = [("PHONENUMBER", "12157010680"), ("DESTPHONENUMBER", "12125551234")]


async def test_in_flight_requests_finish_and_new_ones_are_refused():
    server = await start(World())
    async with aiohttp.ClientSession() as session:
        fault = await session.post(
            f"{server.url}/_mock/tenants/{KEY}/faults",
            json={"kind": "latency", "seconds": 30, "when": "after"},
        )
        assert fault.status == 201
        in_flight = asyncio.create_task(
            session.post(f"{server.url}/api/v3.asp", data=xml_request("DIAL.CONNECT", CONNECT))
        )
        while not server.world.get(KEY).calls:  # processed, now held by the latency fault
            await asyncio.sleep(0)
        server.app[OPTIONS].shutting_down = True  # the first step of stop()
        refused = await session.post(
            f"{server.url}/api/v3.asp", data=xml_request("ACCOUNT.GETBALANCE", [])
        )
        assert refused.status == 200
        assert Reply(await refused.read()).error == "the server is shutting down"
        await server.stop()  # ends the injected latency at once, lets the reply out
        finished = await asyncio.wait_for(in_flight, 5)
        assert finished.status == 200
        assert Reply(await finished.read()).result == "SUCCESS"
