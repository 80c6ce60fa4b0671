"""Describe answers come in pages: the core's observe must follow NextToken to see everything.

The sandbox pages the Describe actions observe makes even without MaxResults, at each action's
largest page as AWS gives it (outpost_mesh_sandbox.aws.paging: 100 route tables, 1000 of the
others), and refuses a MaxResults outside the action's range as EC2 does. Some tests here set a
page of two items, so a VPC of three racks spans several pages of subnets, route tables, LGW route
tables and associations.
"""

from __future__ import annotations

from typing import Any

import botocore.session
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from outpost_mesh.observe import observe_vpc
from outpost_mesh_sandbox.aws.control import SandboxControlError, SeededOutpost
from outpost_mesh_sandbox.aws.paging import MAX_RESULTS, PAGED_ACTIONS, pages_for
from outpost_mesh_sandbox.aws.server import NO_RETRIES, Sandbox

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
    assert sb.control.page_size() == 0  # none set: each action pages at its largest
    sb.control.configure(page_size=3)
    assert sb.control.page_size() == 3
    assert "page_size" not in sb.control.config()  # config() reports the EC2 quota knobs only
    for bad in (0, -1, "2", True):
        with pytest.raises(SandboxControlError):
            sb.control.configure(page_size=bad)  # type: ignore[arg-type]
    assert sb.control.page_size() == 3
    sb.control.reset()
    assert sb.control.page_size() == 0


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


# -- AWS's page sizes ---------------------------------------------------------------------------
TABLES = 250  # over two VPCs: 2 main tables + 248 created


def seed_route_tables(ec2: Any) -> list[str]:
    vpcs = [ec2.create_vpc(CidrBlock=f"10.{i}.0.0/16")["Vpc"]["VpcId"] for i in range(2)]
    for n in range(TABLES - len(vpcs)):
        ec2.create_route_table(VpcId=vpcs[n % 2])
    return vpcs


def route_table_pages(ec2: Any, **config: int) -> list[int]:
    paginator = ec2.get_paginator("describe_route_tables")
    return [len(p["RouteTables"]) for p in paginator.paginate(PaginationConfig=config)]


def unvalidated(sb: Sandbox) -> Any:
    """An EC2 client that sends what it is given: boto3 itself refuses a MaxResults below the
    model's minimum before sending (not one above the maximum)."""
    return sb.client("ec2", config=NO_RETRIES.merge(Config(parameter_validation=False)))


def test_route_tables_come_in_pages_of_at_most_a_hundred(sb: Sandbox, ec2: Any) -> None:
    seed_route_tables(sb.client("ec2", caller="scenario"))

    assert route_table_pages(ec2, PageSize=100) == [100, 100, 50]
    assert sb.control.call_counts(caller="pipeline")["DescribeRouteTables"] == 3
    assert pages_for("DescribeRouteTables", TABLES) == 3

    # Without MaxResults: pages of the action's largest MaxResults, the same 3 calls.
    first = ec2.describe_route_tables()
    assert len(first["RouteTables"]) == 100 and first.get("NextToken")
    assert route_table_pages(ec2) == [100, 100, 50]
    # DescribeSubnets' and DescribeVpcs' largest page is 1000: one page.
    assert len(ec2.describe_vpcs()["Vpcs"]) == 2 and "NextToken" not in ec2.describe_vpcs()
    # A page size set for tests is never larger than an action's largest page.
    sb.control.configure(page_size=150)
    assert route_table_pages(ec2) == [100, 100, 50]
    sb.control.configure(page_size=120)
    assert route_table_pages(ec2, PageSize=5)[:2] == [5, 5]  # MaxResults still wins
    sb.control.configure(page_size=1)
    assert [len(p["Vpcs"]) for p in ec2.get_paginator("describe_vpcs").paginate()] == [1, 1]


def refusal(call: Any, **kwargs: Any) -> dict[str, str]:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    error: dict[str, str] = caught.value.response["Error"]
    return error


def test_a_max_results_outside_the_actions_range_is_refused(sb: Sandbox, ec2: Any) -> None:
    too_large = refusal(ec2.describe_route_tables, MaxResults=101)
    assert too_large == {
        "Code": "InvalidParameterValue",
        "Message": "Value ( 101 ) for parameter MaxResults is invalid. "
        "Expecting a value smaller than or equal to 100.",
    }
    too_large = refusal(ec2.describe_subnets, MaxResults=1001)
    assert too_large["Code"] == "InvalidParameterValue"
    assert too_large["Message"].endswith("Expecting a value smaller than or equal to 1000.")
    for call in (
        ec2.describe_vpcs,
        ec2.describe_local_gateways,
        ec2.describe_local_gateway_route_tables,
        ec2.describe_local_gateway_route_table_vpc_associations,
        ec2.describe_local_gateway_route_table_virtual_interface_group_associations,
        ec2.describe_local_gateway_virtual_interface_groups,
    ):
        assert refusal(call, MaxResults=1001)["Code"] == "InvalidParameterValue"
        assert call(MaxResults=1000)["ResponseMetadata"]["HTTPStatusCode"] == 200

    # Below the range: every action refuses 4 and 0 and accepts 5.
    raw = unvalidated(sb)
    for action in PAGED_ACTIONS:
        call = getattr(raw, botocore.xform_name(action))
        for value in (4, 0):
            too_small = refusal(call, MaxResults=value)
            assert too_small == {
                "Code": "InvalidParameterValue",
                "Message": f"Value ( {value} ) for parameter MaxResults is invalid. "
                "Expecting a value greater than or equal to 5.",
            }, action
        assert call(MaxResults=5)["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_a_refused_describe_is_no_look_at_associations(sb: Sandbox, ec2: Any) -> None:
    rack = sb.control.seed_outpost("rack-a")
    vpc_id = ec2.create_vpc(CidrBlock="10.7.0.0/16")["Vpc"]["VpcId"]
    sb.control.configure(association_describes=2)
    ec2.create_local_gateway_route_table_vpc_association(
        LocalGatewayRouteTableId=rack.local_gateway_route_table_id, VpcId=vpc_id
    )
    describe = ec2.describe_local_gateway_route_table_vpc_associations

    def state() -> str:
        return str(describe()["LocalGatewayRouteTableVpcAssociations"][0]["State"])

    assert state() == "associating"  # seen once
    refusal(describe, MaxResults=1001)  # refused: not seen
    assert state() == "associating"  # seen twice
    assert state() == "associated"


def test_the_page_ranges_are_ec2s_service_model() -> None:
    """MAX_RESULTS agrees with the MaxResults shapes of EC2's service model (botocore's copy)."""
    model = botocore.session.get_session().get_service_model("ec2")
    for action in PAGED_ACTIONS:
        shape = model.operation_model(action).input_shape.members["MaxResults"]
        limits = MAX_RESULTS[action]
        assert (limits.low, limits.high) == (shape.metadata["min"], shape.metadata["max"]), action


def test_pages_for_is_the_calls_a_reader_makes_at_aws_page_sizes() -> None:
    assert pages_for("DescribeRouteTables", 250) == 3
    assert pages_for("DescribeRouteTables", 100) == 1
    assert pages_for("DescribeRouteTables", 101) == 2
    assert pages_for("DescribeSubnets", 1000) == 1
    assert pages_for("DescribeSubnets", 1001) == 2
    assert pages_for("DescribeLocalGateways", 0) == 1  # an empty answer is still one call
    with pytest.raises(ValueError):
        pages_for("DescribeVpcs", -1)
