"""The frozen facts the planner works on: one VPC's topology, the ledger, the plan.

Nothing here talks to AWS. Adapters (``observe``, ``ledger``) build these objects from Describe
calls and DynamoDB items; the planner and ``verify`` are pure functions over them.

Longer than most modules on purpose: the facts and their one index (``TopologyIndex``, the
longest-prefix and effective-table rules AWS applies) belong together, so each rule is written
once and every pure function reads the same answer.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, NamedTuple, TypeVar

DIRECT_VPC_ROUTING = "direct-vpc-routing"
COIP = "coip"


class FindingKind(StrEnum):
    """What a finding is about; the same words in plans, the ledger, notices and metrics."""

    CONFLICT = "conflict"
    SHARED_ROUTE_TABLE = "shared-route-table"
    COIP_MODE = "coip-mode"
    RACK_NOT_UPDATED = "rack-not-updated"
    ROUTE_QUOTA = "route-quota"
    UNSUPPORTED = "unsupported"
    ERROR = "error"
    AMBIGUOUS_ROUTING_DOMAIN = "ambiguous-routing-domain"
    NO_ROUTING_DOMAIN = "no-routing-domain"
    NOT_OWNER = "not-owner"
    DELETION_HELD = "deletion-held"
    APPROVAL_REJECTED = "approval-rejected"
    APPROVAL_EXPIRED = "approval-expired"
    # Not findings: the kinds of the notice that asks a person for an approval, and of the hub's
    # event for an execution that changed something and succeeded.
    APPROVAL_NEEDED = "approval-needed"
    APPLIED = "applied"


# Kinds that leave a subnet out of the mesh (counted as BlockedSubnets). All but
# shared-route-table name an Outpost: every subnet of it in the VPC is left out.
BLOCKING_KINDS = frozenset(
    {
        FindingKind.SHARED_ROUTE_TABLE,
        FindingKind.COIP_MODE,
        FindingKind.RACK_NOT_UPDATED,
        FindingKind.AMBIGUOUS_ROUTING_DOMAIN,
        FindingKind.NO_ROUTING_DOMAIN,
    }
)

# The keys of an EC2 route that name its target (DescribeRouteTables' Route shape, botocore's
# ec2 service model); the first one present is the route's target.
ROUTE_TARGET_KEYS = (
    "LocalGatewayId",
    "GatewayId",
    "NetworkInterfaceId",
    "InstanceId",
    "NatGatewayId",
    "TransitGatewayId",
    "VpcPeeringConnectionId",
    "CarrierGatewayId",
    "EgressOnlyInternetGatewayId",
    "CoreNetworkArn",
    "VpcEndpointId",
)

# A subnet or route table carrying this tag (any value but "false") is left alone: a person's way
# to accept a standing finding (docs/runbook.md). The stack's OptOutTagKey may name another key.
OPT_OUT_TAG = "outpost-mesh:opt-out"

# The tag on an LGW route table that picks it as the routing domain of a VPC when an Outpost has
# several usable ones: the VPC's id, or "*" for every VPC (docs/aws-facts.md, "Several LGW route
# tables per Outpost (routing domains)").
ROUTING_DOMAIN_TAG = "outpost-mesh:routing-domain"

# Association states that count as "the VPC is (or is becoming) associated".
LIVE_ASSOCIATION_STATES = frozenset({"associating", "associated"})

# An LGW route table's State in which it can be used (pending, deleting, deleted, modifying and
# failed cannot); its VIF group association state in which it carries traffic (docs/aws-facts.md).
AVAILABLE = "available"
VIF_GROUP_ASSOCIATED = "associated"

T = TypeVar("T")
K = TypeVar("K")


@dataclass(frozen=True, order=True)
class LocalGatewayRouteTable:
    """One of an Outpost's LGW route tables: with its VIF group, a routing domain.

    An Outpost has one local gateway and may have several tables (docs/aws-facts.md, "Several LGW
    route tables per Outpost (routing domains)"); ``active`` is whether a VIF group is associated
    with it (only then does it carry traffic), ``domain_tag`` the value of its
    ``outpost-mesh:routing-domain`` tag, ``name`` its Name tag.
    """

    outpost_arn: str
    local_gateway_id: str
    route_table_id: str
    mode: str = DIRECT_VPC_ROUTING
    state: str = AVAILABLE
    active: bool = True
    domain_tag: str | None = None
    name: str | None = None

    @property
    def usable(self) -> bool:
        """Available, direct-vpc-routing and associated with a VIF group."""
        return self.state == AVAILABLE and self.mode == DIRECT_VPC_ROUTING and self.active

    @property
    def label(self) -> str:
        """Its id, with its Name tag when it has one: ``lgw-rtb-0123 (dvr-prod)``."""
        return f"{self.route_table_id} ({self.name})" if self.name else self.route_table_id


@dataclass(frozen=True, order=True)
class Subnet:
    subnet_id: str
    vpc_id: str
    cidr: str | None
    outpost_arn: str | None = None
    ipv6_cidrs: tuple[str, ...] = ()
    name: str | None = None
    opted_out: bool = False

    @property
    def on_outpost(self) -> bool:
        return self.outpost_arn is not None


@dataclass(frozen=True, order=True)
class Route:
    """A route as DescribeRouteTables shows it; ``target`` is the target's id (``local`` etc.)."""

    destination: str
    target: str
    state: str = "active"

    @property
    def is_local(self) -> bool:
        return self.target == "local"


@dataclass(frozen=True)
class RouteTable:
    route_table_id: str
    vpc_id: str
    main: bool = False
    subnet_ids: tuple[str, ...] = ()
    routes: tuple[Route, ...] = ()
    opted_out: bool = False

    def route_to(self, destination: str) -> Route | None:
        for route in self.routes:
            if route.destination == destination:
                return route
        return None

    @property
    def quota_routes(self) -> int:
        """Routes that count towards the routes-per-table quota: IPv4 and IPv6 count apart (the
        mesh's routes are IPv4) and AWS's local routes not at all (docs/aws-facts.md, "Quotas and
        throttling"). A prefix-list destination counts."""
        count = 0
        for route in self.routes:
            if route.is_local:
                continue
            try:
                if parse_cidr(route.destination).version == 6:
                    continue
            except ValueError:
                pass  # a prefix list: counted
            count += 1
        return count


@dataclass(frozen=True, order=True)
class VpcAssociation:
    """A LocalGatewayRouteTableVpcAssociation."""

    association_id: str
    lgw_route_table_id: str
    vpc_id: str
    state: str
    local_gateway_id: str = ""

    @property
    def live(self) -> bool:
        return self.state in LIVE_ASSOCIATION_STATES


@dataclass(frozen=True)
class DomainChoice:
    """The routing domain (LGW route table) a VPC uses on one Outpost, or why it has none.

    ``table`` is set when the VPC's subnets there can be meshed; otherwise ``kind`` (coip-mode,
    ambiguous-routing-domain or no-routing-domain) and ``reason`` say why, for a finding.
    ``association`` is the VPC's live association with one of the Outpost's tables, if any: it
    decides, and no other table of that Outpost is ever associated.
    """

    outpost_arn: str
    table: LocalGatewayRouteTable | None
    reason: str
    kind: FindingKind | None = None
    association: VpcAssociation | None = None

    def to_dict(self) -> dict[str, Any]:
        table = self.table
        return {
            "outpost_arn": self.outpost_arn,
            "lgw_route_table_id": table.route_table_id if table else None,
            "name": table.name if table else None,
            "associated": self.association is not None,
            "finding": str(self.kind) if self.kind else None,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class Topology:
    """Everything about one VPC that the planner needs, read by Describe calls."""

    vpc_id: str
    vpc_cidrs: tuple[str, ...]
    subnets: tuple[Subnet, ...]
    route_tables: tuple[RouteTable, ...]
    lgw_route_tables: tuple[LocalGatewayRouteTable, ...]
    associations: tuple[VpcAssociation, ...]
    # The VPC's OwnerId (DescribeVpcs); "" when not known. Another account's VPC shared into
    # this one (VPC sharing) is not this account's to change (docs/aws-facts.md).
    owner_id: str = ""

    def subnet(self, subnet_id: str) -> Subnet | None:
        for subnet in self.subnets:
            if subnet.subnet_id == subnet_id:
                return subnet
        return None

    @functools.cached_property
    def index(self) -> TopologyIndex:
        """The lookups below as dicts, built on first use (the planner and verify build their
        own per call, for the bench to time it)."""
        return TopologyIndex(self)

    def route_table(self, route_table_id: str) -> RouteTable | None:
        return self.index.route_table(route_table_id)

    @property
    def main_route_table(self) -> RouteTable | None:
        for table in self.route_tables:
            if table.main:
                return table
        return None

    def effective_route_table(self, subnet_id: str) -> RouteTable | None:
        """The subnet's explicit table, else the VPC's main table (AWS's rule)."""
        return self.index.effective_route_table(subnet_id)

    def served_subnets(self, table: RouteTable) -> tuple[Subnet, ...]:
        """Subnets whose effective table is ``table`` (a main table serves the unassociated)."""
        return self.index.served_subnets(table)

    def lgw_by_gateway(self, local_gateway_id: str) -> LocalGatewayRouteTable | None:
        for lgw in self.lgw_route_tables:
            if lgw.local_gateway_id == local_gateway_id:
                return lgw
        return None

    def association_for(self, lgw_route_table_id: str) -> VpcAssociation | None:
        """The live association of this VPC with an LGW route table, if any."""
        return self.index.association_for(lgw_route_table_id)


@dataclass(frozen=True, order=True)
class OwnedRoute:
    """A route the system created (routes carry no tags: the ledger is the only record)."""

    route_table_id: str
    destination: str
    local_gateway_id: str
    destination_subnet_id: str = ""
    source_subnet_ids: tuple[str, ...] = ()


@dataclass(frozen=True, order=True)
class OwnedAssociation:
    association_id: str
    lgw_route_table_id: str
    outpost_arn: str = ""


@dataclass(frozen=True, order=True)
class QuotaRefusal:
    """What a ``RouteLimitExceeded`` taught about one route table: AWS refused a route of the
    plan whose fingerprint is ``digest`` (the table's routes, the changes planned for it and the
    RoutesPerTableQuota parameter) when the table was to hold ``routes`` routes. The planner
    leaves the table out while the fingerprint holds (no retry, no BGP flapping)."""

    route_table_id: str
    digest: str
    routes: int = 0
    quota: int = 0


class ApprovalStatus(StrEnum):
    """Where a VPC's approval request stands (approval mode, docs/architecture.md)."""

    PROPOSED = "proposed"  # a pass planned changes that wait; no token yet
    WAITING = "waiting"  # the execution waits for a person, with a task token
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"  # nobody answered before expires_at (or the token timed out)


@dataclass(frozen=True)
class Approval:
    """A VPC's latest approval request (one per VPC; the ledger's ``APPROVAL`` item).

    ``changes`` are the keys of the changes that wait (``outpost_mesh.approval.change_keys``),
    ``digest`` their fingerprint: an approval holds for exactly those changes of the execution
    that asked; a rejection (or expiry) holds while the plan would ask for the same ones again.
    ``plan`` is the waiting part of the plan as ``Plan.to_dict`` gives it, for notices and
    ``status``; times are epoch seconds on the ledger's clock."""

    vpc_id: str
    execution: str
    status: ApprovalStatus
    digest: str
    changes: tuple[str, ...] = ()
    requested_at: int = 0
    expires_at: int = 0
    token: str = ""
    decided_by: str = ""
    decided_at: int = 0
    reason: str = ""
    plan: Mapping[str, Any] = field(default_factory=dict, compare=False)

    @property
    def pending(self) -> bool:
        return self.status in (ApprovalStatus.PROPOSED, ApprovalStatus.WAITING)

    def expired(self, now: float) -> bool:
        return self.status is ApprovalStatus.WAITING and 0 < self.expires_at <= now


@dataclass(frozen=True)
class Ledger:
    """What the system owns in one VPC, and what AWS's refusals taught about its tables."""

    vpc_id: str
    routes: tuple[OwnedRoute, ...] = ()
    associations: tuple[OwnedAssociation, ...] = ()
    quota_refusals: tuple[QuotaRefusal, ...] = ()
    approval: Approval | None = None

    def quota_refusal(self, route_table_id: str) -> QuotaRefusal | None:
        for refusal in self.quota_refusals:
            if refusal.route_table_id == route_table_id:
                return refusal
        return None

    def owns_route(self, route_table_id: str, destination: str, target: str) -> bool:
        return any(
            r.route_table_id == route_table_id
            and r.destination == destination
            and r.local_gateway_id == target
            for r in self.routes
        )

    def owns_association(self, association_id: str) -> bool:
        return any(a.association_id == association_id for a in self.associations)


@dataclass(frozen=True, order=True)
class Finding:
    kind: FindingKind
    subject: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"kind": str(self.kind), "subject": self.subject, "message": self.message}


@dataclass(frozen=True, order=True)
class RouteChange:
    """Create or delete one LGW route: ``destination`` in a route table -> an LGW."""

    route_table_id: str
    destination: str
    local_gateway_id: str
    destination_subnet_id: str = ""
    source_subnet_ids: tuple[str, ...] = ()
    reason: str = field(default="", compare=False)

    @classmethod
    def made(
        cls,
        route_table_id: str,
        destination: str,
        local_gateway_id: str,
        *,
        destination_subnet_id: str,
        source_subnet_ids: tuple[str, ...],
        reason: str,
    ) -> RouteChange:
        """The same object as ``RouteChange(...)``, made without the frozen dataclass's
        ``__init__`` (one ``object.__setattr__`` per field): twice as fast, for the planner,
        which makes one per route to create (36,000 for a 10x20 per-subnet mesh from nothing)."""
        change = object.__new__(cls)
        fields = change.__dict__
        fields["route_table_id"] = route_table_id
        fields["destination"] = destination
        fields["local_gateway_id"] = local_gateway_id
        fields["destination_subnet_id"] = destination_subnet_id
        fields["source_subnet_ids"] = source_subnet_ids
        fields["reason"] = reason
        return change

    def to_dict(self) -> dict[str, Any]:
        return {
            "route_table_id": self.route_table_id,
            "destination": self.destination,
            "local_gateway_id": self.local_gateway_id,
            "destination_subnet_id": self.destination_subnet_id,
            "source_subnet_ids": list(self.source_subnet_ids),
            "reason": self.reason,
        }

    def owned(self) -> OwnedRoute:
        return OwnedRoute(
            self.route_table_id,
            self.destination,
            self.local_gateway_id,
            self.destination_subnet_id,
            self.source_subnet_ids,
        )


@dataclass(frozen=True, order=True)
class AssociationChange:
    """Associate (or disassociate) the VPC with an Outpost's LGW route table."""

    lgw_route_table_id: str
    vpc_id: str
    outpost_arn: str = ""
    local_gateway_id: str = ""
    association_id: str = ""
    reason: str = field(default="", compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "local_gateway_route_table_id": self.lgw_route_table_id,
            "vpc_id": self.vpc_id,
            "outpost_arn": self.outpost_arn,
            "local_gateway_id": self.local_gateway_id,
            "association_id": self.association_id,
            "reason": self.reason,
        }


@dataclass(frozen=True, order=True)
class Advertisement:
    """A plan's on-premises impact on one Outpost: the subnet CIDRs its local gateway starts
    (``advertised``) and stops (``withdrawn``) advertising over BGP once the plan is applied
    (``outpost_mesh.advertise.bgp_impact``; docs/aws-facts.md, "BGP advertisement")."""

    outpost_arn: str
    advertised: tuple[str, ...] = ()
    withdrawn: tuple[str, ...] = ()


@dataclass(frozen=True)
class Plan:
    """What reconciling one VPC would change, sorted, printable before anything changes."""

    vpc_id: str
    associations_to_create: tuple[AssociationChange, ...] = ()
    associations_to_delete: tuple[AssociationChange, ...] = ()
    routes_to_create: tuple[RouteChange, ...] = ()
    routes_to_delete: tuple[RouteChange, ...] = ()
    findings: tuple[Finding, ...] = ()
    # Ledger entries whose route or association is gone from AWS (deleted by someone else):
    # forgotten on apply, never acted on in AWS.
    stale_routes: tuple[OwnedRoute, ...] = ()
    stale_associations: tuple[OwnedAssociation, ...] = ()
    # The routing domain used (or why none) on each Outpost of the VPC's subnets.
    routing_domains: tuple[DomainChoice, ...] = ()
    # Owned routes whose deletion deletion safety holds (not in routes_to_delete): they stay.
    routes_held: tuple[RouteChange, ...] = ()
    # Per Outpost, the prefixes BGP starts and stops advertising on-premises once this plan is
    # applied (filled by planner.plan_pass and removal_plan; empty: no change on-premises).
    bgp_impact: tuple[Advertisement, ...] = ()
    # Approval mode: the changes that wait for a person (not in the fields above), with their
    # own on-premises impact; None when nothing waits (outpost_mesh.approval.gate).
    waiting: Plan | None = None

    @property
    def has_changes(self) -> bool:
        return bool(
            self.associations_to_create
            or self.associations_to_delete
            or self.routes_to_create
            or self.routes_to_delete
        )

    @property
    def is_empty(self) -> bool:
        return not self.has_changes and not self.stale_routes and not self.stale_associations

    def counts(self) -> dict[str, int]:
        return {
            "associations_to_create": len(self.associations_to_create),
            "associations_to_delete": len(self.associations_to_delete),
            "routes_to_create": len(self.routes_to_create),
            "routes_to_delete": len(self.routes_to_delete),
            "routes_held": len(self.routes_held),
            "findings": len(self.findings),
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "vpc_id": self.vpc_id,
            "associations_to_create": [c.to_dict() for c in self.associations_to_create],
            "associations_to_delete": [c.to_dict() for c in self.associations_to_delete],
            "routes_to_create": [c.to_dict() for c in self.routes_to_create],
            "routes_to_delete": [c.to_dict() for c in self.routes_to_delete],
            "routes_held": [c.to_dict() for c in self.routes_held],
            "findings": [f.to_dict() for f in self.findings],
            "routing_domains": [d.to_dict() for d in self.routing_domains],
            # Outpost ARN -> CIDRs, only Outposts where something changes.
            "advertised": {
                a.outpost_arn: list(a.advertised) for a in self.bgp_impact if a.advertised
            },
            "withdrawn": {a.outpost_arn: list(a.withdrawn) for a in self.bgp_impact if a.withdrawn},
            **({"waiting_approval": self.waiting.to_dict()} if self.waiting is not None else {}),
        }


@dataclass(frozen=True, order=True)
class PairReachability:
    source_subnet_id: str
    destination_subnet_id: str
    reachable: bool
    reason: str = field(default="", compare=False)

    @property
    def key(self) -> tuple[str, str]:
        return (self.source_subnet_id, self.destination_subnet_id)


def is_ipv4(cidr: str) -> bool:
    try:
        return ipaddress.ip_network(cidr, strict=False).version == 4
    except ValueError:
        return False


class Cidr(NamedTuple):
    """A parsed CIDR: ``ipaddress.ip_network(cidr, strict=False)`` as plain integers."""

    version: int
    prefixlen: int
    address: int  # the network address (host bits cleared)

    def supernet_address(self, prefixlen: int) -> int:
        """The network address of the ``prefixlen`` block that contains this one."""
        host_bits = (32 if self.version == 4 else 128) - prefixlen
        return self.address >> host_bits << host_bits


@functools.lru_cache(maxsize=8192)
def parse_cidr(cidr: str) -> Cidr:
    """Parse once per distinct string: a VPC has a few hundred CIDRs but tens of thousands of
    routes and subnet pairs. ``ValueError`` (not cached) when ``cidr`` is not a CIDR."""
    net = ipaddress.ip_network(cidr, strict=False)
    return Cidr(net.version, net.prefixlen, int(net.network_address))


class RoutePrefixes:
    """A route table's CIDR routes indexed for longest-prefix match.

    For each (IP version, prefix length) present, longest first, the routes by network address:
    a route contains a CIDR exactly when its network equals the CIDR's supernet at the route's
    prefix length, so a match is one dict lookup per prefix length. Destinations that are not
    CIDRs (prefix lists and the like) never match.
    """

    def __init__(self, routes: Iterable[Route]) -> None:
        levels: dict[tuple[int, int], dict[int, Route]] = {}
        for route in routes:
            try:
                net = parse_cidr(route.destination)
            except ValueError:
                continue
            # setdefault: of two routes for one network ("10.0.0.0/24", "10.0.0.9/24") the
            # first wins, as in a scan that only replaces its best on a longer prefix.
            levels.setdefault((net.version, net.prefixlen), {}).setdefault(net.address, route)
        self._levels = sorted(
            ((version, length, by_address) for (version, length), by_address in levels.items()),
            key=lambda level: -level[1],
        )

    def longest_match(self, address_cidr: str) -> Route | None:
        """The route AWS would pick for the whole of ``address_cidr`` (``ValueError`` if it is
        not a CIDR)."""
        wanted = parse_cidr(address_cidr)
        for version, length, by_address in self._levels:
            if version == wanted.version and length <= wanted.prefixlen:
                route = by_address.get(wanted.supernet_address(length))
                if route is not None:
                    return route
        return None


def longest_prefix_route(table: RouteTable, address_cidr: str) -> Route | None:
    """The route of ``table`` that AWS would pick for the whole of ``address_cidr``."""
    return RoutePrefixes(table.routes).longest_match(address_cidr)


def _first_by(items: Iterable[T], key: Callable[[T], K]) -> dict[K, T]:
    """``key(item) -> item`` keeping the first item of each key, as a linear scan finds it
    (building from the end: each earlier item overwrites a later one)."""
    return {key(item): item for item in reversed(tuple(items))}


class TopologyIndex:
    """A ``Topology``'s lookups as dicts (AWS's rules for them written once: the Topology
    methods of the same names answer from it), for callers that make thousands of them.
    Answers what a scan of the topology would (the tests hold it to one), assuming what AWS
    guarantees: route table ids are unique.
    """

    def __init__(self, topology: Topology) -> None:
        self.topology = topology
        self._tables = _first_by(topology.route_tables, lambda t: t.route_table_id)
        self._main = topology.main_route_table
        # Subnet id -> the tables that list it, in topology order (the first is its table).
        listed_in: dict[str, list[RouteTable]] = {}
        for table in topology.route_tables:
            for subnet_id in table.subnet_ids:
                tables = listed_in.setdefault(subnet_id, [])
                if not tables or tables[-1] is not table:  # a table listing a subnet twice
                    tables.append(table)
        self._explicit = {subnet_id: tables[0] for subnet_id, tables in listed_in.items()}
        # Table id -> its served subnets in topology order: the ones it lists, and for a main
        # table also every subnet no table lists.
        mains = [t for t in topology.route_tables if t.main]
        served: dict[str, list[Subnet]] = {t.route_table_id: [] for t in topology.route_tables}
        for subnet in topology.subnets:
            for table in listed_in.get(subnet.subnet_id) or mains:
                served[table.route_table_id].append(subnet)
        self._served = {table_id: tuple(subnets) for table_id, subnets in served.items()}
        self._gateways = {
            outpost: table.local_gateway_id
            for outpost, table in _first_by(
                topology.lgw_route_tables, lambda g: g.outpost_arn
            ).items()
        }
        # Outpost ARN -> the VPC's routing domain there, filled on first use by
        # ``outpost_mesh.domains.routing_domain`` (the rule lives there).
        self.domains: dict[str, DomainChoice] = {}
        self._associations = _first_by(
            (a for a in topology.associations if a.live), lambda a: a.lgw_route_table_id
        )
        # Per route table, built on first use: most callers need only some of them.
        self._routes: dict[str, dict[str, Route]] = {}
        self._prefixes: dict[str, RoutePrefixes] = {}

    def route_table(self, route_table_id: str) -> RouteTable | None:
        return self._tables.get(route_table_id)

    def effective_route_table(self, subnet_id: str) -> RouteTable | None:
        """The subnet's explicit table, else the VPC's main table (AWS's rule)."""
        return self._explicit.get(subnet_id, self._main)

    def served_subnets(self, table: RouteTable) -> tuple[Subnet, ...]:
        """Subnets whose effective table is ``table`` (a main table serves the unassociated)."""
        return self._served.get(table.route_table_id, ())

    def local_gateway_of(self, outpost_arn: str) -> str | None:
        """The Outpost's local gateway (one per Outpost), as its LGW route tables name it."""
        return self._gateways.get(outpost_arn)

    def association_for(self, lgw_route_table_id: str) -> VpcAssociation | None:
        """The live association of this VPC with an LGW route table, if any."""
        return self._associations.get(lgw_route_table_id)

    def routes_by_destination(self, table: RouteTable) -> Mapping[str, Route]:
        """``table.route_to`` for every destination at once."""
        routes = self._routes.get(table.route_table_id)
        if routes is None:
            routes = self._routes[table.route_table_id] = _first_by(
                table.routes, lambda r: r.destination
            )
        return routes

    def longest_prefix_route(self, table: RouteTable, address_cidr: str) -> Route | None:
        prefixes = self._prefixes.get(table.route_table_id)
        if prefixes is None:
            prefixes = self._prefixes[table.route_table_id] = RoutePrefixes(table.routes)
        return prefixes.longest_match(address_cidr)
