"""Route-level reachability, per the report contract (docs/scenario-format.md, "Report").

``from`` reaches ``to`` when ``from``'s effective table sends ``to``'s CIDR (longest prefix) to
the LGW of ``from``'s Outpost, that LGW route table is in direct-vpc-routing mode and associated
with the VPC, and ``to`` is advertised (its own effective table routes to its own Outpost's LGW).
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings

from outpost_mesh.domains import choose_domain
from outpost_mesh.model import (
    COIP,
    DIRECT_VPC_ROUTING,
    LocalGatewayRouteTable,
    PairReachability,
    Route,
    RouteTable,
    Subnet,
    Topology,
    VpcAssociation,
)
from outpost_mesh.planner import desired_state, plan_vpc
from outpost_mesh.verify import pair_reachability, reachability

from .strategies import Scenario, scenarios
from .test_planner import apply_plan
from .test_topology_index import reference_longest_prefix_route

VPC = "vpc-0blog"
VPC_CIDR = "10.7.0.0/16"
A_CIDR = "10.7.7.0/24"
B_CIDR = "10.7.11.0/24"


def rack(name: str) -> str:
    return f"arn:aws:outposts:eu-west-1:111122223333:outpost/op-{name}"


def lgw(name: str, mode: str = DIRECT_VPC_ROUTING) -> LocalGatewayRouteTable:
    return LocalGatewayRouteTable(rack(name), f"lgw-{name}", f"lgw-rtb-{name}", mode)


def association(name: str, state: str = "associated") -> VpcAssociation:
    return VpcAssociation(f"lgw-vpc-assoc-{name}", f"lgw-rtb-{name}", VPC, state, f"lgw-{name}")


def table(
    table_id: str, *subnet_ids: str, routes: tuple[tuple[str, str], ...] = (), main: bool = False
) -> RouteTable:
    return RouteTable(
        table_id,
        VPC,
        main=main,
        subnet_ids=subnet_ids,
        routes=(Route(VPC_CIDR, "local"), *(Route(d, t) for d, t in routes)),
    )


def meshed(
    rt_a: tuple[tuple[str, str], ...] = ((B_CIDR, "lgw-a"),),
    rt_b: tuple[tuple[str, str], ...] = ((A_CIDR, "lgw-b"),),
    lgw_a: LocalGatewayRouteTable | None = None,
    associations: tuple[VpcAssociation, ...] = (association("a"), association("b")),
    subnet_b: Subnet | None = None,
) -> Topology:
    """The blog's VPC after outpost-mesh ran; each argument breaks one part of it."""
    return Topology(
        VPC,
        (VPC_CIDR,),
        (
            Subnet("subnet-a", VPC, A_CIDR, rack("a")),
            subnet_b or Subnet("subnet-b", VPC, B_CIDR, rack("b")),
        ),
        (
            table("rtb-main", main=True),
            table("rt-a", "subnet-a", routes=rt_a),
            table("rt-b", "subnet-b", routes=rt_b),
        ),
        (lgw_a or lgw("a"), lgw("b")),
        associations,
    )


def reachable(topology: Topology, source: str, target: str) -> bool:
    by_id = {s.subnet_id: s for s in topology.subnets}
    return pair_reachability(topology, by_id[source], by_id[target]).reachable


def test_meshed_blog_vpc_is_reachable_both_ways() -> None:
    topo = meshed()

    assert [
        (p.source_subnet_id, p.destination_subnet_id, p.reachable) for p in reachability(topo)
    ] == [
        ("subnet-a", "subnet-b", True),
        ("subnet-b", "subnet-a", True),
    ]


def test_no_route_to_the_destination_is_unreachable() -> None:
    topo = meshed(rt_a=())

    assert not reachable(topo, "subnet-a", "subnet-b")


def test_route_to_another_target_is_unreachable() -> None:
    assert not reachable(meshed(rt_a=((B_CIDR, "eni-0appliance"),)), "subnet-a", "subnet-b")


def test_route_to_the_other_racks_lgw_is_unreachable() -> None:
    assert not reachable(meshed(rt_a=((B_CIDR, "lgw-b"),)), "subnet-a", "subnet-b")


def test_a_longer_prefix_to_another_target_wins_over_the_lgw_route() -> None:
    topo = meshed(rt_a=(("10.7.8.0/21", "lgw-a"), (B_CIDR, "eni-0appliance")))

    assert not reachable(topo, "subnet-a", "subnet-b")


def test_a_shorter_lgw_route_covering_the_destination_is_enough() -> None:
    # 10.7.8.0/21 is longer than the VPC's local 10.7.0.0/16 and covers 10.7.11.0/24.
    topo = meshed(rt_a=(("10.7.8.0/21", "lgw-a"),))

    assert reachable(topo, "subnet-a", "subnet-b")


def test_a_route_shorter_than_the_local_route_loses_to_it() -> None:
    topo = meshed(rt_a=(("10.0.0.0/8", "lgw-a"),))

    assert not reachable(topo, "subnet-a", "subnet-b")


def test_lgw_route_table_in_coip_mode_is_unreachable() -> None:
    topo = meshed(lgw_a=lgw("a", COIP))

    assert not reachable(topo, "subnet-a", "subnet-b")
    assert reachable(topo, "subnet-b", "subnet-a")


def test_vpc_not_associated_with_the_sources_lgw_route_table_is_unreachable() -> None:
    topo = meshed(associations=(association("b"),))

    assert not reachable(topo, "subnet-a", "subnet-b")
    assert reachable(topo, "subnet-b", "subnet-a")


@pytest.mark.parametrize("state", ["associating", "disassociating", "disassociated", "failed"])
def test_association_that_is_not_yet_or_no_longer_associated_is_unreachable(state: str) -> None:
    topo = meshed(associations=(association("a", state), association("b")))

    assert not reachable(topo, "subnet-a", "subnet-b")


def test_destination_not_advertised_by_its_own_lgw_is_unreachable() -> None:
    topo = meshed(rt_b=())

    assert not reachable(topo, "subnet-a", "subnet-b")


def test_destination_routing_only_to_another_racks_lgw_is_not_advertised() -> None:
    topo = meshed(rt_b=((A_CIDR, "lgw-a"),))

    assert not reachable(topo, "subnet-a", "subnet-b")


def test_destination_is_advertised_by_any_route_to_its_own_lgw() -> None:
    topo = meshed(rt_b=(("10.7.99.0/24", "lgw-b"),))

    assert reachable(topo, "subnet-a", "subnet-b")
    assert not reachable(topo, "subnet-b", "subnet-a")


def test_ipv6_only_destination_is_unreachable() -> None:
    v6 = Subnet("subnet-b", VPC, None, rack("b"), ("2600:1f18:0:b::/64",))
    assert not reachable(meshed(subnet_b=v6), "subnet-a", "subnet-b")


def test_source_whose_outpost_has_no_visible_lgw_route_table_is_unreachable() -> None:
    topo = replace(meshed(), lgw_route_tables=(lgw("b"),))

    assert not reachable(topo, "subnet-a", "subnet-b")


def test_subnets_without_an_explicit_table_use_the_main_table() -> None:
    topo = meshed()
    topo = replace(
        topo,
        route_tables=(
            table("rtb-main", main=True, routes=((B_CIDR, "lgw-a"),)),
            table("rt-b", "subnet-b", routes=((A_CIDR, "lgw-b"),)),
        ),
    )

    assert reachable(topo, "subnet-a", "subnet-b")
    assert reachable(topo, "subnet-b", "subnet-a")


def test_pairs_are_ordered_outpost_subnets_of_different_outposts_only() -> None:
    topo = replace(
        meshed(),
        subnets=(
            Subnet("subnet-a", VPC, A_CIDR, rack("a")),
            Subnet("subnet-a2", VPC, "10.7.8.0/24", rack("a")),
            Subnet("subnet-b", VPC, B_CIDR, rack("b")),
            Subnet("subnet-web", VPC, "10.7.1.0/24"),
        ),
    )

    pairs = [(p.source_subnet_id, p.destination_subnet_id) for p in reachability(topo)]
    assert pairs == [
        ("subnet-a", "subnet-b"),
        ("subnet-a2", "subnet-b"),
        ("subnet-b", "subnet-a"),
        ("subnet-b", "subnet-a2"),
    ]


def test_unreachable_pairs_say_why() -> None:
    (pair, _) = reachability(meshed(rt_a=()))

    assert not pair.reachable
    assert pair.reason


def test_a_prefix_list_route_does_not_hide_the_lgw_route() -> None:
    topo = meshed(rt_a=(("pl-0123456789abcdef0", "eni-0appliance"), (B_CIDR, "lgw-a")))

    assert reachable(topo, "subnet-a", "subnet-b")


def test_of_overlapping_routes_only_one_covering_the_whole_destination_counts() -> None:
    # 10.7.11.0/25 is longer but covers half of 10.7.11.0/24; 10.7.0.0/20 covers it but is
    # shorter than 10.7.8.0/21.
    topo = meshed(
        rt_a=(
            ("10.7.11.0/25", "eni-0appliance"),
            ("10.7.0.0/20", "eni-0appliance"),
            ("10.7.8.0/21", "lgw-a"),
        )
    )

    assert reachable(topo, "subnet-a", "subnet-b")


# --------------------------------------------------------------------------- reference


def reference_pair(topology: Topology, source: Subnet, target: Subnet) -> PairReachability:
    """The contract checked pair by pair with the Topology's own linear lookups."""

    def result(ok: bool, why: str) -> PairReachability:
        return PairReachability(source.subnet_id, target.subnet_id, ok, why)

    assert source.outpost_arn is not None and target.outpost_arn is not None
    if target.cidr is None:
        return result(False, f"{target.subnet_id} has no IPv4 CIDR")
    table = topology.effective_route_table(source.subnet_id)
    if table is None:
        return result(False, f"{source.subnet_id} has no route table")
    domain = choose_domain(topology, source.outpost_arn)
    lgw = domain.table
    if lgw is None:
        return result(False, domain.reason)
    route = reference_longest_prefix_route(table, target.cidr)
    if route is None or route.target != lgw.local_gateway_id:
        got = route.target if route else "no route"
        return result(
            False,
            f"{table.route_table_id} sends {target.cidr} to {got}, not {lgw.local_gateway_id}",
        )
    assoc = topology.association_for(lgw.route_table_id)
    if assoc is None or assoc.state != "associated":
        return result(False, f"VPC not associated with {lgw.route_table_id}")
    target_lgw = next(
        (g for g in topology.lgw_route_tables if g.outpost_arn == target.outpost_arn), None
    )
    target_table = topology.effective_route_table(target.subnet_id)
    if (
        target_lgw is None
        or target_table is None
        or not any(r.target == target_lgw.local_gateway_id for r in target_table.routes)
    ):
        return result(False, f"{target.subnet_id} is not advertised by its own LGW")
    return result(True, "routed over the local gateways")


def with_reasons(pairs: tuple[PairReachability, ...]) -> list[tuple[PairReachability, str]]:
    """PairReachability equality ignores the reason: compare it too."""
    return [(p, p.reason) for p in pairs]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_reachability_equals_the_pair_by_pair_reference(case: Scenario) -> None:
    meshed_topology, _ = apply_plan(
        case.topology, case.ledger, plan_vpc(case.topology, case.ledger, case.quarantined)
    )
    for topo in (case.topology, meshed_topology):
        subnets = sorted(s for s in topo.subnets if s.on_outpost)
        expected = tuple(
            reference_pair(topo, a, b)
            for a in subnets
            for b in subnets
            if a.outpost_arn != b.outpost_arn
        )

        assert with_reasons(reachability(topo)) == with_reasons(expected)


# --------------------------------------------------------------------------- routed pairs


def test_only_pairs_with_their_routes_in_place_can_be_broken() -> None:
    """The rule of verify and the UnreachablePairs alarm: a pair never meshed (report-only, held,
    a full table) is not broken; a meshed pair that lost its association is."""
    never = meshed(rt_a=(), rt_b=(), associations=())
    one_way = meshed(rt_b=())
    lost_association = meshed(associations=(association("b"),))

    assert desired_state(never).routed_pairs(never) == frozenset()
    assert desired_state(one_way).routed_pairs(one_way) == frozenset()
    both = {("subnet-a", "subnet-b"), ("subnet-b", "subnet-a")}
    assert desired_state(lost_association).routed_pairs(lost_association) == both
    assert not all(p.reachable for p in reachability(lost_association))
