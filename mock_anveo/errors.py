"""Errors as data: every failure mock-anveo reports is an ``AnveoError`` with a stable code.

The exception tree::

    MockAnveoError                 base of everything raised on purpose
    ├── AnveoError(code, message)  an API request was refused; rendered as an Anveo ERROR envelope
    ├── SettingError(message, field)
    │                              a setting, rule or document was refused by the core (also a
    │                              ValueError); carries no HTTP status: the control API maps it
    └── ControlError(status, message, field)
                                   a control-API request was refused; rendered as JSON with a 4xx

Codes never appear on the wire (Anveo's own error texts are unknown); they are kept in the
journal and shown by the control API so tests can assert on the kind of failure.
"""

from __future__ import annotations

from enum import StrEnum


class Code(StrEnum):
    """Stable identifiers, one per kind of refusal; ``CATALOGUE`` explains each."""

    EMPTY_BODY = "EMPTY_BODY"
    BODY_TOO_LARGE = "BODY_TOO_LARGE"
    READ_TIMEOUT = "READ_TIMEOUT"
    BAD_ENCODING = "BAD_ENCODING"
    MALFORMED_XML = "MALFORMED_XML"
    FORBIDDEN_XML = "FORBIDDEN_XML"
    ENVELOPE = "ENVELOPE"
    WRONG_CASE = "WRONG_CASE"
    MISSING_USERTOKEN = "MISSING_USERTOKEN"
    MISSING_USERKEY = "MISSING_USERKEY"
    MISSING_ACTION = "MISSING_ACTION"
    UNKNOWN_ACTION = "UNKNOWN_ACTION"
    UNKNOWN_PARAMETER = "UNKNOWN_PARAMETER"
    DUPLICATE_PARAMETER = "DUPLICATE_PARAMETER"
    MISSING_PARAMETER = "MISSING_PARAMETER"
    INVALID_PARAMETER = "INVALID_PARAMETER"
    TOO_MANY_PARAMETERS = "TOO_MANY_PARAMETERS"
    BAD_QUERY = "BAD_QUERY"
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
    UNKNOWN_USERKEY = "UNKNOWN_USERKEY"
    SIGNATURE_REQUIRED = "SIGNATURE_REQUIRED"
    BAD_SIGNATURE = "BAD_SIGNATURE"
    UNVERIFIED_CALLERID = "UNVERIFIED_CALLERID"
    UNKNOWN_CALLFLOW = "UNKNOWN_CALLFLOW"
    INSUFFICIENT_FUNDS = "INSUFFICIENT_FUNDS"
    UNKNOWN_REQUESTID = "UNKNOWN_REQUESTID"
    ALREADY_ENDED = "ALREADY_ENDED"
    NOT_A_CALLFLOW = "NOT_A_CALLFLOW"
    RESULT_NOT_READY = "RESULT_NOT_READY"
    SHUTTING_DOWN = "SHUTTING_DOWN"
    FAULT = "FAULT"
    INTERNAL = "INTERNAL"


CATALOGUE: dict[Code, str] = {
    Code.EMPTY_BODY: "The POST body was empty.",
    Code.BODY_TOO_LARGE: "The body exceeded the server's --max-body bound.",
    Code.READ_TIMEOUT: "The client did not send its whole body within the read timeout.",
    Code.BAD_ENCODING: "The body could not be decoded: it is not what its Content-Encoding "
    "(gzip, deflate) says, or its chunked framing is malformed.",
    Code.MALFORMED_XML: "The body is not well-formed XML (the parser's message and position "
    "follow).",
    Code.FORBIDDEN_XML: "DTDs, entities and processing instructions are refused.",
    Code.ENVELOPE: "The document does not follow schemas/request.xsd.",
    Code.WRONG_CASE: "A tag, attribute or name was sent in the wrong letter case.",
    Code.MISSING_USERTOKEN: "<REQUEST> has no <USERTOKEN>.",
    Code.MISSING_USERKEY: "<USERTOKEN> has no <USERKEY>, or it is empty.",
    Code.MISSING_ACTION: "<REQUEST> has no <ACTION NAME=...>.",
    Code.UNKNOWN_ACTION: "The ACTION NAME is not one the mock implements.",
    Code.UNKNOWN_PARAMETER: "A PARAMETER NAME the action does not take.",
    Code.DUPLICATE_PARAMETER: "A non-repeatable PARAMETER was sent more than once.",
    Code.MISSING_PARAMETER: "A required PARAMETER is absent or empty.",
    Code.INVALID_PARAMETER: "A PARAMETER value breaks its rule (format, range or length).",
    Code.TOO_MANY_PARAMETERS: "More PARAMETER elements or query fields than the bound allows.",
    Code.BAD_QUERY: "The v2 query string is malformed or names an unknown field.",
    Code.METHOD_NOT_ALLOWED: "The HTTP method does not fit the door (e.g. GET on v3.asp).",
    Code.UNKNOWN_USERKEY: "No account has this USERKEY.",
    Code.SIGNATURE_REQUIRED: "The account requires SIGNATURE and none was sent.",
    Code.BAD_SIGNATURE: "SIGNATURE is not HMAC-SHA1(secure phrase, e-mail).",
    Code.UNVERIFIED_CALLERID: "CALLERID is not among the account's verified caller IDs.",
    Code.UNKNOWN_CALLFLOW: "CALLFLOW is not one of the account's call flow keys.",
    Code.INSUFFICIENT_FUNDS: "The balance cannot cover one minute of the call.",
    Code.UNKNOWN_REQUESTID: "No request with this REQUESTID belongs to this USERKEY.",
    Code.ALREADY_ENDED: "DIAL.CANCEL on a request whose call already ended.",
    Code.NOT_A_CALLFLOW: "DIAL.CALLFLOW.GETRESULT on a DIAL.CONNECT request.",
    Code.RESULT_NOT_READY: "DIAL.CALLFLOW.GETRESULT before the call flow ended.",
    Code.SHUTTING_DOWN: "The server is stopping and takes no new requests.",
    Code.FAULT: "An injected fault replaced the reply; the request was not processed.",
    Code.INTERNAL: "A bug in mock-anveo; reported to the pytest plugin, never a 500.",
}


class MockAnveoError(Exception):
    """Base class of every error mock-anveo raises on purpose."""


class AnveoError(MockAnveoError):
    """An API request was refused; ``message`` goes into the ERROR element verbatim."""

    __slots__ = ("code", "message")

    def __init__(self, code: Code, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __repr__(self) -> str:
        return f"AnveoError({self.code.value}, {self.message!r})"


class SettingError(MockAnveoError, ValueError):
    """The core refused a setting, rule or document: a message and the offending field."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class ControlError(MockAnveoError):
    """A control-API request was refused: HTTP ``status``, a message, and the offending field."""

    def __init__(self, status: int, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field


_SHOW_LIMIT = 60


def shown(value: str) -> str:
    """Quote a client-supplied value for an error message: one line, printable, bounded.

    Echoing raw input could put newlines or XML-illegal control characters into the ERROR
    element, so anything unprintable is escaped the way Python's repr would.
    """
    if len(value) > _SHOW_LIMIT:
        value = value[:_SHOW_LIMIT] + "..."
    if value.isprintable():
        return '"' + value + '"'
    return '"' + value.encode("unicode_escape").decode("ascii").replace('"', '\\"') + '"'
