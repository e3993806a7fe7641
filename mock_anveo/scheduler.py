"""A heap of scheduled items run in (time, insertion) order, with O(1) cancellation.

One heap per tenant keeps scheduling at O(log n) and one tuple per pending event; asyncio's own
``call_later`` costs ~20x more per timer and reads the loop's clock. Entries are plain
``(when, seq, item)`` tuples handed to a single handler, so no closure or handle object is
allocated per event; cancelling forgets the sequence number and the entry is skipped when it
surfaces, so cancelling twice, or after firing, is harmless.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Scheduler(Generic[T]):
    """Runs ``handler(item, when, seq)`` for due entries; handlers may schedule more entries."""

    __slots__ = ("_handler", "_heap", "_pending", "_seq", "fired")

    def __init__(self, handler: Callable[[T, float, int], None]) -> None:
        self._handler = handler
        self._heap: list[tuple[float, int, T]] = []
        self._pending: set[int] = set()
        self._seq = 0
        self.fired = 0

    def __len__(self) -> int:
        """Live (not cancelled, not fired) entries."""
        return len(self._pending)

    def call_at(self, when: float, item: T) -> int:
        """Schedule ``item`` at ``when``; returns its sequence number (never 0)."""
        self._seq += 1
        heapq.heappush(self._heap, (when, self._seq, item))
        self._pending.add(self._seq)
        return self._seq

    def cancel(self, seq: int) -> None:
        """Make a pending entry a no-op; harmless for one that already fired or was cancelled."""
        self._pending.discard(seq)
        heap = self._heap
        # Cancelled far-future entries would sit in the heap for weeks of virtual time; rebuild
        # once they outnumber the live ones, so memory follows what is really pending.
        if len(heap) > 1024 and len(heap) > 2 * len(self._pending):
            pending = self._pending
            self._heap = [entry for entry in heap if entry[1] in pending]
            heapq.heapify(self._heap)

    def _drop_cancelled_head(self) -> None:
        heap, pending = self._heap, self._pending
        while heap and heap[0][1] not in pending:
            heapq.heappop(heap)

    def next_due(self) -> float | None:
        """The time of the earliest live entry, or None when nothing is pending."""
        self._drop_cancelled_head()
        return self._heap[0][0] if self._heap else None

    def run_until(self, moment: float, limit: int | None = None) -> int:
        """Fire every live entry due at or before ``moment``; return how many fired.

        ``limit`` bounds the work of one call so a runaway scenario cannot hang a request.
        """
        heap, pending, handler = self._heap, self._pending, self._handler
        count = 0
        while heap and heap[0][0] <= moment:
            when, seq, item = heapq.heappop(heap)
            if seq not in pending:
                continue
            pending.remove(seq)
            handler(item, when, seq)
            count += 1
            if limit is not None and count >= limit:
                break
        self.fired += count
        return count
