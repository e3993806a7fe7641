"""The request pipeline shared by the server and the offline checker.

bytes or query -> ``wire`` parse -> ``actions`` validate -> account and signature -> handler
-> rendered reply, with every exchange journaled on its tenant (or on the world's
``unattributed`` journal when no tenant owns it). No HTTP here: ``app`` adds that.
"""

from __future__ import annotations

import hmac

from . import actions, wire
from .errors import AnveoError, Code
from .simulation import Tenant
from .world import World


class Exchange:
    """One API request on its way through: what came in, who owns it, and what goes out."""

    __slots__ = ("body", "door", "error", "fault", "params", "raw", "request", "spec", "tenant")

    def __init__(self, door: str, raw: bytes) -> None:
        self.door = door
        self.raw = raw
        self.request: wire.ActionRequest | None = None
        self.tenant: Tenant | None = None
        self.spec: actions.Action | None = None
        self.params: actions.Params = {}
        self.error: AnveoError | None = None
        self.body = b""
        self.fault = ""

    @property
    def action(self) -> str:
        """The ACTION NAME, when the request got far enough to have one."""
        return self.request.action if self.request is not None else ""


def check_signature(tenant: Tenant, params: actions.Params) -> None:
    """Apply the contract's SIGNATURE rules for this tenant's account."""
    account = tenant.account
    signature = params.get("SIGNATURE")
    if signature is None:
        if account.require_signature:
            raise AnveoError(Code.SIGNATURE_REQUIRED,
                             "this account requires SIGNATURE (HMAC-SHA1 of the account's "
                             "e-mail keyed by its secure phrase)")
        return
    expected = account.expected_signature()
    if expected is not None and not hmac.compare_digest(expected, signature.lower()):
        raise AnveoError(Code.BAD_SIGNATURE,
                         "SIGNATURE does not match: it must be HMAC-SHA1 of the account's "
                         "e-mail keyed by its secure phrase, as 40 hex characters")


def receive(world: World, door: str, raw: bytes, *, query: str | None = None) -> Exchange:
    """Parse, validate and attribute a request; a refusal is kept in ``error``, never raised."""
    exchange = Exchange(door, raw)
    try:
        request = wire.parse_query(query, door) if query is not None else wire.parse_xml(raw, door)
        exchange.request = request
        exchange.tenant = world.get(request.userkey)
        exchange.spec, exchange.params = actions.validate(request)
        if exchange.tenant is None:
            raise AnveoError(Code.UNKNOWN_USERKEY,
                             f'unknown USERKEY "{request.userkey}": no account has this key')
        check_signature(exchange.tenant, exchange.params)
    except AnveoError as error:
        # Drop the traceback: it holds this frame, which holds the exchange, a reference
        # cycle per refused request that only the cyclic collector could free.
        exchange.error = error.with_traceback(None)
    return exchange


def execute(exchange: Exchange) -> bytes:
    """Run the handler of an accepted request and render the reply (or the refusal)."""
    if exchange.error is None and exchange.spec is not None and exchange.tenant is not None:
        request = exchange.request
        assert request is not None
        try:
            reply = exchange.spec.handler(exchange.tenant, exchange.params, request.variables)
            exchange.body = wire.render(reply.result, reply.values)
            return exchange.body
        except AnveoError as error:
            exchange.error = error.with_traceback(None)
    assert exchange.error is not None
    exchange.body = wire.render_error(exchange.error)
    return exchange.body


def record(world: World, exchange: Exchange) -> None:
    """Journal the exchange on its tenant, or on the world when no tenant owns it."""
    tenant = exchange.tenant
    journal = tenant.journal if tenant is not None else world.unattributed
    virtual = tenant.clock.now() if tenant is not None else 0.0
    journal.record(
        "exchange", virtual, world.wallclock(), door=exchange.door, action=exchange.action,
        params=exchange.request, raw=exchange.raw, response=exchange.body.decode("utf-8"),
        code=exchange.error.code.value if exchange.error is not None else "",
        detail=exchange.fault,
    )


def handle(world: World, door: str, raw: bytes, *, query: str | None = None) -> Exchange:
    """The whole pipeline in one call: receive, execute, record."""
    exchange = receive(world, door, raw, query=query)
    execute(exchange)
    record(world, exchange)
    return exchange
