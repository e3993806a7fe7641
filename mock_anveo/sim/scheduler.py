"""Scheduled items run in (time, insertion) order, with O(log b) cancellation.

Entries due at the same moment share one bucket: a list ``[seq, item, seq, item, ...]`` in
insertion order (sequence numbers only grow, so that is also sequence order), kept in a dict
by time, with a heap of the distinct times. Scheduling is then O(1) when the moment already has
a bucket and O(log d) for a new one (d distinct pending times, d <= n); firing is O(1) per
entry plus O(log d) per bucket. Calls dialled at the same moment with DELAYs in whole minutes
share their moments, so d is often far smaller than n: a million calls over 60 days have at
most 86,401 dial moments. Two list slots per entry also cost less memory, and give the
collector fewer objects, than a heap tuple each. asyncio's own ``call_later`` costs ~20x more
per timer and reads the loop's clock; here no closure or handle is allocated per event, and
a single handler gets every item.

No set of pending sequence numbers is kept: at a million entries its add, lookup and remove
were cache misses on every event. Cancelling names the entry by ``(seq, when)`` instead: a
binary search in the bucket of ``when`` (sorted by seq) finds it if it is still waiting, and
its seq goes into ``_cancelled``, a set of entries cancelled but not yet reached (usually
empty), which firing skips. An entry being fired has its seq slot zeroed first, so a bucket's
consumed entries are a prefix of zeros (still sorted, and never equal to a seq): cancelling
twice, after firing, or with a moment the entry was not scheduled for, is harmless.
"""

from __future__ import annotations

from collections.abc import Callable
from heapq import heapify, heappop, heappush
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class Scheduler(Generic[T]):
    """Runs ``handler(item, when, seq)`` for due entries; handlers may schedule more entries."""

    __slots__ = (
        "_buckets",
        "_cancelled",
        "_handler",
        "_live",
        "_running",
        "_seq",
        "_times",
        "fired",
    )

    def __init__(self, handler: Callable[[T, float, int], None]) -> None:
        self._handler = handler
        self._times: list[float] = []  # heap of the moments that have a bucket, each once
        # moment -> [seq, item, seq, item, ...]; typed Any, as it alternates ints and items
        self._buckets: dict[float, list[Any]] = {}
        self._cancelled: set[int] = set()  # cancelled entries still sitting in buckets
        self._live = 0  # entries neither fired nor cancelled
        self._seq = 0
        self._running = False
        self.fired = 0

    def __len__(self) -> int:
        """Live (not cancelled, not fired) entries."""
        return self._live

    def call_at(self, when: float, item: T) -> int:
        """Schedule ``item`` at ``when``; returns its sequence number (never 0)."""
        seq = self._seq = self._seq + 1
        bucket = self._buckets.get(when)
        if bucket is None:
            self._buckets[when] = [seq, item]
            heappush(self._times, when)
        else:
            bucket.append(seq)
            bucket.append(item)
        self._live += 1
        return seq

    def cancel(self, seq: int, when: float) -> None:
        """Make the pending entry ``seq``, scheduled at ``when``, a no-op; harmless for one
        that already fired or was cancelled."""
        bucket = self._buckets.get(when)
        if bucket is None or seq <= 0:
            return
        low, high = 0, len(bucket) >> 1  # binary search over the seq slots (even indices)
        while low < high:
            mid = (low + high) >> 1
            if bucket[mid << 1] < seq:
                low = mid + 1
            else:
                high = mid
        low <<= 1
        cancelled = self._cancelled
        if low == len(bucket) or bucket[low] != seq or seq in cancelled:
            return
        cancelled.add(seq)
        self._live -= 1
        self._compact_if_mostly_dead()

    def _compact_if_mostly_dead(self) -> None:
        # Cancelled far-future entries would sit in their buckets for weeks of virtual time;
        # rebuild once they outnumber the live ones, so memory follows what is really pending.
        # Not while firing: ``run_until`` walks a bucket by index.
        cancelled = self._cancelled
        dead, live = len(cancelled), self._live
        if dead > live and dead + live > 1024 and not self._running:
            buckets: dict[float, list[Any]] = {}
            for when, bucket in self._buckets.items():
                kept = [
                    part
                    for i in range(0, len(bucket), 2)
                    if bucket[i] not in cancelled
                    for part in bucket[i : i + 2]
                ]
                if kept:
                    buckets[when] = kept
            self._buckets = buckets
            self._times[:] = list(buckets)
            heapify(self._times)
            cancelled.clear()

    def next_due(self) -> float | None:
        """The time of the earliest live entry, or None when nothing is pending."""
        times, buckets, cancelled = self._times, self._buckets, self._cancelled
        if self._running:  # called from a handler: look without touching the buckets
            # (a zero seq is an entry already consumed by the run in progress)
            return min(
                (
                    when
                    for when, bucket in buckets.items()
                    if any(seq and seq not in cancelled for seq in bucket[::2])
                ),
                default=None,
            )
        while times:
            when = times[0]
            bucket = buckets[when]
            index = 0
            while index < len(bucket) and bucket[index] in cancelled:
                cancelled.remove(bucket[index])
                index += 2
            if index:
                del bucket[:index]
            if bucket:
                return when
            heappop(times)
            del buckets[when]
        return None

    def run_until(self, moment: float, limit: int | None = None) -> int:
        """Fire every live entry due at or before ``moment``; return how many fired.

        ``limit`` bounds the work of one call so a runaway scenario cannot hang a request.
        """
        times = self._times
        if not times or times[0] > moment:  # the usual case of a request's sync: nothing due
            return 0
        buckets, cancelled, handler = self._buckets, self._cancelled, self._handler
        stop = -1 if limit is None else limit  # a count that never reaches -1 never stops
        count = 0
        bucket: list[Any] = []
        index = 0
        self._running = True
        try:
            while times and count != stop:
                when = times[0]
                if when > moment:
                    break
                bucket = buckets[when]
                index = 0
                while index < len(bucket):  # a handler may append to this very bucket
                    seq = bucket[index]
                    bucket[index] = 0  # consumed: see ``cancel``
                    index += 2
                    if cancelled and seq in cancelled:
                        cancelled.remove(seq)
                        continue
                    self._live -= 1  # before the handler, so it sees the true count
                    handler(bucket[index - 1], when, seq)
                    count += 1
                    # A handler that scheduled something earlier than ``when`` (in the
                    # past) gets it run first, as a single heap would.
                    if count == stop or times[0] < when:
                        break
                else:  # the bucket is done, and ``when`` is still the earliest moment
                    heappop(times)
                    del buckets[when]
                    bucket, index = [], 0
                    continue
                del bucket[:index]  # stopped early: keep the rest for later
                bucket, index = [], 0
        finally:
            if index:  # a handler raised: its entry and those before it are consumed
                del bucket[:index]
            self._running = False
            self.fired += count
        self._compact_if_mostly_dead()
        return count
