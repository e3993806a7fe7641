"""What the tenant tells the customer's application: the fields of each outgoing message.

``Notifier`` (a base of ``Engine``) turns events into outbox messages: a CALL notification
(the CDR and fees) for every ended call, an SMS delivery report for every v1 SMS, and a
FORWARD (a GET of the number's filled template) for every inbound SMS. The field names are the
mock's own (Anveo's are not public): see the contract, Part B item 10.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Final

from ..errors import SettingError
from .bounds import shown_value
from .calls import Call, billable
from .faults import pick_message
from .outbound import as_sent, fill
from .outbox import Message
from .sms import Sms
from .tenantstate import TenantState

#: Virtual seconds from sending an SMS to its DELIVERED report.
SMS_REPORT_AFTER: Final = 5.0
#: SMS destinations whose report says FAILED, and that are never reported (magic numbers,
#: like the calls': 555-0102 fails, 555-0101 never answers).
SMS_FAILED_SUFFIX: Final = "5550102"
SMS_SILENT_SUFFIX: Final = "5550101"
MESSAGE_MAX: Final = 4096


def stamp(moment: float | None) -> str:
    """``YYYY-MM-DD HH:MM:SS`` in UTC (whole seconds, truncated), or "" for None."""
    if moment is None:
        return ""
    try:
        return _stamp(int(moment))
    except (ValueError, OverflowError, OSError):
        return ""


@lru_cache(maxsize=256)  # one string for a message's EVENTTIME and ENDTIME, and for calls
def _stamp(second: int) -> str:  # ending in the same second: kept messages share it
    return datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _dial_time(call: Call) -> float | None:
    flat = call.flat_timeline or []
    for index in range(1, len(flat), 3):
        if flat[index] == "ringing-first":
            return float(flat[index - 1])
    return None


def _leg_fee(call: Call, answered: float | None, ended: float | None) -> Decimal:
    if answered is None or ended is None:
        return call.rate * 0
    return call.rate * billable(answered, ended)


def call_fields(call: Call, at: float) -> list[tuple[str, str]]:
    """The type and source fields of ``call``'s CDR (it ended at ``at``)."""
    connect = call.second_number is not None
    answered = call.second_answered_at if connect else call.first_answered_at
    fields = [
        ("STATUS", call.reason.value.upper() if call.reason else "FAILED"),
        ("PHONENUMBER", call.first_number),
    ]
    if connect:
        fields.append(("DESTPHONENUMBER", call.second_number or ""))
    fields += [
        ("CALLERID", (call.second_callerid if connect else call.first_callerid) or ""),
        ("DIALTIME", stamp(_dial_time(call))),
        ("ANSWERTIME", stamp(answered)),
        ("ENDTIME", stamp(at)),
        ("DURATION", str(int(at - answered) if answered is not None else 0)),
        ("FEE", str(call.charge)),
        ("LEG1FEE", str(_leg_fee(call, call.first_answered_at, call.first_ended_at))),
        ("LEG2FEE", str(_leg_fee(call, call.second_answered_at, call.second_ended_at))),
        ("SOURCE", "API"),
        ("ACTION", call.action),
        ("RESPONSEID", call.requestid),
        ("BILLINGCODE", call.billingcode or ""),
        ("MEMO", call.memo or ""),
    ]
    return fields


def sms_fields(sms: Sms, status: str) -> list[tuple[str, str]]:
    """The type and source fields of ``sms``'s delivery report."""
    return [
        ("SMSID", sms.smsid),
        ("FROM", sms.sender),
        ("DESTINATION", sms.destination),
        ("PARTS", str(sms.parts)),
        ("FEE", str(sms.fee)),
        ("STATUS", status),
        ("SOURCE", "API"),
        ("ACTION", "SMS"),
        ("RESPONSEID", sms.smsid),
        ("BILLINGCODE", ""),
        ("MEMO", ""),
    ]


class Notifier(TenantState):
    """Outgoing messages of a tenant, made from its events into ``self.outbox``."""

    def pending_events(self) -> int:
        """What the clock still has to do: call events plus delivery attempts not tried."""
        return len(self.scheduler) + self.outbox.pending_attempts()

    def next_event_due(self) -> float | None:
        """The virtual moment of the next call event or delivery attempt, None if none."""
        dues = [d for d in (self.scheduler.next_due(), self.outbox.next_due()) if d is not None]
        return min(dues, default=None)

    def _notification(self, kind: str, at: float, body: list[tuple[str, str]]) -> None:
        if self.account.notification_url is None:
            return
        url = as_sent(self.account.notification_url)
        mid, record_id = self.outbox.new_id()
        fields = [
            ("NOTIFICATIONID", mid),
            ("NOTIFICATIONTYPE", kind),
            ("EVENTTIME", stamp(at)),
            ("ATTEMPT", "1"),
            *body,
            ("RECORDID", str(record_id)),
        ]
        self._queue(Message(mid, kind, url, fields, at, record_id))

    def _queue(self, message: Message) -> Message:
        """Add ``message`` to the outbox as the first message fault that fires says."""
        rule = pick_message(self.faults, message.kind, self.fault_rng)
        if rule is None:
            return self.outbox.add(message)
        if rule.kind == "duplicate":
            message.copies = 1
            return self.outbox.add(message)
        if rule.kind == "delay":
            return self.outbox.add(message, delay=rule.seconds)
        return self.outbox.add(message, hold=rule.seconds)  # out-of-order

    def notify_call(self, call: Call, at: float) -> None:
        """Queue the CDR of ``call``, which ended at ``at`` (not for TEST requests)."""
        if not call.test:
            self._notification("CALL", at, call_fields(call, at))

    def notify_sms(self, sms: Sms) -> None:
        """Queue ``sms``'s delivery report a few virtual seconds after it was sent: FAILED
        for a destination ending in 5550102, none at all for one ending in 5550101."""
        if sms.destination.endswith(SMS_SILENT_SUFFIX):
            return
        status = "FAILED" if sms.destination.endswith(SMS_FAILED_SUFFIX) else "DELIVERED"
        self._notification("SMS", sms.sent_at + SMS_REPORT_AFTER, sms_fields(sms, status))

    def sms_inbound(self, sender: str, to: str, message: str) -> Message | None:
        """An SMS from ``sender`` arrives now on the account's number ``to``: its forward
        (None when the number has no template). SettingError when ``to`` is not the
        account's or a value is malformed."""
        for name, value in (("from", sender), ("to", to)):
            if not isinstance(value, str) or not 0 < len(value) <= 20 or not value.isdigit():
                raise SettingError(
                    f"{name} must be a phone number (digits), got {shown_value(value)}", name
                )
        if not isinstance(message, str) or len(message) > MESSAGE_MAX:
            raise SettingError(
                f"message must be a string of at most {MESSAGE_MAX} characters", "message"
            )
        try:
            message.encode()
        except UnicodeEncodeError:
            raise SettingError("message must be text UTF-8 can encode", "message") from None
        if to not in self.account.numbers:
            owned = sorted(self.account.numbers) or "none"
            raise SettingError(
                f"to {to!r} is not a number of this account (its numbers: {owned}); add it "
                'to the account\'s "numbers"',
                "to",
            )
        self.sync()
        template = self.account.numbers[to]
        if template is None:
            return None
        mid, record_id = self.outbox.new_id()
        at = self.clock.now()
        url = fill(template, sender, to, message)
        fields = [("from", sender), ("to", to), ("message", message)]
        return self._queue(Message(mid, "FORWARD", url, fields, at, record_id))
