"""The pure planner: desired state of a VPC, and the diff that gets AWS there.

No I/O here. ``plan_vpc(topology, ledger, quarantined)`` is the whole decision; everything it
needs was read before, and everything it decides is in the returned ``Plan``.

Safety rules (docs/architecture.md) enforced here:
1. only ledger-owned routes/associations are ever deleted;
2. a route that already has the wanted target is satisfied, never duplicated or owned;
3. a wanted destination with another target is a ``conflict`` finding, left alone;
4. known-ineligible subnets (CoIP, shared tables, IPv6, quarantined racks) are left out up front.

One module on purpose (over 400 lines): desired state and diff are one decision, and splitting
them would put the eligibility rules and the ownership rules they depend on in two places.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cached_property

from outpost_mesh.advertise import bgp_impact, withdrawing_deletions
from outpost_mesh.domains import routing_domain
from outpost_mesh.model import (
    AssociationChange,
    DomainChoice,
    Finding,
    FindingKind,
    Ledger,
    LocalGatewayRouteTable,
    OwnedAssociation,
    OwnedRoute,
    Plan,
    RouteChange,
    RouteTable,
    Subnet,
    Topology,
    TopologyIndex,
    parse_cidr,
)


@dataclass(frozen=True)
class EligibleSubnet:
    subnet: Subnet
    lgw: LocalGatewayRouteTable
    table: RouteTable

    @property
    def cidr(self) -> str:
        assert self.subnet.cidr is not None
        return self.subnet.cidr


@dataclass(frozen=True)
class TableRoutes:
    """The LGW routes one route table needs: to every eligible subnet on another Outpost.

    The eligible subnets a table serves all sit on one Outpost (a table that also serves another
    Outpost's or an In-Region subnet is a shared-route-table finding), so the table's routes all
    target that Outpost's LGW and list the same sources; ``targets`` and ``destinations`` are
    shared by all the tables of one Outpost.
    """

    table: RouteTable
    lgw: LocalGatewayRouteTable
    sources: tuple[str, ...]  # the eligible subnets the table serves, sorted
    targets: Mapping[str, EligibleSubnet]  # destination CIDR -> the subnet it reaches
    destinations: tuple[str, ...]  # sorted(targets): the plan's order

    def changes(self, destinations: Iterable[str]) -> list[RouteChange]:
        """The routes to ``destinations`` (some of ``targets``). Made in bulk, with what is the
        same for the whole table worked out once: a large initial mesh has tens of thousands."""
        table_id = self.table.route_table_id
        gateway = self.lgw.local_gateway_id
        sources = self.sources
        head = f"{', '.join(sources)} on {self.lgw.outpost_arn} reach "
        changes = []
        for destination in destinations:
            target = self.targets[destination]
            reached = target.subnet.subnet_id
            reason = f"{head}{reached} on {target.lgw.outpost_arn}"
            changes.append(
                RouteChange.made(
                    table_id,
                    destination,
                    gateway,
                    destination_subnet_id=reached,
                    source_subnet_ids=sources,
                    reason=reason,
                )
            )
        return changes


@dataclass(frozen=True)
class DesiredState:
    """The routes (per route table) and the LGW route table associations a full mesh needs."""

    tables: tuple[TableRoutes, ...]
    associations: dict[str, AssociationChange]
    eligible: tuple[EligibleSubnet, ...]
    findings: tuple[Finding, ...]
    domains: tuple[DomainChoice, ...]  # the routing domain chosen (or refused) per Outpost

    @cached_property
    def routes(self) -> dict[tuple[str, str], RouteChange]:
        """Every wanted route, keyed by (route table, destination). Built on first use: the
        planner works from ``tables`` and builds only the routes it has to create."""
        return {
            (c.route_table_id, c.destination): c for t in self.tables for c in t.changes(t.targets)
        }

    @cached_property
    def expected_pairs(self) -> frozenset[tuple[str, str]]:
        """The ordered (from, to) pairs of eligible subnets on different Outposts: what the mesh
        connects, and what verify, status and graph hold the routes to."""
        outposts = {e.subnet.subnet_id: e.lgw.outpost_arn for e in self.eligible}
        return frozenset(
            (a, b) for a, pa in outposts.items() for b, pb in outposts.items() if pa != pb
        )

    def routed_pairs(self, topology: Topology) -> frozenset[tuple[str, str]]:
        """The expected pairs whose routes are all in place: each subnet's table sends the
        other's CIDR to its own Outpost's LGW. Only these can be "broken" (a pair never meshed,
        in report-only mode, held or left out by a quota, is not)."""
        index = topology.index
        by_id = {e.subnet.subnet_id: e for e in self.eligible}

        def routes_to(a: EligibleSubnet, b: EligibleSubnet) -> bool:
            route = index.routes_by_destination(a.table).get(b.cidr)
            return route is not None and route.target == a.lgw.local_gateway_id

        one_way = {(a, b) for a, b in self.expected_pairs if routes_to(by_id[a], by_id[b])}
        return frozenset((a, b) for a, b in one_way if (b, a) in one_way)


def _label(subnet: Subnet) -> str:
    return subnet.subnet_id


def _equals_vpc_cidr(cidr: str, vpc_cidrs: Sequence[str]) -> bool:
    net = parse_cidr(cidr)
    return any(net == parse_cidr(v) for v in vpc_cidrs)


def desired_state(
    topology: Topology, quarantined: frozenset[str] = frozenset(), account_id: str = ""
) -> DesiredState:
    """Which subnets are eligible, and the routes and associations a full mesh of them needs.
    ``account_id``: the account acting (""; not checked): another account's VPC gets nothing."""
    return _desired_state(TopologyIndex(topology), quarantined, account_id)


def not_owner(topology: Topology, account_id: str) -> Finding | None:
    """A ``not-owner`` finding for a VPC with Outpost subnets that another account owns and
    shares into ``account_id`` (VPC sharing): its route tables are not this account's to change
    (docs/aws-facts.md, "Accounts and sharing"). None for a VPC of this account."""
    owner = topology.owner_id
    if not account_id or not owner or owner == account_id:
        return None
    if not any(s.on_outpost for s in topology.subnets):
        return None
    return Finding(
        FindingKind.NOT_OWNER,
        topology.vpc_id,
        f"VPC {topology.vpc_id} belongs to account {owner} and is shared into {account_id}: "
        "only its owner can change its route tables, so outpost-mesh leaves it alone here "
        "(deploy outpost-mesh in the owner's account to mesh it)",
    )


def _desired_state(
    index: TopologyIndex, quarantined: frozenset[str], account_id: str = ""
) -> DesiredState:
    topology = index.topology
    foreign = not_owner(topology, account_id)
    if foreign is not None:
        return DesiredState((), {}, (), (foreign,), ())
    findings: set[Finding] = set()
    eligible: list[EligibleSubnet] = []
    for subnet in sorted(topology.subnets):
        if not subnet.on_outpost or subnet.opted_out:
            continue
        assert subnet.outpost_arn is not None
        if subnet.ipv6_cidrs:
            findings.add(
                Finding(
                    FindingKind.UNSUPPORTED,
                    subnet.subnet_id,
                    f"IPv6 CIDR(s) {', '.join(subnet.ipv6_cidrs)} of {_label(subnet)} left out: "
                    "LGW routes for IPv6 between Outposts are not handled",
                )
            )
        domain = routing_domain(index, subnet.outpost_arn)
        lgw = domain.table
        if lgw is None:
            assert domain.kind is not None
            findings.add(Finding(domain.kind, subnet.outpost_arn, domain.reason))
            continue
        if subnet.outpost_arn in quarantined:
            findings.add(
                Finding(
                    FindingKind.RACK_NOT_UPDATED,
                    subnet.outpost_arn,
                    f"Outpost {subnet.outpost_arn} is quarantined after it rejected its LGW "
                    "routes; it needs the intra-VPC update (contact AWS Support), then release it",
                )
            )
            continue
        if subnet.cidr is None:
            findings.add(
                Finding(
                    FindingKind.UNSUPPORTED,
                    subnet.subnet_id,
                    f"{_label(subnet)} has no IPv4 CIDR; only IPv4 is meshed",
                )
            )
            continue
        table = index.effective_route_table(subnet.subnet_id)
        if table is None:
            findings.add(
                Finding(
                    FindingKind.ERROR,
                    subnet.subnet_id,
                    f"no route table found for {_label(subnet)}",
                )
            )
            continue
        if table.opted_out:
            continue
        others = [
            s.subnet_id for s in index.served_subnets(table) if s.outpost_arn != subnet.outpost_arn
        ]
        if others:
            which = "main route table" if table.main else "route table"
            findings.add(
                Finding(
                    FindingKind.SHARED_ROUTE_TABLE,
                    subnet.subnet_id,
                    f"{_label(subnet)} uses {which} {table.route_table_id}, which also serves "
                    f"{', '.join(sorted(others))} (In-Region or another Outpost); an LGW route "
                    "there would reach them too, so give the subnet a route table of its own",
                )
            )
            continue
        if _equals_vpc_cidr(subnet.cidr, topology.vpc_cidrs):
            findings.add(
                Finding(
                    FindingKind.UNSUPPORTED,
                    subnet.subnet_id,
                    f"{_label(subnet)} spans the whole VPC CIDR block {subnet.cidr}; AWS keeps "
                    "that destination for the local route, so it cannot be routed to",
                )
            )
            continue
        eligible.append(EligibleSubnet(subnet, lgw, table))

    outposts = {e.lgw.outpost_arn for e in eligible}
    tables: list[TableRoutes] = []
    associations: dict[str, AssociationChange] = {}
    if len(outposts) >= 2:
        tables = _table_routes(eligible)
        for e in eligible:
            associations[e.lgw.route_table_id] = AssociationChange(
                lgw_route_table_id=e.lgw.route_table_id,
                vpc_id=topology.vpc_id,
                outpost_arn=e.lgw.outpost_arn,
                local_gateway_id=e.lgw.local_gateway_id,
                reason=(
                    f"routes of VPC {topology.vpc_id} target the LGW of {e.lgw.outpost_arn}, "
                    f"in routing domain {e.lgw.label}"
                ),
            )
    domains = tuple(index.domains[outpost] for outpost in sorted(index.domains))
    return DesiredState(
        tuple(tables), associations, tuple(eligible), tuple(sorted(findings)), domains
    )


def _table_routes(eligible: Sequence[EligibleSubnet]) -> list[TableRoutes]:
    """One ``TableRoutes`` per route table of the eligible subnets, in order of first use."""
    sources: dict[str, list[EligibleSubnet]] = {}
    for e in eligible:
        sources.setdefault(e.table.route_table_id, []).append(e)
    # Per Outpost: the eligible subnets of all the others by CIDR (of two with one CIDR the last
    # wins, in the order of ``eligible``), and those CIDRs sorted.
    reached: dict[str, tuple[dict[str, EligibleSubnet], tuple[str, ...]]] = {}
    tables: list[TableRoutes] = []
    for served in sources.values():
        first = served[0]
        outpost = first.lgw.outpost_arn
        if outpost not in reached:
            targets = {e.cidr: e for e in eligible if e.lgw.outpost_arn != outpost}
            reached[outpost] = (targets, tuple(sorted(targets)))
        targets, destinations = reached[outpost]
        names = tuple(sorted({e.subnet.subnet_id for e in served}))
        tables.append(TableRoutes(first.table, first.lgw, names, targets, destinations))
    return tables


def plan_vpc(
    topology: Topology,
    ledger: Ledger,
    quarantined: frozenset[str] = frozenset(),
    account_id: str = "",
) -> Plan:
    """Diff the desired state against AWS (the topology) and what the system owns (the ledger).
    Another account's VPC (``not_owner``) gets its finding and no change at all."""
    foreign = not_owner(topology, account_id)
    if foreign is not None:
        return Plan(topology.vpc_id, findings=(foreign,))
    index = TopologyIndex(topology)
    desired = _desired_state(index, quarantined)
    findings: set[Finding] = set(desired.findings)
    routes_to_create: list[RouteChange] = []
    routes_to_delete: list[RouteChange] = []
    stale_routes: list[OwnedRoute] = []
    owned_keys: set[tuple[str, str, str]] | None = None  # ledger.owns_route, built if needed

    # Tables by id, each table's destinations sorted: the order of (table, destination) keys.
    for wanted in sorted(desired.tables, key=lambda t: t.table.route_table_id):
        table_id = wanted.table.route_table_id
        table = index.route_table(table_id)
        assert table is not None
        existing_routes = index.routes_by_destination(table)
        gateway = wanted.lgw.local_gateway_id
        to_create: list[str] = []
        for destination in wanted.destinations:
            existing = existing_routes.get(destination)
            if existing is None:
                to_create.append(destination)
                continue
            if existing.target == gateway:
                continue  # satisfied, whoever made it (rule 2)
            if owned_keys is None:
                owned_keys = {
                    (r.route_table_id, r.destination, r.local_gateway_id) for r in ledger.routes
                }
            if (table_id, destination, existing.target) in owned_keys:
                # Our own route, now to the wrong LGW (the table moved to another rack): redo it.
                routes_to_delete.append(
                    RouteChange(table_id, destination, existing.target, reason=REDO_REASON)
                )
                to_create.append(destination)
            else:
                findings.add(
                    Finding(
                        FindingKind.CONFLICT,
                        f"{table_id}:{destination}",
                        f"route table {table_id} already sends {destination} to "
                        f"{existing.target}, not to {gateway}; left alone (not created by "
                        "outpost-mesh)",
                    )
                )
        routes_to_create += wanted.changes(to_create)

    by_table = {t.table.route_table_id: t for t in desired.tables}

    def still_wanted(owned: OwnedRoute) -> bool:
        wanted = by_table.get(owned.route_table_id)
        return (
            wanted is not None
            and wanted.lgw.local_gateway_id == owned.local_gateway_id
            and owned.destination in wanted.targets
        )

    deleting = {(d.route_table_id, d.destination) for d in routes_to_delete}
    for owned in sorted(o for o in ledger.routes if not still_wanted(o)):
        table = index.route_table(owned.route_table_id)
        existing = index.routes_by_destination(table).get(owned.destination) if table else None
        if existing is not None and existing.target == owned.local_gateway_id:
            if (owned.route_table_id, owned.destination) in deleting:
                continue
            deleting.add((owned.route_table_id, owned.destination))
            routes_to_delete.append(
                RouteChange(
                    owned.route_table_id,
                    owned.destination,
                    owned.local_gateway_id,
                    owned.destination_subnet_id,
                    owned.source_subnet_ids,
                    reason="owned route no longer wanted",
                )
            )
        else:
            stale_routes.append(owned)

    associations_to_create: list[AssociationChange] = []
    for lgw_rt_id, wanted_assoc in sorted(desired.associations.items()):
        if index.association_for(lgw_rt_id) is None:
            associations_to_create.append(wanted_assoc)

    # Routes that will still target each LGW after this plan: an association they rely on stays.
    # Built only if an owned association is no longer wanted (it reads every route of the VPC).
    remaining_targets: set[str] | None = None
    associations_to_delete: list[AssociationChange] = []
    stale_associations: list[OwnedAssociation] = []
    for owned_assoc in sorted(ledger.associations):
        live = next(
            (
                a
                for a in topology.associations
                if a.association_id == owned_assoc.association_id and a.live
            ),
            None,
        )
        if live is None:
            stale_associations.append(owned_assoc)
            continue
        if live.lgw_route_table_id in desired.associations:
            continue
        lgw = next(
            (g for g in topology.lgw_route_tables if g.route_table_id == live.lgw_route_table_id),
            None,
        )
        if lgw is not None:
            if remaining_targets is None:
                remaining_targets = {
                    r.target
                    for t in topology.route_tables
                    for r in t.routes
                    if (t.route_table_id, r.destination) not in deleting
                } | {c.local_gateway_id for c in routes_to_create}
            if lgw.local_gateway_id in remaining_targets:
                continue  # someone else's routes still use it
        associations_to_delete.append(
            AssociationChange(
                lgw_route_table_id=live.lgw_route_table_id,
                vpc_id=topology.vpc_id,
                outpost_arn=owned_assoc.outpost_arn,
                local_gateway_id=lgw.local_gateway_id if lgw else "",
                association_id=live.association_id,
                reason="owned association no longer needed",
            )
        )

    return Plan(
        vpc_id=topology.vpc_id,
        associations_to_create=tuple(sorted(associations_to_create)),
        associations_to_delete=tuple(sorted(associations_to_delete)),
        # Already in order (made by table, then destination, one per key): re-sorting the
        # 36,000 of a large initial mesh would add ~9 ms to a ~45 ms plan.
        routes_to_create=tuple(routes_to_create),
        routes_to_delete=tuple(sorted(routes_to_delete)),
        findings=tuple(sorted(findings)),
        stale_routes=tuple(sorted(stale_routes)),
        stale_associations=tuple(sorted(stale_associations)),
        routing_domains=desired.domains,
    )


def removal_plan(topology: Topology, ledger: Ledger, account_id: str = "") -> Plan:
    """Teardown: every owned route and association that AWS still has, nothing else."""
    foreign = not_owner(topology, account_id)
    if foreign is not None:
        return Plan(topology.vpc_id, findings=(foreign,))
    empty = Topology(
        topology.vpc_id,
        topology.vpc_cidrs,
        (),
        topology.route_tables,
        topology.lgw_route_tables,
        topology.associations,
    )
    # With no subnets nothing is desired; the diff then deletes exactly what is owned. Unowned
    # routes still targeting an LGW keep its association (see plan_vpc).
    plan = plan_vpc(empty, ledger)
    teardown = Plan(
        vpc_id=plan.vpc_id,
        associations_to_delete=plan.associations_to_delete,
        routes_to_delete=plan.routes_to_delete,
        stale_routes=plan.stale_routes,
        stale_associations=plan.stale_associations,
    )
    return replace(teardown, bgp_impact=bgp_impact(topology, teardown))


DELETE_SHARE_LIMIT = 0.30  # share of owned routes one pass may delete by cutting pairs
DELETE_MIN_OWNED = 10  # below this many owned routes no deletion is held
REDO_REASON = "owned route targets another local gateway than wanted"


def cutting_deletions(plan: Plan, topology: Topology) -> tuple[RouteChange, ...]:
    """The plan's route deletions that would cut connectivity of subnets that still exist.

    A deleted route cuts when its destination subnet still exists with that CIDR on an Outpost
    and its route table still serves an Outpost subnet on another Outpost (a rack turned
    ineligible, a table became shared, an opt-out tag, a mode change). A table's last LGW routes
    also cut when their deletion withdraws a subnet that still exists from the customer's network
    (``advertise.withdrawing_deletions``; the other rack's subnets all deleted, say) and no other
    deletion in that table cuts (holding that one already keeps the subnet advertised). Clean-up
    after a subnet that is gone, or that left that Outpost or that table, cuts nothing otherwise;
    nor does an owned route deleted to be made anew to the right LGW.
    """
    index = topology.index
    by_id = {s.subnet_id: s for s in topology.subnets}
    by_cidr = {s.cidr: s for s in topology.subnets if s.cidr}
    cutting = set()
    for change in plan.routes_to_delete:
        if change.reason == REDO_REASON:
            continue
        dest = by_id.get(change.destination_subnet_id) or by_cidr.get(change.destination)
        if dest is None or dest.cidr != change.destination or dest.outpost_arn is None:
            continue
        table = index.route_table(change.route_table_id)
        served = index.served_subnets(table) if table is not None else ()
        if any(s.on_outpost and s.outpost_arn != dest.outpost_arn for s in served):
            cutting.add(change)
    tables = {c.route_table_id for c in cutting}
    cutting.update(
        c for c in withdrawing_deletions(plan, topology) if c.route_table_id not in tables
    )
    return tuple(c for c in plan.routes_to_delete if c in cutting)


def hold_deletions(
    plan: Plan,
    topology: Topology,
    ledger: Ledger,
    share_limit: float = DELETE_SHARE_LIMIT,
    min_owned: int = DELETE_MIN_OWNED,
) -> Plan:
    """Deletion safety: guards, never blocks (docs/architecture.md, rule 8).

    Only the deletions that would cut connectivity of subnets that still exist (between them, or
    from on-premises by a BGP withdrawal: :func:`cutting_deletions`) count. When
    they are more than ``share_limit`` of the owned routes (once ``min_owned`` are owned), like
    octoDNS's ``raise_if_unsafe`` a sudden mass cut is more likely a bad observation (an API
    hiccup, a mis-tagged VPC) than intent: exactly those deletions are held (``routes_held``,
    a ``deletion-held`` finding), with the associations the held routes still use, and the rest
    of the plan -- creations, associations, routine clean-up -- goes ahead.
    """
    owned = len(ledger.routes)
    if owned < min_owned or not plan.routes_to_delete:
        return plan
    cutting = cutting_deletions(plan, topology)
    if len(cutting) <= share_limit * owned:
        return plan
    held = set(cutting)
    gateways = {c.local_gateway_id for c in cutting}
    finding = Finding(
        FindingKind.DELETION_HELD,
        plan.vpc_id,
        f"held {len(cutting)} route deletion(s) that would cut connectivity of subnets that "
        f"still exist in {plan.vpc_id}, between them or from on-premises (a BGP withdrawal) "
        f"({len(cutting)} of the {owned} routes outpost-mesh owns "
        f"there, more than {share_limit:.0%}); the rest of the plan is applied. Check the VPC, "
        f"then run `outpost-mesh apply --vpc {plan.vpc_id} --force` if the deletion is intended",
    )
    return replace(
        plan,
        routes_to_delete=tuple(c for c in plan.routes_to_delete if c not in held),
        associations_to_delete=tuple(
            a for a in plan.associations_to_delete if a.local_gateway_id not in gateways
        ),
        routes_held=tuple(sorted(cutting)),
        findings=tuple(sorted({*plan.findings, finding})),
    )


def _table_changes(plan: Plan) -> dict[str, tuple[list[str], list[str]]]:
    """Per route table: the destinations the plan creates and deletes there."""
    changes: dict[str, tuple[list[str], list[str]]] = {}
    for change in plan.routes_to_create:
        changes.setdefault(change.route_table_id, ([], []))[0].append(change.destination)
    for change in plan.routes_to_delete:
        changes.setdefault(change.route_table_id, ([], []))[1].append(change.destination)
    return changes


def quota_digest(plan: Plan, topology: Topology, route_table_id: str, quota: int) -> str:
    """The fingerprint of what a route table's quota check sees: its routes as observed, the
    plan's creations and deletions in it and the RoutesPerTableQuota parameter. A
    ``RouteLimitExceeded`` is remembered with it; the table is tried again only when one of
    them changes (issue: no retry, no BGP flapping, until something changed)."""
    table = topology.index.route_table(route_table_id)
    creates, deletes = _table_changes(plan).get(route_table_id, ([], []))
    parts = [
        str(quota),
        "|".join(sorted(f"{r.destination}>{r.target}" for r in table.routes))
        if table is not None
        else "",
        "|".join(sorted(creates)),
        "|".join(sorted(deletes)),
    ]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]


def table_need(plan: Plan, topology: Topology, route_table_id: str) -> int:
    """The routes a table holds once the plan is applied, as its quota counts them."""
    table = topology.index.route_table(route_table_id)
    creates, deletes = _table_changes(plan).get(route_table_id, ([], []))
    return (table.quota_routes if table is not None else 0) - len(deletes) + len(creates)


def fit_quota(plan: Plan, topology: Topology, quota: int, ledger: Ledger | None = None) -> Plan:
    """Rule 4: a route table whose known routes-per-table quota cannot take all of its new routes
    takes none of them (what it has stays), with a ``route-quota`` finding and no call; the pairs
    those routes would serve are left out in the other direction too (no one-way mesh); the
    rest of the plan goes ahead. Room made by the plan's own deletions in that table counts.

    The quota known is the RoutesPerTableQuota parameter and, per table, what a
    ``RouteLimitExceeded`` taught (``ledger.quota_refusals``): a table AWS refused is left out
    the same way while its routes, its planned changes and the parameter are what they were."""
    changes = _table_changes(plan)
    if not any(creates for creates, _ in changes.values()):
        return plan
    findings: set[Finding] = set(plan.findings)
    full: set[str] = set()
    for table_id, (creates, _) in sorted(changes.items()):
        if not creates:
            continue
        need = table_need(plan, topology, table_id)
        refusal = ledger.quota_refusal(table_id) if ledger is not None else None
        if refusal is not None and refusal.digest == quota_digest(plan, topology, table_id, quota):
            message = (
                f"route table {table_id} would need {need} routes and AWS refused one with "
                f"RouteLimitExceeded when it tried (RoutesPerTableQuota says {quota}): its real "
                f"quota is lower. None of its {len(creates)} new LGW route(s) is created and the "
                "pairs they would serve are left out in both directions, without trying again "
                "until the table, the routes it needs or RoutesPerTableQuota change; raise the "
                "Amazon VPC quota L-93826ACB and set RoutesPerTableQuota to it, or use fewer "
                "subnets per route table"
            )
        elif need > quota:
            message = (
                f"route table {table_id} would need {need} routes, more than its routes-per-table "
                f"quota of {quota} (RoutesPerTableQuota): none of its {len(creates)} new LGW "
                "route(s) is created and the pairs they would serve are left out in both "
                "directions; raise the Amazon VPC quota L-93826ACB and RoutesPerTableQuota, or "
                "use fewer subnets per route table"
            )
        else:
            continue
        full.add(table_id)
        findings.add(Finding(FindingKind.ROUTE_QUOTA, table_id, message))
    if not full:
        return plan
    left_out = {
        (source, change.destination_subnet_id)
        for change in plan.routes_to_create
        if change.route_table_id in full
        for source in change.source_subnet_ids
    }
    kept = tuple(
        c
        for c in plan.routes_to_create
        if c.route_table_id not in full
        and not any((c.destination_subnet_id, s) in left_out for s in c.source_subnet_ids)
    )
    # An association whose every route was left out would serve nothing: it waits with them.
    before = {c.local_gateway_id for c in plan.routes_to_create}
    after = {c.local_gateway_id for c in kept}
    associations = tuple(
        a
        for a in plan.associations_to_create
        if a.local_gateway_id not in before or a.local_gateway_id in after
    )
    return replace(
        plan,
        routes_to_create=kept,
        associations_to_create=associations,
        findings=tuple(sorted(findings)),
    )


def plan_pass(
    topology: Topology,
    ledger: Ledger,
    quarantined: frozenset[str],
    account_id: str,
    *,
    share_limit: float,
    min_owned: int,
    quota: int | None,
    force: bool = False,
) -> Plan:
    """The plan a pass runs, by every rule in order: the diff (:func:`plan_vpc`), deletion
    safety (:func:`hold_deletions`, unless ``force``) and the routes-per-table quota, with what
    AWS's refusals taught (:func:`fit_quota`; ``quota`` None: not checked, the plan a refusal's
    fingerprint is taken of), then its on-premises impact as it will run (``Plan.bgp_impact``).
    The CLI, the workflow's Plan task and the sweep's fleet diff all plan through here."""
    plan = plan_vpc(topology, ledger, quarantined, account_id)
    if not force:
        plan = hold_deletions(plan, topology, ledger, share_limit, min_owned)
    if quota is not None:
        plan = fit_quota(plan, topology, quota, ledger)
    return replace(plan, bgp_impact=bgp_impact(topology, plan))
