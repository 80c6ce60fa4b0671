"""Routing domains, a person's associations and shared-in VPCs, end to end against the sandbox:
racks with several LGW route tables seeded as AWS shapes them, the core reconciling through
boto3, outcomes read back from AWS state (and, for "no change", from the sandbox's call log)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from outpost_mesh.ledger import LedgerStore
from outpost_mesh.model import FindingKind
from outpost_mesh_cli.main import main
from outpost_mesh_sandbox.aws.identities import SANDBOX_ACCOUNT
from outpost_mesh_sandbox.aws.server import Sandbox
from outpost_mesh_sandbox.stack.pipeline import SandboxPipeline

from .support import reconcile

OTHER_ACCOUNT = "999988887777"
MUTATING = ("Create", "Delete", "Replace", "Associate", "Disassociate", "Modify")


@dataclass
class Mesh:
    """Two racks, one Outpost subnet each with a route table of its own, in one VPC."""

    vpc: str
    tables: dict[str, str]  # LGW route table name -> id
    gateways: dict[str, str]  # rack name -> its local gateway id
    route_tables: dict[str, str]  # rack name -> the subnet's route table id


def build(
    sb: Sandbox, rack_a: list[dict[str, Any]] | None, rack_b: list[dict[str, Any]] | None = None
) -> Mesh:
    """rack-a (generation 2) and rack-b (generation 1) with the LGW route tables given (None:
    the default single table), and a VPC with one subnet on each, made as a person would."""
    person = sb.client("ec2", caller="scenario")
    vpc = person.create_vpc(CidrBlock="10.7.0.0/16")["Vpc"]["VpcId"]
    mesh = Mesh(vpc, {}, {}, {})
    for index, (name, tables, generation) in enumerate(
        (("rack-a", rack_a, 2), ("rack-b", rack_b, 1)), start=1
    ):
        rack = sb.control.seed_outpost(name, generation=generation, route_tables=tables)
        mesh.gateways[name] = rack.local_gateway_id
        for table in rack.route_tables:
            mesh.tables[table.name] = table.local_gateway_route_table_id
        subnet = person.create_subnet(
            VpcId=vpc,
            CidrBlock=f"10.7.{index}.0/24",
            OutpostArn=rack.outpost_arn,
            AvailabilityZone=rack.availability_zone,
        )["Subnet"]["SubnetId"]
        table_id = person.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
        person.associate_route_table(RouteTableId=table_id, SubnetId=subnet)
        mesh.route_tables[name] = table_id
    return mesh


def associate(sb: Sandbox, vpc: str, table_id: str) -> str:
    """A person's association, waited for as a person would (the sandbox moves it on per
    describe)."""
    person = sb.client("ec2", caller="scenario")
    made = person.create_local_gateway_route_table_vpc_association(
        LocalGatewayRouteTableId=table_id, VpcId=vpc
    )["LocalGatewayRouteTableVpcAssociation"]["LocalGatewayRouteTableVpcAssociationId"]
    for _ in range(20):
        state = person.describe_local_gateway_route_table_vpc_associations(
            LocalGatewayRouteTableVpcAssociationIds=[made]
        )["LocalGatewayRouteTableVpcAssociations"][0]["State"]
        if state == "associated":
            return str(made)
    raise AssertionError(f"association {made} never associated")


def associations(ec2: Any, vpc: str) -> dict[str, str]:
    """The VPC's live associations: LGW route table id -> association id."""
    found = ec2.describe_local_gateway_route_table_vpc_associations(
        Filters=[{"Name": "vpc-id", "Values": [vpc]}]
    )["LocalGatewayRouteTableVpcAssociations"]
    return {
        a["LocalGatewayRouteTableId"]: a["LocalGatewayRouteTableVpcAssociationId"]
        for a in found
        if a["State"] in ("associating", "associated")
    }


def lgw_routes(ec2: Any, table_id: str) -> dict[str, str]:
    table = ec2.describe_route_tables(RouteTableIds=[table_id])["RouteTables"][0]
    return {
        r["DestinationCidrBlock"]: r["LocalGatewayId"]
        for r in table["Routes"]
        if r.get("LocalGatewayId")
    }


def meshed(ec2: Any, mesh: Mesh) -> bool:
    return lgw_routes(ec2, mesh.route_tables["rack-a"]) == {
        "10.7.2.0/24": mesh.gateways["rack-a"]
    } and lgw_routes(ec2, mesh.route_tables["rack-b"]) == {"10.7.1.0/24": mesh.gateways["rack-b"]}


def kinds(findings: Any) -> set[str]:
    return {str(f.kind) for f in findings}


@pytest.fixture
def pipeline_calls(sb: Sandbox) -> Iterator[Any]:
    """The pipeline's mutating EC2 calls since the fixture started."""
    start = len(sb.control.calls())

    def mutating() -> list[str]:
        return [
            c.action
            for c in sb.control.calls()[start:]
            if c.service == "ec2" and c.caller == "pipeline" and c.action.startswith(MUTATING)
        ]

    yield mutating


def test_a_coip_domain_listed_first_does_not_hide_the_dvr_domain(
    sb: Sandbox, ec2: Any, store: LedgerStore
) -> None:
    mesh = build(sb, [{"name": "a-coip", "mode": "coip"}, {"name": "a-dvr"}])

    result = reconcile(ec2, store, mesh.vpc)

    assert meshed(ec2, mesh)
    assert set(associations(ec2, mesh.vpc)) == {mesh.tables["a-dvr"], mesh.tables["rack-b"]}
    assert all(p.reachable for p in result.reachability)
    domains = {d.outpost_arn: d.table for d in result.passes[0].plan.routing_domains}
    assert sorted(t.name for t in domains.values() if t) == ["a-dvr", "rack-b"]


def test_a_vpc_a_person_put_in_the_coip_domain_stays_there_and_out_of_the_mesh(
    sb: Sandbox, ec2: Any, store: LedgerStore, pipeline_calls: Any
) -> None:
    mesh = build(sb, [{"name": "a-coip", "mode": "coip"}, {"name": "a-dvr"}])
    theirs = associate(sb, mesh.vpc, mesh.tables["a-coip"])

    result = reconcile(ec2, store, mesh.vpc)

    assert "coip-mode" in kinds(result.passes[0].plan.findings)
    assert associations(ec2, mesh.vpc) == {mesh.tables["a-coip"]: theirs}  # never a second one
    assert lgw_routes(ec2, mesh.route_tables["rack-a"]) == {}
    assert lgw_routes(ec2, mesh.route_tables["rack-b"]) == {}
    assert pipeline_calls() == []


def test_two_untagged_dvr_domains_are_ambiguous_until_one_is_tagged(
    sb: Sandbox, ec2: Any, store: LedgerStore
) -> None:
    mesh = build(sb, [{"name": "a-dvr-1"}, {"name": "a-dvr-2"}])

    first = reconcile(ec2, store, mesh.vpc)

    assert kinds(first.passes[0].plan.findings) == {"ambiguous-routing-domain"}
    assert associations(ec2, mesh.vpc) == {}
    assert not meshed(ec2, mesh)

    person = sb.client("ec2", caller="scenario")
    person.create_tags(
        Resources=[mesh.tables["a-dvr-2"]],
        Tags=[{"Key": "outpost-mesh:routing-domain", "Value": mesh.vpc}],
    )
    second = reconcile(ec2, store, mesh.vpc)

    assert meshed(ec2, mesh)
    assert set(associations(ec2, mesh.vpc)) == {mesh.tables["a-dvr-2"], mesh.tables["rack-b"]}
    assert "ambiguous-routing-domain" not in {f.kind for f in store.open_findings(mesh.vpc)}
    assert second.passes[0].plan.findings == ()


@pytest.mark.parametrize(
    "first", [{"state": "pending"}, {"active": False}], ids=["pending", "idle"]
)
def test_an_unusable_table_listed_first_is_passed_over(
    sb: Sandbox, ec2: Any, store: LedgerStore, first: dict[str, Any]
) -> None:
    mesh = build(sb, [{"name": "a-first", **first}, {"name": "a-dvr"}])

    reconcile(ec2, store, mesh.vpc)

    assert meshed(ec2, mesh)
    assert mesh.tables["a-first"] not in associations(ec2, mesh.vpc)


def test_a_persons_association_is_used_and_kept_through_a_teardown(
    sb: Sandbox, ec2: Any, store: LedgerStore
) -> None:
    mesh = build(sb, [{"name": "a-dvr-1"}, {"name": "a-dvr-2"}])
    theirs = associate(sb, mesh.vpc, mesh.tables["a-dvr-1"])

    reconcile(ec2, store, mesh.vpc)

    assert meshed(ec2, mesh)
    assert associations(ec2, mesh.vpc)[mesh.tables["a-dvr-1"]] == theirs
    assert theirs not in {a.association_id for a in store.load(mesh.vpc).associations}

    reconcile(ec2, store, mesh.vpc, remove=True)

    assert associations(ec2, mesh.vpc) == {mesh.tables["a-dvr-1"]: theirs}  # ours is gone
    assert lgw_routes(ec2, mesh.route_tables["rack-a"]) == {}


def test_a_domain_that_becomes_unusable_leaves_its_outpost_out_without_a_second_association(
    sb: Sandbox, ec2: Any, store: LedgerStore
) -> None:
    mesh = build(
        sb, [{"name": "a-dvr-1", "tags": {"outpost-mesh:routing-domain": "*"}}, {"name": "a-dvr-2"}]
    )
    reconcile(ec2, store, mesh.vpc)
    assert meshed(ec2, mesh)

    sb.control.set_lgw_route_table(mesh.tables["a-dvr-1"], active=False)
    result = reconcile(ec2, store, mesh.vpc)

    assert kinds(result.passes[0].plan.findings) == {"no-routing-domain"}
    assert mesh.tables["a-dvr-2"] not in associations(ec2, mesh.vpc)


def test_a_vpc_shared_in_by_another_account_is_left_alone(
    sb: Sandbox, ec2: Any, store: LedgerStore, pipeline_calls: Any
) -> None:
    mesh = build(sb, None)
    sb.control.share_vpc_in(mesh.vpc, OTHER_ACCOUNT)

    result = reconcile(ec2, store, mesh.vpc, account_id=SANDBOX_ACCOUNT)

    assert kinds(result.passes[0].plan.findings) == {"not-owner"}
    assert [f.kind for f in store.open_findings(mesh.vpc)] == [FindingKind.NOT_OWNER]
    assert associations(ec2, mesh.vpc) == {}
    assert pipeline_calls() == []


def test_the_cli_names_the_routing_domain_per_outpost(
    sb: Sandbox, ec2: Any, store: LedgerStore, capsys: pytest.CaptureFixture[str]
) -> None:
    mesh = build(sb, [{"name": "a-coip", "mode": "coip"}, {"name": "a-dvr"}])
    common = ["--endpoint-url", sb.endpoint_url, "--region", "us-east-1"]

    assert main(["plan", "--vpc", mesh.vpc, *common]) == 0
    text = capsys.readouterr().out
    assert "routing domain on " in text and f"{mesh.tables['a-dvr']} (a-dvr)" in text

    assert main(["apply", "--vpc", mesh.vpc, *common]) == 0
    capsys.readouterr()
    assert main(["status", "--vpc", mesh.vpc, "--output", "json", *common]) == 0
    status = json.loads(capsys.readouterr().out)
    domains = sorted(o["routing_domain"] for o in status["vpcs"][0]["outposts"])
    assert domains == ["a-dvr", "rack-b"]


def test_the_workflow_reports_a_shared_in_vpc_once_and_changes_nothing(
    sb: Sandbox, pipeline_calls: Any
) -> None:
    mesh = build(sb, None)
    sb.control.share_vpc_in(mesh.vpc, OTHER_ACCOUNT)
    with SandboxPipeline(sb).deploy() as pipeline:
        start = len(sb.control.calls())
        for _ in range(2):
            pipeline.sweep()
            pipeline.wait_idle(timeout=60)
        published = [
            c for c in sb.control.calls()[start:] if c.service == "sns" and c.action == "Publish"
        ]
        # the first sweep starts one execution to report it; the second leaves it alone
        assert [e.status for e in pipeline.executions()] == ["SUCCEEDED"]

    assert len(published) == 1
    assert "not-owner" in json.dumps(published[0].params)
    assert pipeline_calls() == []
