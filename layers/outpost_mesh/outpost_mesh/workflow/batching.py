"""Route changes in batches for the ApplyRoutes Map, and each batch's share of EC2's bucket.

A Standard execution's history holds at most 25,000 events and a task's result at most 256 KiB
(docs/aws-facts.md, "Step Functions", "Size limits"): one Map iteration per route breaks a large
mesh, and a plan's route changes do not fit in the state. So the changes of each route table go
in batches, stashed in the ledger table; the state carries a key per batch, and each batch paces
its calls at its lane's share of EC2's mutating bucket.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from outpost_mesh.ledger import LedgerStore
from outpost_mesh.model import Plan
from outpost_mesh.pacing import MUTATING_BUCKET, TokenBucket, ec2_share
from outpost_mesh.settings import Settings

log = logging.getLogger(__name__)


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


BATCH_CHANGES = 100  # route changes per ApplyRoutes task (one DynamoDB item, well under 400 KB)
MIN_BATCH_CHANGES = 5  # smaller batches would cost more in Lambda start-ups than they balance


def batch_size(changes: int, lanes: int, burst: int = MUTATING_BUCKET) -> int:
    """Changes per batch when ``lanes`` batches run side by side.

    Lanes end at most one batch apart, so batches are kept to about an eighth of a lane's work,
    but no smaller than a lane's share of EC2's burst (the first wave spends all of it) nor
    MIN_BATCH_CHANGES; never more than BATCH_CHANGES.
    """
    if lanes <= 1:
        return BATCH_CHANGES
    share = -(-burst // lanes)
    return min(BATCH_CHANGES, max(MIN_BATCH_CHANGES, share, -(-changes // (8 * lanes))))


def _units(batch: Mapping[str, Any]) -> list[list[tuple[str, dict[str, Any]]]]:
    """A table's changes as units that must stay in one batch: an owned route re-targeted to
    another LGW is a delete and a create of the same destination, which batches running side by
    side could otherwise run in the wrong order (RouteAlreadyExists)."""
    creates = {c["destination"]: c for c in batch["creates"]}
    units: list[list[tuple[str, dict[str, Any]]]] = []
    for d in batch["deletes"]:
        paired = creates.pop(d["destination"], None)
        units.append([("deletes", d)] + ([("creates", paired)] if paired is not None else []))
    units += [[("creates", c)] for c in creates.values()]
    return units


def _split(
    units: list[list[tuple[str, dict[str, Any]]]], limit: int
) -> list[list[tuple[str, dict[str, Any]]]]:
    """A table's change units in parts of about ``limit`` changes, of even size (a remainder
    much smaller than the rest would cost the Map a start-up for little work), none over
    BATCH_CHANGES but by a unit that cannot be cut."""
    total = sum(len(unit) for unit in units)
    count = max(1, -(-total // BATCH_CHANGES), round(total / limit))
    targets = [total // count + (1 if i < total % count else 0) for i in range(count)]
    parts: list[list[tuple[str, dict[str, Any]]]] = [[]]
    for unit in units:
        if len(parts[-1]) >= targets[len(parts) - 1] and len(parts) < count:
            parts.append([])
        parts[-1] += unit
    return [part for part in parts if part]


def stash_batches(
    store: LedgerStore,
    execution: str,
    batches: list[dict[str, Any]],
    *,
    lanes: int = 1,
    burst: bool = True,
    burst_size: int = MUTATING_BUCKET,
) -> list[dict[str, Any]]:
    """Keep the route changes in the ledger table; the state carries only a key per batch.

    Step Functions caps a task's result at 256 KiB: a plan of ~600 routes (about 430 bytes each)
    would exceed it (States.DataLimitExceeded), so the Map iterates over small references.
    A table with many changes is split into even batches of about ``batch_size`` changes
    (``lanes``: batches the Map runs at once; ``burst_size``: EC2's bucket).

    Batches go largest first (the Map starts them in order, so the last ones to start are short
    and the batches running side by side end close together), each numbered ``index`` of
    ``of``: ApplyRoutes derives its share of EC2's bucket from that (see ``batch_pacer``).
    ``burst``: EC2's bucket can be taken as full when the batches start (this execution's first
    pass; a later pass follows its own calls by seconds).
    """
    chunks: list[dict[str, Any]] = []
    limit = batch_size(
        sum(len(b["creates"]) + len(b["deletes"]) for b in batches), lanes, burst_size
    )
    for batch in batches:
        for kind, verb in (("deletes", "delete"), ("creates", "create")):
            for c in batch[kind]:
                log.info(
                    "planned: %s route %s %s -> %s",
                    verb,
                    c["route_table_id"],
                    c["destination"],
                    c["local_gateway_id"],
                )
        for part in _split(_units(batch), limit):
            chunks.append(
                {
                    "vpc_id": batch["vpc_id"],
                    "route_table_id": batch["route_table_id"],
                    "creates": [_lean(c) for kind, c in part if kind == "creates"],
                    "deletes": [_lean(c) for kind, c in part if kind == "deletes"],
                }
            )
    chunks.sort(key=lambda c: -(len(c["creates"]) + len(c["deletes"])))  # stable
    keys = store.stash_plan_batches(execution, chunks)
    return [
        {
            "vpc_id": chunk["vpc_id"],
            "route_table_id": chunk["route_table_id"],
            "key": key,
            "changes": len(chunk["creates"]) + len(chunk["deletes"]),
            "index": index,
            "of": len(chunks),
            "burst": burst,
        }
        for index, (key, chunk) in enumerate(zip(keys, chunks, strict=True))
    ]


def _lean(change: dict[str, Any]) -> dict[str, Any]:
    """What applying needs of a change: the reason stays in the logs, not in the state."""
    return {k: v for k, v in change.items() if k != "reason"}


def batch_pacer(
    settings: Settings, index: int, of: int, *, burst: bool, retry: int = 0
) -> TokenBucket:
    """The pacer of route batch ``index`` of ``of`` in the ApplyRoutes Map.

    The Map runs ``lanes = min(MaxConcurrency, of)`` batches side by side, and starts the next
    batch as soon as one ends; together they must not go past EC2's bucket (per account and
    API: ``mutating_burst`` calls at once, refilled at ``mutating_rate`` per second). So each
    batch paces at rate / lanes with a bucket of burst / lanes: the first wave (``index <
    lanes``) starts with its share full, spending EC2's burst once; every later batch, and any
    retry (``retry`` > 0: Step Functions' State.RetryCount, a retry follows a throttle or a
    crash), starts empty, because the batch it follows has just spent its lane's tokens. The
    lanes' tokens then never add up to more than EC2's bucket holds (less its RESERVE_TOKENS,
    for calls that reach EC2 with uneven delays), with no call wasted on RequestLimitExceeded,
    and the burst and the rate are both used: convergence comes close to the floor max(0, N -
    burst) / rate. ``burst`` False (a later pass of the execution, which follows its own calls
    by seconds): every batch starts empty.
    """
    lanes = max(1, min(settings.apply_concurrency, of))
    first = burst and retry == 0 and index < lanes
    return ec2_share(settings.mutating_rate, settings.mutating_burst, lanes, full=first)
