"""Fault rules carried out on a door's reply: one path for the XML, GET and v1 text doors.

A door hands over its exchange (anything with ``tenant``, ``door``, ``action``, ``body`` and
``fault``) and a ``Door`` that knows how to process, refuse, record and reply for it.
"""

from __future__ import annotations

import asyncio
import socket
import struct
from typing import Any, Protocol

from aiohttp import web

from ..errors import AnveoError, Code
from ..sim.faults import FaultRule, pick
from .base import OPTIONS, pause

MAINTENANCE_PAGE = (
    b"<!DOCTYPE html>\n<html><head><title>Service Unavailable</title></head>"
    b"<body><h1>Down for maintenance</h1><p>Please try again later.</p>"
    b"</body></html>\n"
)


#: The FAULT refusal journaled for a 'before' fault that replaced the reply, per kind.
_NOT_DONE = {
    "truncated": "the reply was cut short on purpose (a truncated fault; nothing was done)",
    "http-status": "an injected http-status fault answered instead; nothing was done",
    "": "an injected fault replaced the reply; nothing was done",
}


class Door(Protocol):
    """What a door offers the fault path for one of its exchanges."""

    content_type: str

    def process(self, exchange: Any) -> None:
        """Carry out the request; its reply goes into ``exchange.body``."""

    def refuse(self, exchange: Any, error: AnveoError) -> None:
        """Put a refusal into ``exchange.body`` without carrying out the request."""

    def record(self, exchange: Any) -> None:
        """Journal the exchange."""

    def reply(self, exchange: Any) -> web.Response:
        """The HTTP reply of a processed exchange."""


def find(exchange: Any, when: str) -> FaultRule | None:
    """The tenant's fault rule that fires for this exchange at ``when`` (before or after)."""
    tenant = exchange.tenant
    if tenant is None or not tenant.faults:
        return None
    return pick(tenant.faults, exchange.action, exchange.door, when, tenant.fault_rng)


async def perform(
    request: web.Request, door: Door, exchange: Any, fault: FaultRule
) -> web.StreamResponse:
    """Carry out a fault. A 'before' fault leaves the request unprocessed, except latency,
    which only delays a normal reply."""
    exchange.fault = f"{fault.kind}:{fault.id}:{fault.when}"
    enveloped = fault.kind == "truncated" or (fault.kind == "http-status" and fault.status < 300)
    if not exchange.body:  # not processed yet: a 'before' fault
        if fault.kind == "latency":
            door.process(exchange)
        else:
            # The journal (and ``requests().last.error_code``) says FAULT: nothing was done.
            error = AnveoError(Code.FAULT, _NOT_DONE.get(fault.kind, _NOT_DONE[""]))
            if enveloped:  # the client gets (part of) an envelope: a refusal saying so
                door.refuse(exchange, error)
            else:
                exchange.error = error
    door.record(exchange)
    options = request.app[OPTIONS]
    if fault.kind == "latency":
        await pause(options, fault.seconds)
        return door.reply(exchange)
    if fault.kind == "http-status":
        if fault.status < 300:  # a 2xx keeps the envelope the door would send, status changed
            response = door.reply(exchange)
            response.set_status(fault.status)
            return response
        return web.Response(status=fault.status, text=f"{fault.status} injected by mock-anveo\n")
    if fault.kind == "html":
        return web.Response(body=MAINTENANCE_PAGE, content_type="text/html", charset="utf-8")
    if fault.kind == "truncated":
        body = exchange.body
        return web.Response(
            body=body[: max(1, len(body) // 2)], content_type=door.content_type, charset="utf-8"
        )
    if fault.kind == "hang":
        await pause(options, fault.seconds)
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
