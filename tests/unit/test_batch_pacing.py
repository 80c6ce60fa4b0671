"""The ApplyRoutes Map's lanes together: EC2's bucket never refuses a call, and the mesh
converges close to the floor max(0, N - 50) / 5, also when its changes sit mostly in one table.

A discrete-event model of the Map on a fake clock: every lane at once, each applying its batches
one after the other (after a Lambda's start-up gap), each batch paced by the workflow's own
``batch_pacer``; every call is then replayed against a model of EC2's bucket (50, refilled at
5 per second, full at the start, docs/aws-facts.md, "Quotas and throttling").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from outpost_mesh.pacing import MUTATING_BUCKET, MUTATING_REFILL_PER_SECOND, RESERVE_TOKENS
from outpost_mesh.settings import Settings
from outpost_mesh.workflow.batching import BATCH_CHANGES, batch_pacer, plan_lanes

WORK = 0.02  # seconds one call (and its ledger writes) takes after its token
GAP = 0.1  # seconds between a batch's end and the next batch's first instruction
# The spread of delays a call may reach EC2 with, after it was paced: a literal, not derived from
# RESERVE_TOKENS (a jitter of reserve / rate would shrink to nothing with the reserve, and the
# property below would no longer see what the reserve is for). 0.4 s is 2 tokens at 5/s.
JITTER = 0.4


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.now += seconds


@dataclass
class Run:
    calls: list[float]
    end: float


Lanes = list[list[dict[str, Any]]]


def simulate(
    lanes: Lanes,
    *,
    retried: frozenset[int] = frozenset(),
    delays: tuple[float, ...] = (0.0,),
    work: float = WORK,
) -> Run:
    """Times the lanes' calls reach EC2; batch number k (counted over the lanes in order) in
    ``retried`` fails after its first call and its retry redoes the rest (as Step Functions'
    Retry would); call k reaches EC2 ``delays[k % len(delays)]`` seconds after it was paced."""
    config = Settings(table="t")
    calls: list[float] = []
    end = 0.0
    number = 0
    for lane in lanes:
        t = 0.0
        for batch in lane:
            size = len(batch["creates"]) + len(batch["deletes"])
            attempts = [1, size - 1] if number in retried and size > 1 else [size]
            number += 1
            for retry, count in enumerate(attempts):
                clock = Clock(t)
                pacer = batch_pacer(config, batch["share"], batch["tokens"], retry=retry)
                pacer.clock, pacer.sleep = clock, clock.sleep
                pacer._last = clock.now  # the bucket starts when the batch does
                for _ in range(count):
                    pacer.take()
                    calls.append(clock.now + delays[len(calls) % len(delays)])
                    clock.now += work
                t = clock.now + GAP
        end = max(end, t)
    return Run(sorted(calls), end)


def refused(calls: list[float]) -> int:
    """Calls EC2's mutating bucket would answer with RequestLimitExceeded."""
    tokens, last, refusals = float(MUTATING_BUCKET), 0.0, 0
    for t in calls:
        tokens = min(MUTATING_BUCKET, tokens + (t - last) * MUTATING_REFILL_PER_SECOND)
        last = t
        if tokens >= 1 - 1e-6:
            tokens -= 1
        else:
            refusals += 1
    return refusals


def floor(n: int) -> float:
    return max(0, n - MUTATING_BUCKET) / MUTATING_REFILL_PER_SECOND


def lanes_of(tables: list[int], concurrency: int, *, burst: bool = True) -> Lanes:
    """The lanes the Plan task makes of route tables with these many creations."""
    return plan_lanes(
        [
            {
                "vpc_id": "vpc-1",
                "route_table_id": f"rtb-{t:03d}",
                "creates": [
                    {
                        "route_table_id": f"rtb-{t:03d}",
                        "destination": f"10.{i // 250}.{i % 250}.0/24",
                        "local_gateway_id": "lgw-1",
                    }
                    for i in range(n)
                ],
                "deletes": [],
            }
            for t, n in enumerate(tables)
        ],
        lanes=concurrency,
        burst=burst,
    )


@pytest.mark.parametrize(
    ("tables", "concurrency"),
    [
        ([15] * 20, 4),  # 4 racks x 5 subnets, a table each: 300 routes
        ([30] * 40, 4),  # 4 x 10, a table each: 1,200 routes
        ([30] * 4, 4),  # 4 x 10, a table per rack
        ([450], 4),  # one big table
        ([90] * 10, 4),  # 10 x 10, a table per rack
        ([400, 20, 20, 20, 10], 4),  # uneven tables
        ([450, 10, 10, 10], 4),  # changes mostly in one table
        ([900] + [5] * 30, 4),
        ([120] + [1] * 4, 4),  # one table at 1.2x the default quota, and four small ones
        ([600, 300, 3, 3], 10),
        ([60] * 40, 10),
        ([30] * 40, 1),
    ],
)
def test_lanes_converge_within_a_tenth_of_the_floor_and_nothing_is_refused(
    tables: list[int], concurrency: int
) -> None:
    lanes = lanes_of(tables, concurrency)
    assert max(len(b["creates"]) for lane in lanes for b in lane) <= BATCH_CHANGES
    run = simulate(lanes)
    assert refused(run.calls) == 0
    assert len(run.calls) == sum(tables)
    assert run.calls[-1] <= 1.1 * floor(sum(tables)) + 1.0


def test_a_lane_with_most_of_the_changes_gets_most_of_the_rate() -> None:
    """Equal shares would leave the big table's lane at a quarter of EC2's rate once the small
    ones are done: 440 changes at 1.25/s, over 6 minutes for a floor of 86 s."""
    run = simulate(lanes_of([450, 10, 10, 10], 4))
    assert run.calls[-1] <= 1.02 * floor(480) + 1.0


def test_the_first_calls_spend_the_burst_at_once() -> None:
    run = simulate(lanes_of([15] * 20, 4))
    # 4 lanes x 12 tokens (EC2's 50 less the reserve of 2): 48 calls before any refill.
    assert sum(1 for t in run.calls if t < 4 * WORK * 13) >= 48


def test_without_the_burst_no_batch_starts_with_tokens() -> None:
    """A later pass of the execution: EC2's bucket may still be low from its own calls."""
    run = simulate(lanes_of([15] * 20, 4, burst=False))
    assert run.calls[0] >= 1 / (MUTATING_REFILL_PER_SECOND / 4) - 1e-9
    assert run.calls[-1] >= 300 / MUTATING_REFILL_PER_SECOND - 1


def test_a_retried_batch_does_not_spend_the_burst_again() -> None:
    """A retry follows a throttle or a crash: it starts with an empty share."""
    config = Settings(table="t")
    assert batch_pacer(config, 0.25, 12, retry=0)._tokens == pytest.approx(12)
    assert batch_pacer(config, 0.25, 12, retry=1)._tokens == 0
    run = simulate(lanes_of([15] * 20, 4), retried=frozenset({0, 5, 10, 15}))
    assert refused(run.calls) == 0


def test_a_lane_paces_at_its_share_of_the_rate_and_the_bucket() -> None:
    one = batch_pacer(Settings(table="t"), 1.0, MUTATING_BUCKET)
    usable = MUTATING_BUCKET - RESERVE_TOKENS
    assert (one.rate, one.burst, one._tokens) == (MUTATING_REFILL_PER_SECOND, usable, usable)
    half = batch_pacer(Settings(table="t"), 0.5, 0)
    assert (half.rate, half.burst) == (MUTATING_REFILL_PER_SECOND / 2, usable / 2)
    run = simulate(lanes_of([120], 4))
    assert refused(run.calls) == 0
    assert run.calls[-1] <= 1.01 * floor(120) + 1.0


@settings(max_examples=150, deadline=None)
# Two lanes spend EC2's burst at once, then every other call is as late as the jitter allows:
# without the reserve EC2 refuses one of them.
@example(tables=[28, 28], concurrency=2, burst=True, retried=frozenset(), delays=(JITTER, 0.0))
@given(
    tables=st.lists(st.integers(1, 2 * BATCH_CHANGES), min_size=1, max_size=30),
    concurrency=st.integers(1, 40),
    burst=st.booleans(),
    retried=st.frozensets(st.integers(0, 29), max_size=5),
    # The bounds often: a call as late as the jitter allows next to one not late at all.
    delays=st.lists(
        st.one_of(st.sampled_from((0.0, JITTER)), st.floats(0, JITTER)), min_size=1, max_size=7
    ).map(tuple),
)
def test_whatever_the_lanes_ec2_refuses_no_call(
    tables: list[int],
    concurrency: int,
    burst: bool,
    retried: frozenset[int],
    delays: tuple[float, ...],
) -> None:
    """Even when calls reach EC2 with uneven delays (up to what the reserve absorbs)."""
    run = simulate(lanes_of(tables, concurrency, burst=burst), retried=retried, delays=delays)
    assert refused(run.calls) == 0
    assert len(run.calls) == sum(tables)
