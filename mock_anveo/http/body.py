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
#: Request key: the body did not arrive in time, or broke off (close the connection after the
#: reply).
STALLED = web.RequestKey("mock_anveo_stalled", bool)
#: Request key: the start of a refused body, as far as it arrived (decoded), to attribute the
#: refusal (docs/compatibility.md: the key is read in a body's first 64 KiB).
RECEIVED = web.RequestKey("mock_anveo_received", bytes)
RECEIVED_MAX = 64 * 1024


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
    """The request body within ``--max-body`` and ``--read-timeout``, or an AnveoError.

    A refusal leaves what arrived of the body (at most ``RECEIVED_MAX`` bytes) under
    ``RECEIVED``, so the door can journal it on the tenant it names.
    """
    body = buffered(request)  # any request that arrived with its headers
    if body is None:
        body = await _streamed(request, options)
    if len(body) > options.max_body:
        request[RECEIVED] = body[:RECEIVED_MAX]
        raise AnveoError(
            Code.BODY_TOO_LARGE,
            f"the body is {len(body)} bytes; this server "
            f"takes at most {options.max_body} (--max-body)",
        )
    return body


async def _streamed(request: web.Request, options: ServerOptions) -> bytes:
    """A body that is not all there yet (slow, chunked or compressed), read as it arrives and
    given up as soon as more than ``--max-body`` bytes came (decoded).

    aiohttp's ``request.read`` would take the whole body first (it raises the stream's buffer
    limits to the application's 256 MiB, for the control API): a 39 KB gzip of 40 MB was
    decoded in full before being refused. ``readany`` keeps aiohttp's own limits, so the
    decoder pauses once 512 KiB wait unread (aiohttp 3.14), and the loop stops at the bound:
    about 1.5 MiB decoded, whatever the body's size.
    """
    content = request.content
    limit = options.max_body
    length = request.content_length
    if length is not None and length > limit:
        # Refused before reading (the client may never send it): only what already came.
        request[RECEIVED] = (in_place(content) or b"")[:RECEIVED_MAX]
        raise AnveoError(
            Code.BODY_TOO_LARGE,
            f"the body is {length} bytes; this server takes at most {limit} (--max-body)",
        )
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(options.read_timeout):
            while chunk := await content.readany():
                chunks.append(chunk)
                size += len(chunk)
                if size > limit:
                    request[RECEIVED] = b"".join(chunks)[:RECEIVED_MAX]
                    raise AnveoError(Code.BODY_TOO_LARGE, _exceeds(request, limit))
    except TimeoutError:
        request[STALLED] = True
        request[RECEIVED] = b"".join(chunks)[:RECEIVED_MAX]
        raise AnveoError(
            Code.READ_TIMEOUT, f"the body did not arrive within {options.read_timeout} seconds"
        ) from None
    except web.RequestPayloadError:
        # The parser stopped on this connection: nothing more can be read from it.
        request[STALLED] = True
        chunks.append(in_place(content) or b"")  # decoded before the bad bytes, if any
        request[RECEIVED] = b"".join(chunks)[:RECEIVED_MAX]
        raise AnveoError(Code.BAD_ENCODING, _undecodable(request)) from None
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


#: The Content-Encodings aiohttp decodes (``br`` and ``zstd`` only with their extra package).
DECODED = frozenset({"gzip", "deflate", "br", "zstd"})


def _encoding(request: web.Request) -> str | None:
    """The Content-Encoding aiohttp decoded the body from, in lower case; None if none."""
    value = request.headers.get("Content-Encoding", "").strip().lower()
    return value if value in DECODED else None


def _exceeds(request: web.Request, limit: int) -> str:
    encoding = _encoding(request)
    decoded = f" once decoded from {encoding}" if encoding else ""
    return (
        f"the body exceeds {limit} bytes{decoded}; this server takes at most {limit} (--max-body)"
    )


def _undecodable(request: web.Request) -> str:
    encoding = _encoding(request)
    if encoding is None:  # no decoder ran: the chunked framing broke off
        return "the body could not be read: its chunked transfer encoding is malformed"
    return f"the body is not valid {encoding} data, though its Content-Encoding is {encoding}"


async def received_body(request: web.Request, options: ServerOptions) -> bytes:
    """The body of a request refused whatever it holds (a wrong method), read within the same
    bounds, only to journal the refusal on the tenant it names; b"" without a body."""
    if not request.can_read_body:
        return b""
    try:
        return await read_body(request, options)
    except AnveoError:
        return request.get(RECEIVED) or b""


def arrived(request: web.Request, query: str | None, raw: bytes) -> bytes:
    """What to journal for a refused request: ``raw``, unless its body was refused, then what
    arrived of it (for the GET doors, after the ``query`` string)."""
    received = request.get(RECEIVED)
    if received is None:
        return raw
    return received if query is None else exact(received_form(request, query))


def received_form(request: web.Request, query: str) -> str:
    """``query`` with the whole fields of a refused form body that arrived: a field the
    refusal cut short could hold the beginning of a key, and be read as another one."""
    received = request.get(RECEIVED) or b""
    if len(received) != request.content_length:  # only part of it arrived: drop the last field
        received = received[: max(received.rfind(b"&"), 0)]
    form = received.decode("utf-8", "surrogateescape").strip()
    return "&".join(part for part in (query, form) if part)


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
    body = await read_body(request, options)
    try:
        form = body.decode("utf-8")
    except UnicodeDecodeError:
        request[RECEIVED] = body[:RECEIVED_MAX]
        raise AnveoError(Code.BAD_QUERY, "the form body is not valid UTF-8") from None
    return "&".join(part for part in (query, form.strip()) if part)


def exact(query: str) -> bytes:
    """The bytes a query (with its form) arrived as, for the journal: UTF-8 text stays text."""
    return query.encode("utf-8", "surrogateescape")
