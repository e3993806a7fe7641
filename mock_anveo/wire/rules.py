"""The contract's value rules as the fast path applies them: compiled once, read in C.

``problem`` words a value that breaks its kind's rule; ``Rules`` is an action's parameter table
arranged for ``plain``, the check that accepts a request without the schema when every value
plainly passes (False on any doubt: the schema then decides, and ``actions`` words it).
"""

from __future__ import annotations

import re
import sys
from typing import NamedTuple

from ..contract import Kind, Param
from ..errors import shown

Params = dict[str, str]
#: NAME/value pairs in the order they were sent.
Pairs = tuple[tuple[str, str], ...]

#: Each kind's rule compiled once (kinds are frozen, so they key a dict).
_PATTERNS: dict[Kind, re.Pattern[str]] = {}


def pattern_of(kind: Kind) -> re.Pattern[str]:
    """``kind``'s rule as a compiled ``fullmatch`` pattern."""
    pattern = _PATTERNS.get(kind)
    if pattern is None:
        pattern = _PATTERNS[kind] = kind.compiled()
    return pattern


def problem(kind: Kind, name: str, value: str) -> str | None:
    """The message for a value of ``name`` that breaks ``kind``'s rule, or None when fine."""
    ok = pattern_of(kind).fullmatch(value) is not None
    if ok and kind.low is not None and kind.high is not None:
        ok = kind.low <= int(value) <= kind.high
    return None if ok else f"{name} must be {kind.rule}, got {shown(value)}"


#: One parameter's rule for the fast check: its pattern (None: any text up to the length), the
#: length bound, the range (high None: none), and whether its values are free text (the
#: only ones that may hold characters XML cannot carry: the patterns of the others are classes
#: of ASCII letters and digits).
Check = tuple[re.Pattern[str] | None, int, int, int | None, bool]
_FREE = re.compile(r"\.|\\|\[\^")  # a pattern with any of these could match anything


class Rules(NamedTuple):
    """An action's parameter table as the fast check reads it."""

    names: frozenset[str]
    required: frozenset[str]
    checks: dict[str, Check]


def rules_of(params: dict[str, Param]) -> Rules:
    """The fast check's table for an action's parameters."""
    checks: dict[str, Check] = {}
    for name, param in params.items():
        kind = param.kind
        low, high = (kind.low, kind.high) if kind.low is not None else (0, None)
        free = kind.pattern is None or _FREE.search(kind.pattern) is not None
        pattern = pattern_of(kind) if kind.pattern is not None else None
        longest = kind.max_length if kind.max_length is not None else sys.maxsize
        checks[name] = (pattern, longest, low, high, free)
    required = frozenset(name for name, param in params.items() if param.required)
    return Rules(frozenset(params), required, checks)


#: What lxml will not put in a document (and so what only the schema path may judge).
NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
#: Longer numbers go to the schema: ``int`` of thousands of digits is slow, or refused.
_DIGITS_MAX = 9


def _within(digits: str, low: int, high: int) -> bool:
    return len(digits) <= _DIGITS_MAX and low <= int(digits) <= high


def fit(checks: dict[str, Check], params: Params) -> bool:
    """Whether every value plainly passes its check (False also when only the schema can
    tell). One loop, no call per value: this runs for every request."""
    for name, value in params.items():
        pattern, longest, low, high, free = checks[name]
        if pattern is None:
            if len(value) > longest:
                return False
        elif pattern.fullmatch(value) is None:
            return False
        # Printable text is all XML characters; the search only runs for the rest.
        if free and not value.isprintable() and NOT_XML.search(value):
            return False
        if high is not None and not _within(value, low, high):
            return False
    return True


def plain(rules: Rules, pairs: Pairs) -> Params | None:
    """The parameters of a request without VARIABLEs when every one plainly passes (set
    operations in C for the names, one rule per value); None on any doubt, never a refusal."""
    params = dict(pairs)
    if (
        len(params) != len(pairs)
        or "" in params.values()
        or not params.keys() <= rules.names
        or not params.keys() >= rules.required
    ):
        return None
    return params if fit(rules.checks, params) else None
