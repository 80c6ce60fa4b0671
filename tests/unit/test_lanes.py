"""Rule 9, one route table, one writer, in order: the Plan task's lanes of route batches.

The ApplyRoutes Map runs its lanes side by side and a lane's batches one after the other, so a
route table whose changes sit in one lane is never written by two batches at once, and its
deletions (which make room under the routes-per-table quota) come before its creations.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from outpost_mesh.model import Plan, RouteChange
from outpost_mesh.pacing import MUTATING_BUCKET, MUTATING_REFILL_PER_SECOND, RESERVE_TOKENS
from outpost_mesh.workflow.batching import (
    BATCH_CHANGES,
    BATCH_SECONDS,
    LANE_BALANCE,
    lane_shares,
    lanes_for,
    partition,
    plan_lanes,
    route_batches,
)

VPC = "vpc-0a1b2c3d4e5f60718"


def change(table: int, n: int, lgw: str = "lgw-0000000000000000a") -> RouteChange:
    return RouteChange(
        route_table_id=f"rtb-{table:017x}",
        destination=f"10.{n // 250}.{n % 250}.0/24",
        local_gateway_id=lgw,
    )


def a_plan(tables: list[tuple[int, int]]) -> Plan:
    """Table t gets deletes[t] deletions then creates[t] creations of the same destinations
    re-targeted (where they overlap) and new ones."""
    deletes = [change(t, n) for t, (d, _) in enumerate(tables) for n in range(d)]
    creates = [
        change(t, n, "lgw-0000000000000000b") for t, (_, c) in enumerate(tables) for n in range(c)
    ]
    return Plan(VPC, routes_to_create=tuple(creates), routes_to_delete=tuple(deletes))


# (deletions, creations) per table
plans = st.lists(st.tuples(st.integers(0, 160), st.integers(0, 160)), min_size=1, max_size=24)


def writes(lanes: list[list[dict[str, Any]]]) -> list[tuple[int, str, str, str]]:
    """Every change of the lanes as (lane, table, kind, destination), in the order applied."""
    return [
        (number, b["route_table_id"], kind, c["destination"])
        for number, lane in enumerate(lanes)
        for b in lane
        for kind in ("deletes", "creates")
        for c in b[kind]
    ]


@settings(max_examples=120, deadline=None)
@given(tables=plans, concurrency=st.integers(1, 40), burst=st.booleans())
def test_a_route_table_is_in_one_lane_deletions_first(
    tables: list[tuple[int, int]], concurrency: int, burst: bool
) -> None:
    plan = a_plan(tables)
    lanes = plan_lanes(route_batches(plan), lanes=concurrency, burst=burst)
    applied = writes(lanes)
    lanes_of: dict[str, set[int]] = {}
    kinds: dict[str, list[str]] = {}
    for lane, table, kind, _ in applied:
        lanes_of.setdefault(table, set()).add(lane)
        kinds.setdefault(table, []).append(kind)
    assert all(len(in_lanes) == 1 for in_lanes in lanes_of.values())  # one writer per table
    for order in kinds.values():
        assert order == sorted(order, key=lambda k: k != "deletes")  # deletions first
    # Every change once, nothing more; the Map runs every lane at once.
    wanted = [("deletes", c) for c in plan.routes_to_delete]
    wanted += [("creates", c) for c in plan.routes_to_create]
    assert Counter((t, k, d) for _, t, k, d in applied) == Counter(
        (c.route_table_id, k, c.destination) for k, c in wanted
    )
    assert len(lanes) <= concurrency
    assert all(lane for lane in lanes)
    assert all(b["deletes"] or b["creates"] for lane in lanes for b in lane)
    assert all(
        len(b["deletes"]) + len(b["creates"]) <= BATCH_CHANGES for lane in lanes for b in lane
    )


@settings(max_examples=120, deadline=None)
@given(
    tables=plans,
    concurrency=st.integers(1, 40),
    burst=st.booleans(),
    rate=st.sampled_from((1.0, MUTATING_REFILL_PER_SECOND, 100.0)),
)
def test_the_lanes_share_ec2s_bucket_and_no_batch_outlasts_its_lambda(
    tables: list[tuple[int, int]], concurrency: int, burst: bool, rate: float
) -> None:
    """Shares add up to at most the whole bucket, in proportion to each lane's changes, each
    at least a token of the bucket; starting tokens add up to the bucket less the reserve (none
    for a later pass); a batch paced at its share ends within BATCH_SECONDS."""
    lanes = plan_lanes(route_batches(a_plan(tables)), lanes=concurrency, rate=rate, burst=burst)
    shares = [lane[0]["share"] for lane in lanes]
    assert all({b["share"] for b in lane} == {lane[0]["share"]} for lane in lanes)
    assert sum(shares) <= 1
    work = [sum(len(b["deletes"]) + len(b["creates"]) for b in lane) for lane in lanes]
    for share, changes in zip(shares, work, strict=True):
        assert share == pytest.approx(changes / sum(work), abs=1e-6)
        assert share * (MUTATING_BUCKET - RESERVE_TOKENS) >= 1 or len(lanes) == 1
    assert not work or min(work) >= LANE_BALANCE * max(work)
    starts = sum(lane[0]["tokens"] for lane in lanes)
    assert starts <= (MUTATING_BUCKET - RESERVE_TOKENS if burst else 0) + 1e-6
    for lane in lanes:
        for b in lane:
            size = len(b["deletes"]) + len(b["creates"])
            assert max(0, size - b["tokens"]) / (rate * b["share"]) <= BATCH_SECONDS


def test_shares_follow_the_lanes_work_so_the_lanes_end_together() -> None:
    assert lane_shares([450, 10, 10, 10]) == [0.9375, 0.020833, 0.020833, 0.020833]
    assert lane_shares([1, 2]) == [0.333333, 0.666666]  # rounded down: never above the whole


def test_a_table_too_big_to_balance_takes_the_others_into_fewer_lanes() -> None:
    """One big table and small ones: lanes of one change would get 1/153 of EC2's bucket, a
    third of a token, and pace at a 150th of the big table's lane; the tables go in one lane
    at EC2's rate instead. Tables that balance keep a lane each, as many as the Map runs."""
    one_big = {"rtb-a": 150, "rtb-b": 1, "rtb-c": 1, "rtb-d": 1}
    assert lanes_for(one_big, 4, MUTATING_BUCKET) == [["rtb-a", "rtb-b", "rtb-c", "rtb-d"]]
    work = {"rtb-a": 120} | {f"rtb-b{i:02d}": 12 for i in range(12)}
    assert [sum(work[t] for t in lane) for lane in lanes_for(work, 4, MUTATING_BUCKET)] == [
        132,
        132,
    ]
    even = {f"rtb-{i:02d}": 30 for i in range(40)}
    assert len(lanes_for(even, 4, MUTATING_BUCKET)) == 4
    assert len(lanes_for(even, 40, MUTATING_BUCKET)) == 40
    # 40 lanes of 30 changes would each hold 48/40 tokens; 60 lanes could not hold one.
    assert len(lanes_for({f"rtb-{i:02d}": 30 for i in range(60)}, 60, MUTATING_BUCKET)) == 30


def test_tables_are_balanced_over_the_lanes_by_change_count() -> None:
    work = {"rtb-a": 450, "rtb-b": 20, "rtb-c": 20, "rtb-d": 20, "rtb-e": 10}
    assert partition(work, 4) == [["rtb-a"], ["rtb-b", "rtb-e"], ["rtb-c"], ["rtb-d"]]
    assert partition({f"rtb-{i:02d}": 30 for i in range(8)}, 4) == [
        ["rtb-00", "rtb-04"],
        ["rtb-01", "rtb-05"],
        ["rtb-02", "rtb-06"],
        ["rtb-03", "rtb-07"],
    ]
    assert partition(work, 1) == [sorted(work)]


def test_a_lane_hands_what_is_left_of_its_burst_to_its_next_batch() -> None:
    """A lane's first table is small: the next batch starts with the rest of the lane's share of
    the burst instead of wasting it."""
    plan = a_plan([(0, 3), (0, 150)])
    (lane,) = plan_lanes(route_batches(plan), lanes=1)
    assert [len(b["creates"]) for b in lane] == [3, 75, 75]
    assert [b["tokens"] for b in lane] == [MUTATING_BUCKET - RESERVE_TOKENS, 45, 0]
    later = plan_lanes(route_batches(plan), lanes=1, burst=False)
    assert {b["tokens"] for b in later[0]} == {0}
