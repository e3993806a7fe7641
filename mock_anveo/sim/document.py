"""Reading a JSON document field by field, every refusal naming the field's path.

A snapshot is a deep tree (``tenants[0].calls[3].timeline[1][0]``); ``Node`` pairs each value
with its path so that a check anywhere says exactly where the document is wrong, as a
``SettingError`` whose ``field`` is that path. Numbers go through ``bounded``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any, TypeVar

from ..errors import SettingError
from .accounts import money
from .bounds import bounded, shown_value

T = TypeVar("T")

#: The moments that have an ISO-8601 form (years 1 to 9999), as epoch seconds.
MOMENT_MIN, MOMENT_MAX = -62135596800.0, 253402300799.0
#: Amounts of money kept in a snapshot: totals may exceed any one balance (1e9).
MONEY_MAX = 10**15


def kind(value: Any) -> str:
    """The JSON name of a value's type, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def repath(error: SettingError, path: str) -> SettingError:
    """``error`` (raised by a check that knew only a local field name) placed under ``path``."""
    local = error.field
    full = f"{path}.{local}" if local else path
    if local and error.message.startswith(local):
        message = full + error.message[len(local) :]
    else:
        message = f"{path}: {error.message}"
    return SettingError(message, full)


class Node:
    """One value of a JSON document with its path; the readers check it or raise.

    The path is worked out only for an error message: a snapshot of a million calls is read
    through some fifty nodes per call.
    """

    __slots__ = ("key", "parent", "value")

    def __init__(
        self, value: Any, path: str = "", key: str | int | None = None, parent: Node | None = None
    ) -> None:
        self.value = value
        self.parent = parent
        self.key: str | int = path if parent is None else key if key is not None else ""

    @property
    def path(self) -> str:
        """Where the value is, such as ``tenants[0].calls[3].timeline``."""
        parent, key = self.parent, self.key
        if parent is None:
            return str(key)
        base = parent.path
        if isinstance(key, int):
            return f"{base}[{key}]"
        return f"{base}.{key}" if base else key

    def fail(self, rule: str) -> SettingError:
        """The error for this value breaking ``rule`` (returned, for the caller to raise)."""
        value = self.value
        if isinstance(value, dict | list):
            parts = "members" if isinstance(value, dict) else "items"
            shown = f"{kind(value)} of {len(value)} {parts}"
        else:
            shown = shown_value(value)
        return SettingError(f"{self.path} must be {rule}, got {shown}", self.path)

    def __getitem__(self, key: str | int) -> Node:
        """The member ``key`` of an object, or item ``key`` of a list; it must be there."""
        if isinstance(key, str):
            value = self.obj()
            if key not in value:
                name = Node(None, key=key, parent=self).path
                raise SettingError(f"{name} is missing", name)
            return Node(value[key], key=key, parent=self)
        items = self.seq()
        if not 0 <= key < len(items):
            name = Node(None, key=key, parent=self).path
            raise SettingError(f"{name} is missing", name)
        return Node(items[key], key=key, parent=self)

    def get(self, key: str, default: Any = None) -> Node:
        """The member ``key`` of an object, or ``default`` under that path when absent."""
        return Node(self.obj().get(key, default), key=key, parent=self)

    def obj(self) -> dict[str, Any]:
        """The value, which must be a JSON object."""
        if not isinstance(self.value, dict):
            raise self.fail("an object")
        return self.value

    def seq(self, size: int | None = None, limit: int = 10**7) -> list[Any]:
        """The value, a list of exactly ``size`` items or of at most ``limit``."""
        value = self.value
        if size is not None and not (isinstance(value, list) and len(value) == size):
            raise self.fail(f"a list of {size} items")
        if not isinstance(value, list) or len(value) > limit:
            raise self.fail(f"a list of at most {limit} items")
        return value

    def items(self, limit: int = 10**7) -> list[Node]:
        """The items of a list, each with its path."""
        return [Node(item, key=i, parent=self) for i, item in enumerate(self.seq(None, limit))]

    def is_null(self) -> bool:
        """Whether the value is JSON null."""
        return self.value is None

    # The checks below first run without the path and only work it out to word a refusal.
    def whole(self, low: int, high: int) -> int:
        """A whole number from ``low`` to ``high``."""
        try:
            return bounded(self.value, "", low, high)
        except SettingError:
            return bounded(self.value, self.path, low, high)

    def real(self, low: float, high: float) -> float:
        """A finite number from ``low`` to ``high``, as a float."""
        try:
            return bounded(self.value, "", low, high, whole=False)
        except SettingError:
            return bounded(self.value, self.path, low, high, whole=False)

    def moment(self, latest: float = MOMENT_MAX) -> float:
        """A moment in epoch seconds that has an ISO-8601 form, no later than ``latest``."""
        moment = self.real(MOMENT_MIN, MOMENT_MAX)
        if moment > latest:
            raise self.fail(f"a moment no later than now ({latest!r})")
        return moment

    def flag(self) -> bool:
        """true or false."""
        if not isinstance(self.value, bool):
            raise self.fail("true or false")
        return self.value

    def text(
        self, limit: int, pattern: str | None = None, rule: str = "", *, least: int = 0
    ) -> str:
        """A string of ``least`` to ``limit`` characters (matching ``pattern`` when given)."""
        value = self.value
        if (
            not isinstance(value, str)
            or not least <= len(value) <= limit
            or (pattern is not None and re.fullmatch(pattern, value) is None)
        ):
            raise self.fail(rule or f"a string of {least} to {limit} characters")
        return value

    def choice(self, options: Iterable[str]) -> str:
        """One of ``options``."""
        options = list(options)
        if self.value not in options or not isinstance(self.value, str):
            raise self.fail(f"one of {options}")
        return self.value

    def money(self, high: int = MONEY_MAX) -> Decimal:
        """An amount of USD from 0 to ``high``: a decimal string, as snapshots write it, or a
        number (see ``accounts.money``)."""
        try:
            return money(self.value, "", high)
        except SettingError:
            return money(self.value, self.path, high)

    def build(self, make: Callable[[Any], T]) -> T:
        """``make(value)``, its SettingErrors placed under this path."""
        try:
            return make(self.value)
        except SettingError as error:
            raise repath(error, self.path) from None


def finite_json(node: Node, depth: int = 32) -> Any:
    """The value, if it is JSON without NaN or infinity, nested at most ``depth`` deep.

    Iterative, so a hostile nesting cannot exhaust Python's recursion limit.
    """
    stack = [(node, 0)]
    while stack:
        item, level = stack.pop()
        value = item.value
        if isinstance(value, dict):
            if level == depth and value:
                raise item.fail(f"JSON nested at most {depth} levels deep")
            for key in value:
                if not isinstance(key, str):
                    raise item.fail("an object whose keys are strings")
                stack.append((Node(value[key], key=key, parent=item), level + 1))
        elif isinstance(value, list):
            if level == depth and value:
                raise item.fail(f"JSON nested at most {depth} levels deep")
            stack.extend((Node(v, key=i, parent=item), level + 1) for i, v in enumerate(value))
        elif isinstance(value, float) and not math.isfinite(value):
            raise item.fail("a finite number")
        elif value is not None and not isinstance(value, bool | int | float | str):
            raise item.fail("JSON")
    return node.value
