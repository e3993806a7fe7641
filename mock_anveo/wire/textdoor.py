"""The legacy text door ``/api/v1.asp`` (SMS): form fields in, ``key=value^...`` text out.

Anveo documents one error text exactly (a bad key: ``apikey is missing or invalid..``, two
dots); the rest follow the XML doors' style. Replies are HTTP 200 even on errors.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl

from ..contract import PHONE, PHONE_DIGITS
from ..errors import AnveoError, Code, shown
from ..sim.tenant import Tenant
from ..sim.world import World

BAD_KEY = "apikey is missing or invalid.."
_PHONE = PHONE.compiled()
_SENDER = re.compile(r"[0-9]{1,15}|[A-Za-z0-9 ]{1,11}", re.ASCII)
MESSAGE_MAX = 1600
# GSM 03.38 basic characters: messages made only of these use 7-bit parts (160/153 chars);
# anything else is sent as UCS-2 (70/67 chars per part).
_GSM = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)


def parts(message: str) -> int:
    """SMS segments needed for ``message``."""
    single, multi = (160, 153) if set(message) <= _GSM else (70, 67)
    return 1 if len(message) <= single else -(-len(message) // multi)


def render(fields: list[tuple[str, str]]) -> bytes:
    """``result=success^error=^parts=1^...``; values never hold ``^`` or line breaks."""
    clean = [(k, re.sub(r"[\^\r\n]", " ", v)) for k, v in fields]
    return "^".join(f"{k}={v}" for k, v in clean).encode("utf-8")


#: The v1 fields the journal shows as the request's parameters, in this order.
_JOURNALED = ("from", "destination", "message")


def journal_params(query: str) -> dict[str, object] | None:
    """The request as the journal shows it, shaped like the XML doors' (``userkey``,
    ``action``, ``params`` as name/value pairs: ``from``, ``destination``, ``message`` as
    read), so ``assert_called_with`` can check an SMS; None for a form that does not parse."""
    try:
        pairs = parse_qsl(
            query, keep_blank_values=True, encoding="utf-8", errors="strict", max_num_fields=50
        )
    except (UnicodeDecodeError, ValueError):
        return None
    fields: dict[str, str] = {}
    for key, value in pairs:
        fields.setdefault(key.strip().lower(), value.strip(" \t\r\n"))
    return {
        "userkey": fields.get("apikey", ""),
        "action": "SMS",
        "params": [[name, fields[name]] for name in _JOURNALED if name in fields],
        "variables": [],
    }


def handle(world: World, query: str) -> tuple[bytes, Tenant | None, AnveoError | None]:
    """Answer one v1 request; returns the reply, the tenant (if known) and the refusal."""
    tenant: Tenant | None = None
    try:
        try:
            pairs = parse_qsl(
                query, keep_blank_values=True, encoding="utf-8", errors="strict", max_num_fields=50
            )
        except (UnicodeDecodeError, ValueError):
            raise AnveoError(
                Code.BAD_QUERY, "the request is not a valid UTF-8 form of at most 50 fields"
            ) from None
        fields: dict[str, str] = {}
        for key, value in pairs:
            fields.setdefault(key.strip().lower(), value.strip(" \t\r\n"))
        tenant = world.get(fields.get("apikey", ""))
        if tenant is None:
            raise AnveoError(Code.UNKNOWN_USERKEY, BAD_KEY)
        if fields.get("action", "").lower() != "sms":
            raise AnveoError(
                Code.UNKNOWN_ACTION, f"action must be sms, got {shown(fields.get('action', ''))}"
            )
        sender, destination = fields.get("from", ""), fields.get("destination", "")
        message = fields.get("message", "")
        if not _SENDER.fullmatch(sender):
            raise AnveoError(
                Code.INVALID_PARAMETER,
                f"from must be up to 15 digits or up to 11 letters and digits, got {shown(sender)}",
            )
        if not _PHONE.fullmatch(destination):
            low, high = PHONE_DIGITS
            raise AnveoError(
                Code.INVALID_PARAMETER,
                f"destination must be {low} to {high} digits "
                "with the country code, got "
                f"{shown(destination)}",
            )
        if not 0 < len(message) <= MESSAGE_MAX:
            raise AnveoError(
                Code.INVALID_PARAMETER,
                f"message must be 1 to {MESSAGE_MAX} characters, got {len(message)}",
            )
        sms = tenant.send_sms(sender, destination, message, parts(message))
        return (
            render(
                [
                    ("result", "success"),
                    ("error", ""),
                    ("parts", str(sms.parts)),
                    ("fee", str(sms.fee)),
                    ("smsid", sms.smsid),
                ]
            ),
            tenant,
            None,
        )
    except AnveoError as error:
        return render([("result", "error"), ("error", error.message)]), tenant, error
