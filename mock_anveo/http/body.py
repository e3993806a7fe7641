"""What the Anveo doors read from HTTP: header bounds, the request body, a POSTed form.

Bounds refused here become Anveo envelopes (the doors catch ``AnveoError``); server.py sets
aiohttp's own, higher, transport limits.
"""

from __future__ import annotations

import asyncio
from collections import deque

from aiohttp import web
from aiohttp.streams import StreamReader

from ..errors import AnveoError, Code, shown
from .base import ServerOptions

#: Longest v2 query string: 100 parameters of ordinary length fit many times over.
QUERY_MAX = 16_384
HEADERS_MAX = 128  # aiohttp's own default limit, here answered with an envelope
HEADER_SIZE_MAX = 8_190
#: Request key: the body did not arrive in time (close the connection after the reply).
STALLED = web.RequestKey("mock_anveo_stalled", bool)


def check_headers(request: web.Request) -> None:
    """Refuse more headers, or longer ones, than the doors take."""
    if len(request.raw_headers) > HEADERS_MAX:
        raise AnveoError(
            Code.BAD_QUERY,
            f"the request has {len(request.raw_headers)} HTTP "
            f"headers; this server takes at most {HEADERS_MAX}",
        )
    for name, value in request.raw_headers:
        if len(name) + len(value) > HEADER_SIZE_MAX:
            raise AnveoError(
                Code.BAD_QUERY,
                f"HTTP header {shown(name.decode('latin-1'))} is "
                f"{len(value)} bytes; at most {HEADER_SIZE_MAX}",
            )


def in_place(content: StreamReader) -> bytes | None:
    """The whole body, read in place from aiohttp's buffer; None when the buffer does not look
    as expected (an aiohttp upgrade), so the caller takes the public read.

    Any public read (``read``, ``read_nowait``) ends in ``resume_reading``, which re-enters the
    HTTP parser with no data: measured under wrk, +2 to +4 us on a request of about 45 us
    (docs/benchmarks.md, "public-read"); timed inside a handler, 1.3 us in place against
    3.6 us for ``read_nowait`` (medians of 10,000 requests each, 2026-12-01). aiohttp drops
    the unread payload after the handler, as it does for any handler that ignores a body.
    """
    chunks = getattr(content, "_buffer", None)
    if type(chunks) is not deque or getattr(content, "_buffer_offset", None) != 0:
        return None
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def buffered(request: web.Request) -> bytes | None:
    """The whole body when it already sits in aiohttp's buffer, else None."""
    content = request.content
    if not content.is_eof() or content.exception() is not None:
        return None
    body = in_place(content)
    return content.read_nowait() if body is None else body


async def read_body(request: web.Request, options: ServerOptions) -> bytes:
    """The request body within ``--max-body`` and ``--read-timeout``, or an AnveoError."""
    body = buffered(request)  # any request that arrived with its headers
    if body is None:
        length = request.content_length
        if length is not None and length > options.max_body:
            raise AnveoError(
                Code.BODY_TOO_LARGE,
                f"the body is {length} bytes; this server "
                f"takes at most {options.max_body} "
                "(--max-body)",
            )
        try:
            async with asyncio.timeout(options.read_timeout):
                body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            raise AnveoError(
                Code.BODY_TOO_LARGE, f"the body exceeds {options.max_body} bytes (--max-body)"
            ) from None
        except TimeoutError:
            request[STALLED] = True
            raise AnveoError(
                Code.READ_TIMEOUT, f"the body did not arrive within {options.read_timeout} seconds"
            ) from None
    if len(body) > options.max_body:
        raise AnveoError(
            Code.BODY_TOO_LARGE,
            f"the body is {len(body)} bytes; this server "
            f"takes at most {options.max_body} (--max-body)",
        )
    return body


async def close_if_stalled(
    request: web.Request, response: web.StreamResponse
) -> web.StreamResponse:
    """Send ``response``; if the request's body stalled, close the connection right after.

    aiohttp would otherwise keep reading the rest of the body for its lingering time (10 s)
    before closing, and the client would wait that long for the end of the connection.
    """
    if not request.get(STALLED):
        return response
    response.force_close()  # Connection: close
    await response.prepare(request)
    await response.write_eof()
    if request.protocol is not None:
        request.protocol.force_close()  # the reply is written; the transport flushes it
    return response


async def with_form(request: web.Request, options: ServerOptions, query: str) -> str:
    """The query string, with a POSTed form body (the GET doors accept both) appended."""
    if request.method != "POST" or not request.can_read_body:
        return query
    try:
        form = (await read_body(request, options)).decode("utf-8")
    except UnicodeDecodeError:
        raise AnveoError(Code.BAD_QUERY, "the form body is not valid UTF-8") from None
    return "&".join(part for part in (query, form.strip()) if part)


def exact(query: str) -> bytes:
    """The bytes a query (with its form) arrived as, for the journal: UTF-8 text stays text."""
    return query.encode("utf-8", "surrogateescape")
