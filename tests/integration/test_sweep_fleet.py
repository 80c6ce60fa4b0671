"""The scheduled sweep as a fleet diff, through the deployed SweepFunction on the sandbox: of many
managed VPCs it starts executions exactly for those with work (a drifted one, one with a new
subnet), takes no lease on the others (converged, opted out, another account's shared in), and
its EC2 calls are one paginated Describe per action for the whole Region, not per VPC."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from outpost_mesh.ledger import LedgerStore
from outpost_mesh.observe import FLEET_PAGE_SIZES
from outpost_mesh_sandbox.aws.paging import pages_for
from outpost_mesh_sandbox.aws.server import Sandbox
from outpost_mesh_sandbox.stack.pipeline import SandboxPipeline

from .support import reconcile

OPT_OUT = "outpost-mesh:opt-out"

_ACTIONS = {  # the fleet observation's boto3 operation -> EC2 action (the sandbox's log)
    "describe_vpcs": "DescribeVpcs",
    "describe_subnets": "DescribeSubnets",
    "describe_route_tables": "DescribeRouteTables",
    "describe_local_gateway_route_tables": "DescribeLocalGatewayRouteTables",
    "describe_local_gateway_route_table_virtual_interface_group_associations": (
        "DescribeLocalGatewayRouteTableVirtualInterfaceGroupAssociations"
    ),
    "describe_local_gateway_route_table_vpc_associations": (
        "DescribeLocalGatewayRouteTableVpcAssociations"
    ),
}


@pytest.fixture
def pipeline(sb: Sandbox) -> Iterator[SandboxPipeline]:
    deployed = SandboxPipeline(sb).deploy()
    try:
        yield deployed
    finally:
        deployed.close()


def fleet(sb: Sandbox, pipeline: SandboxPipeline, count: int) -> dict[str, Any]:
    """``count`` VPCs over two racks, each with one subnet per rack in a table of its own,
    meshed through the CLI path (the same rules; quicker than an execution each)."""
    person = sb.client("ec2", caller="scenario")
    racks = [sb.control.seed_outpost(f"rack-{r}") for r in "ab"]
    store = LedgerStore(sb.client("dynamodb"), pipeline.table_name)
    ec2 = sb.client("ec2", caller="pipeline")
    vpcs: list[str] = []
    tables: dict[str, list[str]] = {}
    for v in range(count):
        vpc = person.create_vpc(CidrBlock=f"10.{v}.0.0/16")["Vpc"]["VpcId"]
        vpcs.append(vpc)
        tables[vpc] = []
        for i, rack in enumerate(racks):
            subnet = person.create_subnet(
                VpcId=vpc,
                CidrBlock=f"10.{v}.{i}.0/24",
                OutpostArn=rack.outpost_arn,
                AvailabilityZone=rack.availability_zone,
            )["Subnet"]["SubnetId"]
            table = person.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
            person.associate_route_table(RouteTableId=table, SubnetId=subnet)
            tables[vpc].append(table)
        reconcile(ec2, store, vpc)
    return {"person": person, "racks": racks, "vpcs": vpcs, "tables": tables, "store": store}


def sweep(sb: Sandbox, pipeline: SandboxPipeline) -> tuple[dict[str, Any], dict[str, int]]:
    """Invoke the SweepFunction once; its result and its EC2 calls per action."""
    mark = max((c.seq for c in sb.control.calls()), default=0)
    done = pipeline.seam.invoke(
        "SweepFunction",
        {
            "version": "0",
            "id": "sweep-test-1",
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": sb.account_id,
            "time": "2026-12-06T18:00:00Z",
            "region": sb.region,
            "resources": [],
            "detail": {},
        },
    )
    assert done.ok, f"{done.error_type}: {done.error_message}"
    calls: dict[str, int] = {}
    for call in sb.control.calls(since=mark):
        if call.service == "ec2" and call.caller != "scenario" and call.action in _ACTIONS.values():
            calls[call.action] = calls.get(call.action, 0) + 1
    return done.payload, calls


def expected_calls(sb: Sandbox) -> dict[str, int]:
    """The page formula: per action, ceil(items in the Region / AWS's largest page)."""
    person = sb.client("ec2", caller="scenario")
    items = {
        "DescribeVpcs": len(person.describe_vpcs()["Vpcs"]),
        "DescribeSubnets": len(person.describe_subnets()["Subnets"]),
        "DescribeRouteTables": sum(
            len(p["RouteTables"]) for p in person.get_paginator("describe_route_tables").paginate()
        ),
        "DescribeLocalGatewayRouteTables": len(
            person.describe_local_gateway_route_tables()["LocalGatewayRouteTables"]
        ),
        "DescribeLocalGatewayRouteTableVirtualInterfaceGroupAssociations": len(
            person.describe_local_gateway_route_table_virtual_interface_group_associations()[
                "LocalGatewayRouteTableVirtualInterfaceGroupAssociations"
            ]
        ),
        "DescribeLocalGatewayRouteTableVpcAssociations": len(
            person.describe_local_gateway_route_table_vpc_associations()[
                "LocalGatewayRouteTableVpcAssociations"
            ]
        ),
    }
    assert set(_ACTIONS) == set(FLEET_PAGE_SIZES)
    return {action: pages_for(action, n) for action, n in items.items()}


@pytest.mark.parametrize("count", [25, 50])
def test_the_sweep_starts_exactly_the_executions_with_work(
    sb: Sandbox, pipeline: SandboxPipeline, count: int
) -> None:
    world = fleet(sb, pipeline, count)
    person, racks, vpcs, store = world["person"], world["racks"], world["vpcs"], world["store"]
    drifted, grown, opted_out, shared = vpcs[0], vpcs[1], vpcs[2], vpcs[3]
    # drifted: a person deletes one of the mesh's routes
    person.delete_route(
        RouteTableId=world["tables"][drifted][0], DestinationCidrBlock="10.0.1.0/24"
    )
    # grown: a new subnet on rack b
    subnet = person.create_subnet(
        VpcId=grown,
        CidrBlock="10.1.9.0/24",
        OutpostArn=racks[1].outpost_arn,
        AvailabilityZone=racks[1].availability_zone,
    )["Subnet"]["SubnetId"]
    table = person.create_route_table(VpcId=grown)["RouteTable"]["RouteTableId"]
    person.associate_route_table(RouteTableId=table, SubnetId=subnet)
    # opted out: the VPC's tag; and it drifts too (the sweep must leave it alone anyway)
    person.create_tags(Resources=[opted_out], Tags=[{"Key": OPT_OUT, "Value": "true"}])
    person.delete_route(
        RouteTableId=world["tables"][opted_out][0], DestinationCidrBlock="10.2.1.0/24"
    )
    # shared in: now another account's VPC, and drifted (its owner's stack meshes it)
    sb.control.share_vpc_in(shared, "210987654321")
    leases_before = {vpc: store.lease(vpc) for vpc in vpcs}

    result, calls = sweep(sb, pipeline)

    started = {
        json.loads(pipeline.describe(e.arn)["input"])["vpc_id"] for e in pipeline.executions()
    }
    # the shared-in VPC once, to report it (not-owner, recorded and notified); never again
    assert started == {drifted, grown, shared}
    assert result["started_count"] == 3
    assert result["seen"] == count
    assert result["outcomes"]["converged"] == count - 4
    assert result["outcomes"]["not-managed"] == 1
    # no lease taken on the VPCs left alone (a start counts a trigger on the VPC's lease)
    for vpc in vpcs:
        if vpc not in started:
            assert store.lease(vpc) == leases_before[vpc], vpc
    # one paginated Describe per action, however many VPCs
    assert calls == expected_calls(sb)
    assert result["describe_calls"] == {
        op: calls[action] for op, action in _ACTIONS.items() if action in calls
    }
    pipeline.wait_idle()
    # and the two executions did their work: the next sweep starts nothing
    again, _ = sweep(sb, pipeline)
    assert again["started_count"] == 0, again["outcomes"]
    assert again["outcomes"]["not-ours"] == 1
