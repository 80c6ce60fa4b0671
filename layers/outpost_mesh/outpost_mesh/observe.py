"""Read one VPC's topology with a constant number of filtered, paginated Describe calls.

Calls per observation, whatever the VPC's size (pages aside): DescribeVpcs,
DescribeSubnets(vpc-id), DescribeRouteTables(vpc-id), DescribeLocalGatewayRouteTables(outpost-arn)
and DescribeLocalGatewayRouteTableVirtualInterfaceGroupAssociations(local-gateway-route-table-id)
(both skipped when the VPC has no Outpost subnet), and
DescribeLocalGatewayRouteTableVpcAssociations(vpc-id).
"""

from __future__ import annotations

from collections.abc import Iterator
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


def observe_vpc(ec2: EC2Client, vpc_id: str, opt_out_tag: str = OPT_OUT_TAG) -> Topology:
    """The VPC's topology from Describe calls, filtered by VPC and followed page by page;
    ``opt_out_tag``: the tag key (the stack's OptOutTagKey) that leaves a subnet or table out."""
    try:
        vpcs = ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"]
    except ClientError as error:
        raise from_client_error(error, subject=vpc_id) from error
    if not vpcs:
        raise VpcNotFoundError(f"VPC {vpc_id} not found", code="InvalidVpcID.NotFound")
    vpc = vpcs[0]
    cidrs = [
        a["CidrBlock"]
        for a in vpc.get("CidrBlockAssociationSet", [])
        if a.get("CidrBlockState", {}).get("State", "associated") in ("associated", "associating")
    ] or [vpc["CidrBlock"]]
    vpc_filter = [{"Name": "vpc-id", "Values": [vpc_id]}]

    subnets = []
    for raw in _pages(ec2, "describe_subnets", "Subnets", vpc_id, Filters=vpc_filter):
        tags = _tags(raw)
        ipv6 = tuple(
            sorted(
                a["Ipv6CidrBlock"]
                for a in raw.get("Ipv6CidrBlockAssociationSet", []) or []
                if a.get("Ipv6CidrBlockState", {}).get("State", "associated")
                in ("associated", "associating")
            )
        )
        subnets.append(
            Subnet(
                subnet_id=raw["SubnetId"],
                vpc_id=vpc_id,
                cidr=raw.get("CidrBlock") or None,
                outpost_arn=raw.get("OutpostArn") or None,
                ipv6_cidrs=ipv6,
                name=tags.get("Name"),
                opted_out=_opted_out(tags, opt_out_tag),
            )
        )

    tables = []
    for raw in _pages(ec2, "describe_route_tables", "RouteTables", vpc_id, Filters=vpc_filter):
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
        tables.append(
            RouteTable(
                route_table_id=raw["RouteTableId"],
                vpc_id=vpc_id,
                main=any(a.get("Main") for a in assocs),
                subnet_ids=tuple(sorted(a["SubnetId"] for a in assocs if a.get("SubnetId"))),
                routes=routes,
                opted_out=_opted_out(_tags(raw), opt_out_tag),
            )
        )

    outpost_arns = sorted({s.outpost_arn for s in subnets if s.outpost_arn})
    lgw_tables = _lgw_route_tables(ec2, vpc_id, outpost_arns) if outpost_arns else []

    associations = [
        VpcAssociation(
            association_id=raw["LocalGatewayRouteTableVpcAssociationId"],
            lgw_route_table_id=raw["LocalGatewayRouteTableId"],
            vpc_id=raw["VpcId"],
            state=raw.get("State", ""),
            local_gateway_id=raw.get("LocalGatewayId", ""),
        )
        for raw in _pages(
            ec2,
            "describe_local_gateway_route_table_vpc_associations",
            "LocalGatewayRouteTableVpcAssociations",
            vpc_id,
            Filters=vpc_filter,
        )
    ]
    return Topology(
        vpc_id=vpc_id,
        vpc_cidrs=tuple(cidrs),
        subnets=tuple(sorted(subnets)),
        route_tables=tuple(sorted(tables, key=lambda t: t.route_table_id)),
        lgw_route_tables=tuple(sorted(lgw_tables)),
        associations=tuple(sorted(associations)),
        owner_id=vpc.get("OwnerId", ""),
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
