"""A leg's behaviour (answer or fail, ring and talk times) and the magic numbers' table.

Magic numbers live in the fictional 555-0100..555-0199 block of the North American plan
(``1NPA55501XX``), which no real subscriber can have, so ordinary numbers never surprise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..errors import SettingError
from .bounds import bounded, shown_value

OUTCOMES = ("answer", "busy", "no-answer", "fail")
#: The actions a scenario rule may be limited to (the dialling ones).
DIAL_ACTIONS = ("DIAL.CONNECT", "DIAL.CALLFLOW")

#: Seconds a leg rings before Anveo gives up (Anveo does not document its own value).
RING_TIMEOUT = 30.0
DEFAULT_RING_FIRST = 4.0
DEFAULT_RING_SECOND = 6.0
#: How long a party with no talk time of its own talks when the other has none either, and
#: how long an answered first party waits for the second to answer.
DEFAULT_TALK = 90.0
MAX_SECONDS = 86400.0  # a ring or talk time: at most a day
MAX_TIMES = 1_000_000_000


@dataclass(frozen=True, slots=True)
class LegBehaviour:
    """What one leg does: its outcome, seconds until that outcome, seconds of talk if answered.

    ``own_talk``: whether ``talk`` is the party's own (a magic number's or a rule's), after
    which it hangs up whatever the other party does. A party without one stays on the line
    until the other hangs up, and ``talk`` (90 s) then only bounds how long it waits for the
    second party and how long a call of two such parties lasts. None (a plan saved without
    the field) means: own unless ``talk`` is the default.
    """

    outcome: str = "answer"
    ring: float = DEFAULT_RING_FIRST
    talk: float = DEFAULT_TALK
    own_talk: bool | None = None

    def __post_init__(self) -> None:
        if self.own_talk is None:
            object.__setattr__(self, "own_talk", self.talk != DEFAULT_TALK)

    def to_dict(self) -> dict[str, Any]:
        """JSON form of a call's plan (``talk`` always a number, ``own_talk`` beside it)."""
        return {
            "outcome": self.outcome,
            "ring": self.ring,
            "talk": self.talk,
            "own_talk": self.own_talk,
        }

    def rule_dict(self) -> dict[str, Any]:
        """JSON form of a rule's step, as accepted by ``behaviour_from_dict`` (``talk`` null:
        no talk time of its own)."""
        return {
            "outcome": self.outcome,
            "ring": self.ring,
            "talk": self.talk if self.own_talk else None,
        }

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> LegBehaviour:
        """The inverse of ``to_dict`` (a document without ``own_talk`` infers it)."""
        own = doc.get("own_talk")
        return cls(
            str(doc["outcome"]),
            float(doc["ring"]),
            float(doc["talk"]),
            None if own is None else bool(own),
        )


def _field(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def behaviour_from_dict(doc: Any, where: str, default_ring: float) -> LegBehaviour:
    """Build a LegBehaviour from JSON (a bare outcome string is accepted as shorthand)."""
    if isinstance(doc, str):
        doc = {"outcome": doc}
    if not isinstance(doc, dict):
        raise SettingError(f"{where} must be an object or an outcome name", where)
    unknown = set(doc) - {"outcome", "ring", "talk"}
    if unknown:
        raise SettingError(
            f"{where or 'the rule'} has unknown fields {sorted(unknown)}",
            where or sorted(unknown)[0],
        )
    outcome = doc.get("outcome", "answer")
    if outcome not in OUTCOMES:
        raise SettingError(
            f"{_field(where, 'outcome')} must be one of {list(OUTCOMES)}, "
            f"got {shown_value(outcome)}",
            _field(where, "outcome"),
        )
    ring = RING_TIMEOUT if outcome == "no-answer" else default_ring
    if "ring" in doc:
        ring = bounded(
            doc["ring"], _field(where, "ring"), 0.0, MAX_SECONDS, whole=False, unit="seconds"
        )
    talk = doc.get("talk")
    if talk is None:  # absent or null: no talk time of its own
        return LegBehaviour(outcome, ring, DEFAULT_TALK, own_talk=False)
    return LegBehaviour(
        outcome,
        ring,
        bounded(talk, _field(where, "talk"), 0.0, MAX_SECONDS, whole=False, unit="seconds"),
        own_talk=True,
    )


_MAGIC = re.compile(r"1\d{3}55501(\d\d)")


def _magic_row(code: int) -> LegBehaviour | None:
    fixed = {
        0: LegBehaviour("busy", 2.0, 0.0, own_talk=False),
        1: LegBehaviour("no-answer", RING_TIMEOUT, 0.0, own_talk=False),
        2: LegBehaviour("fail", 1.0, 0.0, own_talk=False),
        3: LegBehaviour("answer", 3.0, 1.0, own_talk=True),
        4: LegBehaviour("answer", 3.0, 4 * 3600.0, own_talk=True),
        5: LegBehaviour("answer", 25.0, DEFAULT_TALK, own_talk=False),
    }
    if code in fixed:
        return fixed[code]
    if 10 <= code <= 29:
        return LegBehaviour("answer", float(code - 10), DEFAULT_TALK, own_talk=False)
    if 30 <= code <= 59:
        return LegBehaviour("answer", 3.0, (code - 29) * 10.0, own_talk=True)
    if 60 <= code <= 99:
        return LegBehaviour("answer", 3.0, (code - 59) * 60.0, own_talk=True)
    return None  # 06-09 are reserved and behave like ordinary numbers


#: The README's magic-number table, by the last two digits (built once, never changed).
MAGIC_TABLE: tuple[LegBehaviour | None, ...] = tuple(_magic_row(code) for code in range(100))


def magic(number: str) -> LegBehaviour | None:
    """The documented behaviour of a magic number, or None for an ordinary number."""
    found = _MAGIC.fullmatch(number)
    return None if found is None else MAGIC_TABLE[int(found.group(1))]
