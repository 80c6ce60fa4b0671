"""Approval mode through the whole pipeline in the sandbox: the deployed state machine waits with a
task token (AwaitApproval), ``outpost-mesh approve``/``reject`` answer it (SendTaskSuccess /
SendTaskFailure), the sweep fails an expired request, and outcomes are read back from AWS (routes,
the ledger, the execution)."""

from __future__ import annotations

import contextlib
import io
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from outpost_mesh.ledger import LedgerStore
from outpost_mesh.model import ApprovalStatus, FindingKind
from outpost_mesh.observe import observe_vpc
from outpost_mesh.verify import reachability
from outpost_mesh_cli.main import main
from outpost_mesh_sandbox.aws.server import Sandbox
from outpost_mesh_sandbox.demo import run_demo
from outpost_mesh_sandbox.demo.runner import AwsTime
from outpost_mesh_sandbox.scenario.ids import IdMap
from outpost_mesh_sandbox.stack.pipeline import PipelineOptions, SandboxPipeline

from .support import SCENARIOS, seeded


def deploy(sb: Sandbox, **parameters: str) -> SandboxPipeline:
    """The stack with ``parameters``, its ledger on the sandbox's clock (AWS time, which
    ``advance_clock`` moves), as the demo runner deploys it."""
    assert sb.app is not None
    options = PipelineOptions(parameters=parameters)
    return SandboxPipeline(sb, options, ledger_clock=AwsTime(sb.app.throttle.clock)).deploy()


@pytest.fixture
def stack(sb: Sandbox) -> Iterator[Callable[..., SandboxPipeline]]:
    made: list[SandboxPipeline] = []

    def make(**parameters: str) -> SandboxPipeline:
        made.append(deploy(sb, **parameters))
        return made[-1]

    yield make
    for pipeline in made:
        pipeline.close()


def store_of(sb: Sandbox, pipeline: SandboxPipeline) -> LedgerStore:
    """The stack's ledger, read on the stack's clock."""
    clock = pipeline.seam.ledger_clock
    assert clock is not None
    return LedgerStore(sb.client("dynamodb"), pipeline.table_name, clock=clock)


def lgw_routes(sb: Sandbox, vpc: str) -> set[tuple[str, str]]:
    ec2 = sb.client("ec2", caller="scenario")
    tables = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc]}])
    return {
        (t["RouteTableId"], r["DestinationCidrBlock"])
        for t in tables["RouteTables"]
        for r in t["Routes"]
        if r.get("LocalGatewayId")
    }


def start(pipeline: SandboxPipeline, vpc: str, name: str) -> str:
    arn = pipeline.sfn.start_execution(
        stateMachineArn=pipeline.state_machine_arn,
        name=name,
        input=f'{{"vpc_id": "{vpc}", "trigger": "test"}}',
    )["executionArn"]
    return str(arn)


def until(what: Callable[[], Any], timeout: float = 60.0) -> Any:
    """Poll ``what`` until it answers something truthy (a deadline, no fixed sleep)."""
    deadline = time.monotonic() + timeout
    while True:
        got = what()
        if got:
            return got
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def waiting(store: LedgerStore, vpc: str) -> Any:
    approval = store.approval(vpc)
    return approval if approval is not None and approval.status is ApprovalStatus.WAITING else None


def status_of(pipeline: SandboxPipeline, arn: str) -> str:
    return str(pipeline.sfn.describe_execution(executionArn=arn)["status"])


def finished(pipeline: SandboxPipeline, arn: str) -> str:
    """The execution's status once it stopped running."""
    return str(until(lambda: (status := status_of(pipeline, arn)) != "RUNNING" and status))


def plan_passes(pipeline: SandboxPipeline, arn: str) -> int:
    """How many times the execution entered its Plan state (one per pass)."""
    paginator = pipeline.sfn.get_paginator("get_execution_history")
    return sum(
        1
        for page in paginator.paginate(executionArn=arn)
        for event in page["events"]
        if event["type"] == "TaskStateEntered"
        and event["stateEnteredEventDetails"]["name"] == "Plan"
    )


def cli(sb: Sandbox, pipeline: SandboxPipeline, monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    monkeypatch.setenv("AWS_ENDPOINT_URL", sb.endpoint_url)
    return main([*args, "--table", pipeline.table_name])


@pytest.fixture
def blog(sb: Sandbox) -> IdMap:
    return seeded(sb, "blog")


def test_all_mode_waits_then_approve_applies_exactly_the_plan(
    sb: Sandbox,
    stack: Callable[..., SandboxPipeline],
    blog: IdMap,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pipeline = stack(ApprovalMode="all")
    store = store_of(sb, pipeline)
    vpc = blog.vpc_id("app")
    arn = start(pipeline, vpc, "approve-me")
    approval = until(lambda: waiting(store, vpc))
    assert status_of(pipeline, arn) == "RUNNING"
    assert lgw_routes(sb, vpc) == set()  # nothing applied while it waits
    assert len(approval.changes) == 4  # 2 associations, 2 routes
    lease = store.lease(vpc) or {}
    assert lease["holder"] == arn and lease["expires_at"] >= approval.expires_at  # lease kept
    # two triggers while waiting are handed to the holder (coalesced), not a second actor
    for name in ("second-trigger", "third-trigger"):
        other = start(pipeline, vpc, name)
        until(lambda other=other: status_of(pipeline, other) == "SUCCEEDED")  # type: ignore[misc]
        assert (store.lease(vpc) or {})["holder"] == arn
    assert cli(sb, pipeline, monkeypatch, "approve", "--vpc", vpc) == 0
    assert finished(pipeline, arn) == "SUCCEEDED"
    # passes: the one that asked, the approved one, and one more for both triggers
    assert plan_passes(pipeline, arn) == 3
    a, b = blog.route_table_id("rt-a"), blog.route_table_id("rt-b")
    assert lgw_routes(sb, vpc) == {(a, "10.7.11.0/24"), (b, "10.7.7.0/24")}
    pairs = reachability(observe_vpc(sb.client("ec2", caller="scenario"), vpc))
    assert len(pairs) == 2 and all(p.reachable for p in pairs)  # the pair is reachable both ways
    decided = store.approval(vpc)
    assert decided is not None and decided.status is ApprovalStatus.APPROVED
    assert decided.decided_by.startswith("arn:aws:")
    passes = [h for h in store.history(vpc) if h["event"] == "pass"]
    assert passes and passes[-1]["approved_by"] == decided.decided_by
    assert passes[-1]["advertised"]  # the first LGW routes start advertising both subnets
    # status shows who approved, and the pass in the history
    # (stdout into a buffer that stays open: capsys's closes, and the functions' logger, built
    # while it was stdout, would flush into it at the next deploy)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert cli(sb, pipeline, monkeypatch, "status", "--vpc", vpc, "--output", "json") == 0
    shown = json.loads(out.getvalue())
    (view,) = shown.get("vpcs", [shown])
    assert view["approval"]["status"] == "approved"
    assert view["approval"]["decided_by"] == decided.decided_by
    assert [h["event"] for h in view["history"]][-1] == "pass"
    # nothing waits any more: approve is a one-line refusal, exit 2 (as release)
    assert cli(sb, pipeline, monkeypatch, "approve", "--vpc", vpc) == 2


def test_reject_applies_nothing_and_the_finding_says_who_and_why(
    sb: Sandbox, stack: Callable[..., SandboxPipeline], blog: IdMap, monkeypatch: pytest.MonkeyPatch
) -> None:
    pipeline = stack(ApprovalMode="all")
    store = store_of(sb, pipeline)
    vpc = blog.vpc_id("app")
    arn = start(pipeline, vpc, "reject-me")
    until(lambda: waiting(store, vpc))
    assert cli(sb, pipeline, monkeypatch, "reject", "--vpc", vpc, "--reason", "window is Sat") == 0
    assert finished(pipeline, arn) == "SUCCEEDED"
    assert lgw_routes(sb, vpc) == set()
    assert store.lease(vpc) is None or not (store.lease(vpc) or {}).get("holder")
    findings = {f.kind: f for f in store.open_findings(vpc)}
    rejected = findings[FindingKind.APPROVAL_REJECTED]
    assert "window is Sat" in rejected.message and "rejected by arn:aws:" in rejected.message
    events = [h["event"] for h in store.history(vpc)]
    assert "approval-rejected" in events and "pass" not in events
    # the same plan is not asked for again: a later execution waits for nothing
    again = start(pipeline, vpc, "after-reject")
    assert finished(pipeline, again) == "SUCCEEDED"
    assert (store.approval(vpc) or rejected).status is ApprovalStatus.REJECTED  # type: ignore[union-attr]


def test_the_sweep_fails_an_expired_request_and_nothing_is_applied(
    sb: Sandbox, stack: Callable[..., SandboxPipeline], blog: IdMap
) -> None:
    pipeline = stack(ApprovalMode="all", ApprovalTimeoutHours="1")
    store = store_of(sb, pipeline)
    vpc = blog.vpc_id("app")
    arn = start(pipeline, vpc, "expire-me")
    approval = until(lambda: waiting(store, vpc))
    sweep = pipeline.sweep  # the scheduled sweep as EventBridge fires it
    sweep()
    assert status_of(pipeline, arn) == "RUNNING"  # not expired yet: skipped, not restarted
    assert (store.approval(vpc) or approval).status is ApprovalStatus.WAITING
    sb.control.advance_clock(3601)
    sweep()
    assert finished(pipeline, arn) == "SUCCEEDED"
    assert lgw_routes(sb, vpc) == set()
    kinds = {f.kind for f in store.open_findings(vpc)}
    assert FindingKind.APPROVAL_EXPIRED in kinds
    assert any(h["event"] == "approval-expired" for h in store.history(vpc))


def test_deletions_mode_applies_creations_at_once_and_holds_cutting_deletions(
    sb: Sandbox, stack: Callable[..., SandboxPipeline], blog: IdMap, monkeypatch: pytest.MonkeyPatch
) -> None:
    vpc = blog.vpc_id("app")
    pipeline = stack(ApprovalMode="deletions")
    store = store_of(sb, pipeline)
    arn = start(pipeline, vpc, "creations-go")
    assert finished(pipeline, arn) == "SUCCEEDED"
    a, b = blog.route_table_id("rt-a"), blog.route_table_id("rt-b")
    assert lgw_routes(sb, vpc) == {(a, "10.7.11.0/24"), (b, "10.7.7.0/24")}
    assert store.approval(vpc) is None  # nothing waited
    # rack-b's subnet opts out: its routes' deletion cuts a live subnet -> waits
    person = sb.client("ec2", caller="scenario")
    person.create_tags(
        Resources=[blog.subnet_id("subnet-b")], Tags=[{"Key": "outpost-mesh:opt-out", "Value": "1"}]
    )
    cut = start(pipeline, vpc, "cut-waits")
    approval = until(lambda: waiting(store, vpc))
    # the cutting route deletions and the disassociation they still use; nothing else
    assert approval.changes and all(k.startswith("-") for k in approval.changes)
    assert any(k.startswith("-route") for k in approval.changes)
    assert lgw_routes(sb, vpc) == {(a, "10.7.11.0/24"), (b, "10.7.7.0/24")}
    assert cli(sb, pipeline, monkeypatch, "approve", "--vpc", vpc) == 0
    assert finished(pipeline, cut) == "SUCCEEDED"
    assert lgw_routes(sb, vpc) == set()


def test_a_change_while_waiting_is_replanned_and_a_new_route_needs_a_new_approval(
    sb: Sandbox, stack: Callable[..., SandboxPipeline], blog: IdMap, monkeypatch: pytest.MonkeyPatch
) -> None:
    pipeline = stack(ApprovalMode="all")
    store = store_of(sb, pipeline)
    vpc = blog.vpc_id("app")
    arn = start(pipeline, vpc, "replan")
    first = until(lambda: waiting(store, vpc))
    # meanwhile a third subnet on rack-a joins, in rt-a: new routes nobody approved yet
    person = sb.client("ec2", caller="scenario")
    rack_a = blog.outpost("rack-a")
    third = person.create_subnet(
        VpcId=vpc,
        CidrBlock="10.7.8.0/24",
        OutpostArn=rack_a.outpost_arn,
        AvailabilityZone=person.describe_subnets(SubnetIds=[blog.subnet_id("subnet-a")])["Subnets"][
            0
        ]["AvailabilityZone"],
    )["Subnet"]["SubnetId"]
    person.associate_route_table(RouteTableId=blog.route_table_id("rt-a"), SubnetId=third)
    assert cli(sb, pipeline, monkeypatch, "approve", "--vpc", vpc) == 0
    second = until(
        lambda: (w := waiting(store, vpc)) is not None and w.digest != first.digest and w
    )
    a, b = blog.route_table_id("rt-a"), blog.route_table_id("rt-b")
    # the approved changes that still hold were applied; the new route waits for its own approval
    assert lgw_routes(sb, vpc) == {(a, "10.7.11.0/24"), (b, "10.7.7.0/24")}
    assert second.changes == (f"+route {b} 10.7.8.0/24 {blog.outpost('rack-b').local_gateway_id}",)
    assert cli(sb, pipeline, monkeypatch, "approve", "--vpc", vpc) == 0
    finished(pipeline, arn)
    assert (b, "10.7.8.0/24") in lgw_routes(sb, vpc)


def test_a_persons_apply_is_its_own_approval_recorded_with_the_caller(
    sb: Sandbox, stack: Callable[..., SandboxPipeline], blog: IdMap, monkeypatch: pytest.MonkeyPatch
) -> None:
    pipeline = stack(ApprovalMode="all")
    store = store_of(sb, pipeline)
    vpc = blog.vpc_id("app")
    # the CLI applies everything at once (the person running it is the approval) and says who
    assert cli(sb, pipeline, monkeypatch, "apply", "--vpc", vpc) == 0
    assert len(lgw_routes(sb, vpc)) == 2
    (entry,) = [h for h in store.history(vpc) if h["event"] == "pass"]
    assert entry["approved_by"].startswith("arn:aws:") and entry["actor"].startswith("cli:")
    assert entry["counts"]["routes_to_create"] == 2


def test_the_approval_scenario_waits_then_its_approve_step_meshes(sb: Sandbox) -> None:
    """scenarios/approval.yaml through the demo runner: the first step's execution waits (no
    mutating call, its plan in the step), the approve step's answer is followed by exactly the
    planned calls, and nothing waits at the end."""
    run = run_demo(SCENARIOS / "approval.yaml", sandbox=sb)
    report = run.report
    first, second = report["steps"]
    assert "RUNNING" in [e["status"] for e in first["executions"]]
    assert first["api_calls"]["CreateRoute"] == 0
    assert first["api_calls"]["CreateLocalGatewayRouteTableVpcAssociation"] == 0
    assert second["api_calls"]["CreateRoute"] == 2
    assert second["api_calls"]["CreateLocalGatewayRouteTableVpcAssociation"] == 2
    assert report["pending_approvals"] == []
    assert all(p["reachable"] for p in report["reachability"]) and report["reachability"]
