"""Text messages: what one sent through the legacy v1 door is, and what each part costs."""

from __future__ import annotations

from decimal import Decimal

#: USD per SMS part (the figure in Anveo's own v1 example reply).
SMS_RATE = Decimal("0.044")


class Sms:
    """One message sent through the legacy text door."""

    __slots__ = ("destination", "fee", "message", "parts", "sender", "sent_at", "smsid")

    def __init__(
        self,
        smsid: str,
        sender: str,
        destination: str,
        message: str,
        *,
        parts: int,
        fee: Decimal,
        sent_at: float,
    ) -> None:
        self.smsid = smsid
        self.sender = sender
        self.destination = destination
        self.message = message
        self.parts = parts
        self.fee = fee
        self.sent_at = sent_at
