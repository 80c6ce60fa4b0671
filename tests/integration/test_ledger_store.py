"""LedgerStore against the sandbox's DynamoDB: what each operation costs in DynamoDB calls (the
demo reports API calls; they must not go up), what it leaves in the table (the layout existing
tables hold), and that ``load`` and ``owned_by`` read the same items the same way.

Calls are counted with a botocore ``before-call`` hook on the store's own client.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from outpost_mesh.errors import LeaseBusyError
from outpost_mesh.ledger import LedgerStore
from outpost_mesh.model import Finding, FindingKind, OwnedAssociation, OwnedRoute, QuotaRefusal

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
    }
    assert raw(timed, "MANAGED", f"VPC#{VPC}") == {
        "pk": {"S": "MANAGED"},
        "sk": {"S": f"VPC#{VPC}"},
        "vpc_id": {"S": VPC},
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
    }
    clock.now += 10
    with calls() as made:
        assert timed.resolve_findings(VPC, (conflict,)) == [coip]
    assert made == ["Query", "UpdateItem"]
    assert raw(timed, f"FINDINGS#{VPC}", "coip-mode#subnet-2")["resolved_at"] == {"N": str(T + 10)}
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
    assert made == ["GetItem", "PutItem", "GetItem", "PutItem"]
    with calls() as made:
        timed.remember_locations(VPC, ("subnet-1",), ("rtb-1",))  # known: read only
    assert made == ["GetItem", "GetItem"]
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
