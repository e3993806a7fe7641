"""Issue 12: deliveries never block the API doors. While an advance waits on a receiver that
hangs, DIAL.CONNECT keeps answering: counted over a window, not timed one by one."""

from __future__ import annotations

import asyncio
import time

import aiohttp
from aiohttp import web

from mock_anveo.http.base import ServerOptions
from mock_anveo.http.server import start
from mock_anveo.sim.world import World

from .notify_helpers import control, dial


async def test_a_hanging_receiver_does_not_block_the_doors() -> None:
    release = asyncio.Event()
    arrived = asyncio.Event()

    async def hang(request: web.Request) -> web.Response:
        arrived.set()
        await release.wait()
        return web.Response(text="late")

    app = web.Application()
    app.router.add_post("/hang", hang)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    hook = f"http://127.0.0.1:{runner.addresses[0][1]}/hang"
    server = await start(World(), ServerOptions(callback_timeout=30.0))
    try:
        async with aiohttp.ClientSession() as session:
            key = (
                await control(session, server.url, "POST", "/tenants", {"notification_url": hook})
            )["userkey"]
            await dial(session, server.url, key, PHONENUMBER="12155550100")  # ends after 2 s
            path = f"/tenants/{key}/clock/advance"
            advancing = asyncio.create_task(
                control(session, server.url, "POST", path, {"seconds": 2})
            )
            await asyncio.wait_for(arrived.wait(), 10)  # the attempt is in flight and hangs
            answered, deadline = 0, time.monotonic() + 1.0
            while time.monotonic() < deadline:
                await dial(session, server.url, key)
                answered += 1
            assert not advancing.done()  # the advance still waits on the receiver...
            assert answered >= 20  # ...while the door answered many requests meanwhile
            release.set()
            done = await asyncio.wait_for(advancing, 10)
            assert done["deliveries"] == 1
            (message,) = await control(session, server.url, "GET", f"/tenants/{key}/notifications")
            assert message["state"] == "delivered"
    finally:
        release.set()
        await server.stop()
        await runner.cleanup()
