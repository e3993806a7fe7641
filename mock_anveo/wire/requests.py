"""``ActionRequest`` and its two renderings, a ``<REQUEST>`` document and a GET-door query.

Stdlib only: the testing layer (strategies, test helpers) builds requests through this module
without loading lxml.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

DECLARATION = '<?xml version="1.0" standalone="no" ?>'


@dataclass(frozen=True, slots=True)
class ActionRequest:
    """One API call as every door carries it: who, which action, which parameters and
    VARIABLEs (NAME/value pairs in the order sent).

    Immutable: the pipeline shares one parsed request between identical request bodies.
    """

    userkey: str
    action: str
    params: tuple[tuple[str, str], ...] = ()
    variables: tuple[tuple[str, str], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON form for the journal."""
        return {
            "userkey": self.userkey,
            "action": self.action,
            "params": [list(p) for p in self.params],
            "variables": [list(v) for v in self.variables],
        }

    def to_xml(self, *, declaration: str = DECLARATION, separator: str = "\n") -> bytes:
        """The ``<REQUEST>`` document, UTF-8; ``separator`` goes between elements."""
        lines = [declaration] if declaration else []
        lines += [
            "<REQUEST>",
            f"<USERTOKEN>{separator}<USERKEY>{escape(self.userkey)}"
            f"</USERKEY>{separator}</USERTOKEN>",
            f'<ACTION NAME="{escape(self.action)}">',
        ]
        lines += [f'<PARAMETER NAME="{escape(n)}">{escape(v)}</PARAMETER>' for n, v in self.params]
        lines += [
            f'<PARAMETER NAME="VARIABLE" VARIABLENAME="{escape(n)}">{escape(v)}</PARAMETER>'
            for n, v in self.variables
        ]
        lines += ["</ACTION>", "</REQUEST>"]
        return separator.join(lines).encode("utf-8")

    def to_query(self, *, userkey_field: str = "userkey") -> str:
        """The GET-door query string, every name and value URL-encoded on its own."""
        fields = [(userkey_field, self.userkey), ("action", self.action)]
        fields += [(f"param[{n}]", v) for n, v in self.params]
        fields += [(f"var[{n}]", v) for n, v in self.variables]
        return "&".join(query_field(n, v) for n, v in fields)


def escape(text: str) -> str:
    """XML-escape text for element content or a double-quoted attribute."""
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


def query_field(name: str, value: str) -> str:
    """One ``name=value`` query field, both URL-encoded (brackets kept readable in names)."""
    return f"{quote(name, safe='[]')}={quote(value, safe='')}"
