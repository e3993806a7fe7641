"""Module attributes loaded at their first use (PEP 562), for modules whose import must stay
cheap: ``mock_anveo`` (pytest imports it for the plugin in every session) and the controller."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterable
from typing import Any


def exports(
    module: str, homes: dict[str, str], names: Iterable[str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``module``: each name of ``homes`` is imported from
    its (relative) home module at first use, then kept in the module's namespace."""
    namespace = vars(sys.modules[module])
    package = namespace.get("__package__") or module
    listed = frozenset(names)

    def __getattr__(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {module!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(home, package), name)
        namespace[name] = value  # later look-ups skip this function
        return value

    def __dir__() -> list[str]:
        return sorted({*namespace, *listed})

    return __getattr__, __dir__
