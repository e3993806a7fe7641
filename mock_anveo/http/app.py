"""The aiohttp application: Anveo's front doors, fault injection, and the control API mount.

Every door answers HTTP 200 with an Anveo envelope, errors included; an unexpected exception
becomes an INTERNAL envelope and is stored so the pytest plugin can fail the test with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import time
import traceback
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from ..errors import AnveoError, Code, shown
from ..sim.faults import pick
from ..sim.world import World
from ..wire import pipeline


@dataclass(slots=True)
class ServerOptions:
    """Bounds and switches of one server (the CLI and the controller fill these in)."""

    max_body: int = 64 * 1024
    read_timeout: float = 10.0
    control_token: str | None = None
    shutting_down: bool = False
    # Set at shutdown so injected latency and hangs end at once instead of holding it up.
    stopping: asyncio.Event = field(default_factory=asyncio.Event)


async def _pause(options: ServerOptions, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(options.stopping.wait(), seconds)


WORLD = web.AppKey("world", World)
OPTIONS = web.AppKey("options", ServerOptions)
INTERNAL_ERRORS = web.AppKey("internal_errors", list)  # list[dict[str, Any]]
STARTED = web.AppKey("started", float)
CONTROL_MAX_BODY = 256 * 1024 * 1024
#: Longest v2 query string: 100 parameters of ordinary length fit many times over.
QUERY_MAX = 16_384
#: Header bounds answered with an envelope; server.py sets aiohttp's own, higher, limits.
HEADERS_MAX = 128  # aiohttp's own default limit, now answered with an envelope
HEADER_SIZE_MAX = 8_190
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _check_headers(request: web.Request) -> None:
    if len(request.raw_headers) > HEADERS_MAX:
        raise AnveoError(Code.BAD_QUERY, f"the request has {len(request.raw_headers)} HTTP "
                                         f"headers; this server takes at most {HEADERS_MAX}")
    for name, value in request.raw_headers:
        if len(name) + len(value) > HEADER_SIZE_MAX:
            raise AnveoError(Code.BAD_QUERY, f"HTTP header {shown(name.decode('latin-1'))} is "
                                             f"{len(value)} bytes; at most {HEADER_SIZE_MAX}")

XML_TYPE = "application/xml"
MAINTENANCE_PAGE = (b"<!DOCTYPE html>\n<html><head><title>Service Unavailable</title></head>"
                    b"<body><h1>Down for maintenance</h1><p>Please try again later.</p>"
                    b"</body></html>\n")
_DOORS = {"/api/v3.asp": "v3", "/apicall.asp": "apicall", "/api/v2.asp": "v2"}
_XML_HEADERS = {"Content-Type": f"{XML_TYPE}; charset=utf-8"}


def _xml(body: bytes) -> web.Response:
    return web.Response(body=body, headers=_XML_HEADERS)  # copied, so sharing is safe


def note_internal_error(request: web.Request, exc: BaseException, where: str,
                        userkey: str | None) -> None:
    """Keep an unexpected exception for the control API (bounded to the last 100)."""
    errors = request.config_dict[INTERNAL_ERRORS]
    errors.append({"where": where, "userkey": userkey, "error": repr(exc),
                   "traceback": "".join(traceback.format_exception(exc))})
    del errors[:-100]


def _buffered(request: web.Request) -> bytes | None:
    """The whole body when it already sits in aiohttp's buffer, else None.

    Any public read (``read``, ``read_nowait``) ends in ``resume_reading``, which re-enters the
    HTTP parser with no data: measured under wrk, 2-4 us per request, up to a tenth of the
    floor's whole budget. So the buffer is read in place; this relies on ``StreamReader``
    internals, checked here, and falls back to the public read whenever they look different.
    aiohttp drops the unread payload after the handler, as it does for any handler that
    ignores a body.
    """
    content = request.content
    if not content.is_eof() or content.exception() is not None:
        return None
    chunks = getattr(content, "_buffer", None)
    if type(chunks) is not deque or getattr(content, "_buffer_offset", None) != 0:
        return content.read_nowait()
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


async def _read_body(request: web.Request, options: ServerOptions) -> bytes:
    body = _buffered(request)  # any request that arrived with its headers
    if body is None:
        length = request.content_length
        if length is not None and length > options.max_body:
            raise AnveoError(Code.BODY_TOO_LARGE, f"the body is {length} bytes; this server "
                                                  f"takes at most {options.max_body} "
                                                  "(--max-body)")
        try:
            async with asyncio.timeout(options.read_timeout):
                body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            raise AnveoError(Code.BODY_TOO_LARGE, f"the body exceeds {options.max_body} "
                                                  "bytes (--max-body)") from None
        except TimeoutError:
            raise AnveoError(Code.READ_TIMEOUT, f"the body did not arrive within "
                                                f"{options.read_timeout} seconds") from None
    if len(body) > options.max_body:
        raise AnveoError(Code.BODY_TOO_LARGE, f"the body is {len(body)} bytes; this server "
                                              f"takes at most {options.max_body} (--max-body)")
    return body


async def _with_form(request: web.Request, options: ServerOptions, query: str) -> str:
    """The query string, with a POSTed form body (the GET doors accept both) appended."""
    if request.method != "POST" or not request.can_read_body:
        return query
    try:
        form = (await _read_body(request, options)).decode("utf-8")
    except UnicodeDecodeError:
        raise AnveoError(Code.BAD_QUERY, "the form body is not valid UTF-8") from None
    return "&".join(part for part in (query, form.strip()) if part)


def _refusal(error: AnveoError, world: World, door: str, raw: bytes) -> web.Response:
    return _xml(pipeline.refuse(world, door, raw, error).body)


def api_door(world: World, options: ServerOptions, door: str, path: str,
             pipe: pipeline.Pipeline | None = None) -> Handler:
    """The handler of one XML or query door: POST /api/v3.asp, POST /apicall.asp, or GET
    /api/v2.asp (POSTed forms accepted too); world, options and door are bound once here."""
    pipe = pipe or pipeline.Pipeline(world)

    async def handle(request: web.Request) -> web.StreamResponse:
        if options.shutting_down:
            return _refusal(AnveoError(Code.SHUTTING_DOWN, "the server is shutting down"),
                            world, door, b"")
        raw = b""
        exchange: pipeline.Exchange | None = None
        try:
            _check_headers(request)
            query: str | None = None
            if door == "v2":
                if request.method not in ("GET", "POST", "HEAD"):
                    raise AnveoError(Code.METHOD_NOT_ALLOWED, f"{request.method} is not "
                                                              "accepted on /api/v2.asp; use GET")
                query = request.rel_url.raw_query_string
                if len(query) > QUERY_MAX:
                    raise AnveoError(Code.BAD_QUERY, f"the query string is {len(query)} bytes; "
                                                     f"this server takes at most {QUERY_MAX}")
                query = await _with_form(request, options, query)
                raw = query.encode("latin-1", "replace")
            else:
                if request.method != "POST":
                    raise AnveoError(Code.METHOD_NOT_ALLOWED,
                                     f"{request.method} is not accepted on {path}: POST a "
                                     "<REQUEST> XML document")
                raw = await _read_body(request, options)
            exchange = pipe.receive(door, raw, query=query)
            fault = _fault(exchange, "before")
            if fault is not None:
                return await _perform(request, exchange, fault, world)
            pipeline.execute(exchange)
            fault = _fault(exchange, "after")
            if fault is not None:
                return await _perform(request, exchange, fault, world)
            pipeline.record(world, exchange)
            return _xml(exchange.body)
        except AnveoError as error:
            return _refusal(error, world, door, raw)
        except Exception as exc:  # noqa: BLE001 - a bug must still produce an envelope, not a 500
            userkey = exchange.request.userkey if exchange and exchange.request else None
            note_internal_error(request, exc, f"{request.method} {request.path}", userkey)
            return _refusal(AnveoError(Code.INTERNAL, f"internal error in mock-anveo: {exc!r}"),
                            world, door, raw)

    return handle


def _fault(exchange: pipeline.Exchange, when: str) -> Any:
    tenant = exchange.tenant
    if tenant is None or not tenant.faults:
        return None
    return pick(tenant.faults, exchange.action, exchange.door, when, tenant.fault_rng)


async def _perform(request: web.Request, exchange: pipeline.Exchange, fault: Any,
                   world: World) -> web.StreamResponse:
    """Carry out a fault. A 'before' fault leaves the request unprocessed, except latency,
    which only delays a normal reply."""
    exchange.fault = f"{fault.kind}:{fault.id}:{fault.when}"
    if not exchange.body:  # not processed yet: a 'before' fault
        if fault.kind == "latency":
            pipeline.execute(exchange)
        elif fault.kind == "truncated":  # half of a refusal the request never got to
            exchange.error = AnveoError(Code.FAULT, "the reply was cut short on purpose "
                                                    "(a truncated fault; nothing was done)")
            pipeline.execute(exchange)
    pipeline.record(world, exchange)
    options = request.app[OPTIONS]
    if fault.kind == "latency":
        await _pause(options, fault.seconds)
        return _xml(exchange.body)
    if fault.kind == "http-status":
        return web.Response(status=fault.status, text=f"{fault.status} injected by mock-anveo\n")
    if fault.kind == "html":
        return web.Response(body=MAINTENANCE_PAGE, content_type="text/html", charset="utf-8")
    if fault.kind == "truncated":
        body = exchange.body
        return web.Response(body=body[: max(1, len(body) // 2)], content_type=XML_TYPE,
                            charset="utf-8")
    if fault.kind == "hang":
        await _pause(options, fault.seconds)
    _reset(request)
    raise asyncio.CancelledError  # aiohttp drops the handler quietly; the socket is gone


def _reset(request: web.Request) -> None:
    transport = request.transport
    if transport is None:
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        # SO_LINGER with a zero timeout makes close() send RST: the client sees a reset.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


async def text_door(request: web.Request) -> web.Response:
    """GET or POST (form) /api/v1.asp: the legacy SMS door, plain-text replies."""
    from ..wire import textdoor

    world = request.app[WORLD]
    options = request.app[OPTIONS]
    query = request.rel_url.raw_query_string
    error: AnveoError | None = None
    try:
        _check_headers(request)
        query = await _with_form(request, options, query)
        body, tenant, error = textdoor.handle(world, query)
    except AnveoError as refused:
        body, tenant, error = textdoor.render([("result", "error"),
                                               ("error", refused.message)]), None, refused
    except Exception as exc:  # noqa: BLE001 - a bug must still answer 200, and be recorded
        note_internal_error(request, exc, f"{request.method} {request.path}", None)
        error = AnveoError(Code.INTERNAL, f"internal error in mock-anveo: {exc!r}")
        body, tenant = textdoor.render([("result", "error"), ("error", error.message)]), None
    journal = tenant.journal if tenant is not None else world.unattributed
    journal.exchange(tenant.clock.now() if tenant else 0.0, world.wallclock(), "v1", "SMS",
                     None, query.encode("utf-8", "replace"), body.decode("utf-8"),
                     error.code.value if error else "", "")
    return web.Response(body=body, content_type="text/plain", charset="utf-8")


async def not_found(request: web.Request) -> web.Response:
    """Any other path: a plain 404 that lists what this server answers."""
    return web.Response(status=404, text=(
        f"mock-anveo: no route {request.method} {request.path}\n"
        "Anveo doors: POST /api/v3.asp, POST /apicall.asp, GET /api/v2.asp, /api/v1.asp\n"
        "Control API: /_mock/ (see /_mock/openapi.json)\n"))


def make_app(world: World | None = None, options: ServerOptions | None = None) -> web.Application:
    """Build the application around ``world`` (a fresh default world when None)."""
    from . import control

    options = options or ServerOptions()
    if world is None:
        world = World(monotonic=time.monotonic, wallclock=time.time)
    # The control API takes snapshots far larger than any Anveo request; the Anveo doors
    # enforce their own, smaller --max-body in _read_body.
    app = web.Application(client_max_size=max(options.max_body, CONTROL_MAX_BODY))
    app[WORLD] = world
    app[OPTIONS] = options
    app[INTERNAL_ERRORS] = []
    app[STARTED] = time.time()
    pipe = pipeline.Pipeline(world)  # one memo per server, shared by its doors
    for path, door in _DOORS.items():
        app.router.add_route("*", path, api_door(world, options, door, path, pipe))
    app.router.add_route("*", "/api/v1.asp", text_door)
    # A sub-application keeps the control API's middleware off the Anveo doors' hot path.
    app.add_subapp(control.PREFIX + "/", control.make_control_app())
    app.router.add_route("*", "/{tail:.*}", not_found)
    return app
