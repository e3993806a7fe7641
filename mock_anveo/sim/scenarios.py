"""How each dialled number behaves: tenant rules, then magic numbers (``legs``), then defaults.

A call's legs are both decided when the request is accepted (see ``Tenant.dial_connect``).
"""

from __future__ import annotations

import fnmatch
import random
import re
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from ..errors import SettingError
from .bounds import bounded, shown_value
from .legs import (
    DEFAULT_RING_FIRST,
    DEFAULT_RING_SECOND,
    DEFAULT_TALK,
    DIAL_ACTIONS,
    MAX_TIMES,
    OUTCOMES,
    RING_TIMEOUT,
    LegBehaviour,
    behaviour_from_dict,
    magic,
)


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
            return LegBehaviour(outcome, ring, DEFAULT_TALK, own_talk=False)
        if not self.sequence:
            return LegBehaviour("answer", default_ring, DEFAULT_TALK, own_talk=False)
        return self.sequence[min(self.used, len(self.sequence)) - 1]

    def to_dict(self) -> dict[str, Any]:
        """JSON form, as accepted by ``rule_from_dict``."""
        return {
            "id": self.id,
            "match": self.match,
            "action": self.action,
            "leg": self.leg,
            "sequence": [b.rule_dict() for b in self.sequence],
            "weights": self.weights,
            "times": self.times,
            "result": self.result,
            "used": self.used,
        }


_RULE_FIELDS = frozenset(
    {
        "id",
        "match",
        "action",
        "leg",
        "sequence",
        "outcome",
        "ring",
        "talk",
        "weights",
        "times",
        "result",
        "used",
    }
)
#: Digits (a number is digits only) and fnmatch's glob characters.
_PATTERN = re.compile(r"[0-9*?\[\]!-]{1,64}")


def rule_from_dict(doc: Any, rule_id: str) -> Rule:
    """Validate a JSON scenario rule; ``outcome``/``ring``/``talk`` are a one-step sequence.

    ``match`` is required: a rule without one would silently override every magic number.
    Combinations that can never apply (a second leg of DIAL.CALLFLOW, a call flow ``result``
    on a DIAL.CONNECT-only rule) are refused rather than kept as dead rules.
    """
    if not isinstance(doc, dict):
        raise SettingError("a scenario rule must be a JSON object")
    unknown = set(doc) - _RULE_FIELDS
    if unknown:
        raise SettingError(
            f"unknown scenario fields {sorted(unknown)}; known: {sorted(_RULE_FIELDS)}",
            sorted(unknown)[0],
        )
    action = doc.get("action")
    if action is not None and action not in DIAL_ACTIONS:
        raise SettingError(
            f"action must be one of {list(DIAL_ACTIONS)}, got {shown_value(action)}", "action"
        )
    leg = doc.get("leg")
    if leg not in (None, "first", "second"):
        raise SettingError(f"leg must be 'first' or 'second', got {shown_value(leg)}", "leg")
    if leg == "second" and action == "DIAL.CALLFLOW":
        raise SettingError(
            "leg 'second' never applies to DIAL.CALLFLOW, which dials one party", "leg"
        )
    ring_default = DEFAULT_RING_SECOND if leg == "second" else DEFAULT_RING_FIRST
    raw_sequence = doc.get("sequence")
    if raw_sequence is None:
        single = {k: doc[k] for k in ("outcome", "ring", "talk") if k in doc}
        raw_sequence = [single] if single else []
    elif any(k in doc for k in ("outcome", "ring", "talk")):
        raise SettingError("give either sequence or outcome/ring/talk, not both", "sequence")
    if not isinstance(raw_sequence, list) or len(raw_sequence) > 100:
        raise SettingError("sequence must be a list of at most 100 steps", "sequence")
    where = "" if "sequence" not in doc else "sequence[{}]"
    sequence = [
        behaviour_from_dict(step, where.format(i), ring_default)
        for i, step in enumerate(raw_sequence)
    ]
    weights = _weights(doc.get("weights"))
    if weights is not None and sequence:
        raise SettingError("give either weights or a sequence, not both", "weights")
    times = doc.get("times")
    if times is not None:
        times = bounded(times, "times", 1, MAX_TIMES)
    result = doc.get("result")
    if result is not None:
        if not isinstance(result, str) or len(result) > 1024:
            raise SettingError("result must be a string of at most 1024 characters", "result")
        if action == "DIAL.CONNECT" or leg == "second":
            raise SettingError(
                "result is what a call flow produces: it needs a rule that can "
                "apply to DIAL.CALLFLOW",
                "result",
            )
    used = bounded(doc.get("used", 0), "used", 0, 10**12)
    if "match" not in doc:
        raise SettingError(
            "match is required: the number the rule applies to, or a glob "
            'pattern such as "1212*" ("*" for every number)',
            "match",
        )
    match = doc["match"]
    if not isinstance(match, str) or _PATTERN.fullmatch(match) is None:
        raise SettingError(
            "match must be a number or glob pattern of 1 to 64 digits and "
            f"* ? [ ] ! -, got {shown_value(match)}",
            "match",
        )
    return Rule(rule_id, match, action, leg, sequence, weights, times, result, used)


def _weights(weights: Any) -> dict[str, float] | None:
    if weights is None:
        return None
    if not isinstance(weights, dict) or not weights or set(weights) - set(OUTCOMES):
        raise SettingError(
            f"weights must map outcomes {list(OUTCOMES)} to numbers, got {shown_value(weights)}",
            "weights",
        )
    out: dict[str, float] = {}
    for name, value in weights.items():
        try:
            out[name] = bounded(value, f"weights.{name}", 0.0, 1e6, whole=False)
        except SettingError as exc:  # the field is the whole mapping, the message names the key
            raise SettingError(exc.message, "weights") from None
    if sum(out.values()) <= 0:
        raise SettingError(
            f"weights must have a positive sum, got {shown_value(weights)}", "weights"
        )
    return out


#: What an ordinary leg does when no rule matches (the engine shares these, never copies).
DEFAULT_FIRST = LegBehaviour("answer", DEFAULT_RING_FIRST, DEFAULT_TALK, own_talk=False)
DEFAULT_SECOND = LegBehaviour("answer", DEFAULT_RING_SECOND, DEFAULT_TALK, own_talk=False)
_DEFAULTS = MappingProxyType({"first": (DEFAULT_FIRST, None), "second": (DEFAULT_SECOND, None)})


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
