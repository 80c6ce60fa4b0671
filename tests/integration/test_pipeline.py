"""The sandbox pipeline's parts: template reading, CloudTrail events, the Lambda seam, the rules,
and how the runner treats events, failures and quiet steps.

Scenarios here are written inline for one behaviour each; outcomes are read back from AWS state
(the report and the runner's snapshots), the Step Functions execution records and, only for what
AWS answered, the sandbox's call log.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from outpost_mesh.events import CloudTrailEvent, hint_from
from outpost_mesh_sandbox.aws.identities import SCENARIO_ACCESS_KEY
from outpost_mesh_sandbox.aws.server import Sandbox
from outpost_mesh_sandbox.demo import DemoRun, run_demo
from outpost_mesh_sandbox.scenario import load_scenario
from outpost_mesh_sandbox.scenario.seed import seed
from outpost_mesh_sandbox.stack.cloudtrail import events_for_calls
from outpost_mesh_sandbox.stack.lambda_runtime import FakeLambdaContext
from outpost_mesh_sandbox.stack.pipeline import PipelineTimeoutError, SandboxPipeline, find_root
from outpost_mesh_sandbox.stack.template import load_template

ROOT = find_root()
BLOG = """
vpcs: [{name: app, cidr: 10.7.0.0/16}]
outposts: [{name: rack-a}, {name: rack-b}]
route_tables: [{name: rt-a, vpc: app}, {name: rt-b, vpc: app}]
subnets:
  - {name: subnet-a, vpc: app, cidr: 10.7.7.0/24, outpost: rack-a, route_table: rt-a}
"""
CREATE_B = (
    "  - create_subnet: {name: subnet-b, vpc: app, cidr: 10.7.11.0/24, outpost: rack-b, "
    "route_table: rt-b}\n"
)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def reachable(run: DemoRun) -> dict[tuple[str, str], bool]:
    return {(p["from"], p["to"]): p["reachable"] for p in run.report["reachability"]}


def cloudtrail_event(event_id: str, detail: dict[str, Any], **envelope: Any) -> dict[str, Any]:
    event = {
        "version": "0",
        "id": event_id,
        "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.ec2",
        "account": "{{account}}",
        "time": "2024-05-01T10:00:00Z",
        "region": "{{region}}",
        "resources": [],
        "detail": {
            "eventVersion": "1.09",
            "eventTime": "2024-05-01T10:00:00Z",
            "eventSource": "ec2.amazonaws.com",
            "awsRegion": "{{region}}",
            "eventType": "AwsApiCall",
            **detail,
        },
    }
    event.update(envelope)
    return event


# -- template.yaml ---------------------------------------------------------------------------
def test_template_gives_functions_rules_and_the_state_machine() -> None:
    template = load_template(ROOT / "template.yaml")
    template.refs.update(LedgerTable="ledger", NotificationTopic="arn:aws:sns:topic")
    functions = template.functions()
    assert {
        "TriggerFunction",
        "SweepFunction",
        "ClaimFunction",
        "PlanFunction",
        "AssociateFunction",
        "CheckAssociationFunction",
        "ApplyRoutesFunction",
        "DisassociateFunction",
        "VerifyFunction",
        "ReleaseFunction",
        "RollbackFunction",
    } <= set(functions)
    for fn in functions.values():
        assert (ROOT / fn.code_uri / "app.py").is_file()
        assert fn.environment["LEDGER_TABLE"] == "ledger"
    assert (
        functions["TriggerFunction"]
        .environment["STATE_MACHINE_ARN"]
        .endswith(":stateMachine:outpost-mesh-reconcile")
    )
    rules = {r.logical_id: r for r in template.rules()}
    event_rules = [r for r in rules.values() if r.event_pattern is not None]
    assert event_rules and all(r.targets == ("TriggerFunction",) for r in event_rules)
    assert any(r.schedule and r.targets == ("SweepFunction",) for r in rules.values())

    template.attrs.update({(name, "Arn"): f"arn:{name}" for name in functions})
    machine = template.state_machine()
    definition = (ROOT / machine.definition_uri).read_text(encoding="utf-8")
    placeholders = set(re.findall(r"\$\{([A-Za-z0-9]+)\}", definition))
    assert placeholders <= set(machine.substitutions)


# -- CloudTrail events -----------------------------------------------------------------------
def test_events_have_the_trail_shapes_and_only_watched_successes_pass_the_rules(
    sb: Sandbox, tmp_path: Path
) -> None:
    scenario = load_scenario(write(tmp_path, "shapes", BLOG + "steps: []\n"))
    person = sb.client("ec2", caller="scenario")
    ids = seed(scenario, person, sb.control)
    start = sb.control.calls()[-1].seq
    vpc, rack_b = ids.vpc_id("app"), ids.outpost("rack-b")
    subnet = person.create_subnet(
        VpcId=vpc,
        CidrBlock="10.7.11.0/24",
        AvailabilityZone=ids.subnet_availability_zone("rack-b"),
        OutpostArn=rack_b.outpost_arn,
    )["Subnet"]["SubnetId"]
    association = person.associate_route_table(
        RouteTableId=ids.route_table_id("rt-b"), SubnetId=subnet
    )["AssociationId"]
    replaced = person.replace_route_table_association(
        AssociationId=association, RouteTableId=ids.route_table_id("rt-a")
    )["NewAssociationId"]
    person.disassociate_route_table(AssociationId=replaced)
    with pytest.raises(ClientError, match=r"InvalidRoute\.NotFound"):
        person.delete_route(
            RouteTableId=ids.route_table_id("rt-a"), DestinationCidrBlock="10.7.99.0/24"
        )
    person.delete_subnet(SubnetId=subnet)

    calls = sb.control.calls(since=start)
    events = events_for_calls(calls, sb.account_id, sb.region, SCENARIO_ACCESS_KEY)
    by_name = {e["detail"]["eventName"]: e for e in events}
    assert list(by_name) == [
        "CreateSubnet",
        "AssociateRouteTable",
        "ReplaceRouteTableAssociation",
        "DisassociateRouteTable",
        "DeleteRoute",
        "DeleteSubnet",
    ]
    for event in events:
        assert event["detail-type"] == "AWS API Call via CloudTrail"
        assert event["source"] == "aws.ec2" and event["account"] == sb.account_id
        detail = event["detail"]
        assert detail["eventSource"] == "ec2.amazonaws.com"
        assert detail["userIdentity"]["accessKeyId"] == SCENARIO_ACCESS_KEY
        assert detail["eventType"] == "AwsApiCall" and detail["managementEvent"] is True
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", detail["eventTime"])

    create = by_name["CreateSubnet"]["detail"]
    assert create["requestParameters"] == {
        "vpcId": vpc,
        "cidrBlock": "10.7.11.0/24",
        "availabilityZone": ids.subnet_availability_zone("rack-b"),
        "outpostArn": rack_b.outpost_arn,
    }
    created = create["responseElements"]["subnet"]
    assert created["subnetId"] == subnet and created["vpcId"] == vpc
    assert created["outpostArn"] == rack_b.outpost_arn
    assert isinstance(created["availableIpAddressCount"], int)
    # The association events and DeleteSubnet name no VPC, as on AWS.
    assert by_name["AssociateRouteTable"]["detail"]["requestParameters"] == {
        "routeTableId": ids.route_table_id("rt-b"),
        "subnetId": subnet,
    }
    assert by_name["AssociateRouteTable"]["detail"]["responseElements"]["associationId"] == (
        association
    )
    replace = by_name["ReplaceRouteTableAssociation"]["detail"]
    assert replace["requestParameters"] == {
        "associationId": association,
        "routeTableId": ids.route_table_id("rt-a"),
    }
    assert replace["responseElements"]["newAssociationId"] == replaced
    disassociate = by_name["DisassociateRouteTable"]["detail"]
    assert disassociate["requestParameters"] == {"associationId": replaced}
    assert disassociate["responseElements"]["_return"] is True
    delete = by_name["DeleteSubnet"]["detail"]
    assert delete["requestParameters"] == {"subnetId": subnet}
    assert set(delete["responseElements"]) == {"requestId", "_return"}
    for name in ("AssociateRouteTable", "DisassociateRouteTable", "DeleteSubnet"):
        assert vpc not in json.dumps(by_name[name]["detail"])
    failed = by_name["DeleteRoute"]["detail"]
    assert failed["errorCode"] == "InvalidRoute.NotFound" and failed["responseElements"] is None

    # The trigger's own model reads them; DeleteSubnet's hint names only the subnet.
    hint = hint_from(CloudTrailEvent.model_validate(by_name["DeleteSubnet"]))
    assert hint.subnet_ids == (subnet,) and hint.vpc_ids == ()

    pipeline = SandboxPipeline(sb)
    try:
        pipeline.deploy()
        matched = [e["detail"]["eventName"] for e in events if pipeline.matching_rules(e)]
    finally:
        pipeline.close()
    assert matched == [
        "CreateSubnet",
        "AssociateRouteTable",
        "ReplaceRouteTableAssociation",
        "DisassociateRouteTable",
        "DeleteSubnet",
    ]  # not DeleteRoute, and never a failed call


# -- the Lambda seam -------------------------------------------------------------------------
def test_a_handler_exception_is_a_lambda_function_error(sb: Sandbox) -> None:
    pipeline = SandboxPipeline(sb)
    try:
        pipeline.deploy()
        function = pipeline.seam.by_logical_id["ClaimFunction"]
        answer = sb.client("lambda").invoke(FunctionName=function.arn, Payload=b"{}")
    finally:
        pipeline.close()
    assert answer["StatusCode"] == 200
    assert answer["FunctionError"] == "Unhandled"
    payload = json.loads(answer["Payload"].read())
    assert set(payload) == {"errorMessage", "errorType", "requestId", "stackTrace"}
    # What the handler raises for that input, called directly: its class name and str().
    with pytest.raises(Exception) as raised:
        function.handler({}, FakeLambdaContext(function.name, function.arn))
    assert payload["errorType"] == type(raised.value).__name__
    assert payload["errorMessage"] == str(raised.value)
    assert "vpc_id" in payload["errorMessage"]
    assert isinstance(payload["stackTrace"], list) and payload["stackTrace"]


def test_task_errors_reach_step_functions_under_the_exception_name(
    sb: Sandbox, tmp_path: Path
) -> None:
    text = (
        BLOG
        + "steps:\n"
        + "  - fail: {api: DescribeLocalGatewayRouteTables, error: UnauthorizedOperation, "
        "times: 1}\n" + CREATE_B
    )
    run = run_demo(write(tmp_path, "denied", text), sandbox=sb)
    step = run.steps[1]
    failed = {name: error for name, (error, _) in step.failures.items()}
    assert list(failed.values()) == ["AccessDeniedError"]  # Retry/Catch see the typed error
    assert [f["kind"] for f in run.findings] == ["error"]
    assert "UnauthorizedOperation" in run.findings[0]["message"]
    # That execution rolled back; the other trigger (or its restart) meshed the VPC.
    assert reachable(run) == {("subnet-a", "subnet-b"): True, ("subnet-b", "subnet-a"): True}


def test_a_throttled_task_is_retried_by_the_workflow(sb: Sandbox, tmp_path: Path) -> None:
    text = (
        BLOG + "steps:\n  - fail: {api: CreateRoute, error: RequestLimitExceeded, times: 1}\n"
    ) + CREATE_B
    run = run_demo(write(tmp_path, "throttled", text), sandbox=sb)
    executions = run.steps[1].executions
    assert {e.status for e in executions} == {"SUCCEEDED"}
    assert run.findings == []
    assert reachable(run) == {("subnet-a", "subnet-b"): True, ("subnet-b", "subnet-a"): True}
    throttled = sb.control.calls()
    assert [c.error_code for c in throttled if c.action == "CreateRoute" and not c.ok] == [
        "RequestLimitExceeded"
    ]
    sfn = sb.client("stepfunctions")
    retried = [
        event
        for execution in executions
        for event in sfn.get_execution_history(executionArn=execution.arn, maxResults=1000)[
            "events"
        ]
        if event.get("taskFailedEventDetails", {}).get("error") == "ThrottledError"
    ]
    assert len(retried) == 1


# -- events the runner delivers ------------------------------------------------------------
@pytest.fixture(scope="module")
def events_run(sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    """One run with every kind of raw event, then a subnet the pipeline must still mesh."""
    redelivered = cloudtrail_event(
        "6f1c2a9e-0000-4e8a-9c61-2d0f4b8e7a15",
        {
            "eventName": "CreateSubnet",
            "requestParameters": {"vpcId": "{{vpc:app}}", "cidrBlock": "10.7.7.0/24"},
            "responseElements": {"subnet": {"subnetId": "{{subnet:subnet-a}}"}},
        },
    )
    missing_vpc = cloudtrail_event(
        "7f1c2a9e-0000-4e8a-9c61-2d0f4b8e7a15",
        {
            "eventName": "CreateSubnet",
            "requestParameters": {"vpcId": "vpc-0123456789abcdef0", "cidrBlock": "10.9.1.0/24"},
            "responseElements": {"subnet": {"subnetId": "subnet-0123456789abcdef0"}},
        },
    )
    malformed = cloudtrail_event(
        "8f1c2a9e-0000-4e8a-9c61-2d0f4b8e7a15",
        {"eventName": "CreateSubnet", "requestParameters": "not a mapping"},
    )
    failed_call = cloudtrail_event(
        "9f1c2a9e-0000-4e8a-9c61-2d0f4b8e7a15",
        {
            "eventName": "CreateSubnet",
            "errorCode": "InvalidParameterValue",
            "requestParameters": {"vpcId": "{{vpc:app}}", "cidrBlock": "10.7.7.0/24"},
        },
    )
    steps = [
        {"event": redelivered},
        {"event": redelivered},
        {"event": missing_vpc},
        {"event": malformed},
        {"event": failed_call},
    ]
    text = BLOG + "steps:\n" + "".join(f"  - {json.dumps(s)}\n" for s in steps) + CREATE_B
    path = tmp_path_factory.mktemp("events") / "events.yaml"
    path.write_text(text, encoding="utf-8")
    return run_demo(path, sandbox=sandbox)


def test_the_same_event_twice_starts_one_execution(events_run: DemoRun) -> None:
    first, second = events_run.steps[0], events_run.steps[1]
    assert [e.status for e in first.executions] == ["SUCCEEDED"]
    assert first.executions[0].name.endswith("6f1c2a9e-0000-4e8a-9c61-2d0f4b8e7a15")
    assert second.executions == []
    assert [d.invocations[0].ok for d in second.deliveries] == [True]  # handled, nothing new


def test_an_event_for_a_vpc_that_does_not_exist_starts_nothing(events_run: DemoRun) -> None:
    step = events_run.steps[2]
    assert step.executions == []
    assert all(i.ok for d in step.deliveries for i in d.invocations)
    assert not any("0123456789abcdef0" in f["message"] for f in events_run.findings)


def test_a_malformed_event_is_rejected_with_an_error_finding_and_the_run_goes_on(
    events_run: DemoRun,
) -> None:
    step = events_run.steps[3]
    assert step.executions == []
    [delivery] = step.deliveries
    assert delivery.rules and not delivery.invocations[0].ok  # the rules let it through
    error_type = delivery.invocations[0].error_type
    assert error_type in ("ValidationError", "MalformedInputError")  # rejected by its model
    errors = [f for f in events_run.findings if f["kind"] == "error"]
    assert [f["subject"] for f in errors] == ["event 8f1c2a9e-0000-4e8a-9c61-2d0f4b8e7a15"]
    assert error_type in errors[0]["message"]
    # ... and the next steps still ran: subnet-b was meshed.
    assert reachable(events_run) == {
        ("subnet-a", "subnet-b"): True,
        ("subnet-b", "subnet-a"): True,
    }


def test_the_rules_filter_out_failed_calls(events_run: DemoRun) -> None:
    step = events_run.steps[4]
    assert [d.matched for d in step.deliveries] == [False]
    assert step.executions == []


def test_a_quiet_step_emits_no_event_until_the_sweep_finds_it(sb: Sandbox, tmp_path: Path) -> None:
    text = BLOG + "steps:\n" + CREATE_B.replace("rt-b}", "rt-b, quiet: true}") + "  - sweep: {}\n"
    run = run_demo(write(tmp_path, "quiet", text), sandbox=sb)
    quiet, sweep = run.steps
    assert quiet.calls == ["CreateSubnet", "AssociateRouteTable"]
    assert quiet.events == [] and quiet.executions == []
    assert quiet.after is not None and quiet.after.reachable("subnet-a", "subnet-b") is False
    assert [e.status for e in sweep.executions] == ["SUCCEEDED"]
    assert sweep.executions[0].name.startswith("sweep-")
    assert reachable(run) == {("subnet-a", "subnet-b"): True, ("subnet-b", "subnet-a"): True}


def test_deleting_a_subnet_removes_only_the_routes_the_pipeline_made(
    sb: Sandbox, tmp_path: Path
) -> None:
    text = """
vpcs: [{name: lab, cidr: 10.40.0.0/16}]
outposts: [{name: rack-a}, {name: rack-b}, {name: rack-c}]
route_tables:
  - name: rt-a
    vpc: lab
    routes: [{destination: 10.40.2.0/24, target: "lgw:rack-a"}]   # hand-made, to subnet-b
  - {name: rt-b, vpc: lab}
  - {name: rt-c, vpc: lab}
subnets:
  - {name: subnet-a, vpc: lab, cidr: 10.40.1.0/24, outpost: rack-a, route_table: rt-a}
  - {name: subnet-b, vpc: lab, cidr: 10.40.2.0/24, outpost: rack-b, route_table: rt-b}
  - {name: subnet-c, vpc: lab, cidr: 10.40.3.0/24, outpost: rack-c, route_table: rt-c}
steps:
  - sweep: {}
  - delete_subnet: {name: subnet-b}
"""
    run = run_demo(write(tmp_path, "delete", text), sandbox=sb)
    sweep, delete = run.steps
    assert ("rt-c", "10.40.2.0/24", "lgw:rack-c") in sweep.added
    assert sorted(delete.removed) == [
        ("rt-b", "10.40.1.0/24", "lgw:rack-b"),  # subnet-b's table serves no subnet now
        ("rt-b", "10.40.3.0/24", "lgw:rack-b"),
        ("rt-c", "10.40.2.0/24", "lgw:rack-c"),  # the pipeline's route to subnet-b
    ]
    assert delete.added == []
    tables = run.report["route_tables"]
    assert {"destination": "10.40.2.0/24", "target": "lgw:rack-a"} in tables["rt-a"]
    assert reachable(run) == {("subnet-a", "subnet-c"): True, ("subnet-c", "subnet-a"): True}


# -- waiting -------------------------------------------------------------------------------
def test_waiting_for_idle_has_a_deadline_and_says_what_is_still_busy(sb: Sandbox) -> None:
    pipeline = SandboxPipeline(sb)
    pipeline._pending = 1  # an event still being delivered
    with pytest.raises(PipelineTimeoutError, match=r"not idle after 0 s: 1 event\(s\) being"):
        pipeline.wait_idle(timeout=0.05)
