"""Seeding and the person's step calls of the format's second round, read back from the sandbox
through boto3: LGW route tables with their tags, a person's associations, tags, IPv6 blocks, a
CIDR block added, the main table switched."""

from __future__ import annotations

import ipaddress
from typing import Any

import yaml

from outpost_mesh_sandbox.aws.server import Sandbox
from outpost_mesh_sandbox.scenario import Scenario, parse_scenario
from outpost_mesh_sandbox.scenario.ids import IdMap
from outpost_mesh_sandbox.scenario.seed import run_step_calls, seed

SCENARIO = """
vpcs: [{name: app, cidr: 10.7.0.0/16, ipv6_cidr: "2600:1f14:aaaa:ab00::/56", tags: {team: net}}]
outposts:
  - name: rack-a
    generation: 2
    lgw_route_tables:
      - {name: coip-dmz, mode: coip}
      - {name: dvr-prod, tags: {"outpost-mesh:routing-domain": "*"}}
  - name: rack-b
lgw_associations: [{vpc: app, lgw_route_table: dvr-prod}]
route_tables:
  - {name: rt-a, vpc: app, routes: [{destination: 10.7.2.0/24, target: "lgw:rack-a"}]}
  - {name: rt-b, vpc: app, tags: {"outpost-mesh:opt-out": "true"}}
subnets:
  - {name: a, vpc: app, cidr: 10.7.1.0/24, ipv6_cidr: "2600:1f14:aaaa:ab07::/64", outpost: rack-a,
     route_table: rt-a}
  - {name: b, vpc: app, cidr: 10.7.2.0/24, outpost: rack-b, route_table: rt-b}
steps:
  - tag: {subnet: b, tags: {owner: "{{vpc:app}}"}}
  - untag: {route_table: rt-b, keys: ["outpost-mesh:opt-out"]}
  - associate_vpc_cidr: {vpc: app, cidr: 10.9.0.0/16}
  - set_main_route_table: {vpc: app, route_table: rt-b}
  - associate_lgw_route_table: {vpc: app, lgw_route_table: rack-b}
  - disassociate_lgw_route_table: {vpc: app, lgw_route_table: dvr-prod}
"""


def seeded(sb: Sandbox) -> tuple[Scenario, Any, IdMap]:
    scenario = parse_scenario(yaml.safe_load(SCENARIO), "test", "test")
    person = sb.client("ec2", caller="scenario")
    return scenario, person, seed(scenario, person, sb.control)


def tags_of(ec2: Any, resource_id: str) -> dict[str, str]:
    found = ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [resource_id]}])["Tags"]
    return {t["Key"]: t["Value"] for t in found}


def live_associations(ec2: Any, vpc_id: str) -> set[str]:
    found = ec2.describe_local_gateway_route_table_vpc_associations()
    return {
        a["LocalGatewayRouteTableId"]
        for a in found["LocalGatewayRouteTableVpcAssociations"]
        if a["VpcId"] == vpc_id and a["State"] in ("associating", "associated")
    }


def test_seeding_makes_the_tables_tags_associations_and_ipv6_blocks(sb: Sandbox) -> None:
    _, ec2, ids = seeded(sb)
    vpc = ids.vpc_id("app")
    tables = {
        t["LocalGatewayRouteTableId"]: t
        for t in ec2.describe_local_gateway_route_tables()["LocalGatewayRouteTables"]
    }
    dvr, coip = ids.lgw_route_table_id("dvr-prod"), ids.lgw_route_table_id("coip-dmz")
    assert tables[coip]["Mode"] == "coip" and tables[dvr]["Mode"] == "direct-vpc-routing"
    assert tags_of(ec2, dvr) == {"Name": "dvr-prod", "outpost-mesh:routing-domain": "*"}
    # The person's association, and the seeded lgw:rack-a route rides on it: no second one.
    assert live_associations(ec2, vpc) == {dvr}
    assert tags_of(ec2, vpc) == {"Name": "app", "team": "net"}
    assert tags_of(ec2, ids.route_table_id("rt-b"))["outpost-mesh:opt-out"] == "true"
    subnet = ec2.describe_subnets(SubnetIds=[ids.subnet_id("a")])["Subnets"][0]
    given = ec2.describe_vpcs(VpcIds=[vpc])["Vpcs"][0]["Ipv6CidrBlockAssociationSet"][0]
    block = subnet["Ipv6CidrBlockAssociationSet"][0]["Ipv6CidrBlock"]
    seventh = list(ipaddress.IPv6Network(given["Ipv6CidrBlock"]).subnets(new_prefix=64))[7]
    assert block == str(seventh)  # ab07 is the 8th /64 of ab00::/56: the same in AWS's block
    assert ids.scenario_cidrs()[block] == "2600:1f14:aaaa:ab07::/64"


def test_the_new_steps_make_their_calls(sb: Sandbox) -> None:
    scenario, ec2, ids = seeded(sb)
    for step in scenario.steps:
        run_step_calls(step, ec2, ids, scenario)
    vpc = ids.vpc_id("app")
    assert tags_of(ec2, ids.subnet_id("b"))["owner"] == vpc  # the placeholder, filled in
    assert "outpost-mesh:opt-out" not in tags_of(ec2, ids.route_table_id("rt-b"))
    blocks = ec2.describe_vpcs(VpcIds=[vpc])["Vpcs"][0]["CidrBlockAssociationSet"]
    assert "10.9.0.0/16" in {b["CidrBlock"] for b in blocks}
    main = ec2.describe_route_tables(
        Filters=[
            {"Name": "vpc-id", "Values": [vpc]},
            {"Name": "association.main", "Values": ["true"]},
        ]
    )["RouteTables"]
    assert [t["RouteTableId"] for t in main] == [ids.route_table_id("rt-b")]
    assert live_associations(ec2, vpc) == {ids.lgw_route_table_id("rack-b")}
