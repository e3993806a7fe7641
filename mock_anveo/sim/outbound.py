"""Where the mock may send: the account's notification URL, its numbers' SMS forward templates,
and the outbound safety rule (loopback only unless the operator allows a host).

Pure Python: hosts are judged by their text (``localhost``, ``*.localhost`` and loopback IP
literals), never resolved, so configuring a URL does no I/O and cannot be fooled into
meaning something else later by DNS.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from typing import Any, Final
from urllib.parse import quote, urlsplit

from ..errors import SettingError
from .bounds import string

URL_MAX: Final = 2048
NUMBERS_MAX: Final = 1000
#: The placeholders of an SMS forward template (Anveo's own spelling).
PLACEHOLDERS: Final = ("$[from]$", "$[to]$", "$[message]$")
# From a "$[" to its closing "]$": stops at the next "$" or bracket, so an unclosed one is seen.
_TOKEN: Final = re.compile(r"\$\[[^\[\]$]{0,40}\]?\$?")
# An alphanumeric SMS sender ID (GSM: at most 11 characters, at least one letter).
_ALPHANUMERIC: Final = re.compile(r"(?=.*[A-Za-z])[A-Za-z0-9][A-Za-z0-9 .&_'-]{0,9}[A-Za-z0-9.]?")
#: The ``notification_url`` shorthand for the tenant's own sink on the server (the marker's).
SINK: Final = "sink"
#: The ``serve`` switch that widens the rule, named by every refusal.
SWITCH: Final = "--callback-allow"


def sink_url(base: str, userkey: str) -> str:
    """The built-in sink of tenant ``userkey`` on the server at ``base`` (what ``SINK`` means)."""
    return f"{base.rstrip('/')}/_mock/sink/{quote(userkey, safe='')}"


def with_sink(doc: dict[str, Any], base: str | None, userkey: str) -> dict[str, Any]:
    """``doc`` with a ``notification_url`` of ``SINK`` spelt out as this tenant's sink URL on
    the server at ``base``; without a ``base`` (a file or snapshot) SettingError saying what
    to write instead."""
    if doc.get("notification_url") != SINK:
        return doc
    if base is None:  # only the control API knows the server's URL
        raise SettingError(
            f"notification_url {SINK!r} (the built-in sink) is understood by the control API, "
            "the controller and the pytest marker; here give its URL: "
            "http://127.0.0.1:PORT/_mock/sink/USERKEY",
            "notification_url",
        )
    return {**doc, "notification_url": sink_url(base, userkey)}


def check_url(value: Any, name: str) -> str:
    """An http or https URL with a host and no credentials, at most 2048 characters;
    SettingError naming ``name`` otherwise."""
    url = string(value, name, "an http:// or https:// URL")
    if not 0 < len(url) <= URL_MAX or not url.isprintable():
        raise SettingError(
            f"{name} must be an http:// or https:// URL of at most {URL_MAX} characters", name
        )
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise SettingError(f"{name} is not a valid URL ({exc}): {url!r}", name) from None
    if parts.scheme not in ("http", "https"):
        raise SettingError(
            f"{name} must use http or https, got {parts.scheme or 'no'} scheme in {url!r}", name
        )
    if parts.username is not None or parts.password is not None:
        raise SettingError(
            f"{name} must not carry credentials (user:pass@): Anveo does not support them, "
            f"got {url!r}",
            name,
        )
    if not host or "$[" in host:
        raise SettingError(f"{name} needs a host name, got {url!r}", name)
    return url


def check_template(value: Any, name: str) -> str:
    """An SMS forward template: a URL (``check_url``) whose every ``$[`` starts one of the
    ``PLACEHOLDERS``, spelt exactly; SettingError naming ``name`` and the bad one otherwise."""
    if value == SINK:  # a template needs its query, so the shorthand is notification_url's only
        raise SettingError(
            f"{name} {SINK!r} is a shorthand of notification_url only: an SMS forward template "
            "needs its own query, so give the sink's URL with it, e.g. "
            "http://127.0.0.1:PORT/_mock/sink/NAME?from=$[from]$&text=$[message]$",
            name,
        )
    url = check_url(value, name)
    valid = ", ".join(PLACEHOLDERS)
    for found in re.finditer(re.escape("$["), url):
        at = found.start()
        if url.startswith(PLACEHOLDERS, at):
            continue
        token = _TOKEN.match(url, at)
        text = token.group(0) if token else "$["
        if not text.endswith("]$"):
            raise SettingError(
                f"{name} has a malformed placeholder starting {text!r} at character {at + 1} "
                f"(a placeholder is $[name]$); the placeholders are {valid}",
                name,
            )
        raise SettingError(
            f"{name} has an unknown placeholder {text!r}; the placeholders are {valid}, "
            "spelt exactly so (lower case, no spaces)",
            name,
        )
    return url


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
        number = string(item["number"], f"{where}.number", 'digits such as "12155550123"')
        if not number.isascii() or not number.isdigit():
            raise SettingError(f"{where}.number must be a string of digits, got {number!r}", where)
        if len(number) > 20 or number in out:
            raise SettingError(f"{where}.number must be unique and at most 20 digits", where)
        template = item.get("sms_url")
        out[number] = None if template is None else check_template(template, f"{where}.sms_url")
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


def phone_number(value: Any, name: str) -> str:
    """A phone number as the model stores it: 1 to 20 digits, given with or without E.164's
    leading ``+`` (which is dropped); SettingError naming ``name`` otherwise."""
    text = string(value, name, 'a phone number such as "4915112345678" or "+4915112345678"')
    digits = text.removeprefix("+")
    if not (0 < len(digits) <= 20 and digits.isascii() and digits.isdigit()):
        raise SettingError(
            f"{name} must be a phone number of 1 to 20 digits, optionally after a +, got {text!r}",
            name,
        )
    return digits


def sms_sender(value: Any, name: str = "from") -> str:
    """Who an inbound SMS is from: a phone number (``phone_number``: digits, ``+`` dropped)
    or an alphanumeric sender ID such as ``PayPal`` (kept as it is)."""
    text = string(
        value, name, 'a phone number such as "4915112345678", or a sender name such as "PayPal"'
    )
    if text.removeprefix("+").isdigit():
        return phone_number(text, name)
    if not text.isascii() or not _ALPHANUMERIC.fullmatch(text):
        raise SettingError(
            f"{name} must be a phone number (digits, optionally after a +) or an alphanumeric "
            f"sender of 1 to 11 letters, digits, spaces and . & _ ' - with at least one "
            f"letter, got {text!r}",
            name,
        )
    return text


def fill(template: str, sender: str, to: str, message: str) -> str:
    """The template with each placeholder replaced by its value, percent-encoded as UTF-8
    (every reserved character too, so ``&``, ``=``, ``#`` and ``+`` stay data), as sent."""
    out = template
    for key, value in zip(PLACEHOLDERS, (sender, to, message), strict=True):
        out = out.replace(key, quote(value, safe="", encoding="utf-8", errors="strict"))
    return as_sent(out)
