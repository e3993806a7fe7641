"""What a controller was asked for: the server to use or start, and the tenant to create."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NamedTuple

from .ops import iso_moment

if TYPE_CHECKING:
    from ..http.app import ServerOptions
    from ..sim.world import Settings, World

__all__ = ["Money", "Spec"]

Money = Decimal | str | int | float


class Spec(NamedTuple):
    """A controller's configuration, copied from the caller's arguments (read again by
    ``reset()`` and by the async twin that ``async with MockAnveo()`` builds).

    A named tuple rather than a frozen dataclass, like ``ops.Op``: as immutable, and a fifth
    of the cost to define at import.
    """

    url: str | None
    token: str | None
    tenant: Mapping[str, Any]  # the POST /_mock/tenants fields given, JSON-ready
    scenarios: tuple[Mapping[str, Any], ...]
    faults: tuple[Mapping[str, Any], ...]
    settings: Settings | None
    options: ServerOptions | None
    arguments: Mapping[str, Any]  # as given, to build the async twin

    @classmethod
    def build(
        cls,
        *,
        url: str | None,
        token: str | None,
        settings: Settings | None,
        options: ServerOptions | None,
        scenarios: Iterable[Mapping[str, Any]],
        faults: Iterable[Mapping[str, Any]],
        balance: Money | None,
        rate_per_minute: Money | None,
        verified_callerids: Iterable[str] | None,
        callflows: Iterable[str] | None,
        start: datetime | str | None,
        numbers: Iterable[Mapping[str, Any]] | None = None,
        **fields: Any,
    ) -> Spec:
        """Check and copy the controller's keyword arguments."""
        if url is not None and (settings is not None or options is not None):
            raise ValueError(
                "settings and options configure a server this controller "
                "starts; a remote server is configured by its own command line"
            )
        # Lists, not the caller's iterables: the async twin and reset() read them again.
        callerids = None if verified_callerids is None else list(verified_callerids)
        flows = None if callflows is None else list(callflows)
        rules = tuple(dict(s) for s in scenarios)
        spoilers = tuple(dict(f) for f in faults)
        fields.update(
            balance=None if balance is None else str(balance),
            rate_per_minute=None if rate_per_minute is None else str(rate_per_minute),
            verified_callerids=callerids,
            callflows=flows,
            start=None if start is None else iso_moment(start),
            numbers=None if numbers is None else [dict(n) for n in numbers],
        )
        arguments = dict(
            fields,
            url=url,
            token=token,
            settings=settings,
            options=options,
            scenarios=rules,
            faults=spoilers,
            verified_callerids=callerids,
            callflows=flows,
            balance=balance,
            rate_per_minute=rate_per_minute,
            start=start,
        )
        return cls(
            url.rstrip("/") if url else None,
            token,
            {k: v for k, v in fields.items() if v is not None},
            rules,
            spoilers,
            settings,
            options,
            arguments,
        )

    def create_body(self) -> dict[str, Any]:
        """POST /_mock/tenants: the tenant with its preset rules, in one request."""
        body = dict(self.tenant)
        if self.scenarios:
            body["scenarios"] = [dict(doc) for doc in self.scenarios]
        if self.faults:
            body["faults"] = [dict(doc) for doc in self.faults]
        return body

    def control_token(self) -> str | None:
        """The token to send: the given one, or that of the server this controller starts."""
        return self.token or (self.options.control_token if self.options is not None else None)

    def world_factory(self) -> Callable[[], World] | None:
        """Builds the world of a server this controller starts (None: the server's default)."""
        settings = self.settings
        if settings is None:
            return None

        def build() -> World:
            from ..sim.world import World  # noqa: PLC0415 - only a server we start needs it

            return World(settings, monotonic=time.monotonic, wallclock=time.time)

        return build
