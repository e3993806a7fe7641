"""Hardened parsing of ``<REQUEST>`` documents: bytes in, a schema-valid ``ActionRequest`` out.

lxml does the work with no DTD, no entities and no network; DTDs, entity declarations and
processing instructions are refused before parsing. A document that fails request.xsd is
handed to ``explain`` for a precise message.
"""

from __future__ import annotations

import re
import threading
from typing import Any

from lxml import etree

from ..contract import XML_SPACE
from ..errors import AnveoError, Code, shown
from .explain import explain
from .requests import ActionRequest
from .xsd import REQUEST_SCHEMA

_local = threading.local()


class _NothingExternal(etree.Resolver):
    """Answers every external DTD, entity or XInclude with nothing: no file or URL is opened.

    ``no_network`` alone still lets libxml2 open local files (even a FIFO, which would block
    the event loop), so every load is intercepted here as a second line of defence.
    """

    def resolve(  # type: ignore[override]  # lxml-stubs omit the context argument
        self, system_url: str, public_id: str, context: Any
    ) -> Any:
        return self.resolve_string("", context)  # type: ignore[call-arg]  # stubs differ


def parser() -> etree.XMLParser:
    """This thread's hardened parser (lxml parsers are not thread-safe; one per thread)."""
    found: etree.XMLParser | None = getattr(_local, "parser", None)
    if found is None:
        found = etree.XMLParser(
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            dtd_validation=False,
            huge_tree=False,
            remove_comments=True,
            collect_ids=False,
            remove_blank_text=False,
        )
        found.resolvers.add(_NothingExternal())
        _local.parser = found
    return found


_WIDE = (
    ("utf-32", (b"\x00\x00\xfe\xff", b"\xff\xfe\x00\x00")),
    ("utf-16", (b"\xfe\xff", b"\xff\xfe")),
    ("utf-32-be", (b"\x00\x00\x00<",)),
    ("utf-32-le", (b"<\x00\x00\x00",)),
    ("utf-16-be", (b"\x00<",)),
    ("utf-16-le", (b"<\x00",)),
)


def _ascii_compatible(body: bytes) -> bool:
    """Whether '<!DOCTYPE' and '<?' would show as those bytes (UTF-8, ASCII, Latin-1...)."""
    head = body[:4]
    return b"\x00" not in head and not head.startswith((b"\xff\xfe", b"\xfe\xff"))


def _as_scannable(body: bytes) -> bytes:
    """The body with '<!DOCTYPE' and '<?' visible as ASCII bytes, whatever its encoding.

    UTF-8, ASCII and Latin-1 bodies are scanned as they are; UTF-16 and UTF-32 ones (found by
    their byte-order mark or their NUL pattern) are transcoded for the scan only.
    """
    if _ascii_compatible(body):
        return body
    for codec, marks in _WIDE:
        if body.startswith(marks):
            try:
                return body.decode(codec).encode("utf-8")
            except UnicodeDecodeError:
                break
    raise AnveoError(
        Code.MALFORMED_XML,
        "the body is not well-formed XML: send UTF-8 (or UTF-16/UTF-32 with a byte-order mark)",
    )


_SUSPECT = re.compile(rb"<!DOCTYPE|<!ENTITY|<\?")


def _forbidden(body: bytes) -> str | None:
    body = _as_scannable(body)
    for found in _SUSPECT.finditer(body):  # one pass; a plain request matches only its <?xml
        start = found.start()
        if found.group() != b"<?":
            return "DTDs and entity declarations are not allowed in an Anveo request"
        if body[start : start + 6] != b"<?xml " or body[:start].strip(b"\xef\xbb\xbf \t\r\n"):
            return "processing instructions are not allowed in an Anveo request"
    return None


def _has_pi(root: Any) -> bool:
    siblings = list(root.itersiblings(preceding=True)) + list(root.itersiblings())
    nodes = [*siblings, *root.iter()]
    return any(n.tag is etree.PI for n in nodes)


def _parse(body: bytes) -> Any:
    """The parsed root of a well-formed, DTD-free body; raises AnveoError otherwise."""
    if not body.strip(b"\xef\xbb\xbf \t\r\n"):
        raise AnveoError(
            Code.EMPTY_BODY, "the request body is empty: POST a <REQUEST> XML document"
        )
    problem = _forbidden(body)
    if problem:
        raise AnveoError(Code.FORBIDDEN_XML, problem)
    try:
        root = etree.fromstring(body, parser())
    except etree.XMLSyntaxError as exc:
        message = (exc.msg or str(exc)).strip()
        if message.startswith(("EntityRef: expecting ';'", "xmlParseEntityRef: no name")):
            raise AnveoError(
                Code.MALFORMED_XML,
                f"the body is not well-formed XML: {message} (write a literal & as &amp;)",
            ) from None
        if "entity" in message.lower():
            raise AnveoError(
                Code.FORBIDDEN_XML, f"entity references are not allowed: {message}"
            ) from None
        raise AnveoError(
            Code.MALFORMED_XML, f"the body is not well-formed XML: {message}"
        ) from None
    except (ValueError, etree.LxmlError) as exc:
        raise AnveoError(Code.MALFORMED_XML, f"the body is not well-formed XML: {exc}") from None
    if not _ascii_compatible(body):
        # Belt and braces for encodings the scan had to transcode: ask the parsed tree too.
        tree: Any = root.getroottree()  # lxml-stubs lack DocInfo.doctype
        if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
            raise AnveoError(Code.FORBIDDEN_XML, "DTDs are not allowed in an Anveo request")
        if _has_pi(root):
            raise AnveoError(
                Code.FORBIDDEN_XML, "processing instructions are not allowed in an Anveo request"
            )
    return root


def parse_xml(body: bytes) -> ActionRequest:
    """Parse and validate a ``<REQUEST>`` document; raises AnveoError with a precise message."""
    root = _parse(body)
    if not REQUEST_SCHEMA.validate(root):
        raise explain(root)
    return _extract(root)


def _strip(text: str | None) -> str:
    return (text or "").strip(XML_SPACE)


def _extract(root: Any) -> ActionRequest:
    # The document is schema-valid here: exactly one USERTOKEN/USERKEY and one ACTION, and
    # comments were removed by the parser, so one pass over the children is enough.
    userkey = action = None
    for child in root:
        if child.tag == "ACTION":
            action = child
        else:
            userkey = child[0].text
    assert action is not None
    params: list[tuple[str, str]] = []
    variables: list[tuple[str, str]] = []
    for parameter in action:  # _strip inlined: this loop runs for every parameter sent
        name = (parameter.get("NAME") or "").strip(XML_SPACE)
        value = (parameter.text or "").strip(XML_SPACE)
        varname = parameter.get("VARIABLENAME")
        if name == "VARIABLE":
            if varname is None:
                raise AnveoError(
                    Code.MISSING_PARAMETER,
                    'PARAMETER NAME="VARIABLE" needs a VARIABLENAME attribute, '
                    'e.g. <PARAMETER NAME="VARIABLE" VARIABLENAME="ACCOUNTID">',
                )
            variables.append((_strip(varname), value))
        elif varname is not None:
            raise AnveoError(
                Code.ENVELOPE,
                f'VARIABLENAME is only allowed on PARAMETER NAME="VARIABLE", '
                f"found on PARAMETER NAME={shown(name)}",
            )
        else:
            params.append((name, value))
    return ActionRequest(
        _strip(userkey), _strip(action.get("NAME")), tuple(params), tuple(variables)
    )


#: Bodies scanned for a USERKEY when a refused document would not even parse.
_KEY_SCAN_MAX = 64 * 1024
_KEY_TEXT = re.compile(rb"<USERKEY>([^<]{1,200})</USERKEY>", re.IGNORECASE)


def userkey_of(body: bytes) -> str | None:
    """The USERKEY a refused document names, read as leniently as possible; None if none.

    Used only to journal a refusal on the tenant it concerns: from the parsed tree, any
    element named USERKEY in any letter case; from a body that does not parse, the text of
    the first ``<USERKEY>...</USERKEY>`` (any case). The caller still looks the key up.
    """
    try:
        root = _parse(body)
    except AnveoError:
        if not _ascii_compatible(body):
            return None
        found = _KEY_TEXT.search(body[:_KEY_SCAN_MAX])
        return found.group(1).decode("utf-8", "replace").strip(XML_SPACE) if found else None
    for element in root.iter():
        if isinstance(element.tag, str) and element.tag.upper() == "USERKEY":
            key = _strip(element.text)
            if key:
                return key
    return None
