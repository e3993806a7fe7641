"""How control requests travel: pooled keep-alive stdlib connections (sync) or an aiohttp session.

Both take an ``Op`` and give back its parsed answer. The sync transport imports only the
standard library; the async one imports aiohttp when it is opened, so loading the controller
or the pytest plugin never loads aiohttp.
"""

from __future__ import annotations

import atexit
import http.client
import socket
import threading
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import urlsplit

from .ops import Op, encode, finish

if TYPE_CHECKING:
    import aiohttp

__all__ = ["CONTROL_TIMEOUT", "AsyncTransport", "Connection", "connection", "forget"]

T = TypeVar("T")
#: Seconds a control request may take; generous because a huge advance fires many events.
CONTROL_TIMEOUT = 60.0
#: Idle sockets kept per server; more are opened when that many verbs are in flight at once.
MAX_IDLE = 4


def _headers(token: str | None) -> dict[str, str]:
    headers = {"Accept": "application/json", "Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return headers


def _resolve_ascii(
    address: tuple[str, int], timeout: float | None, source_address: tuple[str, int] | None
) -> socket.socket:
    """``socket.create_connection`` with an ASCII host given as bytes: ``getaddrinfo`` runs a
    str host through the idna codec, whose first use imports two modules (about 1 ms at a
    session's first request) to change nothing in an ASCII name."""
    host, port = address
    name: str | bytes = host.encode("ascii") if host.isascii() else host
    # typeshed allows only str, but getaddrinfo, which create_connection calls, takes bytes.
    return socket.create_connection((name, port), timeout, source_address)  # type: ignore[arg-type]


class _HTTPConnection(http.client.HTTPConnection):
    """``http.client``'s connection, resolving its host with ``_resolve_ascii``."""

    def __init__(self, host: str, port: int | None, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._create_connection = _resolve_ascii  # what connect() calls to open the socket


class Connection:
    """Keep-alive HTTP/1.1 connections to one server, safe to share between threads.

    A request takes an idle socket or opens a new one and gives it back afterwards, so a verb
    called while another is in flight (a notification receiver in another thread asking the
    same controller for ``calls()`` during ``advance``) never waits for it.
    """

    def __init__(self, url: str, token: str | None) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"expected a base URL like http://127.0.0.1:8080, got {url!r}")
        self.url = url
        self._https = parts.scheme == "https"
        self._host, self._port = parts.hostname, parts.port
        self._prefix = parts.path.rstrip("/")
        self._headers = _headers(token)
        self._idle: list[http.client.HTTPConnection] = []
        self._generation = 0  # bumped by close(): sockets taken before it are not kept
        self._lock = threading.Lock()  # guards _idle and _generation only, never a round trip

    def run(self, op: Op[T]) -> T:
        """Send ``op`` and parse its answer."""
        status, data = self.request(op.method, op.path, encode(op))
        return finish(op, status, data)

    def _open(self) -> http.client.HTTPConnection:
        conn = (
            http.client.HTTPSConnection(self._host, self._port, timeout=CONTROL_TIMEOUT)
            if self._https
            else _HTTPConnection(self._host, self._port, CONTROL_TIMEOUT)
        )
        try:
            conn.connect()
        except OSError as exc:
            raise ConnectionError(f"cannot reach mock-anveo at {self.url}: {exc}") from exc
        if conn.sock is not None:  # small JSON requests: do not let Nagle hold them back
            conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return conn

    def _take(self) -> tuple[http.client.HTTPConnection, bool, int]:
        with self._lock:
            generation = self._generation
            if self._idle:
                return self._idle.pop(), True, generation
        return self._open(), False, generation

    def _give(self, conn: http.client.HTTPConnection, generation: int) -> None:
        with self._lock:
            if generation == self._generation and len(self._idle) < MAX_IDLE:
                self._idle.append(conn)
                return
        conn.close()

    def request(self, method: str, path: str, body: bytes | None) -> tuple[int, bytes]:
        """One round trip: status and body."""
        for attempt in (1, 2):
            conn, reused, generation = self._take()
            try:
                conn.request(method, self._prefix + path, body, self._headers)
                response = conn.getresponse()
                data = response.read()
            except (ConnectionError, http.client.BadStatusLine):
                # The server closed an idle keep-alive connection: retry once on a new one.
                conn.close()
                if not reused or attempt == 2:
                    raise
                continue
            except BaseException:
                conn.close()
                raise
            if response.will_close:
                conn.close()
            else:
                self._give(conn, generation)
            return response.status, data
        raise AssertionError("unreachable")  # pragma: no cover

    def close(self) -> None:
        """Close the idle sockets (the next request opens a new one)."""
        with self._lock:
            idle, self._idle = self._idle, []
            self._generation += 1
        for conn in idle:
            conn.close()


_POOL: dict[tuple[str, str | None], Connection] = {}
_POOL_LOCK = threading.Lock()


def connection(url: str, token: str | None) -> Connection:
    """The shared connection to ``url``: a per-test tenant then costs no TCP set-up."""
    with _POOL_LOCK:
        conn = _POOL.get((url, token))
        if conn is None:
            conn = _POOL[(url, token)] = Connection(url, token)
        return conn


def forget(url: str) -> None:
    """Close and drop the pooled connections to a server that is going away."""
    with _POOL_LOCK:
        for key in [k for k in _POOL if k[0] == url]:
            _POOL.pop(key).close()


@atexit.register
def _close_pool() -> None:
    with _POOL_LOCK:
        for conn in _POOL.values():
            conn.close()
        _POOL.clear()


class AsyncTransport:
    """An aiohttp session to one server; ``run`` is awaited."""

    def __init__(self, url: str, token: str | None) -> None:
        import aiohttp  # noqa: PLC0415 - the controller and pytest plugin load without it

        self.url = url
        self._session: aiohttp.ClientSession | None = aiohttp.ClientSession(
            headers=_headers(token), timeout=aiohttp.ClientTimeout(total=CONTROL_TIMEOUT)
        )

    async def run(self, op: Op[T]) -> T:
        """Send ``op`` and parse its answer."""
        if self._session is None:
            raise RuntimeError("the controller is closed")
        async with self._session.request(
            op.method, self.url + op.path, data=encode(op)
        ) as response:
            return finish(op, response.status, await response.read())

    async def close(self) -> None:
        """Close the session."""
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()
