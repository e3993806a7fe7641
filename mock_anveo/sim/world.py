"""All tenants of one server, built from settings; ``reset`` rebuilds them from scratch.

Pure Python. The real-time sources are injected: the server passes ``time.monotonic`` and
``time.time``; tests pass nothing and get a world in which real time stands still.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from .accounts import Account, default_account
from .clock import DEFAULT_EPOCH, Clock
from .journal import Journal
from .tenant import Tenant


def _copy(account: Account) -> Account:
    return Account(**{name: getattr(account, name) for name in account.__slots__})


def _still() -> float:
    return 0.0


@dataclass(slots=True)
class Settings:
    """How a world starts: its accounts, seed, clock mode and retention bounds."""

    accounts: list[Account] = field(default_factory=lambda: [default_account()])
    seed: int = 0
    clock_rate: float = 0.0
    start: float = DEFAULT_EPOCH
    journal_limit: int = 10_000
    ended_limit: int = 100_000
    max_tenants: int = 100_000
    #: Hosts besides loopback that notifications may go to ("*": any), from --callback-allow.
    callback_allow: frozenset[str] = frozenset()


class World:
    """The tenants (one per USERKEY) plus a journal for requests no tenant owns."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        monotonic: Callable[[], float] = _still,
        wallclock: Callable[[], float] = _still,
    ) -> None:
        self.settings = settings or Settings()
        self.monotonic = monotonic
        self.wallclock = wallclock
        self.tenants: dict[str, Tenant] = {}
        self.unattributed = Journal(self.settings.journal_limit)
        self.key_rng = random.Random(self.settings.seed)
        self.reset()

    def reset(self) -> None:
        """Back to the configured start: only the configured accounts, fresh and unspent."""
        for tenant in self.tenants.values():
            tenant.close()
        self.tenants.clear()
        self.key_rng = random.Random(self.settings.seed)
        self.unattributed = Journal(self.settings.journal_limit)
        for account in self.settings.accounts:
            self.add(_copy(account))

    def is_configured(self, userkey: str) -> bool:
        """Whether ``userkey`` is one of the accounts the world starts with."""
        return any(account.userkey == userkey for account in self.settings.accounts)

    def add_configured(self, userkey: str) -> Tenant:
        """Rebuild the configured account ``userkey`` as it was at start."""
        for account in self.settings.accounts:
            if account.userkey == userkey:
                return self.add(_copy(account))
        raise KeyError(userkey)

    def add(
        self, account: Account, *, start: float | None = None, rate: float | None = None
    ) -> Tenant:
        """Create (or replace) the tenant for ``account``, its clock at ``start`` and ``rate``."""
        rate = self.settings.clock_rate if rate is None else rate
        clock = Clock(
            self.settings.start if start is None else start, rate=rate, real=self.monotonic
        )
        account.verified_callerids = set(account.verified_callerids)
        account.callflows = set(account.callflows)
        account.numbers = dict(account.numbers)
        tenant = Tenant(
            account,
            seed=self.settings.seed,
            clock=clock,
            real=self.wallclock,
            journal_limit=self.settings.journal_limit,
            ended_limit=self.settings.ended_limit,
        )
        self.remove(account.userkey)
        self.tenants[account.userkey] = tenant
        return tenant

    def remove(self, userkey: str) -> Tenant | None:
        """Delete the tenant behind ``userkey`` (if any) and free what it held."""
        tenant = self.tenants.pop(userkey, None)
        if tenant is not None:
            tenant.close()
        return tenant

    def get(self, userkey: str) -> Tenant | None:
        """The tenant behind ``userkey``, or None."""
        return self.tenants.get(userkey)
