"""Allocator policy for a long-running standalone server on glibc.

asyncio reads every socket into a fresh 256 KiB buffer. With glibc's default policy that
buffer comes from the top of the heap, and whenever the server keeps a few larger objects
alive between requests (request bodies in the journal, pending calls) the heap top moves,
the free space above it passes the trim threshold, and glibc hands it back to the kernel,
only to ask for it again on the next read: measured under wrk, two page faults and about
15 us of kernel time per request, half the cost of a bare aiohttp request. Fixed thresholds
(reads served from the heap, up to ``TRIM_THRESHOLD`` of free top memory kept for reuse) stop
the churn; the price is that much memory not returned to the system while idle.

Only ``mock-anveo serve`` installs this, as with ``gctune``: inside a user's test process the
allocator is theirs. ``MOCK_ANVEO_MALLOC_TUNING=0`` leaves glibc's defaults alone.
"""

from __future__ import annotations

import ctypes
import os

# mallopt parameters, from glibc's <malloc.h>
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
#: Allocations at least this large get their own mapping; above asyncio's 256 KiB reads, so
#: those come from the heap. (Setting any threshold turns off glibc's own adjustment of this
#: one, which would otherwise have risen to the read size after the first read.)
MMAP_THRESHOLD = 1024 * 1024
#: Free memory at the top of the heap kept for reuse instead of being trimmed.
TRIM_THRESHOLD = 8 * 1024 * 1024


def is_glibc() -> bool:
    """Whether this process runs on glibc (the only allocator these settings mean anything to)."""
    try:
        return bool(os.confstr("CS_GNU_LIBC_VERSION"))
    except (AttributeError, ValueError, OSError):
        return False


def install() -> bool:
    """Apply the thresholds; True when glibc accepted both (False elsewhere, or when disabled)."""
    if os.environ.get("MOCK_ANVEO_MALLOC_TUNING", "1") == "0" or not is_glibc():
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
                and mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
