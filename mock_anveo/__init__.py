"""mock-anveo: an offline, deterministic test double of the Anveo telephony API.

``MockAnveo`` starts a server (in a thread, or in the running loop with ``async with``) or
binds to a running one, and drives one fresh tenant of it.
"""

from __future__ import annotations

from ._version import __version__
from .errors import AnveoError, Code, ControlError, MockAnveoError
from .testing.controller import AsyncMockAnveo, Call, MockAnveo

__all__ = [
    "AnveoError",
    "AsyncMockAnveo",
    "Call",
    "Code",
    "ControlError",
    "MockAnveo",
    "MockAnveoError",
    "__version__",
]
