"""Small helpers shared by tests: building requests and reading replies."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote

from lxml import etree

from mock_anveo.sim.accounts import DOCS_USERKEY
from mock_anveo.wire.codec import RESPONSE_SCHEMA

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
KEY = DOCS_USERKEY


def xml_request(action: str, params: list[tuple[str, str]], userkey: str = KEY,
                variables: list[tuple[str, str]] = ()) -> bytes:
    """A v3 <REQUEST> document with PARAMETERs in the given order."""
    lines = ['<?xml version="1.0" standalone="no" ?>', "<REQUEST>",
             f"<USERTOKEN><USERKEY>{userkey}</USERKEY></USERTOKEN>", f'<ACTION NAME="{action}">']
    for name, value in params:
        lines.append(f'<PARAMETER NAME="{name}">{escape(value)}</PARAMETER>')
    for name, value in variables:
        lines.append(f'<PARAMETER NAME="VARIABLE" VARIABLENAME="{name}">{escape(value)}'
                     "</PARAMETER>")
    lines += ["</ACTION>", "</REQUEST>"]
    return "\n".join(lines).encode()


def escape(text: str) -> str:
    """XML-escape text content."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def v2_query(action: str, params: list[tuple[str, str]], userkey: str = KEY,
             variables: list[tuple[str, str]] = (), key_name: str = "userkey") -> str:
    """A v2 GET query string, every value URL-encoded on its own."""
    parts = [f"{key_name}={quote(userkey, safe='')}", f"action={quote(action, safe='')}"]
    parts += [f"param[{quote(n, safe='')}]={quote(v, safe='')}" for n, v in params]
    parts += [f"var[{quote(n, safe='')}]={quote(v, safe='')}" for n, v in variables]
    return "&".join(parts)


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
