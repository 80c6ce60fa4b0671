"""Read one VPC's topology, or the whole Region's (the sweep), with a constant number of
filtered, paginated Describe calls.

Calls per observation, whatever the VPC's size (pages aside): DescribeVpcs,
DescribeSubnets(vpc-id), DescribeRouteTables(vpc-id), DescribeLocalGatewayRouteTables(outpost-arn)
and DescribeLocalGatewayRouteTableVirtualInterfaceGroupAssociations(local-gateway-route-table-id)
(both skipped when the VPC has no Outpost subnet), and
DescribeLocalGatewayRouteTableVpcAssociations(vpc-id).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from outpost_mesh.errors import VpcNotFoundError, from_client_error
from outpost_mesh.model import (
    AVAILABLE,
    DIRECT_VPC_ROUTING,
    OPT_OUT_TAG,
    ROUTE_TARGET_KEYS,
    ROUTING_DOMAIN_TAG,
    VIF_GROUP_ASSOCIATED,
    LocalGatewayRouteTable,
    Route,
    RouteTable,
    Subnet,
    Topology,
    VpcAssociation,
)

if TYPE_CHECKING:
    from mypy_boto3_ec2 import EC2Client

# Tag put on every association the system creates (routes cannot carry tags).
MANAGED_BY_TAG = "outpost-mesh:managed-by"


def _tags(resource: Any) -> dict[str, str]:
    return {t["Key"]: t.get("Value", "") for t in resource.get("Tags", []) or []}


def _opted_out(tags: dict[str, str], key: str) -> bool:
    return key in tags and tags[key].lower() != "false"


def route_target(route: Any) -> str:
    for key in ROUTE_TARGET_KEYS:
        if route.get(key):
            return str(route[key])
    return "unknown"


def _pages(ec2: EC2Client, operation: str, key: str, subject: str, **kwargs: Any) -> Iterator[Any]:
    paginator = ec2.get_paginator(operation)  # type: ignore[call-overload]
    try:
        for page in paginator.paginate(**kwargs):
            yield from page.get(key, [])
    except ClientError as error:
        raise from_client_error(error, subject=subject) from error


def _vpc_cidrs(vpc: Any) -> tuple[str, ...]:
    return tuple(
        a["CidrBlock"]
        for a in vpc.get("CidrBlockAssociationSet", [])
        if a.get("CidrBlockState", {}).get("State", "associated") in ("associated", "associating")
    ) or (vpc["CidrBlock"],)


def _subnet(raw: Any, opt_out_tag: str) -> Subnet:
    tags = _tags(raw)
    ipv6 = tuple(
        sorted(
            a["Ipv6CidrBlock"]
            for a in raw.get("Ipv6CidrBlockAssociationSet", []) or []
            if a.get("Ipv6CidrBlockState", {}).get("State", "associated")
            in ("associated", "associating")
        )
    )
    return Subnet(
        subnet_id=raw["SubnetId"],
        vpc_id=raw["VpcId"],
        cidr=raw.get("CidrBlock") or None,
        outpost_arn=raw.get("OutpostArn") or None,
        ipv6_cidrs=ipv6,
        name=tags.get("Name"),
        opted_out=_opted_out(tags, opt_out_tag),
    )


def _route_table(raw: Any, opt_out_tag: str) -> RouteTable:
    assocs = raw.get("Associations", []) or []
    routes = tuple(
        sorted(
            Route(
                destination=r.get("DestinationCidrBlock")
                or r.get("DestinationIpv6CidrBlock")
                or r.get("DestinationPrefixListId", ""),
                target=route_target(r),
                state=r.get("State", "active"),
            )
            for r in raw.get("Routes", []) or []
        )
    )
    return RouteTable(
        route_table_id=raw["RouteTableId"],
        vpc_id=raw["VpcId"],
        main=any(a.get("Main") for a in assocs),
        subnet_ids=tuple(sorted(a["SubnetId"] for a in assocs if a.get("SubnetId"))),
        routes=routes,
        opted_out=_opted_out(_tags(raw), opt_out_tag),
    )


def _association(raw: Any) -> VpcAssociation:
    return VpcAssociation(
        association_id=raw["LocalGatewayRouteTableVpcAssociationId"],
        lgw_route_table_id=raw["LocalGatewayRouteTableId"],
        vpc_id=raw["VpcId"],
        state=raw.get("State", ""),
        local_gateway_id=raw.get("LocalGatewayId", ""),
    )


def _topology(
    vpc: Any,
    subnets: list[Subnet],
    tables: list[RouteTable],
    lgw_tables: list[LocalGatewayRouteTable],
    associations: list[VpcAssociation],
) -> Topology:
    return Topology(
        vpc_id=vpc["VpcId"],
        vpc_cidrs=_vpc_cidrs(vpc),
        subnets=tuple(sorted(subnets)),
        route_tables=tuple(sorted(tables, key=lambda t: t.route_table_id)),
        lgw_route_tables=tuple(sorted(lgw_tables)),
        associations=tuple(sorted(associations)),
        owner_id=vpc.get("OwnerId", ""),
    )


def observe_vpc(ec2: EC2Client, vpc_id: str, opt_out_tag: str = OPT_OUT_TAG) -> Topology:
    """The VPC's topology from Describe calls, filtered by VPC and followed page by page;
    ``opt_out_tag``: the tag key (the stack's OptOutTagKey) that leaves a subnet or table out."""
    try:
        vpcs = ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"]
    except ClientError as error:
        raise from_client_error(error, subject=vpc_id) from error
    if not vpcs:
        raise VpcNotFoundError(f"VPC {vpc_id} not found", code="InvalidVpcID.NotFound")
    vpc_filter = [{"Name": "vpc-id", "Values": [vpc_id]}]
    subnets = [
        _subnet(raw, opt_out_tag)
        for raw in _pages(ec2, "describe_subnets", "Subnets", vpc_id, Filters=vpc_filter)
    ]
    tables = [
        _route_table(raw, opt_out_tag)
        for raw in _pages(ec2, "describe_route_tables", "RouteTables", vpc_id, Filters=vpc_filter)
    ]
    outpost_arns = sorted({s.outpost_arn for s in subnets if s.outpost_arn})
    lgw_tables = _lgw_route_tables(ec2, vpc_id, outpost_arns) if outpost_arns else []
    associations = [
        _association(raw)
        for raw in _pages(
            ec2,
            "describe_local_gateway_route_table_vpc_associations",
            "LocalGatewayRouteTableVpcAssociations",
            vpc_id,
            Filters=vpc_filter,
        )
    ]
    return _topology(vpcs[0], subnets, tables, lgw_tables, associations)


# AWS's largest page per action (EC2 API Reference, each action's MaxResults range): the fleet
# observation asks for full pages, so its calls are the sum of ceil(items / page) per action.
FLEET_PAGE_SIZES = {
    "describe_vpcs": 1000,
    "describe_subnets": 1000,
    "describe_route_tables": 100,
    "describe_local_gateway_route_tables": 1000,
    "describe_local_gateway_route_table_virtual_interface_group_associations": 1000,
    "describe_local_gateway_route_table_vpc_associations": 1000,
}


@dataclass(frozen=True)
class FleetObservation:
    """The Region as the sweep sees it: every VPC with an Outpost subnet (and every VPC asked
    for) as the topology ``observe_vpc`` would return, each VPC's tags (opt-in management), and
    the Describe calls it took per action."""

    topologies: Mapping[str, Topology]
    vpc_tags: Mapping[str, Mapping[str, str]]
    calls: Mapping[str, int]


def _fleet_pages(ec2: EC2Client, operation: str, key: str, calls: dict[str, int]) -> list[Any]:
    paginator = ec2.get_paginator(operation)  # type: ignore[call-overload]
    items: list[Any] = []
    try:
        for page in paginator.paginate(PaginationConfig={"PageSize": FLEET_PAGE_SIZES[operation]}):
            calls[operation] = calls.get(operation, 0) + 1
            items.extend(page.get(key, []))
    except ClientError as error:
        raise from_client_error(error, subject="sweep") from error
    return items


def observe_fleet(
    ec2: EC2Client, also: Iterable[str] = (), opt_out_tag: str = OPT_OUT_TAG
) -> FleetObservation:
    """Every VPC of the Region that has an Outpost subnet, plus the VPCs in ``also`` (those the
    ledger knows) that still exist, read with one paginated Describe per action for the whole
    Region (six actions, AWS's largest pages), not per VPC. Each topology equals what
    :func:`observe_vpc` returns for that VPC (the per-VPC observe stays for executions)."""
    calls: dict[str, int] = {}
    raw_subnets = _fleet_pages(ec2, "describe_subnets", "Subnets", calls)
    wanted = {raw["VpcId"] for raw in raw_subnets if raw.get("OutpostArn")} | set(also)
    vpcs = {
        raw["VpcId"]: raw
        for raw in _fleet_pages(ec2, "describe_vpcs", "Vpcs", calls)
        if raw["VpcId"] in wanted
    }
    subnets: dict[str, list[Subnet]] = {vpc: [] for vpc in vpcs}
    for raw in raw_subnets:
        if raw["VpcId"] in vpcs:
            subnets[raw["VpcId"]].append(_subnet(raw, opt_out_tag))
    tables: dict[str, list[RouteTable]] = {vpc: [] for vpc in vpcs}
    for raw in _fleet_pages(ec2, "describe_route_tables", "RouteTables", calls):
        if raw["VpcId"] in vpcs:
            tables[raw["VpcId"]].append(_route_table(raw, opt_out_tag))
    lgw_raws = _fleet_pages(
        ec2, "describe_local_gateway_route_tables", "LocalGatewayRouteTables", calls
    )
    active = (
        {
            vif["LocalGatewayRouteTableId"]
            for vif in _fleet_pages(
                ec2,
                "describe_local_gateway_route_table_virtual_interface_group_associations",
                "LocalGatewayRouteTableVirtualInterfaceGroupAssociations",
                calls,
            )
            if vif.get("State") == VIF_GROUP_ASSOCIATED
        }
        if lgw_raws
        else set()
    )
    by_outpost: dict[str, list[LocalGatewayRouteTable]] = {}
    for lgw in _lgw_tables(lgw_raws, active):
        by_outpost.setdefault(lgw.outpost_arn, []).append(lgw)
    associations: dict[str, list[VpcAssociation]] = {vpc: [] for vpc in vpcs}
    for raw in _fleet_pages(
        ec2,
        "describe_local_gateway_route_table_vpc_associations",
        "LocalGatewayRouteTableVpcAssociations",
        calls,
    ):
        if raw["VpcId"] in vpcs:
            associations[raw["VpcId"]].append(_association(raw))
    topologies = {}
    for vpc_id, vpc in vpcs.items():
        outposts = sorted({s.outpost_arn for s in subnets[vpc_id] if s.outpost_arn})
        lgw_tables = [t for arn in outposts for t in by_outpost.get(arn, [])]
        topologies[vpc_id] = _topology(
            vpc, subnets[vpc_id], tables[vpc_id], lgw_tables, associations[vpc_id]
        )
    return FleetObservation(
        topologies=topologies,
        vpc_tags={vpc_id: _tags(vpc) for vpc_id, vpc in vpcs.items()},
        calls=calls,
    )


def _lgw_route_tables(
    ec2: EC2Client, vpc_id: str, outpost_arns: list[str]
) -> list[LocalGatewayRouteTable]:
    """The Outposts' LGW route tables (every routing domain), each with whether a VIF group is
    associated with it (only then does it carry traffic: docs/aws-facts.md, "Several LGW route
    tables per Outpost (routing domains)")."""
    raws = list(
        _pages(
            ec2,
            "describe_local_gateway_route_tables",
            "LocalGatewayRouteTables",
            vpc_id,
            Filters=[{"Name": "outpost-arn", "Values": outpost_arns}],
        )
    )
    active: set[str] = set()
    if raws:
        ids = sorted(raw["LocalGatewayRouteTableId"] for raw in raws)
        for vif in _pages(
            ec2,
            "describe_local_gateway_route_table_virtual_interface_group_associations",
            "LocalGatewayRouteTableVirtualInterfaceGroupAssociations",
            vpc_id,
            Filters=[{"Name": "local-gateway-route-table-id", "Values": ids}],
        ):
            if vif.get("State") == VIF_GROUP_ASSOCIATED:
                active.add(vif["LocalGatewayRouteTableId"])
    return _lgw_tables(raws, active)


def _lgw_tables(raws: list[Any], active: set[str]) -> list[LocalGatewayRouteTable]:
    """LGW route tables as described, each with whether a VIF group is associated with it."""
    tables = []
    for raw in raws:
        tags = _tags(raw)
        table_id = raw["LocalGatewayRouteTableId"]
        tables.append(
            LocalGatewayRouteTable(
                outpost_arn=raw["OutpostArn"],
                local_gateway_id=raw["LocalGatewayId"],
                route_table_id=table_id,
                mode=raw.get("Mode", DIRECT_VPC_ROUTING),
                state=raw.get("State", AVAILABLE),
                active=table_id in active,
                domain_tag=tags.get(ROUTING_DOMAIN_TAG),
                name=tags.get("Name") or None,
            )
        )
    return tables
