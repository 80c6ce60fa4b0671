"""Route-level reachability between a VPC's Outpost subnets (pure).

The definition is the report contract's (docs/scenario-format.md): ``from`` reaches ``to`` when
``from``'s effective route table sends ``to``'s CIDR (longest prefix) to the LGW of ``from``'s
Outpost, the VPC's routing domain there (``outpost_mesh.domains``: an available,
direct-vpc-routing, VIF-group-associated LGW route table) is associated with the VPC, and ``to`` is
advertised (its own effective table has a route to its own Outpost's LGW: BGP advertises an Outpost
subnet on-premises only then, docs/aws-facts.md). Not a packet test: the customer's WAN between the
racks is assumed to route.

Also the other measures of a VPC's mesh that the alarms watch: subnets left out by a finding
(BlockedSubnets) and the fullest managed route table's free slots (RouteQuotaHeadroom).
"""

from __future__ import annotations

from outpost_mesh.domains import routing_domain
from outpost_mesh.model import (
    BLOCKING_KINDS,
    Finding,
    FindingKind,
    PairReachability,
    Plan,
    Subnet,
    Topology,
    TopologyIndex,
)


class _Reachability:
    """The pair checks over one topology, for many pairs (a 200-subnet VPC has tens of thousands):
    lookups go through one ``TopologyIndex`` (longest-prefix matches through its per-table prefix
    lookups), and whether a subnet is advertised is worked out once per subnet."""

    def __init__(self, topology: Topology) -> None:
        self.index = TopologyIndex(topology)
        self._advertised: dict[tuple[str, str], bool] = {}

    def advertised(self, subnet: Subnet) -> bool:
        """Its own effective table routes to its own Outpost's LGW (BGP then advertises it)."""
        assert subnet.outpost_arn is not None
        key = (subnet.subnet_id, subnet.outpost_arn)
        known = self._advertised.get(key)
        if known is None:
            gateway = self.index.local_gateway_of(subnet.outpost_arn)
            table = self.index.effective_route_table(subnet.subnet_id)
            known = self._advertised[key] = (
                gateway is not None
                and table is not None
                and any(r.target == gateway for r in table.routes)
            )
        return known

    def pair(self, source: Subnet, target: Subnet) -> PairReachability:
        def result(ok: bool, why: str) -> PairReachability:
            return PairReachability(source.subnet_id, target.subnet_id, ok, why)

        assert source.outpost_arn is not None
        if target.cidr is None:
            return result(False, f"{target.subnet_id} has no IPv4 CIDR")
        table = self.index.effective_route_table(source.subnet_id)
        if table is None:
            return result(False, f"{source.subnet_id} has no route table")
        domain = routing_domain(self.index, source.outpost_arn)
        lgw = domain.table
        if lgw is None:
            return result(False, domain.reason)
        route = self.index.longest_prefix_route(table, target.cidr)
        if route is None or route.target != lgw.local_gateway_id:
            got = route.target if route else "no route"
            return result(
                False,
                f"{table.route_table_id} sends {target.cidr} to {got}, not {lgw.local_gateway_id}",
            )
        assoc = self.index.association_for(lgw.route_table_id)
        if assoc is None or assoc.state != "associated":
            return result(False, f"VPC not associated with {lgw.route_table_id}")
        if not self.advertised(target):
            return result(False, f"{target.subnet_id} is not advertised by its own LGW")
        return result(True, "routed over the local gateways")


def pair_reachability(topology: Topology, source: Subnet, target: Subnet) -> PairReachability:
    return _Reachability(topology).pair(source, target)


def reachability(topology: Topology) -> tuple[PairReachability, ...]:
    """Every ordered pair of Outpost subnets of the VPC on different Outposts."""
    outpost_subnets = sorted(s for s in topology.subnets if s.on_outpost)
    check = _Reachability(topology)
    return tuple(
        check.pair(a, b)
        for a in outpost_subnets
        for b in outpost_subnets
        if a.outpost_arn != b.outpost_arn
    )


def blocked_subnets(topology: Topology, findings: tuple[Finding, ...]) -> int:
    """Outpost subnets left out by a shared route table, a CoIP-mode LGW route table or a
    quarantined rack (findings name an Outpost for the last two: count its subnets)."""
    blocking = [f for f in findings if f.kind in BLOCKING_KINDS]
    blocked = {f.subject for f in blocking if f.kind is FindingKind.SHARED_ROUTE_TABLE}
    outposts = {f.subject for f in blocking if f.kind is not FindingKind.SHARED_ROUTE_TABLE}
    for subnet in topology.subnets:
        table = topology.effective_route_table(subnet.subnet_id)
        if subnet.opted_out or (table is not None and table.opted_out):
            continue  # accepted by a person (opt-out tag)
        if subnet.outpost_arn in outposts:
            blocked.add(subnet.subnet_id)
    return len(blocked)


def route_quota_headroom(topology: Topology, plan: Plan, quota: int) -> int:
    """Fewest free route slots among the tables that hold (or will hold) LGW routes.

    The real quota (Service Quotas L-93826ACB, default 50, up to 1,000) is not readable without
    an extra API and permission: the stack passes it as a parameter (RoutesPerTableQuota).
    """
    lgw_ids = {g.local_gateway_id for g in topology.lgw_route_tables}
    used: dict[str, int] = {}
    for table in topology.route_tables:
        if any(r.target in lgw_ids for r in table.routes):
            used[table.route_table_id] = table.quota_routes  # counted as the planner counts
    index = topology.index
    for change in plan.routes_to_create:
        if change.route_table_id not in used:
            found = index.route_table(change.route_table_id)
            used[change.route_table_id] = found.quota_routes if found is not None else 0
        used[change.route_table_id] += 1
    for change in plan.routes_to_delete:
        used[change.route_table_id] = used.get(change.route_table_id, 0) - 1
    return quota - max(used.values(), default=0)
