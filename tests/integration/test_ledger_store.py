"""LedgerStore against the sandbox's DynamoDB: what each operation costs in DynamoDB calls (the
demo reports API calls; they must not go up), what it leaves in the table (the layout existing
tables hold), that ``load`` and ``owned_by`` read the same items the same way, and that
``fleet`` reads every VPC as ``load`` and ``open_findings`` do, in pages, migrating items
written before the fleet index.

Calls are counted with a botocore ``before-call`` hook on the store's own client.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from outpost_mesh.errors import LeaseBusyError
from outpost_mesh.ledger import FleetLedger, LedgerStore
from outpost_mesh.ledger.items import FindingItem, ManagedVpcItem, QuotaRefusalItem, RouteItem
from outpost_mesh.model import (
    Finding,
    FindingKind,
    Ledger,
    OwnedAssociation,
    OwnedRoute,
    QuotaRefusal,
)
from outpost_mesh_sandbox.stack.template import load_template

from .support import Clock

VPC = "vpc-0ledgerstore"
T = 1_700_000_000
ROUTE = OwnedRoute("rtb-1", "10.7.11.0/24", "lgw-1", "subnet-b", ("subnet-a", "subnet-c"))
OTHER = OwnedRoute("rtb-2", "10.7.12.0/24", "lgw-1", "subnet-c", ("subnet-a",))
ASSOC = OwnedAssociation(
    "lgw-vpc-assoc-1", "lgw-rtb-1", "arn:aws:outposts:us-east-1:1:outpost/op-1"
)


@pytest.fixture
def clock() -> Clock:
    return Clock(T + 0.5)


@pytest.fixture
def timed(store: LedgerStore, clock: Clock) -> LedgerStore:
    return LedgerStore(store.dynamodb, store.table_name, clock=clock)


@pytest.fixture
def calls(timed: LedgerStore) -> Callable[[], Any]:
    """``with calls() as made:``: the DynamoDB operations the store made inside the block."""

    @contextmanager
    def counting() -> Iterator[list[str]]:
        made: list[str] = []

        def hook(model: Any, **_: Any) -> None:
            made.append(model.name)

        events = timed.dynamodb.meta.events
        events.register("before-call.dynamodb", hook, unique_id="ledger-test-count")
        try:
            yield made
        finally:
            events.unregister("before-call.dynamodb", unique_id="ledger-test-count")

    return counting


def raw(store: LedgerStore, pk: str, sk: str) -> dict[str, Any]:
    item = store.dynamodb.get_item(
        TableName=store.table_name, Key={"pk": {"S": pk}, "sk": {"S": sk}}, ConsistentRead=True
    ).get("Item")
    assert item is not None, (pk, sk)
    return dict(item)


def test_ownership_records_cost_and_layout(
    timed: LedgerStore, clock: Clock, calls: Callable[[], Any]
) -> None:
    with calls() as made:
        timed.record_route(VPC, ROUTE, "exec-1")
    assert made == ["PutItem", "PutItem"]  # the MANAGED item, then the route
    clock.now += 1
    with calls() as made:
        timed.record_association(VPC, ASSOC, "exec-1")
    assert made == ["PutItem", "PutItem"]
    clock.now += 1
    timed.record_route(VPC, OTHER, "exec-2")

    assert raw(timed, f"VPC#{VPC}", "ROUTE#rtb-1#10.7.11.0/24") == {
        "pk": {"S": f"VPC#{VPC}"},
        "sk": {"S": "ROUTE#rtb-1#10.7.11.0/24"},
        "route_table_id": {"S": "rtb-1"},
        "destination": {"S": "10.7.11.0/24"},
        "local_gateway_id": {"S": "lgw-1"},
        "destination_subnet_id": {"S": "subnet-b"},
        "source_subnet_ids": {"L": [{"S": "subnet-a"}, {"S": "subnet-c"}]},
        "owner": {"S": "exec-1"},
        "created_at": {"N": str(T)},
        "fleet": {"S": "VPC"},
        "fleet_sk": {"S": f"{VPC}#ROUTE#rtb-1#10.7.11.0/24"},
    }
    assert raw(timed, f"VPC#{VPC}", "ASSOC#lgw-vpc-assoc-1") == {
        "pk": {"S": f"VPC#{VPC}"},
        "sk": {"S": "ASSOC#lgw-vpc-assoc-1"},
        "association_id": {"S": "lgw-vpc-assoc-1"},
        "lgw_route_table_id": {"S": "lgw-rtb-1"},
        "outpost_arn": {"S": ASSOC.outpost_arn},
        "owner": {"S": "exec-1"},
        "created_at": {"N": str(T + 1)},
        "fleet": {"S": "VPC"},
        "fleet_sk": {"S": f"{VPC}#ASSOC#lgw-vpc-assoc-1"},
    }
    assert raw(timed, "MANAGED", f"VPC#{VPC}") == {
        "pk": {"S": "MANAGED"},
        "sk": {"S": f"VPC#{VPC}"},
        "vpc_id": {"S": VPC},
        "fleet": {"S": "VPC"},
        "fleet_sk": {"S": f"{VPC}#MANAGED"},
    }

    with calls() as made:
        ledger = timed.load(VPC)
    assert made == ["Query"]
    assert ledger.routes == (ROUTE, OTHER)
    assert ledger.associations == (ASSOC,)

    with calls() as made:
        routes, associations = timed.owned_by(VPC, "exec-1")
    assert made == ["Query"]
    # the same records load decodes (one codec), only exec-1's
    assert (routes, associations) == ([ROUTE], [ASSOC])
    assert timed.owned_by(VPC, "exec-2") == ([OTHER], [])

    with calls() as made:
        assert timed.route_owner(VPC, "rtb-1", "10.7.11.0/24") == "exec-1"
        assert timed.route_owner(VPC, "rtb-9", "10.7.11.0/24") is None
    assert made == ["GetItem", "GetItem"]

    with calls() as made:
        timed.forget_route(VPC, "rtb-1", "10.7.11.0/24")
        timed.forget_association(VPC, ASSOC.association_id)
    assert made == ["DeleteItem", "DeleteItem"]
    assert timed.load(VPC).routes == (OTHER,)
    assert timed.managed_vpcs() == [VPC]


def test_quota_refusals_cost_and_layout(
    timed: LedgerStore, clock: Clock, calls: Callable[[], Any]
) -> None:
    """A RouteLimitExceeded remembered per table: one PutItem, read back by the ledger's one
    Query (with the owned routes, which stay what they were), gone with one DeleteItem."""
    timed.record_route(VPC, ROUTE, "exec-1")
    refusal = QuotaRefusal("rtb-2", "0123456789abcdef0123456789abcdef", 51, 50)
    with calls() as made:
        timed.remember_quota_refusal(VPC, refusal)
    assert made == ["PutItem"]
    assert raw(timed, f"VPC#{VPC}", "QUOTA#rtb-2") == {
        "pk": {"S": f"VPC#{VPC}"},
        "sk": {"S": "QUOTA#rtb-2"},
        "route_table_id": {"S": "rtb-2"},
        "digest": {"S": refusal.digest},
        "routes": {"N": "51"},
        "quota": {"N": "50"},
        "learned_at": {"N": str(T)},
        "fleet": {"S": "VPC"},
        "fleet_sk": {"S": f"{VPC}#QUOTA#rtb-2"},
    }
    with calls() as made:
        ledger = timed.load(VPC)
    assert made == ["Query"]
    assert ledger.quota_refusals == (refusal,)
    assert ledger.quota_refusal("rtb-2") == refusal and ledger.quota_refusal("rtb-1") is None
    assert ledger.routes == (ROUTE,)
    assert timed.owned_by(VPC, "exec-1") == ([ROUTE], [])  # not mistaken for an owned record

    with calls() as made:
        timed.forget_quota_refusal(VPC, "rtb-2")
    assert made == ["DeleteItem"]
    assert timed.load(VPC).quota_refusals == ()


def test_owned_by_lists_newest_first(timed: LedgerStore, clock: Clock) -> None:
    first = OwnedRoute("rtb-9", "10.0.0.0/24", "lgw-1")
    timed.record_route(VPC, first, "exec-1")
    clock.now += 5
    timed.record_route(VPC, OwnedRoute("rtb-1", "10.0.1.0/24", "lgw-1"), "exec-1")
    routes, _ = timed.owned_by(VPC, "exec-1")
    assert [r.route_table_id for r in routes] == ["rtb-1", "rtb-9"]


def test_findings_cost_and_layout(
    timed: LedgerStore, clock: Clock, calls: Callable[[], Any]
) -> None:
    conflict = Finding(FindingKind.CONFLICT, "subnet-1", "a route of someone else's")
    coip = Finding(FindingKind.COIP_MODE, "subnet-2", "rack in CoIP mode")
    with calls() as made:
        timed.record_findings(VPC, (conflict, coip), "workflow")
    assert made == ["PutItem", "PutItem"]
    assert raw(timed, f"FINDINGS#{VPC}", "conflict#subnet-1") == {
        "pk": {"S": f"FINDINGS#{VPC}"},
        "sk": {"S": "conflict#subnet-1"},
        "kind": {"S": "conflict"},
        "subject": {"S": "subnet-1"},
        "message": {"S": "a route of someone else's"},
        "source": {"S": "workflow"},
        "last_seen": {"N": str(T)},
        "fleet": {"S": "VPC"},
        "fleet_sk": {"S": f"{VPC}#conflict#subnet-1"},
    }
    clock.now += 10
    with calls() as made:
        assert timed.resolve_findings(VPC, (conflict,)) == [coip]
    assert made == ["Query", "UpdateItem"]
    resolved = raw(timed, f"FINDINGS#{VPC}", "coip-mode#subnet-2")
    assert resolved["resolved_at"] == {"N": str(T + 10)}
    assert "fleet" not in resolved and "fleet_sk" not in resolved  # out of the fleet index
    with calls() as made:
        timed.record_findings(VPC, (coip,), "workflow")  # re-opened: back in the index
    assert made == ["PutItem"]
    reopened = raw(timed, f"FINDINGS#{VPC}", "coip-mode#subnet-2")
    assert "resolved_at" not in reopened and reopened["fleet_sk"] == {
        "S": f"{VPC}#coip-mode#subnet-2"
    }
    timed.resolve_findings(VPC, (conflict,))
    with calls() as made:
        assert timed.open_findings(VPC) == [conflict]
        assert timed.findings(VPC) == sorted([conflict, coip])
    assert made == ["Query", "Query"]


def test_stashed_batches_cost_and_layout(timed: LedgerStore, calls: Callable[[], Any]) -> None:
    batches = [{"vpc_id": VPC, "creates": [], "deletes": []}, {"n": [1, 2]}]
    with calls() as made:
        keys = timed.stash_plan_batches("exec-1", batches)
    assert made == ["PutItem", "PutItem"]
    assert keys == [f"{(T * 1000 + 500):015d}-00000", f"{(T * 1000 + 500):015d}-00001"]
    assert raw(timed, "PLAN#exec-1", keys[1]) == {
        "pk": {"S": "PLAN#exec-1"},
        "sk": {"S": keys[1]},
        "body": {"S": '{"n":[1,2]}'},
        "ttl": {"N": str(T + 2 * 24 * 3600)},
    }
    with calls() as made:
        assert timed.has_stashed_plan("exec-1")
        assert not timed.has_stashed_plan("exec-2")
        assert timed.stashed_plan_batch("exec-1", keys[0]) == batches[0]
        assert timed.stashed_plan_batch("exec-1", "nope") is None
    assert made == ["Query", "Query", "GetItem", "GetItem"]


def test_locations_cost_and_layout(timed: LedgerStore, calls: Callable[[], Any]) -> None:
    with calls() as made:
        timed.remember_locations(VPC, ("subnet-1",), ("rtb-1",))
    assert made == ["BatchGetItem", "BatchWriteItem"]
    with calls() as made:
        timed.remember_locations(VPC, ("subnet-1",), ("rtb-1",))  # known: read only
    assert made == ["BatchGetItem"]
    # a VPC of 150 subnets and 151 tables: 4 reads (100 keys each) and 13 writes (25 items each),
    # not 602 calls one by one; then a subnet moved to another VPC is rewritten, alone
    subnets = tuple(f"subnet-{i:03d}" for i in range(150))
    tables = tuple(f"rtb-{i:03d}" for i in range(151))
    with calls() as made:
        timed.remember_locations(VPC, subnets, tables)
    assert made.count("BatchGetItem") == 4 and made.count("BatchWriteItem") == 13
    assert timed.vpc_of("SUBNET", "subnet-149") == VPC and timed.vpc_of("RTB", "rtb-150") == VPC
    with calls() as made:
        timed.remember_locations("vpc-other", ("subnet-007",), ())
    assert made == ["BatchGetItem", "BatchWriteItem"]
    assert timed.vpc_of("SUBNET", "subnet-007") == "vpc-other"
    assert raw(timed, "SUBNET#subnet-1", "VPC") == {
        "pk": {"S": "SUBNET#subnet-1"},
        "sk": {"S": "VPC"},
        "vpc_id": {"S": VPC},
    }
    assert timed.vpc_of("RTB", "rtb-1") == VPC
    assert timed.vpc_of("SUBNET", "subnet-9") is None


def test_quarantines_cost_and_layout(
    timed: LedgerStore, clock: Clock, calls: Callable[[], Any]
) -> None:
    arn = "arn:aws:outposts:us-east-1:123456789012:outpost/op-0123456789abcdef0"
    with calls() as made:
        held = timed.quarantine(arn, "no route propagation", 3600)
    assert made == ["PutItem", "PutItem"]
    assert held.until == T + 3600
    assert raw(timed, "QUARANTINED", arn) == {
        "pk": {"S": "QUARANTINED"},
        "sk": {"S": arn},
        "until": {"N": str(T + 3600)},
    }
    assert raw(timed, f"OUTPOST#{arn}", "QUARANTINE")["reason"] == {"S": "no route propagation"}
    timed.quarantine("arn:expired", "old", 1)
    clock.now += 10
    with calls() as made:
        assert timed.quarantines() == [held]
    assert made == ["Query", "GetItem"]  # an expired one costs no read of its detail
    with calls() as made:
        timed.release_quarantine(arn)
    assert made == ["DeleteItem", "DeleteItem"]
    assert timed.quarantined() == frozenset()


def test_lease_cost_and_layout(timed: LedgerStore, clock: Clock, calls: Callable[[], Any]) -> None:
    with calls() as made:
        claim = timed.claim(VPC, "X", seconds=60)
    assert made == ["UpdateItem", "UpdateItem"]  # take it, then note the triggers seen
    assert raw(timed, f"VPC#{VPC}", "LEASE") == {
        "pk": {"S": f"VPC#{VPC}"},
        "sk": {"S": "LEASE"},
        "holder": {"S": "X"},
        "expires_at": {"N": str(T + 60)},
        "claimed_at": {"N": str(T)},
        "triggers": {"N": "0"},
        "seen": {"N": "0"},
    }
    with calls() as made, pytest.raises(LeaseBusyError):
        timed.claim(VPC, "Y", seconds=60, holder_alive=lambda _: True)
    assert made == ["UpdateItem", "GetItem", "UpdateItem"]  # refused, read, trigger handed over
    with calls() as made:
        again = timed.release(claim)
    assert made == ["UpdateItem", "GetItem", "UpdateItem"]  # refused (a trigger came), one more
    assert again is not None and again.seen == 1
    with calls() as made:
        assert timed.release(again) is None
    assert made == ["UpdateItem"]
    assert timed.lease(VPC) == {"holder": None, "expires_at": 0, "triggers": 1, "seen": 1}

    x = timed.claim(VPC, "X", seconds=60)
    clock.now += 1
    with calls() as made:
        taken = timed.claim(VPC, "Z", seconds=60, holder_alive=lambda name: name != "X")
    assert made == ["UpdateItem", "GetItem", "UpdateItem", "UpdateItem"]
    assert (taken.holder, taken.seen) == ("Z", 1)
    assert timed.release(x) is None  # not X's any more
    with calls() as made:
        timed.force_release(VPC, "X")  # not the holder: nothing happens
        timed.force_release(VPC, "Z")
    assert made == ["UpdateItem", "UpdateItem"]
    assert (timed.lease(VPC) or {}).get("holder") is None
    with calls() as made:
        assert timed.add_trigger(VPC) == 2
    assert made == ["UpdateItem"]


# -- the fleet read: every VPC's ledger in one paginated Query of the fleet index ---------------
def assert_fleet_reads_as_load(store: LedgerStore, fleet: FleetLedger, vpcs: set[str]) -> None:
    """Every VPC of ``vpcs`` (and no other) is in ``fleet`` exactly as its own reads return it."""
    assert set(fleet.ledgers) == set(fleet.open_findings) == vpcs
    for vpc in vpcs:
        assert fleet.ledgers[vpc] == store.load(vpc), vpc
        assert fleet.open_findings[vpc] == tuple(store.open_findings(vpc)), vpc


def test_fleet_reads_every_vpc_as_load_and_open_findings_do(
    timed: LedgerStore, clock: Clock, calls: Callable[[], Any]
) -> None:
    """Three managed VPCs (one owning routes, an association, a quota refusal and open and
    resolved findings; one owning a route; one managed that owns nothing any more) and one with
    findings only: one Query of the MANAGED partition and one of the index, nothing else. The
    lease, locations, quarantines and stashed batches are no part of it."""
    full, single, emptied, unmanaged = "vpc-0full", "vpc-1single", "vpc-2emptied", "vpc-3seen"
    conflict = Finding(FindingKind.CONFLICT, "subnet-1", "a route of someone else's")
    coip = Finding(FindingKind.COIP_MODE, "subnet-2", "rack in CoIP mode")
    timed.record_route(full, ROUTE, "exec-1")
    timed.record_route(full, OTHER, "exec-2")
    timed.record_association(full, ASSOC, "exec-1")
    timed.remember_quota_refusal(full, QuotaRefusal("rtb-2", "f" * 32, 51, 50))
    timed.record_findings(full, (conflict, coip), "workflow")
    clock.now += 1
    timed.resolve_findings(full, (conflict,))  # coip resolved: left out
    timed.claim(full, "exec-1", seconds=60)
    timed.remember_locations(full, ("subnet-1",), ("rtb-1",))
    timed.stash_plan_batches("exec-1", [{"vpc_id": full}])
    timed.quarantine("arn:aws:outposts:us-east-1:1:outpost/op-1", "no propagation", 60)
    timed.record_route(single, ROUTE, "exec-3")
    timed.record_route(emptied, OTHER, "exec-4")
    timed.forget_route(emptied, OTHER.route_table_id, OTHER.destination)
    timed.record_findings(unmanaged, (conflict,), "cli")

    with calls() as made:
        fleet = timed.fleet()
    assert made == ["Query", "Query"] and fleet.pages == 2 and fleet.fallbacks == 0
    assert fleet.managed == frozenset({full, single, emptied})
    assert_fleet_reads_as_load(timed, fleet, {full, single, emptied, unmanaged})
    assert fleet.ledgers[full].quota_refusals and fleet.ledgers[full].associations == (ASSOC,)
    assert fleet.open_findings[full] == (conflict,)
    assert fleet.ledgers[emptied] == Ledger(emptied)
    assert fleet.ledger("vpc-unknown") == Ledger("vpc-unknown")


def test_a_finding_whose_sort_key_was_cut_is_in_the_fleet_index(timed: LedgerStore) -> None:
    """A finding's sort key keeps 1,024 bytes at most; so does the index's (its VPC in front)."""
    long = Finding(FindingKind.CONFLICT, "subnet-" + "x" * 2_000, "long subject")
    timed.record_findings(VPC, (long,), "workflow")
    [item] = timed.dynamodb.query(
        TableName=timed.table_name,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"FINDINGS#{VPC}"}},
    )["Items"]
    assert len(item["fleet_sk"]["S"]) == 1024 and item["fleet_sk"]["S"].startswith(f"{VPC}#")
    assert timed.fleet().open_findings[VPC] == (long,)


# A route table serving 30 subnets: its routes' items are about 1 KB each, so 1,200 of them
# fill more than one of DynamoDB's 1 MB pages (moto's page: 1,000,000 bytes by its own count).
FLEET_VPCS = 40
ROUTES_PER_VPC = 30
SOURCES = tuple(f"subnet-0{n:016x}" for n in range(30))


def write_raw(store: LedgerStore, items: list[dict[str, Any]]) -> None:
    """Items as they are, 25 a BatchWriteItem (the test's own writes, not the store's)."""
    for start in range(0, len(items), 25):
        batch = [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]
        assert not store.dynamodb.batch_write_item(RequestItems={store.table_name: batch}).get(
            "UnprocessedItems"
        )


def test_fleet_reads_1200_routes_of_40_vpcs_in_pages(
    timed: LedgerStore, calls: Callable[[], Any]
) -> None:
    vpcs = [f"vpc-0{n:016x}" for n in range(FLEET_VPCS)]
    routes = {
        vpc: [
            OwnedRoute(f"rtb-{n:02d}", f"10.{v}.{n}.0/24", "lgw-1", SOURCES[n], SOURCES)
            for n in range(ROUTES_PER_VPC)
        ]
        for v, vpc in enumerate(vpcs)
    }
    write_raw(
        timed,
        [ManagedVpcItem.encode(vpc) for vpc in vpcs]
        + [RouteItem.encode(vpc, r, "exec-1", T) for vpc in vpcs for r in routes[vpc]],
    )
    with calls() as made:
        fleet = timed.fleet()
    assert set(made) == {"Query"} and len(made) == fleet.pages
    assert fleet.pages == 3  # the MANAGED partition's page and the index's two (1.2 MB)
    assert fleet.fallbacks == 0 and fleet.managed == frozenset(vpcs)
    # nothing lost or read twice at the page boundary (1,048 items on the first page)
    assert fleet.ledgers == {vpc: Ledger(vpc, tuple(sorted(routes[vpc]))) for vpc in vpcs}
    assert fleet.ledgers[vpcs[-1]] == timed.load(vpcs[-1])


def old_layout(item: dict[str, Any]) -> dict[str, Any]:
    """An item as it was written before the fleet index: without its attributes."""
    return {name: value for name, value in item.items() if name not in ("fleet", "fleet_sk")}


def test_fleet_reads_and_migrates_a_vpc_written_before_the_index(
    timed: LedgerStore, clock: Clock, calls: Callable[[], Any]
) -> None:
    """A managed VPC whose items predate the index is read the old way and its items given the
    index attributes (the lease and a resolved finding stay out); the next fleet read finds it
    in the index. A route recorded meanwhile leaves its old MANAGED item as it was (a new one
    would hide the old routes from the index)."""
    old, new = "vpc-0old", "vpc-1new"
    conflict = Finding(FindingKind.CONFLICT, "subnet-1", "a route of someone else's")
    gone = Finding(FindingKind.COIP_MODE, "subnet-2", "rack in CoIP mode")
    resolved = FindingItem.encode(old, gone, "workflow", T) | {"resolved_at": {"N": str(T)}}
    write_raw(
        timed,
        [
            old_layout(ManagedVpcItem.encode(old)),
            old_layout(RouteItem.encode(old, ROUTE, "exec-1", T)),
            old_layout(QuotaRefusalItem.encode(old, QuotaRefusal("rtb-1", "a" * 32, 50, 50), T)),
            old_layout(FindingItem.encode(old, conflict, "workflow", T)),
            old_layout(resolved),
        ],
    )
    timed.claim(old, "exec-1", seconds=60)
    timed.record_association(old, ASSOC, "exec-2")  # new layout, its MANAGED item left alone
    assert "fleet" not in raw(timed, "MANAGED", f"VPC#{old}")
    timed.record_route(new, OTHER, "exec-3")

    with calls() as made:
        first = timed.fleet()
    assert first.fallbacks == 1 and first.managed == frozenset({old, new})
    assert first.ledgers[old].routes == (ROUTE,) and first.ledgers[old].associations == (ASSOC,)
    assert_fleet_reads_as_load(timed, first, {old, new})
    # 2 + the old VPC's partition and findings; the route, refusal, open finding and MANAGED
    assert made.count("Query") == first.pages == 4
    assert sorted(name for name in made if name != "Query") == ["UpdateItem"] * 4
    assert raw(timed, f"VPC#{old}", "ROUTE#rtb-1#10.7.11.0/24")["fleet_sk"] == {
        "S": f"{old}#ROUTE#rtb-1#10.7.11.0/24"
    }
    assert raw(timed, "MANAGED", f"VPC#{old}")["fleet_sk"] == {"S": f"{old}#MANAGED"}
    assert "fleet" not in raw(timed, f"VPC#{old}", "LEASE")
    assert "fleet" not in raw(timed, f"FINDINGS#{old}", "coip-mode#subnet-2")
    assert raw(timed, f"VPC#{old}", "QUOTA#rtb-1")["routes"] == {"N": "50"}  # nothing else

    with calls() as made:
        second = timed.fleet()
    assert made == ["Query", "Query"] and second.fallbacks == 0
    assert second == FleetLedger(first.ledgers, first.open_findings, first.managed, 2)


def test_a_migration_never_brings_back_what_was_forgotten(timed: LedgerStore) -> None:
    """An item deleted between the fallback's read and its migration stays deleted."""
    old = "vpc-0old"
    write_raw(
        timed,
        [
            old_layout(ManagedVpcItem.encode(old)),
            old_layout(RouteItem.encode(old, ROUTE, "exec-1", T)),
        ],
    )

    def forget_before_update(params: dict[str, Any], **_: Any) -> None:
        if params.get("Key", {}).get("sk") == {"S": "ROUTE#rtb-1#10.7.11.0/24"}:
            timed.dynamodb.meta.events.unregister(
                "before-parameter-build.dynamodb.UpdateItem", unique_id="forget"
            )
            timed.forget_route(old, ROUTE.route_table_id, ROUTE.destination)

    timed.dynamodb.meta.events.register(
        "before-parameter-build.dynamodb.UpdateItem", forget_before_update, unique_id="forget"
    )
    fleet = timed.fleet()
    assert fleet.fallbacks == 1 and fleet.ledgers[old].routes == (ROUTE,)  # as read
    assert timed.load(old) == Ledger(old)  # not resurrected by the migration
    assert timed.fleet().ledgers[old] == Ledger(old)


def test_the_stack_defines_the_ledger_table_as_create_table_does(timed: LedgerStore) -> None:
    """template.yaml's LedgerTable and ``create_table`` (the sandbox's, CLI's and tests'
    table) have the same keys and fleet index; only the fleet's readers (the sweep and the mesh
    map widget) may query the index."""
    template = load_template(Path(__file__).resolve().parents[2] / "template.yaml")
    props = template.doc["Resources"]["LedgerTable"]["Properties"]
    made = timed.dynamodb.describe_table(TableName=timed.table_name)["Table"]
    assert sorted(map(dict.items, props["AttributeDefinitions"])) == sorted(
        map(dict.items, made["AttributeDefinitions"])
    )
    assert props["KeySchema"] == made["KeySchema"]
    [index] = made["GlobalSecondaryIndexes"]
    assert props["GlobalSecondaryIndexes"] == [
        {name: index[name] for name in ("IndexName", "KeySchema", "Projection")}
    ]
    grants = {
        name
        for name, function in template.resources("AWS::Serverless::Function").items()
        if "/index/fleet" in str(function["Properties"].get("Policies"))
    }
    assert grants == {"SweepFunction", "MeshMapFunction"}


def test_history_reads_only_the_newest_entries_and_gives_them_oldest_first(
    timed: LedgerStore, clock: Clock
) -> None:
    for n in range(25):
        timed.add_history(VPC, {"event": "pass", "n": n})
        clock.now += 1
    asked: list[dict[str, Any]] = []

    def hook(params: dict[str, Any], **_: Any) -> None:
        asked.append(params)

    events = timed.dynamodb.meta.events
    events.register("provide-client-params.dynamodb.Query", hook, unique_id="history-query")
    try:
        latest = timed.history(VPC, 5)
    finally:
        events.unregister("provide-client-params.dynamodb.Query", unique_id="history-query")
    assert [e["n"] for e in latest] == [20, 21, 22, 23, 24]
    # one Query of the newest five, not the partition's 25
    assert [(a.get("Limit"), a.get("ScanIndexForward")) for a in asked] == [(5, False)]
    assert [e["n"] for e in timed.history(VPC, 30)] == list(range(25))
