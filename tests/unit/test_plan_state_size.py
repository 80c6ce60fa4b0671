"""The Plan task's result stays far below Step Functions' 256 KiB, whatever the mesh's size."""

from __future__ import annotations

import json
from typing import Any

from outpost_mesh.workflow import BATCH_CHANGES, stash_batches

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


def test_a_1200_route_mesh_passes_only_keys_through_the_state() -> None:
    store = MemoryStash()
    refs = stash_batches(store, "exec-1", mesh_batches(40, 30))  # 4 racks x 10, per-subnet
    assert len(json.dumps(refs)) < STATE_LIMIT // 20
    assert sum(r["changes"] for r in refs) == 1200
    stored = list(store.items.values())
    assert sum(len(b["creates"]) for b in stored) == 1200
    assert all("reason" not in c for b in stored for c in b["creates"])


def test_a_big_table_is_split_into_batches_of_bounded_size() -> None:
    store = MemoryStash()
    refs = stash_batches(store, "exec-2", mesh_batches(1, 450))
    assert [r["changes"] for r in refs] == [BATCH_CHANGES] * 4 + [450 - 4 * BATCH_CHANGES]
    assert {r["route_table_id"] for r in refs} == {"rtb-00000000000000000"}
    for batch in store.items.values():
        assert len(json.dumps(batch)) < 400 * 1024 // 4  # one DynamoDB item, with room to spare


def test_the_largest_topology_stays_under_the_state_limit() -> None:
    refs = stash_batches(MemoryStash(), "exec-3", mesh_batches(200, 180))  # 10 racks x 20
    assert len(json.dumps(refs)) < STATE_LIMIT
