"""The clock and the scheduler: pure, deterministic building blocks of the engine."""

from __future__ import annotations

import heapq

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mock_anveo.sim.clock import DEFAULT_EPOCH, Clock, ClockError, iso, parse_iso, tick
from mock_anveo.sim.scheduler import Scheduler


class FakeReal:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_manual_clock_moves_only_when_told():
    clock = Clock()
    assert clock.now() == DEFAULT_EPOCH
    assert clock.advance(60) == DEFAULT_EPOCH + 60
    assert clock.now() == DEFAULT_EPOCH + 60


@pytest.mark.parametrize("bad", [-1.0, float("nan")])
def test_clock_refuses_to_go_back(bad):
    clock = Clock()
    with pytest.raises(ClockError):
        clock.advance(bad)
    with pytest.raises(ClockError):
        clock.advance_to(DEFAULT_EPOCH - 1)
    assert clock.now() == DEFAULT_EPOCH


def test_running_clock_follows_injected_real_time_scaled():
    real = FakeReal()
    clock = Clock(rate=60.0, real=real)
    real.t += 2.0
    assert clock.now() == DEFAULT_EPOCH + 120.0
    clock.set_rate(0.0)
    real.t += 100.0
    assert clock.now() == DEFAULT_EPOCH + 120.0  # frozen: no jump when the rate changes
    clock.advance(30)
    assert clock.now() == DEFAULT_EPOCH + 150.0


def test_running_clock_needs_a_real_source():
    with pytest.raises(ClockError):
        Clock(rate=1.0)


def test_iso_round_trip():
    assert iso(DEFAULT_EPOCH) == "2026-01-01T00:00:00.000Z"
    assert parse_iso("2026-01-01T00:00:00Z") == DEFAULT_EPOCH
    assert parse_iso("2026-01-01T01:00:00+01:00") == DEFAULT_EPOCH
    assert parse_iso("2026-01-01T00:00:00") == DEFAULT_EPOCH


def test_scheduler_runs_in_time_then_insertion_order_and_cascades():
    fired: list[tuple[str, float]] = []
    scheduler: Scheduler[str] = Scheduler(lambda item, when, seq: fired.append((item, when)))
    scheduler.call_at(5.0, "b")
    scheduler.call_at(1.0, "a")
    scheduler.call_at(5.0, "c")  # same time as b: after b
    assert scheduler.run_until(5.0) == 3
    assert fired == [("a", 1.0), ("b", 5.0), ("c", 5.0)]

    cascade: list[float] = []

    def handler(item: int, when: float, seq: int) -> None:
        cascade.append(when)
        if item > 0:
            chained.call_at(when + 1.0, item - 1)

    chained: Scheduler[int] = Scheduler(handler)
    chained.call_at(0.0, 3)
    assert chained.run_until(10.0) == 4
    assert cascade == [0.0, 1.0, 2.0, 3.0]
    assert chained.next_due() is None


def test_cancelled_entries_never_fire_and_are_not_counted():
    fired: list[str] = []
    scheduler: Scheduler[str] = Scheduler(lambda item, when, seq: fired.append(item))
    keep = scheduler.call_at(2.0, "keep")
    drop = scheduler.call_at(1.0, "drop")
    scheduler.cancel(drop, 1.0)
    assert len(scheduler) == 1
    assert scheduler.next_due() == 2.0
    scheduler.run_until(10.0)
    assert fired == ["keep"]
    scheduler.cancel(keep, 2.0)  # after firing: harmless
    assert len(scheduler) == 0


def test_run_until_limit_bounds_work():
    scheduler: Scheduler[int] = Scheduler(lambda item, when, seq: None)
    for i in range(10):
        scheduler.call_at(float(i), i)
    assert scheduler.run_until(100.0, limit=4) == 4
    assert len(scheduler) == 6


@given(st.lists(st.tuples(st.floats(0, 1e6), st.booleans()), max_size=200))
def test_scheduler_fires_exactly_the_live_entries_in_sorted_order(entries):
    fired: list[tuple[float, int]] = []
    scheduler: Scheduler[int] = Scheduler(lambda item, when, seq: fired.append((when, seq)))
    live = []
    for when, cancel in entries:
        seq = scheduler.call_at(when, 0)
        if cancel:
            scheduler.cancel(seq, when)
        else:
            live.append((when, seq))
    scheduler.run_until(1e6)
    assert fired == sorted(live)


def test_cancelled_entries_do_not_pile_up_in_memory():
    scheduler: Scheduler[int] = Scheduler(lambda item, when, seq: None)
    for i in range(10_000):
        scheduler.cancel(scheduler.call_at(1e9 + i, i), 1e9 + i)  # far future, cancelled at once
    assert len(scheduler) == 0
    assert len(scheduler._times) <= 2048
    keep = scheduler.call_at(5.0, 1)
    assert scheduler.next_due() == 5.0 and keep


# tick() rounds in integers for moments in [2**30, 2**31); it must be round(moment, 6) exactly.
@given(st.integers(2**52, 2**53 - 1))
def test_tick_is_round_to_six_places_for_every_float_of_the_fast_range(mantissa):
    moment = mantissa / 2**22  # exactly representable: every float in [2**30, 2**31)
    assert tick(moment) == round(moment, 6)


@given(st.integers(0, 2**36 - 1))
def test_tick_rounds_exact_half_microsecond_ties_to_even_like_round(quarter):
    # M * 15625 / 2**16 has fraction exactly .5 when M = 32768 (mod 65536): a tie
    moment = (2**52 + quarter * 65536 + 32768) / 2**22
    assert tick(moment) == round(moment, 6)


@given(
    st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from([0.0, -0.0, 2.0**30, 2.0**31, DEFAULT_EPOCH + 0.0000005, float("inf"), 1e300])
)
def test_tick_matches_round_everywhere(moment):
    assert tick(moment) == round(moment, 6)


def _reference_order(plan):
    """The firing order of a plain (when, seq) heap, for comparison with the buckets."""
    heap = [(when, seq) for seq, when in enumerate(plan, 1)]
    heapq.heapify(heap)
    return [heapq.heappop(heap) for _ in range(len(heap))]


@given(st.lists(st.sampled_from([1.0, 2.0, 3.0, 5.0]), max_size=60), st.integers(1, 7))
def test_buckets_fire_like_one_heap_also_when_limited(plan, limit):
    fired: list[tuple[float, int]] = []
    scheduler: Scheduler[int] = Scheduler(lambda item, when, seq: fired.append((when, seq)))
    for when in plan:
        scheduler.call_at(when, 0)
    while scheduler.run_until(10.0, limit=limit):
        pass
    assert fired == _reference_order(plan)
    assert len(scheduler) == 0 and scheduler.next_due() is None


def test_a_handler_scheduling_in_the_past_runs_that_first_and_same_moment_after():
    fired: list[tuple[str, float]] = []

    def handler(item: str, when: float, seq: int) -> None:
        fired.append((item, when))
        if item == "a":
            scheduler.call_at(1.0, "past")  # before the rest of the 5.0 bucket
            scheduler.call_at(5.0, "same")  # after b, in the bucket being run

    scheduler: Scheduler[str] = Scheduler(handler)
    scheduler.call_at(5.0, "a")
    scheduler.call_at(5.0, "b")
    assert scheduler.run_until(5.0) == 4
    assert fired == [("a", 5.0), ("past", 1.0), ("b", 5.0), ("same", 5.0)]


def test_cancel_and_next_due_from_a_handler():
    fired: list[str] = []
    seqs: dict[str, int] = {}

    def handler(item: str, when: float, seq: int) -> None:
        fired.append(item)
        if item == "a":
            scheduler.cancel(seqs["b"], 5.0)  # same bucket, not yet run
            scheduler.cancel(seqs["a"], 5.0)  # itself, already running: harmless
            assert scheduler.next_due() == 7.0

    scheduler: Scheduler[str] = Scheduler(handler)
    for name, when in (("a", 5.0), ("b", 5.0), ("c", 7.0)):
        seqs[name] = scheduler.call_at(when, name)
    assert scheduler.run_until(5.0) == 1
    assert fired == ["a"] and len(scheduler) == 1 and scheduler.next_due() == 7.0


def test_a_raising_handler_consumes_its_entry_and_keeps_the_rest():
    fired: list[str] = []

    def handler(item: str, when: float, seq: int) -> None:
        fired.append(item)
        if item == "boom":
            raise RuntimeError(item)

    scheduler: Scheduler[str] = Scheduler(handler)
    for item in ("a", "boom", "c"):
        scheduler.call_at(5.0, item)
    with pytest.raises(RuntimeError):
        scheduler.run_until(5.0)
    assert len(scheduler) == 1 and scheduler.fired == 1  # "a" completed
    assert scheduler.run_until(5.0) == 1
    assert fired == ["a", "boom", "c"]


def test_cancel_twice_or_at_another_moment_is_harmless():
    fired: list[str] = []
    scheduler: Scheduler[str] = Scheduler(lambda item, when, seq: fired.append(item))
    a = scheduler.call_at(5.0, "a")
    b = scheduler.call_at(5.0, "b")
    scheduler.cancel(a, 6.0)  # not scheduled then: nothing happens
    scheduler.cancel(0, 5.0)  # 0 is "no entry" (a call with nothing pending)
    assert len(scheduler) == 2
    scheduler.cancel(a, 5.0)
    scheduler.cancel(a, 5.0)
    assert len(scheduler) == 1
    assert scheduler.run_until(5.0) == 1 and fired == ["b"]
    scheduler.cancel(b, 5.0)
    assert len(scheduler) == 0 and scheduler.next_due() is None


def test_a_handler_cancelling_entries_fired_before_it_in_its_bucket_changes_nothing():
    fired: list[str] = []
    seqs: dict[str, int] = {}

    def handler(item: str, when: float, seq: int) -> None:
        fired.append(item)
        if item == "c":
            for name in ("a", "b", "c"):  # fired or firing: harmless
                scheduler.cancel(seqs[name], 5.0)
            scheduler.cancel(seqs["e"], 5.0)  # not yet run: dropped
            assert len(scheduler) == 1  # only "d" is left

    scheduler: Scheduler[str] = Scheduler(handler)
    for name in "abcde":
        seqs[name] = scheduler.call_at(5.0, name)
    assert scheduler.run_until(5.0) == 4
    assert fired == ["a", "b", "c", "d"] and len(scheduler) == 0


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["add", "cancel", "run"]),
            st.sampled_from([1.0, 2.0, 3.0]),
            st.integers(0, 30),
        ),
        max_size=80,
    )
)
def test_scheduler_matches_a_reference_model(ops):
    fired: list[int] = []
    model: dict[int, float] = {}  # live seq -> moment
    added: list[tuple[int, float]] = []
    now = 0.0

    def handler(item: int, when: float, seq: int) -> None:
        fired.append(seq)
        assert model.pop(seq) == when <= now  # live, and due
        if item % 3 == 0 and added:  # cancel something (maybe fired) from a handler
            victim, at = added[item % len(added)]
            scheduler.cancel(victim, at)
            model.pop(victim, None)

    scheduler: Scheduler[int] = Scheduler(handler)
    for op, when, number in ops:
        if op == "add":
            seq = scheduler.call_at(now + when, number)
            model[seq] = now + when
            added.append((seq, now + when))
        elif op == "cancel" and added:
            victim, at = added[number % len(added)]
            scheduler.cancel(victim, at)
            model.pop(victim, None)
        elif op == "run":
            now += when
            before = len(fired)
            count = scheduler.run_until(now, limit=number or None)
            assert count == len(fired) - before
            if not number:  # no limit: everything due has fired
                assert all(at > now for at in model.values())
        assert len(scheduler) == len(model)
        due = scheduler.next_due()
        assert due == (min(model.values()) if model else None)
