"""Rewrite fixtures/*.response.xml from a fresh default world (run by hand after a deliberate
change of wording; tests/test_fixtures.py then pins the result)."""

from __future__ import annotations

from pathlib import Path

from mock_anveo.sim.world import World
from mock_anveo.wire import pipeline

FIXTURES = Path(__file__).resolve().parent.parent / "mock_anveo" / "wire" / "fixtures"


def reply_for(request: bytes) -> bytes:
    """The reply a freshly started default server gives to ``request``."""
    return pipeline.handle(World(), "v3", request).body


if __name__ == "__main__":
    for path in sorted(FIXTURES.glob("*.request.xml")):
        out = path.with_name(path.name.replace(".request.xml", ".response.xml"))
        out.write_bytes(reply_for(path.read_bytes()))
        print(out.name, out.read_text().splitlines()[2])
