"""Public alias of :mod:`mock_anveo.testing.strategies`, the import path users rely on."""

from __future__ import annotations

from .testing.strategies import *  # noqa: F403
from .testing.strategies import __all__  # noqa: F401
