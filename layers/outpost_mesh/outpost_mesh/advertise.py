"""A plan's on-premises impact: the subnet prefixes BGP starts and stops advertising (pure).

In direct VPC routing "BGP advertisement is only for subnets on an Outpost that have a route in
the route table that targets the local gateway" (docs/aws-facts.md, "BGP advertisement"): an
Outpost subnet's IPv4 CIDR is advertised to the customer's network by its Outpost's local
gateway while its effective route table (its own, else the VPC's main table) has at least one
route to that LGW. So the first LGW route a plan puts in such a table starts advertising every
Outpost subnet the table serves, and deleting the last one withdraws them, whoever made the
routes that stay: a person's own route to the LGW keeps a subnet advertised.

AWS's rule knows no outpost-mesh tag: an opted-out subnet in a table the mesh changes is
advertised or withdrawn all the same. An In-Region subnet, a subnet without an IPv4 CIDR or on
an Outpost whose local gateway this account cannot see is never counted.
"""

from __future__ import annotations

from collections.abc import Iterator

from outpost_mesh.model import (
    Advertisement,
    Plan,
    RouteChange,
    RouteTable,
    Subnet,
    Topology,
    parse_cidr,
)

__all__ = ["Advertisement", "bgp_impact", "withdrawing_deletions"]


class _LgwRoutes:
    """Whether a route table has a route to a local gateway now, and once the plan is applied."""

    def __init__(self, plan: Plan) -> None:
        self._deleted = {
            (c.route_table_id, c.destination, c.local_gateway_id) for c in plan.routes_to_delete
        }
        self._created = {(c.route_table_id, c.local_gateway_id) for c in plan.routes_to_create}
        self._known: dict[tuple[str, str], tuple[bool, bool]] = {}

    def now_and_after(self, table: RouteTable, gateway: str) -> tuple[bool, bool]:
        key = (table.route_table_id, gateway)
        known = self._known.get(key)
        if known is None:
            targeting = [r.destination for r in table.routes if r.target == gateway]
            after = key in self._created or any(
                (table.route_table_id, destination, gateway) not in self._deleted
                for destination in targeting
            )
            known = self._known[key] = (bool(targeting), after)
        return known


def _advertisable(topology: Topology) -> Iterator[tuple[Subnet, RouteTable, str]]:
    """Every Outpost subnet BGP can advertise: its effective route table and its Outpost's LGW."""
    index = topology.index
    for subnet in sorted(topology.subnets):
        if subnet.outpost_arn is None or subnet.cidr is None:
            continue
        gateway = index.local_gateway_of(subnet.outpost_arn)
        table = index.effective_route_table(subnet.subnet_id)
        if gateway is not None and table is not None:
            yield subnet, table, gateway


def _prefix_order(cidr: str) -> tuple[int, int]:
    net = parse_cidr(cidr)
    return net.address, net.prefixlen


def bgp_impact(topology: Topology, plan: Plan) -> tuple[Advertisement, ...]:
    """Per Outpost (by ARN), the subnet CIDRs that ``plan`` starts and stops advertising over
    BGP, from ``topology``'s route tables as they are now. Outposts where nothing changes are
    left out: an empty tuple means no change on-premises."""
    routes = _LgwRoutes(plan)
    advertised: dict[str, set[str]] = {}
    withdrawn: dict[str, set[str]] = {}
    for subnet, table, gateway in _advertisable(topology):
        now, after = routes.now_and_after(table, gateway)
        if now == after:
            continue
        assert subnet.outpost_arn is not None and subnet.cidr is not None
        (advertised if after else withdrawn).setdefault(subnet.outpost_arn, set()).add(subnet.cidr)
    return tuple(
        Advertisement(
            outpost,
            tuple(sorted(advertised.get(outpost, ()), key=_prefix_order)),
            tuple(sorted(withdrawn.get(outpost, ()), key=_prefix_order)),
        )
        for outpost in sorted(advertised.keys() | withdrawn.keys())
    )


def withdrawing_deletions(plan: Plan, topology: Topology) -> tuple[RouteChange, ...]:
    """The plan's route deletions that withdraw a subnet that still exists: every deletion of a
    route to an Outpost's LGW in a table that serves one of its subnets and keeps no route to
    that LGW. Each of them takes the subnet's prefix off the customer's network (deletion safety
    counts them, docs/architecture.md, rule 8)."""
    routes = _LgwRoutes(plan)
    cut = {
        (table.route_table_id, gateway)
        for _, table, gateway in _advertisable(topology)
        if routes.now_and_after(table, gateway) == (True, False)
    }
    return tuple(c for c in plan.routes_to_delete if (c.route_table_id, c.local_gateway_id) in cut)
