"""The lookups the planner and verify make by the thousand: ``TopologyIndex`` and longest prefix.

Both are held to the plain definitions, kept below as the reference: the index (and the
``Topology`` methods that answer from it) to scans of the topology, the prefix match to a scan
over every route with ``ipaddress``.
"""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from outpost_mesh.model import (
    LocalGatewayRouteTable,
    Route,
    RouteTable,
    Subnet,
    Topology,
    TopologyIndex,
    VpcAssociation,
    longest_prefix_route,
)

from .strategies import Scenario, scenarios

VPC = "vpc-0index"
PROPERTY_SETTINGS = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def reference_longest_prefix_route(table: RouteTable, address_cidr: str) -> Route | None:
    """Every route parsed and compared, the longest containing prefix kept (first on a tie)."""
    wanted = ipaddress.ip_network(address_cidr, strict=False)
    best: tuple[int, Route] | None = None
    for route in table.routes:
        try:
            net = ipaddress.ip_network(route.destination, strict=False)
        except ValueError:
            continue
        if net.version != wanted.version or not wanted.subnet_of(net):  # type: ignore[arg-type]
            continue
        if best is None or net.prefixlen > best[0]:
            best = (net.prefixlen, route)
    return best[1] if best else None


def scan_effective_route_table(topo: Topology, subnet_id: str) -> RouteTable | None:
    """AWS's rule, by a scan: the first table that lists the subnet, else the main table."""
    for table in topo.route_tables:
        if subnet_id in table.subnet_ids:
            return table
    return topo.main_route_table


def scan_served_subnets(topo: Topology, table: RouteTable) -> tuple[Subnet, ...]:
    """The subnets a table lists, and for a main table every subnet no table lists."""
    explicit = {sid for t in topo.route_tables for sid in t.subnet_ids}
    return tuple(
        s
        for s in topo.subnets
        if s.subnet_id in table.subnet_ids or (table.main and s.subnet_id not in explicit)
    )


def routes_table(*routes: tuple[str, str]) -> RouteTable:
    return RouteTable("rtb-1", VPC, routes=tuple(Route(d, t) for d, t in routes))


# --------------------------------------------------------------------------- longest prefix


def test_the_longest_of_overlapping_prefixes_wins_whatever_the_order() -> None:
    table = routes_table(
        ("10.0.0.0/16", "local"),
        ("10.0.5.0/24", "lgw-a"),
        ("10.0.0.0/8", "igw-1"),
        ("10.0.4.0/22", "eni-1"),
    )

    assert longest_prefix_route(table, "10.0.5.0/24") == Route("10.0.5.0/24", "lgw-a")
    assert longest_prefix_route(table, "10.0.6.0/24") == Route("10.0.4.0/22", "eni-1")
    assert longest_prefix_route(table, "10.0.9.0/24") == Route("10.0.0.0/16", "local")
    assert longest_prefix_route(table, "10.9.0.0/24") == Route("10.0.0.0/8", "igw-1")
    assert longest_prefix_route(table, "192.168.0.0/24") is None


def test_a_route_must_cover_the_whole_cidr() -> None:
    table = routes_table(("10.0.5.0/25", "lgw-a"), ("10.0.0.0/16", "local"))

    assert longest_prefix_route(table, "10.0.5.0/24") == Route("10.0.0.0/16", "local")
    assert longest_prefix_route(table, "10.0.5.0/26") == Route("10.0.5.0/25", "lgw-a")


def test_destinations_that_are_not_cidrs_never_match() -> None:
    table = routes_table(("pl-0123456789abcdef0", "eni-1"), ("garbage", "igw-1"))

    assert longest_prefix_route(table, "10.0.5.0/24") is None


def test_of_two_routes_for_one_network_the_first_wins() -> None:
    # "10.0.5.9/24" is the network 10.0.5.0/24 with host bits set.
    table = routes_table(("10.0.5.9/24", "eni-1"), ("10.0.5.0/24", "lgw-a"))

    assert longest_prefix_route(table, "10.0.5.128/25") == Route("10.0.5.9/24", "eni-1")


def test_ipv4_and_ipv6_never_match_each_other() -> None:
    table = routes_table(("::/0", "igw-1"), ("2001:db8::/32", "lgw-a"))

    assert longest_prefix_route(table, "10.0.5.0/24") is None
    assert longest_prefix_route(table, "2001:db8:0:5::/64") == Route("2001:db8::/32", "lgw-a")
    assert longest_prefix_route(routes_table(("0.0.0.0/0", "igw-1")), "2001:db8::/64") is None


def test_a_wanted_cidr_that_is_not_a_cidr_is_an_error() -> None:
    with pytest.raises(ValueError):
        longest_prefix_route(routes_table(("10.0.0.0/16", "local")), "pl-0123")


_DESTINATIONS = st.sampled_from(
    [
        "0.0.0.0/0",
        "10.0.0.0/8",
        "10.0.0.0/16",
        "10.0.0.0/17",
        "10.0.4.0/22",
        "10.0.5.0/24",
        "10.0.5.9/24",
        "10.0.5.0/25",
        "10.0.5.128/25",
        "10.0.5.7/32",
        "10.1.0.0/16",
        "::/0",
        "2001:db8::/32",
        "2001:db8:0:5::/64",
        "pl-0123456789abcdef0",
    ]
)
_TARGETS = st.sampled_from(["local", "lgw-a", "lgw-b", "igw-1", "eni-1"])
_WANTED = st.sampled_from(
    [
        "0.0.0.0/0",
        "10.0.0.0/8",
        "10.0.5.0/24",
        "10.0.5.128/26",
        "10.0.5.7/32",
        "10.0.9.0/24",
        "10.2.0.0/16",
        "2001:db8:0:5::/64",
        "2001:db9::/64",
    ]
)


@PROPERTY_SETTINGS
@given(st.lists(st.tuples(_DESTINATIONS, _TARGETS), max_size=12), _WANTED)
def test_longest_prefix_route_matches_a_scan_of_every_route(
    routes: list[tuple[str, str]], wanted: str
) -> None:
    table = routes_table(*routes)

    assert longest_prefix_route(table, wanted) == reference_longest_prefix_route(table, wanted)


# --------------------------------------------------------------------------- the index


def test_a_subnet_no_table_lists_gets_the_main_table_and_the_main_table_serves_it() -> None:
    main = RouteTable("rtb-main", VPC, main=True, subnet_ids=("subnet-m",))
    custom = RouteTable("rtb-a", VPC, subnet_ids=("subnet-a",))
    subnets = tuple(Subnet(i, VPC, None) for i in ("subnet-a", "subnet-free", "subnet-m"))
    index = TopologyIndex(Topology(VPC, ("10.0.0.0/16",), subnets, (custom, main), (), ()))

    assert index.effective_route_table("subnet-free") is main
    assert index.effective_route_table("subnet-m") is main
    assert index.effective_route_table("subnet-a") is custom
    assert index.effective_route_table("subnet-unknown") is main
    assert [s.subnet_id for s in index.served_subnets(main)] == ["subnet-free", "subnet-m"]
    assert [s.subnet_id for s in index.served_subnets(custom)] == ["subnet-a"]


def test_without_a_main_table_an_unlisted_subnet_has_no_table() -> None:
    subnets = (Subnet("subnet-free", VPC, None),)
    index = TopologyIndex(
        Topology(VPC, (), subnets, (RouteTable("rtb-a", VPC, subnet_ids=()),), (), ())
    )

    assert index.effective_route_table("subnet-free") is None


def test_where_a_key_repeats_the_index_answers_the_first_as_a_scan_would() -> None:
    table = RouteTable(
        "rtb-a", VPC, routes=(Route("10.0.5.0/24", "eni-1"), Route("10.0.5.0/24", "lgw-a"))
    )
    lgws = (
        LocalGatewayRouteTable("arn:op-a", "lgw-a", "lgw-rtb-a"),
        LocalGatewayRouteTable("arn:op-a", "lgw-a2", "lgw-rtb-a2"),
    )
    associations = (
        VpcAssociation("assoc-1", "lgw-rtb-a", VPC, "disassociated"),
        VpcAssociation("assoc-2", "lgw-rtb-a", VPC, "associating"),
        VpcAssociation("assoc-3", "lgw-rtb-a", VPC, "associated"),
    )
    topo = Topology(VPC, (), (), (table,), lgws, associations)
    index = TopologyIndex(topo)

    assert index.routes_by_destination(table)["10.0.5.0/24"] is table.route_to("10.0.5.0/24")
    assert table.routes[0] is table.route_to("10.0.5.0/24")
    assert index.local_gateway_of("arn:op-a") == "lgw-a"
    assert index.association_for("lgw-rtb-a") is associations[1]
    assert topo.association_for("lgw-rtb-a") is associations[1]


@PROPERTY_SETTINGS
@given(scenarios())
def test_the_index_answers_what_the_topology_answers(case: Scenario) -> None:
    topo = case.topology
    index = TopologyIndex(topo)

    for subnet_id in [s.subnet_id for s in topo.subnets] + ["subnet-unknown"]:
        wanted = scan_effective_route_table(topo, subnet_id)
        assert index.effective_route_table(subnet_id) is wanted
        assert topo.effective_route_table(subnet_id) is wanted
    for table in topo.route_tables:
        assert index.route_table(table.route_table_id) is table
        assert topo.route_table(table.route_table_id) is table
        assert index.served_subnets(table) == scan_served_subnets(topo, table)
        assert topo.served_subnets(table) == scan_served_subnets(topo, table)
        routes = index.routes_by_destination(table)
        for destination in [r.destination for r in table.routes] + ["10.9.9.0/24"]:
            assert routes.get(destination) is table.route_to(destination)
        for subnet in topo.subnets:
            if subnet.cidr is not None:
                assert index.longest_prefix_route(table, subnet.cidr) is (
                    reference_longest_prefix_route(table, subnet.cidr)
                )
    assert index.route_table("rtb-unknown") is None
    for g in topo.lgw_route_tables:
        lgw = next(x for x in topo.lgw_route_tables if x.outpost_arn == g.outpost_arn)
        assert index.local_gateway_of(g.outpost_arn) == lgw.local_gateway_id
        assoc = next(
            (a for a in topo.associations if a.lgw_route_table_id == g.route_table_id and a.live),
            None,
        )
        assert index.association_for(g.route_table_id) is assoc
        assert topo.association_for(g.route_table_id) is assoc
    assert index.local_gateway_of("arn:unknown") is None
