"""The aiohttp application: Anveo's front doors and the control API mount.

Every door answers HTTP 200 with an Anveo envelope, errors included; an unexpected exception
becomes an INTERNAL envelope and is stored so the pytest plugin can fail the test with it.
Anveo's ``.asp`` pages run on IIS, which ignores letter case in paths, so the doors answer
``/API/V3.ASP`` too; the control API under ``/_mock/`` stays case sensitive.
"""

from __future__ import annotations

import time
from urllib.parse import parse_qsl

from aiohttp import web

from ..errors import AnveoError, Code
from ..sim.world import World
from ..wire import pipeline, textdoor
from . import body, control, events, inject, ui
from .base import (
    EXCHANGE,
    INTERNAL_ERRORS,
    OPTIONS,
    STARTED,
    WORLD,
    Handler,
    ServerOptions,
    note_internal_error,
)
from .body import QUERY_MAX, check_headers, close_if_stalled, exact, read_body, with_form
from .control.notify import SINKS
from .delivery import DELIVERY, delivery_options, run_pump

__all__ = ["OPTIONS", "WORLD", "ServerOptions", "make_app"]

CONTROL_MAX_BODY = 256 * 1024 * 1024
XML_TYPE = "application/xml"
_DOORS = {"/api/v3.asp": "v3", "/apicall.asp": "apicall", "/api/v2.asp": "v2"}
TEXT_DOOR = "/api/v1.asp"
_XML_HEADERS = {"Content-Type": f"{XML_TYPE}; charset=utf-8"}


def _xml(envelope: bytes) -> web.Response:
    return web.Response(body=envelope, headers=_XML_HEADERS)  # copied, so sharing is safe


class XmlDoor:
    """The fault path's view of the XML and GET doors (``inject.Door``)."""

    content_type = XML_TYPE

    def __init__(self, world: World) -> None:
        self.world = world

    def process(self, exchange: pipeline.Exchange) -> None:
        """Run the request's action and render its reply."""
        pipeline.execute(exchange)

    def refuse(self, exchange: pipeline.Exchange, error: AnveoError) -> None:
        """Render ``error`` as the reply, without running the action."""
        exchange.error = error
        pipeline.execute(exchange)

    def record(self, exchange: pipeline.Exchange) -> None:
        """Journal the exchange on its tenant."""
        pipeline.record(self.world, exchange)

    def reply(self, exchange: pipeline.Exchange) -> web.Response:
        """The envelope, HTTP 200."""
        return _xml(exchange.body)


def _refusal(
    request: web.Request, error: AnveoError, world: World, door: str, raw: bytes
) -> web.Response:
    exchange = pipeline.refuse(world, door, raw, error)
    request[EXCHANGE] = exchange
    return _xml(exchange.body)


def api_door(
    world: World, options: ServerOptions, door: str, path: str, pipe: pipeline.Pipeline
) -> Handler:
    """The handler of one XML or query door: POST /api/v3.asp, POST /apicall.asp, or GET
    /api/v2.asp (POSTed forms accepted too); world, options and door are bound once here."""
    xml_door = XmlDoor(world)

    async def handle(request: web.Request) -> web.StreamResponse:
        query = request.rel_url.raw_query_string if door == "v2" else None
        raw = b"" if query is None else exact(query)  # any refusal goes to the query's tenant
        if options.shutting_down:
            error = AnveoError(Code.SHUTTING_DOWN, "the server is shutting down")
            return _refusal(request, error, world, door, raw)
        exchange: pipeline.Exchange | None = None
        try:
            check_headers(request)
            if query is not None:
                if request.method not in ("GET", "POST", "HEAD"):
                    raise AnveoError(
                        Code.METHOD_NOT_ALLOWED,
                        f"{request.method} is not accepted on /api/v2.asp; use GET",
                    )
                if len(query) > QUERY_MAX:
                    raise AnveoError(
                        Code.BAD_QUERY,
                        f"the query string is {len(query)} bytes; "
                        f"this server takes at most {QUERY_MAX}",
                    )
                form = await with_form(request, options, query)
                if form is not query:
                    query, raw = form, exact(form)
            else:
                if request.method != "POST":
                    raw = await body.received_body(request, options)  # only to find its tenant
                    raise AnveoError(
                        Code.METHOD_NOT_ALLOWED,
                        f"{request.method} is not accepted on {path}: POST a "
                        "<REQUEST> XML document",
                    )
                raw = await read_body(request, options)
            exchange = pipe.receive(door, raw, query=query)
            request[EXCHANGE] = exchange
            fault = inject.find(exchange, "before")
            if fault is not None:
                return await inject.perform(request, xml_door, exchange, fault)
            pipeline.execute(exchange)
            fault = inject.find(exchange, "after")
            if fault is not None:
                return await inject.perform(request, xml_door, exchange, fault)
            pipeline.record(world, exchange)
            return _xml(exchange.body)
        except AnveoError as error:
            raw = body.arrived(request, query, raw)
            return await close_if_stalled(request, _refusal(request, error, world, door, raw))
        except Exception as exc:  # noqa: BLE001 - a bug must still produce an envelope, not a 500
            internal = AnveoError(Code.INTERNAL, f"internal error in mock-anveo: {exc!r}")
            reply = _refusal(request, internal, world, door, raw)
            owner = request[EXCHANGE].tenant  # the refusal's, also when the key is in the query
            userkey = exchange.request.userkey if exchange and exchange.request else None
            userkey = userkey or (owner.account.userkey if owner is not None else None)
            note_internal_error(request, exc, f"{request.method} {request.path}", userkey)
            return reply

    return handle


class TextExchange:
    """One request of the v1 text door on its way through (the fault path's exchange)."""

    __slots__ = ("action", "body", "door", "error", "fault", "query", "raw", "tenant")

    def __init__(self, world: World, query: str) -> None:
        self.door = "v1"
        self.action = "SMS"
        self.query = query
        self.raw = exact(query)
        self.tenant = world.get(_apikey(query))
        self.body = b""
        self.error: AnveoError | None = None
        self.fault = ""


def _apikey(query: str) -> str:
    """The ``apikey`` field as ``textdoor`` reads it (first one, key case and blanks ignored),
    so faults can be looked up before the request is carried out; "" when there is none."""
    try:
        pairs = parse_qsl(query, keep_blank_values=True, max_num_fields=50)
    except ValueError:
        return ""
    return next((v.strip(" \t\r\n") for k, v in pairs if k.strip().lower() == "apikey"), "")


class TextDoor:
    """The legacy SMS door's side of the fault path (``inject.Door``)."""

    content_type = "text/plain"

    def __init__(self, world: World) -> None:
        self.world = world

    def process(self, exchange: TextExchange) -> None:
        """Send the SMS (or refuse it) and render the text reply."""
        exchange.body, exchange.tenant, exchange.error = textdoor.handle(self.world, exchange.query)

    def refuse(self, exchange: TextExchange, error: AnveoError) -> None:
        """Render ``error`` as the reply, without sending anything."""
        exchange.error = error
        exchange.body = textdoor.render([("result", "error"), ("error", error.message)])

    def record(self, exchange: TextExchange) -> None:
        """Journal the exchange on its tenant (or the world's, for an unknown key)."""
        tenant, world, error = exchange.tenant, self.world, exchange.error
        journal = tenant.journal if tenant is not None else world.unattributed
        journal.exchange(
            tenant.clock.now() if tenant else 0.0,
            world.wallclock(),
            "v1",
            "SMS",
            textdoor.journal_params(exchange.query),
            exchange.raw,
            exchange.body.decode("utf-8"),
            error.code.value if error else "",
            exchange.fault,
        )

    def reply(self, exchange: TextExchange) -> web.Response:
        """The ``key=value^...`` text, HTTP 200."""
        return web.Response(body=exchange.body, content_type="text/plain", charset="utf-8")


def text_door(world: World, options: ServerOptions) -> Handler:
    """GET or POST (form) /api/v1.asp: the legacy SMS door, plain-text replies, faults as on
    the other doors."""
    door = TextDoor(world)

    async def handle(request: web.Request) -> web.StreamResponse:
        exchange = request[EXCHANGE] = TextExchange(world, request.rel_url.raw_query_string)
        try:
            check_headers(request)
            query = await with_form(request, options, request.rel_url.raw_query_string)
            exchange = request[EXCHANGE] = TextExchange(world, query)
            fault = inject.find(exchange, "before")
            if fault is not None:
                return await inject.perform(request, door, exchange, fault)
            door.process(exchange)
            fault = inject.find(exchange, "after")
            if fault is not None:
                return await inject.perform(request, door, exchange, fault)
        except AnveoError as refused:
            if body.RECEIVED in request:  # a refused form: the fields that arrived may name the key
                query = body.received_form(request, request.rel_url.raw_query_string)
                exchange = request[EXCHANGE] = TextExchange(world, query)
            door.refuse(exchange, refused)
        except Exception as exc:  # noqa: BLE001 - a bug must still answer 200, and be recorded
            note_internal_error(request, exc, f"{request.method} {request.path}", None)
            door.refuse(
                exchange, AnveoError(Code.INTERNAL, f"internal error in mock-anveo: {exc!r}")
            )
        door.record(exchange)
        return await close_if_stalled(request, door.reply(exchange))

    return handle


def fallback(doors: dict[str, Handler]) -> Handler:
    """Any other path: an Anveo door in another letter case, or a plain 404 listing what this
    server answers."""

    async def handle(request: web.Request) -> web.StreamResponse:
        door = doors.get(request.path.lower())
        if door is not None:
            return await door(request)
        return web.Response(
            status=404,
            text=(
                f"mock-anveo: no route {request.method} {request.path}\n"
                "Anveo doors: POST /api/v3.asp, POST /apicall.asp, GET /api/v2.asp, /api/v1.asp "
                "(any letter case)\nControl API: /_mock/ (see /_mock/openapi.json)\n"
            ),
        )

    return handle


def make_app(world: World | None = None, options: ServerOptions | None = None) -> web.Application:
    """Build the application around ``world`` (a fresh default world when None)."""
    options = options or ServerOptions()
    if world is None:
        world = World(monotonic=time.monotonic, wallclock=time.time)
    # The control API takes snapshots far larger than any Anveo request; the Anveo doors
    # enforce their own, smaller --max-body in read_body.
    app = web.Application(client_max_size=max(options.max_body, CONTROL_MAX_BODY))
    app[WORLD] = world
    app[OPTIONS] = options
    app[INTERNAL_ERRORS] = []
    app[STARTED] = time.time()
    app[DELIVERY] = delivery_options(options, world.settings.callback_allow)
    app[SINKS] = {}
    app.cleanup_ctx.append(run_pump)  # the shared client session and the delivery pump
    pipe = pipeline.Pipeline(world)  # one memo per server, shared by its doors
    doors: dict[str, Handler] = {
        path: api_door(world, options, door, path, pipe) for path, door in _DOORS.items()
    }
    doors[TEXT_DOOR] = text_door(world, options)
    hub = events.install(app, world, options)
    if options.console is not None:  # only then: the console's timing stays off the hot path
        names = {**_DOORS, TEXT_DOOR: "v1"}
        doors = {path: events.logged(hub, names[path], h) for path, h in doors.items()}
    for path, handler in doors.items():
        app.router.add_route("*", path, handler)
    ui.add_routes(app, fallback(doors))
    # A sub-application keeps the control API's error guard off the Anveo doors' hot path.
    app.add_subapp(control.PREFIX + "/", control.make_control_app())
    app.router.add_route("*", "/{tail:.*}", fallback(doors))
    return app
