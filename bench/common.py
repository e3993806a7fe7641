"""Shared helpers of the benchmarks: pinned server processes, readiness, RSS, percentiles.

Everything here is loopback-only (127.0.0.1) and bounded in time: a server that does not
become ready within its timeout is killed and reported, never waited on forever.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"
BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
PYTHON = sys.executable
#: Anveo's documented DIAL.CONNECT example, byte for byte (a copy, so fixture renames in
#: mock_anveo/ never break the benchmark).
FIXTURE = BENCH_DIR / "dial_connect_docs_example.xml"
DOCS_USERKEY = "df141891e2e883904b0b294dc5bq79c1c1c13f6d"
#: Core the server runs on, and the core the load generator runs on (2-core machines).
SERVER_CORE = 0
LOAD_CORE = 1


def cpu_count() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def can_pin() -> bool:
    """Whether ``taskset`` exists and there are two cores to split between server and load."""
    return shutil.which("taskset") is not None and cpu_count() >= 2


def pinned(cmd: Sequence[str], core: int) -> list[str]:
    """``cmd`` prefixed with ``taskset -c core`` when pinning is possible."""
    if can_pin():
        return ["taskset", "-c", str(core), *cmd]
    return list(cmd)


def status_body(requestid: str) -> bytes:
    """A v3 DIAL.GETSTATUS document for the documentation's USERKEY."""
    return (
        '<?xml version="1.0" standalone="no" ?>\n<REQUEST>\n<USERTOKEN>\n'
        f"<USERKEY>{DOCS_USERKEY}</USERKEY>\n</USERTOKEN>\n"
        '<ACTION NAME="DIAL.GETSTATUS">\n'
        f'<PARAMETER NAME="REQUESTID">{requestid}</PARAMETER>\n'
        "</ACTION>\n</REQUEST>\n"
    ).encode()


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of an already sorted sequence (0.0 when empty)."""
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, max(0, round(fraction * len(sorted_values)) - 1))
    return sorted_values[index]


def per(amount: float, count: float, scale: float = 1.0) -> float:
    """``amount / count * scale``: a rate or a cost per item, 0.0 for a run that counted
    nothing (so a failed run reports zeros instead of raising ZeroDivisionError)."""
    return amount / count * scale if count else 0.0


def counted(reply: Mapping[str, Any], key: str) -> int:
    """The count ``key`` of a load generator's or server's reply (0 when it is missing)."""
    return int(reply.get(key, 0))


def rss_bytes(pid: int, field: str = "VmRSS") -> int:
    """Resident set size of ``pid`` from /proc (0 when unavailable); ``field="VmHWM"``: its
    peak so far."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds used so far by ``pid`` (0 when unavailable)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        ticks = os.sysconf("SC_CLK_TCK")
        return (int(fields[11]) + int(fields[12])) / ticks
    except (OSError, IndexError, ValueError):
        return 0.0


@dataclass
class Server:
    """A server process listening on loopback."""

    name: str
    process: subprocess.Popen[bytes]
    url: str
    started_in: float

    @property
    def pid(self) -> int:
        return self.process.pid


def _wait_url(url_file: Path, process: subprocess.Popen[bytes], timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early with code {process.returncode}")
        with contextlib.suppress(OSError):
            text = url_file.read_text(encoding="utf-8").strip()
            if text:
                return text
        time.sleep(0.01)
    raise RuntimeError(f"server did not write {url_file} within {timeout} s")


def wait_http(url: str, timeout: float = 10.0) -> None:
    """Poll ``url`` until it answers 200, or raise after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=1.0) as reply:  # loopback only
                if reply.status == 200:
                    return
        except OSError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.01)


@contextlib.contextmanager
def run_server(
    kind: str, extra: Sequence[str] = (), *, core: int = SERVER_CORE, timeout: float = 15.0
) -> Iterator[Server]:
    """Start ``kind`` ("floor" or "mock-anveo") on a free loopback port, pinned; stop it after."""
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        url_file = Path(tmp) / "url"
        if kind == "floor":
            cmd = [PYTHON, "-m", "bench", "floor", "--url-file", str(url_file), *extra]
        else:
            cmd = [
                PYTHON,
                "-m",
                "mock_anveo",
                "serve",
                "--host",
                HOST,
                "--port",
                "0",
                "--url-file",
                str(url_file),
                "--quiet",  # the console log is for people; benchmarks measure the server
                *extra,
            ]
            if "--clock" not in extra:
                cmd += ["--clock", "manual"]
        log = Path(tmp) / "stderr"
        began = time.perf_counter()
        with log.open("wb") as err:
            process = subprocess.Popen(
                pinned(cmd, core), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=err
            )
        try:
            try:
                url = _wait_url(url_file, process, timeout)
                wait_http(url + ("/_mock/health" if kind != "floor" else "/"), timeout)
            except (OSError, RuntimeError) as exc:
                tail = log.read_text(encoding="utf-8", errors="replace")[-2000:]
                raise RuntimeError(f"{kind} server failed to start: {exc}\n{tail}") from exc
            yield Server(kind, process, url, time.perf_counter() - began)
        finally:
            stop(process)


def stop(process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """SIGTERM, then SIGKILL after ``timeout`` seconds (only this one process)."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout)


def run_json(
    cmd: Sequence[str],
    timeout: float,
    marker: str = "BENCHJSON ",
    env: dict[str, str] | None = None,
) -> dict[str, object]:
    """Run ``cmd`` (bounded by ``timeout``) and parse the JSON line that follows ``marker``."""
    done = subprocess.run(
        cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False, env=env
    )
    for line in reversed(done.stdout.splitlines()):
        if line.startswith(marker):
            result: dict[str, object] = json.loads(line[len(marker) :])
            return result
    raise RuntimeError(
        f"{cmd[0]} produced no result (exit {done.returncode}):\n"
        f"{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    )


def emit(result: object) -> None:
    """Print a result line for ``run_json`` in the parent."""
    print("BENCHJSON " + json.dumps(result), flush=True)
