"""The ``--state-file``: a snapshot restored at start and written atomically at clean shutdown.

The path is checked before the server starts (``check``), so a mistake costs nothing: a
directory, a file that is not a state file (say ``accounts.toml``), or a place the server
cannot write to is refused and left untouched. Only a file that starts like a state file
(``{"format": "mock-anveo-snapshot/...``) and still cannot be restored is moved aside.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from ..errors import SettingError
from ..sim.snapshot import restore, snapshot
from ..sim.world import World

#: How every state file this server writes begins (``snapshot`` puts ``format`` first).
_SHAPE = re.compile(rb'\s*\{\s*"format"\s*:\s*"mock-anveo-snapshot/')
_HEAD = 4096


class StateFile:
    """``--state-file``: restored at start, written atomically at clean shutdown."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @property
    def _tmp(self) -> Path:
        return self.path.with_name(self.path.name + ".tmp")

    def check(self) -> None:
        """Raise ValueError, changing nothing, unless the state can be read and saved here."""
        path = self.path
        if path.is_dir():
            raise ValueError(f"{path} is a directory; give the path of a file")
        directory = path.parent
        if not directory.is_dir():
            raise ValueError(f"directory {directory} does not exist")
        if path.exists():
            try:
                with open(path, "rb") as handle:
                    head = handle.read(_HEAD)
            except OSError as exc:
                raise ValueError(f"cannot read {path}: {exc.strerror}") from None
            if head.strip() and not _SHAPE.match(head):
                raise ValueError(
                    f"{path} is not a mock-anveo state file (it does not start "
                    'with {"format": "mock-anveo-snapshot/...); refusing to '
                    "replace it"
                )
        try:  # the only sure test of writing is to write: the .tmp that save() uses
            with open(self._tmp, "wb"):
                pass
            os.unlink(self._tmp)
        except OSError as exc:
            raise ValueError(f"cannot write in {directory}: {exc.strerror}") from None

    def restore(self, world: World) -> str:
        """Load the file into ``world``; a state file that cannot be used is moved aside,
        never overwritten. An empty file counts as no state yet."""
        if not self.path.exists() or self.path.stat().st_size == 0:
            return f"no state file at {self.path} yet; starting fresh"
        try:
            doc = json.loads(self.path.read_text(encoding="utf-8"))
            count = restore(world, doc)
        except (OSError, ValueError, SettingError) as exc:
            reason = exc.message if isinstance(exc, SettingError) else str(exc)
            aside = self._aside()
            os.replace(self.path, aside)
            return (
                f"state file {self.path} could not be used ({reason}); "
                f"kept it as {aside} and started fresh"
            )
        return f"restored {count} tenant(s) from {self.path}"

    def _aside(self) -> Path:
        index = 0
        while True:
            candidate = self.path.with_name(
                f"{self.path.name}.corrupt" + (f".{index}" if index else "")
            )
            if not candidate.exists():
                return candidate
            index += 1

    def save(self, world: World) -> str:
        """Write, fsync and rename, so a crash leaves either the old file or the new one."""
        data = json.dumps(snapshot(world), separators=(",", ":")).encode("utf-8")
        tmp = self._tmp
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
