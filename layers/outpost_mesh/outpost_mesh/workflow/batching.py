"""Route changes in lanes of batches for the ApplyRoutes Map, and each lane's share of EC2's bucket.

One route table, one writer, in order (docs/architecture.md, rule 9): every change of a route table
goes to one lane, its deletions before its creations (they make room under the routes-per-table
quota), and a lane applies its batches one after the other. The Map runs the lanes side by side,
never two batches of one table at once, so neither a cut between batches nor Lambda start-up
jitter can run a table's creations before its deletions.

A Standard execution's history holds at most 25,000 events and a task's result at most 256 KiB
(docs/aws-facts.md, "Step Functions", "Size limits"): one Map iteration per route breaks a large
mesh, and a plan's route changes do not fit in the state. So the changes go in batches, stashed in
the ledger table; the state carries a key per batch.

Tables go to as many lanes as ApplyMaxConcurrency allows while the lanes stay balanced by change
count (:func:`lanes_for`), and the lanes share EC2's mutating bucket in proportion to their
changes (:func:`lane_shares`), so they all end together and no lane's share lies idle while
another still works. A VPC whose changes sit mostly in one table gets one lane at EC2's whole
rate (equal shares of several lanes would leave that table at a fraction of it).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from typing import Any

from outpost_mesh.ledger import LedgerStore
from outpost_mesh.model import Plan
from outpost_mesh.pacing import (
    MUTATING_BUCKET,
    MUTATING_REFILL_PER_SECOND,
    RESERVE_TOKENS,
    TokenBucket,
    ec2_share,
)
from outpost_mesh.settings import Settings

log = logging.getLogger(__name__)

BATCH_CHANGES = 100  # route changes per ApplyRoutes task (one DynamoDB item, well under 400 KB)
# Seconds of pacing one batch may take at its lane's rate: ApplyRoutes' Lambda timeout is 900 s
# (template.yaml), and a lane with a small share paces slowly.
BATCH_SECONDS = 600.0
# The least a lane's changes may be of the largest lane's. Shares in proportion to the changes
# make unequal lanes end together on AWS; lanes of about one size also pace at about one rate,
# which the sandbox's throttle clock needs (its sleeps jump AWS time: a lane pacing much slower
# than another would move it on faster than the other's calls keep up with).
LANE_BALANCE = 0.9


def route_batches(plan: Plan) -> list[dict[str, Any]]:
    """The plan's route changes grouped by route table (tables in order, deletes first)."""
    tables: dict[str, dict[str, Any]] = {}

    def of(table: str) -> dict[str, Any]:
        if table not in tables:
            tables[table] = {
                "vpc_id": plan.vpc_id,
                "route_table_id": table,
                "creates": [],
                "deletes": [],
            }
        return tables[table]

    for change in plan.routes_to_delete:
        of(change.route_table_id)["deletes"].append(change.to_dict())
    for change in plan.routes_to_create:
        of(change.route_table_id)["creates"].append(change.to_dict())
    return [tables[table] for table in sorted(tables)]


def partition(work: Mapping[str, int], lanes: int) -> list[list[str]]:
    """Route tables (``work``: changes per table) in at most ``lanes`` lanes balanced by change
    count: the largest table first, each to the lane with the fewest changes so far (ties: the
    lower lane); a table is never cut. Lanes come largest first, a lane's tables in name order."""
    count = max(1, min(lanes, len(work)))
    loads = [0] * count
    members: list[list[str]] = [[] for _ in range(count)]
    for table in sorted(work, key=lambda t: (-work[t], t)):
        lane = loads.index(min(loads))
        members[lane].append(table)
        loads[lane] += work[table]
    order = sorted(range(count), key=lambda i: -loads[i])  # stable: ties keep their lane order
    return [sorted(members[i]) for i in order if members[i]]


def lane_shares(work: Sequence[int]) -> list[float]:
    """Each lane's share of EC2's rate and bucket when the lanes (``work``: changes per lane) run
    side by side: in proportion to its changes, so that they end together. The shares add up to
    at most 1 (rounded down to a millionth: short in the state)."""
    total = sum(work)
    return [math.floor(w / total * 1e6) / 1e6 for w in work]


def lanes_for(work: Mapping[str, int], lanes: int, burst_size: int) -> list[list[str]]:
    """The most lanes, up to ``lanes``, that are balanced (none has less than LANE_BALANCE of
    the largest one's changes) and whose every share of EC2's bucket (less RESERVE_TOKENS) holds
    at least one token (a lane's bucket is then that share of EC2's, no larger, and together
    they never hold more than EC2 does). Lanes of about one size pace at about one rate; a table
    too big to balance takes the others into fewer lanes (one big table and a few small ones:
    one lane at EC2's rate)."""
    usable = max(1, burst_size - RESERVE_TOKENS)
    total = sum(work.values())
    for count in range(max(1, min(lanes, len(work))), 1, -1):
        members = partition(work, count)
        loads = [sum(work[t] for t in lane) for lane in members]
        if min(loads) >= LANE_BALANCE * max(loads) and min(loads) * usable >= total:
            return members
    return partition(work, 1)


def _parts(changes: list[tuple[str, dict[str, Any]]], limit: int) -> list[list[Any]]:
    """A table's changes, in order, in even parts of at most ``limit``."""
    count = -(-len(changes) // limit)
    size, extra = divmod(len(changes), count)
    parts, start = [], 0
    for i in range(count):
        end = start + size + (1 if i < extra else 0)
        parts.append(changes[start:end])
        start = end
    return parts


def plan_lanes(
    tables: Sequence[Mapping[str, Any]],
    *,
    lanes: int = 1,
    rate: float = MUTATING_REFILL_PER_SECOND,
    burst: bool = True,
    burst_size: int = MUTATING_BUCKET,
) -> list[list[dict[str, Any]]]:
    """The route changes of ``tables`` (:func:`route_batches`) as lanes of batches, each batch a
    part of one table's changes (its deletions first) with its lane's ``share`` of EC2's bucket
    and the ``tokens`` it may start with.

    ``lanes``: lanes the Map runs at once (ApplyMaxConcurrency), ``rate`` and ``burst_size``: EC2's
    bucket. ``burst``: EC2's bucket can be taken as full when the lanes start (this execution's
    first pass; a later pass follows its own calls by seconds): each lane then starts with its
    share of the bucket less RESERVE_TOKENS, handed from batch to batch as far as the batches
    before did not spend it; otherwise every batch starts empty.
    """
    by_table = {t["route_table_id"]: t for t in tables}
    work = {name: len(t["deletes"]) + len(t["creates"]) for name, t in by_table.items()}
    work = {name: n for name, n in work.items() if n}
    members = lanes_for(work, lanes, burst_size) if work else []
    shares = lane_shares([sum(work[t] for t in lane) for lane in members])
    usable = max(0, burst_size - RESERVE_TOKENS) if burst else 0
    result: list[list[dict[str, Any]]] = []
    for number, (lane, share) in enumerate(zip(members, shares, strict=True)):
        limit = max(1, min(BATCH_CHANGES, int(rate * share * BATCH_SECONDS)))
        tokens = usable * share
        batches: list[dict[str, Any]] = []
        for name in lane:
            table = by_table[name]
            ordered = [("deletes", c) for c in table["deletes"]]
            ordered += [("creates", c) for c in table["creates"]]
            for part in _parts(ordered, limit):
                batches.append(
                    {
                        "vpc_id": table["vpc_id"],
                        "route_table_id": name,
                        "deletes": [_lean(c) for kind, c in part if kind == "deletes"],
                        "creates": [_lean(c) for kind, c in part if kind == "creates"],
                        "lane": number,
                        "share": share,
                        "tokens": math.floor(tokens * 1000) / 1000,
                    }
                )
                tokens = max(0.0, tokens - len(part))
        result.append(batches)
    return result


def stash_batches(
    store: LedgerStore,
    execution: str,
    tables: list[dict[str, Any]],
    *,
    lanes: int = 1,
    rate: float = MUTATING_REFILL_PER_SECOND,
    burst: bool = True,
    burst_size: int = MUTATING_BUCKET,
) -> list[list[dict[str, Any]]]:
    """Keep the route changes in the ledger table; the state carries only a key per batch.

    Step Functions caps a task's result at 256 KiB: a plan of ~600 routes (about 430 bytes each)
    would exceed it (States.DataLimitExceeded), so the Map iterates over small references: the
    lanes of :func:`plan_lanes`, each a list of batch references in the order they are applied.
    """
    for table in tables:
        for kind, verb in (("deletes", "delete"), ("creates", "create")):
            for c in table[kind]:
                log.info(
                    "planned: %s route %s %s -> %s",
                    verb,
                    c["route_table_id"],
                    c["destination"],
                    c["local_gateway_id"],
                )
    planned = plan_lanes(tables, lanes=lanes, rate=rate, burst=burst, burst_size=burst_size)
    flat = [batch for lane in planned for batch in lane]
    keys = iter(
        store.stash_plan_batches(
            execution,
            [{k: b[k] for k in ("vpc_id", "route_table_id", "creates", "deletes")} for b in flat],
        )
    )
    return [
        [
            {
                "vpc_id": batch["vpc_id"],
                "route_table_id": batch["route_table_id"],
                "key": next(keys),
                "changes": len(batch["creates"]) + len(batch["deletes"]),
                "lane": batch["lane"],
                "share": batch["share"],
                "tokens": batch["tokens"],
            }
            for batch in lane
        ]
        for lane in planned
    ]


def _lean(change: dict[str, Any]) -> dict[str, Any]:
    """What applying needs of a change: the reason stays in the logs, not in the state."""
    return {k: v for k, v in change.items() if k != "reason"}


def batch_pacer(settings: Settings, share: float, tokens: float, *, retry: int = 0) -> TokenBucket:
    """The pacer of a route batch whose lane may spend ``share`` of EC2's bucket (per account and
    API: ``mutating_burst`` calls at once, refilled at ``mutating_rate`` per second).

    The lanes' shares add up to one and their starting tokens to EC2's bucket less
    RESERVE_TOKENS (for calls that reach EC2 with uneven delays), and a lane runs one batch at a
    time: together they never go past EC2's bucket, with no call wasted on RequestLimitExceeded.
    A batch starts with ``tokens``, what its lane's share of the burst has left after the batches
    before it; a retry (``retry`` > 0: Step Functions' State.RetryCount, after a throttle or a
    crash) starts empty, because the try before may have spent them.
    """
    return ec2_share(
        settings.mutating_rate, settings.mutating_burst, share, initial=0.0 if retry else tokens
    )
