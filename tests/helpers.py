"""Small helpers shared by tests: building requests (through ``wire.requests``, the one
renderer) and reading replies."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from lxml import etree

from mock_anveo.sim.accounts import DOCS_USERKEY
from mock_anveo.wire.requests import ActionRequest, escape
from mock_anveo.wire.xsd import RESPONSE_SCHEMA

if TYPE_CHECKING:
    from mock_anveo.wire.pipeline import Exchange

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
KEY = DOCS_USERKEY
__all__ = ["FIXTURES", "KEY", "Reply", "escape", "outcome", "v2_query", "xml_request"]


def xml_request(
    action: str,
    params: Sequence[tuple[str, str]],
    userkey: str = KEY,
    variables: Sequence[tuple[str, str]] = (),
) -> bytes:
    """A v3 <REQUEST> document with PARAMETERs in the given order."""
    return ActionRequest(userkey, action, tuple(params), tuple(variables)).to_xml()


def v2_query(
    action: str,
    params: Sequence[tuple[str, str]],
    userkey: str = KEY,
    variables: Sequence[tuple[str, str]] = (),
    key_name: str = "userkey",
) -> str:
    """A v2 GET query string, every value URL-encoded on its own."""
    request = ActionRequest(userkey, action, tuple(params), tuple(variables))
    return request.to_query(userkey_field=key_name)


class Reply:
    """A parsed RESPONSE: result, values, error (asserts it is schema-valid)."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        root = etree.fromstring(body)
        assert RESPONSE_SCHEMA.validate(root), (RESPONSE_SCHEMA.error_log, body)
        self.result = root.findtext("RESULT")
        self.values = {v.get("NAME"): v.text or "" for v in root.findall("VALUE")}
        self.error = root.findtext("ERROR")

    @property
    def requestid(self) -> str:
        """The REQUESTID value (asserting its format)."""
        rid = self.values["REQUESTID"]
        assert re.fullmatch(r"[0-9a-f]{40}", rid), rid
        return rid

    @property
    def ok(self) -> bool:
        """True for a success (no ERROR element)."""
        return self.error is None and self.result != "ERROR"


def outcome(exchange: Exchange, *, body: bool = True) -> tuple[object, ...]:
    """What a pipeline made of a request: the refusal's code and words, the request and its
    parameters, and (with ``body``) the reply's bytes, for comparing two paths."""
    error = exchange.error
    made = (
        error.code if error else None,
        error.message if error else None,
        exchange.request,
        exchange.params,
    )
    return (*made, exchange.body) if body else made
