"""The Python controller: ``MockAnveo`` (blocking) and ``AsyncMockAnveo`` (awaited) faces.

``MockAnveo`` starts its own server (in a background thread for ``with``, in the running loop
for ``async with``) or binds to a running one (``MockAnveo.remote(url)``), creates a fresh
tenant, and talks to it through the JSON control API only, so the same verbs work in-process
and against a server started by CI. The verbs are written once (``verbs``) as control requests
(``ops``); a face adds a transport (``transport``) and a lifecycle. What the controller knows
locally (``url``, ``userkey``) are properties; every verb is one round trip. Answers are small
frozen records (``records``, ``sent``) or, for rules and account views, the control API's JSON
as a dict. A refused control request raises ``mock_anveo.errors.ControlError``.
"""

from __future__ import annotations

import contextlib
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self, TypeVar

from .. import lazy
from .ops import AsyncRunner, Op, SyncRunner
from .transport import AsyncTransport, Connection, connection, forget
from .verbs import Controller

if TYPE_CHECKING:
    from ..http.server import RunningServer, ThreadedServer
    from .records import (
        Call,
        Clock,
        JournalEntry,
        Leg,
        ServerError,
        Sms,
        Transition,
        UnexpectedServerError,
    )
    from .sent import Requests

__all__ = [
    "AsyncMockAnveo",
    "Call",
    "Clock",
    "JournalEntry",
    "Leg",
    "MockAnveo",
    "Requests",
    "ServerError",
    "Sms",
    "Transition",
    "UnexpectedServerError",
]

#: The records this module re-exports, loaded at first use (see ``answers``): the ``anveo``
#: fixture's create and delete need none of them.
_HOMES = {
    "Call": ".records",
    "Clock": ".records",
    "JournalEntry": ".records",
    "Leg": ".records",
    "ServerError": ".records",
    "Sms": ".records",
    "Transition": ".records",
    "UnexpectedServerError": ".records",
    "Requests": ".sent",
}


__getattr__, __dir__ = lazy.exports(__name__, _HOMES, __all__)


def _unexpected(errors: list[ServerError]) -> UnexpectedServerError:
    """The error that reports a server bug."""
    from .records import UnexpectedServerError  # noqa: PLC0415 - only a server bug needs it

    return UnexpectedServerError(errors)


def _refused() -> tuple[type[BaseException], ...]:
    """What closing a half-opened controller may raise and its caller ignores, keeping the
    first error (the errors module is imported only on that path)."""
    from ..errors import ControlError  # noqa: PLC0415 - only a failed open needs it

    return (ControlError, OSError)


T = TypeVar("T")


class MockAnveo(Controller, SyncRunner):
    """A controller bound to one fresh tenant; blocking verbs (``with``) or async (``async with``).

    Without ``url`` it starts its own server on 127.0.0.1 (a thread for ``with``, the running
    loop for ``async with``); ``settings`` and ``options`` configure that server. Tenant fields
    (``balance``, ``verified_callerids``, ...) preset the account; ``scenarios`` and ``faults``
    (JSON rules) are added at start and again by ``reset()``. ``clock_rate=0`` (the default)
    freezes the tenant's clock so only ``advance`` moves it; None keeps the server's default.
    """

    _server: ThreadedServer | None = None
    _async: AsyncMockAnveo | None = None
    _conn: Connection | None = None

    @classmethod
    def remote(cls, url: str, token: str | None = None, **tenant: Any) -> Self:
        """A controller for the server already running at ``url`` (control ``token`` if set)."""
        return cls(url=url, token=token, **tenant)

    def _run(self, op: Op[T]) -> T:
        if self._conn is None:
            raise RuntimeError("not started: use `with MockAnveo() as anveo:` (or open())")
        return self._conn.run(op)

    def open(self) -> Self:
        """Start the server if this controller owns one, then create and preset the tenant."""
        if self._spec.url is None:
            from ..http.server import ThreadedServer  # noqa: PLC0415 - aiohttp only when serving

            self._server = ThreadedServer(self._spec.world_factory(), self._spec.options).start()
            self._base = self._server.url
        else:
            self._base = self._spec.url
        self._conn = connection(self._base, self._spec.control_token())
        try:
            self._userkey = self._run(self._create())["userkey"]
        except BaseException:
            with contextlib.suppress(*_refused()):  # keep the first error
                self.close()  # a tenant whose preset rules failed must not linger
            raise
        return self

    def close(self) -> list[ServerError]:
        """Delete the tenant, stop the server this controller started (if any), and return
        the unexpected exceptions the server recorded for the tenant."""
        errors: list[ServerError] = []
        try:
            if self._userkey is not None and self._conn is not None:
                errors = self._run(self._delete())
        finally:
            self._userkey = None
            self._conn = None  # pooled: other controllers of the server keep using it
            if self._server is not None:
                forget(self._server.url)
                self._server.stop()
                self._server = None
                self._base = None
        return errors

    def __enter__(self) -> Self:
        return self.open()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        errors = self.close()
        if errors:  # a server bug must not pass silently; chained to the block's own error
            raise _unexpected(errors) from exc

    async def __aenter__(self) -> AsyncMockAnveo:
        # The same configuration, awaited; its server runs in this loop, so a blocking client
        # called from this loop would wait for a server that cannot answer (see the README).
        self._async = AsyncMockAnveo(**self._spec.arguments)
        return await self._async.open()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._async is not None:
            controller, self._async = self._async, None
            await controller.__aexit__(exc_type, exc, tb)


class AsyncMockAnveo(Controller, AsyncRunner):
    """The ``async with`` twin of ``MockAnveo``: the same verbs, awaited, over aiohttp."""

    _running: RunningServer | None = None
    _transport: AsyncTransport | None = None

    @classmethod
    def remote(cls, url: str, token: str | None = None, **tenant: Any) -> Self:
        """A controller for the server already running at ``url``."""
        return cls(url=url, token=token, **tenant)

    async def _run(self, op: Op[T]) -> T:
        if self._transport is None:
            raise RuntimeError("not started: use `async with MockAnveo() as anveo:`")
        return await self._transport.run(op)

    async def open(self) -> Self:
        """Start the server in this loop if this controller owns one; create the tenant."""
        if self._spec.url is None:
            from ..http.server import start  # noqa: PLC0415 - aiohttp only when serving

            factory = self._spec.world_factory()
            self._running = await start(factory() if factory else None, self._spec.options)
            self._base = self._running.url
        else:
            self._base = self._spec.url
        self._transport = AsyncTransport(self._base, self._spec.control_token())
        try:
            self._userkey = (await self._run(self._create()))["userkey"]
        except BaseException:
            with contextlib.suppress(*_refused()):  # keep the first error
                await self.close()  # a tenant whose preset rules failed must not linger
            raise
        return self

    async def close(self) -> list[ServerError]:
        """Delete the tenant, close the session, stop the server this controller started;
        returns the unexpected exceptions the server recorded for the tenant."""
        errors: list[ServerError] = []
        try:
            if self._userkey is not None and self._transport is not None:
                errors = await self._run(self._delete())
        finally:
            self._userkey = None
            if self._transport is not None:
                transport, self._transport = self._transport, None
                await transport.close()
            if self._running is not None:
                running, self._running = self._running, None
                await running.stop()
                self._base = None
        return errors

    async def __aenter__(self) -> Self:
        return await self.open()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        errors = await self.close()
        if errors:
            raise _unexpected(errors) from exc
