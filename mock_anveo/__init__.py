"""mock-anveo: an offline, deterministic test double of the Anveo telephony API."""

from __future__ import annotations

__version__ = "0.1.0"
