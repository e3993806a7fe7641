"""A virtual clock per tenant: frozen until told to move, or following an injected real clock.

Modelled on Twisted's ``task.Clock`` and trio's ``MockClock``: ``rate`` 0 means time moves only
through ``advance``; a positive rate follows the injected ``real`` source, scaled. The clock
never reads the machine's time itself.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime

#: 2026-01-01T00:00:00Z: a fixed start, so timelines are identical on every run.
DEFAULT_EPOCH = 1767225600.0


def tick(moment: float) -> float:
    """Round to whole microseconds, so ``advance(4); advance(6)`` lands exactly on ``+10``.

    Epoch-scale floats carry about 0.2 us of precision; sums of durations drift below that,
    and an event due at exactly +10 s must not wait for one more advance.

    Exactly ``round(moment, 6)``, which formats and re-parses the float (~0.5 us; the engine
    ticks every event). For moments in [2**30, 2**31) s (years 2004-2038, where virtual time
    lives) the same rounding is done in integers: such a float is ``M / 2**22`` for an integer
    ``M``, so ``moment * 10**6`` is exactly ``M * 15625 / 2**16``, rounded half to even as
    ``round`` does; ``k / 1e6`` is then the float nearest to ``k`` microseconds, which is what
    ``round`` returns.
    """
    if 1073741824.0 <= moment < 2147483648.0:
        scaled = int(moment * 4194304.0) * 15625
        return ((scaled + 32767 + ((scaled >> 16) & 1)) >> 16) / 1e6
    return round(moment, 6)


class ClockError(ValueError):
    """An attempt to move the clock backwards or to set a negative rate."""


def iso(timestamp: float) -> str:
    """Render virtual seconds since the Unix epoch as ISO-8601 UTC with milliseconds.

    Moments outside years 1-9999 have no ISO form; they are shown as epoch seconds rather
    than raising, since they can only come from a client's odd request.
    """
    try:
        moment = datetime.fromtimestamp(timestamp, UTC)
    except (ValueError, OverflowError, OSError):
        return f"{timestamp!r} seconds since 1970-01-01T00:00:00Z"
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_iso(text: str) -> float:
    """Parse an ISO-8601 moment (``Z`` or an offset; naive means UTC) into epoch seconds."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


class Clock:
    """Virtual time in seconds since the Unix epoch; monotonic by construction."""

    __slots__ = ("_base_real", "_base_virtual", "_rate", "_real")

    def __init__(
        self,
        start: float = DEFAULT_EPOCH,
        *,
        rate: float = 0.0,
        real: Callable[[], float] | None = None,
    ) -> None:
        if rate < 0:
            raise ClockError(f"rate must be >= 0, got {rate}")
        if rate > 0 and real is None:
            raise ClockError("a running clock (rate > 0) needs a real time source")
        self._real = real
        self._rate = rate
        self._base_virtual = tick(start)
        self._base_real = real() if real is not None else 0.0

    @property
    def rate(self) -> float:
        """Virtual seconds per real second; 0 means the clock moves only when told."""
        return self._rate

    def now(self) -> float:
        """The current virtual time, in whole microseconds like every engine timestamp."""
        if self._rate == 0.0 or self._real is None:
            return self._base_virtual
        return tick(self._base_virtual + (self._real() - self._base_real) * self._rate)

    def set_rate(self, rate: float, real: Callable[[], float] | None = None) -> None:
        """Change the speed from this moment on, without a jump in virtual time."""
        if rate < 0:
            raise ClockError(f"rate must be >= 0, got {rate}")
        if real is not None:
            self._real = real
        if rate > 0 and self._real is None:
            raise ClockError("a running clock (rate > 0) needs a real time source")
        now = self.now()
        self._rate = rate
        self._base_virtual = tick(now)
        self._base_real = self._real() if self._real is not None else 0.0

    def advance(self, seconds: float) -> float:
        """Move forward by ``seconds`` (>= 0) and return the new virtual time."""
        if not seconds >= 0:  # also rejects NaN
            raise ClockError(f"cannot advance by {seconds} seconds: time never goes back")
        return self.advance_to(self.now() + seconds)

    def advance_to(self, moment: float, *, clamp: bool = False) -> float:
        """Jump to ``moment`` (rounded to microseconds); refuses to go backwards, or with
        ``clamp`` stays at now (a running clock may have passed a moment checked earlier)."""
        moment = tick(moment)
        now = self.now()
        if clamp and moment < now:
            moment = now
        if not moment >= now:
            shown = iso(moment) if math.isfinite(moment) else str(moment)
            raise ClockError(f"cannot move to {shown}: it is before now ({iso(now)})")
        self._base_virtual = moment
        self._base_real = self._real() if self._real is not None else 0.0
        return moment
