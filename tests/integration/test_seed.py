"""Seeding and step calls make the AWS state a scenario describes, read back through boto3.

``scenario_ec2`` (tests/conftest.py) calls EC2 as the scenario's person does.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from outpost_mesh_sandbox.aws.identities import SCENARIO_ACCESS_KEY
from outpost_mesh_sandbox.scenario import (
    FailStep,
    Scenario,
    load_scenario,
    parse_scenario,
    substitute_placeholders,
)
from outpost_mesh_sandbox.scenario.ids import IdMap
from outpost_mesh_sandbox.scenario.seed import SeedError, apply_fail, run_step_calls, seed

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"

# One VPC on two racks: rt-a holds a hand-made LGW route (so the VPC is associated with rack-a's
# LGW route table), web is In-Region on the main table, rt-spare serves nothing.
STEPS_DOC: dict[str, Any] = {
    "description": "step calls",
    "vpcs": [{"name": "app", "cidr": "10.7.0.0/16"}],
    "outposts": [{"name": "rack-a"}, {"name": "rack-b"}],
    "route_tables": [
        {
            "name": "rt-a",
            "vpc": "app",
            "routes": [{"destination": "10.7.11.0/24", "target": "lgw:rack-a"}],
        },
        {"name": "rt-b", "vpc": "app"},
        {"name": "rt-spare", "vpc": "app"},
    ],
    "subnets": [
        {
            "name": "subnet-a",
            "vpc": "app",
            "cidr": "10.7.7.0/24",
            "outpost": "rack-a",
            "route_table": "rt-a",
        },
        {
            "name": "subnet-b",
            "vpc": "app",
            "cidr": "10.7.11.0/24",
            "outpost": "rack-b",
            "route_table": "rt-b",
        },
        {"name": "web", "vpc": "app", "cidr": "10.7.100.0/24"},
    ],
}


def with_steps(*steps: dict[str, Any], doc: dict[str, Any] = STEPS_DOC) -> Scenario:
    return parse_scenario({**copy.deepcopy(doc), "steps": list(steps)}, "test.yaml", "test")


def scenario_calls(sb: Any, action: Callable[[], object]) -> list[str]:
    """The EC2 actions the scenario's caller made while ``action`` ran, in order."""
    before = max((c.seq for c in sb.control.calls()), default=0)
    action()
    return [
        c.action
        for c in sb.control.calls(since=before)
        if c.caller == SCENARIO_ACCESS_KEY and c.service == "ec2"
    ]


def run_all(scenario: Scenario, ec2: Any, ids: IdMap) -> None:
    for step in scenario.steps:
        run_step_calls(step, ec2, ids, scenario)


def subnet_of(ec2: Any, subnet_id: str) -> dict[str, Any]:
    found: dict[str, Any] = ec2.describe_subnets(SubnetIds=[subnet_id])["Subnets"][0]
    return found


def effective_table(ec2: Any, ids: IdMap, subnet: str) -> str:
    """The scenario name of a subnet's effective route table (explicit, else the main one)."""
    subnet_id = ids.subnet_id(subnet)
    explicit = ec2.describe_route_tables(
        Filters=[{"Name": "association.subnet-id", "Values": [subnet_id]}]
    )["RouteTables"]
    if explicit:
        return ids.name_of(explicit[0]["RouteTableId"]) or "?"
    vpc_id = subnet_of(ec2, subnet_id)["VpcId"]
    return ids.name_of(ids.main_route_table_id(ids.name_of(vpc_id) or "?")) or "?"


def routes_of(ec2: Any, table_id: str) -> dict[str, dict[str, Any]]:
    table = ec2.describe_route_tables(RouteTableIds=[table_id])["RouteTables"][0]
    return {r["DestinationCidrBlock"]: r for r in table["Routes"] if r.get("GatewayId") != "local"}


# -- seeding ------------------------------------------------------------------------------------


def test_seeding_the_blog_puts_subnet_a_on_rack_a_with_rt_a(sb: Any, scenario_ec2: Any) -> None:
    scenario = load_scenario(SCENARIOS / "blog.yaml")
    ids = seed(scenario, scenario_ec2, sb.control)

    vpcs = scenario_ec2.describe_vpcs()["Vpcs"]
    assert [v["VpcId"] for v in vpcs] == [ids.vpc_id("app")]  # no default VPC, only the scenario's
    assert vpcs[0]["CidrBlock"] == "10.7.0.0/16"
    rack_a = ids.outpost("rack-a")
    lgws = scenario_ec2.describe_local_gateways()["LocalGateways"]
    assert {g["LocalGatewayId"] for g in lgws} == {
        ids.outpost(name).local_gateway_id for name in ("rack-a", "rack-b")
    }
    subnet = subnet_of(scenario_ec2, ids.subnet_id("subnet-a"))
    assert subnet["OutpostArn"] == rack_a.outpost_arn
    assert subnet["AvailabilityZone"] == ids.outpost_azs["rack-a"] == f"{sb.region}a"
    assert subnet["CidrBlock"] == "10.7.7.0/24"
    assert {"Key": "Name", "Value": "subnet-a"} in subnet["Tags"]
    assert effective_table(scenario_ec2, ids, "subnet-a") == "rt-a"
    assert set(ids.route_tables) == {"rt-a", "rt-b", "main:app"}
    assert (
        scenario_ec2.describe_local_gateway_route_table_vpc_associations()[
            "LocalGatewayRouteTableVpcAssociations"
        ]
        == []
    )  # no seeded LGW route, so no association
    assert ids.account == sb.account_id
    assert ids.region == sb.region


def test_seeding_three_racks_uses_the_secondary_cidr_and_shares_rt_a(
    sb: Any, scenario_ec2: Any
) -> None:
    scenario = load_scenario(SCENARIOS / "three-racks.yaml")
    ids = seed(scenario, scenario_ec2, sb.control)

    vpc = scenario_ec2.describe_vpcs(VpcIds=[ids.vpc_id("plant")])["Vpcs"][0]
    blocks = {a["CidrBlock"]: a["CidrBlockState"]["State"] for a in vpc["CidrBlockAssociationSet"]}
    assert blocks == {"10.20.0.0/16": "associated", "10.21.0.0/16": "associated"}
    b1 = subnet_of(scenario_ec2, ids.subnet_id("subnet-b1"))
    assert (b1["CidrBlock"], b1["OutpostArn"]) == (
        "10.21.1.0/24",
        ids.outpost("rack-b").outpost_arn,
    )
    rt_a = scenario_ec2.describe_route_tables(RouteTableIds=[ids.route_table_id("rt-a")])[
        "RouteTables"
    ][0]
    assert {a["SubnetId"] for a in rt_a["Associations"]} == {
        ids.subnet_id("subnet-a1"),
        ids.subnet_id("subnet-a2"),
    }
    web = subnet_of(scenario_ec2, ids.subnet_id("subnet-web"))
    assert "OutpostArn" not in web
    assert effective_table(scenario_ec2, ids, "subnet-web") == "main:plant"
    assert "subnet-web" not in ids.subnet_associations

    run_all(scenario, scenario_ec2, ids)
    c1 = subnet_of(scenario_ec2, ids.subnet_id("subnet-c1"))
    assert c1["OutpostArn"] == ids.outpost("rack-c").outpost_arn
    assert effective_table(scenario_ec2, ids, "subnet-c1") == "rt-c"
    assert effective_table(scenario_ec2, ids, "subnet-b2") == "rt-b"


def test_a_seeded_lgw_route_comes_after_associating_the_vpc_with_that_lgw(
    sb: Any, scenario_ec2: Any
) -> None:
    scenario = load_scenario(SCENARIOS / "delete-subnet.yaml")
    seeded: list[IdMap] = []
    calls = scenario_calls(sb, lambda: seeded.append(seed(scenario, scenario_ec2, sb.control)))
    ids = seeded[0]

    associations = scenario_ec2.describe_local_gateway_route_table_vpc_associations()[
        "LocalGatewayRouteTableVpcAssociations"
    ]
    assert [(a["VpcId"], a["LocalGatewayRouteTableId"], a["State"]) for a in associations] == [
        (ids.vpc_id("lab"), ids.outpost("rack-a").local_gateway_route_table_id, "associated")
    ]
    route = routes_of(scenario_ec2, ids.route_table_id("rt-a"))["10.40.2.0/24"]
    assert route["LocalGatewayId"] == ids.outpost("rack-a").local_gateway_id
    assert ids.route_target_text(route) == "lgw:rack-a"
    assert calls.index("CreateLocalGatewayRouteTableVpcAssociation") < calls.index("CreateRoute")
    assert calls.count("CreateLocalGatewayRouteTableVpcAssociation") == 1


def test_igw_and_eni_targets_get_one_gateway_and_one_interface_per_vpc(
    sb: Any, scenario_ec2: Any
) -> None:
    doc = copy.deepcopy(STEPS_DOC)
    doc["route_tables"][1]["routes"] = [
        {"destination": "0.0.0.0/0", "target": "igw"},
        {"destination": "192.168.0.0/16", "target": "eni"},
    ]
    doc["route_tables"][2]["routes"] = [{"destination": "0.0.0.0/0", "target": "igw"}]
    scenario = with_steps(
        {"add_route": {"route_table": "rt-spare", "destination": "172.16.0.0/12", "target": "eni"}},
        doc=doc,
    )
    ids = seed(scenario, scenario_ec2, sb.control)

    igws = scenario_ec2.describe_internet_gateways()["InternetGateways"]
    assert [g["InternetGatewayId"] for g in igws] == [ids.internet_gateways["app"]]
    assert igws[0]["Attachments"][0]["VpcId"] == ids.vpc_id("app")
    enis = scenario_ec2.describe_network_interfaces()["NetworkInterfaces"]
    assert [e["NetworkInterfaceId"] for e in enis] == [ids.network_interfaces["app"]]
    assert enis[0]["SubnetId"] == ids.subnet_id("web")  # In-Region first
    rt_b = routes_of(scenario_ec2, ids.route_table_id("rt-b"))
    assert rt_b["0.0.0.0/0"]["GatewayId"] == ids.internet_gateways["app"]
    assert rt_b["192.168.0.0/16"]["NetworkInterfaceId"] == ids.network_interfaces["app"]
    assert {d: ids.route_target_text(r) for d, r in rt_b.items()} == {
        "0.0.0.0/0": "igw",
        "192.168.0.0/16": "eni",
    }


def test_seeding_sets_the_route_quota_of_the_scenario(sb: Any, scenario_ec2: Any) -> None:
    doc = {**copy.deepcopy(STEPS_DOC), "quotas": {"routes_per_table": 2}}
    scenario = parse_scenario(doc, "test.yaml", "test")
    ids = seed(scenario, scenario_ec2, sb.control)

    assert sb.control.config()["routes_per_table"] == 2
    table = ids.route_table_id("rt-spare")
    scenario_ec2.create_route(
        RouteTableId=table,
        DestinationCidrBlock="10.0.0.0/8",
        LocalGatewayId=ids.outpost("rack-a").local_gateway_id,
    )
    scenario_ec2.create_route(
        RouteTableId=table,
        DestinationCidrBlock="10.7.7.0/24",
        LocalGatewayId=ids.outpost("rack-a").local_gateway_id,
    )
    with pytest.raises(ClientError) as caught:
        scenario_ec2.create_route(
            RouteTableId=table,
            DestinationCidrBlock="10.7.100.0/24",
            LocalGatewayId=ids.outpost("rack-a").local_gateway_id,
        )
    assert caught.value.response["Error"]["Code"] == "RouteLimitExceeded"


def test_a_seeded_association_that_fails_stops_seeding_with_a_clear_error(
    sb: Any, scenario_ec2: Any
) -> None:
    sb.control.fail_next_associations(1)
    with pytest.raises(SeedError, match="'failed'"):
        seed(load_scenario(SCENARIOS / "delete-subnet.yaml"), scenario_ec2, sb.control)


# -- steps --------------------------------------------------------------------------------------


def test_create_subnet_creates_it_on_its_rack_then_associates_its_table(
    sb: Any, scenario_ec2: Any
) -> None:
    scenario = with_steps(
        {
            "create_subnet": {
                "name": "subnet-b2",
                "vpc": "app",
                "cidr": "10.7.12.0/24",
                "outpost": "rack-b",
                "route_table": "rt-spare",
            }
        }
    )
    ids = seed(scenario, scenario_ec2, sb.control)

    calls = scenario_calls(sb, lambda: run_all(scenario, scenario_ec2, ids))

    assert calls == ["CreateSubnet", "AssociateRouteTable"]
    created = subnet_of(scenario_ec2, ids.subnet_id("subnet-b2"))
    assert created["OutpostArn"] == ids.outpost("rack-b").outpost_arn
    assert created["AvailabilityZone"] == ids.outpost_azs["rack-b"]
    assert effective_table(scenario_ec2, ids, "subnet-b2") == "rt-spare"
    assert ids.name_of(created["SubnetId"]) == "subnet-b2"


def test_create_subnet_without_table_or_outpost_is_one_call_in_region(
    sb: Any, scenario_ec2: Any
) -> None:
    scenario = with_steps({"create_subnet": {"name": "db", "vpc": "app", "cidr": "10.7.101.0/24"}})
    ids = seed(scenario, scenario_ec2, sb.control)

    assert scenario_calls(sb, lambda: run_all(scenario, scenario_ec2, ids)) == ["CreateSubnet"]
    created = subnet_of(scenario_ec2, ids.subnet_id("db"))
    assert "OutpostArn" not in created
    assert created["AvailabilityZone"] == f"{sb.region}a"
    assert effective_table(scenario_ec2, ids, "db") == "main:app"


def test_associate_route_table_associates_a_subnet_that_uses_the_main_table(
    sb: Any, scenario_ec2: Any
) -> None:
    scenario = with_steps({"associate_route_table": {"subnet": "web", "route_table": "rt-spare"}})
    ids = seed(scenario, scenario_ec2, sb.control)

    assert scenario_calls(sb, lambda: run_all(scenario, scenario_ec2, ids)) == [
        "AssociateRouteTable"
    ]
    assert effective_table(scenario_ec2, ids, "web") == "rt-spare"


def test_associate_route_table_replaces_an_explicit_association(sb: Any, scenario_ec2: Any) -> None:
    scenario = with_steps(
        {"associate_route_table": {"subnet": "subnet-b", "route_table": "rt-spare"}},
        {"associate_route_table": {"subnet": "subnet-b", "route_table": "main:app"}},
    )
    ids = seed(scenario, scenario_ec2, sb.control)

    first = scenario_calls(
        sb, lambda: run_step_calls(scenario.steps[0], scenario_ec2, ids, scenario)
    )
    assert first == ["ReplaceRouteTableAssociation"]
    assert effective_table(scenario_ec2, ids, "subnet-b") == "rt-spare"
    rt_b = scenario_ec2.describe_route_tables(RouteTableIds=[ids.route_table_id("rt-b")])[
        "RouteTables"
    ][0]
    assert rt_b["Associations"] == []

    second = scenario_calls(
        sb, lambda: run_step_calls(scenario.steps[1], scenario_ec2, ids, scenario)
    )
    assert second == ["ReplaceRouteTableAssociation"]
    assert effective_table(scenario_ec2, ids, "subnet-b") == "main:app"


def test_disassociate_route_table_returns_the_subnet_to_the_main_table(
    sb: Any, scenario_ec2: Any
) -> None:
    scenario = with_steps({"disassociate_route_table": {"subnet": "subnet-b"}})
    ids = seed(scenario, scenario_ec2, sb.control)

    assert scenario_calls(sb, lambda: run_all(scenario, scenario_ec2, ids)) == [
        "DisassociateRouteTable"
    ]
    assert effective_table(scenario_ec2, ids, "subnet-b") == "main:app"
    assert "subnet-b" not in ids.subnet_associations


@pytest.mark.parametrize(
    ("destination", "target", "field"),
    [
        ("10.7.100.0/24", "lgw:rack-a", "LocalGatewayId"),
        ("0.0.0.0/0", "igw", "GatewayId"),
        ("192.168.0.0/16", "eni", "NetworkInterfaceId"),
    ],
)
def test_add_route_creates_the_route_to_the_targets_id(
    sb: Any, scenario_ec2: Any, destination: str, target: str, field: str
) -> None:
    scenario = with_steps(
        {"add_route": {"route_table": "rt-a", "destination": destination, "target": target}}
    )
    ids = seed(scenario, scenario_ec2, sb.control)

    assert scenario_calls(sb, lambda: run_all(scenario, scenario_ec2, ids)) == ["CreateRoute"]
    route = routes_of(scenario_ec2, ids.route_table_id("rt-a"))[destination]
    expected = {
        "LocalGatewayId": ids.outpost("rack-a").local_gateway_id,
        "GatewayId": ids.internet_gateways.get("app"),
        "NetworkInterfaceId": ids.network_interfaces.get("app"),
    }[field]
    assert route[field] == expected
    assert ids.route_target_text(route) == target


def test_delete_route_removes_the_route(sb: Any, scenario_ec2: Any) -> None:
    scenario = with_steps({"delete_route": {"route_table": "rt-a", "destination": "10.7.11.0/24"}})
    ids = seed(scenario, scenario_ec2, sb.control)
    assert "10.7.11.0/24" in routes_of(scenario_ec2, ids.route_table_id("rt-a"))

    assert scenario_calls(sb, lambda: run_all(scenario, scenario_ec2, ids)) == ["DeleteRoute"]
    assert routes_of(scenario_ec2, ids.route_table_id("rt-a")) == {}


def test_delete_subnet_deletes_it_and_the_map_still_names_its_id(
    sb: Any, scenario_ec2: Any
) -> None:
    scenario = with_steps({"delete_subnet": {"name": "subnet-b"}})
    ids = seed(scenario, scenario_ec2, sb.control)
    subnet_id = ids.subnet_id("subnet-b")

    assert scenario_calls(sb, lambda: run_all(scenario, scenario_ec2, ids)) == ["DeleteSubnet"]
    remaining = {s["SubnetId"] for s in scenario_ec2.describe_subnets()["Subnets"]}
    assert subnet_id not in remaining
    assert "subnet-b" not in ids.subnets
    assert "subnet-b" not in ids.subnet_associations
    assert ids.name_of(subnet_id) == "subnet-b"
    assert ids.placeholder_value("subnet", "subnet-b") == subnet_id


def test_together_makes_every_inner_call_in_order(sb: Any, scenario_ec2: Any) -> None:
    scenario = with_steps(
        {
            "together": [
                {
                    "create_subnet": {
                        "name": "c1",
                        "vpc": "app",
                        "cidr": "10.7.21.0/24",
                        "outpost": "rack-b",
                        "route_table": "rt-spare",
                    }
                },
                {
                    "create_subnet": {
                        "name": "c2",
                        "vpc": "app",
                        "cidr": "10.7.22.0/24",
                        "outpost": "rack-b",
                        "route_table": "rt-spare",
                    }
                },
                {"delete_subnet": {"name": "web"}},
            ]
        }
    )
    ids = seed(scenario, scenario_ec2, sb.control)

    calls = scenario_calls(sb, lambda: run_all(scenario, scenario_ec2, ids))

    assert calls == [
        "CreateSubnet",
        "AssociateRouteTable",
        "CreateSubnet",
        "AssociateRouteTable",
        "DeleteSubnet",
    ]
    assert (
        effective_table(scenario_ec2, ids, "c1")
        == effective_table(scenario_ec2, ids, "c2")
        == "rt-spare"
    )
    assert set(ids.subnets) == {"subnet-a", "subnet-b", "c1", "c2"}


def test_sweep_fail_and_event_steps_make_no_calls(sb: Any, scenario_ec2: Any) -> None:
    scenario = with_steps(
        {"sweep": {}},
        {"fail": {"api": "CreateRoute", "error": "RequestLimitExceeded", "times": 1}},
        {"event": {"source": "aws.ec2", "detail": {"vpcId": "{{vpc:app}}"}}},
    )
    ids = seed(scenario, scenario_ec2, sb.control)

    assert scenario_calls(sb, lambda: run_all(scenario, scenario_ec2, ids)) == []


def test_apply_fail_makes_the_next_calls_of_that_api_fail_for_anyone(
    sb: Any, scenario_ec2: Any
) -> None:
    scenario = with_steps(
        {"fail": {"api": "CreateRoute", "error": "RequestLimitExceeded", "times": 2}},
        {"add_route": {"route_table": "rt-b", "destination": "0.0.0.0/0", "target": "igw"}},
    )
    ids = seed(scenario, scenario_ec2, sb.control)
    fail = scenario.steps[0]
    assert isinstance(fail, FailStep)

    apply_fail(fail, sb.control)

    pipeline = sb.client("ec2", caller="pipeline")
    for client in (pipeline, scenario_ec2):
        with pytest.raises(ClientError) as caught:
            run_step_calls(scenario.steps[1], client, ids, scenario)
        assert caught.value.response["Error"]["Code"] == "RequestLimitExceeded"
    run_step_calls(scenario.steps[1], scenario_ec2, ids, scenario)  # the third call goes through
    assert "0.0.0.0/0" in routes_of(scenario_ec2, ids.route_table_id("rt-b"))


# -- the id map -------------------------------------------------------------------------------


def test_the_map_reads_sandbox_ids_back_in_the_scenarios_words(sb: Any, scenario_ec2: Any) -> None:
    scenario = load_scenario(SCENARIOS / "delete-subnet.yaml")
    ids = seed(scenario, scenario_ec2, sb.control)
    rack_a = ids.outpost("rack-a")

    assert ids.name_of(ids.vpc_id("lab")) == "lab"
    assert ids.name_of(ids.route_table_id("rt-a")) == "rt-a"
    assert ids.name_of(ids.main_route_table_id("lab")) == "main:lab"
    for aws_id in (
        rack_a.outpost_arn,
        rack_a.outpost_id,
        rack_a.local_gateway_id,
        rack_a.local_gateway_route_table_id,
    ):
        assert ids.name_of(aws_id) == "rack-a"
    assert ids.outpost_of_local_gateway(rack_a.local_gateway_id) == "rack-a"
    assert ids.target_text(rack_a.local_gateway_id) == "lgw:rack-a"
    assert ids.target_text("local") == "local"
    assert ids.target_text("tgw-123") == "tgw-123"
    assert ids.name_of("rtb-not-ours") is None
    assert ids.route_target_text({"GatewayId": "local"}) == "local"


def test_redelivery_event_gets_the_sandboxs_ids(sb: Any, scenario_ec2: Any) -> None:
    scenario = load_scenario(SCENARIOS / "redelivery.yaml")
    ids = seed(scenario, scenario_ec2, sb.control)
    run_step_calls(scenario.steps[0], scenario_ec2, ids, scenario)
    event_step = scenario.steps[1]

    event = substitute_placeholders(
        event_step.event,  # type: ignore[union-attr]
        ids,
        source=str(SCENARIOS / "redelivery.yaml"),
        path="steps[1].event",
    )

    subnet = subnet_of(scenario_ec2, ids.subnet_id("subnet-b"))
    detail = event["detail"]
    assert event["account"] == sb.account_id
    assert event["region"] == sb.region
    assert detail["requestParameters"]["vpcId"] == subnet["VpcId"]
    assert detail["requestParameters"]["availabilityZone"] == subnet["AvailabilityZone"]
    assert detail["responseElements"]["subnet"]["subnetId"] == subnet["SubnetId"]
    assert detail["responseElements"]["subnet"]["outpostArn"] == subnet["OutpostArn"]
    assert detail["responseElements"]["subnet"]["subnetArn"] == subnet["SubnetArn"]
