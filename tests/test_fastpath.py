"""The accepting-only fast path (``wire.plain`` and ``actions.validate``'s plain check) gives
exactly the verdicts, requests and parameters of the full lxml and schema path."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mock_anveo.errors import AnveoError
from mock_anveo.sim.world import World
from mock_anveo.testing import strategies
from mock_anveo.wire import actions, plain, xmlparse
from mock_anveo.wire import query as v2
from mock_anveo.wire.pipeline import Pipeline
from mock_anveo.wire.requests import ActionRequest

from .helpers import outcome, xml_request

CONNECT = xml_request(
    "DIAL.CONNECT",
    [("PHONENUMBER", "12157010680"), ("DESTPHONENUMBER", "12157010681"), ("MEMO", "a & b")],
)
CALLFLOW = xml_request(
    "DIAL.CALLFLOW",
    [("PHONENUMBER", "12157010680"), ("CALLERID", "12157010680"), ("CALLFLOW", "a" * 40)],
    variables=[("ACCOUNTID", "7"), ("_x", "<&>")],
)

#: Pieces that XML or request.xsd treat specially, spliced into otherwise valid bodies.
SPLICES = [
    "\r",
    "\r\n",
    "\t",
    " ",
    "\x00",
    "\x01",
    "\x7f",
    "\x85",
    "\ufffe",
    "\u2028",
    "&",
    "&amp;",
    "&#65;",
    "&#13;",
    "&nbsp;",
    "&apos;",
    "<",
    ">",
    "]]>",
    '"',
    "'",
    "<!-- c -->",
    "<![CDATA[x]]>",
    "<?pi x?>",
    "<!DOCTYPE REQUEST>",
    "<X/>",
    '<PARAMETER NAME="TEST">TRUE</PARAMETER>',
    '<PARAMETER NAME="VARIABLE">1</PARAMETER>',
    ' VARIABLENAME="V"',
    ' NAME="A"',
    ' xmlns="urn:x"',
    "x" * 65,
    "é",
    "\U0001f600",
    "\xef\xbb\xbf",
    '<?xml version="1.0"?>',
]


valid_bodies = st.one_of(
    strategies.xml_requests(),
    st.sampled_from([CONNECT, CALLFLOW]),
)


@st.composite
def spliced(draw: st.DrawFn) -> bytes:
    """A valid body with a few characters anywhere (inside a value, a name, between tags)
    replaced by one of ``SPLICES``."""
    text = draw(valid_bodies).decode("utf-8")
    at = draw(st.integers(min_value=0, max_value=len(text)))
    cut = draw(st.integers(min_value=0, max_value=3))
    return (text[:at] + draw(st.sampled_from(SPLICES)) + text[at + cut :]).encode("utf-8")


#: Valid bodies with "@" where a piece goes raw: in a value, at a value's edge, in a name.
TEMPLATES = [
    xml_request(
        "DIAL.CONNECT",
        [("PHONENUMBER", "12157010680"), ("DESTPHONENUMBER", "12157010681"), ("MEMO", "a@b")],
    ),
    xml_request(
        "DIAL.CONNECT",
        [("PHONENUMBER", "12157010680"), ("DESTPHONENUMBER", "12157010681"), ("BILLINGCODE", "@")],
    ),
    xml_request(
        "DIAL.CALLFLOW",
        [("PHONENUMBER", "12157010680"), ("CALLERID", "12157010680"), ("CALLFLOW", "a" * 40)],
        variables=[("V@", "x@y")],
    ),
    xml_request("DIAL.GETSTATUS", [("@REQUESTID", "ab" * 20)]),
    xml_request("DIAL.GETSTATUS", [("REQUESTID", "ab" * 20)], userkey="k@"),
    xml_request("DIAL.GETSTATUS", [("REQUESTID", "ab" * 20)]).replace(b"<ACTION", b"@<ACTION"),
    xml_request("DIAL.GETSTATUS", [("REQUESTID", "ab" * 20)]).replace(b"</ACTION>", b"@</ACTION>"),
    xml_request("DIAL.GETSTATUS", [("REQUESTID", "ab" * 20)]).replace(b"<?xml ", b"<?xml@"),
    xml_request("DIAL.GETSTATUS", [("REQUESTID", "ab" * 20)]).replace(b'"1.0"', b'"1.0"@'),
]
pieces = st.one_of(
    st.sampled_from(SPLICES),
    st.lists(st.one_of(st.sampled_from(SPLICES), st.text(max_size=2)), max_size=3).map("".join),
)
raw_pieces = st.builds(
    lambda body, piece: body.replace(b"@", piece.encode("utf-8")),
    st.sampled_from(TEMPLATES),
    pieces,
)
bodies = st.one_of(
    valid_bodies,
    raw_pieces,
    strategies.near_misses(door="v3").map(lambda miss: miss.xml or b""),
    spliced(),
    spliced(),
    st.builds(lambda b, e: b.decode("utf-8").encode(e), valid_bodies, st.sampled_from(["utf-16"])),
)


def full(body: bytes) -> ActionRequest | AnveoError:
    try:
        return xmlparse.parse_xml(body)
    except AnveoError as error:
        return error


@settings(max_examples=200)
@given(bodies)
def test_what_the_fast_parser_accepts_the_full_parser_accepts_the_same(body: bytes) -> None:
    fast = plain.parse(body)
    if fast is not None:
        assert full(body) == fast


@settings(max_examples=1000)
@given(raw_pieces)
def test_raw_pieces_anywhere_never_fool_the_fast_parser(body: bytes) -> None:
    """Cheap to draw, so many: markup, blanks, controls, entities and long names spliced raw
    into values, names, the declaration and between tags."""
    fast = plain.parse(body)
    if fast is not None:
        assert full(body) == fast


@settings(max_examples=150)
@given(valid_bodies)
def test_every_valid_layout_clients_send_takes_the_fast_parser(body: bytes) -> None:
    """Not a benchmark trick: any valid request in the layouts of ``strategies.xml_requests``
    (declarations, separators, escaped text, VARIABLEs) is read without lxml."""
    assert plain.parse(body) is not None


def verdict(request: ActionRequest, *, fast: bool) -> object:
    try:
        spec, params = actions.validate(request, fast=fast)
    except AnveoError as error:
        return (error.code, error.message)
    except ValueError as error:  # lxml refuses a control character no door lets through
        return str(error)
    return (spec, params)


requests = st.one_of(
    strategies.requests(),
    strategies.requests(door="v2"),
    strategies.near_misses(door="v3").map(lambda miss: miss.base),
    strategies.near_misses(door="v3").map(lambda miss: v2.parse_query(miss.base.to_query())),
    st.builds(
        lambda r, value: (
            ActionRequest(
                r.userkey, r.action, (*r.params[:-1], (r.params[-1][0], value)), r.variables
            )
            if r.params
            else r
        ),
        strategies.requests(),
        st.one_of(
            st.text(max_size=20),
            st.sampled_from(
                ["0", "00", "86400", "86401", "1" * 12, "0" * 5000 + "1", "\x00", "x" * 1025]
            ),
        ),
    ),
)


@settings(max_examples=150)
@given(requests)
def test_the_plain_value_check_gives_the_schemas_verdict(request: ActionRequest) -> None:
    assert verdict(request, fast=True) == verdict(request, fast=False)


@settings(max_examples=50)
@given(st.lists(st.one_of(bodies, st.sampled_from([CONNECT, CALLFLOW])), min_size=1, max_size=4))
def test_a_pipeline_with_the_fast_path_answers_as_one_without(sent: list[bytes]) -> None:
    """Whole exchanges, replies included, through two worlds that differ only in the path."""
    fast = Pipeline(World(), memo_limit=0)
    slow = Pipeline(World(), memo_limit=0, fast=False)
    for body in sent:
        assert outcome(fast.handle("v3", body)) == outcome(slow.handle("v3", body))


def _getstatus(value: str, userkey: str = "k") -> bytes:
    return (
        f"<REQUEST><USERTOKEN><USERKEY>{userkey}</USERKEY></USERTOKEN>"
        f'<ACTION NAME="DIAL.GETSTATUS"><PARAMETER NAME="REQUESTID">{value}</PARAMETER>'
        "</ACTION></REQUEST>"
    ).encode()


#: Each branch of ``plain.parse``: the usual form, and what sends a body to ``_unusual`` or
#: back to lxml (a NAME="VARIABLE" without VARIABLENAME, a value trimmed only after
#: request.xsd's length bound, "]]>" and '>' in character data).
EDGES = {
    "usual": (_getstatus("ab" * 20), True),
    "blanks around the value": (_getstatus(" \n\tab" + "ab" * 19 + " \n"), True),
    "blanks inside the value": (_getstatus("ab ab"), True),
    "an entity": (_getstatus("a&amp;b"), True),
    "a '>' in the value": (_getstatus("a>b"), True),
    "']]>' in the value": (_getstatus("a]]>b"), False),
    "a '>' in the USERKEY": (_getstatus("ab" * 20, userkey="k>"), False),
    "VARIABLE without VARIABLENAME": (
        CONNECT.replace(b"</ACTION>", b'<PARAMETER NAME="VARIABLE">1</PARAMETER></ACTION>'),
        False,
    ),
    "a 4,096-character value with blanks around": (_getstatus(" " + "a" * 4096 + " "), False),
    "a 4,096-character value": (_getstatus("a" * 4096), True),
}


@pytest.mark.parametrize("name", list(EDGES))
def test_each_branch_of_the_fast_parser_agrees_with_the_full_one(name: str) -> None:
    body, fast = EDGES[name]
    found = plain.parse(body)
    assert (found is not None) == fast
    if found is not None:
        assert full(body) == found


def _connect(*extra: tuple[str, str]) -> ActionRequest:
    return ActionRequest(
        "k",
        "DIAL.CONNECT",
        (("PHONENUMBER", "12157010680"), ("DESTPHONENUMBER", "1215701068"), *extra),
    )


#: A value for each rule of the plain check that only the schema (or lxml) would refuse.
VALUES = {
    "DELAY above its range": _connect(("DELAY", "86401")),
    "DELAY at its end": _connect(("DELAY", "86400")),
    "DELAY of many digits": _connect(("DELAY", "0" * 20 + "1")),
    "MAXCALLDURATION above its range": _connect(("MAXCALLDURATION", "99999")),
    "a NUL in MEMO": _connect(("MEMO", "a\x00b")),
    "a non-character in MEMO": _connect(("MEMO", "a\ufffeb")),
    "a lone surrogate in MEMO": _connect(("MEMO", "a\ud800b")),
    "a C1 control in MEMO (XML allows it)": _connect(("MEMO", "a\x85b")),
    "private use in MEMO (XML allows it)": _connect(("MEMO", "a\ue000b")),
    "MEMO one character too long": _connect(("MEMO", "m" * 1025)),
    "an empty optional value": _connect(("MEMO", "")),
}


@pytest.mark.parametrize("name", list(VALUES))
def test_each_rule_of_the_plain_check_gives_the_schemas_verdict(name: str) -> None:
    assert verdict(VALUES[name], fast=True) == verdict(VALUES[name], fast=False)
