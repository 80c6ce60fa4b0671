"""The sweep's fleet observation against the sandbox: for generated accounts, every VPC's topology
read from the Region-wide describes equals what the per-VPC observe (the executions') returns, and
the calls are one paginated describe per action, however many VPCs there are."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from outpost_mesh.observe import FLEET_PAGE_SIZES, observe_fleet, observe_vpc
from outpost_mesh_sandbox.aws.server import Sandbox

OPT_OUT = "outpost-mesh:opt-out"


@st.composite
def accounts(draw: Any) -> dict[str, Any]:
    """Racks (each with one or two LGW route tables) and VPCs with Outpost and In-Region subnets,
    route tables shared or not, tags, LGW associations and routes to siblings' CIDRs."""
    racks = draw(st.integers(1, 3))
    vpcs = []
    for _ in range(draw(st.integers(1, 4))):
        subnets = [
            {
                "rack": draw(st.one_of(st.none(), st.integers(0, racks - 1))),
                "table": draw(st.integers(0, 2)),
                "opt_out": draw(st.booleans()),
                "name": draw(st.booleans()),
            }
            for _ in range(draw(st.integers(0, 4)))
        ]
        vpcs.append(
            {
                "subnets": subnets,
                "secondary": draw(st.booleans()),
                "associate": draw(st.lists(st.integers(0, racks - 1), max_size=2, unique=True)),
                "routes": draw(st.integers(0, 3)),
                "table_opt_out": draw(st.booleans()),
            }
        )
    return {"racks": racks, "two_tables": draw(st.booleans()), "vpcs": vpcs}


def build(sb: Sandbox, account: dict[str, Any]) -> list[str]:
    person = sb.client("ec2", caller="scenario")
    racks = [
        sb.control.seed_outpost(
            f"rack-{r}",
            generation=2,
            route_tables=[
                {"name": f"rack-{r}-a", "tags": {"outpost-mesh:routing-domain": "*"}},
                *([{"name": f"rack-{r}-b", "active": False}] if account["two_tables"] else []),
            ],
        )
        for r in range(account["racks"])
    ]
    vpc_ids = []
    for v, spec in enumerate(account["vpcs"]):
        vpc = person.create_vpc(CidrBlock=f"10.{v}.0.0/16")["Vpc"]["VpcId"]
        vpc_ids.append(vpc)
        if spec["secondary"]:
            person.associate_vpc_cidr_block(VpcId=vpc, CidrBlock=f"10.{100 + v}.0.0/16")
        tables = [person.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"] for _ in "ab"]
        if spec["table_opt_out"]:
            person.create_tags(Resources=[tables[0]], Tags=[{"Key": OPT_OUT, "Value": "true"}])
        cidrs = []
        for i, subnet in enumerate(spec["subnets"]):
            cidr = f"10.{v}.{i}.0/24"
            kwargs: dict[str, Any] = {"VpcId": vpc, "CidrBlock": cidr}
            if subnet["rack"] is not None:
                rack = racks[subnet["rack"]]
                kwargs["OutpostArn"] = rack.outpost_arn
                kwargs["AvailabilityZone"] = rack.availability_zone
            made = person.create_subnet(**kwargs)["Subnet"]["SubnetId"]
            cidrs.append(cidr)
            tags = [{"Key": OPT_OUT, "Value": "true"}] if subnet["opt_out"] else []
            tags += [{"Key": "Name", "Value": f"s{v}-{i}"}] if subnet["name"] else []
            if tags:
                person.create_tags(Resources=[made], Tags=tags)
            if subnet["table"] < 2:
                person.associate_route_table(RouteTableId=tables[subnet["table"]], SubnetId=made)
        for r in spec["associate"]:
            person.create_local_gateway_route_table_vpc_association(
                LocalGatewayRouteTableId=racks[r].local_gateway_route_table_id, VpcId=vpc
            )
        settle(person)
        # LGW routes go in a table of no subnet (a table of another Outpost's subnet refuses
        # them): the observation must carry them as they are
        spare = person.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
        for cidr in cidrs[: spec["routes"]] if spec["associate"] else ():
            rack = racks[spec["associate"][0]]
            person.create_route(
                RouteTableId=spare,
                DestinationCidrBlock=cidr.replace(f"10.{v}.", "10.200."),
                LocalGatewayId=rack.local_gateway_id,
            )
    return vpc_ids


def settle(person: Any) -> None:
    """The sandbox moves an association on as it is described (AWS: with time): settle them, so
    routes may target the LGW and both observations read one state."""
    for _ in range(10):
        states = {
            a["State"]
            for a in person.describe_local_gateway_route_table_vpc_associations()[
                "LocalGatewayRouteTableVpcAssociations"
            ]
        }
        if states <= {"associated"}:
            return


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(account=accounts())
def test_the_fleet_observation_equals_the_per_vpc_observe(
    sandbox: Sandbox, account: dict[str, Any]
) -> None:
    sandbox.control.reset()
    vpc_ids = build(sandbox, account)
    ec2 = sandbox.client("ec2", caller="pipeline")
    with_outposts = {
        vpc
        for vpc, spec in zip(vpc_ids, account["vpcs"], strict=True)
        if any(s["rack"] is not None for s in spec["subnets"])
    }
    also = vpc_ids[:1]  # a VPC the ledger knows: observed whether or not it has Outpost subnets

    seen = observe_fleet(ec2, also, OPT_OUT)

    assert set(seen.topologies) == with_outposts | set(also)
    for vpc in seen.topologies:
        assert seen.topologies[vpc] == observe_vpc(ec2, vpc, OPT_OUT)
    # one call per action, whatever the number of VPCs: everything here fits AWS's largest page
    assert seen.calls == dict.fromkeys(FLEET_PAGE_SIZES, 1)
