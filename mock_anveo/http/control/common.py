"""What every control handler shares: the JSON renderer, the error guard, bodies and queries.

Every reply of the control API, errors included, is rendered by ``reply`` (strict JSON: never
a bare NaN or Infinity), and every refusal by ``refusal``. Bodies are parsed strictly too:
``NaN``, ``Infinity`` and numbers too large for a float are refused before any handler runs.
"""

from __future__ import annotations

import hmac
import json
import math
from collections.abc import Callable, Iterable
from typing import Any

from aiohttp import web

from ...errors import ControlError, SettingError
from ...sim.setup import Conflict, Missing
from ...sim.tenant import Tenant
from ..base import OPTIONS, WORLD, Handler, note_internal_error

PREFIX = "/_mock"
_NEEDS_TOKEN = (
    "this control API needs the token the server was started with (--control-token or "
    "MOCK_ANVEO_CONTROL_TOKEN): send the header 'Authorization: Bearer TOKEN' or "
    "'X-Mock-Token: TOKEN' (the pytest plugin sends MOCK_ANVEO_CONTROL_TOKEN from its "
    "environment; MockAnveo.remote(url, token) sends its token)"
)


def _dumps(data: Any) -> str:
    # Strict JSON, and a final newline like every line-oriented tool expects (curl, shells).
    return json.dumps(data, allow_nan=False) + "\n"


def reply(data: Any, status: int = 200) -> web.Response:
    """A JSON reply; strict JSON, so a NaN that slipped into a view is a bug, not a reply."""
    return web.json_response(data, status=status, dumps=_dumps)


def refusal(status: int, message: str, field: str | None = None, **extra: Any) -> web.Response:
    """The one shape of every control-API error: ``{"error", "field", ...extra}``."""
    return reply({"error": message, "field": field, **extra}, status)


class Refused(ControlError):
    """A ControlError with extra JSON fields for the error body (e.g. what is still pending)."""

    def __init__(self, status: int, message: str, field: str | None = None, **extra: Any) -> None:
        super().__init__(status, message, field)
        self.extra = extra


def _status(exc: SettingError) -> int:
    if isinstance(exc, Conflict):
        return 409
    return 404 if isinstance(exc, Missing) else 400


def guarded(handler: Handler, *, takes_query: bool = False, takes_body: bool = False) -> Handler:
    """Token check and error rendering around one control handler; a handler that does not
    read the query string (not ``takes_query``) or the body (not ``takes_body``) refuses one
    rather than ignore it.

    A wrapper per route rather than a middleware: any middleware on a sub-application makes
    aiohttp run the middleware chain for every request of the whole server, the Anveo doors'
    hot path included.
    """

    async def guard(request: web.Request) -> web.StreamResponse:
        token = request.config_dict[OPTIONS].control_token
        # The sink is called by the mock's own notifications, which carry no token.
        open_path = request.path == f"{PREFIX}/health" or request.path.startswith(f"{PREFIX}/sink/")
        if token and not open_path:
            given = (
                request.headers.get("X-Mock-Token")
                or request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
            )
            if not hmac.compare_digest(given.encode(), token.encode()):
                return refusal(401, _NEEDS_TOKEN, "Authorization")
        if request.query and not takes_query:
            key = next(iter(request.query))
            return refusal(
                400,
                f"{request.method} {request.path} takes no query parameters, got {key!r} "
                "(nothing was changed)",
                key,
            )
        try:
            if not takes_body:
                await _no_body(request)
            return await handler(request)
        except ControlError as exc:
            return refusal(exc.status, exc.message, exc.field, **getattr(exc, "extra", {}))
        except SettingError as exc:
            return refusal(_status(exc), exc.message, exc.field)
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            response = refusal(
                exc.status,
                f"{exc.reason}: {request.method} {request.path} "
                "(the control API is described at "
                "/_mock/openapi.json)",
            )
            if "Allow" in exc.headers:
                response.headers["Allow"] = exc.headers["Allow"]
            return response
        except Exception as exc:  # noqa: BLE001 - a bug must become a JSON error, not a traceback
            note_internal_error(
                request, exc, f"{request.method} {request.path}", request.match_info.get("userkey")
            )
            return refusal(500, f"internal error in mock-anveo: {exc!r}")

    return guard


async def _no_body(request: web.Request) -> None:
    """Refuse a body on a request that reads none (say, a reset given the fields it should
    apply), so nothing the caller meant is silently dropped; ``{}`` says nothing and passes."""
    if not request.body_exists:
        return
    raw = (await request.read()).strip()
    if raw and raw != b"{}":
        raise ControlError(
            400,
            f"{request.method} {request.path} takes no body, got {len(raw)} bytes "
            "(nothing was changed; the control API is described at /_mock/openapi.json)",
        )


class _NonFinite:
    """Stands where a body held NaN, Infinity or a number too large for a float."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


def _first_non_finite(doc: Any) -> tuple[list[str | int], str] | None:
    """The path to the first ``_NonFinite`` in ``doc`` (depth first) and its text."""
    stack: list[tuple[Any, list[str | int]]] = [(doc, [])]
    while stack:
        value, path = stack.pop()
        if isinstance(value, _NonFinite):
            return path, value.text
        items = (
            value.items()
            if isinstance(value, dict)
            else (enumerate(value) if isinstance(value, list) else ())
        )
        stack.extend((v, [*path, k]) for k, v in reversed(list(items)))
    return None


async def json_body(request: web.Request, *, required: bool = False) -> dict[str, Any]:
    """The request's JSON object body (``{}`` when empty and not ``required``).

    NaN, Infinity and numbers beyond a float are refused here, naming the field, so no
    handler, rule or snapshot ever holds one (and no reply could echo one back).
    """
    raw = await request.read()
    if not raw.strip():
        if required:
            raise ControlError(400, "this request needs a JSON object body")
        return {}
    found: list[_NonFinite] = []

    def non_finite(text: str) -> _NonFinite:
        found.append(_NonFinite(text))
        return found[-1]

    def real(text: str) -> float | _NonFinite:
        value = float(text)
        return value if math.isfinite(value) else non_finite(text)

    try:
        doc = json.loads(raw, parse_constant=non_finite, parse_float=real)
    except (ValueError, RecursionError) as exc:
        raise ControlError(400, f"the body is not valid JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise ControlError(400, "the body must be a JSON object")
    where = _first_non_finite(doc) if found else None
    if where is not None:
        path, text = where
        shown = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)[1:]
        raise ControlError(
            400,
            f"{shown} must be a finite number, got {text} (NaN and Infinity are not JSON numbers)",
            shown,
        )
    return doc


def tenant_of(request: web.Request) -> Tenant:
    """The tenant named by the path's ``{userkey}``, brought up to its clock's now."""
    userkey = request.match_info["userkey"]
    tenant = request.config_dict[WORLD].get(userkey)
    if tenant is None:
        raise ControlError(404, f"no tenant with userkey {userkey!r}", "userkey")
    tenant.sync()
    return tenant


# ---- query strings ---------------------------------------------------------------------------
Parse = Callable[[str], Any]


def choice(name: str, values: Iterable[str]) -> Parse:
    """A query value that must be one of ``values``, in any letter case (Anveo's names are
    upper case, the journal's kinds lower case; a value is given back as listed)."""
    by_fold = {v.casefold(): v for v in values}

    def parse(text: str) -> str:
        value = by_fold.get(text.casefold())
        if value is None:
            raise ControlError(
                400, f"{name} must be one of {sorted(by_fold.values())}, got {text!r}", name
            )
        return value

    return parse


def count(name: str, high: int = 10**12) -> Parse:
    """A query value that must be a whole number from 0 to ``high``."""

    def parse(text: str) -> int:
        if not text.isascii() or not text.isdigit() or len(text) > 13 or int(text) > high:
            raise ControlError(
                400, f"{name} must be a whole number from 0 to {high}, got {text!r}", name
            )
        return int(text)

    return parse


def text(name: str, longest: int = 256) -> Parse:
    """Free text, bounded."""

    def parse(value: str) -> str:
        if len(value) > longest:
            raise ControlError(400, f"{name} must be at most {longest} characters", name)
        return value

    return parse


def query(request: web.Request, spec: dict[str, Parse]) -> dict[str, Any]:
    """The query string checked against ``spec`` (name -> parser): an unknown or repeated
    key, or a value a parser refuses, is a 400 that lists what is valid."""
    found: dict[str, Any] = {}
    for key, value in request.query.items():
        if key not in spec:
            raise ControlError(
                400, f"unknown query parameter {key!r} for {request.path}; valid: {list(spec)}", key
            )
        if key in found:
            raise ControlError(400, f"query parameter {key!r} given more than once", key)
        found[key] = spec[key](value)
    return found
