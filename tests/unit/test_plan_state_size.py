"""The Plan task's result stays far below Step Functions' 256 KiB, whatever the mesh's size;
the batches it stashes are numbered for pacing and keep a re-targeted route's two changes
together."""

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
    assert [r["changes"] for r in refs] == [90] * 5  # as few as BATCH_CHANGES allows, even
    assert {r["route_table_id"] for r in refs} == {"rtb-00000000000000000"}
    for batch in store.items.values():
        assert len(json.dumps(batch)) < 400 * 1024 // 4  # one DynamoDB item, with room to spare


def test_the_largest_topology_stays_under_the_state_limit() -> None:
    refs = stash_batches(MemoryStash(), "exec-3", mesh_batches(200, 180))  # 10 racks x 20
    assert len(json.dumps(refs)) < STATE_LIMIT


def test_batches_are_numbered_largest_first_and_carry_the_burst_flag() -> None:
    batches = mesh_batches(3, 30) + [
        {**b, "route_table_id": "rtb-big"} for b in mesh_batches(1, 150)
    ]
    for b in batches[3:]:
        b["creates"] = [{**c, "route_table_id": "rtb-big"} for c in b["creates"]]
    refs = stash_batches(MemoryStash(), "e", batches, burst=False)
    assert [r["changes"] for r in refs] == [75, 75, 30, 30, 30]  # one lane: up to 100, even
    assert [r["index"] for r in refs] == [0, 1, 2, 3, 4]
    assert {r["of"] for r in refs} == {5}
    assert {r["burst"] for r in refs} == {False}
    assert stash_batches(MemoryStash(), "e", batches)[0]["burst"] is True
    # Four lanes: batches of about a lane's share of EC2's burst (50 / 4 -> 13), even per table:
    # 30 -> 2 x 15, 150 -> 12 parts of 12-13.
    four = [r["changes"] for r in stash_batches(MemoryStash(), "e", batches, lanes=4)]
    assert four == [15] * 6 + [13] * 6 + [12] * 6


def test_a_retargeted_route_stays_in_one_batch_with_its_delete() -> None:
    """An owned route moved to another LGW is a delete and a create of one destination: batches
    run side by side, so both must be in the same batch (deletes go first within it)."""
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
    refs = stash_batches(
        store,
        "e",
        [{"vpc_id": "vpc-1", "route_table_id": table, "creates": creates, "deletes": deletes}],
    )
    assert all(r["changes"] <= BATCH_CHANGES for r in refs)
    assert sum(r["changes"] for r in refs) == 300
    for ref in refs:
        stored = store.items[("e", ref["key"])]
        assert {c["destination"] for c in stored["creates"]} == {
            c["destination"] for c in stored["deletes"]
        }
