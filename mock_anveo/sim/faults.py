"""Fault rules: which requests of a tenant misbehave on purpose, and how.

Pure data and matching; the HTTP layer (``app``) carries the fault out. A rule matches by
action and door, fires on the Nth matching request (or every request from the Nth on, or with a
seeded probability) and may be limited to a number of firings.

The HTTP layer asks ``pick(tenant.faults, action, door, when, tenant.fault_rng)`` once before
and once after processing each request: door ``"v3"``, ``"apicall"``, ``"v2"`` with the
request's ACTION NAME, or door ``"v1"`` with action ``"SMS"`` (the legacy text door).
An ``http-status`` fault answers with ``status``: 3xx to 5xx with a short text body; a 2xx
status keeps the envelope the door would have sent (``after``: the real reply; ``before``: the
request is not processed and the envelope is a refusal saying so), only the status changes.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from .. import contract
from ..errors import SettingError
from .bounds import bounded, shown_value

KINDS = ("latency", "http-status", "html", "truncated", "reset", "hang")
#: Faults on the way out: they act on the tenant's outgoing messages, never on a request.
MESSAGE_KINDS = ("duplicate", "delay", "out-of-order")
#: The message types a message fault may name as its ``action``.
MESSAGE_TYPES = ("CALL", "SMS", "FORWARD")
MAX_HOLD = 86_400.0  # virtual seconds a delay or out-of-order fault may hold a message
DOORS = ("v3", "apicall", "v2", "v1")
#: The ACTION NAMEs of the XML and query doors, from the contract table.
ACTIONS = tuple(contract.ACTIONS)
#: The action the legacy text door (``door`` "v1") reports for every request.
V1_ACTION = "SMS"
MAX_DELAY = 60.0  # seconds: latency and hang are bounded so no test rig waits forever
MAX_COUNT = 1_000_000  # nth and times
MAX_SEEN = 10**12  # seen and fired, the counters a snapshot carries


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
        return {
            "id": self.id,
            "kind": self.kind,
            "action": self.action,
            "door": self.door,
            "nth": self.nth,
            "probability": self.probability,
            "times": self.times,
            "when": self.when,
            "seconds": self.seconds,
            "status": self.status,
            "seen": self.seen,
            "fired": self.fired,
        }


_FIELDS = frozenset(
    {
        "id",
        "kind",
        "action",
        "door",
        "nth",
        "probability",
        "times",
        "when",
        "seconds",
        "status",
        "seen",
        "fired",
    }
)


def _target(doc: dict[str, Any]) -> tuple[str | None, str | None]:
    """The rule's action and door, refusing names no request carries and pairs that never
    meet (an XML action on the text door, SMS on an XML door)."""
    action = doc.get("action")
    if action is not None and action not in (*ACTIONS, V1_ACTION):
        raise SettingError(
            f"action must be an ACTION NAME, one of {[*ACTIONS, V1_ACTION]} "
            f"({V1_ACTION} is the v1 text door's), got {shown_value(action)}",
            "action",
        )
    door = doc.get("door")
    if door is not None and door not in DOORS:
        raise SettingError(f"door must be one of {list(DOORS)}, got {shown_value(door)}", "door")
    if door == "v1" and action not in (None, V1_ACTION):
        raise SettingError(
            f"the v1 door only carries action {V1_ACTION}, so a fault on "
            f"{action} there never fires",
            "action",
        )
    if action == V1_ACTION and door not in (None, "v1"):
        raise SettingError(
            f"action {V1_ACTION} only arrives through the v1 door, not {door}", "door"
        )
    return action, door


def _message_target(doc: dict[str, Any]) -> tuple[str | None, None]:
    """A message fault's type (``action``); it has no door, since no request carries it."""
    action = doc.get("action")
    if action is not None and action not in MESSAGE_TYPES:
        raise SettingError(
            f"a {doc['kind']} fault acts on outgoing messages: action must be one of "
            f"{list(MESSAGE_TYPES)}, got {shown_value(action)}",
            "action",
        )
    if doc.get("door") is not None:
        raise SettingError(f"a {doc['kind']} fault acts on outgoing messages, not a door", "door")
    return action, None


def fault_from_dict(doc: Any, fault_id: str) -> FaultRule:
    """Validate a JSON fault rule."""
    if not isinstance(doc, dict):
        raise SettingError("a fault rule must be a JSON object")
    unknown = set(doc) - _FIELDS
    if unknown:
        raise SettingError(
            f"unknown fault fields {sorted(unknown)}; known: {sorted(_FIELDS)}", sorted(unknown)[0]
        )
    kind = doc.get("kind")
    if kind not in KINDS + MESSAGE_KINDS:
        known = list(KINDS + MESSAGE_KINDS)
        raise SettingError(f"kind must be one of {known}, got {shown_value(kind)}", "kind")
    action, door = _message_target(doc) if kind in MESSAGE_KINDS else _target(doc)
    held = kind in MESSAGE_KINDS
    probability = doc.get("probability")
    if probability is not None:
        probability = bounded(probability, "probability", 0.0, 1.0, whole=False)
    when = doc.get("when", "before")
    if when not in ("before", "after"):
        raise SettingError(
            "when must be 'before' (the request is not processed) or "
            f"'after' (processed, then the reply is spoiled), got {shown_value(when)}",
            "when",
        )
    nth = bounded(doc.get("nth", 1), "nth", 1, MAX_COUNT)
    if nth != 1 and probability is not None:
        raise SettingError(
            "give either nth (the Nth matching request) or probability (a seeded chance "
            "for each matching request), not both",
            "probability",
        )
    times = doc.get("times", 1)  # an explicit null: no limit
    return FaultRule(
        fault_id,
        kind,
        action,
        door,
        nth=nth,
        probability=probability,
        times=None if times is None else bounded(times, "times", 1, MAX_COUNT),
        when=when,
        seconds=bounded(
            doc.get("seconds", 60.0 if held else 1.0),
            "seconds",
            0.0,
            MAX_HOLD if held else MAX_DELAY,
            whole=False,
            unit="seconds",
        ),
        # 1xx would send an interim answer and no final one: the client would hang.
        status=bounded(doc.get("status", 503), "status", 200, 599),
        seen=bounded(doc.get("seen", 0), "seen", 0, MAX_SEEN),
        fired=bounded(doc.get("fired", 0), "fired", 0, MAX_SEEN),
    )


def pick(
    rules: list[FaultRule], action: str, door: str, when: str, rng: random.Random
) -> FaultRule | None:
    """The first rule with this timing that fires for the request, if any."""
    for rule in rules:
        if rule.when == when and rule.kind in KINDS and rule.consider(action, door, rng):
            return rule
    return None


def pick_message(rules: list[FaultRule], kind: str, rng: random.Random) -> FaultRule | None:
    """The first message fault that fires for a new outgoing message of type ``kind``."""
    for rule in rules:
        if rule.kind in MESSAGE_KINDS and rule.consider(kind, "", rng):
            return rule
    return None
