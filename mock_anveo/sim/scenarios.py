"""How each dialled number behaves: tenant rules, then magic numbers, then defaults.

Magic numbers live in the fictional 555-0100..555-0199 block of the North American plan
(``1NPA55501XX``), which no real subscriber can have, so ordinary numbers never surprise.
"""

from __future__ import annotations

import fnmatch
import random
import re
from dataclasses import dataclass, field
from typing import Any

from ..errors import SettingError

OUTCOMES = ("answer", "busy", "no-answer", "fail")

#: Seconds a leg rings before Anveo gives up (Anveo does not document its own value).
RING_TIMEOUT = 30.0
DEFAULT_RING_FIRST = 4.0
DEFAULT_RING_SECOND = 6.0
DEFAULT_TALK = 90.0


@dataclass(frozen=True, slots=True)
class LegBehaviour:
    """What one leg does: its outcome, seconds until that outcome, seconds of talk if answered."""

    outcome: str = "answer"
    ring: float = DEFAULT_RING_FIRST
    talk: float = DEFAULT_TALK

    def to_dict(self) -> dict[str, Any]:
        """JSON form, as accepted by ``behaviour_from_dict``."""
        return {"outcome": self.outcome, "ring": self.ring, "talk": self.talk}


def _field(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _number(doc: dict[str, Any], key: str, default: float, where: str) -> float:
    value = doc.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 86400:
        raise SettingError(f"{_field(where, key)} must be seconds from 0 to 86400, "
                                f"got {value!r}", _field(where, key))
    return float(value)


def behaviour_from_dict(doc: Any, where: str, default_ring: float) -> LegBehaviour:
    """Build a LegBehaviour from JSON (a bare outcome string is accepted as shorthand)."""
    if isinstance(doc, str):
        doc = {"outcome": doc}
    if not isinstance(doc, dict):
        raise SettingError(f"{where} must be an object or an outcome name", where)
    unknown = set(doc) - {"outcome", "ring", "talk"}
    if unknown:
        raise SettingError(f"{where or 'the rule'} has unknown fields {sorted(unknown)}",
                           where or sorted(unknown)[0])
    outcome = doc.get("outcome", "answer")
    if outcome not in OUTCOMES:
        raise SettingError(f"{_field(where, 'outcome')} must be one of {list(OUTCOMES)}, "
                                f"got {outcome!r}", _field(where, "outcome"))
    ring_default = RING_TIMEOUT if outcome == "no-answer" else default_ring
    return LegBehaviour(outcome, _number(doc, "ring", ring_default, where),
                        _number(doc, "talk", DEFAULT_TALK, where))


_MAGIC = re.compile(r"1\d{3}55501(\d\d)")


def magic(number: str) -> LegBehaviour | None:
    """The documented behaviour of a magic number, or None for an ordinary number."""
    found = _MAGIC.fullmatch(number)
    if found is None:
        return None
    code = int(found.group(1))
    table = {
        0: LegBehaviour("busy", 2.0, 0.0),
        1: LegBehaviour("no-answer", RING_TIMEOUT, 0.0),
        2: LegBehaviour("fail", 1.0, 0.0),
        3: LegBehaviour("answer", 3.0, 1.0),
        4: LegBehaviour("answer", 3.0, 4 * 3600.0),
        5: LegBehaviour("answer", 25.0, DEFAULT_TALK),
    }
    if code in table:
        return table[code]
    if 10 <= code <= 29:
        return LegBehaviour("answer", float(code - 10), DEFAULT_TALK)
    if 30 <= code <= 59:
        return LegBehaviour("answer", 3.0, (code - 29) * 10.0)
    if 60 <= code <= 99:
        return LegBehaviour("answer", 3.0, (code - 59) * 60.0)
    return None  # 06-09 are reserved and behave like ordinary numbers


@dataclass(slots=True)
class Rule:
    """A tenant's rule: numbers it matches, the legs' behaviour sequence and its remaining uses."""

    id: str
    match: str
    action: str | None = None
    leg: str | None = None
    sequence: list[LegBehaviour] = field(default_factory=list)
    weights: dict[str, float] | None = None
    times: int | None = None
    result: str | None = None
    used: int = 0

    def matches(self, number: str, action: str, leg: str) -> bool:
        """Whether this rule applies to ``number`` dialled as ``leg`` of ``action``."""
        if self.times is not None and self.used >= self.times:
            return False
        if self.action is not None and self.action != action:
            return False
        if self.leg is not None and self.leg != leg:
            return False
        return self.match == number or fnmatch.fnmatchcase(number, self.match)

    def take(self, rng: random.Random, default_ring: float) -> LegBehaviour:
        """Use the rule once: the next behaviour of its sequence (the last one repeats)."""
        self.used += 1
        if self.weights:
            names = list(self.weights)
            outcome = rng.choices(names, weights=[self.weights[n] for n in names])[0]
            ring = RING_TIMEOUT if outcome == "no-answer" else default_ring
            return LegBehaviour(outcome, ring, DEFAULT_TALK)
        if not self.sequence:
            return LegBehaviour("answer", default_ring, DEFAULT_TALK)
        return self.sequence[min(self.used, len(self.sequence)) - 1]

    def to_dict(self) -> dict[str, Any]:
        """JSON form, as accepted by ``rule_from_dict``."""
        return {
            "id": self.id, "match": self.match, "action": self.action, "leg": self.leg,
            "sequence": [b.to_dict() for b in self.sequence], "weights": self.weights,
            "times": self.times, "result": self.result, "used": self.used,
        }


_RULE_FIELDS = {"id", "match", "action", "leg", "sequence", "outcome", "ring", "talk",
                "weights", "times", "result", "used"}


def rule_from_dict(doc: Any, rule_id: str) -> Rule:
    """Validate a JSON scenario rule; ``outcome``/``ring``/``talk`` are a one-step sequence."""
    if not isinstance(doc, dict):
        raise SettingError("a scenario rule must be a JSON object")
    unknown = set(doc) - _RULE_FIELDS
    if unknown:
        raise SettingError(f"unknown scenario fields {sorted(unknown)}; "
                                f"known: {sorted(_RULE_FIELDS)}", sorted(unknown)[0])
    match = doc.get("match", "*")
    if not isinstance(match, str) or not match or len(match) > 64:
        raise SettingError(f"match must be a number or glob pattern, got {match!r}",
                           "match")
    action = doc.get("action")
    if action not in (None, "DIAL.CONNECT", "DIAL.CALLFLOW"):
        raise SettingError(f"action must be DIAL.CONNECT or DIAL.CALLFLOW, got {action!r}",
                           "action")
    leg = doc.get("leg")
    if leg not in (None, "first", "second"):
        raise SettingError(f"leg must be 'first' or 'second', got {leg!r}", "leg")
    ring_default = DEFAULT_RING_SECOND if leg == "second" else DEFAULT_RING_FIRST
    raw_sequence = doc.get("sequence")
    if raw_sequence is None:
        single = {k: doc[k] for k in ("outcome", "ring", "talk") if k in doc}
        raw_sequence = [single] if single else []
    elif any(k in doc for k in ("outcome", "ring", "talk")):
        raise SettingError("give either sequence or outcome/ring/talk, not both",
                           "sequence")
    if not isinstance(raw_sequence, list) or len(raw_sequence) > 100:
        raise SettingError("sequence must be a list of at most 100 steps", "sequence")
    where = "" if "sequence" not in doc else "sequence[{}]"
    sequence = [behaviour_from_dict(step, where.format(i), ring_default)
                for i, step in enumerate(raw_sequence)]
    weights = doc.get("weights")
    if weights is not None:
        if (not isinstance(weights, dict) or not weights or set(weights) - set(OUTCOMES)
                or not all(isinstance(v, int | float) and not isinstance(v, bool)
                           and 0 <= v <= 1e6 for v in weights.values())
                or sum(weights.values()) <= 0):
            raise SettingError(f"weights must map outcomes {list(OUTCOMES)} to numbers "
                                    f"from 0 to 1000000 with a positive sum, got {weights!r}",
                               "weights")
        if sequence:
            raise SettingError("give either weights or a sequence, not both", "weights")
        weights = {k: float(v) for k, v in weights.items()}
    times = doc.get("times")
    if times is not None and (isinstance(times, bool) or not isinstance(times, int)
                              or times < 1):
        raise SettingError(f"times must be a positive integer, got {times!r}", "times")
    result = doc.get("result")
    if result is not None and (not isinstance(result, str) or len(result) > 1024):
        raise SettingError("result must be a string of at most 1024 characters", "result")
    used = doc.get("used", 0)
    if isinstance(used, bool) or not isinstance(used, int) or used < 0:
        raise SettingError(f"used must be a non-negative integer, got {used!r}", "used")
    return Rule(rule_id, match, action, leg, sequence, weights, times, result, used)


#: What an ordinary leg does when no rule matches (the engine shares these, never copies).
DEFAULT_FIRST = LegBehaviour("answer", DEFAULT_RING_FIRST, DEFAULT_TALK)
DEFAULT_SECOND = LegBehaviour("answer", DEFAULT_RING_SECOND, DEFAULT_TALK)
_DEFAULTS = {"first": (DEFAULT_FIRST, None), "second": (DEFAULT_SECOND, None)}


def resolve(
    rules: list[Rule], number: str, action: str, leg: str, rng: random.Random
) -> tuple[LegBehaviour, str | None]:
    """Pick a leg's behaviour: first matching rule, then magic numbers, then defaults."""
    for rule in rules:
        if rule.matches(number, action, leg):
            default_ring = DEFAULT_RING_SECOND if leg == "second" else DEFAULT_RING_FIRST
            return rule.take(rng, default_ring), rule.result
    if "555" in number:  # a cheap test first: only the 555-01XX block is magic
        special = magic(number)
        if special is not None:
            return special, None
    return _DEFAULTS[leg]
