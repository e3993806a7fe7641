"""The floor: a bare aiohttp handler returning fixed bytes, served like mock-anveo is.

Same aiohttp version, same ``AppRunner`` + ``TCPSite`` set-up, no access log, and the reply is
byte-for-byte the size of a DIAL.CONNECT success envelope. It does not read the body: nothing
an aiohttp handler does can be cheaper, so this is the ceiling any aiohttp server reaches.

``--variant`` adds one piece of what mock-anveo's doors do (a middleware, reading the body,
reading it under ``asyncio.timeout``) to price it alone.

Run: ``python -m bench floor [--port 0] [--url-file F] [--variant plain]``;
SIGTERM or SIGINT stops it.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from pathlib import Path
from typing import Any

from aiohttp import web

REPLY = (
    b'<?xml version="1.0" standalone="no" ?>\n<RESPONSE>\n<RESULT>SUCCESS</RESULT>\n'
    b'<VALUE NAME="REQUESTID">4885b6093ecc4d4cb25a5425da8a53edb6bde7cb</VALUE>\n'
    b"</RESPONSE>\n"
)


async def fixed(_request: web.Request) -> web.Response:
    """Every path, every method: the same bytes."""
    return web.Response(body=REPLY, content_type="application/xml", charset="utf-8")


async def read_then_fixed(request: web.Request) -> web.Response:
    """What-if: also read the body."""
    await request.read()
    return web.Response(body=REPLY, content_type="application/xml", charset="utf-8")


async def read_with_timeout_then_fixed(request: web.Request) -> web.Response:
    """What-if: read the body inside ``asyncio.timeout`` (as mock-anveo's doors do)."""
    async with asyncio.timeout(10.0):
        await request.read()
    return web.Response(body=REPLY, content_type="application/xml", charset="utf-8")


@web.middleware
async def passthrough(request: web.Request, handler: Any) -> web.StreamResponse:
    """What-if: one app-wide middleware that only checks the path (as control's does)."""
    if not request.path.startswith("/_mock/"):
        return await handler(request)
    return await handler(request)


#: --variant: the plain floor, or the floor plus one piece of what mock-anveo's doors do.
VARIANTS = {
    "plain": (fixed, False),
    "middleware": (fixed, True),
    "read": (read_then_fixed, False),
    "read-timeout": (read_with_timeout_then_fixed, False),
    "all": (read_with_timeout_then_fixed, True),
}


def make_app(variant: str = "plain") -> web.Application:
    """One catch-all route (plus the variant's extras)."""
    handler, middleware = VARIANTS[variant]
    app = web.Application(middlewares=[passthrough] if middleware else [])
    app.router.add_route("*", "/{tail:.*}", handler)
    return app


async def serve(host: str, port: int, url_file: Path | None, variant: str = "plain") -> None:
    """Listen until a signal arrives."""
    runner = web.AppRunner(make_app(variant), handle_signals=False, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port, reuse_address=True)
    await site.start()
    server = site._server  # aiohttp exposes the bound port only here
    assert isinstance(server, asyncio.base_events.Server)
    bound = server.sockets[0].getsockname()
    url = f"http://{bound[0]}:{bound[1]}"
    if url_file is not None:
        url_file.write_text(url + "\n", encoding="utf-8")
    print(f"floor listening on {url}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await runner.cleanup()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench floor", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--url-file", type=Path)
    parser.add_argument("--variant", choices=sorted(VARIANTS), default="plain")
    args = parser.parse_args(argv)
    asyncio.run(serve(args.host, args.port, args.url_file, args.variant))
