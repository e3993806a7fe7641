"""Accounts (tenants' static settings) and the TOML file they are loaded from."""

from __future__ import annotations

import hashlib
import hmac
import tomllib
from dataclasses import dataclass, field
from decimal import Context, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from ..errors import SettingError
from .bounds import bounded, json_type, shown_value, string
from .fields import ACCOUNT_FIELDS
from .outbound import check_numbers, check_url, numbers_list, with_sink

#: The USERKEY of Anveo's own documentation examples (note the non-hex ``q``).
DOCS_USERKEY = "df141891e2e883904b0b294dc5bq79c1c1c13f6d"
#: The CALLERID of the documentation's DIAL.CONNECT example.
DOCS_CALLERID = "12157010680"
#: A call flow key the default account knows, so DIAL.CALLFLOW works without set-up.
DEFAULT_CALLFLOW = "c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00"
DEFAULT_BALANCE = Decimal("100.00")
DEFAULT_RATE = Decimal("0.01")
USERKEY_MAX = 64


@dataclass(slots=True)
class Account:
    """One Anveo account: its key, credentials, money and verified caller IDs."""

    userkey: str
    email: str = "user@example.com"
    secure_phrase: str | None = None
    require_signature: bool = False
    balance: Decimal = DEFAULT_BALANCE
    rate_per_minute: Decimal = DEFAULT_RATE
    verified_callerids: set[str] = field(default_factory=set)
    callflows: set[str] = field(default_factory=set)
    notification_url: str | None = None
    numbers: dict[str, str | None] = field(default_factory=dict)  # DID -> SMS forward URL

    def expected_signature(self) -> str | None:
        """HMAC-SHA1(secure phrase, e-mail) as lower-case hex, or None without a phrase."""
        if self.secure_phrase is None:
            return None
        return hmac.new(self.secure_phrase.encode(), self.email.encode(), hashlib.sha1).hexdigest()

    def to_dict(self) -> dict[str, Any]:
        """JSON form; money as strings so no precision is lost."""
        return {
            "userkey": self.userkey,
            "email": self.email,
            "secure_phrase": self.secure_phrase,
            "require_signature": self.require_signature,
            "balance": str(self.balance),
            "rate_per_minute": str(self.rate_per_minute),
            "verified_callerids": sorted(self.verified_callerids),
            "callflows": sorted(self.callflows),
            "notification_url": self.notification_url,
            "numbers": numbers_list(self.numbers),
        }


def default_account() -> Account:
    """The account that exists when no config is given, matching Anveo's documentation."""
    return Account(
        DOCS_USERKEY,
        email="docs@example.com",
        verified_callerids={DOCS_CALLERID},
        callflows={DEFAULT_CALLFLOW},
    )


#: The largest balance or rate an account takes, in USD.
ACCOUNT_MONEY_MAX = 10**9
#: Decimal places an amount may carry. With at most 10**15 USD that is at most 28 digits, which
#: Decimal's default context holds exactly: sums and products of amounts (rate x minutes) are
#: never rounded, so reserved money never drifts below zero and balances keep their places.
MONEY_PLACES = 12
_QUANTUM = Decimal(1).scaleb(-MONEY_PLACES)
_ONE = Decimal(1)
_EXACT = Context(prec=60)  # wide enough to compare any amount within the bounds exactly


def money(value: Any, name: str, high: int = ACCOUNT_MONEY_MAX) -> Decimal:
    """An amount of USD from 0 to ``high`` with at most ``MONEY_PLACES`` decimal places: a
    decimal string (kept exactly as written) or a JSON number (checked by ``bounded``);
    anything else raises SettingError naming ``name``."""
    if not isinstance(value, str):
        bounded(value, name, 0, high, whole=False, unit="USD")
        amount = Decimal(str(value))
    else:
        try:
            amount = Decimal(value)
        except InvalidOperation:
            amount = Decimal("NaN")
    if (
        not amount.is_finite()
        or not 0 <= amount <= high
        or _EXACT.quantize(amount, _QUANTUM) != amount
    ):
        raise SettingError(
            f"{name} must be a decimal number of USD from 0 to {high} with at "
            f"most {MONEY_PLACES} decimal places, got {shown_value(value)}",
            name,
        )
    # "1e3" is kept as its value, not its spelling: shown back, Decimal would say "1E+3".
    exponent = amount.as_tuple().exponent
    return amount.quantize(_ONE) if isinstance(exponent, int) and exponent > 0 else amount


def _strings(value: Any, name: str, digits: bool) -> set[str]:
    if not isinstance(value, list) or len(value) > 1000:
        raise SettingError(f"{name} must be a list of at most 1000 strings", name)
    out: set[str] = set()
    for item in value:
        if not isinstance(item, str):
            raise SettingError(f"{name} must hold JSON strings, got {json_type(item)}", name)
        ok = 0 < len(item) <= 64 and (not digits or item.isdigit())
        if not ok or not item.isascii():
            kind = "digit strings" if digits else "strings of 1 to 64 characters"
            raise SettingError(f"{name} must hold {kind}, got {shown_value(item)}", name)
        out.add(item)
    return out


def _utf8(value: Any, limit: int) -> bool:
    """Whether ``value`` is a string of at most ``limit`` characters that UTF-8 can encode."""
    if not isinstance(value, str) or len(value) > limit:
        return False
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return True


def _parse_fields(doc: dict[str, Any]) -> dict[str, Any]:
    """Each field of ``doc`` checked and converted; raises SettingError naming the first bad one."""
    unknown = set(doc) - set(ACCOUNT_FIELDS)
    if unknown:
        raise SettingError(
            f"unknown account fields {sorted(unknown)}; known: {list(ACCOUNT_FIELDS)}",
            sorted(unknown)[0],
        )
    out: dict[str, Any] = {}
    # Both are encoded as UTF-8 for the HMAC: JSON can carry lone surrogates, which cannot be.
    if "email" in doc:
        if not _utf8(string(doc["email"], "email", "an e-mail address"), 254):
            raise SettingError("email must be a string of at most 254 characters", "email")
        out["email"] = doc["email"]
    if "secure_phrase" in doc:
        phrase = doc["secure_phrase"]
        if phrase is not None and not _utf8(string(phrase, "secure_phrase", "or null"), 256):
            raise SettingError(
                "secure_phrase must be a string of at most 256 characters or null", "secure_phrase"
            )
        out["secure_phrase"] = phrase
    if "require_signature" in doc:
        if not isinstance(doc["require_signature"], bool):
            raise SettingError("require_signature must be true or false", "require_signature")
        out["require_signature"] = doc["require_signature"]
    for name in ("balance", "rate_per_minute"):
        if name in doc:
            out[name] = money(doc[name], name)
    if "verified_callerids" in doc:
        out["verified_callerids"] = _strings(
            doc["verified_callerids"], "verified_callerids", digits=True
        )
    if "callflows" in doc:
        out["callflows"] = _strings(doc["callflows"], "callflows", digits=False)
    if "notification_url" in doc:
        url = doc["notification_url"]
        out["notification_url"] = None if url is None else check_url(url, "notification_url")
    if "numbers" in doc:
        out["numbers"] = check_numbers(doc["numbers"])
    return out


def check_signing(
    require_signature: bool, secure_phrase: str | None, field: str = "require_signature"
) -> None:
    """Refuse an account that requires SIGNATURE but has no secure phrase (None or empty) to
    check it with, since every SIGNATURE would then pass; the one place this is decided.
    ``field`` is the field the caller changed, named by the error."""
    if not require_signature or secure_phrase:
        return
    if field == "secure_phrase":
        raise SettingError(
            "secure_phrase cannot be null or empty while require_signature is "
            "true (any SIGNATURE would pass): set a secure_phrase, or "
            "require_signature to false",
            field,
        )
    raise SettingError(
        "require_signature is true but the account has no secure_phrase, so "
        "any SIGNATURE would pass: set secure_phrase (the HMAC key) too",
        field,
    )


def apply_fields(account: Account, doc: dict[str, Any]) -> Account:
    """Validate JSON/TOML fields (userkey excepted) and apply them to ``account``; returns it.

    All or nothing: every field, and the account they make together, is checked before
    ``account`` changes.
    """
    fields = _parse_fields(doc)
    check_signing(
        fields.get("require_signature", account.require_signature),
        fields.get("secure_phrase", account.secure_phrase),
        "require_signature" if "require_signature" in fields else "secure_phrase",
    )
    for name, value in fields.items():
        setattr(account, name, value)
    return account


def check_userkey(userkey: Any) -> str:
    """A USERKEY the control API accepts: 1 to 64 printable ASCII characters, no spaces."""
    key = string(userkey, "userkey", "1 to 64 printable ASCII characters")
    if (
        not 0 < len(key) <= USERKEY_MAX
        or not key.isascii()
        or not key.isprintable()
        or " " in key
        or "/" in key
    ):
        raise SettingError(
            f"userkey must be 1 to {USERKEY_MAX} printable ASCII "
            f"characters without spaces or '/', got {shown_value(key)}",
            "userkey",
        )
    return key


def load_accounts(path: Path) -> list[Account]:
    """Read ``[[account]]`` tables from a TOML file; raises ValueError naming the problem."""
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"cannot read config {path}: {exc}") from exc
    tables = doc.get("account", [])
    if not isinstance(tables, list) or not tables:
        raise ValueError(f"config {path} has no [[account]] tables")
    accounts: list[Account] = []
    seen: set[str] = set()
    for index, table in enumerate(tables):
        try:
            key = check_userkey(table.get("userkey"))
            if key in seen:
                raise SettingError(f"userkey {key} appears twice", "userkey")
            seen.add(key)
            rest = {k: v for k, v in table.items() if k != "userkey"}
            rest = with_sink(rest, None, key)  # a file knows no server URL: refused
            accounts.append(apply_fields(Account(key), rest))
        except SettingError as exc:
            raise ValueError(f"config {path}, account #{index + 1}: {exc.message}") from exc
    return accounts
