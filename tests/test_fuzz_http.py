"""Hypothesis fuzzing of the Anveo doors through the real HTTP server.

Valid requests (every action, both XML doors and the v2 GET door) are mutated structurally (on
the lxml tree: elements dropped, duplicated, renamed, moved; attributes and text rewritten;
comments, PIs and namespaces added) and byte-wise (bytes flipped, nasty tokens spliced in, slices
cut or doubled, the document re-encoded), then sent over a real socket. For every example:

- HTTP 200 and a RESPONSE valid against response.xsd (so never a 5xx or a traceback);
- the server stays healthy and records no internal error;
- a refused request (RESULT ERROR) changes no tenant state.

One server per module (``ThreadedServer``); the example budget comes from the Hypothesis profile
in conftest.py (``ci``: 60 per test), which keeps this module to a few seconds on 2 cores.
"""

from __future__ import annotations

import copy
import http.client
import json
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from hypothesis import event, given
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context
from lxml import etree

from mock_anveo.http.app import ServerOptions
from mock_anveo.http.server import ThreadedServer
from mock_anveo.sim.accounts import DEFAULT_CALLFLOW, DOCS_CALLERID, DOCS_USERKEY

from .helpers import Reply, v2_query, xml_request

FUZZ_KEY = "fuzz00000000000000000000000000000000000f"


class Client:
    """Plain http.client calls: a kept-alive connection for control, a fresh one per attack."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.control = http.client.HTTPConnection(self.host, self.port, timeout=10)

    def send(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, bytes]:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=10)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()

    def json(self, method: str, path: str, doc: Any = None) -> Any:
        body = None if doc is None else json.dumps(doc).encode()
        self.control.request(
            method, path, body=body, headers={"Content-Type": "application/json"} if body else {}
        )
        response = self.control.getresponse()
        data = response.read()
        assert response.status < 300, (method, path, response.status, data)
        return json.loads(data) if data else None

    def state(self) -> dict[str, Any]:
        """Tenant state a refused request must not change (journals excepted)."""
        out: dict[str, Any] = {
            "tenants": sorted(t["userkey"] for t in self.json("GET", "/_mock/tenants"))
        }
        for key in (FUZZ_KEY, DOCS_USERKEY):
            view = self.json("GET", f"/_mock/tenants/{key}")
            view.pop("journal_entries")
            view.pop("journal_dropped")
            out[key] = view
            out[key + "/calls"] = self.json("GET", f"/_mock/tenants/{key}/calls")
        return out


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    server = ThreadedServer(options=ServerOptions(read_timeout=1.0)).start()
    try:
        client = Client(server.url)
        client.json("POST", "/_mock/tenants", {"userkey": FUZZ_KEY})
        for delay in ("30", "0"):
            status, body = client.send(
                "POST",
                "/api/v3.asp",
                xml_request(
                    "DIAL.CONNECT",
                    [
                        ("PHONENUMBER", "12125550100"),
                        ("DESTPHONENUMBER", "12125550101"),
                        ("DELAY", delay),
                    ],
                    FUZZ_KEY,
                ),
            )
            assert status == 200 and Reply(body).ok
        yield client
    finally:
        server.stop()


def exercise(client: Client, send: Callable[[], tuple[int, bytes]]) -> Reply:
    """Send one fuzzed request and check every invariant of the module docstring."""
    before = client.state()
    status, body = send()
    assert status == 200, (status, body[:300])
    reply = Reply(body)  # schema-valid, or the assertion inside Reply fails
    assert reply.result, body
    if currently_in_test_context():
        event("refused" if reply.result == "ERROR" else "accepted")
    if reply.result == "ERROR":
        assert reply.error, body
        assert client.state() == before, f"refused with {reply.error!r} but state changed"
    health = client.json("GET", "/_mock/health")
    assert health["status"] == "ok"
    assert client.json("GET", "/_mock/errors") == [], "the server recorded an internal error"
    return reply


# ---- valid requests --------------------------------------------------------------------------
# Bounds: digits 7-15 as the contract says; free text short (the mutations add the length).
phones = st.from_regex(r"1[2-9][0-9]{5,13}", fullmatch=True)
memo_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=40)


@st.composite
def valid_requests(draw: st.DrawFn) -> tuple[str, list[tuple[str, str]], list[tuple[str, str]]]:
    """(action, params, variables) that the fuzz tenant would accept as they are."""
    action = draw(
        st.sampled_from(
            [
                "DIAL.CONNECT",
                "DIAL.CALLFLOW",
                "DIAL.GETSTATUS",
                "DIAL.CANCEL",
                "DIAL.CALLFLOW.GETRESULT",
                "ACCOUNT.GETBALANCE",
            ]
        )
    )
    params: list[tuple[str, str]] = []
    variables: list[tuple[str, str]] = []
    optional: list[tuple[str, str]] = []
    if action == "DIAL.CONNECT":
        params = [("PHONENUMBER", draw(phones)), ("DESTPHONENUMBER", draw(phones))]
        optional = [
            ("MAXCALLDURATION", str(draw(st.integers(1, 1440)))),
            ("CALLERID", DOCS_CALLERID),
            ("DELAY", str(draw(st.integers(0, 86400)))),
            ("MEMO", draw(memo_text)),
            ("BILLINGCODE", draw(memo_text)),
            ("TEST", draw(st.sampled_from(["TRUE", "FALSE", "true"]))),
        ]
    elif action == "DIAL.CALLFLOW":
        params = [
            ("PHONENUMBER", draw(phones)),
            ("CALLERID", DOCS_CALLERID),
            ("CALLFLOW", DEFAULT_CALLFLOW),
        ]
        optional = [("DELAY", str(draw(st.integers(0, 86400)))), ("MEMO", draw(memo_text))]
        names = draw(
            st.lists(
                st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,10}", fullmatch=True),
                max_size=3,
                unique=True,
            )
        )
        variables = [(name, draw(memo_text)) for name in names]
    elif action != "ACCOUNT.GETBALANCE":
        params = [("REQUESTID", draw(st.from_regex(r"[0-9a-f]{40}", fullmatch=True)))]
    params += [p for p in optional if draw(st.booleans())]
    return action, draw(st.permutations(params)), variables


# ---- structural mutations ---------------------------------------------------------------------
tag_names = st.one_of(
    st.sampled_from(
        [
            "REQUEST",
            "USERTOKEN",
            "USERKEY",
            "ACTION",
            "PARAMETER",
            "request",
            "Parameter",
            "VALUE",
            "RESPONSE",
            "{urn:evil}REQUEST",
            "{http://www.w3.org/2001/XInclude}include",
        ]
    ),
    st.from_regex(r"[A-Za-z_][A-Za-z0-9_.-]{0,12}", fullmatch=True),
)
attr_names = st.one_of(
    st.sampled_from(["NAME", "VARIABLENAME", "name", "Name", "ID"]),
    st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True),
)
xml_text = st.text(
    st.characters(
        codec="utf-8",
        exclude_categories=("Cs",),
        exclude_characters="".join(chr(c) for c in range(32) if c not in (9, 10, 13)),
    ),
    max_size=80,
)
comment_text = xml_text.map(lambda s: s.replace("-", "_"))


def _descendants(element: Any) -> set[Any]:
    return set(element.iter())


@st.composite
def mutate_tree(draw: st.DrawFn, root: Any) -> Any:
    """One structural change; returns the (possibly new) root."""
    elements = [e for e in root.iter() if isinstance(e.tag, str)]
    target = draw(st.sampled_from(elements))
    parent = target.getparent()
    op = draw(
        st.sampled_from(
            [
                "drop",
                "duplicate",
                "rename",
                "set_attr",
                "del_attr",
                "set_text",
                "set_tail",
                "add_child",
                "move",
                "comment",
                "pi",
                "reverse",
                "wrap",
                "cdata",
            ]
        )
    )
    if op == "drop" and parent is not None:
        parent.remove(target)
    elif op == "duplicate" and parent is not None:
        parent.insert(parent.index(target), copy.deepcopy(target))
    elif op == "rename":
        target.tag = draw(tag_names)
    elif op == "set_attr":
        target.set(draw(attr_names), draw(xml_text))
    elif op == "del_attr" and target.attrib:
        del target.attrib[draw(st.sampled_from(sorted(target.attrib)))]
    elif op == "set_text":
        target.text = draw(xml_text)
    elif op == "set_tail" and parent is not None:
        target.tail = draw(xml_text)
    elif op == "add_child":
        child = etree.SubElement(target, draw(tag_names))
        if draw(st.booleans()):
            child.set(
                "NAME", draw(st.sampled_from(["MEMO", "DELAY", "REQUESTID", "X", "VARIABLE"]))
            )
        child.text = draw(xml_text)
    elif op == "move" and parent is not None:
        hosts = [e for e in elements if e not in _descendants(target)]
        host = draw(st.sampled_from(hosts))
        parent.remove(target)
        host.insert(draw(st.integers(0, len(host))), target)
    elif op == "comment":
        target.insert(draw(st.integers(0, len(target))), etree.Comment(draw(comment_text)))
    elif op == "pi":
        target.insert(
            draw(st.integers(0, len(target))), etree.ProcessingInstruction("php", "echo 1")
        )
    elif op == "reverse":
        children = list(target)
        for child in children:
            target.remove(child)
        target.extend(reversed(children))
    elif op == "wrap":
        wrapper = etree.Element(draw(tag_names))
        wrapper.append(root)
        return wrapper
    elif op == "cdata":
        target.text = etree.CDATA(draw(comment_text).replace("]]>", ""))
    return root


@st.composite
def structurally_mutated(draw: st.DrawFn) -> bytes:
    action, params, variables = draw(valid_requests())
    root = etree.fromstring(xml_request(action, params, FUZZ_KEY, variables))
    for _ in range(draw(st.integers(1, 4))):
        root = draw(mutate_tree(root))
    return etree.tostring(
        root,
        xml_declaration=draw(st.booleans()),
        encoding="UTF-8",
        pretty_print=draw(st.booleans()),
    )


# ---- byte-wise mutations ----------------------------------------------------------------------
NASTY = [
    b"<",
    b">",
    b"&",
    b"&amp;",
    b"&#0;",
    b"&#x1F;",
    b"&#xD800;",
    b"&x;",
    b"]]>",
    b"<![CDATA[",
    b"<!--",
    b"-->",
    b"<!DOCTYPE REQUEST [<!ENTITY x 'y'>]>",
    b"<!ENTITY",
    b"<?xml version='1.0'?>",
    b"<?php x?>",
    b"\x00",
    b"\xff",
    b"\xc0\xaf",
    b"\xed\xa0\x80",
    b"\xef\xbb\xbf",
    b"\xfe\xff",
    b'"',
    b"'",
    b"=",
    b"</REQUEST>",
    b"<REQUEST>",
    b' xmlns="urn:x"',
    b' xmlns:xi="http://www.w3.org/2001/XInclude"',
    b"\r\n",
    b"\t",
    b"%",
    b"\x1b",
    b"PARAMETER",
    b"NAME=",
    b"USERKEY",
]


@st.composite
def bytewise_mutated(draw: st.DrawFn) -> bytes:
    action, params, variables = draw(valid_requests())
    data = bytearray(xml_request(action, params, FUZZ_KEY, variables))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "insert", "delete", "double", "truncate", "reencode"]))
        at = draw(st.integers(0, len(data)))
        if op == "flip" and data:
            data[min(at, len(data) - 1)] = draw(st.integers(0, 255))
        elif op == "insert":
            data[at:at] = draw(st.one_of(st.sampled_from(NASTY), st.binary(max_size=16)))
        elif op == "delete":
            del data[at : at + draw(st.integers(1, 64))]
        elif op == "double":
            data[at:at] = data[at : at + draw(st.integers(1, 64))]
        elif op == "truncate":
            del data[at:]
        elif op == "reencode":
            codec = draw(st.sampled_from(["utf-16", "utf-16-be", "utf-32", "latin-1"]))
            text = (
                bytes(data)
                .decode("utf-8", "replace")
                .replace(
                    'version="1.0"',
                    (f'version="1.0" encoding="{codec.upper().replace("LATIN-1", "ISO-8859-1")}"'),
                )
            )
            data = bytearray(text.encode(codec, "replace"))
    return bytes(data)


# ---- the v2 door ------------------------------------------------------------------------------
QUERY_TOKENS = [
    "%",
    "%zz",
    "%00",
    "%ff",
    "%c0%af",
    "&",
    "=",
    "[",
    "]",
    "&&",
    "==",
    "%5B",
    "param[",
    "var[",
    "USERKEY=x",
    "action=",
    "+",
    ";",
]


@st.composite
def mutated_queries(draw: st.DrawFn) -> str:
    action, params, variables = draw(valid_requests())
    pairs = [
        part.partition("=")[::2]
        for part in v2_query(action, params, FUZZ_KEY, variables).split("&")
    ]
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(["drop", "duplicate", "key_case", "key", "value", "raw"]))
        index = draw(st.integers(0, max(0, len(pairs) - 1)))
        if not pairs:
            break
        key, value = pairs[index]
        if op == "drop":
            del pairs[index]
        elif op == "duplicate":
            pairs.insert(index, (key, value))
        elif op == "key_case":
            pairs[index] = (key.swapcase(), value)
        elif op == "key":
            pairs[index] = (quote(draw(st.text(max_size=12)), safe="[]"), value)
        elif op == "value":
            pairs[index] = (key, quote(draw(st.text(max_size=60)), safe=""))
        else:
            cut = draw(st.integers(0, len(value)))
            pairs[index] = (key, value[:cut] + draw(st.sampled_from(QUERY_TOKENS)) + value[cut:])
    return "&".join(f"{k}={v}" for k, v in pairs)


# ---- the tests ----------------------------------------------------------------------------
doors = st.sampled_from(["/api/v3.asp", "/apicall.asp"])
content_types = st.sampled_from(
    [
        "application/xml; charset=UTF-8",
        "text/xml",
        "",
        "application/x-www-form-urlencoded",
        "application/json",
    ]
)


@given(body=structurally_mutated(), door=doors, content_type=content_types)
def test_structural_mutations(client: Client, body: bytes, door: str, content_type: str) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    exercise(client, lambda: client.send("POST", door, body, headers))


@given(body=bytewise_mutated(), door=doors)
def test_bytewise_mutations(client: Client, body: bytes, door: str) -> None:
    exercise(client, lambda: client.send("POST", door, body, {"Content-Type": "text/xml"}))


@given(body=st.binary(max_size=4096), door=doors)
def test_arbitrary_bytes(client: Client, body: bytes, door: str) -> None:
    exercise(client, lambda: client.send("POST", door, body))


@given(query=mutated_queries(), as_form=st.booleans())
def test_v2_query_mutations(client: Client, query: str, as_form: bool) -> None:
    if as_form:
        exercise(
            client,
            lambda: client.send(
                "POST",
                "/api/v2.asp",
                query.encode(),
                {"Content-Type": "application/x-www-form-urlencoded"},
            ),
        )
    else:
        exercise(client, lambda: client.send("GET", f"/api/v2.asp?{query}"))


@given(query=st.text(max_size=300))
def test_arbitrary_query_strings(client: Client, query: str) -> None:
    raw = quote(query, safe="&=[]%+;,/?:@!$'()*")
    exercise(client, lambda: client.send("GET", f"/api/v2.asp?{raw}"))


def test_the_fuzz_can_see_a_state_change() -> None:
    """Guard the oracle: the state snapshot does move when a request is accepted."""
    server = ThreadedServer(options=ServerOptions()).start()
    try:
        client = Client(server.url)
        client.json("POST", "/_mock/tenants", {"userkey": FUZZ_KEY})
        before = client.state()
        reply = exercise(
            client,
            lambda: client.send(
                "POST",
                "/api/v3.asp",
                xml_request(
                    "DIAL.CONNECT",
                    [("PHONENUMBER", "12125550100"), ("DESTPHONENUMBER", "12125550101")],
                    FUZZ_KEY,
                ),
            ),
        )
        assert reply.ok
        assert client.state() != before
    finally:
        server.stop()
