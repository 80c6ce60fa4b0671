"""Routes to local gateways and the rules AWS enforces on routes (docs/aws-facts.md, "Routes")."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.exceptions import ClientError

from outpost_mesh_sandbox.aws.control import SeededOutpost
from outpost_mesh_sandbox.aws.server import Sandbox


def error_of(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    response: Any = exc.value.response
    return (
        response["Error"]["Code"],
        response["Error"]["Message"],
        response["ResponseMetadata"]["HTTPStatusCode"],
    )


@dataclass
class Blog:
    """The AWS blog's example: one VPC spanning two Outpost racks."""

    vpc: str
    rack_a: SeededOutpost
    rack_b: SeededOutpost
    subnet_a: str
    subnet_b: str
    rt_a: str
    rt_b: str
    main: str


def make_blog(sb: Sandbox, ec2: Any, *, rack_b_intra_vpc: bool = True) -> Blog:
    rack_a = sb.control.seed_outpost("rack-a")
    rack_b = sb.control.seed_outpost("rack-b", intra_vpc=rack_b_intra_vpc)
    vpc = ec2.create_vpc(CidrBlock="10.7.0.0/16")["Vpc"]["VpcId"]
    subnets = []
    tables = []
    for rack, cidr in ((rack_a, "10.7.7.0/24"), (rack_b, "10.7.11.0/24")):
        subnet = ec2.create_subnet(
            VpcId=vpc,
            CidrBlock=cidr,
            OutpostArn=rack.outpost_arn,
            AvailabilityZone=rack.availability_zone,
        )["Subnet"]["SubnetId"]
        table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
        ec2.associate_route_table(RouteTableId=table, SubnetId=subnet)
        subnets.append(subnet)
        tables.append(table)
    main = ec2.describe_route_tables(
        Filters=[
            {"Name": "vpc-id", "Values": [vpc]},
            {"Name": "association.main", "Values": ["true"]},
        ]
    )["RouteTables"][0]["RouteTableId"]
    return Blog(vpc, rack_a, rack_b, subnets[0], subnets[1], tables[0], tables[1], main)


def associate(ec2: Any, rack: SeededOutpost, vpc: str) -> str:
    association_id: str = ec2.create_local_gateway_route_table_vpc_association(
        LocalGatewayRouteTableId=rack.local_gateway_route_table_id, VpcId=vpc
    )["LocalGatewayRouteTableVpcAssociation"]["LocalGatewayRouteTableVpcAssociationId"]
    for _ in range(10):
        found = ec2.describe_local_gateway_route_table_vpc_associations(
            LocalGatewayRouteTableVpcAssociationIds=[association_id]
        )["LocalGatewayRouteTableVpcAssociations"][0]
        if found["State"] == "associated":
            return association_id
    raise AssertionError("association never became associated")


def routes_of(ec2: Any, table: str) -> list[dict[str, Any]]:
    routes: list[dict[str, Any]] = ec2.describe_route_tables(RouteTableIds=[table])["RouteTables"][
        0
    ]["Routes"]
    return routes


@pytest.fixture
def blog(sb: Sandbox, scenario_ec2: Any) -> Blog:
    return make_blog(sb, scenario_ec2)


def test_lgw_route_is_stored_described_and_filtered(ec2: Any, blog: Blog) -> None:
    associate(ec2, blog.rack_a, blog.vpc)
    ec2.create_route(
        RouteTableId=blog.rt_a,
        DestinationCidrBlock="10.7.11.0/24",
        LocalGatewayId=blog.rack_a.local_gateway_id,
    )
    assert {
        "DestinationCidrBlock": "10.7.11.0/24",
        "LocalGatewayId": blog.rack_a.local_gateway_id,
        "Origin": "CreateRoute",
        "State": "active",
    } in routes_of(ec2, blog.rt_a)
    found = ec2.describe_route_tables(
        Filters=[{"Name": "route.local-gateway-id", "Values": [blog.rack_a.local_gateway_id]}]
    )["RouteTables"]
    assert [t["RouteTableId"] for t in found] == [blog.rt_a]
    none = ec2.describe_route_tables(
        Filters=[{"Name": "route.local-gateway-id", "Values": [blog.rack_b.local_gateway_id]}]
    )["RouteTables"]
    assert none == []


def test_lgw_route_needs_an_associated_vpc(ec2: Any, blog: Blog) -> None:
    def create() -> None:
        ec2.create_route(
            RouteTableId=blog.rt_a,
            DestinationCidrBlock="10.7.11.0/24",
            LocalGatewayId=blog.rack_a.local_gateway_id,
        )

    with pytest.raises(ClientError) as exc:
        create()
    assert error_of(exc)[0] == "InvalidParameterValue"
    # Associating is not enough: the association must be `associated`.
    ec2.create_local_gateway_route_table_vpc_association(
        LocalGatewayRouteTableId=blog.rack_a.local_gateway_route_table_id, VpcId=blog.vpc
    )
    with pytest.raises(ClientError) as exc:
        create()
    assert error_of(exc)[0] == "InvalidParameterValue"
    # The other rack's association does not count either.
    associate(ec2, blog.rack_b, blog.vpc)
    with pytest.raises(ClientError):
        create()
    assert "LocalGatewayId" not in str(routes_of(ec2, blog.rt_a))


def test_unknown_local_gateway(ec2: Any, blog: Blog) -> None:
    with pytest.raises(ClientError) as exc:
        ec2.create_route(
            RouteTableId=blog.rt_a,
            DestinationCidrBlock="10.7.11.0/24",
            LocalGatewayId="lgw-00000000000000000",
        )
    assert error_of(exc)[0] == "InvalidLocalGatewayID.NotFound"


def test_main_table_shared_with_an_in_region_subnet_is_refused(
    sb: Sandbox, ec2: Any, scenario_ec2: Any
) -> None:
    rack = sb.control.seed_outpost("rack-a")
    vpc = scenario_ec2.create_vpc(CidrBlock="10.7.0.0/16")["Vpc"]["VpcId"]
    scenario_ec2.create_subnet(
        VpcId=vpc,
        CidrBlock="10.7.7.0/24",
        OutpostArn=rack.outpost_arn,
        AvailabilityZone=rack.availability_zone,
    )
    scenario_ec2.create_subnet(VpcId=vpc, CidrBlock="10.7.11.0/24")  # In-Region
    main = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["RouteTables"][
        0
    ]["RouteTableId"]
    associate(ec2, rack, vpc)

    def create() -> None:
        ec2.create_route(
            RouteTableId=main,
            DestinationCidrBlock="10.7.11.0/24",
            LocalGatewayId=rack.local_gateway_id,
        )

    with pytest.raises(ClientError) as exc:
        create()
    assert error_of(exc)[0] == "InvalidParameterValue"
    # Moving the In-Region subnet to its own table leaves the main table to the rack's subnet.
    own = scenario_ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    for subnet in scenario_ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])[
        "Subnets"
    ]:
        if "OutpostArn" not in subnet:
            scenario_ec2.associate_route_table(RouteTableId=own, SubnetId=subnet["SubnetId"])
    create()
    assert any(r.get("LocalGatewayId") for r in routes_of(ec2, main))


def test_table_serving_another_outposts_subnet_is_refused(
    ec2: Any, scenario_ec2: Any, blog: Blog
) -> None:
    associate(ec2, blog.rack_a, blog.vpc)
    # rt_a now also serves rack-b's subnet.
    association = scenario_ec2.describe_route_tables(RouteTableIds=[blog.rt_b])["RouteTables"][0][
        "Associations"
    ][0]["RouteTableAssociationId"]
    scenario_ec2.replace_route_table_association(AssociationId=association, RouteTableId=blog.rt_a)
    with pytest.raises(ClientError) as exc:
        ec2.create_route(
            RouteTableId=blog.rt_a,
            DestinationCidrBlock="10.7.11.0/24",
            LocalGatewayId=blog.rack_a.local_gateway_id,
        )
    assert error_of(exc)[0] == "InvalidParameterValue"


def test_rack_without_intra_vpc_update_gives_aws_text(
    sb: Sandbox, ec2: Any, scenario_ec2: Any
) -> None:
    blog = make_blog(sb, scenario_ec2, rack_b_intra_vpc=False)
    associate(ec2, blog.rack_b, blog.vpc)
    with pytest.raises(ClientError) as exc:
        ec2.create_route(
            RouteTableId=blog.rt_b,
            DestinationCidrBlock="10.7.7.0/24",
            LocalGatewayId=blog.rack_b.local_gateway_id,
        )
    assert error_of(exc) == (
        "InvalidParameterValue",
        "The destination CIDR block 10.7.7.0/24 is equal to or more specific than one of this "
        "VPC's CIDR blocks. This route can target only an interface or an instance.",
        400,
    )
    # A destination outside the VPC's CIDRs is fine on such a rack (e.g. on-premises).
    ec2.create_route(
        RouteTableId=blog.rt_b,
        DestinationCidrBlock="192.168.0.0/16",
        LocalGatewayId=blog.rack_b.local_gateway_id,
    )
    # The updated rack accepts the same kind of route.
    associate(ec2, blog.rack_a, blog.vpc)
    ec2.create_route(
        RouteTableId=blog.rt_a,
        DestinationCidrBlock="10.7.11.0/24",
        LocalGatewayId=blog.rack_a.local_gateway_id,
    )


def test_destination_equal_to_a_vpc_cidr_is_refused(ec2: Any, blog: Blog) -> None:
    associate(ec2, blog.rack_a, blog.vpc)
    before = routes_of(ec2, blog.rt_a)
    with pytest.raises(ClientError) as exc:
        ec2.create_route(
            RouteTableId=blog.rt_a,
            DestinationCidrBlock="10.7.0.0/16",
            LocalGatewayId=blog.rack_a.local_gateway_id,
        )
    assert error_of(exc)[0] == "RouteAlreadyExists"
    assert routes_of(ec2, blog.rt_a) == before
    assert {"DestinationCidrBlock": "10.7.0.0/16", "GatewayId": "local"}.items() <= before[
        0
    ].items()


def test_more_specific_destination_must_be_a_subnet_cidr(ec2: Any, blog: Blog) -> None:
    associate(ec2, blog.rack_a, blog.vpc)
    for cidr in ("10.7.12.0/24", "10.7.11.0/25", "10.7.8.0/22"):
        with pytest.raises(ClientError) as exc:
            ec2.create_route(
                RouteTableId=blog.rt_a,
                DestinationCidrBlock=cidr,
                LocalGatewayId=blog.rack_a.local_gateway_id,
            )
        assert error_of(exc)[0] == "InvalidParameterValue", cidr
    # The rule holds for any target, e.g. an internet gateway.
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=blog.vpc)
    with pytest.raises(ClientError):
        ec2.create_route(RouteTableId=blog.rt_a, DestinationCidrBlock="10.7.12.0/24", GatewayId=igw)
    ec2.create_route(RouteTableId=blog.rt_a, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)


def test_destination_is_canonicalised(ec2: Any, blog: Blog) -> None:
    associate(ec2, blog.rack_a, blog.vpc)
    ec2.create_route(
        RouteTableId=blog.rt_a,
        DestinationCidrBlock="10.7.11.77/24",
        LocalGatewayId=blog.rack_a.local_gateway_id,
    )
    assert "10.7.11.0/24" in [r["DestinationCidrBlock"] for r in routes_of(ec2, blog.rt_a)]


def test_duplicate_destination(ec2: Any, scenario_ec2: Any, blog: Blog) -> None:
    associate(ec2, blog.rack_a, blog.vpc)
    scenario_ec2.create_route(
        RouteTableId=blog.rt_a,
        DestinationCidrBlock="10.7.11.0/24",
        LocalGatewayId=blog.rack_a.local_gateway_id,
    )
    with pytest.raises(ClientError) as exc:
        ec2.create_route(
            RouteTableId=blog.rt_a,
            DestinationCidrBlock="10.7.11.0/24",
            LocalGatewayId=blog.rack_a.local_gateway_id,
        )
    code, message, status = error_of(exc)
    assert (code, status) == ("RouteAlreadyExists", 400)
    assert "10.7.11.0/24" in message


def _igw_routes(ec2: Any, blog: Blog, count: int, offset: int = 0) -> None:
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=blog.vpc)
    for i in range(offset, offset + count):
        ec2.create_route(
            RouteTableId=blog.rt_a, DestinationCidrBlock=f"192.168.{i}.0/24", GatewayId=igw
        )


def test_route_quota_default_is_50_non_local_routes(ec2: Any, blog: Blog) -> None:
    _igw_routes(ec2, blog, 50)
    assert len(routes_of(ec2, blog.rt_a)) == 51  # 50 + the local route, which does not count
    associate(ec2, blog.rack_a, blog.vpc)
    with pytest.raises(ClientError) as exc:
        ec2.create_route(
            RouteTableId=blog.rt_a,
            DestinationCidrBlock="10.7.11.0/24",
            LocalGatewayId=blog.rack_a.local_gateway_id,
        )
    assert error_of(exc)[0] == "RouteLimitExceeded"


def test_route_quota_is_configurable_and_counts_deletes(sb: Sandbox, ec2: Any, blog: Blog) -> None:
    sb.control.configure(routes_per_table=3)
    _igw_routes(ec2, blog, 3)
    with pytest.raises(ClientError) as exc:
        _igw_routes(ec2, blog, 1, offset=3)
    assert error_of(exc)[:1] == ("RouteLimitExceeded",)
    ec2.delete_route(RouteTableId=blog.rt_a, DestinationCidrBlock="192.168.0.0/24")
    associate(ec2, blog.rack_a, blog.vpc)
    ec2.create_route(
        RouteTableId=blog.rt_a,
        DestinationCidrBlock="10.7.11.0/24",
        LocalGatewayId=blog.rack_a.local_gateway_id,
    )


def test_quota_holds_under_concurrent_calls(sb: Sandbox, blog: Blog) -> None:
    sb.control.configure(routes_per_table=5)
    setup = sb.client("ec2")
    igw = setup.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    setup.attach_internet_gateway(InternetGatewayId=igw, VpcId=blog.vpc)

    def create(i: int) -> str:
        client = sb.client("ec2")
        try:
            client.create_route(
                RouteTableId=blog.rt_a, DestinationCidrBlock=f"192.168.{i}.0/24", GatewayId=igw
            )
        except ClientError as exc:
            return str(exc.response["Error"]["Code"])
        return "ok"

    with ThreadPoolExecutor(max_workers=12) as pool:
        outcomes = list(pool.map(create, range(12)))
    assert sorted(outcomes) == ["RouteLimitExceeded"] * 7 + ["ok"] * 5


def test_delete_route_errors(ec2: Any, blog: Blog) -> None:
    with pytest.raises(ClientError) as exc:
        ec2.delete_route(RouteTableId=blog.rt_a, DestinationCidrBlock="10.7.11.0/24")
    assert error_of(exc)[0] == "InvalidRoute.NotFound"
    with pytest.raises(ClientError) as exc:
        ec2.delete_route(RouteTableId="rtb-00000000000000000", DestinationCidrBlock="10.7.11.0/24")
    assert error_of(exc)[0] == "InvalidRouteTableID.NotFound"
    with pytest.raises(ClientError) as exc:
        ec2.delete_route(RouteTableId=blog.rt_a, DestinationCidrBlock="10.7.0.0/16")
    assert error_of(exc)[0] == "InvalidParameterValue"
    assert routes_of(ec2, blog.rt_a)[0]["GatewayId"] == "local"


def test_replace_route_sets_and_clears_local_gateway(ec2: Any, blog: Blog) -> None:
    associate(ec2, blog.rack_a, blog.vpc)
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=blog.vpc)
    ec2.create_route(RouteTableId=blog.rt_a, DestinationCidrBlock="192.168.0.0/16", GatewayId=igw)
    ec2.replace_route(
        RouteTableId=blog.rt_a,
        DestinationCidrBlock="192.168.0.0/16",
        LocalGatewayId=blog.rack_a.local_gateway_id,
    )
    route = [r for r in routes_of(ec2, blog.rt_a) if r["DestinationCidrBlock"] == "192.168.0.0/16"]
    assert route[0]["LocalGatewayId"] == blog.rack_a.local_gateway_id
    assert "GatewayId" not in route[0]
    ec2.replace_route(RouteTableId=blog.rt_a, DestinationCidrBlock="192.168.0.0/16", GatewayId=igw)
    route = [r for r in routes_of(ec2, blog.rt_a) if r["DestinationCidrBlock"] == "192.168.0.0/16"]
    assert route[0]["GatewayId"] == igw
    assert "LocalGatewayId" not in route[0]
    # ReplaceRoute enforces the LGW rules too: rack-b's LGW is not associated with the VPC.
    with pytest.raises(ClientError) as exc:
        ec2.replace_route(
            RouteTableId=blog.rt_a,
            DestinationCidrBlock="192.168.0.0/16",
            LocalGatewayId=blog.rack_b.local_gateway_id,
        )
    assert error_of(exc)[0] == "InvalidParameterValue"


def test_lgw_route_turns_blackhole_when_the_association_goes(ec2: Any, blog: Blog) -> None:
    association = associate(ec2, blog.rack_a, blog.vpc)
    ec2.create_route(
        RouteTableId=blog.rt_a,
        DestinationCidrBlock="10.7.11.0/24",
        LocalGatewayId=blog.rack_a.local_gateway_id,
    )
    ec2.delete_local_gateway_route_table_vpc_association(
        LocalGatewayRouteTableVpcAssociationId=association
    )
    lgw_routes = [r for r in routes_of(ec2, blog.rt_a) if r.get("LocalGatewayId")]
    assert [r["State"] for r in lgw_routes] == ["blackhole"]
