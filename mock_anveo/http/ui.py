"""The dashboard's static shell: plain HTML, JS and CSS shipped in the package (``dashboard/``).

Served at ``/_mock/ui/`` without a token (the shell holds no data; every datum comes from the
control API, token and all), and at ``/`` when a browser asks for HTML. No build step, no CDN.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from .base import Handler

PREFIX = "/_mock/ui/"
FILES = Path(__file__).with_name("dashboard")
_TYPES = {".html": "text/html", ".js": "text/javascript", ".css": "text/css"}
#: The dashboard's own files, by name: nothing else is ever read from disk.
SHIPPED = {
    path.name: path
    for path in sorted(FILES.iterdir() if FILES.is_dir() else [])
    if path.suffix in _TYPES
}
_HEADERS = {
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
}


async def static(request: web.Request) -> web.StreamResponse:
    """GET /_mock/ui/{name}: one of the dashboard's files (``index.html`` for the bare path)."""
    name = request.match_info["name"] or "index.html"
    path = SHIPPED.get(name)
    if path is None:
        raise web.HTTPNotFound(
            text=f"mock-anveo: the dashboard has no file {name!r}; open {PREFIX}\n"
        )
    return web.Response(
        body=path.read_bytes(),
        content_type=_TYPES[path.suffix],
        charset="utf-8",
        headers=_HEADERS,
    )


def wants_html(request: web.Request) -> bool:
    """Whether the client asks for HTML first, as a browser's address bar does (curl's
    ``*/*`` and API clients' ``application/xml`` do not)."""
    first = request.headers.get("Accept", "").split(",", 1)[0].split(";", 1)[0].strip()
    return first.lower() in {"text/html", "application/xhtml+xml"}


def add_routes(app: web.Application, other: Handler) -> None:
    """Mount the dashboard (before the control API's catch-all) and ``/`` for browsers;
    ``other`` answers ``/`` for everyone else."""

    async def root(request: web.Request) -> web.StreamResponse:
        if request.method in {"GET", "HEAD"} and wants_html(request):
            raise web.HTTPFound(PREFIX)
        return await other(request)

    async def bare(_: web.Request) -> web.StreamResponse:
        raise web.HTTPFound(PREFIX)

    app.router.add_route("GET", "/_mock/ui", bare)
    app.router.add_route("GET", PREFIX + "{name:[A-Za-z0-9._-]*}", static)
    app.router.add_route("*", "/", root)
