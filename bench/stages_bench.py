"""Cost of each stage of the request pipeline, in-process (no HTTP), in microseconds.

Splits one DIAL.CONNECT and one DIAL.GETSTATUS into the stages ``pipeline.handle`` runs:
the fast reader (``wire/plain.py``) and the contract's rules, or lxml parse, request.xsd
validation and parameter validation (actions.xsd); the simulation call, rendering, and the
journal append. Set beside the floor's per-request cost (1 / floor rps), it
says how much of the HTTP budget each stage eats. Stages whose API has changed are reported as
missing rather than failing the run.

Run: ``python -m bench stages``.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

from .common import FIXTURE, status_body


def _time(fn: Callable[[], object], budget: float) -> float:
    """Microseconds per call: best of three runs of about ``budget`` / 3 seconds each."""
    fn()
    loops = 1
    while True:  # calibrate
        began = time.perf_counter()
        for _ in range(loops):
            fn()
        spent = time.perf_counter() - began
        if spent > budget / 30 or loops >= 1 << 20:
            break
        loops *= 4
    per_run = max(1, int(loops * (budget / 3) / max(spent, 1e-9)))
    best = float("inf")
    for _ in range(3):
        began = time.perf_counter()
        for _ in range(per_run):
            fn()
        best = min(best, (time.perf_counter() - began) / per_run)
    return best * 1e6


def measure(budget: float = 0.3) -> list[dict[str, Any]]:
    """Rows of (action, stage, µs); ``budget`` seconds per stage."""
    from mock_anveo.sim.world import World
    from mock_anveo.wire import actions, pipeline, plain, xmlparse, xsd
    from mock_anveo.wire.render import render

    world = World()
    connect = FIXTURE.read_bytes()
    pipe = pipeline.Pipeline(world)
    first = pipe.handle("v3", connect)
    found = first.body.split(b'NAME="REQUESTID">', 1)[1].split(b"<", 1)[0].decode()
    status = status_body(found)
    rows: list[dict[str, Any]] = []

    def add(action: str, stage: str, fn: Callable[[], object]) -> None:
        try:
            value: float | None = _time(fn, budget)
        except Exception as exc:  # an API change must not stop the benchmark
            value = None
            stage = f"{stage} (unavailable: {type(exc).__name__})"
        rows.append({"action": action, "stage": stage, "us": value})

    from lxml import etree

    for action, body in (("DIAL.CONNECT", connect), ("DIAL.GETSTATUS", status)):
        parser = xmlparse.parser()
        root = etree.fromstring(body, parser)
        request = xmlparse.parse_xml(body)
        spec, params = actions.validate(request)
        tenant = world.get(request.userkey)
        assert tenant is not None
        reply = spec.handler(tenant, params, request.variables)
        exchange = pipe.receive("v3", body)
        pipeline.execute(exchange)
        add(
            action, "lxml parse (etree.fromstring)", lambda b=body, p=parser: etree.fromstring(b, p)
        )
        add(action, "request.xsd validate", lambda r=root: xsd.REQUEST_SCHEMA.validate(r))
        add(
            action,
            "codec.parse_xml (parse + checks + validate + extract)",
            lambda b=body: xmlparse.parse_xml(b),
        )
        add(action, "plain.parse (the fast reader)", lambda b=body: plain.parse(b))
        add(
            action,
            "actions.validate (the contract's rules, the fast path)",
            lambda r=request: actions.validate(r),
        )
        add(
            action,
            "actions.validate (build canonical + actions.xsd)",
            lambda r=request: actions.validate(r, fast=False),
        )
        add(
            action,
            "handler (simulation)",
            lambda s=spec, t=tenant, p=params, r=request: s.handler(t, p, r.variables),
        )
        add(action, "codec.render", lambda r=reply: render(r.result, r.values))
        add(
            action, "pipeline.record (journal append)", lambda e=exchange: pipeline.record(world, e)
        )
        add(
            action,
            "pipeline.handle (whole pipeline, the same body again: remembered)",
            lambda b=body: pipe.handle("v3", b),
        )

        def fresh(b: bytes = body) -> object:  # the memo never holds what it is asked
            pipe.forget()
            return pipe.handle("v3", b)

        add(action, "pipeline.handle (whole pipeline, memo emptied first: parsed)", fresh)
        full = pipeline.Pipeline(world, memo_limit=0, fast=False)
        add(
            action,
            "pipeline.handle (whole pipeline, no memo, full path: lxml and both schemas)",
            lambda b=body, f=full: f.handle("v3", b),
        )
    return rows


def main(argv: list[str] | None = None) -> None:
    argparse.ArgumentParser(prog="python -m bench stages", description=__doc__).parse_args(argv)
    for row in measure():
        shown = f"{row['us']:8.1f}" if row["us"] is not None else "     n/a"
        print(f"{row['action']:15} {shown} us  {row['stage']}")
