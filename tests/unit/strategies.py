"""Hypothesis strategies: random one-VPC topologies, quarantines and ledgers as plain data.

A generated VPC has 1-4 Outposts (some in CoIP mode, now and then one whose LGW route table is not
visible), 0-12 Outpost subnets plus a few In-Region ones, custom route tables (some opted out) or
the main one, shared tables, IPv6 and IPv6-only subnets, a subnet as large as a VPC CIDR block,
pre-existing routes (LGW, ENI, IGW targets, made by anyone) and associations in any state. The
ledger claims a random part of what exists plus entries AWS no longer has.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

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


T = TypeVar("T")

# Strategies are built once: building one per draw costs more than the planner itself.
_INDEX = st.integers(0, 255)
_COUNT_OUTPOSTS = st.integers(1, 4)
_COUNT_SUBNETS = st.integers(0, 12)
_COUNT_IN_REGION = st.integers(0, 3)
_COUNT_EXTRA_ROUTES = st.integers(0, 4)
_COUNT_LEDGER_ROUTES = st.integers(0, 8)
_COUNT_PHANTOMS = st.integers(0, 3)


def _pick(draw: st.DrawFn, options: Sequence[T]) -> T:
    """One of ``options``; shrinks towards the first."""
    return options[draw(_INDEX) % len(options)]


def _one_in(draw: st.DrawFn, n: int) -> bool:
    """True about once in ``n`` draws; shrinks towards False (the ordinary case)."""
    return draw(_INDEX) % n == n - 1


@st.composite
def topologies(draw: st.DrawFn) -> Topology:
    outpost_count = draw(_COUNT_OUTPOSTS)
    lgws: list[LocalGatewayRouteTable] = []
    for i in range(outpost_count):
        if _one_in(draw, 10):
            continue  # an Outpost whose LGW route table this account cannot see
        mode = COIP if _one_in(draw, 6) else DIRECT_VPC_ROUTING
        lgws.append(LocalGatewayRouteTable(outpost_arn(i), lgw_id(i), lgw_route_table_id(i), mode))

    secondary = _one_in(draw, 2)
    whole_block = _one_in(draw, 6)
    vpc_cidrs = [PRIMARY_CIDR]
    if secondary:
        vpc_cidrs.append(SECONDARY_CIDR)
    if whole_block:
        vpc_cidrs.append(WHOLE_BLOCK_CIDR)

    # Up to two tables per Outpost (most subnets use one of their own rack's) plus a spare one.
    custom_tables = [f"rtb-{i}{j}" for i in range(outpost_count) for j in range(2)] + ["rtb-spare"]

    outpost_subnets = draw(_COUNT_SUBNETS)
    subnet_count = outpost_subnets + draw(_COUNT_IN_REGION)
    octet_base = draw(_INDEX)
    subnets: list[Subnet] = []
    explicit: dict[str, list[str]] = {t: [] for t in [MAIN_TABLE, *custom_tables]}
    for n in range(subnet_count):
        subnet_id = f"subnet-{n:04d}"
        rack = draw(_INDEX) % outpost_count if n < outpost_subnets else None
        arn = outpost_arn(rack) if rack is not None else None
        second_octet = 1 if secondary and _one_in(draw, 2) else 0
        cidr: str | None = f"10.{second_octet}.{(octet_base + 7 * n) % 256}.0/24"  # all distinct
        ipv6: tuple[str, ...] = ()
        shape = draw(_INDEX) % 20
        if shape == 17:
            ipv6 = (f"2001:db8:0:{n:x}::/64",)
        elif shape == 18:
            cidr, ipv6 = None, (f"2001:db8:0:{n:x}::/64",)
        elif shape == 19 and whole_block and not any(s.cidr == WHOLE_BLOCK_CIDR for s in subnets):
            cidr = WHOLE_BLOCK_CIDR
        opted_out = _one_in(draw, 20)
        subnets.append(Subnet(subnet_id, VPC_ID, cidr, arn, ipv6, opted_out=opted_out))
        # None: the main table by default; MAIN_TABLE: an explicit association with the main table.
        choice = draw(_INDEX) % 10
        table: str | None
        if choice < 7:
            table = f"rtb-{rack}{choice % 2}" if rack is not None else None
        elif choice == 7:
            table = _pick(draw, [None, MAIN_TABLE])
        else:
            table = _pick(draw, custom_tables)
        if table is not None:
            explicit[table].append(subnet_id)

    destinations = sorted(
        ({s.cidr for s in subnets if s.cidr is not None} | {"0.0.0.0/0", "10.0.254.0/24"})
        - set(vpc_cidrs)
    )
    targets = [g.local_gateway_id for g in lgws] + [lgw_id(outpost_count), "eni-0001", "igw-0001"]
    tables: list[RouteTable] = []
    for table_id in [MAIN_TABLE, *custom_tables]:
        extra = {
            _pick(draw, destinations): _pick(draw, targets)
            for _ in range(draw(_COUNT_EXTRA_ROUTES))
        }
        routes = tuple(Route(c, "local") for c in vpc_cidrs) + tuple(
            Route(d, t) for d, t in sorted(extra.items())
        )
        tables.append(
            RouteTable(
                table_id,
                VPC_ID,
                main=table_id == MAIN_TABLE,
                subnet_ids=tuple(explicit[table_id]),
                routes=routes,
                opted_out=table_id != MAIN_TABLE and _one_in(draw, 15),
            )
        )

    associations: list[VpcAssociation] = []
    for i, lgw in enumerate(lgws):
        state = _pick(draw, (None, None, *ASSOCIATION_STATES))
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
    claims: list[OwnedRoute] = []
    if existing:
        claims += [_pick(draw, existing) for _ in range(draw(_COUNT_LEDGER_ROUTES))]
    claims += [
        OwnedRoute(
            _pick(draw, phantom_tables),
            _pick(draw, phantom_destinations),
            _pick(draw, phantom_lgws),
        )
        for _ in range(draw(_COUNT_PHANTOMS))
    ]
    # One claim per (table, destination): the system never made two routes for one key.
    routes: dict[tuple[str, str], OwnedRoute] = {}
    for route in claims:
        routes.setdefault((route.route_table_id, route.destination), route)

    associations: list[OwnedAssociation] = [
        OwnedAssociation(a.association_id, a.lgw_route_table_id)
        for a in topology.associations
        if not _one_in(draw, 2)
    ]
    if _one_in(draw, 5):
        associations.append(OwnedAssociation("lgw-vpc-assoc-gone", lgw_route_table_id(0)))
    return Ledger(topology.vpc_id, tuple(sorted(routes.values())), tuple(associations))


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    topology = draw(topologies())
    arns = sorted({g.outpost_arn for g in topology.lgw_route_tables})
    quarantined: frozenset[str] = frozenset()
    if arns and _one_in(draw, 4):
        quarantined = frozenset({_pick(draw, arns), _pick(draw, arns)})
    return Scenario(topology, quarantined, draw(ledgers(topology)))
