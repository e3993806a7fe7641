"""The ``--state-file``: a snapshot restored at start and written atomically at clean shutdown."""

from __future__ import annotations

import json
import os
from pathlib import Path

from ..errors import SettingError
from ..sim.snapshot import restore, snapshot
from ..sim.world import World


class StateFile:
    """``--state-file``: restored at start, written atomically at clean shutdown."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def restore(self, world: World) -> str:
        """Load the file into ``world``; a bad file is moved aside, never overwritten."""
        if not self.path.exists():
            return f"no state file at {self.path} yet; starting fresh"
        try:
            doc = json.loads(self.path.read_text(encoding="utf-8"))
            count = restore(world, doc)
        except (OSError, ValueError, SettingError) as exc:
            reason = exc.message if isinstance(exc, SettingError) else str(exc)
            aside = self._aside()
            os.replace(self.path, aside)
            return (f"state file {self.path} could not be used ({reason}); "
                    f"kept it as {aside} and started fresh")
        return f"restored {count} tenant(s) from {self.path}"

    def _aside(self) -> Path:
        index = 0
        while True:
            candidate = self.path.with_name(f"{self.path.name}.corrupt"
                                            + (f".{index}" if index else ""))
            if not candidate.exists():
                return candidate
            index += 1

    def save(self, world: World) -> str:
        """Write, fsync and rename, so a crash leaves either the old file or the new one."""
        data = json.dumps(snapshot(world), separators=(",", ":")).encode("utf-8")
        tmp = self.path.with_name(self.path.name + ".tmp")
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.path)
        directory = os.open(self.path.parent or Path("."), os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
        return f"saved {len(world.tenants)} tenant(s) to {self.path} ({len(data)} bytes)"
