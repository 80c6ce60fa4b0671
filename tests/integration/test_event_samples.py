"""Every sample in events/ drives its function's real handler, in-process, against the sandbox.

The samples carry made-up ids (they are for `sam local invoke` against any sandbox); here they are
rewritten to the blog scenario's ids, then fed to the handlers in the workflow's own order, each
handler's output checked against AWS state.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from outpost_mesh.ledger import LedgerStore
from outpost_mesh.model import ApprovalStatus
from outpost_mesh_sandbox.aws.server import Sandbox
from outpost_mesh_sandbox.scenario import load_scenario
from outpost_mesh_sandbox.scenario.ids import IdMap
from outpost_mesh_sandbox.scenario.seed import seed_and_run_steps
from outpost_mesh_sandbox.stack.pipeline import PipelineOptions, SandboxPipeline

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"
# The samples' ids: one VPC, rack B's subnet/table/LGW meshing towards rack A's subnet.
SAMPLE_VPC = "vpc-0a1b2c3d4e5f60718"
SAMPLE_SUBNET_B = "subnet-0b1c2d3e4f5a60718"
SAMPLE_SUBNET_A = "subnet-0c2d3e4f5a6b70819"
SAMPLE_RT_B = "rtb-0e4f5a6b7c8d90a1b"
SAMPLE_LGW_B = "lgw-0f9e8d7c6b5a40313"
SAMPLE_LGW_RTB_B = "lgw-rtb-0f9e8d7c6b5a40314"
SAMPLE_OUTPOST_B = "arn:aws:outposts:us-east-1:123456789012:outpost/op-0f9e8d7c6b5a40312"
SAMPLE_CIDR_A = "10.0.1.0/24"


@pytest.fixture
def blog(sb: Sandbox) -> Iterator[tuple[SandboxPipeline, IdMap]]:
    scenario = load_scenario(ROOT / "scenarios" / "blog.yaml")
    ids = seed_and_run_steps(scenario, sb.client("ec2", caller="scenario"), sb.control)
    pipeline = SandboxPipeline(sb).deploy()
    try:
        yield pipeline, ids
    finally:
        pipeline.close()


def sample(name: str, ids: IdMap) -> Any:
    """A sample with its ids replaced by the blog's (subnet-b on rack-b towards subnet-a)."""
    text = (EVENTS / f"{name}.json").read_text(encoding="utf-8")
    rack_b = ids.outpost("rack-b")
    for old, new in {
        SAMPLE_VPC: ids.vpc_id("app"),
        SAMPLE_SUBNET_B: ids.subnet_id("subnet-b"),
        SAMPLE_SUBNET_A: ids.subnet_id("subnet-a"),
        SAMPLE_RT_B: ids.route_table_id("rt-b"),
        SAMPLE_LGW_RTB_B: rack_b.local_gateway_route_table_id,
        SAMPLE_LGW_B: rack_b.local_gateway_id,
        SAMPLE_OUTPOST_B: rack_b.outpost_arn,
        SAMPLE_CIDR_A: "10.7.7.0/24",
    }.items():
        text = text.replace(old, new)
    return json.loads(text)


def invoke(pipeline: SandboxPipeline, logical_id: str, event: Any) -> Any:
    done = pipeline.seam.invoke(logical_id, event)
    assert done.ok, f"{logical_id}: {done.error_type}: {done.error_message}"
    return done.payload


def test_every_sample_has_a_test_here() -> None:
    used = {
        "claim",
        "plan",
        "associate",
        "check_association",
        "apply_routes",
        "disassociate",
        "verify",
        "release",
        "rollback",
        "sweep_scheduled",
        "trigger_create_subnet_legacy",
        "trigger_create_subnet_wrapped",
        "trigger_delete_subnet",
        "trigger_associate_route_table",
        "trigger_replace_route_table_association",
        "trigger_disassociate_route_table",
        "mesh_map",
        "request_approval",
        "settle_approval",
    }
    assert {p.stem for p in EVENTS.glob("*.json")} - {"env"} == used


def test_task_samples_in_workflow_order_mesh_one_direction(
    sb: Sandbox, blog: tuple[SandboxPipeline, IdMap]
) -> None:
    pipeline, ids = blog
    ec2 = sb.client("ec2")
    claim_event = sample("claim", ids)
    claim = invoke(pipeline, "ClaimFunction", claim_event)
    assert claim["claimed"] is True

    plan = invoke(pipeline, "PlanFunction", sample("plan", ids))
    assert plan["has_changes"] is True
    assert plan["counts"]["routes_to_create"] == 2

    associated = invoke(pipeline, "AssociateFunction", sample("associate", ids))
    assert len(associated["association_ids"]) == 1
    check = sample("check_association", ids)
    check["association_ids"] = associated["association_ids"]
    for _ in range(5):  # the sandbox moves an association on by describes
        checked = invoke(pipeline, "CheckAssociationFunction", check)
        if not checked["pending"]:
            break
        check["checks"] = checked["checks"]
    assert checked["pending"] is False

    applied = invoke(pipeline, "ApplyRoutesFunction", sample("apply_routes", ids))
    assert (applied["created"], applied["deleted"]) == (1, 0)
    rt_b = ec2.describe_route_tables(RouteTableIds=[ids.route_table_id("rt-b")])["RouteTables"]
    lgw_routes = {
        r["DestinationCidrBlock"]: r["LocalGatewayId"]
        for r in rt_b[0]["Routes"]
        if r.get("LocalGatewayId")
    }
    assert lgw_routes == {"10.7.7.0/24": ids.outpost("rack-b").local_gateway_id}

    verified = invoke(pipeline, "VerifyFunction", sample("verify", ids))
    # One direction's route alone reaches nobody, but the pair is not meshed yet (its other
    # route is not in place): not broken, so the UnreachablePairs alarm does not count it.
    assert (verified["reachable"], verified["unreachable"]) == (0, 0)

    release = sample("release", ids)
    release.update(holder=claim["holder"], seen=claim["seen"])
    released = invoke(pipeline, "ReleaseFunction", release)
    assert released["again"] is False

    rollback = sample("rollback", ids)
    rollback["lease"] = None
    undone = invoke(pipeline, "RollbackFunction", rollback)
    assert undone["undone"] == 2  # this execution's route and association, newest first
    assert undone["error"] == "RackNotUpdatedError"
    assert "intra-VPC" in undone["cause"]
    rt_b = ec2.describe_route_tables(RouteTableIds=[ids.route_table_id("rt-b")])["RouteTables"]
    assert not any(r.get("LocalGatewayId") for r in rt_b[0]["Routes"])


def test_disassociate_sample_removes_an_owned_association(
    sb: Sandbox, blog: tuple[SandboxPipeline, IdMap]
) -> None:
    pipeline, ids = blog
    assert invoke(pipeline, "ClaimFunction", sample("claim", ids))["claimed"] is True
    associated = invoke(pipeline, "AssociateFunction", sample("associate", ids))
    event = sample("disassociate", ids)
    for item in event["associations"]:
        item["association_id"] = associated["association_ids"][0]
    assert invoke(pipeline, "DisassociateFunction", event)["deleted"] == 1
    state = sb.client("ec2").describe_local_gateway_route_table_vpc_associations(
        LocalGatewayRouteTableVpcAssociationIds=associated["association_ids"]
    )["LocalGatewayRouteTableVpcAssociations"][0]["State"]
    assert state in ("disassociating", "disassociated")


@pytest.mark.parametrize("name", ["trigger_create_subnet_legacy", "trigger_create_subnet_wrapped"])
def test_create_subnet_samples_start_a_reconcile_of_their_vpc(
    blog: tuple[SandboxPipeline, IdMap], name: str
) -> None:
    pipeline, ids = blog
    started = invoke(pipeline, "TriggerFunction", sample(name, ids))
    assert started["vpcs"] == [ids.vpc_id("app")]
    assert len(started["started"]) == 1
    pipeline.wait_idle()
    # redelivery of the same event starts nothing new
    assert invoke(pipeline, "TriggerFunction", sample(name, ids))["started"] == []


@pytest.mark.parametrize(
    "name",
    [
        "trigger_delete_subnet",
        "trigger_associate_route_table",
        "trigger_replace_route_table_association",
        "trigger_disassociate_route_table",
    ],
)
def test_samples_that_name_no_vpc_still_find_it(
    blog: tuple[SandboxPipeline, IdMap], name: str
) -> None:
    pipeline, ids = blog
    started = invoke(pipeline, "TriggerFunction", sample(name, ids))
    assert started["vpcs"] == [ids.vpc_id("app")]  # by Describe, the ledger, or a sweep
    assert len(started["started"]) == 1
    pipeline.wait_idle()


def test_sweep_sample_reconciles_every_vpc_with_outpost_subnets(
    blog: tuple[SandboxPipeline, IdMap],
) -> None:
    pipeline, _ = blog
    started = invoke(pipeline, "SweepFunction", sample("sweep_scheduled", blog[1]))
    assert len(started["started"]) == 1
    pipeline.wait_idle()


def test_mesh_map_sample_draws_the_blog_before_and_after_the_pipeline_meshed_it(
    blog: tuple[SandboxPipeline, IdMap],
) -> None:
    pipeline, ids = blog
    subnets = [ids.subnet_id(name) for name in ("subnet-a", "subnet-b")]
    before = invoke(pipeline, "MeshMapFunction", sample("mesh_map", ids))
    assert isinstance(before, str)  # HTML, not JSON: what the dashboard shows
    assert f'<section class="om-vpc" data-vpc-id="{ids.vpc_id("app")}">' in before
    assert all(f'data-subnet-id="{s}"' in before for s in subnets)
    assert '<path class="om-route' not in before  # no LGW route yet
    invoke(pipeline, "SweepFunction", sample("sweep_scheduled", ids))
    pipeline.wait_idle()
    after = invoke(pipeline, "MeshMapFunction", sample("mesh_map", ids))
    a, b = subnets
    for source, target in ((a, b), (b, a)):  # meshed by the sweep's execution: both reachable
        pattern = f'<path class="om-route om-ok"[^>]*data-source="{source}" data-target="{target}"'
        assert re.search(pattern, after), (source, target)
    assert "om-broken" not in after.split("</style>", 1)[1]
    described = invoke(pipeline, "MeshMapFunction", {**sample("mesh_map", ids), "describe": True})
    assert described.startswith("## outpost-mesh: mesh map\n")


def test_approval_samples_wait_then_record_the_rejection_with_who_and_why(
    sb: Sandbox, blog: tuple[SandboxPipeline, IdMap]
) -> None:
    _, ids = blog
    # a second stack beside the fixture's, deployed with ApprovalMode all
    options = PipelineOptions(stack_name="om-approval", parameters={"ApprovalMode": "all"})
    pipeline = SandboxPipeline(sb, options).deploy()
    try:
        claim = invoke(pipeline, "ClaimFunction", sample("claim", ids))
        plan = invoke(pipeline, "PlanFunction", sample("plan", ids))
        assert plan["approval_needed"] is True and plan["has_changes"] is False
        request = sample("request_approval", ids)
        assert request["execution_arn"] == claim["holder"]
        asked = invoke(pipeline, "RequestApprovalFunction", request)
        assert asked["changes"] == 4
        store = LedgerStore(sb.client("dynamodb"), pipeline.table_name)
        vpc = ids.vpc_id("app")
        waiting = store.approval(vpc)
        assert waiting is not None and waiting.status is ApprovalStatus.WAITING
        assert waiting.token == request["task_token"]
        assert (store.lease(vpc) or {})["expires_at"] >= waiting.expires_at  # the lease is kept
        settled = invoke(pipeline, "SettleApprovalFunction", sample("settle_approval", ids))
        assert settled["status"] == "rejected"
        assert settled["decided_by"] == "arn:aws:iam::123456789012:user/network-team"
        again = invoke(pipeline, "PlanFunction", sample("plan", ids))
        assert again["approval_needed"] is False  # the same changes are not asked for again
        (finding,) = [f for f in again["findings"] if f["kind"] == "approval-rejected"]
        assert "change window is Saturday" in finding["message"]
    finally:
        pipeline.close()
