"""Members' notices on the Organization's hub bus (issue 15), through the deployed stack on the
sandbox: a hub bus in another Region with hub.yaml's rule delivering to an SQS queue (moto's
EventBridge delivers to SQS targets; docs/aws-facts.md, "Tools on this kind of machine"), the
stack deployed with ``HubEventBusArn``. The Plan task's new finding and a rolled-back execution
each arrive as one event of the contract (docs/architecture.md, "The event contract (members ->
hub)"); without the parameter nothing is put; a PutEvents that fails, or answers that it could
not take the entry, leaves the findings unrecorded and both SNS and the hub get them on the next
plan."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from outpost_mesh.ledger import LedgerStore
from outpost_mesh_sandbox.aws.server import Sandbox
from outpost_mesh_sandbox.scenario import Scenario, load_scenario
from outpost_mesh_sandbox.scenario.ids import IdMap
from outpost_mesh_sandbox.scenario.seed import run_step_calls, seed
from outpost_mesh_sandbox.stack.pipeline import PipelineOptions, SandboxPipeline, find_root
from outpost_mesh_sandbox.stack.template import load_template

HUB_REGION = "eu-west-1"  # not the sandbox's (us-east-1): the member puts in the bus's Region
# Two racks; rt-a already sends subnet-b's CIDR to an appliance: one conflict, the rest meshes.
# The step (played by a test, not at seeding) adds a third subnet with a table of its own.
CONFLICT = """
vpcs: [{name: app, cidr: 10.7.0.0/16}]
outposts: [{name: rack-a}, {name: rack-b}]
route_tables:
  - {name: rt-a, vpc: app, routes: [{destination: 10.7.11.0/24, target: eni}]}
  - {name: rt-b, vpc: app}
  - {name: rt-c, vpc: app}
subnets:
  - {name: subnet-a, vpc: app, cidr: 10.7.7.0/24, outpost: rack-a, route_table: rt-a}
  - {name: subnet-b, vpc: app, cidr: 10.7.11.0/24, outpost: rack-b, route_table: rt-b}
steps:
  - create_subnet:
      {name: subnet-c, vpc: app, cidr: 10.7.12.0/24, outpost: rack-b, route_table: rt-c}
"""
COMMON = {"schema_version", "region", "vpc_id", "kind", "summary", "actor", "report_only"}


@dataclass(frozen=True)
class Hub:
    """The hub's bus in the sandbox and the queue its rule delivers to."""

    bus_arn: str
    queue_url: str
    sqs: Any

    def events(self) -> list[dict[str, Any]]:
        """The events delivered since the last call (read and deleted)."""
        found: list[dict[str, Any]] = []
        for _ in range(100):  # at most 1,000 events: far more than any test puts
            messages = self.sqs.receive_message(
                QueueUrl=self.queue_url, MaxNumberOfMessages=10
            ).get("Messages", [])
            if not messages:
                return found
            for message in messages:
                found.append(json.loads(message["Body"]))
                self.sqs.delete_message(
                    QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"]
                )
        raise AssertionError("the hub's queue never ran dry")


@pytest.fixture
def hub(sb: Sandbox) -> Hub:
    """hub.yaml's bus and rule (its event pattern as written there), the rule's target an SQS
    queue instead of the topic and log group."""
    hub_doc = load_template(find_root() / "hub.yaml").doc
    pattern = hub_doc["Resources"]["FleetEventsRule"]["Properties"]["EventPattern"]
    events = sb.client("events", caller="scenario", region_name=HUB_REGION)
    sqs = sb.client("sqs", caller="scenario", region_name=HUB_REGION)
    bus_arn = events.create_event_bus(Name="outpost-mesh-hub-fleet")["EventBusArn"]
    queue_url = sqs.create_queue(QueueName="fleet-events")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    events.put_rule(
        Name="outpost-mesh-hub-fleet-events",
        EventBusName="outpost-mesh-hub-fleet",
        EventPattern=json.dumps(pattern),
    )
    events.put_targets(
        Rule="outpost-mesh-hub-fleet-events",
        EventBusName="outpost-mesh-hub-fleet",
        Targets=[{"Id": "FleetQueue", "Arn": queue_arn}],
    )
    return Hub(bus_arn, queue_url, sqs)


def _pipeline(sb: Sandbox, hub_bus_arn: str) -> Iterator[SandboxPipeline]:
    parameters = {"HubEventBusArn": hub_bus_arn} if hub_bus_arn else {}
    deployed = SandboxPipeline(sb, PipelineOptions(parameters=parameters)).deploy()
    try:
        yield deployed
    finally:
        deployed.close()


@pytest.fixture
def member(sb: Sandbox, hub: Hub) -> Iterator[SandboxPipeline]:
    """The member stack, deployed with HubEventBusArn = the hub's bus."""
    yield from _pipeline(sb, hub.bus_arn)


@pytest.fixture
def single(sb: Sandbox, hub: Hub) -> Iterator[SandboxPipeline]:
    """The member stack without HubEventBusArn (the hub's bus exists all the same)."""
    yield from _pipeline(sb, "")


def scenario(tmp_path: Path) -> Scenario:
    path = tmp_path / "conflict.yaml"
    path.write_text(CONFLICT, encoding="utf-8")
    return load_scenario(path)


def seeded(sb: Sandbox, tmp_path: Path) -> IdMap:
    return seed(scenario(tmp_path), sb.client("ec2", caller="scenario"), sb.control)


def sweep(sb: Sandbox, pipeline: SandboxPipeline) -> list[Any]:
    """One scheduled sweep run to the end; the calls made meanwhile."""
    mark = len(sb.control.calls())
    pipeline.sweep()
    pipeline.wait_idle(timeout=60)
    return sb.control.calls()[mark:]


def lgw_routes_of(sb: Sandbox, vpc: str) -> list[tuple[str, str]]:
    person = sb.client("ec2", caller="scenario")
    tables = person.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc]}])
    return [
        (t["RouteTableId"], r["DestinationCidrBlock"])
        for t in tables["RouteTables"]
        for r in t["Routes"]
        if r.get("LocalGatewayId")
    ]


def calls_of(calls: list[Any], service: str, action: str) -> list[Any]:
    return [c for c in calls if c.service == service and c.action == action]


def open_findings(sb: Sandbox, pipeline: SandboxPipeline, vpc: str) -> set[tuple[str, str]]:
    store = LedgerStore(sb.client("dynamodb"), pipeline.table_name)
    return {(str(f.kind), f.subject) for f in store.open_findings(vpc)}


def test_a_new_finding_and_a_rollback_each_put_one_event_of_the_contract(
    sb: Sandbox, hub: Hub, member: SandboxPipeline, tmp_path: Path
) -> None:
    conflict_scenario = scenario(tmp_path)
    person = sb.client("ec2", caller="scenario")
    ids = seed(conflict_scenario, person, sb.control)
    vpc = ids.vpcs["app"]
    calls = sweep(sb, member)

    [execution] = member.executions()
    assert execution.status == "SUCCEEDED"
    [published] = calls_of(calls, "sns", "Publish")  # the finding; a success mails nobody
    puts = calls_of(calls, "events", "PutEvents")  # the finding, then the execution's outcome
    assert len(puts) == 2
    for put in puts:
        assert put.ok and put.region == HUB_REGION  # a client in the bus's Region
        assert put.params["Entries"][0]["EventBusName"] == hub.bus_arn
    event, outcome = hub.events()
    assert (event["source"], event["detail-type"]) == ("outpost-mesh", "outpost-mesh Finding")
    assert outcome["detail-type"] == "outpost-mesh Execution Outcome"
    assert set(outcome["detail"]) == COMMON | {"outcome", "execution", "changes"}
    assert (outcome["detail"]["outcome"], outcome["detail"]["kind"]) == ("SUCCEEDED", "applied")
    assert outcome["detail"]["execution"] == execution.name
    made = outcome["detail"]["changes"]
    assert made["routes_to_create"] == len(lgw_routes_of(sb, vpc)) and made["routes_to_create"]
    detail = event["detail"]
    assert set(detail) == COMMON | {"count", "findings", "findings_left_out"}
    store = LedgerStore(sb.client("dynamodb"), member.table_name)
    [conflict] = store.open_findings(vpc)
    assert detail == {
        "schema_version": 1,
        "region": sb.region,  # the member's: the delivered event's own region is the bus's
        "vpc_id": vpc,
        "kind": "conflict",
        "summary": published.params["Subject"],
        "actor": execution.name,
        "report_only": False,
        "count": 1,
        "findings": [{"subject": conflict.subject, "message": conflict.message}],
        "findings_left_out": 0,
    }
    assert conflict.subject == f"{ids.route_tables['rt-a']}:10.7.11.0/24"

    # A third subnet, and the route it needs refused: the execution fails and rolls back.
    run_step_calls(conflict_scenario.steps[0], person, ids, conflict_scenario)
    sb.control.inject_fault("CreateRoute", "UnauthorizedOperation", times=1)
    calls = sweep(sb, member)

    [failed] = [e for e in member.executions() if e.arn != execution.arn]
    assert failed.status == "FAILED"
    [published] = calls_of(calls, "sns", "Publish")  # the failure; the conflict is not new
    [event] = hub.events()
    assert (event["source"], event["detail-type"]) == (
        "outpost-mesh",
        "outpost-mesh Execution Outcome",
    )
    detail = event["detail"]
    assert set(detail) == COMMON | {"outcome", "execution", "subject", "cause", "undone"}
    undone = re.search(r"rolled back the (\d+) change", published.params["Message"])
    assert undone is not None
    assert {k: v for k, v in detail.items() if k not in ("subject", "cause")} == {
        "schema_version": 1,
        "region": sb.region,
        "vpc_id": vpc,
        "kind": "error",
        "summary": published.params["Subject"],
        "actor": failed.name,
        "report_only": False,
        "outcome": "FAILED",
        "execution": failed.name,
        "undone": int(undone.group(1)),
    }
    # the refused route: subnet-c's CIDR in rt-a, or subnet-a's in subnet-c's table
    assert detail["subject"] in {
        f"{ids.route_tables['rt-a']}:10.7.12.0/24",
        f"{ids.route_tables['rt-c']}:10.7.7.0/24",
    }
    assert detail["cause"].startswith("AccessDeniedError: UnauthorizedOperation")
    assert detail["cause"] in published.params["Message"]
    assert hub.events() == []


def test_without_a_hub_bus_nothing_is_put(
    sb: Sandbox, hub: Hub, single: SandboxPipeline, tmp_path: Path
) -> None:
    ids = seeded(sb, tmp_path)
    calls = sweep(sb, single)
    assert [e.status for e in single.executions()] == ["SUCCEEDED"]
    assert len(calls_of(calls, "sns", "Publish")) == 1
    assert calls_of(calls, "events", "PutEvents") == []
    assert hub.events() == []
    assert open_findings(sb, single, ids.vpcs["app"]) == {
        ("conflict", f"{ids.route_tables['rt-a']}:10.7.11.0/24")
    }


@pytest.mark.parametrize("per_entry", [False, True], ids=["refused", "entry-failed"])
def test_a_failed_put_leaves_the_findings_unrecorded_and_the_next_plan_sends_them_again(
    sb: Sandbox, hub: Hub, member: SandboxPipeline, tmp_path: Path, per_entry: bool
) -> None:
    """PutEvents refused (an error), or answered with FailedEntryCount 1 (no error): the
    notice counts as not sent although SNS took it; the next plan sends it to both again."""
    ids = seeded(sb, tmp_path)
    vpc = ids.vpcs["app"]
    code = "InternalFailure" if per_entry else "InternalException"
    sb.control.inject_fault("PutEvents", code, service="events", per_entry=per_entry)
    calls = sweep(sb, member)

    put, success = calls_of(calls, "events", "PutEvents")  # the finding, then the outcome
    assert success.ok  # the outcome: a later call, not refused
    assert put.error_code == code
    assert len(calls_of(calls, "sns", "Publish")) == 1  # SNS took it
    assert [e["detail-type"] for e in hub.events()] == ["outpost-mesh Execution Outcome"]
    assert open_findings(sb, member, vpc) == set()  # not recorded: not sent

    calls = sweep(sb, member)  # the sweep sees findings the ledger does not hold
    assert len(calls_of(calls, "sns", "Publish")) == 1  # SNS's subscribers get it twice
    [event] = hub.events()
    assert event["detail-type"] == "outpost-mesh Finding"
    subject = f"{ids.route_tables['rt-a']}:10.7.11.0/24"
    assert [f["subject"] for f in event["detail"]["findings"]] == [subject]
    assert open_findings(sb, member, vpc) == {("conflict", subject)}
    assert [e.status for e in member.executions()] == ["SUCCEEDED", "SUCCEEDED"]


def test_a_per_entry_fault_is_answered_as_eventbridge_reports_a_failed_entry(
    sb: Sandbox, hub: Hub
) -> None:
    events = sb.client("events", region_name=HUB_REGION)
    entry = {
        "EventBusName": hub.bus_arn,
        "Source": "outpost-mesh",
        "DetailType": "outpost-mesh Notice",
        "Detail": "{}",
    }
    sb.control.inject_fault("PutEvents", "ThrottlingException", service="events", per_entry=True)
    answer = events.put_events(Entries=[entry, entry])
    assert answer["FailedEntryCount"] == 2
    assert [e["ErrorCode"] for e in answer["Entries"]] == ["ThrottlingException"] * 2
    assert hub.events() == []
    assert events.put_events(Entries=[entry])["FailedEntryCount"] == 0  # only once
    assert [e["detail-type"] for e in hub.events()] == ["outpost-mesh Notice"]
