"""The pure planner on plain data: desired state, the diff against AWS and the ledger, teardown.

No boto3 and no moto: topologies are built by hand (examples) or by hypothesis (properties), and
a plan is "applied" by ``apply_plan`` below, which changes the frozen topology and ledger the way
the AWS adapter changes AWS and DynamoDB.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, event, given, settings, target

from outpost_mesh.model import (
    COIP,
    DIRECT_VPC_ROUTING,
    Ledger,
    LocalGatewayRouteTable,
    OwnedAssociation,
    OwnedRoute,
    Plan,
    Route,
    RouteChange,
    RouteTable,
    Subnet,
    Topology,
    VpcAssociation,
)
from outpost_mesh.planner import desired_state, plan_vpc, removal_plan
from outpost_mesh.verify import reachability

from .strategies import Scenario, scenarios

VPC = "vpc-0blog"
VPC_CIDR = "10.7.0.0/16"


# --------------------------------------------------------------------------- example builders


def rack(name: str) -> str:
    return f"arn:aws:outposts:eu-west-1:111122223333:outpost/op-{name}"


def lgw(name: str, mode: str = DIRECT_VPC_ROUTING) -> LocalGatewayRouteTable:
    return LocalGatewayRouteTable(rack(name), f"lgw-{name}", f"lgw-rtb-{name}", mode)


def subnet(
    subnet_id: str,
    cidr: str | None,
    on: str | None = None,
    *,
    ipv6: tuple[str, ...] = (),
    opted_out: bool = False,
) -> Subnet:
    return Subnet(subnet_id, VPC, cidr, rack(on) if on else None, ipv6, opted_out=opted_out)


def table(
    table_id: str,
    *subnet_ids: str,
    routes: tuple[tuple[str, str], ...] = (),
    main: bool = False,
    opted_out: bool = False,
    vpc_cidrs: tuple[str, ...] = (VPC_CIDR,),
) -> RouteTable:
    local = tuple(Route(c, "local") for c in vpc_cidrs)
    return RouteTable(
        table_id,
        VPC,
        main=main,
        subnet_ids=subnet_ids,
        routes=local + tuple(Route(d, t) for d, t in routes),
        opted_out=opted_out,
    )


def associated(name: str, state: str = "associated", assoc_id: str = "") -> VpcAssociation:
    return VpcAssociation(
        assoc_id or f"lgw-vpc-assoc-{name}", f"lgw-rtb-{name}", VPC, state, f"lgw-{name}"
    )


def topology(
    subnets: list[Subnet],
    tables: list[RouteTable],
    lgws: list[LocalGatewayRouteTable],
    associations: list[VpcAssociation] | None = None,
    vpc_cidrs: tuple[str, ...] = (VPC_CIDR,),
) -> Topology:
    if not any(t.main for t in tables):
        tables = [table("rtb-main", main=True, vpc_cidrs=vpc_cidrs), *tables]
    return Topology(
        VPC, vpc_cidrs, tuple(subnets), tuple(tables), tuple(lgws), tuple(associations or ())
    )


def blog(
    rt_a_routes: tuple[tuple[str, str], ...] = (),
    rt_b_routes: tuple[tuple[str, str], ...] = (),
    associations: list[VpcAssociation] | None = None,
    with_subnet_b: bool = True,
) -> Topology:
    """The AWS blog's VPC: subnet-a on rack-a (rt-a), subnet-b on rack-b (rt-b)."""
    subnets = [subnet("subnet-a", "10.7.7.0/24", "a")]
    if with_subnet_b:
        subnets.append(subnet("subnet-b", "10.7.11.0/24", "b"))
    return topology(
        subnets,
        [
            table("rt-a", "subnet-a", routes=rt_a_routes),
            table("rt-b", *(("subnet-b",) if with_subnet_b else ()), routes=rt_b_routes),
        ],
        [lgw("a"), lgw("b")],
        associations,
    )


def creates(plan: Plan) -> set[tuple[str, str, str]]:
    return {(c.route_table_id, c.destination, c.local_gateway_id) for c in plan.routes_to_create}


def deletes(plan: Plan) -> set[tuple[str, str, str]]:
    return {(c.route_table_id, c.destination, c.local_gateway_id) for c in plan.routes_to_delete}


def verdicts(topo: Topology) -> list[tuple[str, str, bool]]:
    return [(p.source_subnet_id, p.destination_subnet_id, p.reachable) for p in reachability(topo)]


def kinds(plan: Plan) -> set[tuple[str, str]]:
    return {(f.kind, f.subject) for f in plan.findings}


# --------------------------------------------------------------------------- applying a plan


def apply_plan(topo: Topology, ledger: Ledger, plan: Plan) -> tuple[Topology, Ledger]:
    """What the adapter does to AWS and the ledger, on plain data.

    Deletes first, then creates; a route is only deleted if AWS has it with the planned target, and
    only created where the table has no route for that destination (else CreateRoute would fail
    with RouteAlreadyExists): both asserted. Stale ledger entries are forgotten.
    """
    routes = {t.route_table_id: {r.destination: r for r in t.routes} for t in topo.route_tables}
    for change in plan.routes_to_delete:
        current = routes[change.route_table_id].get(change.destination)
        assert current is not None, f"DeleteRoute of a missing route {change}"
        assert current.target == change.local_gateway_id, f"DeleteRoute of another's route {change}"
        del routes[change.route_table_id][change.destination]
    for change in plan.routes_to_create:
        assert change.destination not in routes[change.route_table_id], (
            f"CreateRoute over an existing route {change}"
        )
        routes[change.route_table_id][change.destination] = Route(
            change.destination, change.local_gateway_id
        )
    tables = tuple(
        replace(t, routes=tuple(routes[t.route_table_id].values())) for t in topo.route_tables
    )

    dropped = {a.association_id for a in plan.associations_to_delete}
    associations = [a for a in topo.associations if a.association_id not in dropped]
    new_owned: list[OwnedAssociation] = []
    for wanted in plan.associations_to_create:
        assoc_id = f"lgw-vpc-assoc-new-{wanted.lgw_route_table_id}"
        associations.append(
            VpcAssociation(
                assoc_id,
                wanted.lgw_route_table_id,
                topo.vpc_id,
                "associated",
                wanted.local_gateway_id,
            )
        )
        new_owned.append(OwnedAssociation(assoc_id, wanted.lgw_route_table_id, wanted.outpost_arn))

    def key(r: OwnedRoute | RouteChange) -> tuple[str, str, str]:
        return (r.route_table_id, r.destination, r.local_gateway_id)

    forgotten = {key(c) for c in plan.routes_to_delete} | {key(r) for r in plan.stale_routes}
    owned_routes = {key(r): r for r in ledger.routes if key(r) not in forgotten}
    for change in plan.routes_to_create:
        owned_routes[key(change)] = change.owned()
    gone = dropped | {a.association_id for a in plan.stale_associations}
    owned_associations = [a for a in ledger.associations if a.association_id not in gone]

    after = replace(topo, route_tables=tables, associations=tuple(associations))
    return after, Ledger(
        ledger.vpc_id,
        tuple(sorted(owned_routes.values())),
        tuple(owned_associations + new_owned),
    )


# --------------------------------------------------------------------------- the blog example


def test_blog_example_plans_two_associations_and_two_routes() -> None:
    plan = plan_vpc(blog(), Ledger(VPC))

    assert creates(plan) == {
        ("rt-a", "10.7.11.0/24", "lgw-a"),
        ("rt-b", "10.7.7.0/24", "lgw-b"),
    }
    assert [c.lgw_route_table_id for c in plan.associations_to_create] == ["lgw-rtb-a", "lgw-rtb-b"]
    assert all(c.vpc_id == VPC for c in plan.associations_to_create)
    assert plan.routes_to_delete == () and plan.associations_to_delete == ()
    assert plan.findings == ()
    by_table = {c.route_table_id: c for c in plan.routes_to_create}
    assert by_table["rt-a"].destination_subnet_id == "subnet-b"
    assert by_table["rt-a"].source_subnet_ids == ("subnet-a",)
    assert by_table["rt-b"].destination_subnet_id == "subnet-a"
    assert by_table["rt-b"].source_subnet_ids == ("subnet-b",)


def test_blog_example_is_unreachable_before_and_reachable_after() -> None:
    before = blog()
    assert verdicts(before) == [
        ("subnet-a", "subnet-b", False),
        ("subnet-b", "subnet-a", False),
    ]

    after = blog(
        rt_a_routes=(("10.7.11.0/24", "lgw-a"),),
        rt_b_routes=(("10.7.7.0/24", "lgw-b"),),
        associations=[associated("a"), associated("b")],
    )
    assert verdicts(after) == [
        ("subnet-a", "subnet-b", True),
        ("subnet-b", "subnet-a", True),
    ]


def test_blog_example_applied_is_reachable_and_needs_no_second_pass() -> None:
    before, ledger = blog(), Ledger(VPC)
    after, ledger_after = apply_plan(before, ledger, plan_vpc(before, ledger))

    assert all(p.reachable for p in reachability(after))
    assert {(r.route_table_id, r.destination) for r in ledger_after.routes} == {
        ("rt-a", "10.7.11.0/24"),
        ("rt-b", "10.7.7.0/24"),
    }
    assert plan_vpc(after, ledger_after).is_empty


# --------------------------------------------------------------------------- routes and ownership


def test_route_with_wanted_target_made_by_a_person_is_satisfied_and_not_owned() -> None:
    topo = blog(rt_a_routes=(("10.7.11.0/24", "lgw-a"),))
    ledger = Ledger(VPC)
    plan = plan_vpc(topo, ledger)

    assert creates(plan) == {("rt-b", "10.7.7.0/24", "lgw-b")}
    assert plan.routes_to_delete == ()
    assert plan.findings == ()
    _, ledger_after = apply_plan(topo, ledger, plan)
    assert not ledger_after.owns_route("rt-a", "10.7.11.0/24", "lgw-a")


def test_unowned_route_with_wanted_target_is_not_deleted_when_no_longer_wanted() -> None:
    # subnet-b is gone: the person's route in rt-a is no longer wanted, but it is not ours.
    topo = blog(rt_a_routes=(("10.7.11.0/24", "lgw-a"),), with_subnet_b=False)
    plan = plan_vpc(topo, Ledger(VPC))

    assert plan.routes_to_delete == ()
    assert plan.is_empty


def test_route_for_wanted_cidr_with_another_target_is_a_conflict_left_alone() -> None:
    topo = blog(rt_a_routes=(("10.7.11.0/24", "eni-0appliance"),))
    plan = plan_vpc(topo, Ledger(VPC))

    assert ("conflict", "rt-a:10.7.11.0/24") in kinds(plan)
    assert all(c.route_table_id != "rt-a" for c in plan.routes_to_create)
    assert plan.routes_to_delete == ()
    assert creates(plan) == {("rt-b", "10.7.7.0/24", "lgw-b")}


def test_unowned_route_to_another_lgw_is_a_conflict_not_replaced() -> None:
    topo = blog(rt_a_routes=(("10.7.11.0/24", "lgw-b"),))
    plan = plan_vpc(topo, Ledger(VPC))

    assert ("conflict", "rt-a:10.7.11.0/24") in kinds(plan)
    assert plan.routes_to_delete == ()
    assert ("rt-a", "10.7.11.0/24", "lgw-a") not in creates(plan)


def test_ledger_claim_on_a_route_now_pointing_elsewhere_does_not_make_it_ours() -> None:
    # The ledger says we made rt-a 10.7.11.0/24 -> lgw-a, but someone replaced it with an ENI.
    topo = blog(rt_a_routes=(("10.7.11.0/24", "eni-0appliance"),))
    ledger = Ledger(VPC, routes=(OwnedRoute("rt-a", "10.7.11.0/24", "lgw-a"),))
    plan = plan_vpc(topo, ledger)

    assert ("conflict", "rt-a:10.7.11.0/24") in kinds(plan)
    assert plan.routes_to_delete == ()
    assert all(c.route_table_id != "rt-a" for c in plan.routes_to_create)


def test_owned_route_no_longer_wanted_is_deleted() -> None:
    topo = blog(rt_a_routes=(("10.7.11.0/24", "lgw-a"),), with_subnet_b=False)
    owned = OwnedRoute("rt-a", "10.7.11.0/24", "lgw-a", "subnet-b", ("subnet-a",))
    plan = plan_vpc(topo, Ledger(VPC, routes=(owned,)))

    assert deletes(plan) == {("rt-a", "10.7.11.0/24", "lgw-a")}
    assert plan.routes_to_create == ()
    assert plan.stale_routes == ()


def test_owned_route_already_gone_is_stale_and_not_deleted() -> None:
    topo = blog(with_subnet_b=False)
    owned = OwnedRoute("rt-a", "10.7.11.0/24", "lgw-a", "subnet-b", ("subnet-a",))
    plan = plan_vpc(topo, Ledger(VPC, routes=(owned,)))

    assert plan.routes_to_delete == ()
    assert plan.stale_routes == (owned,)
    assert not plan.has_changes


def test_owned_route_deleted_by_a_person_while_still_wanted_is_created_again() -> None:
    topo = blog(rt_b_routes=(("10.7.7.0/24", "lgw-b"),))
    ledger = Ledger(
        VPC,
        routes=(
            OwnedRoute("rt-a", "10.7.11.0/24", "lgw-a"),
            OwnedRoute("rt-b", "10.7.7.0/24", "lgw-b"),
        ),
    )
    plan = plan_vpc(topo, ledger)

    assert creates(plan) == {("rt-a", "10.7.11.0/24", "lgw-a")}
    assert plan.routes_to_delete == ()


def test_owned_route_to_another_lgw_than_now_wanted_is_deleted_and_created_again() -> None:
    # rt-a used to serve subnet-a on rack-a; now it serves subnet-c on rack-c instead.
    topo = topology(
        [
            subnet("subnet-a", "10.7.7.0/24", "a"),
            subnet("subnet-b", "10.7.11.0/24", "b"),
            subnet("subnet-c", "10.7.9.0/24", "c"),
        ],
        [
            table("rt-a", "subnet-c", routes=(("10.7.11.0/24", "lgw-a"),)),
            table("rt-b", "subnet-b"),
            table("rt-a2", "subnet-a"),
        ],
        [lgw("a"), lgw("b"), lgw("c")],
    )
    ledger = Ledger(VPC, routes=(OwnedRoute("rt-a", "10.7.11.0/24", "lgw-a"),))
    plan = plan_vpc(topo, ledger)

    assert ("rt-a", "10.7.11.0/24", "lgw-a") in deletes(plan)
    assert ("rt-a", "10.7.11.0/24", "lgw-c") in creates(plan)
    assert not any(f.kind == "conflict" for f in plan.findings)
    after, ledger_after = apply_plan(topo, ledger, plan)
    assert ledger_after.owns_route("rt-a", "10.7.11.0/24", "lgw-c")
    assert not ledger_after.owns_route("rt-a", "10.7.11.0/24", "lgw-a")
    assert not plan_vpc(after, ledger_after).has_changes


# --------------------------------------------------------------------------- route tables


def test_main_table_shared_with_an_in_region_subnet_gets_no_route() -> None:
    topo = topology(
        [
            subnet("subnet-a", "10.7.7.0/24", "a"),  # on the main table
            subnet("subnet-web", "10.7.1.0/24"),  # In-Region, on the main table too
            subnet("subnet-b", "10.7.11.0/24", "b"),
            subnet("subnet-c", "10.7.12.0/24", "c"),
        ],
        [table("rt-b", "subnet-b"), table("rt-c", "subnet-c")],
        [lgw("a"), lgw("b"), lgw("c")],
    )
    plan = plan_vpc(topo, Ledger(VPC))

    assert ("shared-route-table", "subnet-a") in kinds(plan)
    assert creates(plan) == {
        ("rt-b", "10.7.12.0/24", "lgw-b"),
        ("rt-c", "10.7.11.0/24", "lgw-c"),
    }
    assert "lgw-rtb-a" not in {c.lgw_route_table_id for c in plan.associations_to_create}


def test_explicit_table_shared_with_an_in_region_subnet_gets_no_route() -> None:
    topo = topology(
        [
            subnet("subnet-a", "10.7.7.0/24", "a"),
            subnet("subnet-web", "10.7.1.0/24"),
            subnet("subnet-b", "10.7.11.0/24", "b"),
        ],
        [table("rt-a", "subnet-a", "subnet-web"), table("rt-b", "subnet-b")],
        [lgw("a"), lgw("b")],
    )
    plan = plan_vpc(topo, Ledger(VPC))

    assert ("shared-route-table", "subnet-a") in kinds(plan)
    assert plan.routes_to_create == ()
    assert plan.associations_to_create == ()


def test_table_shared_by_two_subnets_of_one_rack_gets_each_route_once() -> None:
    topo = topology(
        [
            subnet("subnet-a1", "10.7.7.0/24", "a"),
            subnet("subnet-a2", "10.7.8.0/24", "a"),
            subnet("subnet-b", "10.7.11.0/24", "b"),
        ],
        [table("rt-a", "subnet-a1", "subnet-a2"), table("rt-b", "subnet-b")],
        [lgw("a"), lgw("b")],
    )
    plan = plan_vpc(topo, Ledger(VPC))

    rt_a = [c for c in plan.routes_to_create if c.route_table_id == "rt-a"]
    assert len(rt_a) == 1
    assert rt_a[0].destination == "10.7.11.0/24"
    assert rt_a[0].source_subnet_ids == ("subnet-a1", "subnet-a2")
    assert creates(plan) == {
        ("rt-a", "10.7.11.0/24", "lgw-a"),
        ("rt-b", "10.7.7.0/24", "lgw-b"),
        ("rt-b", "10.7.8.0/24", "lgw-b"),
    }
    assert plan.findings == ()


def test_route_of_a_shared_table_names_every_subnet_it_serves_in_its_reason() -> None:
    topo = topology(
        [
            subnet("subnet-a2", "10.7.8.0/24", "a"),
            subnet("subnet-a1", "10.7.7.0/24", "a"),
            subnet("subnet-a3", "10.7.9.0/24", "a"),
            subnet("subnet-b", "10.7.11.0/24", "b"),
        ],
        [table("rt-a", "subnet-a3", "subnet-a1", "subnet-a2"), table("rt-b", "subnet-b")],
        [lgw("a"), lgw("b")],
    )
    plan = plan_vpc(topo, Ledger(VPC))

    (to_b,) = [c for c in plan.routes_to_create if c.route_table_id == "rt-a"]
    assert to_b.source_subnet_ids == ("subnet-a1", "subnet-a2", "subnet-a3")
    assert to_b.destination_subnet_id == "subnet-b"
    assert to_b.reason == (
        f"subnet-a1, subnet-a2, subnet-a3 on {rack('a')} reach subnet-b on {rack('b')}"
    )
    assert [c.reason for c in plan.routes_to_create if c.route_table_id == "rt-b"] == [
        f"subnet-b on {rack('b')} reach subnet-a1 on {rack('a')}",
        f"subnet-b on {rack('b')} reach subnet-a2 on {rack('a')}",
        f"subnet-b on {rack('b')} reach subnet-a3 on {rack('a')}",
    ]
    assert desired_state(topo).routes[("rt-a", "10.7.11.0/24")].reason == to_b.reason


def test_table_shared_by_subnets_of_two_racks_is_a_shared_route_table() -> None:
    topo = topology(
        [
            subnet("subnet-a", "10.7.7.0/24", "a"),
            subnet("subnet-b", "10.7.11.0/24", "b"),
            subnet("subnet-c", "10.7.12.0/24", "c"),
        ],
        [table("rt-ab", "subnet-a", "subnet-b"), table("rt-c", "subnet-c")],
        [lgw("a"), lgw("b"), lgw("c")],
    )
    plan = plan_vpc(topo, Ledger(VPC))

    assert {("shared-route-table", "subnet-a"), ("shared-route-table", "subnet-b")} <= kinds(plan)
    # Only subnet-c is eligible: one Outpost, nothing to mesh.
    assert not plan.has_changes


# --------------------------------------------------------------------------- eligibility


def three_racks(
    lgw_c: LocalGatewayRouteTable | None = None, subnet_c: Subnet | None = None
) -> Topology:
    return topology(
        [
            subnet("subnet-a", "10.7.7.0/24", "a"),
            subnet("subnet-b", "10.7.11.0/24", "b"),
            subnet_c or subnet("subnet-c", "10.7.12.0/24", "c"),
        ],
        [table("rt-a", "subnet-a"), table("rt-b", "subnet-b"), table("rt-c", "subnet-c")],
        [lgw("a"), lgw("b"), lgw_c or lgw("c")],
    )


A_B_ONLY = {("rt-a", "10.7.11.0/24", "lgw-a"), ("rt-b", "10.7.7.0/24", "lgw-b")}


def test_coip_rack_is_reported_and_its_subnets_get_no_routes_nor_routes_to_them() -> None:
    plan = plan_vpc(three_racks(lgw_c=lgw("c", COIP)), Ledger(VPC))

    assert ("coip-mode", rack("c")) in kinds(plan)
    assert creates(plan) == A_B_ONLY
    assert "lgw-rtb-c" not in {c.lgw_route_table_id for c in plan.associations_to_create}


def test_quarantined_rack_is_reported_and_left_out() -> None:
    plan = plan_vpc(three_racks(), Ledger(VPC), quarantined=frozenset({rack("c")}))

    assert ("rack-not-updated", rack("c")) in kinds(plan)
    assert creates(plan) == A_B_ONLY
    assert "lgw-rtb-c" not in {c.lgw_route_table_id for c in plan.associations_to_create}


def test_ipv6_cidr_is_unsupported_while_the_ipv4_cidr_is_still_meshed() -> None:
    dual = subnet("subnet-c", "10.7.12.0/24", "c", ipv6=("2600:1f18:0:c::/64",))
    plan = plan_vpc(three_racks(subnet_c=dual), Ledger(VPC))

    assert ("unsupported", "subnet-c") in kinds(plan)
    assert ("rt-c", "10.7.7.0/24", "lgw-c") in creates(plan)
    assert ("rt-a", "10.7.12.0/24", "lgw-a") in creates(plan)
    assert all(":" not in c.destination for c in plan.routes_to_create)
    assert len(plan.routes_to_create) == 6


def test_ipv6_only_subnet_is_unsupported_and_left_out() -> None:
    v6 = subnet("subnet-c", None, "c", ipv6=("2600:1f18:0:c::/64",))
    plan = plan_vpc(three_racks(subnet_c=v6), Ledger(VPC))

    assert ("unsupported", "subnet-c") in kinds(plan)
    assert creates(plan) == A_B_ONLY


def test_subnet_as_large_as_a_vpc_cidr_block_is_unsupported() -> None:
    whole = Subnet("subnet-c", VPC, "10.8.0.0/24", rack("c"))
    topo = topology(
        [subnet("subnet-a", "10.7.7.0/24", "a"), subnet("subnet-b", "10.7.11.0/24", "b"), whole],
        [
            table("rt-a", "subnet-a", vpc_cidrs=(VPC_CIDR, "10.8.0.0/24")),
            table("rt-b", "subnet-b", vpc_cidrs=(VPC_CIDR, "10.8.0.0/24")),
            table("rt-c", "subnet-c", vpc_cidrs=(VPC_CIDR, "10.8.0.0/24")),
        ],
        [lgw("a"), lgw("b"), lgw("c")],
        vpc_cidrs=(VPC_CIDR, "10.8.0.0/24"),
    )
    plan = plan_vpc(topo, Ledger(VPC))

    assert ("unsupported", "subnet-c") in kinds(plan)
    assert creates(plan) == A_B_ONLY


def test_opted_out_subnet_is_left_out_silently() -> None:
    out = subnet("subnet-c", "10.7.12.0/24", "c", opted_out=True)
    plan = plan_vpc(three_racks(subnet_c=out), Ledger(VPC))

    assert creates(plan) == A_B_ONLY
    assert plan.findings == ()


def test_opted_out_table_is_left_out_silently() -> None:
    topo = three_racks()
    topo = replace(
        topo,
        route_tables=tuple(
            replace(t, opted_out=True) if t.route_table_id == "rt-c" else t
            for t in topo.route_tables
        ),
    )
    plan = plan_vpc(topo, Ledger(VPC))

    assert creates(plan) == A_B_ONLY
    assert plan.findings == ()


def test_outpost_without_a_visible_lgw_route_table_has_no_routing_domain_and_is_left_out() -> None:
    topo = three_racks()
    topo = replace(topo, lgw_route_tables=(lgw("a"), lgw("b")))
    plan = plan_vpc(topo, Ledger(VPC))

    assert ("no-routing-domain", rack("c")) in kinds(plan)
    assert creates(plan) == A_B_ONLY


# --------------------------------------------------------------------------- Outposts


def test_vpc_on_one_outpost_only_gets_an_empty_plan() -> None:
    topo = topology(
        [subnet("subnet-a1", "10.7.7.0/24", "a"), subnet("subnet-a2", "10.7.8.0/24", "a")],
        [table("rt-a1", "subnet-a1"), table("rt-a2", "subnet-a2")],
        [lgw("a"), lgw("b")],
    )
    plan = plan_vpc(topo, Ledger(VPC))

    assert plan.is_empty
    assert plan.associations_to_create == ()
    assert plan.findings == ()


def test_three_racks_with_a_secondary_vpc_cidr_get_a_full_mesh() -> None:
    cidrs = (VPC_CIDR, "100.64.0.0/16")
    topo = topology(
        [
            subnet("subnet-a", "10.7.7.0/24", "a"),
            subnet("subnet-b", "10.7.11.0/24", "b"),
            subnet("subnet-c", "100.64.3.0/24", "c"),  # in the secondary CIDR block
            subnet("subnet-web", "10.7.1.0/24"),  # In-Region, on the main table
        ],
        [
            table("rt-a", "subnet-a", vpc_cidrs=cidrs),
            table("rt-b", "subnet-b", vpc_cidrs=cidrs),
            table("rt-c", "subnet-c", vpc_cidrs=cidrs),
        ],
        [lgw("a"), lgw("b"), lgw("c")],
        vpc_cidrs=cidrs,
    )
    plan = plan_vpc(topo, Ledger(VPC))

    assert creates(plan) == {
        ("rt-a", "10.7.11.0/24", "lgw-a"),
        ("rt-a", "100.64.3.0/24", "lgw-a"),
        ("rt-b", "10.7.7.0/24", "lgw-b"),
        ("rt-b", "100.64.3.0/24", "lgw-b"),
        ("rt-c", "10.7.7.0/24", "lgw-c"),
        ("rt-c", "10.7.11.0/24", "lgw-c"),
    }
    assert [c.lgw_route_table_id for c in plan.associations_to_create] == [
        "lgw-rtb-a",
        "lgw-rtb-b",
        "lgw-rtb-c",
    ]
    assert plan.findings == ()
    after, _ = apply_plan(topo, Ledger(VPC), plan)
    pairs = reachability(after)
    assert len(pairs) == 6 and all(p.reachable for p in pairs)


# --------------------------------------------------------------------------- associations


def test_association_is_created_only_where_eligible_subnets_span_two_outposts() -> None:
    # rack-b is in CoIP mode: only rack-a's subnet is eligible, so nothing is associated.
    topo = topology(
        [subnet("subnet-a", "10.7.7.0/24", "a"), subnet("subnet-b", "10.7.11.0/24", "b")],
        [table("rt-a", "subnet-a"), table("rt-b", "subnet-b")],
        [lgw("a"), lgw("b", COIP)],
    )
    plan = plan_vpc(topo, Ledger(VPC))

    assert plan.associations_to_create == ()
    assert plan.routes_to_create == ()
    assert ("coip-mode", rack("b")) in kinds(plan)


def test_existing_live_association_of_any_owner_satisfies() -> None:
    topo = blog(associations=[associated("a", "associated"), associated("b", "associating")])
    plan = plan_vpc(topo, Ledger(VPC))

    assert plan.associations_to_create == ()
    assert len(plan.routes_to_create) == 2


def test_association_that_is_not_live_does_not_satisfy() -> None:
    topo = blog(associations=[associated("a", "disassociated"), associated("b", "failed")])
    plan = plan_vpc(topo, Ledger(VPC))

    assert [c.lgw_route_table_id for c in plan.associations_to_create] == ["lgw-rtb-a", "lgw-rtb-b"]


def test_owned_association_no_longer_needed_is_deleted() -> None:
    topo = blog(associations=[associated("a"), associated("b")], with_subnet_b=False)
    ledger = Ledger(
        VPC,
        associations=(
            OwnedAssociation("lgw-vpc-assoc-a", "lgw-rtb-a", rack("a")),
            OwnedAssociation("lgw-vpc-assoc-b", "lgw-rtb-b", rack("b")),
        ),
    )
    plan = plan_vpc(topo, ledger)

    assert [c.association_id for c in plan.associations_to_delete] == [
        "lgw-vpc-assoc-a",
        "lgw-vpc-assoc-b",
    ]


def test_owned_association_is_kept_while_a_remaining_route_targets_its_lgw() -> None:
    # A person's route in rt-a still sends traffic to lgw-a: rack-a's association stays.
    topo = blog(
        rt_a_routes=(("10.7.99.0/24", "lgw-a"),),
        associations=[associated("a"), associated("b")],
        with_subnet_b=False,
    )
    ledger = Ledger(
        VPC,
        associations=(
            OwnedAssociation("lgw-vpc-assoc-a", "lgw-rtb-a", rack("a")),
            OwnedAssociation("lgw-vpc-assoc-b", "lgw-rtb-b", rack("b")),
        ),
    )
    plan = plan_vpc(topo, ledger)

    assert [c.association_id for c in plan.associations_to_delete] == ["lgw-vpc-assoc-b"]


def test_owned_association_goes_together_with_the_owned_routes_that_used_it() -> None:
    topo = blog(
        rt_a_routes=(("10.7.11.0/24", "lgw-a"),),
        associations=[associated("a")],
        with_subnet_b=False,
    )
    ledger = Ledger(
        VPC,
        routes=(OwnedRoute("rt-a", "10.7.11.0/24", "lgw-a"),),
        associations=(OwnedAssociation("lgw-vpc-assoc-a", "lgw-rtb-a", rack("a")),),
    )
    plan = plan_vpc(topo, ledger)

    assert deletes(plan) == {("rt-a", "10.7.11.0/24", "lgw-a")}
    assert [c.association_id for c in plan.associations_to_delete] == ["lgw-vpc-assoc-a"]


def test_unowned_association_is_never_deleted() -> None:
    topo = blog(associations=[associated("a"), associated("b")], with_subnet_b=False)
    plan = plan_vpc(topo, Ledger(VPC))

    assert plan.associations_to_delete == ()
    assert plan.is_empty


def test_owned_association_gone_from_aws_is_stale_not_deleted() -> None:
    topo = blog(associations=[associated("a", "disassociated")], with_subnet_b=False)
    owned = OwnedAssociation("lgw-vpc-assoc-a", "lgw-rtb-a", rack("a"))
    plan = plan_vpc(topo, Ledger(VPC, associations=(owned,)))

    assert plan.associations_to_delete == ()
    assert plan.stale_associations == (owned,)


def test_removal_plan_deletes_exactly_the_owned_routes_and_associations_aws_has() -> None:
    topo = blog(
        rt_a_routes=(("10.7.11.0/24", "lgw-a"), ("0.0.0.0/0", "igw-0main")),
        rt_b_routes=(("10.7.7.0/24", "lgw-b"),),  # a person's route, not ours
        associations=[associated("a"), associated("b", assoc_id="lgw-vpc-assoc-theirs")],
    )
    ledger = Ledger(
        VPC,
        routes=(
            OwnedRoute("rt-a", "10.7.11.0/24", "lgw-a"),
            OwnedRoute("rt-b", "10.7.99.0/24", "lgw-b"),  # already gone
        ),
        associations=(
            OwnedAssociation("lgw-vpc-assoc-a", "lgw-rtb-a", rack("a")),
            OwnedAssociation("lgw-vpc-assoc-gone", "lgw-rtb-b", rack("b")),
        ),
    )
    plan = removal_plan(topo, ledger)

    assert deletes(plan) == {("rt-a", "10.7.11.0/24", "lgw-a")}
    assert [c.association_id for c in plan.associations_to_delete] == ["lgw-vpc-assoc-a"]
    assert plan.routes_to_create == () and plan.associations_to_create == ()
    assert plan.stale_routes == (OwnedRoute("rt-b", "10.7.99.0/24", "lgw-b"),)
    assert [a.association_id for a in plan.stale_associations] == ["lgw-vpc-assoc-gone"]


def test_removal_plan_keeps_an_owned_association_an_unowned_route_still_uses() -> None:
    topo = blog(
        rt_a_routes=(("10.7.11.0/24", "lgw-a"),),
        rt_b_routes=(("10.7.7.0/24", "lgw-b"),),
        associations=[associated("a"), associated("b")],
    )
    ledger = Ledger(
        VPC,
        routes=(OwnedRoute("rt-a", "10.7.11.0/24", "lgw-a"),),
        associations=(
            OwnedAssociation("lgw-vpc-assoc-a", "lgw-rtb-a", rack("a")),
            OwnedAssociation("lgw-vpc-assoc-b", "lgw-rtb-b", rack("b")),
        ),
    )
    plan = removal_plan(topo, ledger)

    assert deletes(plan) == {("rt-a", "10.7.11.0/24", "lgw-a")}
    assert [c.association_id for c in plan.associations_to_delete] == ["lgw-vpc-assoc-a"]


# --------------------------------------------------------------------------- the plan as a report


def messy_plan() -> Plan:
    """A plan with several entries of every kind, to look at its order and shape."""
    topo = topology(
        [
            subnet("subnet-a", "10.7.7.0/24", "a"),
            subnet("subnet-b", "10.7.11.0/24", "b"),
            subnet("subnet-c", "10.7.12.0/24", "c"),
            subnet("subnet-d", "10.7.13.0/24", "d"),
            subnet("subnet-e", None, "c", ipv6=("2600:1f18:0:e::/64",)),
            subnet("subnet-f", "10.7.14.0/24", "a"),
            subnet("subnet-web", "10.7.1.0/24"),
        ],
        [
            table("rt-c", "subnet-c", routes=(("10.7.11.0/24", "eni-0x"),)),
            table("rt-a", "subnet-a", routes=(("10.7.50.0/24", "lgw-a"),)),
            table("rt-b", "subnet-b", routes=(("10.7.7.0/24", "igw-0x"),)),
            table("rt-d", "subnet-d"),
            table("rt-old", routes=(("10.7.60.0/24", "lgw-b"), ("10.7.61.0/24", "lgw-b"))),
        ],
        [lgw("c"), lgw("a"), lgw("b"), lgw("d", COIP), lgw("e")],
        [associated("e")],
    )
    ledger = Ledger(
        VPC,
        routes=(
            OwnedRoute("rt-old", "10.7.61.0/24", "lgw-b"),
            OwnedRoute("rt-old", "10.7.60.0/24", "lgw-b"),
            OwnedRoute("rt-a", "10.7.50.0/24", "lgw-a"),
        ),
        associations=(OwnedAssociation("lgw-vpc-assoc-e", "lgw-rtb-e", rack("e")),),
    )
    return plan_vpc(topo, ledger)


def test_plan_entries_are_sorted() -> None:
    plan = messy_plan()

    assert len(plan.routes_to_create) > 1
    assert len(plan.routes_to_delete) > 1
    assert len(plan.associations_to_create) > 1
    assert len(plan.findings) > 1
    for entries in (
        plan.associations_to_create,
        plan.associations_to_delete,
        plan.routes_to_create,
        plan.routes_to_delete,
        plan.findings,
        plan.stale_routes,
        plan.stale_associations,
    ):
        assert list(entries) == sorted(entries)


def test_plan_to_dict_lists_every_kind_of_change_and_the_findings() -> None:
    plan = messy_plan()
    as_dict = plan.to_dict()

    assert {
        "associations_to_create",
        "associations_to_delete",
        "routes_to_create",
        "routes_to_delete",
        "findings",
    } <= as_dict.keys()
    assert as_dict["routes_to_create"] == [c.to_dict() for c in plan.routes_to_create]
    assert as_dict["routes_to_delete"] == [c.to_dict() for c in plan.routes_to_delete]
    assert as_dict["associations_to_create"] == [c.to_dict() for c in plan.associations_to_create]
    assert as_dict["associations_to_delete"] == [c.to_dict() for c in plan.associations_to_delete]
    assert as_dict["findings"] == [f.to_dict() for f in plan.findings]
    assert {f["kind"] for f in as_dict["findings"]} == {
        "conflict",
        "coip-mode",
        "shared-route-table",
        "unsupported",
    }
    assert {"destination", "local_gateway_id", "route_table_id"} <= as_dict["routes_to_create"][
        0
    ].keys()


# --------------------------------------------------------------------------- properties


PROPERTY_SETTINGS = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def _effective_table_id(topo: Topology, subnet_id: str) -> str:
    for t in topo.route_tables:
        if subnet_id in t.subnet_ids:
            return t.route_table_id
    main = [t.route_table_id for t in topo.route_tables if t.main]
    assert len(main) == 1
    return main[0]


def _served(topo: Topology, table_id: str) -> list[Subnet]:
    return [s for s in topo.subnets if _effective_table_id(topo, s.subnet_id) == table_id]


def oracle_eligible(topo: Topology, quarantined: frozenset[str]) -> dict[str, Subnet]:
    """The architecture's eligibility rules, written out again independently of the planner."""
    modes = {g.outpost_arn: g.mode for g in topo.lgw_route_tables}
    vpc_blocks = {ipaddress.ip_network(c) for c in topo.vpc_cidrs}
    eligible: dict[str, Subnet] = {}
    for s in topo.subnets:
        if s.outpost_arn is None or s.opted_out or s.cidr is None:
            continue
        if modes.get(s.outpost_arn) != DIRECT_VPC_ROUTING or s.outpost_arn in quarantined:
            continue
        table_id = _effective_table_id(topo, s.subnet_id)
        rt = topo.route_table(table_id)
        assert rt is not None
        if rt.opted_out:
            continue
        if any(o.outpost_arn != s.outpost_arn for o in _served(topo, table_id)):
            continue
        if ipaddress.ip_network(s.cidr) in vpc_blocks:
            continue
        eligible[s.subnet_id] = s
    return eligible


def oracle_routes(topo: Topology, quarantined: frozenset[str]) -> dict[tuple[str, str], str]:
    """(table, destination) -> LGW for a full mesh of the eligible subnets."""
    eligible = oracle_eligible(topo, quarantined)
    gateways = {g.outpost_arn: g.local_gateway_id for g in topo.lgw_route_tables}
    if len({s.outpost_arn for s in eligible.values()}) < 2:
        return {}
    wanted: dict[tuple[str, str], str] = {}
    for a in eligible.values():
        for b in eligible.values():
            if a.outpost_arn != b.outpost_arn:
                assert a.outpost_arn is not None and b.cidr is not None
                wanted[(_effective_table_id(topo, a.subnet_id), b.cidr)] = gateways[a.outpost_arn]
    return wanted


@PROPERTY_SETTINGS
@given(scenarios())
def test_desired_routes_are_exactly_a_full_mesh_of_the_eligible_subnets(case: Scenario) -> None:
    desired = desired_state(case.topology, case.quarantined)

    assert {k: r.local_gateway_id for k, r in desired.routes.items()} == oracle_routes(
        case.topology, case.quarantined
    )
    assert {e.subnet.subnet_id for e in desired.eligible} == set(
        oracle_eligible(case.topology, case.quarantined)
    )


@PROPERTY_SETTINGS
@given(scenarios())
def test_applying_a_plan_then_planning_again_changes_nothing(case: Scenario) -> None:
    plan = plan_vpc(case.topology, case.ledger, case.quarantined)
    after, ledger_after = apply_plan(case.topology, case.ledger, plan)
    again = plan_vpc(after, ledger_after, case.quarantined)

    assert not again.has_changes, again.to_dict()
    assert again.stale_routes == () and again.stale_associations == ()
    # The same things are found; a message may tell the new state (an owned association with a
    # CoIP table, deleted by the plan, no longer decides the Outpost's routing domain).
    assert [(f.kind, f.subject) for f in again.findings] == [
        (f.kind, f.subject) for f in plan.findings
    ]


def oracle_conflicts(case: Scenario) -> set[tuple[str, str]]:
    """(table, destination) of the wanted routes the table already sends elsewhere by a route the
    ledger does not own (rule 3: left alone), worked out without the planner."""
    topo, ledger = case.topology, case.ledger
    conflicts = set()
    for (table_id, destination), gateway in oracle_routes(topo, case.quarantined).items():
        rt = topo.route_table(table_id)
        assert rt is not None
        existing = rt.route_to(destination)
        if (
            existing is not None
            and existing.target != gateway
            and not ledger.owns_route(table_id, destination, existing.target)
        ):
            conflicts.add((table_id, destination))
    return conflicts


@PROPERTY_SETTINGS
@given(scenarios())
def test_applied_plan_makes_every_unblocked_eligible_pair_reachable(case: Scenario) -> None:
    """After applying, an ordered pair of eligible subnets on different Outposts is reachable
    unless it is blocked: a conflict on its route there or on the route back (the route back is
    what has the destination advertised), or its source's LGW association still associating.

    A conflict or a pending association elsewhere in the VPC blocks nothing here: every other
    pair is checked (an early return on any of them left most examples unchecked)."""
    topo = case.topology
    plan = plan_vpc(topo, case.ledger, case.quarantined)
    after, _ = apply_plan(topo, case.ledger, plan)
    eligible = oracle_eligible(topo, case.quarantined)
    conflicts = oracle_conflicts(case)
    pending = {a.lgw_route_table_id for a in topo.associations if a.state == "associating"}
    lgw_route_table = {g.outpost_arn: g.route_table_id for g in topo.lgw_route_tables}

    def blocked(source: Subnet, destination: Subnet) -> bool:
        there = (_effective_table_id(topo, source.subnet_id), destination.cidr)
        back = (_effective_table_id(topo, destination.subnet_id), source.cidr)
        assert source.outpost_arn is not None
        return (
            there in conflicts
            or back in conflicts
            or lgw_route_table[source.outpost_arn] in pending
        )

    checked = skipped = 0
    for pair in reachability(after):
        source = eligible.get(pair.source_subnet_id)
        destination = eligible.get(pair.destination_subnet_id)
        if source is None or destination is None:
            continue
        if blocked(source, destination):
            skipped += 1
            continue
        assert pair.reachable, pair
        checked += 1
    # How many examples check something: most (the early return checked 10-20 % of them).
    event("checks a pair" if checked else ("all pairs blocked" if skipped else "no eligible pair"))
    target(checked, label="unblocked pairs checked")


@PROPERTY_SETTINGS
@given(scenarios())
def test_plan_never_touches_what_the_ledger_does_not_own(case: Scenario) -> None:
    topo, ledger = case.topology, case.ledger
    plan = plan_vpc(topo, ledger, case.quarantined)

    deleted = {(d.route_table_id, d.destination) for d in plan.routes_to_delete}
    for d in plan.routes_to_delete:
        assert ledger.owns_route(d.route_table_id, d.destination, d.local_gateway_id), d
        rt = topo.route_table(d.route_table_id)
        assert rt is not None
        existing = rt.route_to(d.destination)
        assert existing is not None and existing.target == d.local_gateway_id, d
    for c in plan.routes_to_create:
        rt = topo.route_table(c.route_table_id)
        assert rt is not None
        assert rt.route_to(c.destination) is None or (c.route_table_id, c.destination) in deleted
    for a in plan.associations_to_delete:
        assert ledger.owns_association(a.association_id), a
        assert any(x.association_id == a.association_id and x.live for x in topo.associations)
    for a in plan.associations_to_create:
        assert topo.association_for(a.lgw_route_table_id) is None


@PROPERTY_SETTINGS
@given(scenarios())
def test_every_created_route_joins_different_outposts_of_the_vpc(case: Scenario) -> None:
    topo = case.topology
    plan = plan_vpc(topo, case.ledger, case.quarantined)
    eligible = oracle_eligible(topo, case.quarantined)
    by_cidr = {s.cidr: s for s in eligible.values()}

    for c in plan.routes_to_create:
        gateway = topo.lgw_by_gateway(c.local_gateway_id)
        assert gateway is not None and gateway.mode == DIRECT_VPC_ROUTING
        served = _served(topo, c.route_table_id)
        assert served, c
        assert all(s.outpost_arn == gateway.outpost_arn for s in served), c
        assert any(s.subnet_id in eligible for s in served), c
        destination = by_cidr.get(c.destination)
        assert destination is not None, c
        assert destination.vpc_id == topo.vpc_id
        assert destination.outpost_arn != gateway.outpost_arn
        assert c.destination_subnet_id == destination.subnet_id


@PROPERTY_SETTINGS
@given(scenarios())
def test_a_table_serving_several_eligible_subnets_gets_each_destination_once(
    case: Scenario,
) -> None:
    topo = case.topology
    plan = plan_vpc(topo, case.ledger, case.quarantined)
    eligible = oracle_eligible(topo, case.quarantined)

    keys = [(c.route_table_id, c.destination) for c in plan.routes_to_create]
    assert len(keys) == len(set(keys))
    for wanted in desired_state(topo, case.quarantined).routes.values():
        sources = sorted(
            s.subnet_id for s in _served(topo, wanted.route_table_id) if s.subnet_id in eligible
        )
        assert list(wanted.source_subnet_ids) == sources


@PROPERTY_SETTINGS
@given(scenarios())
def test_a_table_serving_an_in_region_subnet_gets_no_route(case: Scenario) -> None:
    topo = case.topology
    plan = plan_vpc(topo, case.ledger, case.quarantined)
    desired = desired_state(topo, case.quarantined)

    for rt in topo.route_tables:
        if any(s.outpost_arn is None for s in _served(topo, rt.route_table_id)):
            assert all(c.route_table_id != rt.route_table_id for c in plan.routes_to_create)
            assert all(t != rt.route_table_id for t, _ in desired.routes)


@PROPERTY_SETTINGS
@given(scenarios())
def test_removal_plan_deletes_only_owned_things_that_exist(case: Scenario) -> None:
    topo, ledger = case.topology, case.ledger
    plan = removal_plan(topo, ledger)

    assert plan.routes_to_create == () and plan.associations_to_create == ()
    present = {
        (o.route_table_id, o.destination, o.local_gateway_id)
        for o in ledger.routes
        if (rt := topo.route_table(o.route_table_id)) is not None
        and (r := rt.route_to(o.destination)) is not None
        and r.target == o.local_gateway_id
    }
    assert deletes(plan) == present
    after, ledger_after = apply_plan(topo, ledger, plan)
    assert ledger_after.routes == ()
    lgw_targets = {r.target for t in after.route_tables for r in t.routes}
    for owned in ledger_after.associations:
        live = next(a for a in after.associations if a.association_id == owned.association_id)
        assert live.local_gateway_id in lgw_targets


def test_a_route_change_made_in_bulk_is_the_same_frozen_object() -> None:
    args = ("rtb-1", "10.0.1.0/24", "lgw-1", "subnet-2", ("subnet-1",), "subnet-1 reaches subnet-2")
    made = RouteChange.made(
        *args[:3], destination_subnet_id=args[3], source_subnet_ids=args[4], reason=args[5]
    )
    built = RouteChange(*args)
    assert made == built and hash(made) == hash(built) and repr(made) == repr(built)
    assert made.to_dict() == built.to_dict() and made.reason == built.reason
    first = RouteChange.made(
        "rtb-1", "10.0.0.0/24", "lgw-1", destination_subnet_id="", source_subnet_ids=(), reason=""
    )
    assert sorted([made, first]) == [
        RouteChange("rtb-1", "10.0.0.0/24", "lgw-1"),
        built,
    ]
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.destination = "10.0.9.0/24"  # type: ignore[misc]
