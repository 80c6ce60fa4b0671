"""Describe answers come in pages: the core's observe must follow NextToken to see everything.

The sandbox pages the six Describe actions observe makes even without MaxResults (at a default
page size, outpost_mesh_sandbox.aws.paging); here a page holds two items, so a VPC of three racks
spans several pages of subnets, route tables, LGW route tables and associations.
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from outpost_mesh.observe import observe_vpc
from outpost_mesh_sandbox.aws.control import SandboxControlError, SeededOutpost
from outpost_mesh_sandbox.aws.paging import ASSUMED_DEFAULT_PAGE_SIZE
from outpost_mesh_sandbox.aws.server import Sandbox

PAGE = 2
RACKS = ("rack-a", "rack-b", "rack-c")
SUBNETS_PER_RACK = 2


def associate(ec2: Any, vpc_id: str, rack: SeededOutpost) -> str:
    created = ec2.create_local_gateway_route_table_vpc_association(
        LocalGatewayRouteTableId=rack.local_gateway_route_table_id, VpcId=vpc_id
    )["LocalGatewayRouteTableVpcAssociation"]["LocalGatewayRouteTableVpcAssociationId"]
    for _ in range(10):
        found = ec2.describe_local_gateway_route_table_vpc_associations(
            LocalGatewayRouteTableVpcAssociationIds=[created]
        )["LocalGatewayRouteTableVpcAssociations"]
        if found[0]["State"] == "associated":
            return str(created)
    raise AssertionError(f"{created} never associated")


def seed_three_racks(sb: Sandbox, ec2: Any) -> dict[str, Any]:
    """A VPC over three racks: two subnets per rack, each with its own route table, and the VPC
    associated with every rack's LGW route table."""
    racks = [sb.control.seed_outpost(name) for name in RACKS]
    vpc_id = ec2.create_vpc(CidrBlock="10.7.0.0/16")["Vpc"]["VpcId"]
    subnets, tables = [], []
    for r, rack in enumerate(racks):
        for i in range(SUBNETS_PER_RACK):
            subnet_id = ec2.create_subnet(
                VpcId=vpc_id,
                CidrBlock=f"10.7.{r * 10 + i}.0/24",
                AvailabilityZone=rack.availability_zone,
                OutpostArn=rack.outpost_arn,
            )["Subnet"]["SubnetId"]
            table_id = ec2.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"]
            ec2.associate_route_table(RouteTableId=table_id, SubnetId=subnet_id)
            subnets.append(subnet_id)
            tables.append(table_id)
    associations = [associate(ec2, vpc_id, rack) for rack in racks]
    return {
        "vpc": vpc_id,
        "racks": racks,
        "subnets": subnets,
        "tables": tables,
        "associations": associations,
    }


def test_observe_follows_every_page_of_every_describe(sb: Sandbox, ec2: Any) -> None:
    world = seed_three_racks(sb, ec2)
    sb.control.configure(page_size=PAGE)
    vpc_filter = [{"Name": "vpc-id", "Values": [world["vpc"]]}]

    # One call without MaxResults sees one page only: reading it alone would miss things.
    first = ec2.describe_subnets(Filters=vpc_filter)
    assert len(first["Subnets"]) == PAGE and first.get("NextToken")
    first = ec2.describe_route_tables(Filters=vpc_filter)
    assert len(first["RouteTables"]) == PAGE and first.get("NextToken")
    first = ec2.describe_local_gateway_route_table_vpc_associations(Filters=vpc_filter)
    assert len(first["LocalGatewayRouteTableVpcAssociations"]) == PAGE
    assert first.get("NextToken")
    first = ec2.describe_local_gateway_route_tables()
    assert len(first["LocalGatewayRouteTables"]) == PAGE and first.get("NextToken")

    topology = observe_vpc(ec2, world["vpc"])

    assert sorted(s.subnet_id for s in topology.subnets) == sorted(world["subnets"])
    custom = [t for t in topology.route_tables if not t.main]
    assert sorted(t.route_table_id for t in custom) == sorted(world["tables"])
    assert len(topology.route_tables) == len(world["tables"]) + 1  # and the main table
    assert sorted(a.association_id for a in topology.associations) == sorted(world["associations"])
    assert {a.state for a in topology.associations} == {"associated"}
    assert sorted(t.route_table_id for t in topology.lgw_route_tables) == sorted(
        r.local_gateway_route_table_id for r in world["racks"]
    )
    served = {s for t in custom for s in t.subnet_ids}
    assert served == set(world["subnets"])
    counts = sb.control.call_counts(caller="pipeline")
    assert counts["DescribeSubnets"] >= 1 + len(world["subnets"]) // PAGE


def test_page_size_is_a_knob_and_a_reset_restores_the_default(sb: Sandbox, ec2: Any) -> None:
    assert sb.control.page_size() == ASSUMED_DEFAULT_PAGE_SIZE
    sb.control.configure(page_size=3)
    assert sb.control.page_size() == 3
    assert "page_size" not in sb.control.config()  # config() reports the EC2 quota knobs only
    for bad in (0, -1, "2", True):
        with pytest.raises(SandboxControlError):
            sb.control.configure(page_size=bad)  # type: ignore[arg-type]
    assert sb.control.page_size() == 3
    sb.control.reset()
    assert sb.control.page_size() == ASSUMED_DEFAULT_PAGE_SIZE


def test_max_results_wins_and_a_bad_token_is_refused(sb: Sandbox, ec2: Any) -> None:
    vpcs = [ec2.create_vpc(CidrBlock=f"10.{i}.0.0/16")["Vpc"]["VpcId"] for i in range(7)]
    sb.control.configure(page_size=3)
    page = ec2.describe_vpcs(MaxResults=5)  # EC2's smallest MaxResults
    assert len(page["Vpcs"]) == 5
    rest = ec2.describe_vpcs(MaxResults=5, NextToken=page["NextToken"])
    assert len(rest["Vpcs"]) == 2 and "NextToken" not in rest
    assert sorted(v["VpcId"] for v in page["Vpcs"] + rest["Vpcs"]) == sorted(vpcs)
    pages = list(ec2.get_paginator("describe_vpcs").paginate())
    assert [len(p["Vpcs"]) for p in pages] == [3, 3, 1]
    with pytest.raises(ClientError) as caught:
        ec2.describe_subnets(NextToken="not-a-token")
    assert caught.value.response["Error"]["Code"] == "InvalidPaginationToken"


def test_a_describe_read_page_by_page_is_one_look_at_associations(sb: Sandbox, ec2: Any) -> None:
    """Associations move on as they are described; the later pages of one describe do not count
    as more describes (the sandbox's pace stays per describe, however small its pages)."""
    racks = [sb.control.seed_outpost(name) for name in RACKS]
    vpc_id = ec2.create_vpc(CidrBlock="10.7.0.0/16")["Vpc"]["VpcId"]
    sb.control.configure(association_describes=2, page_size=1)
    for rack in racks:
        ec2.create_local_gateway_route_table_vpc_association(
            LocalGatewayRouteTableId=rack.local_gateway_route_table_id, VpcId=vpc_id
        )
    paginator = ec2.get_paginator("describe_local_gateway_route_table_vpc_associations")

    def states() -> list[str]:
        return [
            a["State"]
            for page in paginator.paginate()
            for a in page["LocalGatewayRouteTableVpcAssociations"]
        ]

    assert states() == ["associating"] * 3  # seen once
    assert states() == ["associating"] * 3  # seen twice
    assert states() == ["associated"] * 3  # moved on at the third look, not the second page
