"""The Python controller: one object that drives one tenant of a mock-anveo server from tests.

``MockAnveo`` starts its own server (in a background thread for ``with``, in the running loop
for ``async with``) or binds to a running one (``MockAnveo.remote(url)``), creates a fresh
tenant, and talks to it through the JSON control API only, so the same verbs work in-process
and against a server started by CI. ``with`` gives ``MockAnveo`` (blocking verbs over a
keep-alive stdlib connection); ``async with`` gives ``AsyncMockAnveo`` (the same verbs, awaited,
over aiohttp). Every verb that asks the server something is a method, because it is a round
trip; what the controller knows locally (``url``, ``userkey``) are properties. Answers are small
frozen records (``Call``, ``Clock``, ``JournalEntry``, ``Requests``, ``ServerError``) or, for
rules and account views, the control API's JSON as a dict. A refused control request raises
``mock_anveo.errors.ControlError`` (status, message, field).
"""

from __future__ import annotations

import atexit
import contextlib
import http.client
import json
import socket
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, Self, TypeVar
from urllib.parse import quote, urlencode, urlsplit

from ..errors import ControlError
from .records import (
    Call,
    Clock,
    JournalEntry,
    Leg,
    Requests,
    ServerError,
    Transition,
    UnexpectedServerError,
    iso_moment,
)

if TYPE_CHECKING:
    import aiohttp

    from ..http.app import ServerOptions
    from ..http.server import RunningServer, ThreadedServer
    from ..sim.world import Settings

__all__ = ["AsyncMockAnveo", "Call", "Clock", "JournalEntry", "Leg", "MockAnveo", "Requests",
           "ServerError", "Transition", "UnexpectedServerError"]

T = TypeVar("T")
Money = Decimal | str | int | float
#: Seconds a control request may take; generous because a huge advance fires many events.
CONTROL_TIMEOUT = 60.0


# ---- control requests, independent of the transport ------------------------------------------
@dataclass(frozen=True, slots=True)
class _Op(Generic[T]):
    method: str
    path: str
    parse: Callable[[Any], T]
    body: Any = None
    missing_ok: bool = False  # a 404 is fine (deleting a tenant that is already gone)


def _none(_doc: Any) -> None:
    return None


def _dict(doc: Any) -> dict[str, Any]:
    return dict(doc)


def _dicts(doc: Any) -> list[dict[str, Any]]:
    return [dict(d) for d in doc]


def _finish(op: _Op[T], status: int, data: bytes) -> T:
    if status == 404 and op.missing_ok:
        return op.parse(None)
    if status >= 400:
        try:
            doc = json.loads(data)
            message, name = str(doc["error"]), doc.get("field")
        except (ValueError, KeyError, TypeError):
            message, name = data.decode("utf-8", "replace").strip() or f"HTTP {status}", None
        raise ControlError(status, f"{message} ({op.method} {op.path} -> {status})", name)
    return op.parse(json.loads(data) if data else None)


def _body(op: _Op[Any]) -> bytes | None:
    return None if op.body is None else json.dumps(op.body).encode()


# ---- sync transport: stdlib, keep-alive, shared by every controller of a server --------------
class _Connection:
    """One keep-alive HTTP/1.1 connection to a server (thread-safe by a lock)."""

    def __init__(self, url: str, token: str | None) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"expected a base URL like http://127.0.0.1:8080, got {url!r}")
        self.url = url
        self._https = parts.scheme == "https"
        self._host, self._port = parts.hostname, parts.port
        self._prefix = parts.path.rstrip("/")
        self._headers = {"Accept": "application/json", "Content-Type": "application/json"}
        if token:
            self._headers["Authorization"] = f"Bearer {token}"
        self._conn: http.client.HTTPConnection | None = None
        self._lock = threading.Lock()

    def _open(self) -> http.client.HTTPConnection:
        cls = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
        conn = cls(self._host, self._port, timeout=CONTROL_TIMEOUT)
        try:
            conn.connect()
        except OSError as exc:
            raise ConnectionError(f"cannot reach mock-anveo at {self.url}: {exc}") from exc
        if conn.sock is not None:  # small JSON requests: do not let Nagle hold them back
            conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._conn = conn
        return conn

    def request(self, method: str, path: str, body: bytes | None) -> tuple[int, bytes]:
        with self._lock:
            for attempt in (1, 2):
                reused = self._conn is not None
                conn = self._conn or self._open()
                try:
                    conn.request(method, self._prefix + path, body, self._headers)
                    response = conn.getresponse()
                    data = response.read()
                except (ConnectionError, http.client.BadStatusLine):
                    # The server closed an idle keep-alive connection: retry once on a new one.
                    self._drop()
                    if not reused or attempt == 2:
                        raise
                    continue
                except BaseException:
                    self._drop()
                    raise
                if response.will_close:
                    self._drop()
                return response.status, data
        raise AssertionError("unreachable")  # pragma: no cover

    def _drop(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def close(self) -> None:
        with self._lock:
            self._drop()


_POOL: dict[tuple[str, str | None], _Connection] = {}
_POOL_LOCK = threading.Lock()


def _connection(url: str, token: str | None) -> _Connection:
    # Controllers of one server share a connection, so a per-test tenant costs no TCP set-up.
    with _POOL_LOCK:
        conn = _POOL.get((url, token))
        if conn is None:
            conn = _POOL[(url, token)] = _Connection(url, token)
        return conn


def _forget(url: str) -> None:
    with _POOL_LOCK:
        for key in [k for k in _POOL if k[0] == url]:
            _POOL.pop(key).close()


@atexit.register
def _close_pool() -> None:
    with _POOL_LOCK:
        for conn in _POOL.values():
            conn.close()
        _POOL.clear()


# ---- what both controllers share ---------------------------------------------------------------
@dataclass(slots=True)
class _Spec:
    url: str | None
    token: str | None
    tenant: dict[str, Any]
    scenarios: list[Mapping[str, Any]]  # dicts, copied from the caller's
    faults: list[Mapping[str, Any]]
    settings: Settings | None
    options: ServerOptions | None


def _world_factory(settings: Settings | None) -> Callable[[], Any] | None:
    if settings is None:
        return None

    def build() -> Any:
        from ..sim.world import World  # lazily: a remote controller never loads lxml or aiohttp

        return World(settings, monotonic=time.monotonic, wallclock=time.time)

    return build


class _Base:
    """Configuration, URLs and the control requests; subclasses add a transport."""

    def __init__(
        self,
        *,
        url: str | None = None,
        token: str | None = None,
        userkey: str | None = None,
        balance: Money | None = None,
        rate_per_minute: Money | None = None,
        verified_callerids: Iterable[str] | None = None,
        callflows: Iterable[str] | None = None,
        email: str | None = None,
        secure_phrase: str | None = None,
        require_signature: bool | None = None,
        start: datetime | str | None = None,
        clock_rate: float | None = 0.0,
        scenarios: Iterable[Mapping[str, Any]] = (),
        faults: Iterable[Mapping[str, Any]] = (),
        settings: Settings | None = None,
        options: ServerOptions | None = None,
    ) -> None:
        if url is not None and (settings is not None or options is not None):
            raise ValueError("settings and options configure a server this controller "
                             "starts; a remote server is configured by its own command line")
        # Lists, not the caller's iterables: the async twin and reset() read them again.
        verified_callerids = None if verified_callerids is None else list(verified_callerids)
        callflows = None if callflows is None else list(callflows)
        scenarios = [dict(s) for s in scenarios]
        faults = [dict(f) for f in faults]
        self._arguments = {name: value for name, value in locals().items()
                           if name not in ("self", "__class__")}
        given: dict[str, Any] = {
            "userkey": userkey, "email": email, "secure_phrase": secure_phrase,
            "require_signature": require_signature, "clock_rate": clock_rate,
            "balance": None if balance is None else str(balance),
            "rate_per_minute": None if rate_per_minute is None else str(rate_per_minute),
            "verified_callerids": verified_callerids, "callflows": callflows,
            "start": None if start is None else iso_moment(start),
        }
        self._spec = _Spec(url.rstrip("/") if url else None, token,
                           {k: v for k, v in given.items() if v is not None},
                           scenarios, faults, settings, options)
        self._base: str | None = None
        self._userkey: str | None = None

    # ---- what the controller knows locally ----
    @property
    def url(self) -> str:
        """The server's base URL, e.g. ``http://127.0.0.1:38211``."""
        if self._base is None:
            raise RuntimeError("not started: use `with MockAnveo() as anveo:` (or open())")
        return self._base

    @property
    def api_url(self) -> str:
        """The XML ("v3") door: POST ``<REQUEST>`` documents here."""
        return self.url + "/api/v3.asp"

    @property
    def apicall_url(self) -> str:
        """The legacy XML door ``/apicall.asp``."""
        return self.url + "/apicall.asp"

    @property
    def v2_url(self) -> str:
        """The HTTP GET ("v2") door."""
        return self.url + "/api/v2.asp"

    @property
    def userkey(self) -> str:
        """This controller's tenant: the USERKEY your client must send."""
        if self._userkey is None:
            raise RuntimeError("not started: use `with MockAnveo() as anveo:` (or open())")
        return self._userkey

    # ---- control requests ----
    def _token(self) -> str | None:
        options = self._spec.options  # a server we start with a token is driven with it
        return self._spec.token or (options.control_token if options is not None else None)

    @property
    def _t(self) -> str:
        return "/_mock/tenants/" + quote(self.userkey, safe="")

    def _create(self) -> _Op[dict[str, Any]]:
        # One request: the tenant with its preset scenario and fault rules.
        body = dict(self._spec.tenant)
        if self._spec.scenarios:
            body["scenarios"] = [dict(doc) for doc in self._spec.scenarios]
        if self._spec.faults:
            body["faults"] = [dict(doc) for doc in self._spec.faults]
        return _Op("POST", "/_mock/tenants", _dict, body)

    def _delete(self) -> _Op[list[ServerError]]:
        # The server answers a deletion with the tenant's unexpected errors, saving a request.
        return _Op("DELETE", self._t, lambda d: _server_errors((d or {}).get("errors", [])),
                   missing_ok=True)

    def _reset(self) -> _Op[dict[str, Any]]:
        return _Op("POST", self._t + "/reset", _dict)

    def _advance(self, seconds: float | timedelta | None, to: datetime | str | None,
                 until_idle: bool, max_seconds: float | None) -> _Op[Clock]:
        body: dict[str, Any] = {}
        if seconds is not None:
            body["seconds"] = (seconds.total_seconds() if isinstance(seconds, timedelta)
                               else seconds)
        if to is not None:
            body["to"] = iso_moment(to)
        if until_idle:
            body["until_idle"] = True
            if max_seconds is not None:
                body["max_seconds"] = max_seconds
        if len(body) - ("max_seconds" in body) != 1:
            raise TypeError("advance() takes exactly one of seconds, to= or until_idle=True")
        return _Op("POST", self._t + "/clock/advance", Clock.from_json, body)

    def _calls(self, status: str | None, action: str | None,
               billingcode: str | None) -> _Op[list[Call]]:
        query = {k: v for k, v in (("status", status), ("action", action),
                                   ("billingcode", billingcode)) if v is not None}
        suffix = "?" + urlencode(query) if query else ""
        return _Op("GET", f"{self._t}/calls{suffix}", lambda d: [Call.from_json(c) for c in d])

    def _journal(self, action: str | None, kind: str | None) -> _Op[list[JournalEntry]]:
        query = {k: v for k, v in (("action", action), ("kind", kind)) if v is not None}
        suffix = "?" + urlencode(query) if query else ""
        return _Op("GET", f"{self._t}/journal{suffix}",
                   lambda d: [JournalEntry.from_json(e) for e in d["entries"]])

    def _add(self, kind: str, doc: Mapping[str, Any]) -> _Op[dict[str, Any]]:
        return _Op("POST", f"{self._t}/{kind}", _dict, dict(doc))

    def _remove(self, rule: str | Mapping[str, Any]) -> _Op[None]:
        rule_id = str(rule["id"] if isinstance(rule, Mapping) else rule)
        kind = "faults" if rule_id.startswith("f") else "scenarios"  # the server's id prefixes
        return _Op("DELETE", f"{self._t}/{kind}/{quote(rule_id, safe='')}", _none)

    def _errors(self) -> _Op[list[ServerError]]:
        return _Op("GET", self._t + "/errors", _server_errors)


def _server_errors(docs: Any) -> list[ServerError]:
    return [ServerError(e.get("where", ""), e.get("error", ""), e.get("traceback", ""),
                        e.get("userkey")) for e in docs]


def _scenario_doc(match: str, outcome: str | None, given: dict[str, Any]) -> dict[str, Any]:
    doc = {"match": match, "outcome": outcome, **given}
    return {k: v for k, v in doc.items() if v is not None}


def _fault_doc(kind: str, times: int | None, given: dict[str, Any]) -> dict[str, Any]:
    doc = {k: v for k, v in given.items() if v is not None}
    doc.update(kind=kind, times=times)  # times=None is sent: it means "every time"
    return doc


class MockAnveo(_Base):
    """A controller bound to one fresh tenant; blocking verbs (``with``) or async (``async with``).

    Without ``url`` it starts its own server on 127.0.0.1 (a thread for ``with``, the running
    loop for ``async with``); ``settings`` and ``options`` configure that server. Tenant fields
    (``balance``, ``verified_callerids``, ...) preset the account; ``scenarios`` and ``faults``
    (JSON rules) are added at start and again by ``reset()``. ``clock_rate=0`` (the default)
    freezes the tenant's clock so only ``advance`` moves it; None keeps the server's default.
    """

    _server: ThreadedServer | None = None
    _async: AsyncMockAnveo | None = None
    _conn: _Connection

    @classmethod
    def remote(cls, url: str, token: str | None = None, **tenant: Any) -> MockAnveo:
        """A controller for the server already running at ``url`` (control ``token`` if set)."""
        return cls(url=url, token=token, **tenant)

    # ---- lifecycle ----
    def open(self) -> Self:
        """Start the server if this controller owns one, then create and preset the tenant."""
        if self._spec.url is None:
            from ..http.server import ThreadedServer  # lazily, as above

            self._server = ThreadedServer(_world_factory(self._spec.settings),
                                          self._spec.options).start()
            self._base = self._server.url
        else:
            self._base = self._spec.url
        self._conn = _connection(self._base, self._token())
        try:
            self._setup()
        except BaseException:
            with contextlib.suppress(ControlError, OSError):  # keep the first error
                self.close()  # a tenant whose preset rules failed must not linger
            raise
        return self

    def _setup(self) -> None:
        self._userkey = self._run(self._create())["userkey"]

    def close(self) -> list[ServerError]:
        """Delete the tenant, stop the server this controller started (if any), and return
        the unexpected exceptions the server recorded for the tenant."""
        errors: list[ServerError] = []
        try:
            if self._userkey is not None and self._base is not None:
                errors = self._run(self._delete())
        finally:
            self._userkey = None
            self._stop_server()
        return errors

    def _stop_server(self) -> None:
        if self._server is not None:
            _forget(self._server.url)
            self._server.stop()
            self._server = None
            self._base = None

    def __enter__(self) -> Self:
        return self.open()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        errors = self.close()
        if errors:  # a server bug must not pass silently; chained to the block's own error
            raise UnexpectedServerError(errors) from exc

    async def __aenter__(self) -> AsyncMockAnveo:
        self._async = AsyncMockAnveo(**self._arguments)  # the same configuration, over aiohttp
        return await self._async.open()

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        if self._async is not None:
            controller, self._async = self._async, None
            await controller.__aexit__(exc_type, exc, tb)

    def _run(self, op: _Op[T]) -> T:
        status, data = self._conn.request(op.method, op.path, _body(op))
        return _finish(op, status, data)

    # ---- verbs ----
    def tenant(self) -> dict[str, Any]:
        """The tenant as the control API shows it: account, money, clock, counters."""
        return self._run(_Op("GET", self._t, _dict))

    def balance(self) -> Decimal:
        """The account balance in USD."""
        return Decimal(self.tenant()["balance"])

    def set_account(self, **fields: Any) -> dict[str, Any]:
        """Change account fields (balance, verified_callerids, require_signature, ...)."""
        fields = {k: str(v) if isinstance(v, Decimal) else v for k, v in fields.items()}
        return self._run(_Op("PATCH", self._t, _dict, fields))

    def clock(self) -> Clock:
        """The tenant's virtual clock."""
        return self._run(_Op("GET", self._t + "/clock", Clock.from_json))

    def now(self) -> datetime:
        """The tenant's virtual time (UTC)."""
        return self.clock().now

    def advance(self, seconds: float | timedelta | None = None, *,
                to: datetime | str | None = None, until_idle: bool = False,
                max_seconds: float | None = None) -> Clock:
        """Move virtual time by ``seconds``, ``to`` a moment, or ``until_idle``; due events fire."""
        return self._run(self._advance(seconds, to, until_idle, max_seconds))

    def calls(self, *, status: str | None = None, action: str | None = None,
              billingcode: str | None = None) -> list[Call]:
        """The tenant's calls, oldest first, optionally filtered."""
        return self._run(self._calls(status, action, billingcode))

    def call(self, requestid: str) -> Call:
        """One call by its REQUESTID (ControlError 404 when unknown)."""
        return self._run(_Op("GET", f"{self._t}/calls/{quote(requestid, safe='')}",
                             Call.from_json))

    def journal(self, action: str | None = None, *, kind: str | None = None
                ) -> list[JournalEntry]:
        """Journal entries (exchanges and call transitions), optionally by action and kind."""
        return self._run(self._journal(action, kind))

    def requests(self, action: str | None = None) -> Requests:
        """The API requests received (optionally of one action), as ``Requests``."""
        entries = self._run(self._journal(action, "exchange"))
        return Requests(entries)

    def scenario(self, match: str = "*", outcome: str | None = None, *,
                 action: str | None = None, leg: str | None = None, ring: float | None = None,
                 talk: float | None = None, sequence: Sequence[str | Mapping[str, Any]] |
                 None = None, weights: Mapping[str, float] | None = None,
                 times: int | None = None, result: str | None = None) -> dict[str, Any]:
        """Make numbers matching ``match`` (a number or glob) behave so; returns the rule."""
        given = {"action": action, "leg": leg, "ring": ring, "talk": talk, "times": times,
                 "sequence": None if sequence is None else list(sequence),
                 "weights": None if weights is None else dict(weights), "result": result}
        return self._run(self._add("scenarios", _scenario_doc(match, outcome, given)))

    def fault(self, kind: str, *, action: str | None = None, door: str | None = None,
              nth: int | None = None, probability: float | None = None,
              times: int | None = 1, when: str | None = None, seconds: float | None = None,
              status: int | None = None) -> dict[str, Any]:
        """Spoil matching API requests on purpose (``times=None``: every time); returns the rule."""
        given = {"action": action, "door": door, "nth": nth, "probability": probability,
                 "when": when, "seconds": seconds, "status": status}
        return self._run(self._add("faults", _fault_doc(kind, times, given)))

    def scenarios(self) -> list[dict[str, Any]]:
        """The tenant's scenario rules, with their ``used`` counts."""
        return self._run(_Op("GET", self._t + "/scenarios", _dicts))

    def faults(self) -> list[dict[str, Any]]:
        """The tenant's fault rules, with their ``seen`` and ``fired`` counts."""
        return self._run(_Op("GET", self._t + "/faults", _dicts))

    def remove(self, rule: str | Mapping[str, Any]) -> None:
        """Delete one scenario or fault rule (its dict or its id)."""
        self._run(self._remove(rule))

    def reset(self) -> None:
        """Back to the start: the same USERKEY, fresh account, clock, calls, journal and rules."""
        self._run(self._reset())

    def errors(self) -> list[ServerError]:
        """Unexpected exceptions the server recorded for this tenant (should be empty)."""
        return self._run(self._errors())

    def check_errors(self) -> None:
        """Raise UnexpectedServerError if the server recorded exceptions for this tenant."""
        found = self.errors()
        if found:
            raise UnexpectedServerError(found)


class AsyncMockAnveo(_Base):
    """The ``async with`` twin of ``MockAnveo``: the same verbs, awaited, over aiohttp."""

    _running: RunningServer | None = None
    _session: aiohttp.ClientSession | None = None

    @classmethod
    def remote(cls, url: str, token: str | None = None, **tenant: Any) -> AsyncMockAnveo:
        """A controller for the server already running at ``url``."""
        return cls(url=url, token=token, **tenant)

    async def open(self) -> Self:
        """Start the server in this loop if this controller owns one; create the tenant."""
        import aiohttp

        if self._spec.url is None:
            from ..http.server import start

            factory = _world_factory(self._spec.settings)
            self._running = await start(factory() if factory else None, self._spec.options)
            self._base = self._running.url
        else:
            self._base = self._spec.url
        headers = {"Accept": "application/json", "Content-Type": "application/json"}
        token = self._token()
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._session = aiohttp.ClientSession(
            headers=headers, timeout=aiohttp.ClientTimeout(total=CONTROL_TIMEOUT))
        try:
            await self._setup()
        except BaseException:
            with contextlib.suppress(ControlError, OSError):  # keep the first error
                await self.close()  # a tenant whose preset rules failed must not linger
            raise
        return self

    async def _setup(self) -> None:
        self._userkey = (await self._run(self._create()))["userkey"]

    async def close(self) -> list[ServerError]:
        """Delete the tenant, close the session, stop the server this controller started;
        returns the unexpected exceptions the server recorded for the tenant."""
        errors: list[ServerError] = []
        try:
            if self._userkey is not None and self._session is not None:
                errors = await self._run(self._delete())
        finally:
            self._userkey = None
            await self._shutdown()
        return errors

    async def _shutdown(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._running is not None:
            await self._running.stop()
            self._running = None
            self._base = None

    async def __aenter__(self) -> Self:
        return await self.open()

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        errors = await self.close()
        if errors:
            raise UnexpectedServerError(errors) from exc

    async def _run(self, op: _Op[T]) -> T:
        assert self._session is not None, "not started: use `async with MockAnveo() as anveo:`"
        async with self._session.request(op.method, self.url + op.path,
                                         data=_body(op)) as response:
            data = await response.read()
            return _finish(op, response.status, data)

    # ---- verbs: see MockAnveo for what each does ----
    async def tenant(self) -> dict[str, Any]:
        """The tenant as the control API shows it."""
        return await self._run(_Op("GET", self._t, _dict))

    async def balance(self) -> Decimal:
        """The account balance in USD."""
        return Decimal((await self.tenant())["balance"])

    async def set_account(self, **fields: Any) -> dict[str, Any]:
        """Change account fields (balance, verified_callerids, ...)."""
        fields = {k: str(v) if isinstance(v, Decimal) else v for k, v in fields.items()}
        return await self._run(_Op("PATCH", self._t, _dict, fields))

    async def clock(self) -> Clock:
        """The tenant's virtual clock."""
        return await self._run(_Op("GET", self._t + "/clock", Clock.from_json))

    async def now(self) -> datetime:
        """The tenant's virtual time (UTC)."""
        return (await self.clock()).now

    async def advance(self, seconds: float | timedelta | None = None, *,
                      to: datetime | str | None = None, until_idle: bool = False,
                      max_seconds: float | None = None) -> Clock:
        """Move virtual time by ``seconds``, ``to`` a moment, or ``until_idle``."""
        return await self._run(self._advance(seconds, to, until_idle, max_seconds))

    async def calls(self, *, status: str | None = None, action: str | None = None,
                    billingcode: str | None = None) -> list[Call]:
        """The tenant's calls, oldest first, optionally filtered."""
        return await self._run(self._calls(status, action, billingcode))

    async def call(self, requestid: str) -> Call:
        """One call by its REQUESTID."""
        return await self._run(_Op("GET", f"{self._t}/calls/{quote(requestid, safe='')}",
                                   Call.from_json))

    async def journal(self, action: str | None = None, *, kind: str | None = None
                      ) -> list[JournalEntry]:
        """Journal entries, optionally by action and kind."""
        return await self._run(self._journal(action, kind))

    async def requests(self, action: str | None = None) -> Requests:
        """The API requests received (optionally of one action)."""
        entries = await self._run(self._journal(action, "exchange"))
        return Requests(entries)

    async def scenario(self, match: str = "*", outcome: str | None = None, *,
                       action: str | None = None, leg: str | None = None,
                       ring: float | None = None, talk: float | None = None,
                       sequence: Sequence[str | Mapping[str, Any]] | None = None,
                       weights: Mapping[str, float] | None = None, times: int | None = None,
                       result: str | None = None) -> dict[str, Any]:
        """Make numbers matching ``match`` behave so; returns the rule."""
        given = {"action": action, "leg": leg, "ring": ring, "talk": talk, "times": times,
                 "sequence": None if sequence is None else list(sequence),
                 "weights": None if weights is None else dict(weights), "result": result}
        return await self._run(self._add("scenarios", _scenario_doc(match, outcome, given)))

    async def fault(self, kind: str, *, action: str | None = None, door: str | None = None,
                    nth: int | None = None, probability: float | None = None,
                    times: int | None = 1, when: str | None = None,
                    seconds: float | None = None, status: int | None = None) -> dict[str, Any]:
        """Spoil matching API requests on purpose; returns the rule."""
        given = {"action": action, "door": door, "nth": nth, "probability": probability,
                 "when": when, "seconds": seconds, "status": status}
        return await self._run(self._add("faults", _fault_doc(kind, times, given)))

    async def scenarios(self) -> list[dict[str, Any]]:
        """The tenant's scenario rules."""
        return await self._run(_Op("GET", self._t + "/scenarios", _dicts))

    async def faults(self) -> list[dict[str, Any]]:
        """The tenant's fault rules."""
        return await self._run(_Op("GET", self._t + "/faults", _dicts))

    async def remove(self, rule: str | Mapping[str, Any]) -> None:
        """Delete one scenario or fault rule."""
        await self._run(self._remove(rule))

    async def reset(self) -> None:
        """Back to the start, same USERKEY."""
        await self._run(self._reset())

    async def errors(self) -> list[ServerError]:
        """Unexpected exceptions the server recorded for this tenant."""
        return await self._run(self._errors())

    async def check_errors(self) -> None:
        """Raise UnexpectedServerError if the server recorded exceptions for this tenant."""
        found = await self.errors()
        if found:
            raise UnexpectedServerError(found)

