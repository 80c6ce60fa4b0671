"""The Plan task's result stays far below Step Functions' 256 KiB, whatever the mesh's size;
the batches it stashes come in lanes with their pacing, and keep a re-targeted route's delete
before its create."""

from __future__ import annotations

import json
from typing import Any

from outpost_mesh.workflow.batching import BATCH_CHANGES, stash_batches

STATE_LIMIT = 256 * 1024


class MemoryStash:
    def __init__(self) -> None:
        self.items: dict[tuple[str, str], dict[str, Any]] = {}

    def stash_plan_batches(self, execution: str, batches: list[dict[str, Any]]) -> list[str]:
        keys = [f"000000000000001-{i:05d}" for i in range(len(batches))]
        for key, batch in zip(keys, batches, strict=True):
            self.items[(execution, key)] = batch
        return keys


def mesh_batches(tables: int, routes_per_table: int) -> list[dict[str, Any]]:
    return [
        {
            "vpc_id": "vpc-0a1b2c3d4e5f60718",
            "route_table_id": f"rtb-{t:017x}",
            "creates": [
                {
                    "route_table_id": f"rtb-{t:017x}",
                    "destination": f"10.{r // 250}.{r % 250}.0/24",
                    "local_gateway_id": "lgw-0f9e8d7c6b5a40313",
                    "destination_subnet_id": f"subnet-{r:017x}",
                    "source_subnet_ids": [f"subnet-{t:017x}"],
                    "reason": "x" * 200,
                }
                for r in range(routes_per_table)
            ],
            "deletes": [],
        }
        for t in range(tables)
    ]


def flat(lanes: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    return [ref for lane in lanes for ref in lane]


def test_a_1200_route_mesh_passes_only_keys_through_the_state() -> None:
    store = MemoryStash()
    lanes = stash_batches(store, "exec-1", mesh_batches(40, 30), lanes=4)  # 4 x 10, per-subnet
    assert len(json.dumps(lanes)) < STATE_LIMIT // 20
    assert [sum(r["changes"] for r in lane) for lane in lanes] == [300] * 4
    stored = list(store.items.values())
    assert sum(len(b["creates"]) for b in stored) == 1200
    assert all("reason" not in c for b in stored for c in b["creates"])


def test_a_big_table_is_split_into_batches_of_bounded_size_in_one_lane() -> None:
    store = MemoryStash()
    lanes = stash_batches(store, "exec-2", mesh_batches(1, 450), lanes=4)
    assert [[r["changes"] for r in lane] for lane in lanes] == [[90] * 5]  # even, in order
    assert {r["route_table_id"] for r in flat(lanes)} == {"rtb-00000000000000000"}
    for batch in store.items.values():
        assert len(json.dumps(batch)) < 400 * 1024 // 4  # one DynamoDB item, with room to spare


def test_the_largest_topology_stays_under_the_state_limit() -> None:
    mesh = mesh_batches(200, 180)  # 10 racks x 20, per-subnet
    for lanes in (1, 4, 40):
        assert len(json.dumps(stash_batches(MemoryStash(), "exec-3", mesh, lanes=lanes))) < (
            STATE_LIMIT // 2
        )


def test_lanes_carry_their_share_and_tokens() -> None:
    batches = mesh_batches(3, 30) + [
        {**b, "route_table_id": "rtb-big"} for b in mesh_batches(1, 150)
    ]
    for b in batches[3:]:
        b["creates"] = [{**c, "route_table_id": "rtb-big"} for c in b["creates"]]
    # The big table cannot be balanced with the others: one lane at EC2's whole rate, tables in
    # name order, the burst handed on from batch to batch as far as it goes.
    (lane,) = stash_batches(MemoryStash(), "e", batches, lanes=4)
    assert [(r["changes"], r["share"], r["tokens"]) for r in lane] == [
        (30, 1.0, 48),
        (30, 1.0, 18),
        (30, 1.0, 0),
        (75, 1.0, 0),
        (75, 1.0, 0),
    ]
    # Tables that balance: a lane each, shares in proportion to their changes.
    lanes = stash_batches(MemoryStash(), "e", mesh_batches(4, 30), lanes=4)
    assert [[r["changes"] for r in lane] for lane in lanes] == [[30]] * 4
    assert [r["lane"] for r in flat(lanes)] == [0, 1, 2, 3]
    assert [(lane[0]["share"], lane[0]["tokens"]) for lane in lanes] == [(0.25, 12)] * 4
    later = stash_batches(MemoryStash(), "e", batches, lanes=4, burst=False)
    assert {r["tokens"] for r in flat(later)} == {0}


def test_a_retargeted_route_is_deleted_before_it_is_created_again() -> None:
    """An owned route moved to another LGW is a delete and a create of one destination: the
    table's lane applies every delete before any create, whatever the batches."""
    table = "rtb-00000000000000001"

    def change(n: int, lgw: str) -> dict[str, object]:
        return {
            "route_table_id": table,
            "destination": f"10.1.{n}.0/24",
            "local_gateway_id": lgw,
            "destination_subnet_id": f"subnet-{n:017x}",
            "source_subnet_ids": [],
        }

    deletes = [change(n, "lgw-0000000000000000a") for n in range(150)]
    creates = [change(n, "lgw-0000000000000000b") for n in range(150)]
    store = MemoryStash()
    lanes = stash_batches(
        store,
        "e",
        [{"vpc_id": "vpc-1", "route_table_id": table, "creates": creates, "deletes": deletes}],
        lanes=4,
    )
    assert len(lanes) == 1
    assert all(r["changes"] <= BATCH_CHANGES for r in lanes[0])
    applied = [
        kind
        for ref in lanes[0]
        for kind in ("deletes", "creates")
        for _ in store.items[("e", ref["key"])][kind]
    ]
    assert applied == ["deletes"] * 150 + ["creates"] * 150
