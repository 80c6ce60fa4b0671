"""The alarms, the dashboard and the notifications against what the code really emits.

A reconcile runs in the sandbox through the real Lambda handlers, called in-process in the
workflow's order (claim -> plan -> associate -> check -> apply -> disassociate -> verify ->
release), then a second plan, a failed execution's rollback, a trigger and a sweep. Their stdout
is captured: EMF blobs (``_aws.CloudWatchMetrics``) give the namespace, metric names and
dimensions the alarms and the dashboard must use; JSON log lines must carry the VPC id and a
correlation id; the SNS topic's messages (through an SQS subscription) must be actionable and
filterable. Alarms are read from template.yaml with a CloudFormation-tag-aware loader.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import sys
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from outpost_mesh import lambda_kit
from outpost_mesh.ledger import create_table
from outpost_mesh.service import ReconcileService
from outpost_mesh.settings import Settings
from outpost_mesh.task_models import PlanInput
from outpost_mesh.workflow import tasks
from outpost_mesh_sandbox.aws.server import Sandbox
from outpost_mesh_sandbox.scenario import load_scenario
from outpost_mesh_sandbox.scenario.ids import IdMap
from outpost_mesh_sandbox.scenario.seed import seed, seed_and_run_steps
from outpost_mesh_sandbox.stack.lambda_runtime import (
    FakeLambdaContext,
    SandboxSession,
    load_handler_module,
)
from outpost_mesh_sandbox.stack.template import StackTemplate, load_template

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"
RUNBOOK = ROOT / "docs" / "runbook.md"
EVENTS = ROOT / "events"
ALARM = "AWS::CloudWatch::Alarm"
# The metrics issue 4 asks for (Powertools EMF, one namespace).
REQUIRED_METRICS = {
    "RoutesCreated",
    "RoutesDeleted",
    "AssociationsCreated",
    "Conflicts",
    "BlockedSubnets",
    "UnreachablePairs",
    "Rollbacks",
    "ReconcileSeconds",
    "RouteQuotaHeadroom",
    "DeletionsHeld",  # issue 12: deletion safety holds, never blocks
    # issue 13: the sweep's fleet diff
    "SweepVpcsSeen",
    "SweepVpcsConverged",
    "SweepExecutionsStarted",
}
STATE_MACHINE_METRICS = {"ExecutionsFailed", "ExecutionsTimedOut", "ExecutionThrottled"}
SAMPLE_VPC = "vpc-0a1b2c3d4e5f60718"
SAMPLE_SUBNET = "subnet-0b1c2d3e4f5a60718"
SAMPLE_OUTPOST = "arn:aws:outposts:us-east-1:123456789012:outpost/op-0f9e8d7c6b5a40312"
SAMPLE_LGW = "lgw-0f9e8d7c6b5a40313"


# -- the template -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    return load_template(TEMPLATE).doc


def alarms(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {k: v["Properties"] for k, v in doc["Resources"].items() if v.get("Type") == ALARM}


@dataclass(frozen=True)
class AlarmMetric:
    namespace: str
    name: str
    dimensions: dict[str, Any]
    period: Any


def alarm_metrics(props: dict[str, Any]) -> list[AlarmMetric]:
    """The metrics an alarm reads: its own, or those of its metric math."""
    if "MetricName" in props:
        return [
            AlarmMetric(
                props["Namespace"],
                props["MetricName"],
                {d["Name"]: d["Value"] for d in props.get("Dimensions", [])},
                props["Period"],
            )
        ]
    found = []
    for query in props["Metrics"]:
        if "MetricStat" in query:
            metric = query["MetricStat"]["Metric"]
            found.append(
                AlarmMetric(
                    metric["Namespace"],
                    metric["MetricName"],
                    {d["Name"]: d["Value"] for d in metric.get("Dimensions", [])},
                    query["MetricStat"]["Period"],
                )
            )
    return found


def parameter_default(doc: dict[str, Any], value: Any) -> Any:
    assert isinstance(value, dict) and set(value) == {"Ref"}, f"not a parameter: {value!r}"
    return doc["Parameters"][value["Ref"]]["Default"]


# -- the run: a reconcile through the handlers, in the sandbox ------------------------------------
@dataclass
class Call:
    function: str
    result: Any
    emf: list[dict[str, Any]]
    logs: list[dict[str, Any]]


@dataclass
class Run:
    ids: IdMap
    vpc_id: str
    calls: list[Call] = field(default_factory=list)
    notifications: list[dict[str, Any]] = field(default_factory=list)

    @property
    def emf(self) -> list[dict[str, Any]]:
        return [blob for call in self.calls for blob in call.emf]

    def emitted(self) -> dict[tuple[str, str, tuple[tuple[str, str], ...]], list[float]]:
        """(namespace, metric, dimensions) -> values, from every EMF blob."""
        found: dict[tuple[str, str, tuple[tuple[str, str], ...]], list[float]] = {}
        for blob in self.emf:
            for directive in blob["_aws"]["CloudWatchMetrics"]:
                for dims in directive["Dimensions"]:
                    dimensions = tuple(sorted((d, str(blob[d])) for d in dims))
                    for metric in directive["Metrics"]:
                        value = blob[metric["Name"]]
                        values = value if isinstance(value, list) else [value]
                        key = (directive["Namespace"], metric["Name"], dimensions)
                        found.setdefault(key, []).extend(values)
        return found

    def total(self, metric: str) -> float:
        return sum(
            v for (_, name, _), vals in self.emitted().items() if name == metric for v in vals
        )


class _CurrentStdout(io.TextIOBase):
    """A stream that writes wherever sys.stdout points now (so redirect_stdout catches logs)."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


def _seeded(sb: Sandbox, name: str) -> IdMap:
    scenario = load_scenario(ROOT / "scenarios" / f"{name}.yaml")
    return seed_and_run_steps(scenario, sb.client("ec2", caller="scenario"), sb.control)


def _topic_with_inbox(sb: Sandbox, topic_name: str, queue_name: str) -> tuple[str, str]:
    """An SNS topic and an SQS queue subscribed to it (to read what was published): their
    topic ARN and queue URL."""
    sns, sqs = sb.client("sns"), sb.client("sqs")
    topic = sns.create_topic(Name=topic_name)["TopicArn"]
    queue_url = sqs.create_queue(QueueName=queue_name)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    return topic, queue_url


def _sample(name: str, replace: dict[str, str]) -> Any:
    text = (EVENTS / name).read_text(encoding="utf-8")
    for old, new in replace.items():
        text = text.replace(old, new)
    return json.loads(text)


@pytest.fixture(scope="module")
def run(sandbox: Sandbox) -> Iterator[Run]:
    """coip-rack: rack-a and rack-b meshed (2 associations, 2 routes), rack-c (CoIP) left out."""
    sb = sandbox
    sb.control.reset()
    ids = _seeded(sb, "coip-rack")
    vpc = ids.vpc_id("retail")
    account, region = sb.account_id, sb.region
    table = "alarms-ledger"
    create_table(sb.client("dynamodb"), table)
    sqs = sb.client("sqs")
    topic, queue_url = _topic_with_inbox(sb, "alarms-notifications", "alarms-inbox")
    # The functions' environment exactly as the template gives it (Globals + their own).
    tpl = StackTemplate(TEMPLATE, load_template(TEMPLATE).doc, account=account, region=region)
    tpl.refs.update(LedgerTable=table, NotificationTopic=topic)
    functions = tpl.functions()
    # The trigger and the sweep start executions: give them a state machine of that name.
    machine = tpl.resolve(functions["TriggerFunction"].environment["STATE_MACHINE_ARN"], "arn")
    sb.client("stepfunctions").create_state_machine(
        name=machine.rsplit(":", 1)[-1],
        definition=json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}),
        roleArn=f"arn:aws:iam::{account}:role/states",
    )
    result = Run(ids, vpc)

    with pytest.MonkeyPatch.context() as mp, warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="No application metrics to publish")
        env = functions["PlanFunction"].environment
        mp.setattr(lambda_kit.metrics, "namespace", env["POWERTOOLS_METRICS_NAMESPACE"])
        mp.setattr(lambda_kit.metrics, "service", env["POWERTOOLS_SERVICE_NAME"])
        handler = lambda_kit.logger.registered_handler
        mp.setattr(handler, "stream", _CurrentStdout())

        def invoke(logical_id: str, event: Any) -> Any:
            fn = functions[logical_id]
            module = load_handler_module((ROOT / fn.code_uri).resolve(), fn.handler)
            services = ReconcileService(
                Settings.from_env(fn.environment), SandboxSession(sb.endpoint_url, region)
            )
            mp.setitem(vars(module), "services", lambda: services)
            context = FakeLambdaContext(
                function_name=f"outpost-mesh-{logical_id}",
                invoked_function_arn=f"arn:aws:lambda:{region}:{account}:function:{logical_id}",
            )
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                returned = module.handler(event, context)
            lines = [json.loads(x) for x in out.getvalue().splitlines() if x.startswith("{")]
            result.calls.append(
                Call(
                    logical_id,
                    returned,
                    [x for x in lines if "_aws" in x],
                    [x for x in lines if "level" in x],
                )
            )
            return returned

        name = f"{vpc}-alarms-test"
        arn = f"arn:aws:states:{region}:{account}:execution:outpost-mesh-reconcile:{name}"
        started = datetime.now(UTC).isoformat()
        task = {"vpc_id": vpc, "execution_name": name}
        lease = invoke("ClaimFunction", {**task, "execution_arn": arn, "trigger": "manual"})
        plan = invoke("PlanFunction", task)
        association = invoke(
            "AssociateFunction", {**task, "associations": plan["associations_to_create"]}
        )
        for _ in range(30):  # the sandbox moves an association on as it is described
            if not association.get("pending"):
                break
            association = invoke(
                "CheckAssociationFunction",
                {
                    **task,
                    "association_ids": association["association_ids"],
                    "checks": association.get("checks", 0),
                    "max_checks": 60,
                },
            )
        for batch in [b for lane in plan["route_lanes"] for b in lane]:
            invoke("ApplyRoutesFunction", {"batch": batch, "execution_name": name})
        invoke("DisassociateFunction", {**task, "associations": plan["associations_to_delete"]})
        invoke("VerifyFunction", task)
        invoke(
            "ReleaseFunction",
            {"vpc_id": vpc, "holder": arn, "seen": lease["seen"], "started": started},
        )
        # The next sweep's plan: the CoIP finding stands, it is not notified again.
        invoke("PlanFunction", {"vpc_id": vpc, "execution_name": f"sweep-{vpc}-next"})
        # A later execution fails: rack-a rejects a route (no intra-VPC update).
        failed = f"{vpc}-failed"
        rollback = _sample("rollback.json", {SAMPLE_VPC: vpc, SAMPLE_LGW: ""})
        rollback["error"]["Cause"] = rollback["error"]["Cause"].replace(
            "[subject=]", f"[subject={ids.outpost('rack-a').local_gateway_id}]"
        )
        invoke(
            "RollbackFunction",
            {
                **rollback,
                "execution_name": failed,
                "execution_arn": arn.replace(name, failed),
                "lease": None,
            },
        )
        b = ids.subnet_id("subnet-b")
        event = _sample(
            "trigger_create_subnet_legacy.json",
            {SAMPLE_VPC: vpc, SAMPLE_SUBNET: b, SAMPLE_OUTPOST: ids.outpost("rack-b").outpost_arn},
        )
        invoke("TriggerFunction", event)
        invoke("SweepFunction", _sample("sweep_scheduled.json", {}))

    for _ in range(5):
        got = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0
        ).get("Messages", [])
        result.notifications += [json.loads(m["Body"]) for m in got]
        if not got:
            break
    yield result


# -- metrics ------------------------------------------------------------------------------------
def test_the_reconcile_ran_and_emitted_every_metric_once_per_task(run: Run) -> None:
    assert run.total("RoutesCreated") == 2
    assert run.total("AssociationsCreated") == 2
    assert run.total("RoutesDeleted") == 0
    assert run.total("UnreachablePairs") == 0
    assert run.total("Rollbacks") == 1
    blocked = [v for (_, n, _), vs in run.emitted().items() if n == "BlockedSubnets" for v in vs]
    # subnet-c (CoIP rack), in both plans; then the sweep, which emits for every VPC on every
    # run: subnet-c and subnet-b (its rack quarantined by the rollback of a rack-not-updated)
    assert blocked == [1, 1, 2]
    headroom = [
        v for (_, n, _), vs in run.emitted().items() if n == "RouteQuotaHeadroom" for v in vs
    ]
    assert headroom[0] == 49  # quota 50 (RoutesPerTableQuota), rt-a gets 1 LGW route
    held = [v for (_, n, _), vs in run.emitted().items() if n == "DeletionsHeld" for v in vs]
    assert held == [0, 0]  # one per plan, nothing held
    assert {name for (_, name, _) in run.emitted()} == REQUIRED_METRICS


def test_every_metric_is_in_one_namespace_with_bounded_dimensions(
    run: Run, doc: dict[str, Any]
) -> None:
    env = doc["Globals"]["Function"]["Environment"]["Variables"]
    for blob in run.emf:
        for directive in blob["_aws"]["CloudWatchMetrics"]:
            assert directive["Namespace"] == env["POWERTOOLS_METRICS_NAMESPACE"] == "OutpostMesh"
            # One dimension, the service: a fixed number of series whatever the number of VPCs.
            assert directive["Dimensions"] == [["service"]]
        assert blob["service"] == env["POWERTOOLS_SERVICE_NAME"]
        assert "vpc_id" not in blob
    units = {
        m["Name"]: m["Unit"]
        for blob in run.emf
        for d in blob["_aws"]["CloudWatchMetrics"]
        for m in d["Metrics"]
    }
    assert units["ReconcileSeconds"] == "Seconds"
    assert all(unit == "Count" for name, unit in units.items() if name != "ReconcileSeconds")


def test_every_custom_metric_alarm_matches_what_the_code_emits(
    run: Run, doc: dict[str, Any]
) -> None:
    emitted = {(ns, name, dims) for ns, name, dims in run.emitted()}
    custom = 0
    for logical_id, props in alarms(doc).items():
        for metric in alarm_metrics(props):
            if metric.namespace.startswith("AWS/"):
                continue
            custom += 1
            dims = tuple(sorted((k, str(v)) for k, v in metric.dimensions.items()))
            assert (metric.namespace, metric.name, dims) in emitted, (
                f"{logical_id}: {metric.namespace}/{metric.name} {dims} is never emitted; "
                f"emitted: {sorted(emitted)}"
            )
    assert custom >= 4


def test_the_issue_s_metric_alarms_have_the_right_sense(doc: dict[str, Any]) -> None:
    by_metric = {
        m.name: (lid, p)
        for lid, p in alarms(doc).items()
        for m in alarm_metrics(p)
        if m.namespace == "OutpostMesh"
    }
    _, unreachable = by_metric["UnreachablePairs"]
    assert unreachable["ComparisonOperator"] == "GreaterThanThreshold"
    assert parameter_default(doc, unreachable["Threshold"]) == 0
    periods = parameter_default(doc, unreachable["EvaluationPeriods"])
    assert periods >= 2, "sustained: more than one period in a row"
    assert unreachable["DatapointsToAlarm"] == unreachable["EvaluationPeriods"]
    _, conflicts = by_metric["Conflicts"]
    assert conflicts["ComparisonOperator"] == "GreaterThanThreshold"
    assert parameter_default(doc, conflicts["Threshold"]) == 0
    _, headroom = by_metric["RouteQuotaHeadroom"]
    assert headroom["ComparisonOperator"] == "LessThanThreshold"
    assert headroom["Statistic"] == "Minimum"
    assert parameter_default(doc, headroom["Threshold"]) > 0
    quota = doc["Parameters"]["RoutesPerTableQuota"]
    assert (quota["Default"], quota["MaxValue"]) == (50, 1000)
    assert doc["Globals"]["Function"]["Environment"]["Variables"]["ROUTES_PER_TABLE"] == {
        "Ref": "RoutesPerTableQuota"
    }


def test_aws_metric_alarms_watch_this_stack_s_resources(doc: dict[str, Any]) -> None:
    resources = doc["Resources"]
    functions = {k for k, v in resources.items() if v["Type"] == "AWS::Serverless::Function"}
    queues = {k for k, v in resources.items() if v["Type"] == "AWS::SQS::Queue"}
    watched: dict[str, set[str]] = {}
    machine_metrics = set()
    for logical_id, props in alarms(doc).items():
        for metric in alarm_metrics(props):
            if metric.namespace == "AWS/States":
                assert metric.dimensions == {"StateMachineArn": {"Ref": "ReconcileStateMachine"}}
                machine_metrics.add(metric.name)
            elif metric.namespace == "AWS/SQS":
                assert metric.name == "ApproximateNumberOfMessagesVisible", logical_id
                (queue,) = metric.dimensions["QueueName"]["Fn::GetAtt"][:1]
                watched.setdefault("queues", set()).add(queue)
            elif metric.namespace == "AWS/Lambda":
                function = metric.dimensions["FunctionName"]["Ref"]
                assert function in functions, logical_id
                watched.setdefault(metric.name, set()).add(function)
    assert machine_metrics >= STATE_MACHINE_METRICS
    assert watched["queues"] == queues, "every dead-letter queue has a not-empty alarm"
    assert watched["Errors"] == functions, "every function's errors are alarmed"
    assert watched["Throttles"] == functions, "every function's throttles are alarmed"


# -- every alarm: an action, parameters, a runbook section ----------------------------------------
def _slug(heading: str) -> str:
    """GitHub's anchor for a Markdown heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def runbook_anchors() -> set[str]:
    text = RUNBOOK.read_text(encoding="utf-8")
    return {_slug(m.group(1)) for m in re.finditer(r"^#{1,6} +(.+?) *$", text, flags=re.M)}


def test_every_alarm_notifies_the_topic_and_names_its_runbook_section(
    doc: dict[str, Any],
) -> None:
    anchors = runbook_anchors()
    found = alarms(doc)
    assert len(found) >= 9 + 11
    for logical_id, props in found.items():
        assert {"Ref": "NotificationTopic"} in props["AlarmActions"], logical_id
        link = f"docs/runbook.md#{logical_id.lower()}"
        assert link in props["AlarmDescription"], logical_id
        assert logical_id.lower() in anchors, f"docs/runbook.md has no section {logical_id}"
        # thresholds and periods come from parameters (count alarms: "1 or more" is the sense)
        for metric in alarm_metrics(props):
            parameter_default(doc, metric.period)
        if props["Threshold"] != 1:
            parameter_default(doc, props["Threshold"])


def test_every_runbook_alarm_section_says_how_to_confirm_fix_rerun_and_accept(
    doc: dict[str, Any],
) -> None:
    text = RUNBOOK.read_text(encoding="utf-8")
    sections = re.split(r"^## +", text, flags=re.M)
    by_id = {s.split("\n", 1)[0].strip(): s for s in sections}
    for logical_id in alarms(doc):
        body = by_id[logical_id]
        for part in ("Meaning", "Confirm", "Fix", "Re-run", "Accept"):
            assert f"**{part}" in body, f"{logical_id}: no {part}"
        assert "outpost-mesh " in body, f"{logical_id}: no CLI command"
        assert "fields @timestamp" in body or "#logs-insights" in body, logical_id


# -- the dashboard --------------------------------------------------------------------------------
def _dashboard(doc: dict[str, Any]) -> dict[str, Any]:
    ((_, dashboard),) = (
        (k, v) for k, v in doc["Resources"].items() if v["Type"] == "AWS::CloudWatch::Dashboard"
    )
    body = dashboard["Properties"]["DashboardBody"]["Fn::Sub"]
    assert isinstance(body, str)
    names = set(doc["Resources"]) | set(doc["Parameters"])

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name.startswith("AWS::"):
            return "x"
        base = name.split(".", 1)[0]
        assert base in names, f"dashboard refers to unknown {name}"
        if base in doc["Parameters"]:
            return str(doc["Parameters"][base]["Default"])
        return f"{name}-value"

    rendered = re.sub(r"\$\{([^}!]+)\}", value, body)
    parsed: dict[str, Any] = json.loads(rendered)
    return parsed


def test_dashboard_shows_what_the_issue_lists_with_emitted_metrics(
    run: Run, doc: dict[str, Any]
) -> None:
    dashboard = _dashboard(doc)
    emitted = {(ns, name, dims) for ns, name, dims in run.emitted()}
    shown: set[str] = set()
    for widget in dashboard["widgets"]:
        for row in widget.get("properties", {}).get("metrics", []):
            namespace, name, *rest = [x for x in row if not isinstance(x, dict)]
            shown.add(name)
            if namespace == "OutpostMesh":
                dims = tuple(sorted(zip(rest[::2], rest[1::2], strict=True)))
                assert (namespace, name, dims) in emitted, row
    # executions and outcomes, durations, routes changed, findings, quota headroom, DLQ depth,
    # function errors
    assert {"ExecutionsStarted", "ExecutionsSucceeded", "ExecutionsFailed"} <= shown
    assert {"ReconcileSeconds", "ExecutionTime"} <= shown
    assert {"RoutesCreated", "RoutesDeleted", "AssociationsCreated"} <= shown
    assert {"Conflicts", "BlockedSubnets", "UnreachablePairs"} <= shown
    assert "RouteQuotaHeadroom" in shown
    assert "ApproximateNumberOfMessagesVisible" in shown
    assert {"Errors", "Throttles"} <= shown
    assert {"SweepVpcsSeen", "SweepVpcsConverged", "SweepExecutionsStarted"} <= shown  # issue 13
    alarm_widget = next(w for w in dashboard["widgets"] if w["type"] == "alarm")
    assert len(alarm_widget["properties"]["alarms"]) == len(alarms(doc))


# -- logs ----------------------------------------------------------------------------------------
def test_every_log_line_carries_the_vpc_and_a_correlation_id(run: Run) -> None:
    for call in run.calls:
        assert call.logs, f"{call.function} logged nothing"
        for line in call.logs:
            assert line.get("vpc_id"), (call.function, line)
            assert line.get("correlation_id"), (call.function, line)
            if call.function not in ("TriggerFunction", "SweepFunction"):
                assert run.vpc_id in str(line["vpc_id"]), (call.function, line)
    trigger = next(c for c in run.calls if c.function == "TriggerFunction")
    event_id = "7c2e9f4a-1b3d-4e6f-8a9b-0c1d2e3f4a5b"  # the sample's EventBridge id
    assert {line["correlation_id"] for line in trigger.logs} == {event_id}
    claim = next(c for c in run.calls if c.function == "ClaimFunction")
    assert claim.logs[0]["correlation_id"] == f"{run.vpc_id}-alarms-test"


def test_a_reconcile_logs_its_plan_and_every_change_in_words(run: Run) -> None:
    ids = run.ids
    messages = [line["message"] for call in run.calls for line in call.logs]
    plan = next(m for m in messages if m.startswith("plan: "))
    assert "2 association(s) to create" in plan
    assert "2 route(s) to create" in plan
    rt_a, rt_b = ids.route_table_id("rt-a"), ids.route_table_id("rt-b")
    lgw_a = ids.outpost("rack-a").local_gateway_id
    lgw_b = ids.outpost("rack-b").local_gateway_id
    assert f"created route {rt_a} 10.50.2.0/24 -> {lgw_a}" in messages
    assert f"created route {rt_b} 10.50.1.0/24 -> {lgw_b}" in messages
    created = [m for m in messages if m.startswith("created association ")]
    assert len(created) == 2
    plan_line = next(
        line for c in run.calls for line in c.logs if line["message"].startswith("plan: ")
    )
    # the plan line names each route batch; each planned route change has its own line
    assert any(rt_a in change for change in plan_line["changes"])
    assert f"planned: create route {rt_a} 10.50.2.0/24 -> {lgw_a}" in messages
    change_lines = [line for c in run.calls for line in c.logs if line.get("change")]
    assert {line["change"] for line in change_lines} >= {"route-created", "association-created"}


# -- notifications -------------------------------------------------------------------------------
def test_a_new_finding_is_notified_once_with_what_where_why_and_next(run: Run) -> None:
    coip = [n for n in run.notifications if n["MessageAttributes"]["kind"]["Value"] == "coip-mode"]
    assert len(coip) == 1, "notified once, not again by the next plan"
    (notice,) = coip
    rack_c = run.ids.outpost("rack-c").outpost_arn
    assert notice["MessageAttributes"]["vpc_id"]["Value"] == run.vpc_id
    assert notice["Subject"] == f"outpost-mesh: 1 new coip-mode finding(s) in {run.vpc_id}"
    body = notice["Message"]
    for part in ("WHAT HAPPENED", "WHERE", "WHY", "WHAT TO DO NEXT"):
        assert part in body
    assert f"Outpost:      {rack_c}" in body
    assert "direct-vpc-routing" in body
    assert "outpost-mesh:opt-out" in body
    assert f"outpost-mesh apply --vpc {run.vpc_id}" in body
    assert "docs/runbook.md#blockedsubnetsalarm" in body


def test_a_failed_execution_is_notified_with_the_rack_and_what_to_do(run: Run) -> None:
    failures = [
        n
        for n in run.notifications
        if n["MessageAttributes"]["kind"]["Value"] == "rack-not-updated"
    ]
    assert len(failures) == 1
    (notice,) = failures
    rack_a = run.ids.outpost("rack-a").outpost_arn
    assert notice["MessageAttributes"]["vpc_id"]["Value"] == run.vpc_id
    assert notice["Subject"].startswith(f"outpost-mesh: reconcile of {run.vpc_id} failed")
    assert len(notice["Subject"]) <= 100
    body = notice["Message"]
    assert f"Outpost:      {rack_a}" in body
    assert "rolled back the 0 change(s)" in body
    assert "Contact AWS Support" in body or "contact AWS Support" in body
    assert f"outpost-mesh release --outpost {rack_a}" in body
    assert "docs/runbook.md#reconcileexecutionsfailedalarm" in body


def test_a_finding_is_notified_when_new_not_while_it_stands_and_again_when_back(
    sb: Sandbox,
) -> None:
    """shared-main-table: subnet-a shares the main table (finding), then gets rt-a (resolved),
    then goes back to the main table (the finding is new again)."""
    scenario = load_scenario(ROOT / "scenarios" / "shared-main-table.yaml")
    person = sb.client("ec2", caller="scenario")
    ids = seed(scenario, person, sb.control)
    vpc, subnet_a = ids.vpc_id("shop"), ids.subnet_id("subnet-a")
    create_table(sb.client("dynamodb"), "lifecycle-ledger")
    sqs = sb.client("sqs")
    topic, queue_url = _topic_with_inbox(sb, "lifecycle", "lifecycle-inbox")
    svc = ReconcileService(
        Settings(table="lifecycle-ledger", topic_arn=topic),
        SandboxSession(sb.endpoint_url, sb.region),
    )

    def plan_and_notices(execution: str) -> list[dict[str, Any]]:
        tasks.plan(svc, PlanInput(vpc_id=vpc, execution_name=execution))
        got = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
        for message in got:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        return [json.loads(m["Body"]) for m in got]

    first = plan_and_notices("first")
    assert [n["MessageAttributes"]["kind"]["Value"] for n in first] == ["shared-route-table"]
    assert subnet_a in first[0]["Message"]
    assert plan_and_notices("sweep-1") == []  # standing: not again
    assert [f.subject for f in svc.store.open_findings(vpc)] == [subnet_a]

    association = person.associate_route_table(
        SubnetId=subnet_a, RouteTableId=ids.route_table_id("rt-a")
    )["AssociationId"]
    assert plan_and_notices("sweep-2") == []
    assert svc.store.open_findings(vpc) == []  # resolved
    assert [f.subject for f in svc.store.findings(vpc)] == [subnet_a]  # kept, as resolved

    person.disassociate_route_table(AssociationId=association)
    again = plan_and_notices("sweep-3")
    assert [n["MessageAttributes"]["kind"]["Value"] for n in again] == ["shared-route-table"]
