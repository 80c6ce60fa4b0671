"""Route-level reachability between a VPC's Outpost subnets (pure).

The definition is the report contract's (shared/scenario-format.md): ``from`` reaches ``to`` when
``from``'s effective route table sends ``to``'s CIDR (longest prefix) to the LGW of ``from``'s
Outpost, that LGW's route table is in direct-vpc-routing mode and associated with the VPC, and
``to`` is advertised (its own effective table has a route to its own Outpost's LGW: BGP advertises
an Outpost subnet on-premises only then, aws-facts.md). Not a packet test: the customer's WAN
between the racks is assumed to route.
"""

from __future__ import annotations

from outpost_mesh.model import (
    DIRECT_VPC_ROUTING,
    PairReachability,
    Subnet,
    Topology,
    longest_prefix_route,
)


def _advertised(topology: Topology, subnet: Subnet) -> bool:
    assert subnet.outpost_arn is not None
    lgw = topology.lgw_route_table_for(subnet.outpost_arn)
    table = topology.effective_route_table(subnet.subnet_id)
    if lgw is None or table is None:
        return False
    return any(r.target == lgw.local_gateway_id for r in table.routes)


def pair_reachability(topology: Topology, source: Subnet, target: Subnet) -> PairReachability:
    def result(ok: bool, why: str) -> PairReachability:
        return PairReachability(source.subnet_id, target.subnet_id, ok, why)

    assert source.outpost_arn is not None
    if target.cidr is None:
        return result(False, f"{target.subnet_id} has no IPv4 CIDR")
    table = topology.effective_route_table(source.subnet_id)
    if table is None:
        return result(False, f"{source.subnet_id} has no route table")
    lgw = topology.lgw_route_table_for(source.outpost_arn)
    if lgw is None:
        return result(False, f"no LGW route table for {source.outpost_arn}")
    route = longest_prefix_route(table, target.cidr)
    if route is None or route.target != lgw.local_gateway_id:
        got = route.target if route else "no route"
        return result(
            False,
            f"{table.route_table_id} sends {target.cidr} to {got}, not {lgw.local_gateway_id}",
        )
    if lgw.mode != DIRECT_VPC_ROUTING:
        return result(False, f"{lgw.route_table_id} is in {lgw.mode} mode")
    assoc = topology.association_for(lgw.route_table_id)
    if assoc is None or assoc.state != "associated":
        return result(False, f"VPC not associated with {lgw.route_table_id}")
    if not _advertised(topology, target):
        return result(False, f"{target.subnet_id} is not advertised by its own LGW")
    return result(True, "routed over the local gateways")


def reachability(topology: Topology) -> tuple[PairReachability, ...]:
    """Every ordered pair of Outpost subnets of the VPC on different Outposts."""
    outpost_subnets = sorted(s for s in topology.subnets if s.on_outpost)
    return tuple(
        pair_reachability(topology, a, b)
        for a in outpost_subnets
        for b in outpost_subnets
        if a.outpost_arn != b.outpost_arn
    )
