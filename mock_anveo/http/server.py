"""Start and stop the server: in the running event loop, or in a background thread.

aiohttp's ``AppRunner`` + ``TCPSite`` on port 0 (as in aiohttp's ``fake_server`` example), so
tests never fight over ports. Shutdown refuses new API requests, then lets in-flight ones finish.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import threading
from collections.abc import Callable

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from ..sim.world import World
from .app import make_app
from .base import OPTIONS, WORLD, ServerOptions
from .console import one_line

LOOPBACK = "127.0.0.1"
#: Longest request line aiohttp parses (its default is 8190); longer queries than the v2 door's
#: own bound (body.QUERY_MAX) still get an Anveo envelope, up to this transport limit.
MAX_LINE = 32_768
#: aiohttp's header limits, above the envelope-answered ones in body.py (HEADERS_MAX and
#: HEADER_SIZE_MAX); past these aiohttp answers a plain 400 itself, naming the limit.
MAX_HEADERS = 256
MAX_FIELD = 16_384


def protocol_error_text(exc: HttpProcessingError) -> str:
    """aiohttp's description of a malformed request as one line: its parser writes the
    offending bytes and a caret under them on lines of their own, which a log line cannot
    hold (the caret means nothing once the bytes are joined and shortened)."""
    lines = [line for line in (exc.message or "").splitlines() if line.strip() != "^"]
    return one_line("\n".join(lines)) or type(exc).__name__


class _OneLineProtocolErrors(logging.Filter):
    """Malformed HTTP from a client is the client's problem: log one line, not a traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, HttpProcessingError):
            record.msg = "refused malformed HTTP request: %s"
            record.args = (protocol_error_text(exc),)
            record.exc_info = None
            record.exc_text = None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


#: The logger mock-anveo's servers report protocol errors on, instead of aiohttp's shared
#: ``aiohttp.server``: the filter rewrites only these servers' records, never those of other
#: aiohttp servers in the same process.
LOGGER = logging.getLogger("mock_anveo.server")
LOGGER.addFilter(_OneLineProtocolErrors())


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class RunningServer:
    """A server in the current event loop: ``url``, ``world``, ``app`` and ``stop()``."""

    def __init__(self, app: web.Application, runner: web.AppRunner, url: str) -> None:
        self.app = app
        self.runner = runner
        self.url = url

    @property
    def world(self) -> World:
        """The simulated world behind this server."""
        return self.app[WORLD]

    async def stop(self) -> None:
        """Refuse new API requests, finish in-flight ones, close the socket."""
        options = self.app[OPTIONS]
        options.shutting_down = True
        options.stopping.set()
        await self.runner.cleanup()


async def start(
    world: World | None = None,
    options: ServerOptions | None = None,
    *,
    host: str = LOOPBACK,
    port: int = 0,
    shutdown_timeout: float = 10.0,
) -> RunningServer:
    """Start serving in the running loop; ``port=0`` picks a free port."""
    app = make_app(world, options)
    read_timeout = app[OPTIONS].read_timeout
    # keepalive_timeout also bounds a connection that never completes its request line and
    # headers (aiohttp has no separate header timeout): slow-header clients are cut off.
    runner = web.AppRunner(
        app,
        handle_signals=False,
        access_log=None,
        logger=LOGGER,
        shutdown_timeout=shutdown_timeout,
        keepalive_timeout=read_timeout,
        max_line_size=MAX_LINE,
        max_headers=MAX_HEADERS,
        max_field_size=MAX_FIELD,
    )
    await runner.setup()
    site = web.TCPSite(runner, host, port, reuse_address=True)
    await site.start()
    bound = runner.addresses[0]  # (host, port) or, for IPv6, (host, port, flow, scope)
    shown_host = f"[{bound[0]}]" if ":" in bound[0] else bound[0]
    return RunningServer(app, runner, f"http://{shown_host}:{bound[1]}")


class ThreadedServer:
    """A server in its own thread and event loop, for synchronous clients such as requests."""

    def __init__(
        self,
        world_factory: Callable[[], World] | None = None,
        options: ServerOptions | None = None,
        *,
        host: str = LOOPBACK,
        port: int = 0,
    ) -> None:
        self._factory = world_factory
        self._options = options
        self._host = host
        self._port = port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: RunningServer | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:38211``."""
        assert self._server is not None, "server not started"
        return self._server.url

    @property
    def world(self) -> World:
        """The simulated world (touch it only through ``call``)."""
        assert self._server is not None, "server not started"
        return self._server.world

    def start(self, timeout: float = 10.0) -> ThreadedServer:
        """Start the thread and wait until the socket listens."""
        self._thread = threading.Thread(target=self._run, name="mock-anveo", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise RuntimeError("mock-anveo did not start in time")
        if self._error is not None:
            raise RuntimeError(f"mock-anveo failed to start: {self._error!r}") from self._error
        return self

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        try:
            world = self._factory() if self._factory else None
            self._server = loop.run_until_complete(
                start(world, self._options, host=self._host, port=self._port)
            )
        except BaseException as exc:  # noqa: BLE001 - reported to the starting thread
            self._error = exc
            self._ready.set()
            loop.close()
            return
        self._ready.set()
        loop.run_forever()
        loop.run_until_complete(self._server.stop())
        loop.close()

    def call(self, fn: Callable[[], object]) -> object:
        """Run ``fn`` on the server's loop thread and return its result (thread-safe)."""
        assert self._loop is not None

        async def run() -> object:
            return fn()

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(30)

    def stop(self) -> None:
        """Stop serving and join the thread."""
        if self._loop is not None and self._thread is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(30)
