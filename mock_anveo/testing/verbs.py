"""The controller's verbs, each written once as the control request it sends (see ``ops``).

``Controller`` adds every verb to what the controller knows locally (``base``);
``MockAnveo`` and ``AsyncMockAnveo`` (``controller``) add a transport and a lifecycle, and run
the same verbs blocking or awaited.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from . import answers
from .base import ControllerBase
from .ops import Op, iso_moment, verb

if TYPE_CHECKING:
    from .notices import Notification, Notifications
    from .records import Call, Clock, JournalEntry, ServerError, Sms
    from .sent import Requests

__all__ = ["Controller"]

_RULE_FOLDERS = {"scenario": "scenarios", "fault": "faults"}


def _query(path: str, **given: Any) -> str:
    query = {k: v for k, v in given.items() if v is not None}
    return path + ("?" + urlencode(query) if query else "")


class Controller(ControllerBase):
    """Every verb both faces share (see ``MockAnveo``), on top of the local configuration."""

    # ---- verbs: each one control request ----
    @verb
    def tenant(self) -> Op[dict[str, Any]]:
        """The tenant as the control API shows it: account, money, clock, counters."""
        return Op("GET", self._t, answers.json_object)

    @verb
    def balance(self) -> Op[Decimal]:
        """The account balance in USD."""
        return Op("GET", self._t, lambda d: Decimal(d["balance"]))

    @verb
    def set_account(self, /, **fields: Any) -> Op[dict[str, Any]]:
        """Change account fields (balance, verified_callerids, require_signature, ...)."""
        body = {k: str(v) if isinstance(v, Decimal) else v for k, v in fields.items()}
        return Op("PATCH", self._t, answers.json_object, body)

    @verb
    def clock(self) -> Op[Clock]:
        """The tenant's virtual clock."""
        return Op("GET", self._t + "/clock", answers.clock)

    @verb
    def now(self) -> Op[datetime]:
        """The tenant's virtual time (UTC)."""
        return Op("GET", self._t + "/clock", answers.now)

    @verb
    def advance(
        self,
        seconds: float | timedelta | None = None,
        *,
        to: datetime | str | None = None,
        until_idle: bool = False,
        max_seconds: float | None = None,
    ) -> Op[Clock]:
        """Move virtual time by ``seconds``, ``to`` a moment, or ``until_idle``; due events fire."""
        body: dict[str, Any] = {}
        if seconds is not None:
            body["seconds"] = seconds.total_seconds() if isinstance(seconds, timedelta) else seconds
        if to is not None:
            body["to"] = iso_moment(to)
        if until_idle:
            body["until_idle"] = True
            if max_seconds is not None:
                body["max_seconds"] = max_seconds
        if len(body) - ("max_seconds" in body) != 1:
            raise TypeError("advance() takes exactly one of seconds, to= or until_idle=True")
        return Op("POST", self._t + "/clock/advance", answers.clock, body)

    @verb
    def calls(
        self,
        *,
        status: str | None = None,
        action: str | None = None,
        billingcode: str | None = None,
    ) -> Op[list[Call]]:
        """The tenant's calls, oldest first, optionally filtered."""
        path = _query(self._t + "/calls", status=status, action=action, billingcode=billingcode)
        return Op("GET", path, answers.calls)

    @verb
    def call(self, requestid: str) -> Op[Call]:
        """One call by its REQUESTID (ControlError 404 when unknown)."""
        return Op("GET", f"{self._t}/calls/{quote(requestid, safe='')}", answers.call)

    @verb
    def journal(
        self, action: str | None = None, *, kind: str | None = None
    ) -> Op[list[JournalEntry]]:
        """Journal entries (exchanges and call transitions), optionally by action and kind."""
        return Op("GET", _query(self._t + "/journal", action=action, kind=kind), answers.entries)

    @verb
    def requests(self, action: str | None = None) -> Op[Requests]:
        """The API requests received (optionally of one action), as ``Requests``."""
        path = _query(self._t + "/journal", action=action, kind="exchange")
        return Op("GET", path, answers.requests)

    @verb
    def sms(self) -> Op[list[Sms]]:
        """The SMS the tenant sent through the legacy v1 door, oldest first."""
        return Op("GET", self._t + "/sms", answers.sms)

    @verb
    def notifications(
        self, type: str | None = None, *, state: str | None = None
    ) -> Op[Notifications]:
        """Outgoing messages (CALL, SMS, FORWARD), oldest first, as ``Notifications``."""
        path = _query(self._t + "/notifications", type=type, state=state)
        return Op("GET", path, answers.notifications)

    @verb
    def sms_inbound(self, sender: str, to: str, message: str) -> Op[Notification | None]:
        """An SMS from ``sender`` arrives on the account's number ``to``: its forward (None
        when the number has no ``sms_url``), its first attempt already made."""
        body = {"from": sender, "to": to, "message": message}
        return Op("POST", self._t + "/sms/inbound", answers.forward, body)

    @verb
    def sink(self) -> Op[list[dict[str, Any]]]:
        """What arrived at this tenant's built-in sink (``sink_url``), oldest first."""
        return Op("GET", "/_mock/sinks/" + quote(self.userkey, safe=""), answers.objects)

    @verb
    def server_journal(self, *, limit: int | None = None) -> Op[list[JournalEntry]]:
        """The server's own journal: requests no tenant owns (unreadable, or an unknown
        USERKEY), where a request that never reached your tenant shows up."""
        return Op("GET", _query("/_mock/journal", limit=limit), answers.entries)

    @verb
    def scenario(
        self,
        match: str = "*",
        outcome: str | None = None,
        *,
        action: str | None = None,
        leg: str | None = None,
        ring: float | None = None,
        talk: float | None = None,
        sequence: Sequence[str | Mapping[str, Any]] | None = None,
        weights: Mapping[str, float] | None = None,
        times: int | None = None,
        result: str | None = None,
    ) -> Op[dict[str, Any]]:
        """Make numbers matching ``match`` (a number or glob) behave so; returns the rule."""
        doc = {
            "match": match,
            "outcome": outcome,
            "action": action,
            "leg": leg,
            "ring": ring,
            "talk": talk,
            "times": times,
            "result": result,
            "sequence": None if sequence is None else list(sequence),
            "weights": None if weights is None else dict(weights),
        }
        body = {k: v for k, v in doc.items() if v is not None}
        return Op("POST", self._t + "/scenarios", answers.json_object, body)

    @verb
    def fault(
        self,
        kind: str,
        *,
        action: str | None = None,
        door: str | None = None,
        nth: int | None = None,
        probability: float | None = None,
        times: int | None = 1,
        when: str | None = None,
        seconds: float | None = None,
        status: int | None = None,
    ) -> Op[dict[str, Any]]:
        """Spoil matching API requests on purpose (``times=None``: every time); returns the rule."""
        doc = {
            "action": action,
            "door": door,
            "nth": nth,
            "probability": probability,
            "when": when,
            "seconds": seconds,
            "status": status,
        }
        body: dict[str, Any] = {k: v for k, v in doc.items() if v is not None}
        body.update(kind=kind, times=times)  # times=None is sent: it means "every time"
        return Op("POST", self._t + "/faults", answers.json_object, body)

    @verb
    def scenarios(self) -> Op[list[dict[str, Any]]]:
        """The tenant's scenario rules, with their ``used`` counts."""
        return Op("GET", self._t + "/scenarios", answers.objects)

    @verb
    def faults(self) -> Op[list[dict[str, Any]]]:
        """The tenant's fault rules, with their ``seen`` and ``fired`` counts."""
        return Op("GET", self._t + "/faults", answers.objects)

    @verb
    def remove(self, rule: Mapping[str, Any] | str, *, kind: str | None = None) -> Op[None]:
        """Delete one rule: the dict ``scenario()``, ``fault()``, ``scenarios()`` or ``faults()``
        gave (its ``rule`` field says which), or its id with ``kind="scenario"`` or ``"fault"``."""
        if isinstance(rule, Mapping):
            rule_id, kind = str(rule["id"]), kind or rule.get("rule")
        else:
            rule_id = str(rule)
        folder = _RULE_FOLDERS.get(kind) if isinstance(kind, str) else None
        if folder is None:
            raise ValueError(
                f"remove() needs the rule's kind, 'scenario' or 'fault', "
                f"got {kind!r} for rule {rule_id!r}"
            )
        return Op("DELETE", f"{self._t}/{folder}/{quote(rule_id, safe='')}", answers.none)

    @verb
    def reset(self) -> Op[None]:
        """Back to the start: the same USERKEY, fresh account, clock, calls, journal and rules."""
        return Op("POST", self._t + "/reset", answers.none)

    @verb
    def errors(self) -> Op[list[ServerError]]:
        """Unexpected exceptions the server recorded for this tenant (should be empty)."""
        return Op("GET", self._t + "/errors", answers.server_errors)

    @verb
    def check_errors(self) -> Op[None]:
        """Raise UnexpectedServerError if the server recorded exceptions for this tenant."""
        return Op("GET", self._t + "/errors", answers.raise_errors)
