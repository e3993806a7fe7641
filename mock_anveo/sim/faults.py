"""Fault rules: which requests of a tenant misbehave on purpose, and how.

Pure data and matching; the HTTP layer (``app``) carries the fault out. A rule matches by
action and door, fires on the Nth matching request (or every request from the Nth on, or with a
seeded probability) and may be limited to a number of firings.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from ..errors import SettingError

KINDS = ("latency", "http-status", "html", "truncated", "reset", "hang")
DOORS = ("v3", "apicall", "v2")
MAX_DELAY = 60.0  # seconds: latency and hang are bounded so no test rig waits forever


@dataclass(slots=True)
class FaultRule:
    """One fault: kind, what it matches, when it fires, and its parameters."""

    id: str
    kind: str
    action: str | None = None
    door: str | None = None
    nth: int = 1
    probability: float | None = None
    times: int | None = 1
    when: str = "before"
    seconds: float = 1.0
    status: int = 503
    seen: int = 0
    fired: int = 0

    def consider(self, action: str, door: str, rng: random.Random) -> bool:
        """Count a request against this rule and say whether the fault fires for it."""
        if self.action is not None and self.action != action:
            return False
        if self.door is not None and self.door != door:
            return False
        if self.times is not None and self.fired >= self.times:
            return False
        self.seen += 1
        if self.seen < self.nth:
            return False
        if self.probability is not None and rng.random() >= self.probability:
            return False
        self.fired += 1
        return True

    def to_dict(self) -> dict[str, Any]:
        """JSON form, as accepted by ``fault_from_dict``."""
        return {"id": self.id, "kind": self.kind, "action": self.action, "door": self.door,
                "nth": self.nth, "probability": self.probability, "times": self.times,
                "when": self.when, "seconds": self.seconds, "status": self.status,
                "seen": self.seen, "fired": self.fired}


_FIELDS = {"id", "kind", "action", "door", "nth", "probability", "times", "when", "seconds",
           "status", "seen", "fired"}


def _int(doc: dict[str, Any], key: str, default: int | None, low: int, high: int) -> int | None:
    value = doc.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise SettingError(f"{key} must be an integer from {low} to {high}, got {value!r}",
                           key)
    return value


def fault_from_dict(doc: Any, fault_id: str) -> FaultRule:
    """Validate a JSON fault rule."""
    if not isinstance(doc, dict):
        raise SettingError("a fault rule must be a JSON object")
    unknown = set(doc) - _FIELDS
    if unknown:
        raise SettingError(f"unknown fault fields {sorted(unknown)}; known: "
                                f"{sorted(_FIELDS)}", sorted(unknown)[0])
    kind = doc.get("kind")
    if kind not in KINDS:
        raise SettingError(f"kind must be one of {list(KINDS)}, got {kind!r}", "kind")
    action = doc.get("action")
    if action is not None and (not isinstance(action, str) or not 0 < len(action) <= 64):
        raise SettingError(f"action must be an ACTION NAME, got {action!r}", "action")
    door = doc.get("door")
    if door is not None and door not in DOORS:
        raise SettingError(f"door must be one of {list(DOORS)}, got {door!r}", "door")
    probability = doc.get("probability")
    if probability is not None and (isinstance(probability, bool)
                                    or not isinstance(probability, int | float)
                                    or not 0 <= probability <= 1):
        raise SettingError(f"probability must be from 0 to 1, got {probability!r}",
                           "probability")
    when = doc.get("when", "before")
    if when not in ("before", "after"):
        raise SettingError("when must be 'before' (the request is not processed) or "
                                f"'after' (processed, then the reply is spoiled), got {when!r}",
                           "when")
    seconds = doc.get("seconds", 1.0)
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not (
            0 <= seconds <= MAX_DELAY):
        raise SettingError(f"seconds must be from 0 to {MAX_DELAY}, got {seconds!r}",
                           "seconds")
    times_default = None if "times" in doc and doc["times"] is None else 1
    return FaultRule(
        fault_id, kind, action, door,
        nth=_int(doc, "nth", 1, 1, 1_000_000) or 1,
        probability=None if probability is None else float(probability),
        times=_int(doc, "times", times_default, 1, 1_000_000),
        when=when, seconds=float(seconds),
        status=_int(doc, "status", 503, 100, 599) or 503,
        seen=_int(doc, "seen", 0, 0, 10**12) or 0,
        fired=_int(doc, "fired", 0, 0, 10**12) or 0,
    )


def pick(rules: list[FaultRule], action: str, door: str, when: str,
         rng: random.Random) -> FaultRule | None:
    """The first rule with this timing that fires for the request, if any."""
    for rule in rules:
        if rule.when == when and rule.consider(action, door, rng):
            return rule
    return None
