"""The journal's ``request`` text of bodies that are not UTF-8, and their exact bytes.

A tester found an ISO-8859-1 body with ``caf\\xe9`` journaled as ``caf\\ufffd`` and UTF-16
bodies garbled, while the params and the call's memo were right: the journal decoded every
body as UTF-8. Now such a body is read by its BOM or XML declaration, and its bytes are kept
in ``request_base64`` (also through snapshots), so the dashboard can resend them exactly.
"""

from __future__ import annotations

import base64
import encodings.aliases
import json
from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import given
from hypothesis import strategies as st

from mock_anveo.errors import SettingError
from mock_anveo.http.app import make_app
from mock_anveo.sim.journal import RAW_LIMIT, Journal, entry_to_dict
from mock_anveo.sim.world import World
from mock_anveo.testing.records import JournalEntry

from .helpers import KEY

T = f"/_mock/tenants/{KEY}"


def _document(declaration: str, memo: str = "café ☎") -> str:
    return (
        f"{declaration}<REQUEST><USERTOKEN><USERKEY>{KEY}</USERKEY></USERTOKEN>"
        '<ACTION NAME="DIAL.CONNECT"><PARAMETER NAME="PHONENUMBER">12157010680</PARAMETER>'
        '<PARAMETER NAME="DESTPHONENUMBER">12125551234</PARAMETER>'
        f'<PARAMETER NAME="MEMO">{memo}</PARAMETER></ACTION></REQUEST>'
    )


def _journaled(raw: bytes) -> dict[str, object]:
    journal = Journal()
    journal.exchange(0.0, 0.0, "v3", "DIAL.CONNECT", None, raw, "", "", "")
    (entry,) = journal
    return entry_to_dict(entry)


LATIN1 = _document('<?xml version="1.0" encoding="ISO-8859-1"?>', "café").encode("latin-1")
#: Each body, and the text its request must read: the same document, whatever the bytes.
NOT_UTF8 = {
    "iso-8859-1": (LATIN1, _document('<?xml version="1.0" encoding="ISO-8859-1"?>', "café")),
    "windows-1252 single quotes": (
        _document("<?xml version='1.0' encoding='windows-1252' ?>", "€ café").encode("cp1252"),
        _document("<?xml version='1.0' encoding='windows-1252' ?>", "€ café"),
    ),
    "utf-16 with a BOM": (
        _document('<?xml version="1.0" encoding="UTF-16"?>').encode("utf-16"),
        _document('<?xml version="1.0" encoding="UTF-16"?>'),
    ),
    "utf-16-be without a BOM": (
        _document('<?xml version="1.0" encoding="UTF-16"?>').encode("utf-16-be"),
        _document('<?xml version="1.0" encoding="UTF-16"?>'),
    ),
    "utf-32 with a BOM": (
        _document('<?xml version="1.0" encoding="UTF-32"?>').encode("utf-32"),
        _document('<?xml version="1.0" encoding="UTF-32"?>'),
    ),
}


@pytest.mark.parametrize("raw, text", list(NOT_UTF8.values()), ids=list(NOT_UTF8))
def test_a_body_that_is_not_utf8_reads_as_its_bom_or_declaration_says(raw: bytes, text: str):
    entry = _journaled(raw)
    assert entry["request"] == text
    assert base64.b64decode(str(entry["request_base64"])) == raw


def test_a_utf8_body_is_text_alone():
    raw = _document('<?xml version="1.0" encoding="UTF-8"?>').encode()
    entry = _journaled(raw)
    assert entry["request"] == raw.decode() and entry["request_base64"] is None


@pytest.mark.parametrize(
    "declaration",
    [
        "",  # no declaration: UTF-8 is all an XML parser may assume
        '<?xml version="1.0" encoding="no-such-codec"?>',
        '<?xml version="1.0" encoding="hex"?>',  # a Python codec, but not a text encoding
        '<?xml version="1.0" encoding="UTF-16"?>',  # in ASCII bytes: the declaration is wrong
    ],
)
def test_bytes_no_encoding_explains_read_as_utf8_and_are_kept(declaration: str):
    raw = _document(declaration, "caf\udce9").encode("utf-8", "surrogateescape")  # a lone \xe9
    entry = _journaled(raw)
    assert entry["request"] == _document(declaration, "caf\ufffd")
    assert base64.b64decode(str(entry["request_base64"])) == raw


#: Every codec name Python knows, whatever it does: a declaration may name any of them.
CODECS = sorted({*encodings.aliases.aliases, *encodings.aliases.aliases.values(), "idna"})


@given(st.binary(max_size=64))
def test_whatever_codec_a_declaration_names_the_entry_reads(tail: bytes):
    """A codec that refuses the "replace" handler (idna) or is no text encoding at all must
    not break the journal's reading of the entry (the control API and the console read it):
    every name, with bytes that are not UTF-8 after the declaration."""
    for name in CODECS:
        raw = f'<?xml version="1.0" encoding="{name}"?><REQUEST>'.encode() + b"\xff" + tail
        entry = _journaled(raw)
        assert isinstance(entry["request"], str), name
        assert base64.b64decode(str(entry["request_base64"])) == raw, name


@given(st.binary(max_size=RAW_LIMIT))
def test_any_bytes_survive_a_snapshot_exactly(raw: bytes):
    journal = Journal()
    journal.exchange(0.0, 0.0, "v3", "", None, raw, "", "", "")
    document = json.loads(json.dumps(journal.to_document()))
    restored = Journal.from_document(document)
    assert [entry[7] for entry in restored] == [raw]
    assert restored.to_document() == document


def test_a_snapshot_of_text_alone_still_reads_and_bad_base64_is_named():
    document = Journal().to_document()
    entry = {**_journaled(b"<REQUEST/>"), "seq": 1}
    del entry["request_base64"]  # a snapshot written before the field existed
    restored = Journal.from_document({**document, "seq": 1, "entries": [entry]})
    assert [e[7] for e in restored] == [b"<REQUEST/>"]
    for bad in ("not base64!", base64.b64encode(b"x" * (RAW_LIMIT + 1)).decode()):
        broken = {**document, "seq": 1, "entries": [{**entry, "request_base64": bad}]}
        with pytest.raises(SettingError) as refused:
            Journal.from_document(broken)
        assert refused.value.field == "journal.entries[0].request_base64"


@pytest.fixture
async def client() -> AsyncIterator[TestClient]:
    async with TestClient(TestServer(make_app(World()))) as client:
        yield client


async def test_an_iso_8859_1_request_reads_as_sent_in_the_journal_and_the_controller(
    client: TestClient,
):
    reply = await (await client.post("/api/v3.asp", data=LATIN1)).text()
    assert "<RESULT>SUCCESS</RESULT>" in reply
    (call,) = await (await client.get(T + "/calls")).json()
    assert call["memo"] == "café"  # the parser always followed the declaration
    (entry,) = (await (await client.get(T + "/journal?kind=exchange")).json())["entries"]
    assert '<PARAMETER NAME="MEMO">café</PARAMETER>' in entry["request"]
    record = JournalEntry.from_json(entry)
    assert record.request_bytes == LATIN1


async def test_a_utf8_request_has_no_base64_and_its_bytes_are_its_text(client: TestClient):
    body = _document("").encode()
    await client.post("/api/v3.asp", data=body)
    (entry,) = (await (await client.get(T + "/journal?kind=exchange")).json())["entries"]
    assert entry["request_base64"] is None
    assert JournalEntry.from_json(entry).request_bytes == body
