"""The one validator for numeric settings: a JSON or TOML value within inclusive bounds.

Every numeric field of an account, rule, fault, clock or query goes through ``bounded`` so the
same mistakes (a bool, a string, NaN, infinity, a float where a whole number is needed) are
refused the same way, with one wording: ``NAME must be ... from LOW to HIGH, got VALUE``.
"""

from __future__ import annotations

import math
from typing import Any, overload

from ..errors import SettingError


@overload
def bounded(
    value: Any, name: str, low: int, high: int, *, whole: bool = True, unit: str = ""
) -> int: ...


@overload
def bounded(
    value: Any, name: str, low: float, high: float, *, whole: bool, unit: str = ""
) -> float: ...


def bounded(
    value: Any, name: str, low: float, high: float, *, whole: bool = True, unit: str = ""
) -> int | float:
    """``value`` if it is a number (a whole one when ``whole``) from ``low`` to ``high``.

    Anything else raises ``SettingError`` naming ``name``; ``unit`` (such as "seconds") is put
    into the message ("a number of seconds"). Python's bool is an int, so it is refused
    explicitly.
    """
    number = value if isinstance(value, int | float) and not isinstance(value, bool) else None
    if number is not None and whole and not isinstance(number, int):
        number = None
    # An int is compared as it is: converting a huge one to float (isfinite) would overflow.
    if (
        number is None
        or (isinstance(number, float) and not math.isfinite(number))
        or not low <= number <= high
    ):
        what = "a whole number" if whole else "a number"
        unit = f" of {unit}" if unit else ""
        raise SettingError(
            f"{name} must be {what}{unit} from {_show(low)} to {_show(high)}, "
            f"got {shown_value(value)}",
            name,
        )
    return number if whole else float(number)


def _show(limit: float) -> str:
    return str(int(limit)) if float(limit).is_integer() else str(limit)


#: JSON's (and TOML's) spelling of the values whose Python repr a JSON user would not know.
_JSON_WORDS = {True: "true", False: "false", None: "null"}


def shown_value(value: Any) -> str:
    """A refused value for an error message, cut to a readable length (Python refuses to
    print an int of over 4300 digits at all); true, false and null as the document wrote them."""
    if value is None or isinstance(value, bool):
        return _JSON_WORDS[value]
    if isinstance(value, int) and abs(value) >= 10**30:
        return "a whole number of more than 30 digits"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
