"""Hypothesis strategies: random one-VPC topologies, quarantines and ledgers as plain data.

A generated VPC has 1-4 Outposts (some in CoIP mode, now and then one whose LGW route table is not
visible), 0-12 Outpost subnets plus a few In-Region ones, custom route tables (some opted out) or
the main one, shared tables, IPv6 and IPv6-only subnets, a subnet as large as a VPC CIDR block,
pre-existing routes (LGW, ENI, IGW targets, made by anyone) and associations in any state. The
ledger claims a random part of what exists plus entries AWS no longer has.
"""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import strategies as st

from outpost_mesh.model import (
    COIP,
    DIRECT_VPC_ROUTING,
    Ledger,
    LocalGatewayRouteTable,
    OwnedAssociation,
    OwnedRoute,
    Route,
    RouteTable,
    Subnet,
    Topology,
    VpcAssociation,
)

VPC_ID = "vpc-0001"
PRIMARY_CIDR = "10.0.0.0/16"
SECONDARY_CIDR = "10.1.0.0/16"
# A third VPC CIDR block that one subnet may fill entirely (unsupported: the local route owns it).
WHOLE_BLOCK_CIDR = "10.2.0.0/24"
MAIN_TABLE = "rtb-main"
ASSOCIATION_STATES = ("associated", "associating", "disassociating", "disassociated", "failed")


def outpost_arn(index: int) -> str:
    return f"arn:aws:outposts:eu-west-1:111122223333:outpost/op-{index:04d}"


def lgw_id(index: int) -> str:
    return f"lgw-{index:04d}"


def lgw_route_table_id(index: int) -> str:
    return f"lgw-rtb-{index:04d}"


@dataclass(frozen=True)
class Scenario:
    """A topology, the Outposts quarantined for it, and a ledger of what the system owns."""

    topology: Topology
    quarantined: frozenset[str]
    ledger: Ledger


@st.composite
def topologies(draw: st.DrawFn) -> Topology:
    outpost_count = draw(st.integers(1, 4))
    lgws: list[LocalGatewayRouteTable] = []
    for i in range(outpost_count):
        if draw(st.integers(0, 9)) == 0:
            continue  # an Outpost whose LGW route table this account cannot see
        mode = COIP if draw(st.integers(0, 5)) == 0 else DIRECT_VPC_ROUTING
        lgws.append(LocalGatewayRouteTable(outpost_arn(i), lgw_id(i), lgw_route_table_id(i), mode))

    secondary = draw(st.booleans())
    whole_block = draw(st.integers(0, 5)) == 0
    vpc_cidrs = [PRIMARY_CIDR]
    if secondary:
        vpc_cidrs.append(SECONDARY_CIDR)
    if whole_block:
        vpc_cidrs.append(WHOLE_BLOCK_CIDR)

    # Up to two tables per Outpost (most subnets use one of their own rack's) plus a spare one.
    custom_tables = [f"rtb-{i}{j}" for i in range(outpost_count) for j in range(2)] + ["rtb-spare"]

    outpost_subnets = draw(st.integers(0, 12))
    in_region_subnets = draw(st.integers(0, 3))
    third_octets = draw(
        st.lists(
            st.integers(0, 255),
            min_size=outpost_subnets + in_region_subnets,
            max_size=outpost_subnets + in_region_subnets,
            unique=True,
        )
    )
    subnets: list[Subnet] = []
    explicit: dict[str, list[str]] = {t: [] for t in [MAIN_TABLE, *custom_tables]}
    for n, octet in enumerate(third_octets):
        subnet_id = f"subnet-{n:04d}"
        rack = draw(st.integers(0, outpost_count - 1)) if n < outpost_subnets else None
        arn = outpost_arn(rack) if rack is not None else None
        second_octet = 1 if secondary and draw(st.booleans()) else 0
        cidr: str | None = f"10.{second_octet}.{octet}.0/24"
        ipv6: tuple[str, ...] = ()
        shape = draw(st.integers(0, 19))
        if shape == 0:
            ipv6 = (f"2001:db8:0:{n:x}::/64",)
        elif shape == 1:
            cidr, ipv6 = None, (f"2001:db8:0:{n:x}::/64",)
        elif shape == 2 and whole_block and not any(s.cidr == WHOLE_BLOCK_CIDR for s in subnets):
            cidr = WHOLE_BLOCK_CIDR
        opted_out = draw(st.integers(0, 19)) == 0
        subnets.append(Subnet(subnet_id, VPC_ID, cidr, arn, ipv6, opted_out=opted_out))
        # None: the main table by default; MAIN_TABLE: an explicit association with the main table.
        choice = draw(st.integers(0, 9))
        table: str | None
        if rack is not None and choice < 7:
            table = f"rtb-{rack}{choice % 2}"
        elif rack is None and choice < 7:
            table = None
        elif choice == 7:
            table = draw(st.sampled_from([None, MAIN_TABLE]))
        else:
            table = draw(st.sampled_from(custom_tables))
        if table is not None:
            explicit[table].append(subnet_id)

    destinations = sorted(
        ({s.cidr for s in subnets if s.cidr is not None} | {"0.0.0.0/0", "10.0.254.0/24"})
        - set(vpc_cidrs)
    )
    targets = [g.local_gateway_id for g in lgws] + [lgw_id(outpost_count), "eni-0001", "igw-0001"]
    tables: list[RouteTable] = []
    for table_id in [MAIN_TABLE, *custom_tables]:
        extra = draw(
            st.dictionaries(st.sampled_from(destinations), st.sampled_from(targets), max_size=4)
        )
        routes = tuple(Route(c, "local") for c in vpc_cidrs) + tuple(
            Route(d, t) for d, t in sorted(extra.items())
        )
        opted_out = table_id != MAIN_TABLE and draw(st.integers(0, 14)) == 0
        tables.append(
            RouteTable(
                table_id,
                VPC_ID,
                main=table_id == MAIN_TABLE,
                subnet_ids=tuple(explicit[table_id]),
                routes=routes,
                opted_out=opted_out,
            )
        )

    associations: list[VpcAssociation] = []
    for i, lgw in enumerate(lgws):
        state = draw(st.sampled_from((None, None, *ASSOCIATION_STATES)))
        if state is not None:
            associations.append(
                VpcAssociation(
                    f"lgw-vpc-assoc-{i:04d}",
                    lgw.route_table_id,
                    VPC_ID,
                    state,
                    lgw.local_gateway_id,
                )
            )

    return Topology(
        VPC_ID,
        tuple(vpc_cidrs),
        tuple(subnets),
        tuple(tables),
        tuple(lgws),
        tuple(associations),
    )


@st.composite
def ledgers(draw: st.DrawFn, topology: Topology) -> Ledger:
    """Claims on existing LGW routes and associations, and on things AWS no longer has."""
    existing = [
        OwnedRoute(t.route_table_id, r.destination, r.target)
        for t in topology.route_tables
        for r in t.routes
        if r.target.startswith("lgw-")
    ]
    phantom_destinations = sorted(
        {s.cidr for s in topology.subnets if s.cidr is not None} | {"10.0.253.0/24"}
    )
    phantom_tables = [t.route_table_id for t in topology.route_tables] + ["rtb-gone"]
    phantom_lgws = [g.local_gateway_id for g in topology.lgw_route_tables] + ["lgw-gone"]
    phantom = st.builds(
        OwnedRoute,
        st.sampled_from(phantom_tables),
        st.sampled_from(phantom_destinations),
        st.sampled_from(phantom_lgws),
    )
    owned_existing = draw(st.sets(st.sampled_from(existing), max_size=8)) if existing else set()
    owned_phantom = draw(st.sets(phantom, max_size=3))
    # One claim per (table, destination): the system never made two routes for one key.
    routes: dict[tuple[str, str], OwnedRoute] = {}
    for route in sorted(owned_existing) + sorted(owned_phantom):
        routes.setdefault((route.route_table_id, route.destination), route)

    associations: list[OwnedAssociation] = [
        OwnedAssociation(a.association_id, a.lgw_route_table_id)
        for a in topology.associations
        if draw(st.booleans())
    ]
    if draw(st.integers(0, 4)) == 0:
        associations.append(OwnedAssociation("lgw-vpc-assoc-gone", lgw_route_table_id(0)))
    return Ledger(topology.vpc_id, tuple(sorted(routes.values())), tuple(associations))


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    topology = draw(topologies())
    arns = sorted({g.outpost_arn for g in topology.lgw_route_tables})
    quarantined: frozenset[str] = frozenset()
    if arns and draw(st.integers(0, 3)) == 0:
        quarantined = frozenset(draw(st.sets(st.sampled_from(arns), min_size=1, max_size=2)))
    return Scenario(topology, quarantined, draw(ledgers(topology)))
