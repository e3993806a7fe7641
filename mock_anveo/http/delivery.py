"""Sending the outbox: one real HTTP request per attempt, on the virtual clock's schedule.

One ``aiohttp.ClientSession`` per server (connection reuse), every attempt bounded by a total
timeout, at most ``concurrency`` attempts in flight, redirects never followed. ``drain`` tries
the attempts due up to a virtual moment in (time, order) and reports each outcome to the
outbox, which schedules the retry: so when an ``advance`` returns, every attempt that fell due
inside the advanced window has completed. Everything awaits, so a receiver living in this
server's own event loop (the built-in sink) is served while its sender waits.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from urllib.parse import urlencode

import aiohttp
from aiohttp import web
from yarl import URL

from ..sim import outbound
from ..sim.outbox import HEAD_BYTES, Attempt, Message
from ..sim.tenant import Tenant
from .base import WORLD, ServerOptions

_FORM = {"Content-Type": "application/x-www-form-urlencoded"}
#: Real seconds between the background pump's looks at the tenants' outboxes.
PUMP_EVERY = 0.1


@dataclass(slots=True)
class DeliveryOptions:
    """How attempts are made: timeout (seconds), concurrency and the hosts allowed."""

    timeout: float = 5.0
    concurrency: int = 32
    allow: frozenset[str] = frozenset()
    session: aiohttp.ClientSession | None = None
    limit: asyncio.Semaphore | None = None
    attempts: int = field(default=0)  # real requests made, for the benchmark and /health
    # One lock per tenant: an advance and the background pump never drain it at once, so an
    # advance returns only after every attempt due in its window has completed.
    locks: dict[str, asyncio.Lock] = field(default_factory=dict)
    # Told of every recorded attempt (the events hub: console line, live feed); None: nobody.
    on_attempt: Callable[[Tenant, Message, Attempt], None] | None = None
    # userkey -> the batch being tried: the hub logs no state change past its moment yet.
    trying: dict[str, list[Message]] = field(default_factory=dict)

    def lock(self, tenant: Tenant) -> asyncio.Lock:
        """The lock of ``tenant``'s outbox."""
        key = tenant.account.userkey
        found = self.locks.get(key)
        if found is None:
            found = self.locks[key] = asyncio.Lock()
        return found


DELIVERY = web.AppKey("delivery", DeliveryOptions)


def delivery_options(server: ServerOptions, allow: frozenset[str]) -> DeliveryOptions:
    """How a server started with ``server`` (and ``allow``ed hosts) sends its outbox."""
    return DeliveryOptions(server.callback_timeout, server.callback_concurrency, allow)


async def open_session(app: web.Application) -> None:
    """Start-up hook: the shared session and the concurrency bound (made in the loop)."""
    options = app[DELIVERY]
    options.limit = asyncio.Semaphore(options.concurrency)
    options.session = aiohttp.ClientSession(
        timeout=aiohttp.ClientTimeout(total=options.timeout),
        connector=aiohttp.TCPConnector(limit=options.concurrency),
        headers={"User-Agent": "mock-anveo notifications"},
    )


async def close_session(app: web.Application) -> None:
    """Clean-up hook: close the shared session."""
    options = app[DELIVERY]
    if options.session is not None:
        session, options.session = options.session, None
        await session.close()


def horizon(options: DeliveryOptions, tenant: Tenant) -> float | None:
    """The virtual moment of ``tenant``'s earliest attempt not made yet (being tried, or due
    by its clock); None when none is. Its line is still to come, so what happened after it
    must wait to keep the console in virtual-time order."""
    moments = [m.pending_at for m in options.trying.get(tenant.account.userkey, ())]
    due = tenant.outbox.next_due()
    if due is not None and due <= tenant.clock.now():
        moments.append(due)
    found = [m for m in moments if m is not None]
    return min(found) if found else None


async def _try(options: DeliveryOptions, message: Message) -> tuple[int | None, str | None, str]:
    """One attempt: the receiver's status and first bytes, or the error that stopped it."""
    if not outbound.allowed(message.url, options.allow):
        return None, f"refused: not a loopback host; allow it with {outbound.SWITCH}", ""
    session, limit = options.session, options.limit
    if session is None or limit is None:
        return None, "the server is shutting down", ""
    async with limit:
        options.attempts += 1
        try:
            # Sent byte for byte as recorded (``outbound.as_sent`` made it wire-ready): a
            # plain string would be re-normalised by yarl (%3F -> ?), and differ from it.
            url = URL(message.url, encoded=True)
            if message.method == "GET":
                request = session.get(url, allow_redirects=False)
            else:  # encoded here: aiohttp's FormData costs several times more per message
                body = urlencode(message.wire_fields()).encode()
                request = session.post(url, data=body, headers=_FORM, allow_redirects=False)
            async with request as response:
                head = await response.content.read(HEAD_BYTES)
                return response.status, None, head.decode("utf-8", "replace")
        except TimeoutError:
            return None, f"timeout after {options.timeout} s", ""
        except aiohttp.ClientError as exc:
            return None, f"{type(exc).__name__}: {exc}", ""
        except (OSError, ValueError) as exc:
            return None, f"{type(exc).__name__}: {exc}", ""


async def _worker(options: DeliveryOptions, tenant: Tenant, batch: Iterator[Message]) -> None:
    for message in batch:
        started = time.monotonic()
        status, error, head = await _try(options, message)
        attempt = tenant.outbox.record(message, status, error, time.monotonic() - started, head)
        if options.on_attempt is not None:
            options.on_attempt(tenant, message, attempt)


async def drain(options: DeliveryOptions, tenant: Tenant, moment: float) -> int:
    """Try every attempt due up to ``moment``, earliest moment first (those due at the same
    moment concurrently), recording each outcome before the next moment; returns how many."""
    done = 0
    while True:
        batch = tenant.outbox.take_due(moment)
        if not batch:
            return done
        done += len(batch)
        shared = iter(batch)  # the workers take the next message from one iterator
        workers = min(len(batch), options.concurrency)
        options.trying[tenant.account.userkey] = batch
        try:
            if workers == 1:  # most moments hold one attempt: no task to make for it
                await _worker(options, tenant, shared)
            else:
                await asyncio.gather(*(_worker(options, tenant, shared) for _ in range(workers)))
        finally:  # interrupted (cancelled, shutdown): what was not tried waits for next time
            options.trying.pop(tenant.account.userkey, None)
            untried = [m for m in batch if m.pending_at is not None and not m.pending_seq]
            tenant.outbox.due.extend(untried)


async def pump(app: web.Application) -> None:
    """Background task: send what fell due by each tenant's clock without an advance (a
    running clock, a DIAL.CANCEL, an inbound SMS), a few times a second."""
    options, world = app[DELIVERY], app[WORLD]
    while True:
        await asyncio.sleep(PUMP_EVERY)
        for tenant in list(world.tenants.values()):
            outbox = tenant.outbox
            if not (outbox.due or len(outbox.scheduler) or tenant.clock.rate):
                continue
            async with options.lock(tenant):
                tenant.sync()
                if world.tenants.get(tenant.account.userkey) is tenant:
                    await drain(options, tenant, tenant.clock.now())


async def run_pump(app: web.Application) -> AsyncIterator[None]:
    """``cleanup_ctx``: the shared session and the pump, for the server's lifetime."""
    await open_session(app)
    task = asyncio.create_task(pump(app))
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await close_session(app)
