"""The standalone server's collector and allocator policies (each checked in a fresh process,
so this test process keeps its own)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from mock_anveo import malloctune

PROBE = """
import gc, json
from mock_anveo import gctune, malloctune
before = gc.get_threshold()
gctune.install()
print(json.dumps({"before": before, "after": gc.get_threshold(),
                  "frozen": gc.get_freeze_count() > 0, "malloc": malloctune.install()}))
"""


def probe(**env: str) -> dict[str, object]:
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                          timeout=60, env={**os.environ, **env}, check=True)
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_the_collector_freezes_start_up_objects_and_shortens_generation_one() -> None:
    result = probe()
    before, after = result["before"], result["after"]
    assert isinstance(before, list) and isinstance(after, list)
    assert result["frozen"] is True
    assert after == [before[0], 2, before[2]]


@pytest.mark.skipif(not malloctune.is_glibc(), reason="allocator thresholds are glibc's")
def test_the_allocator_thresholds_apply_on_glibc_and_can_be_turned_off() -> None:
    assert probe()["malloc"] is True
    assert probe(MOCK_ANVEO_MALLOC_TUNING="0")["malloc"] is False
