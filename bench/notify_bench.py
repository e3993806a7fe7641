"""Notifications: n ended calls with a notification URL, advanced at once, sent to a receiver.

Three processes, all on 127.0.0.1:
- the **receiver** (``--receiver``, pinned to the load core): a bare asyncio HTTP/1.1 server
  that answers every request ``200 OK`` on a kept-alive connection and counts them
  (``GET /count`` reads the count). It is a separate process, so its CPU and memory are not
  the server's.
- the **server** (``--server N``, pinned to the server core): the account's
  ``notification_url`` points at the receiver; ``N`` DIAL.CONNECT calls with DELAYs spread
  over a virtual day are placed in-process with ``Tenant.dial_connect`` (what the door does,
  minus HTTP and XML, which the HTTP benchmark prices), then ``mock-anveo``'s own app serves
  on a free port with a manual clock.
- this process: one ``POST .../clock/advance {"until_idle": true}`` over HTTP, timed. Every
  call ends and every CALL message is sent before the reply, so messages/s is the messages
  delivered divided by the advance's wall time (the engine's cost of ending the calls is
  inside it; ``advance_only_s`` prices that share from a run without a URL).

Peak memory is the server process's ``VmHWM`` (placing the calls included). Bounded: every
wait has a timeout and the child processes are stopped whatever happens.

Run: ``python -m bench notify [--n 100000]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .common import (
    DOCS_USERKEY,
    HOST,
    LOAD_CORE,
    PYTHON,
    ROOT,
    SERVER_CORE,
    counted,
    cpu_seconds,
    emit,
    per,
    pinned,
    rss_bytes,
    stop,
    wait_http,
)

DAY_MINUTES = 24 * 60
_OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nOK"


class Counting(asyncio.Protocol):
    """HTTP/1.1 requests with a Content-Length body (what aiohttp's client sends); each one
    answered 200 at once. Counts the requests; ``GET /count`` answers the count instead."""

    received = 0

    def __init__(self) -> None:
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end].decode("latin-1")
            length = 0
            for line in head.split("\r\n")[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip() or 0)
            if len(self.buffer) < end + 4 + length:
                return
            self.buffer = self.buffer[end + 4 + length :]
            assert self.transport is not None
            if head.startswith("GET /count "):
                text = str(Counting.received).encode()
                self.transport.write(
                    b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(text), text)
                )
            else:
                Counting.received += 1
                self.transport.write(_OK)


async def _receive(url_file: Path) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Counting, HOST, 0)
    port = server.sockets[0].getsockname()[1]
    url_file.write_text(f"http://{HOST}:{port}", encoding="utf-8")
    stopping = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    async with server:
        await stopping.wait()


async def _serve(n: int, notify_url: str, url_file: Path, seed: int, burst: bool) -> None:
    import random
    from decimal import Decimal

    from mock_anveo.http import gctune, server
    from mock_anveo.sim.accounts import default_account
    from mock_anveo.sim.world import Settings, World

    gctune.install()  # the collector policy `mock-anveo serve` runs under
    account = default_account()
    account.balance = Decimal(10**8)  # never runs dry: every call ends answered and billed
    account.notification_url = notify_url or None
    world = World(Settings(accounts=[account], seed=seed), monotonic=time.monotonic)
    tenant = world.tenants[account.userkey]
    callerid = next(iter(account.verified_callerids))
    rng = random.Random(seed)
    for _ in range(n):
        delay = 0 if burst else rng.randrange(DAY_MINUTES)
        tenant.dial_connect("1215215215", "1212121212", callerid=callerid, delay=delay)
    running = await server.start(world)
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    url_file.write_text(running.url, encoding="utf-8")
    await stopping.wait()
    await running.stop()


@contextlib.contextmanager
def _process(args: list[str], core: int, timeout: float) -> Iterator[tuple[int, str]]:
    """``python -m bench notify ARGS --url-file F`` pinned to ``core``: (pid, its URL)."""
    with tempfile.TemporaryDirectory(prefix="bench-notify-") as tmp:
        url_file, log = Path(tmp) / "url", Path(tmp) / "stderr"
        cmd = [PYTHON, "-m", "bench", "notify", *args, "--url-file", str(url_file)]
        with log.open("wb") as err:
            process = subprocess.Popen(
                pinned(cmd, core), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=err
            )
        try:
            deadline = time.monotonic() + timeout
            while not (url_file.exists() and url_file.read_text(encoding="utf-8")):
                if process.poll() is not None or time.monotonic() > deadline:
                    tail = log.read_text(encoding="utf-8", errors="replace")[-2000:]
                    raise RuntimeError(f"{args[0]} did not start within {timeout} s:\n{tail}")
                time.sleep(0.02)
            yield process.pid, url_file.read_text(encoding="utf-8")
        finally:
            stop(process)


def _post(url: str, doc: dict[str, Any], timeout: float) -> dict[str, Any]:
    request = urllib.request.Request(
        url,
        data=json.dumps(doc).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=timeout) as reply:  # loopback only
        result: dict[str, Any] = json.loads(reply.read())
        return result


def _get_text(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as reply:  # loopback only
        return str(reply.read().decode())


def measure(
    receiver: str,
    n: int,
    *,
    with_url: bool = True,
    burst: bool = False,
    seed: int = 1,
    timeout: float = 600.0,
) -> dict[str, Any]:
    """One run against ``receiver``: n calls, one advance until idle; what arrived, how fast,
    peak memory. ``burst``: every call without DELAY, so all of them end at the same moments."""
    target = f"{receiver}/cdr" if with_url else ""
    args = ["--server", str(n), "--notify-url", target, "--seed", str(seed)]
    args += ["--burst"] if burst else []
    with _process(args, SERVER_CORE, 60 + n / 1000) as (pid, url):
        wait_http(url + "/_mock/health", 30)
        before_rss, before_cpu = rss_bytes(pid, "VmHWM"), cpu_seconds(pid)
        before_count = int(_get_text(f"{receiver}/count"))
        began = time.perf_counter()
        reply = _post(
            f"{url}/_mock/tenants/{DOCS_USERKEY}/clock/advance",
            {"until_idle": True, "max_seconds": 2 * 86400},
            timeout,
        )
        wall = time.perf_counter() - began
        cpu = cpu_seconds(pid) - before_cpu
        peak = rss_bytes(pid, "VmHWM")
        received = int(_get_text(f"{receiver}/count")) - before_count
    delivered = counted(reply, "deliveries")
    return {
        "n": n,
        "with_url": with_url,
        "burst": burst,
        "advance_s": wall,
        "server_cpu_s": cpu,
        "events_fired": counted(reply, "events_fired"),
        "deliveries": delivered,
        "received": received,
        "msgs_per_s": per(delivered, wall),
        "us_per_msg_cpu": per(cpu, delivered, 1e6),
        "rss_before_advance": before_rss,
        "peak_rss": peak,
        "receiver": "separate process",
    }


def run(n: int, timeout: float = 900.0) -> dict[str, Any]:
    """Calls ending across a day (one attempt in flight: each moment's attempts complete
    before the next moment's start), the same without a URL (the engine's share), and a
    burst (all calls end together: up to the concurrency bound in flight); one receiver."""
    with _process(["--receiver"], LOAD_CORE, 30) as (_, receiver):
        result = measure(receiver, n, timeout=timeout)
        bare = measure(receiver, n, with_url=False, timeout=timeout)
        result["burst"] = measure(receiver, n, burst=True, timeout=timeout)
    result["advance_only_s"] = bare["advance_s"]
    result["advance_only_peak_rss"] = bare["peak_rss"]
    sending = result["advance_s"] - bare["advance_s"]
    result["send_msgs_per_s"] = result["deliveries"] / sending if sending > 0 else 0.0
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench notify", description=__doc__)
    parser.add_argument("--n", type=int, default=100_000, help="ended calls (default 100000)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--receiver", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--server", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--notify-url", default="", help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--burst", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--url-file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.receiver:
        asyncio.run(_receive(args.url_file))
        return 0
    if args.server is not None:
        asyncio.run(_serve(args.server, args.notify_url, args.url_file, args.seed, args.burst))
        return 0
    n = min(max(args.n, 1), 1_000_000)  # bounded whatever is asked
    result = run(n)
    burst = result["burst"]
    if args.json:
        emit(result)
    else:
        print(
            f"{result['n']:,} ended calls over a day -> {result['deliveries']:,} CALL messages "
            f"delivered ({result['received']:,} received) in {result['advance_s']:.2f} s: "
            f"{result['msgs_per_s']:,.0f} msgs/s (advance alone {result['advance_only_s']:.2f} s; "
            f"sending alone {result['send_msgs_per_s']:,.0f} msgs/s); server CPU "
            f"{result['us_per_msg_cpu']:.0f} us/msg; server peak (VmHWM) "
            f"{result['peak_rss'] / 2**20:.0f} MB\n"
            f"{burst['n']:,} calls ending together -> {burst['deliveries']:,} delivered "
            f"({burst['received']:,} received) in {burst['advance_s']:.2f} s: "
            f"{burst['msgs_per_s']:,.0f} msgs/s; server CPU {burst['us_per_msg_cpu']:.0f} us/msg; "
            f"peak {burst['peak_rss'] / 2**20:.0f} MB\nreceiver: {result['receiver']}"
        )
    counts = [(r["deliveries"], r["received"]) for r in (result, burst)]
    return 0 if all(d == r == n for d, r in counts) else 1


def _row(label: str, r: dict[str, Any]) -> list[str]:
    return [
        label,
        f"{r['n']:,}",
        f"{r['deliveries']:,} / {r['received']:,}",
        f"{r['advance_s']:.2f}",
        f"{r['msgs_per_s']:,.0f}",
        f"{r['us_per_msg_cpu']:,.0f}",
        f"{r['peak_rss'] / 2**20:,.0f} MB",
    ]


def section(result: dict[str, Any]) -> str:
    """The Markdown of ``python -m bench run``'s notifications section."""
    from .report import table

    burst = result["burst"]
    rows = [_row("ending across a virtual day", result), _row("all ending together", burst)]
    return "\n".join(
        [
            f"{result['n']:,} DIAL.CONNECT calls on a tenant whose `notification_url` is a "
            "loopback receiver in a **separate process** (a bare asyncio server answering 200), "
            'then one `POST .../clock/advance {"until_idle": true}`: when it answers, every '
            "call has ended and every CALL message has been delivered. Messages/s is messages "
            "delivered over the advance's wall time; CPU is the server's per message; peak is "
            "the server process's VmHWM (placing the calls included). Calls ending at distinct "
            "moments are sent one moment after another (each moment's attempts complete before "
            "the next moment's start, so the receiver sees them in virtual-time order); calls "
            "ending together go out up to 32 at once. The same calls with no URL advance in "
            f"{result['advance_only_s']:.2f} s (the engine's share), so sending alone runs at "
            f"{result['send_msgs_per_s']:,.0f} msgs/s.",
            "",
            table(
                [
                    "calls",
                    "n",
                    "delivered / received",
                    "advance s",
                    "msgs/s",
                    "server CPU us/msg",
                    "server peak",
                ],
                rows,
            ),
        ]
    )


def summary_rows(result: dict[str, Any] | None) -> list[list[str]]:
    """The summary table's rows for the notifications (issue 12 asks for figures, no target)."""
    if not result:
        return []
    burst = result["burst"]
    return [
        [
            f"(no target) notifications: {result['n']:,} ended calls, one advance",
            f"{result['msgs_per_s']:,.0f} msgs/s across a day, {burst['msgs_per_s']:,.0f} "
            f"together; server peak {result['peak_rss'] / 2**20:,.0f} MB",
            "all delivered"
            if all(r["deliveries"] == r["received"] == r["n"] for r in (result, burst))
            else "some lost",
        ]
    ]
