"""The wire format: request bytes or query strings in, ``ActionRequest`` out; replies rendered.

This is the only module that knows Anveo's XML element names. lxml does the hot path: a
hardened parser (no DTD, no entities, no network) and XSD validation against
``schemas/request.xsd``. When a document fails the schema, ``explain`` walks it to say
precisely what is wrong; only if that finds nothing does xmlschema (loaded lazily, once)
produce the message, because it names the failing path more clearly than libxml2 does.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from typing import Any
from urllib.parse import parse_qsl

from lxml import etree

from ..errors import AnveoError, Code, shown

XML_SPACE = " \t\r\n"
MAX_PARAMETERS = 100
MAX_QUERY_FIELDS = 200
VALUE_MAX = 4096
USERKEY_PATTERN = re.compile(r"[!-~]{1,64}")
#: Characters XML 1.0 cannot carry; the GET door must refuse them before building XML.
NOT_XML_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass(frozen=True, slots=True)
class ActionRequest:
    """One API call as both doors see it: who, which action, which parameters and variables.

    Immutable: ``service`` shares one parsed request between identical request bodies.
    """

    door: str
    userkey: str
    action: str
    params: tuple[tuple[str, str], ...] = ()
    variables: tuple[tuple[str, str], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON form for the journal."""
        return {"userkey": self.userkey, "action": self.action,
                "params": [list(p) for p in self.params],
                "variables": [list(v) for v in self.variables]}


def _schema(name: str) -> etree.XMLSchema:
    data = resources.files(__package__).joinpath("schemas").joinpath(name).read_bytes()
    return etree.XMLSchema(etree.fromstring(data))


REQUEST_SCHEMA = _schema("request.xsd")
RESPONSE_SCHEMA = _schema("response.xsd")
ACTIONS_SCHEMA = _schema("actions.xsd")

_local = threading.local()


class _NothingExternal(etree.Resolver):
    """Answers every external DTD, entity or XInclude with nothing: no file or URL is opened.

    ``no_network`` alone still lets libxml2 open local files (even a FIFO, which would block
    the event loop), so every load is intercepted here as a second line of defence.
    """

    def resolve(  # type: ignore[override]  # lxml-stubs omit the context argument
            self, system_url: str, public_id: str, context: Any) -> Any:
        return self.resolve_string("", context)  # type: ignore[call-arg]  # stubs differ


def _parser() -> etree.XMLParser:
    # lxml parsers are not thread-safe; one per thread, reused, is both safe and cheap.
    parser: etree.XMLParser | None = getattr(_local, "parser", None)
    if parser is None:
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                                 dtd_validation=False, huge_tree=False, remove_comments=True,
                                 collect_ids=False, remove_blank_text=False)
        parser.resolvers.add(_NothingExternal())
        _local.parser = parser
    return parser


_WIDE = (("utf-32", (b"\x00\x00\xfe\xff", b"\xff\xfe\x00\x00")),
         ("utf-16", (b"\xfe\xff", b"\xff\xfe")),
         ("utf-32-be", (b"\x00\x00\x00<",)), ("utf-32-le", (b"<\x00\x00\x00",)),
         ("utf-16-be", (b"\x00<",)), ("utf-16-le", (b"<\x00",)))


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
    raise AnveoError(Code.MALFORMED_XML, "the body is not well-formed XML: send UTF-8 (or "
                                         "UTF-16/UTF-32 with a byte-order mark)")


_SUSPECT = re.compile(rb"<!DOCTYPE|<!ENTITY|<\?")


def _forbidden(body: bytes) -> str | None:
    body = _as_scannable(body)
    for found in _SUSPECT.finditer(body):  # one pass; a plain request matches only its <?xml
        start = found.start()
        if found.group() != b"<?":
            return "DTDs and entity declarations are not allowed in an Anveo request"
        if body[start:start + 6] != b"<?xml " or body[:start].strip(b"\xef\xbb\xbf \t\r\n"):
            return "processing instructions are not allowed in an Anveo request"
    return None


def parse_xml(body: bytes, door: str = "v3") -> ActionRequest:
    """Parse and validate a ``<REQUEST>`` document; raises AnveoError with a precise message."""
    if not body.strip(b"\xef\xbb\xbf \t\r\n"):
        raise AnveoError(Code.EMPTY_BODY,
                         "the request body is empty: POST a <REQUEST> XML document")
    problem = _forbidden(body)
    if problem:
        raise AnveoError(Code.FORBIDDEN_XML, problem)
    try:
        root = etree.fromstring(body, _parser())
    except etree.XMLSyntaxError as exc:
        message = (exc.msg or str(exc)).strip()
        if message.startswith(("EntityRef: expecting ';'", "xmlParseEntityRef: no name")):
            raise AnveoError(Code.MALFORMED_XML, f"the body is not well-formed XML: {message} "
                                                 "(write a literal & as &amp;)") from None
        if "entity" in message.lower():
            raise AnveoError(Code.FORBIDDEN_XML,
                             f"entity references are not allowed: {message}") from None
        raise AnveoError(Code.MALFORMED_XML,
                         f"the body is not well-formed XML: {message}") from None
    except (ValueError, etree.LxmlError) as exc:
        raise AnveoError(Code.MALFORMED_XML, f"the body is not well-formed XML: {exc}") from None
    if not _ascii_compatible(body):
        # Belt and braces for encodings the scan had to transcode: ask the parsed tree too.
        tree: Any = root.getroottree()  # lxml-stubs lack DocInfo.doctype
        if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
            raise AnveoError(Code.FORBIDDEN_XML, "DTDs are not allowed in an Anveo request")
        if _has_pi(root):
            raise AnveoError(Code.FORBIDDEN_XML,
                             "processing instructions are not allowed in an Anveo request")
    if not REQUEST_SCHEMA.validate(root):
        raise explain(root)
    return _extract(root, door)


def _ascii_compatible(body: bytes) -> bool:
    """Whether '<!DOCTYPE' and '<?' would show as those bytes (UTF-8, ASCII, Latin-1...)."""
    head = body[:4]
    return b"\x00" not in head and not head.startswith((b"\xff\xfe", b"\xfe\xff"))


def _has_pi(root: Any) -> bool:
    siblings = list(root.itersiblings(preceding=True)) + list(root.itersiblings())
    nodes = [*siblings, *root.iter()]
    return any(n.tag is etree.PI for n in nodes)


def _strip(text: str | None) -> str:
    return (text or "").strip(XML_SPACE)


def _extract(root: Any, door: str) -> ActionRequest:
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
                raise AnveoError(Code.MISSING_PARAMETER,
                                 'PARAMETER NAME="VARIABLE" needs a VARIABLENAME attribute, '
                                 'e.g. <PARAMETER NAME="VARIABLE" VARIABLENAME="ACCOUNTID">')
            variables.append((_strip(varname), value))
        elif varname is not None:
            raise AnveoError(Code.ENVELOPE,
                             f"VARIABLENAME is only allowed on PARAMETER NAME=\"VARIABLE\", "
                             f"found on PARAMETER NAME={shown(name)}")
        else:
            params.append((name, value))
    return ActionRequest(door, _strip(userkey), _strip(action.get("NAME")), tuple(params),
                         tuple(variables))


# ---- explaining an envelope that failed request.xsd ------------------------------------
# element -> (allowed attributes, required attributes, allowed children with max count, text?)
_SHAPE: dict[str, tuple[tuple[str, ...], tuple[str, ...], dict[str, int], bool]] = {
    "REQUEST": ((), (), {"USERTOKEN": 1, "ACTION": 1}, False),
    "USERTOKEN": ((), (), {"USERKEY": 1}, False),
    "USERKEY": ((), (), {}, True),
    "ACTION": (("NAME",), ("NAME",), {"PARAMETER": MAX_PARAMETERS}, False),
    "PARAMETER": (("NAME", "VARIABLENAME"), ("NAME",), {}, True),
}


def _short(name: str) -> str:
    """An element or attribute name for a message: names are unbounded in XML, messages not."""
    return name if len(name) <= 60 else name[:60] + "..."


def _case_hint(found: str, expected: tuple[str, ...] | list[str]) -> str | None:
    for name in expected:
        if found.upper() == name and found != name:
            return name
    return None


def explain(root: Any) -> AnveoError:
    """Say exactly why a parsed document does not follow request.xsd."""
    tag = root.tag if isinstance(root.tag, str) else ""
    if tag != "REQUEST":
        if "}" in tag:
            return AnveoError(Code.ENVELOPE, f"XML namespaces are not used by Anveo: "
                                             f"<{_short(tag)}> must be a plain <REQUEST>")
        if tag.upper() == "REQUEST":
            return AnveoError(Code.WRONG_CASE, f"<{_short(tag)}> must be upper case: <REQUEST> "
                                               "(Anveo XML is case sensitive)")
        return AnveoError(Code.ENVELOPE,
                          f"the root element must be <REQUEST>, got <{_short(tag)}>")
    found = _walk(root, "REQUEST")
    if found is not None:
        return found
    return _fallback(root)


def _walk(element: Any, tag: str) -> AnveoError | None:
    allowed_attrs, required_attrs, children, has_text = _SHAPE[tag]
    for attr in element.attrib:
        if attr not in allowed_attrs:
            hint = _case_hint(attr, allowed_attrs)
            if hint:
                return AnveoError(Code.WRONG_CASE, f"attribute {_short(attr)} on <{tag}> must be "
                                                   f"upper case: {hint}")
            return AnveoError(Code.ENVELOPE, f"unexpected attribute {shown(attr)} on <{tag}>")
    for attr in required_attrs:
        if attr not in element.attrib:
            code = Code.MISSING_ACTION if tag == "ACTION" else Code.ENVELOPE
            example = ' (e.g. <ACTION NAME="DIAL.CONNECT">)' if tag == "ACTION" else ""
            return AnveoError(code, f"<{tag}> needs a {attr} attribute{example}")
        value = _strip(element.get(attr))
        if not value or len(value) > 64:
            return AnveoError(Code.ENVELOPE, f"the {attr} attribute of <{tag}> must be "
                                             f"1 to 64 characters, got {shown(element.get(attr))}")
    if "VARIABLENAME" in element.attrib and not 0 < len(_strip(element.get("VARIABLENAME"))) <= 64:
        return AnveoError(Code.ENVELOPE, "VARIABLENAME must be 1 to 64 characters, got "
                                         f"{shown(element.get('VARIABLENAME'))}")
    if not has_text and _strip(element.text):
        return AnveoError(Code.ENVELOPE, f"unexpected text {shown(_strip(element.text))} "
                                         f"inside <{tag}>")
    counts: dict[str, int] = {}
    for child in element:
        if not isinstance(child.tag, str):  # comments are harmless
            continue
        if _strip(child.tail) and not has_text:
            return AnveoError(Code.ENVELOPE, f"unexpected text {shown(_strip(child.tail))} "
                                             f"inside <{tag}>")
        child_name = _short(child.tag)  # element names are unbounded in XML
        if child.tag not in children:
            if has_text:
                name = element.get("NAME")
                where = f"<{tag} NAME={shown(name)}>" if name else f"<{tag}>"
                return AnveoError(Code.ENVELOPE, f"{where} must hold text only, found "
                                                 f"element <{child_name}>")
            hint = _case_hint(child.tag, list(children))
            if hint:
                return AnveoError(Code.WRONG_CASE, f"<{child_name}> must be upper case: "
                                                   f"<{hint}> (Anveo XML is case sensitive)")
            allowed = ", ".join(f"<{c}>" for c in children)
            return AnveoError(Code.ENVELOPE, f"unexpected element <{child_name}> in <{tag}>; "
                                             f"allowed: {allowed}")
        counts[child.tag] = counts.get(child.tag, 0) + 1
        if counts[child.tag] > children[child.tag]:
            if child.tag == "PARAMETER":
                return AnveoError(Code.TOO_MANY_PARAMETERS,
                                  f"<ACTION> holds more than {MAX_PARAMETERS} PARAMETER elements")
            return AnveoError(Code.ENVELOPE,
                              f"<{child_name}> appears more than once in <{tag}>")
        problem = _walk(child, child.tag)
        if problem is not None:
            return problem
    for child_tag in children:
        if child_tag != "PARAMETER" and counts.get(child_tag, 0) == 0:
            code = {"USERTOKEN": Code.MISSING_USERTOKEN, "USERKEY": Code.MISSING_USERKEY,
                    "ACTION": Code.MISSING_ACTION}[child_tag]
            return AnveoError(code, f"<{tag}> has no <{child_tag}> element")
    if tag == "USERKEY":
        key = _strip(element.text)
        if not key:
            return AnveoError(Code.MISSING_USERKEY, "<USERKEY> is empty")
        if not USERKEY_PATTERN.fullmatch(key):
            return AnveoError(Code.ENVELOPE, "USERKEY must be 1 to 64 printable ASCII "
                                             f"characters without spaces, got {shown(key)}")
    if tag == "PARAMETER" and len(element.text or "") > VALUE_MAX:
        return AnveoError(Code.INVALID_PARAMETER,
                          f"PARAMETER {_strip(element.get('NAME'))} is longer than {VALUE_MAX} "
                          f"characters ({len(element.text or '')})")
    return None


_xmlschema: Any = None


def last_error(schema: etree.XMLSchema) -> Any:
    """The schema's last validation error (lxml-stubs do not declare ``last_error``)."""
    return getattr(schema.error_log, "last_error", None)


def _fallback(root: Any) -> AnveoError:
    global _xmlschema  # noqa: PLW0603 - a lazily compiled, process-wide schema
    try:
        if _xmlschema is None:
            import xmlschema

            _xmlschema = xmlschema.XMLSchema(
                str(resources.files(__package__).joinpath("schemas").joinpath("request.xsd")))
        error = _xmlschema.validate(etree.tostring(root), use_defaults=False) or None
    except Exception as exc:  # noqa: BLE001 - any failure here still means "invalid"
        error = exc
    if error is None:
        log = last_error(REQUEST_SCHEMA)
        return AnveoError(Code.ENVELOPE, f"the request does not follow the schema: "
                                         f"{log.message if log else 'invalid'}")
    reason = getattr(error, "reason", None) or str(error).splitlines()[0]
    path = getattr(error, "path", None)
    where = f" at {path}" if path else ""
    return AnveoError(Code.ENVELOPE, f"the request does not follow the schema{where}: {reason}")


# ---- the v2 GET door ----------------------------------------------------------------------
def parse_query(query: str, door: str = "v2") -> ActionRequest:
    """Map ``userkey=&action=&param[NAME]=&var[NAME]=`` (any order, any key case) to a request."""
    try:
        pairs = parse_qsl(query, keep_blank_values=True, encoding="utf-8", errors="strict",
                          max_num_fields=MAX_QUERY_FIELDS)
    except UnicodeDecodeError:
        raise AnveoError(Code.BAD_QUERY,
                         "the query string is not valid UTF-8 once percent-decoded") from None
    except ValueError:
        raise AnveoError(Code.TOO_MANY_PARAMETERS,
                         f"the query string has more than {MAX_QUERY_FIELDS} fields") from None
    userkey: str | None = None
    action: str | None = None
    params: list[tuple[str, str]] = []
    variables: list[tuple[str, str]] = []
    for key, value in pairs:
        lower = key.strip().lower()
        bad = NOT_XML_CHAR.search(value) or NOT_XML_CHAR.search(key)
        if bad:
            raise AnveoError(Code.BAD_QUERY, f"query field {shown(key)} holds a character XML "
                                             f"cannot carry ({shown(bad.group())})")
        if len(value) > VALUE_MAX:
            raise AnveoError(Code.INVALID_PARAMETER, f"query field {shown(key)} is longer "
                                                     f"than {VALUE_MAX} characters")
        if lower == "userkey":
            if userkey is not None:
                raise AnveoError(Code.DUPLICATE_PARAMETER, "userkey appears more than once")
            userkey = value.strip(XML_SPACE)
        elif lower == "action":
            if action is not None:
                raise AnveoError(Code.DUPLICATE_PARAMETER, "action appears more than once")
            action = value.strip(XML_SPACE)
        elif lower.startswith(("param[", "var[")) and lower.endswith("]"):
            inner = key.strip()[key.strip().index("[") + 1:-1].strip(XML_SPACE)
            if not 0 < len(inner) <= 64:
                raise AnveoError(Code.BAD_QUERY, f"query field {shown(key)} needs a name of "
                                                 "1 to 64 characters inside the brackets")
            target = params if lower.startswith("param[") else variables
            target.append((inner, value.strip(XML_SPACE)))
        else:
            raise AnveoError(Code.BAD_QUERY, f"unknown query field {shown(key)}; expected "
                                             "userkey, action, param[NAME] or var[NAME]")
    if not userkey:
        raise AnveoError(Code.MISSING_USERKEY, "the query has no userkey (or it is empty)")
    if not USERKEY_PATTERN.fullmatch(userkey):
        raise AnveoError(Code.ENVELOPE, "userkey must be 1 to 64 printable ASCII characters "
                                        f"without spaces, got {shown(userkey)}")
    if not action:
        raise AnveoError(Code.MISSING_ACTION, "the query has no action (e.g. action=DIAL.CONNECT)")
    if len(params) + len(variables) > MAX_PARAMETERS:
        raise AnveoError(Code.TOO_MANY_PARAMETERS,
                         f"the query has more than {MAX_PARAMETERS} param[] and var[] fields")
    for name, _ in params:
        if name == "VARIABLE":
            raise AnveoError(Code.BAD_QUERY, "in the GET door a VARIABLE is sent as "
                                             "var[NAME]=VALUE, not param[VARIABLE]")
    return ActionRequest(door, userkey, action, tuple(params), tuple(variables))


# ---- responses ------------------------------------------------------------------------------
_HEAD = '<?xml version="1.0" standalone="no" ?>\n<RESPONSE>\n'
_ILLEGAL_OR_BREAK = re.compile("[^\t\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _text(value: str) -> str:
    if value.isalnum():  # statuses, REQUESTIDs, amounts' digits: nothing to escape or replace
        return value
    if _ILLEGAL_OR_BREAK.search(value):
        value = _ILLEGAL_OR_BREAK.sub(" ", value)  # one line, XML-legal, whatever came in
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def render(result: str, values: tuple[tuple[str, str], ...] = ()) -> bytes:
    """A RESPONSE with RESULT and VALUEs, each element on its own line."""
    lines = [_HEAD, "<RESULT>", _text(result), "</RESULT>\n"]
    for name, value in values:
        lines += ['<VALUE NAME="', name, '">', _text(value), "</VALUE>\n"]
    lines.append("</RESPONSE>\n")
    return "".join(lines).encode("utf-8")


MESSAGE_MAX = 500


def render_error(error: AnveoError) -> bytes:
    """The error envelope: RESULT ERROR and the message (at most 500 characters) in ERROR."""
    message = error.message
    if len(message) > MESSAGE_MAX:  # a last bound, whatever a parser message echoed
        message = message[:MESSAGE_MAX] + "..."
    return (f"{_HEAD}<RESULT>ERROR</RESULT>\n<ERROR>{_text(message)}</ERROR>\n"
            "</RESPONSE>\n").encode()


def build_canonical(action: str, params: Iterable[tuple[str, str]],
                    variables: Iterable[tuple[str, str]]) -> Any:
    """The document actions.xsd validates: one element per parameter, VARIABLEs grouped."""
    root = etree.Element(action)
    for name, value in params:
        etree.SubElement(root, name).text = value
    variables = tuple(variables)
    if variables:
        group = etree.SubElement(root, "VARIABLES")
        for name, value in variables:
            etree.SubElement(group, "VARIABLE", NAME=name).text = value
    return root
