"""What changed, as it happens: the console's state-change lines and the dashboard's live feed.

The simulation is lazy (a tenant's clock only fires its events when someone looks), so a
``Hub`` looks for it: while a console or a dashboard listens, a task wakes a few times a second,
brings running clocks up to date, reads each journal past the last entry it saw, and tells
listeners which tenants changed. Nobody listening (the pytest fixture, ThreadedServer): no task.
The feed is ``GET /_mock/events``, server-sent events; the dashboard re-reads the control API
on each event, so the control API stays the one source of truth.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import time
from typing import Any

from aiohttp import web

from .._version import __version__
from ..sim.clock import iso
from ..sim.journal import Entry
from ..sim.outbox import Attempt, Message
from ..sim.tenant import Tenant
from ..sim.world import World
from .base import EXCHANGE, OPTIONS, Handler, ServerOptions
from .console import Sink, attempt_event, exchange_event, journal_event
from .delivery import DELIVERY, DeliveryOptions, horizon

#: Seconds between looks; short enough to feel live, long enough to cost nothing.
TICK = 0.25
#: Tenants looked at per second at most, so a server with 100,000 tenants looks every 5 s.
TENANTS_PER_SECOND = 20_000
#: Seconds between keep-alive comments on an idle feed (proxies drop silent streams).
HEARTBEAT = 15.0
Mark = tuple[int, int, int, int, int, int, float, str]


def _mark(tenant: Tenant) -> Mark:
    """What a dashboard would redraw for: a new tenant object (reset), journal, rules, SMS,
    outgoing messages made, manual clock moves and balance changes (attempts are told by
    ``Hub.attempt``)."""
    clock = tenant.clock
    return (
        id(tenant),
        tenant.journal.seq,
        len(tenant.rules),
        len(tenant.faults),
        len(tenant.sms),
        tenant.outbox.counter,
        clock.now() if clock.rate == 0 else clock.rate,
        str(tenant.account.balance),
    )


class Hub:
    """Listeners of one server: the console sink (``serve`` only) and the event feeds."""

    def __init__(
        self, world: World, options: ServerOptions, delivery: DeliveryOptions | None = None
    ) -> None:
        self.world = world
        self.options = options
        self.delivery = delivery
        self._dirty: set[str] = set()  # tenants whose outbox changed since the last look
        self.console: Sink | None = options.console
        self.feeds: set[asyncio.Queue[dict[str, Any] | None]] = set()
        self._marks: dict[str, Mark] = {}
        self._seen: dict[str, tuple[int, int]] = {}  # userkey -> (id(tenant), last seq)
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    # ---- the watcher -----------------------------------------------------------------------
    def ensure_running(self) -> None:
        """Start the watching task if someone listens and it is not running yet."""
        if self._task is None and (self.console is not None or self.feeds):
            self.catch_up()
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while self.console is not None or self.feeds:
            # A look costs a moment per tenant: with many tenants, look less often.
            pause = max(TICK, len(self.world.tenants) / TENANTS_PER_SECOND)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), pause)
            self._wake.clear()
            self.look()
        self._task = None

    def poke(self) -> None:
        """Look again soon (a request just changed something)."""
        self._wake.set()

    def catch_up(self) -> None:
        """Mark everything as seen without reporting it (the state before anyone listened)."""
        for key, tenant in self.world.tenants.items():
            self._seen[key] = (id(tenant), tenant.journal.seq)
            self._marks[key] = _mark(tenant)

    def look(self, *, final: bool = False) -> None:
        """Bring running clocks up to date, log new state changes, tell feeds what changed;
        ``final``: the server is stopping, so log every change (no attempt is coming)."""
        changed: list[str] = []
        feeds = bool(self.feeds)
        for key, tenant in list(self.world.tenants.items()):
            if tenant.clock.rate > 0 and len(tenant.scheduler):
                tenant.sync()  # something is due sooner or later: fire what is due now
            self.report(tenant, math.inf if final else None)
            if not feeds:
                continue
            mark = _mark(tenant)
            if self._marks.get(key) != mark or key in self._dirty:
                self._marks[key] = mark
                changed.append(key)
        self._dirty.clear()
        removed = [k for k in self._marks if k not in self.world.tenants]
        for key in removed:
            del self._marks[key]
            self._seen.pop(key, None)
        if changed or removed:
            self.publish({"tenants": changed, "removed": removed})

    def report(self, tenant: Tenant, until: float | None = None) -> None:
        """Send ``tenant``'s journal entries since the last look to the console: those up to
        the virtual moment ``until``, or, by default, up to its earliest notification attempt
        not made yet (that attempt's line comes first; ``attempt`` reports up to it)."""
        key = tenant.account.userkey
        ident, last = self._seen.get(key, (id(tenant), 0))
        if ident != id(tenant):
            last = 0  # reset or replaced: a new journal
        journal = tenant.journal
        if self.console is None or journal.seq == last:
            self._seen[key] = (id(tenant), journal.seq)
            return
        if until is None and self.delivery is not None:
            until = horizon(self.delivery, tenant)
        fresh: list[Entry] = []
        for entry in reversed(journal):  # newest first: stop at what was seen
            if entry[0] <= last:
                break
            fresh.append(entry)
        fresh.reverse()
        if until is not None:  # a journal's moments never go back: cut at the first later one
            cut = next((i for i, e in enumerate(fresh) if e[2] > until), len(fresh))
            fresh = fresh[:cut]
        if fresh:
            last = fresh[-1][0]
        self._seen[key] = (id(tenant), last)
        for entry in fresh:
            event = journal_event(key, entry)
            if event is not None:
                self.console(event)

    def attempt(self, tenant: Tenant, message: Message, attempt: Attempt) -> None:
        """A notification attempt was made: log what happened before it, then its line, and
        tell the feeds at the next look (the outbox is part of what the dashboard shows)."""
        key = tenant.account.userkey
        if self.feeds:
            self._dirty.add(key)
            self.poke()
        if self.console is not None:
            self.report(tenant, until=attempt.at)
            event = attempt_event(key, message, attempt)
            self.console(event | {"wall": iso(self.world.wallclock())})

    def log(self, event: dict[str, Any]) -> None:
        """Write one event to the console, if there is one."""
        if self.console is not None:
            self.console(event)

    # ---- the feeds -------------------------------------------------------------------------
    def publish(self, change: dict[str, Any]) -> None:
        """Queue ``change`` on every feed (a slow reader loses nothing but redundant news)."""
        for feed in self.feeds:
            if feed.qsize() < 100:
                feed.put_nowait(change)

    def close(self) -> None:
        """End every feed (the server is stopping)."""
        for feed in self.feeds:
            feed.put_nowait(None)
        if self._task is not None:
            self._task.cancel()


HUB = web.AppKey("hub", Hub)


def install(app: web.Application, world: World, options: ServerOptions) -> Hub:
    """Give ``app`` its hub: watching from startup when a console listens, feeds ended at
    shutdown so stopping never waits on an open dashboard."""
    hub = app[HUB] = Hub(world, options, app[DELIVERY])
    app[DELIVERY].on_attempt = hub.attempt

    async def startup(_: web.Application) -> None:
        hub.ensure_running()

    async def shutdown(_: web.Application) -> None:
        if hub.console is not None:
            hub.look(final=True)  # the last state changes, not lost between two looks
        hub.close()

    app.on_startup.append(startup)
    app.on_shutdown.append(shutdown)
    return hub


def logged(hub: Hub, door: str, handler: Handler) -> Handler:
    """``handler`` with a console line per exchange (installed only when a console listens,
    so the doors' hot path is untouched otherwise); the state changes journaled before its
    reply come first. Known limit: while a notification attempt is in flight, changes after
    its moment wait for its line, so an exchange meanwhile may print before them."""

    async def handle(request: web.Request) -> web.StreamResponse:
        start = time.perf_counter()
        response = await handler(request)
        exchange = request.get(EXCHANGE)
        if exchange is not None:
            tenant = exchange.tenant
            if tenant is not None:
                hub.report(tenant)
            millis = (time.perf_counter() - start) * 1000
            virtual = tenant.clock.now() if tenant is not None else None
            hub.log(exchange_event(exchange, door, virtual, hub.world.wallclock(), millis))
        hub.poke()
        return response

    return handle


def _frame(event: str, data: dict[str, Any]) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


async def stream(request: web.Request) -> web.StreamResponse:
    """GET /_mock/events: server-sent events; ``hello`` first, then ``change`` with the
    userkeys that changed (and were removed), and a comment line as a heartbeat."""
    hub = request.config_dict[HUB]
    options = request.config_dict[OPTIONS]
    if request.query:
        raise web.HTTPBadRequest(reason="GET /_mock/events takes no query parameters")
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-cache",
            "X-Accel-Buffering": "no",
        }
    )
    await response.prepare(request)
    feed: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
    hub.feeds.add(feed)
    hub.ensure_running()
    hello = {"version": __version__, "server_time": time.time(), "tenants": list(hub.world.tenants)}
    try:
        await response.write(b"retry: 1000\n" + _frame("hello", hello))
        while not options.stopping.is_set():
            try:
                change = await asyncio.wait_for(feed.get(), HEARTBEAT)
            except TimeoutError:
                await response.write(b": heartbeat\n\n")
                continue
            if change is None:
                break
            await response.write(_frame("change", change))
    except ConnectionResetError:
        pass  # the browser went away
    finally:
        hub.feeds.discard(feed)
    return response
