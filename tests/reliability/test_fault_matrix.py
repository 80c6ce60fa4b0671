"""Fault-injection matrix: each case through the real workflow in the sandbox (issue 5, item 1).

A case seeds an account, optionally brings it to a converged state first, arms its fault (a
sandbox fault injected when the workflow reaches a task, a hook that crashes a task or deletes a
subnet mid-run, a sandbox setting), makes the person's calls and delivers their CloudTrail events
through the template's rules, waits until the pipeline is idle, then checks every promise with
:func:`harness.check_case`. The storms inject ``RequestLimitExceeded`` when the workflow's first
task starts, so the trigger (which has only Lambda's two async retries) is not what they test;
the trigger's own storms are cases of their own.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from outpost_mesh_sandbox.stack.pipeline import PipelineOptions

from .harness import (
    TALLY,
    Expect,
    Outcome,
    Row,
    World,
    check_case,
    mutating,
    rolled_back,
)

STORM = 3  # RequestLimitExceeded answers in a row: a storm every task's Retry must ride out

# The blog's VPC, with routes nobody but a person owns next to where the mesh goes (a default
# route to the internet gateway, an appliance's route): they must never change.
BLOG = """
vpcs: [{name: app, cidr: 10.7.0.0/16}]
outposts: [{name: rack-a}, {name: rack-b, intra_vpc: RACK_B_UPDATED}]
route_tables:
  - name: rt-a
    vpc: app
    routes: [{destination: 0.0.0.0/0, target: igw}, {destination: 10.7.12.0/24, target: eni}]
  - name: rt-b
    vpc: app
    routes: [{destination: 0.0.0.0/0, target: igw}]
subnets:
  - {name: subnet-a, vpc: app, cidr: 10.7.7.0/24, outpost: rack-a, route_table: rt-a}
  - {name: appliance, vpc: app, cidr: 10.7.12.0/24}
steps:
  - create_subnet:
      {name: subnet-b, vpc: app, cidr: 10.7.11.0/24, outpost: rack-b, route_table: rt-b}
  - delete_subnet: {name: subnet-b}
"""
CREATE, DELETE = 0, 1


def blog(*, rack_b_updated: bool = True) -> str:
    return BLOG.replace("RACK_B_UPDATED", "true" if rack_b_updated else "false")


# Three racks: rack-a and rack-b meshed first; rack-c's table already holds a person's default
# route, so with a quota of 2 routes per table its second LGW route fails half-way through.
THREE = """
quotas: {routes_per_table: 2}
vpcs: [{name: lab, cidr: 10.40.0.0/16}]
outposts: [{name: rack-a}, {name: rack-b}, {name: rack-c}]
route_tables:
  - {name: rt-a, vpc: lab}
  - {name: rt-b, vpc: lab}
  - name: rt-c
    vpc: lab
    routes: [{destination: 0.0.0.0/0, target: igw}]
subnets:
  - {name: subnet-a, vpc: lab, cidr: 10.40.1.0/24, outpost: rack-a, route_table: rt-a}
  - {name: subnet-b, vpc: lab, cidr: 10.40.2.0/24, outpost: rack-b, route_table: rt-b}
steps:
  - create_subnet:
      {name: subnet-c, vpc: lab, cidr: 10.40.3.0/24, outpost: rack-c, route_table: rt-c}
"""


@dataclass
class Case:
    id: str
    fault: str
    scenario: str = field(default_factory=blog)
    step: int = CREATE
    converge_first: bool = False  # step CREATE's calls (none for THREE), then converged
    first_event_only: bool = False  # deliver only the step's first event (deterministic storms)
    options: PipelineOptions | None = None
    arm: Callable[[World], None] | None = None
    act: Callable[[World], None] | None = None  # instead of the step's calls and events
    expect: Expect = field(default_factory=Expect)
    all_faults_hit: bool = False  # every injected fault must have been answered to the pipeline
    codes: frozenset[str] = frozenset()  # AWS error codes that are this case's fault
    then: Callable[[World, Outcome], None] | None = None  # the case's own extra checks


def _nothing_sent_to_the_full_table(world: World, outcome: Outcome) -> None:
    """No call touched rt-c, no EC2 call failed, nothing was rolled back, and no route reaches
    subnet-c one way only: the pass left rt-c's pairs out in both directions."""
    full = world.ids.route_table_id("rt-c")
    assert not [c for c in mutating(outcome.calls) if full in json.dumps(c.params)]
    failed = [c.action for c in outcome.calls if c.service == "ec2" and c.error_code]
    assert not failed, failed
    assert not any(e.rolled_back for e in outcome.executions)
    cidr_c = "10.40.3.0/24"
    assert not [r for r in outcome.after.routes if r[1] == cidr_c]


def _refusal_remembered(world: World, outcome: Outcome) -> None:
    """AWS's RouteLimitExceeded is remembered for rt-c: one execution failed and rolled back,
    the pass after it left rt-c out with a route-quota finding instead of trying again, and a
    later sweep sends nothing to rt-c either (no retry, no BGP flapping) while nothing changed."""
    full = world.ids.route_table_id("rt-c")
    assert sum(e.rolled_back for e in outcome.executions) == 1, outcome.executions
    held = [f for f in world.findings() if f.kind == "route-quota"]
    assert {f.subject for f in held} == {full}, held
    assert "RouteLimitExceeded" in " ".join(f.message for f in held)
    mark = world.last_seq()
    world.sweep()
    after = world.pipeline_calls(since=mark)
    assert not [c for c in mutating(after) if full in json.dumps(c.params)]
    assert not [c for c in after if c.service == "ec2" and c.error_code]
    assert not any(e.rolled_back for e in world.executions()[len(outcome.executions) :])


def inject_when(
    function: str, action: str, code: str, times: int, service: str = "ec2"
) -> Callable[[World], None]:
    """Inject the fault as the workflow's ``function`` task starts (its first invocation)."""

    def arm(world: World) -> None:
        world.fault_codes.add(code)
        world.hook(
            function,
            before=lambda _event: world.sb.control.inject_fault(
                action, code, times, service=service
            ),
        )

    return arm


def storm(action: str, *, on_delete: bool = False) -> Case:
    return Case(
        id=f"throttling-storm-{action}",
        fault=f"RequestLimitExceeded x{STORM} on {action}, from the first task on",
        step=DELETE if on_delete else CREATE,
        converge_first=on_delete,
        first_event_only=True,
        arm=inject_when("ClaimFunction", action, "RequestLimitExceeded", STORM),
        expect=Expect(metrics=("RoutesDeleted",) if on_delete else ("RoutesCreated",)),
        all_faults_hit=True,
    )


# -- cases with their own set-up or checks -----------------------------------------------------
def _association_stuck(world: World) -> None:
    world.sb.control.configure(association_describes=1000)


def _association_fails(world: World) -> None:
    world.sb.control.fail_next_associations(1)


def _crash_second_batch(world: World) -> None:
    """The second ApplyRoutes batch creates its first route, then its Lambda dies."""
    seen = {"batches": 0}

    def second(_event: Any) -> bool:
        seen["batches"] += 1
        return seen["batches"] == 2

    def crash(event: dict[str, Any], proceed: Callable[[Any], Any]) -> Any:
        batch = dict(event["batch"])
        batch["creates"] = batch["creates"][:1]
        proceed({**event, "batch": batch})
        raise RuntimeError("Lambda crashed after its first CreateRoute (simulated)")

    world.hook("ApplyRoutesFunction", when=second, instead=crash)


BATCH_RACE_SECONDS = 1.0


def _batch_fails_while_another_applies(world: World) -> None:
    """The first ApplyRoutes batch dies at once; the other is still applying and creates its
    route only once the rollback has started, or after BATCH_RACE_SECONDS if it never does
    (as it must not: the workflow waits for every batch before it rolls back). Were the
    rollback to run first, it would miss that route and leave it behind."""
    rollback_started = threading.Event()
    batches = {"n": 0}
    lock = threading.Lock()

    def first(_event: Any) -> bool:
        with lock:
            batches["n"] += 1
            return batches["n"] == 1

    def crash(_event: Any, _proceed: Callable[[Any], Any]) -> Any:
        raise RuntimeError("Lambda crashed before its first call (simulated)")

    def late(event: Any, proceed: Callable[[Any], Any]) -> Any:
        rollback_started.wait(BATCH_RACE_SECONDS)  # bounded: the race must not happen
        return proceed(event)

    world.hook("ApplyRoutesFunction", when=first, instead=crash)
    world.hook("ApplyRoutesFunction", instead=late)
    world.hook("RollbackFunction", before=lambda _e: rollback_started.set(), times=10)


def _delete_subnet_mid_run(world: World) -> None:
    """When the first plan with changes is made, the person deletes subnet-b (and its event
    reaches the trigger while that reconcile still runs)."""

    def delete(_event: Any, result: Any) -> None:
        world.person.delete_subnet(SubnetId=world.ids.subnet_id("subnet-b"))
        world.ids.remove_subnet("subnet-b")
        world.deliver(world.person_events())

    world.hook("PlanFunction", after=delete)


def _quarantine_holds(world: World, outcome: Outcome) -> None:
    """After the rollback, the next scheduled sweep leaves rack-b out (quarantined under its
    Outpost ARN) instead of trying its routes again."""
    rack_b = world.ids.outpost("rack-b")
    findings = [f for f in world.findings() if f.kind == "rack-not-updated"]
    assert {f.subject for f in findings} == {rack_b.outpost_arn}, findings
    assert rack_b.outpost_arn in world.store.quarantined()
    mark = world.last_seq()
    world.sweep()
    after = world.pipeline_calls(since=mark)
    assert not mutating(after), [c.action for c in mutating(after)]
    assert world.metrics().get("BlockedSubnets", 0) >= 1
    assert {e.status for e in world.executions()} <= {"SUCCEEDED", "FAILED"}


def _event_for_deleted_vpc(world: World) -> None:
    vpc = world.person.create_vpc(CidrBlock="10.99.0.0/16")["Vpc"]["VpcId"]
    subnet = world.person.create_subnet(VpcId=vpc, CidrBlock="10.99.1.0/24")["Subnet"]["SubnetId"]
    world.person.delete_subnet(SubnetId=subnet)
    world.person.delete_vpc(VpcId=vpc)
    events = [e for e in world.person_events() if e["detail"]["eventName"] == "CreateSubnet"]
    assert len(events) == 1 and vpc in str(events[0])
    world.deliver(events)  # CreateSubnet of a VPC that is gone by the time it arrives
    world.settle()


def _event_for_unknown_subnet(world: World) -> None:
    event = {
        "version": "0",
        "id": "0d1e2f3a-0000-4e8a-9c61-2d0f4b8e7a15",
        "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.ec2",
        "account": world.sb.account_id,
        "region": world.sb.region,
        "time": "2024-05-01T10:00:00Z",
        "resources": [],
        "detail": {
            "eventVersion": "1.09",
            "eventSource": "ec2.amazonaws.com",
            "eventName": "DeleteSubnet",
            "awsRegion": world.sb.region,
            "eventType": "AwsApiCall",
            "requestParameters": {"subnetId": "subnet-0123456789abcdef0"},
            "responseElements": {"requestId": "r-1", "_return": True},
        },
    }
    world.deliver([event])
    world.settle()


def _no_mutating_calls(world: World, outcome: Outcome) -> None:
    assert not mutating(outcome.calls), [c.action for c in mutating(outcome.calls)]
    assert all(i.ok for d in world.deliveries for i in d.invocations)


def _deliver_then_sweep(world: World) -> None:
    world.deliver(world.calls(CREATE)[:1])
    world.settle()
    world.sweep()


def _trigger_storm_lands_in_the_sweep(world: World, outcome: Outcome) -> None:
    """The trigger ran out of Lambda's async retries: the event went to the on-failure
    destination (no execution), and the next scheduled sweep meshed the subnet."""
    failed = [i for d in world.deliveries for i in d.invocations if not i.ok]
    assert failed and {i.error_type for i in failed} == {"ThrottledError"}


CASES = [
    *(
        storm(action)
        for action in (
            "DescribeVpcs",
            "DescribeSubnets",
            "DescribeRouteTables",
            "DescribeLocalGatewayRouteTables",
            "DescribeLocalGatewayRouteTableVirtualInterfaceGroupAssociations",
            "DescribeLocalGatewayRouteTableVpcAssociations",
            "CreateLocalGatewayRouteTableVpcAssociation",
            "CreateRoute",
        )
    ),
    storm("DeleteRoute", on_delete=True),
    storm("DeleteLocalGatewayRouteTableVpcAssociation", on_delete=True),
    Case(
        id="throttling-storm-trigger-within-async-retries",
        fault="RequestLimitExceeded x2 on DescribeVpcs as the event arrives (the trigger's)",
        first_event_only=True,
        arm=lambda w: w.sb.control.inject_fault("DescribeVpcs", "RequestLimitExceeded", 2),
        codes=frozenset({"RequestLimitExceeded"}),
        all_faults_hit=True,
    ),
    Case(
        id="throttling-storm-trigger-past-async-retries",
        fault="RequestLimitExceeded x3 on DescribeVpcs as the event arrives; then the sweep",
        first_event_only=True,
        arm=lambda w: w.sb.control.inject_fault("DescribeVpcs", "RequestLimitExceeded", 3),
        codes=frozenset({"RequestLimitExceeded"}),
        act=_deliver_then_sweep,
        all_faults_hit=True,
        then=_trigger_storm_lands_in_the_sweep,
    ),
    Case(
        id="association-stuck-associating",
        fault="association stays `associating` past AssociationMaxChecks (3)",
        options=PipelineOptions(association_max_checks=3),
        arm=_association_stuck,
        expect=rolled_back("error", "AssociationsCreated"),
    ),
    Case(
        id="association-failed",
        fault="the first LGW route table association ends `failed`",
        arm=_association_fails,
        expect=Expect(
            must=frozenset({"FAILED", "SUCCEEDED"}),
            findings=frozenset({"error"}),
            metrics=("Rollbacks", "RoutesCreated"),
        ),
    ),
    Case(
        id="route-limit-exceeded-mid-apply",
        fault="RouteLimitExceeded on rt-c's 2nd LGW route (quota 2), other batches applied",
        scenario=THREE,
        converge_first=True,
        codes=frozenset({"RouteLimitExceeded"}),
        # The stack believes the default quota (50): the account's real one (2) is only met
        # when CreateRoute fails, mid-apply.
        options=PipelineOptions(parameters={"RoutesPerTableQuota": "50"}),
        expect=rolled_back("route-quota", "RouteQuotaHeadroom"),
        then=_refusal_remembered,
    ),
    Case(
        id="route-quota-known-up-front",
        fault="rt-c cannot take its 2 new LGW routes (RoutesPerTableQuota 2, the real quota)",
        scenario=THREE,
        converge_first=True,
        options=PipelineOptions(parameters={"RoutesPerTableQuota": "2"}),
        expect=Expect(final="any", findings=frozenset({"route-quota"})),
        then=_nothing_sent_to_the_full_table,
    ),
    Case(
        id="rack-without-intra-vpc-update",
        fault="rack-b lacks the intra-VPC update: InvalidParameterValue on its route",
        scenario=blog(rack_b_updated=False),
        codes=frozenset({"InvalidParameterValue"}),
        expect=rolled_back("rack-not-updated"),
        then=_quarantine_holds,
    ),
    Case(
        id="rack-not-updated-with-describe-storm-in-rollback",
        fault=f"as above, and RequestLimitExceeded x{STORM} on DescribeLocalGateways",
        scenario=blog(rack_b_updated=False),
        codes=frozenset({"InvalidParameterValue"}),
        arm=inject_when("RollbackFunction", "DescribeLocalGateways", "RequestLimitExceeded", STORM),
        expect=rolled_back("rack-not-updated"),
        all_faults_hit=True,
        then=_quarantine_holds,
    ),
    Case(
        id="unauthorized-create-route",
        fault="UnauthorizedOperation on every CreateRoute (IAM misconfigured)",
        arm=inject_when("ClaimFunction", "CreateRoute", "UnauthorizedOperation", 50),
        expect=rolled_back("error"),
    ),
    Case(
        id="unauthorized-describe",
        fault="UnauthorizedOperation on every DescribeLocalGatewayRouteTables",
        arm=inject_when(
            "ClaimFunction", "DescribeLocalGatewayRouteTables", "UnauthorizedOperation", 50
        ),
        expect=rolled_back("error"),
    ),
    Case(
        id="task-crash-mid-map",
        fault="ApplyRoutes' 2nd batch dies after its first CreateRoute (1st batch applied)",
        options=PipelineOptions(parameters={"ApplyMaxConcurrency": "1"}),
        arm=_crash_second_batch,
        expect=Expect(
            must=frozenset({"FAILED"}),
            findings=frozenset({"error"}),
            metrics=("Rollbacks", "RoutesCreated"),
        ),
    ),
    Case(
        id="batch-fails-while-another-applies",
        fault="one ApplyRoutes batch dies while the other is still applying (Map concurrency 4)",
        first_event_only=True,
        arm=_batch_fails_while_another_applies,
        expect=rolled_back("error", "RoutesCreated"),
    ),
    Case(
        id="dynamodb-throttled-lease",
        fault="ProvisionedThroughputExceededException x3 on UpdateItem (lease claim)",
        first_event_only=True,
        arm=inject_when(
            "ClaimFunction",
            "UpdateItem",
            "ProvisionedThroughputExceededException",
            STORM,
            "dynamodb",
        ),
        expect=Expect(metrics=("RoutesCreated",)),
        all_faults_hit=True,
    ),
    Case(
        id="dynamodb-throttled-ledger-write",
        fault="ProvisionedThroughputExceededException x3 on PutItem (route ownership)",
        first_event_only=True,
        arm=inject_when(
            "ApplyRoutesFunction",
            "PutItem",
            "ProvisionedThroughputExceededException",
            STORM,
            "dynamodb",
        ),
        expect=Expect(metrics=("RoutesCreated",)),
        all_faults_hit=True,
    ),
    Case(
        id="dynamodb-throttled-ledger-read",
        fault="ProvisionedThroughputExceededException x3 on Query (ledger load in plan)",
        first_event_only=True,
        arm=inject_when(
            "PlanFunction", "Query", "ProvisionedThroughputExceededException", STORM, "dynamodb"
        ),
        expect=Expect(metrics=("RoutesCreated",)),
        all_faults_hit=True,
    ),
    Case(
        id="dynamodb-error-ledger-write",
        fault="InternalServerError x1 on PutItem (route ownership) while applying",
        first_event_only=True,
        arm=inject_when("ApplyRoutesFunction", "PutItem", "InternalServerError", 1, "dynamodb"),
        expect=rolled_back("error"),
        all_faults_hit=True,
    ),
    Case(
        id="dynamodb-error-lease-release",
        fault="InternalServerError x2 on UpdateItem (lease release)",
        first_event_only=True,
        arm=inject_when("ReleaseFunction", "UpdateItem", "InternalServerError", 2, "dynamodb"),
        expect=Expect(metrics=("RoutesCreated", "ReconcileSeconds")),
        all_faults_hit=True,
    ),
    Case(
        id="dynamodb-error-during-rollback",
        fault="rack-b not updated, and InternalServerError x2 on DeleteItem in the rollback",
        scenario=blog(rack_b_updated=False),
        codes=frozenset({"InvalidParameterValue"}),
        arm=inject_when("RollbackFunction", "DeleteItem", "InternalServerError", 2, "dynamodb"),
        expect=rolled_back("rack-not-updated"),
        all_faults_hit=True,
    ),
    Case(
        id="subnet-deleted-mid-reconcile",
        fault="the person deletes subnet-b right after the plan that meshes it",
        arm=_delete_subnet_mid_run,
        codes=frozenset({"InvalidParameterValue"}),
        expect=Expect(
            must=frozenset({"FAILED"}), findings=frozenset({"error"}), metrics=("Rollbacks",)
        ),
    ),
    Case(
        id="event-for-a-deleted-vpc",
        fault="a CreateSubnet event arrives after its VPC was deleted",
        converge_first=True,
        act=_event_for_deleted_vpc,
        expect=Expect(must=frozenset(), final="converged", executions=False),
        then=_no_mutating_calls,
    ),
    Case(
        id="event-for-an-unknown-subnet",
        fault="a DeleteSubnet event names a subnet neither AWS nor the ledger knows",
        converge_first=True,
        act=_event_for_unknown_subnet,
        then=_no_mutating_calls,
    ),
]
STORMED_ACTIONS = {c.id.removeprefix("throttling-storm-") for c in CASES if c.id.startswith("thr")}
USED_ACTIONS: set[str] = set()


def _deliver_step(world: World, case: Case) -> None:
    events = world.calls(case.step)
    world.deliver(events[:1] if case.first_event_only else events)
    world.settle()


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_fault(case: Case, make_world: Callable[..., World]) -> None:
    world = make_world(case.scenario, options=case.options, name=case.id)
    row = Row(case.id, case.fault, "", "", "", "", "", 0, 0, 0)
    TALLY.rows.append(row)
    try:
        if case.converge_first:
            world.converge(None if case.scenario is THREE else CREATE)
        before = world.snapshot()
        known = [e.arn for e in world.pipeline.executions()]
        world.begin()
        events_before = world.events_delivered
        if case.arm is not None:
            case.arm(world)
        if case.act is not None:
            case.act(world)
        else:
            _deliver_step(world, case)

        outcome = check_case(world, before, known, case.expect)
        codes = case.codes | world.fault_codes
        hit = [c for c in outcome.calls if c.error_code in codes]
        if case.all_faults_hit:
            assert outcome.faults_left == 0, f"{outcome.faults_left} injected fault(s) unused"
        if case.then is not None:
            case.then(world, outcome)
        USED_ACTIONS.update(c.action for c in world.pipeline_calls(since=0) if c.service == "ec2")
        row.outcome = outcome.summary()
        row.final = case.expect.final if case.expect.final != "any" else "-"
        row.routes = f"+{len(outcome.added)} / -{len(outcome.removed)}"
        row.findings = ", ".join(sorted({k for k, _ in outcome.new_findings})) or "none"
        row.metrics = ", ".join(
            f"{name} {outcome.metrics[name]:g}"
            for name in sorted(outcome.metrics)
            if name in {*case.expect.metrics, "Rollbacks", "RoutesCreated", "RoutesDeleted"}
            and name != "ReconcileSeconds"  # a duration: asserted, not shown
        )
        row.faults_hit = len(hit) if codes else "-"
        row.calls = len(outcome.calls)
        row.events = world.events_delivered - events_before
        row.passed = True
    except BaseException as error:
        row.outcome = row.outcome or f"test failed: {type(error).__name__}"
        raise


def test_the_storms_cover_every_ec2_action_the_pipeline_used(
    make_world: Callable[..., World],
) -> None:
    """Every EC2 action the pipeline called in the matrix had its throttling storm."""
    if not USED_ACTIONS:  # run on its own: a mesh made and unmade by the pipeline
        world = make_world(blog(rack_b_updated=False))
        world.step(CREATE)
        world.step(DELETE)
        USED_ACTIONS.update(c.action for c in world.pipeline_calls(since=0) if c.service == "ec2")
    # DescribeLocalGateways is only called by a rollback: its storm is a rollback case.
    unstormed = USED_ACTIONS - STORMED_ACTIONS
    assert unstormed <= {"DescribeLocalGateways"}, unstormed
