"""The core (observe -> plan -> apply -> verify, ledger, lease, quarantine) against the sandbox.

Outcomes are asserted in AWS state read back through boto3, never in calls made.
"""

from __future__ import annotations

from typing import Any

import pytest

from outpost_mesh.errors import LeaseBusyError, ReconcileFailedError
from outpost_mesh.ledger import LedgerStore
from outpost_mesh.observe import observe_vpc
from outpost_mesh.planner import plan_vpc
from outpost_mesh.verify import reachability
from outpost_mesh_sandbox.aws.server import Sandbox

from .support import reconcile, seeded


def lgw_routes(ec2: Any, table_id: str) -> dict[str, str]:
    table = ec2.describe_route_tables(RouteTableIds=[table_id])["RouteTables"][0]
    return {
        r["DestinationCidrBlock"]: r["LocalGatewayId"]
        for r in table["Routes"]
        if r.get("LocalGatewayId")
    }


def live_associations(ec2: Any, vpc_id: str) -> set[str]:
    found = ec2.describe_local_gateway_route_table_vpc_associations(
        Filters=[{"Name": "vpc-id", "Values": [vpc_id]}]
    )["LocalGatewayRouteTableVpcAssociations"]
    return {a["LocalGatewayRouteTableId"] for a in found if a["State"] == "associated"}


def test_blog_plan_apply_verify_then_empty_plan(sb: Sandbox, ec2: Any, store: LedgerStore) -> None:
    ids = seeded(sb, "blog")
    vpc = ids.vpc_id("app")
    rack_a, rack_b = ids.outpost("rack-a"), ids.outpost("rack-b")

    before = plan_vpc(observe_vpc(ec2, vpc), store.load(vpc))
    assert len(before.associations_to_create) == 2
    assert [(r.route_table_id, r.destination) for r in before.routes_to_create] == sorted(
        [(ids.route_table_id("rt-a"), "10.7.11.0/24"), (ids.route_table_id("rt-b"), "10.7.7.0/24")]
    )
    assert not any(p.reachable for p in reachability(observe_vpc(ec2, vpc)))

    result = reconcile(ec2, store, vpc)

    assert lgw_routes(ec2, ids.route_table_id("rt-a")) == {"10.7.11.0/24": rack_a.local_gateway_id}
    assert lgw_routes(ec2, ids.route_table_id("rt-b")) == {"10.7.7.0/24": rack_b.local_gateway_id}
    assert live_associations(ec2, vpc) == {
        rack_a.local_gateway_route_table_id,
        rack_b.local_gateway_route_table_id,
    }
    assert [p.reachable for p in result.reachability] == [True, True]
    after = plan_vpc(observe_vpc(ec2, vpc), store.load(vpc))
    assert not after.has_changes
    assert len(store.load(vpc).routes) == 2


def test_three_racks_shared_table_and_secondary_cidr(
    sb: Sandbox, ec2: Any, store: LedgerStore
) -> None:
    ids = seeded(sb, "three-racks")
    vpc = ids.vpc_id("plant")
    result = reconcile(ec2, store, vpc)

    rt_a = lgw_routes(ec2, ids.route_table_id("rt-a"))
    lgw_a = ids.outpost("rack-a").local_gateway_id
    # rt-a serves subnet-a1 and subnet-a2: each sibling destination once, none of its own.
    assert rt_a == {
        "10.21.1.0/24": lgw_a,
        "10.21.2.0/24": lgw_a,
        "10.20.3.0/24": lgw_a,
    }
    assert set(lgw_routes(ec2, ids.route_table_id("rt-b"))) == {
        "10.20.1.0/24",
        "10.20.2.0/24",
        "10.20.3.0/24",
    }
    # The main table serves the In-Region subnet: never an LGW route there.
    assert lgw_routes(ec2, ids.main_route_table_id("plant")) == {}
    assert len(live_associations(ec2, vpc)) == 3
    assert all(p.reachable for p in result.reachability)
    assert len(result.reachability) == 5 * 4 - 2 - 2  # ordered pairs on different racks


def test_remove_takes_out_only_what_it_owns(sb: Sandbox, ec2: Any, store: LedgerStore) -> None:
    ids = seeded(sb, "blog")
    vpc = ids.vpc_id("app")
    person = sb.client("ec2", caller="scenario")
    reconcile(ec2, store, vpc)
    # A person adds an appliance route to rt-a; remove must leave it.
    eni = person.create_network_interface(SubnetId=ids.subnet_id("subnet-a"))
    person.create_route(
        RouteTableId=ids.route_table_id("rt-a"),
        DestinationCidrBlock="0.0.0.0/0",
        NetworkInterfaceId=eni["NetworkInterface"]["NetworkInterfaceId"],
    )

    reconcile(ec2, store, vpc, remove=True)

    assert lgw_routes(ec2, ids.route_table_id("rt-a")) == {}
    assert lgw_routes(ec2, ids.route_table_id("rt-b")) == {}
    assert live_associations(ec2, vpc) == set()
    rt_a = ec2.describe_route_tables(RouteTableIds=[ids.route_table_id("rt-a")])["RouteTables"][0]
    assert "0.0.0.0/0" in {r.get("DestinationCidrBlock") for r in rt_a["Routes"]}
    assert store.load(vpc).routes == ()


def test_hand_made_identical_route_is_satisfied_never_owned(
    sb: Sandbox, ec2: Any, store: LedgerStore
) -> None:
    ids = seeded(sb, "blog")
    vpc = ids.vpc_id("app")
    person = sb.client("ec2", caller="scenario")
    rack_a = ids.outpost("rack-a")
    person.create_local_gateway_route_table_vpc_association(
        LocalGatewayRouteTableId=rack_a.local_gateway_route_table_id, VpcId=vpc
    )
    for _ in range(10):  # describes move it on (the sandbox counts them, no clock)
        if live_associations(person, vpc):
            break
    person.create_route(
        RouteTableId=ids.route_table_id("rt-a"),
        DestinationCidrBlock="10.7.11.0/24",
        LocalGatewayId=rack_a.local_gateway_id,
    )

    reconcile(ec2, store, vpc)
    owned = {(r.route_table_id, r.destination) for r in store.load(vpc).routes}
    assert (ids.route_table_id("rt-a"), "10.7.11.0/24") not in owned
    assert (ids.route_table_id("rt-b"), "10.7.7.0/24") in owned

    reconcile(ec2, store, vpc, remove=True)
    # the person's route stays; the system's own is gone
    assert lgw_routes(ec2, ids.route_table_id("rt-a")) == {"10.7.11.0/24": rack_a.local_gateway_id}
    assert lgw_routes(ec2, ids.route_table_id("rt-b")) == {}


def test_rack_without_update_rolls_back_and_is_quarantined(
    sb: Sandbox, ec2: Any, store: LedgerStore
) -> None:
    ids = seeded(sb, "rack-not-updated")
    vpc = ids.vpc_id(next(iter(ids.vpcs)))
    before = {t: lgw_routes(ec2, t) for t in ids.route_tables.values()}

    with pytest.raises(ReconcileFailedError) as failed:
        reconcile(ec2, store, vpc)

    assert failed.value.kind == "rack-not-updated"
    assert {t: lgw_routes(ec2, t) for t in ids.route_tables.values()} == before
    assert live_associations(ec2, vpc) == set()
    assert store.load(vpc).routes == ()
    assert len(store.quarantined()) == 1
    # the quarantined rack is left out: the next reconcile meshes the rest without error
    plan = plan_vpc(observe_vpc(ec2, vpc), store.load(vpc), store.quarantined())
    assert any(f.kind == "rack-not-updated" for f in plan.findings)
    assert store.lease(vpc) is None or store.lease(vpc).get("holder") is None  # type: ignore[union-attr]


def test_route_quota_mid_apply_leaves_vpc_as_found(
    sb: Sandbox, ec2: Any, store: LedgerStore
) -> None:
    ids = seeded(sb, "three-racks")
    vpc = ids.vpc_id("plant")
    sb.control.configure(routes_per_table=2)  # rt-a needs 3 LGW routes

    with pytest.raises(ReconcileFailedError) as failed:
        reconcile(ec2, store, vpc)

    assert failed.value.kind == "route-quota"
    for table in ids.route_tables.values():
        assert lgw_routes(ec2, table) == {}
    assert live_associations(ec2, vpc) == set()
    assert store.load(vpc).routes == ()
    assert store.load(vpc).associations == ()


def test_a_route_limit_exceeded_is_remembered_and_not_tried_again_until_something_changes(
    sb: Sandbox, ec2: Any, store: LedgerStore
) -> None:
    """The account's real quota (3) is below RoutesPerTableQuota (50): rt-c's 4th route is
    refused and the pass rolled back, once. The next pass leaves rt-c out up front (another
    CreateRoute there would fail the pass again) and meshes rack-a and rack-b; with the quota
    raised and the parameter following, rt-c is tried again and meshed."""
    ids = seeded(sb, "three-racks")
    vpc = ids.vpc_id("plant")
    sb.control.configure(routes_per_table=3)  # rt-a and rt-b need 3 LGW routes, rt-c 4
    rt_c = ids.route_table_id("rt-c")

    with pytest.raises(ReconcileFailedError) as failed:
        reconcile(ec2, store, vpc)
    assert failed.value.kind == "route-quota"
    assert [r.route_table_id for r in store.load(vpc).quota_refusals] == [rt_c]

    result = reconcile(ec2, store, vpc)  # raises if it tried rt-c again

    assert lgw_routes(ec2, rt_c) == {}
    assert [f.subject for f in result.findings if f.kind == "route-quota"] == [rt_c]
    cidr_c = "10.20.3.0/24"
    for name in ("rt-a", "rt-b"):
        routes = lgw_routes(ec2, ids.route_table_id(name))
        assert len(routes) == 2 and cidr_c not in routes  # nothing one-way towards rack-c

    sb.control.configure(routes_per_table=50)
    reconcile(ec2, store, vpc, routes_per_table=60)

    assert len(lgw_routes(ec2, rt_c)) == 4
    assert store.load(vpc).quota_refusals == ()  # forgotten once the plan no longer holds it


def test_lease_held_by_another_hands_the_trigger_over(
    sb: Sandbox, ec2: Any, store: LedgerStore
) -> None:
    ids = seeded(sb, "blog")
    vpc = ids.vpc_id("app")
    claim = store.claim(vpc, "someone-else")

    with pytest.raises(LeaseBusyError):
        reconcile(ec2, store, vpc)

    assert lgw_routes(ec2, ids.route_table_id("rt-a")) == {}
    # the trigger was counted: the holder must make another pass before it may release
    again = store.release(claim)
    assert again is not None
    assert store.release(again) is None


def test_expired_lease_is_taken_over(sb: Sandbox, ec2: Any, store: LedgerStore) -> None:
    ids = seeded(sb, "blog")
    vpc = ids.vpc_id("app")
    store.claim(vpc, "crashed-run", seconds=-1)  # already expired
    reconcile(ec2, store, vpc)
    assert lgw_routes(ec2, ids.route_table_id("rt-a")) != {}
