"""mock-anveo: an offline, deterministic test double of the Anveo telephony API.

``MockAnveo`` starts a server (in a thread, or in the running loop with ``async with``) or
binds to a running one, and drives one fresh tenant of it. The names below load on first use,
so ``import mock_anveo`` (which pytest does for the plugin in every session) stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import lazy
from ._version import __version__

if TYPE_CHECKING:
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

_HOMES = {
    "AnveoError": ".errors",
    "Code": ".errors",
    "ControlError": ".errors",
    "MockAnveoError": ".errors",
    "AsyncMockAnveo": ".testing.controller",
    "Call": ".testing.controller",
    "MockAnveo": ".testing.controller",
}


__getattr__, __dir__ = lazy.exports(__name__, _HOMES, __all__)
