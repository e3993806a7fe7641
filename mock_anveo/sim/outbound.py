"""Where the mock may send: the account's notification URL, its numbers' SMS forward templates,
and the outbound safety rule (loopback only unless the operator allows a host).

Pure Python: hosts are judged by their text (``localhost``, ``*.localhost`` and loopback IP
literals), never resolved, so configuring a URL does no I/O and cannot be fooled into
meaning something else later by DNS.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any, Final
from urllib.parse import quote, urlsplit

from ..errors import SettingError
from .bounds import shown_value

URL_MAX: Final = 2048
NUMBERS_MAX: Final = 1000
#: The placeholders of an SMS forward template (Anveo's own spelling).
PLACEHOLDERS: Final = ("$[from]$", "$[to]$", "$[message]$")
#: The ``serve`` switch that widens the rule, named by every refusal.
SWITCH: Final = "--callback-allow"


def check_url(value: Any, name: str) -> str:
    """An http or https URL with a host and no credentials, at most 2048 characters;
    SettingError naming ``name`` otherwise."""
    if not isinstance(value, str) or not 0 < len(value) <= URL_MAX or not value.isprintable():
        raise SettingError(
            f"{name} must be an http:// or https:// URL of at most {URL_MAX} characters", name
        )
    try:
        parts = urlsplit(value)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise SettingError(f"{name} is not a valid URL ({exc}): {value!r}", name) from None
    if value == "sink":
        raise SettingError(
            f'{name} "sink" is a shorthand of the pytest marker (@pytest.mark.anveo) only; '
            "elsewhere give the built-in sink's URL, http://HOST:PORT/_mock/sink/NAME "
            "(read it at /_mock/sinks/NAME)",
            name,
        )
    if parts.scheme not in ("http", "https"):
        raise SettingError(
            f"{name} must use http or https, got {parts.scheme or 'no'} scheme in {value!r}", name
        )
    if parts.username is not None or parts.password is not None:
        raise SettingError(
            f"{name} must not carry credentials (user:pass@): Anveo does not support them, "
            f"got {shown_value(value)}",
            name,
        )
    if not host or "$[" in host:
        raise SettingError(f"{name} needs a host name, got {shown_value(value)}", name)
    return value


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine: localhost, *.localhost or a loopback address."""
    host = host.lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def allowed(url: str, allow: Iterable[str]) -> bool:
    """Whether the safety rule lets the mock send to ``url``'s host."""
    host = (urlsplit(url).hostname or "").lower()
    hosts = {h.lower() for h in allow}
    return is_loopback(host) or "*" in hosts or host in hosts


def check_allowed(url: str | None, allow: Iterable[str], name: str) -> None:
    """Refuse ``url`` (SettingError naming ``name``) when the safety rule forbids its host."""
    if url is None or allowed(url, allow):
        return
    host = urlsplit(url).hostname
    raise SettingError(
        f"{name} {url!r} is not a loopback address: this server sends notifications and "
        f"forwards only to loopback hosts; start it with `mock-anveo serve {SWITCH} {host}` "
        f"(or {SWITCH} '*' for every host) to allow it",
        name,
    )


def check_numbers(value: Any, name: str = "numbers") -> dict[str, str | None]:
    """The account's numbers: a list of ``{"number": digits, "sms_url": template}``
    (``sms_url`` optional), as number -> template."""
    if not isinstance(value, list) or len(value) > NUMBERS_MAX:
        raise SettingError(f"{name} must be a list of at most {NUMBERS_MAX} numbers", name)
    out: dict[str, str | None] = {}
    for index, item in enumerate(value):
        where = f"{name}[{index}]"
        if not isinstance(item, dict) or "number" not in item:
            raise SettingError(
                f'{where} must be an object {{"number": "12155550123", "sms_url": "..."}}', where
            )
        unknown = sorted(set(item) - {"number", "sms_url"})
        if unknown:
            raise SettingError(
                f"{where} has unknown fields {unknown}; valid: number, sms_url", where
            )
        number = item["number"]
        if not isinstance(number, str) or not number.isascii() or not number.isdigit():
            raise SettingError(
                f"{where}.number must be a string of digits, got {shown_value(number)}", where
            )
        if len(number) > 20 or number in out:
            raise SettingError(f"{where}.number must be unique and at most 20 digits", where)
        template = item.get("sms_url")
        out[number] = None if template is None else check_url(template, f"{where}.sms_url")
    return out


def numbers_list(numbers: dict[str, str | None]) -> list[dict[str, Any]]:
    """The JSON form of an account's numbers (as ``check_numbers`` reads it)."""
    return [{"number": n, "sms_url": url} for n, url in numbers.items()]


#: What stays as it is in a URL on the wire: the reserved characters (they mean what the
#: configured URL meant them to) and ``%`` (an escape the configuration already made).
_KEEP: Final = "/:?[]@!$&'()*+,;=%~"


def as_sent(url: str) -> str:
    """``url`` exactly as a request sends it: what the wire cannot carry (spaces, non-ASCII,
    quotes) percent-encoded as UTF-8, the host in IDNA, the fragment dropped (never sent);
    every escape already there kept verbatim, never re-normalised. Idempotent."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if not netloc.isascii() and parts.hostname:
        try:
            host = parts.hostname.encode("idna").decode("ascii")
        except UnicodeError:
            host = quote(parts.hostname, safe="", encoding="utf-8")
        netloc = host if parts.port is None else f"{host}:{parts.port}"
    path = quote(parts.path, safe=_KEEP, encoding="utf-8", errors="strict")
    query = quote(parts.query, safe=_KEEP, encoding="utf-8", errors="strict")
    return f"{parts.scheme}://{netloc}{path}" + (f"?{query}" if query or "?" in url else "")


def fill(template: str, sender: str, to: str, message: str) -> str:
    """The template with each placeholder replaced by its value, percent-encoded as UTF-8
    (every reserved character too, so ``&``, ``=``, ``#`` and ``+`` stay data), as sent."""
    out = template
    for key, value in zip(PLACEHOLDERS, (sender, to, message), strict=True):
        out = out.replace(key, quote(value, safe="", encoding="utf-8", errors="strict"))
    return as_sent(out)
