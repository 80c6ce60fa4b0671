"""Seeded Outposts, local gateways, LGW route tables and Outpost subnets, through boto3."""

from __future__ import annotations

import re
from typing import Any

import pytest
from botocore.exceptions import ClientError

from outpost_mesh_sandbox.aws.control import SandboxControlError
from outpost_mesh_sandbox.aws.identities import SANDBOX_ACCOUNT, SANDBOX_REGION
from outpost_mesh_sandbox.aws.server import Sandbox


def error_of(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    response: Any = exc.value.response
    return (
        response["Error"]["Code"],
        response["Error"]["Message"],
        response["ResponseMetadata"]["HTTPStatusCode"],
    )


def test_account_has_no_default_vpc(sb: Sandbox, ec2: Any) -> None:
    assert ec2.describe_vpcs()["Vpcs"] == []
    assert ec2.describe_subnets()["Subnets"] == []
    assert ec2.describe_route_tables()["RouteTables"] == []


def test_security_group_without_vpc_fails_like_aws_without_default_vpc(ec2: Any) -> None:
    with pytest.raises(ClientError) as exc:
        ec2.create_security_group(GroupName="g", Description="d")
    assert error_of(exc)[0] == "VPCIdNotSpecified"


def test_seeded_outpost_ids_and_arns(sb: Sandbox) -> None:
    rack = sb.control.seed_outpost("rack-a", mode="coip", intra_vpc=False)
    assert rack.name == "rack-a"
    assert re.fullmatch(r"op-[0-9a-f]{17}", rack.outpost_id)
    assert rack.outpost_arn == (
        f"arn:aws:outposts:{SANDBOX_REGION}:{SANDBOX_ACCOUNT}:outpost/{rack.outpost_id}"
    )
    assert re.fullmatch(r"lgw-[0-9a-f]{17}", rack.local_gateway_id)
    assert re.fullmatch(r"lgw-rtb-[0-9a-f]{17}", rack.local_gateway_route_table_id)
    assert (rack.mode, rack.intra_vpc) == ("coip", False)
    assert rack.availability_zone == f"{SANDBOX_REGION}a"
    assert sb.control.outposts() == [rack]


def test_seeding_rejects_duplicates_and_bad_arguments(sb: Sandbox) -> None:
    sb.control.seed_outpost("rack-a")
    with pytest.raises(SandboxControlError) as exc:
        sb.control.seed_outpost("rack-a")
    assert exc.value.status == 400
    with pytest.raises(SandboxControlError):
        sb.control.seed_outpost("rack-b", mode="bgp")
    with pytest.raises(SandboxControlError):
        sb.control.seed_outpost("rack-c", availability_zone="eu-west-1a")


def test_describe_local_gateways_ids_and_filters(sb: Sandbox, ec2: Any) -> None:
    a = sb.control.seed_outpost("rack-a")
    b = sb.control.seed_outpost("rack-b")
    gateways = ec2.describe_local_gateways()["LocalGateways"]
    assert {g["LocalGatewayId"] for g in gateways} == {a.local_gateway_id, b.local_gateway_id}
    only_a = ec2.describe_local_gateways(LocalGatewayIds=[a.local_gateway_id])["LocalGateways"]
    assert only_a == [
        {
            "LocalGatewayId": a.local_gateway_id,
            "OutpostArn": a.outpost_arn,
            "OwnerId": SANDBOX_ACCOUNT,
            "State": "available",
            "Tags": [],
        }
    ]
    by_arn = ec2.describe_local_gateways(
        Filters=[{"Name": "outpost-arn", "Values": [b.outpost_arn]}]
    )["LocalGateways"]
    assert [g["LocalGatewayId"] for g in by_arn] == [b.local_gateway_id]
    by_state = ec2.describe_local_gateways(
        Filters=[
            {"Name": "state", "Values": ["available"]},
            {"Name": "local-gateway-id", "Values": [a.local_gateway_id]},
        ]
    )["LocalGateways"]
    assert [g["LocalGatewayId"] for g in by_state] == [a.local_gateway_id]
    with pytest.raises(ClientError) as exc:
        ec2.describe_local_gateways(LocalGatewayIds=["lgw-00000000000000000"])
    assert error_of(exc)[0] == "InvalidLocalGatewayID.NotFound"


def test_describe_local_gateway_route_tables_shape_and_filters(sb: Sandbox, ec2: Any) -> None:
    a = sb.control.seed_outpost("rack-a")
    b = sb.control.seed_outpost("rack-b", mode="coip")
    tables = ec2.describe_local_gateway_route_tables(
        LocalGatewayRouteTableIds=[a.local_gateway_route_table_id]
    )["LocalGatewayRouteTables"]
    assert tables == [
        {
            "LocalGatewayRouteTableId": a.local_gateway_route_table_id,
            "LocalGatewayRouteTableArn": (
                f"arn:aws:ec2:{SANDBOX_REGION}:{SANDBOX_ACCOUNT}:local-gateway-route-table/"
                f"{a.local_gateway_route_table_id}"
            ),
            "LocalGatewayId": a.local_gateway_id,
            "OutpostArn": a.outpost_arn,
            "OwnerId": SANDBOX_ACCOUNT,
            "State": "available",
            "Tags": [{"Key": "Name", "Value": "rack-a"}],
            "Mode": "direct-vpc-routing",
        }
    ]

    def ids(filters: list[dict[str, Any]]) -> list[str]:
        found = ec2.describe_local_gateway_route_tables(Filters=filters)["LocalGatewayRouteTables"]
        return [t["LocalGatewayRouteTableId"] for t in found]

    assert ids([{"Name": "mode", "Values": ["coip"]}]) == [b.local_gateway_route_table_id]
    assert ids([{"Name": "local-gateway-id", "Values": [a.local_gateway_id]}]) == [
        a.local_gateway_route_table_id
    ]
    assert ids([{"Name": "outpost-arn", "Values": [b.outpost_arn]}]) == [
        b.local_gateway_route_table_id
    ]
    assert ids(
        [{"Name": "local-gateway-route-table-id", "Values": [b.local_gateway_route_table_id]}]
    ) == [b.local_gateway_route_table_id]
    assert ids([{"Name": "local-gateway-route-table-id", "Values": ["lgw-rtb-*"]}]) == [
        a.local_gateway_route_table_id,
        b.local_gateway_route_table_id,
    ]
    with pytest.raises(ClientError) as exc:
        ec2.describe_local_gateway_route_tables(LocalGatewayRouteTableIds=["lgw-rtb-0"])
    assert error_of(exc)[0] == "InvalidLocalGatewayRouteTableID.NotFound"
    with pytest.raises(ClientError) as exc:
        ec2.describe_local_gateway_route_tables(Filters=[{"Name": "colour", "Values": ["x"]}])
    assert error_of(exc)[:1] == ("InvalidParameterValue",)


def test_local_gateway_describes_paginate(sb: Sandbox, ec2: Any) -> None:
    racks = [sb.control.seed_outpost(f"rack-{i}") for i in range(7)]
    pages = list(
        ec2.get_paginator("describe_local_gateways").paginate(PaginationConfig={"PageSize": 5})
    )
    assert [len(p["LocalGateways"]) for p in pages] == [5, 2]
    assert [g["LocalGatewayId"] for p in pages for g in p["LocalGateways"]] == [
        r.local_gateway_id for r in racks
    ]
    tables = list(
        ec2.get_paginator("describe_local_gateway_route_tables").paginate(
            PaginationConfig={"PageSize": 5}
        )
    )
    assert [len(p["LocalGatewayRouteTables"]) for p in tables] == [5, 2]
    first = ec2.describe_local_gateways(MaxResults=5)
    assert "NextToken" in first
    assert "NextToken" not in ec2.describe_local_gateways(
        MaxResults=5, NextToken=first["NextToken"]
    )
    with pytest.raises(ClientError) as exc:
        ec2.describe_local_gateways(MaxResults=5, NextToken="not-a-token")
    assert error_of(exc)[0] == "InvalidPaginationToken"


def test_create_subnet_keeps_outpost_arn_and_filters_on_it(sb: Sandbox, ec2: Any) -> None:
    rack = sb.control.seed_outpost("rack-a")
    vpc = ec2.create_vpc(CidrBlock="10.7.0.0/16")["Vpc"]["VpcId"]
    created = ec2.create_subnet(
        VpcId=vpc,
        CidrBlock="10.7.7.0/24",
        OutpostArn=rack.outpost_arn,
        AvailabilityZone=rack.availability_zone,
    )["Subnet"]
    assert created["OutpostArn"] == rack.outpost_arn
    in_region = ec2.create_subnet(VpcId=vpc, CidrBlock="10.7.1.0/24", AvailabilityZone="us-east-1a")
    assert "OutpostArn" not in in_region["Subnet"]
    assert in_region["Subnet"]["DefaultForAz"] is False
    described = ec2.describe_subnets(SubnetIds=[created["SubnetId"]])["Subnets"][0]
    assert described["OutpostArn"] == rack.outpost_arn
    on_rack = ec2.describe_subnets(Filters=[{"Name": "outpost-arn", "Values": [rack.outpost_arn]}])
    assert [s["SubnetId"] for s in on_rack["Subnets"]] == [created["SubnetId"]]


def test_create_subnet_outpost_arn_validation(sb: Sandbox, ec2: Any) -> None:
    rack = sb.control.seed_outpost("rack-a")
    vpc = ec2.create_vpc(CidrBlock="10.7.0.0/16")["Vpc"]["VpcId"]
    with pytest.raises(ClientError) as exc:
        ec2.create_subnet(VpcId=vpc, CidrBlock="10.7.7.0/24", OutpostArn=rack.outpost_arn)
    assert error_of(exc)[0] == "MissingParameter"
    with pytest.raises(ClientError) as exc:
        ec2.create_subnet(
            VpcId=vpc,
            CidrBlock="10.7.7.0/24",
            OutpostArn=rack.outpost_arn,
            AvailabilityZone="us-east-1b",
        )
    assert error_of(exc)[0] == "InvalidParameterValue"
    with pytest.raises(ClientError) as exc:
        ec2.create_subnet(
            VpcId=vpc,
            CidrBlock="10.7.7.0/24",
            OutpostArn=rack.outpost_arn.replace(rack.outpost_id, "op-00000000000000000"),
            AvailabilityZone=rack.availability_zone,
        )
    assert error_of(exc)[0] == "InvalidParameterValue"
    assert ec2.describe_subnets()["Subnets"] == []


def test_delete_subnet_drops_its_route_table_association(ec2: Any) -> None:
    vpc = ec2.create_vpc(CidrBlock="10.7.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.7.7.0/24")["Subnet"]["SubnetId"]
    table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.associate_route_table(RouteTableId=table, SubnetId=subnet)
    ec2.delete_subnet(SubnetId=subnet)
    described = ec2.describe_route_tables(RouteTableIds=[table])["RouteTables"][0]
    assert described["Associations"] == []
    by_subnet = ec2.describe_route_tables(
        Filters=[{"Name": "association.subnet-id", "Values": [subnet]}]
    )["RouteTables"]
    assert by_subnet == []
    ec2.delete_route_table(RouteTableId=table)  # no dependency left behind
