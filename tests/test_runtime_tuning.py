"""The standalone server's collector policy (checked in a fresh process, so this test process
keeps its own)."""

from __future__ import annotations

import json
import subprocess
import sys

PROBE = """
import gc, json
from mock_anveo.http import gctune
before = gc.get_threshold()
gctune.install()
print(json.dumps({"before": before, "after": gc.get_threshold(),
                  "frozen": gc.get_freeze_count() > 0}))
"""


def probe() -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60, check=True
    )
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_the_collector_freezes_start_up_objects_and_shortens_generation_one() -> None:
    result = probe()
    before, after = result["before"], result["after"]
    assert isinstance(before, list) and isinstance(after, list)
    assert result["frozen"] is True
    assert after == [before[0], 2, before[2]]
