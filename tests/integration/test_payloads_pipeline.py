"""Payloads stay bounded whatever the VPC's size (rule 10), end to end on the sandbox, which
refuses what AWS refuses (tests/integration/test_sandbox_limits.py): a conflict-heavy VPC meshes
with every conflict recorded and notified; the ledger's items fit DynamoDB's 400 KB."""

from __future__ import annotations

import json
from pathlib import Path

from outpost_mesh.ledger import LedgerStore
from outpost_mesh.limits import SNS_MESSAGE_BYTES, STATE_BYTES, json_size
from outpost_mesh.model import Finding, FindingKind
from outpost_mesh.notices import Notifier, findings_notice
from outpost_mesh_sandbox.aws.server import Sandbox
from outpost_mesh_sandbox.demo import run_demo

RACK_A = 36  # a-0's table is clean; a-1..a-35 route every rack-b CIDR to an appliance
RACK_B = 35


def _conflict_heavy_vpc() -> str:
    """2 racks: 35 tables on rack-a already send all 35 rack-b CIDRs elsewhere (1,225
    conflicts, more than a Plan result of them all fits in 256 KiB); rack-b's subnets share one
    table; the scheduled sweep reconciles it."""
    b_cidrs = [f"10.7.{100 + i}.0/24" for i in range(RACK_B)]
    lines = [
        "vpcs: [{name: app, cidr: 10.7.0.0/16}]",
        "outposts: [{name: rack-a}, {name: rack-b}]",
        "quotas: {routes_per_table: 100}",
        "route_tables:",
        "  - {name: rt-b, vpc: app}",
        "  - {name: rt-a0, vpc: app}",
    ]
    for i in range(1, RACK_A):
        routes = ", ".join(f"{{destination: {c}, target: eni}}" for c in b_cidrs)
        lines.append(f"  - {{name: rt-a{i}, vpc: app, routes: [{routes}]}}")
    lines.append("subnets:")
    for i in range(RACK_A):
        lines.append(
            f"  - {{name: a-{i}, vpc: app, cidr: 10.7.{i}.0/24, outpost: rack-a, "
            f"route_table: rt-a{i}}}"
        )
    for i, cidr in enumerate(b_cidrs):
        lines.append(
            f"  - {{name: b-{i}, vpc: app, cidr: {cidr}, outpost: rack-b, route_table: rt-b}}"
        )
    lines += ["steps:", "  - sweep: {}"]
    return "\n".join(lines) + "\n"


def test_a_conflict_heavy_vpc_succeeds_with_every_conflict_recorded_and_notified(
    sb: Sandbox, tmp_path: Path
) -> None:
    path = tmp_path / "conflict-heavy.yaml"
    path.write_text(_conflict_heavy_vpc(), encoding="utf-8")
    run = run_demo(path, sandbox=sb)

    executions = [e for step in run.steps for e in step.executions]
    assert executions and {e.status for e in executions} == {"SUCCEEDED"}
    conflicts = [f for f in run.findings if f["kind"] == "conflict"]
    assert len(conflicts) == (RACK_A - 1) * RACK_B  # all recorded whole in the ledger
    # With AWS's ids, a Plan result listing them all would have ended the execution.
    dynamodb = sb.client("dynamodb")
    [table] = [t for t in dynamodb.list_tables()["TableNames"] if t.endswith("-LedgerTable")]
    recorded = LedgerStore(dynamodb, table).findings(run.ids.vpcs["app"])
    assert json_size([f.to_dict() for f in recorded]) > STATE_BYTES
    sfn = sb.client("stepfunctions")
    results = [
        json.loads(event["taskSucceededEventDetails"]["output"])
        for execution in executions
        for event in sfn.get_execution_history(executionArn=execution.arn, maxResults=1000)[
            "events"
        ]
        if "taskSucceededEventDetails" in event
    ]
    [plan_result] = [r for r in results if "findings_left_out" in r.get("Payload", {})]
    assert json_size(plan_result) < STATE_BYTES // 8
    assert plan_result["Payload"]["findings_left_out"] == {"conflict": len(conflicts) - 10}

    reachable = {(p["from"], p["to"]): p["reachable"] for p in run.report["reachability"]}
    assert reachable[("a-0", "b-0")] and reachable[("b-0", "a-0")]  # the rest is meshed
    assert not reachable[("a-1", "b-0")]

    published = [c for c in sb.control.calls() if c.service == "sns" and c.action == "Publish"]
    assert published and all(c.ok for c in published)
    [notice] = [c.params["Message"] for c in published if "conflict" in c.params["Subject"]]
    assert len(notice.encode("utf-8")) < SNS_MESSAGE_BYTES
    left_out = len(conflicts) - 100
    assert f"and {left_out:,} more: outpost-mesh status --vpc " in notice
    # The plan's on-premises impact goes with it: a-0's table and rt-b get their first LGW route.
    assert "This plan starts advertising 36 subnet prefix(es) to the customer's network" in notice
    assert (
        "    + 10.7.0.0/24 (advertised)" in notice and "    + 10.7.134.0/24 (advertised)" in notice
    )
    assert "    + 10.7.1.0/24" not in notice  # a-1's table gets no LGW route (all conflicts)


def test_the_notifier_publishes_12500_findings_in_one_message_sns_takes(sb: Sandbox) -> None:
    sns = sb.client("sns")
    topic = sns.create_topic(Name="notices")["TopicArn"]
    findings = [(f"rtb-{i:017x}:10.7.0.0/24", "x" * 1_000) for i in range(12_500)]
    notice = findings_notice("vpc-0123456789abcdef0", FindingKind.CONFLICT, findings, "e-1")
    Notifier(sns, topic).publish(notice)  # the sandbox refuses what SNS refuses
    [call] = [c for c in sb.control.calls() if c.service == "sns" and c.action == "Publish"]
    assert call.ok and "and 12,400 more: outpost-mesh status --vpc" in call.params["Message"]


def test_ledger_items_fit_dynamodb_whatever_their_findings_and_batches(
    store: LedgerStore,
) -> None:
    vpc = "vpc-0123456789abcdef0"
    long_subject = "rtb-0123456789abcdef0:" + ",".join(
        f"lgw-vpc-assoc-{i:017x}" for i in range(60)
    )  # past a sort key's 1,024 bytes
    huge = Finding(FindingKind.ERROR, long_subject, "cause: " + "x" * 1_000_000)
    other = Finding(FindingKind.ERROR, long_subject + "-2", "another")
    store.record_findings(vpc, (huge, other), "execution-1")  # the sandbox refuses > 400 KB
    found = {f.subject: f for f in store.findings(vpc)}
    assert set(found) == {huge.subject, other.subject}  # whole subjects, distinct keys
    assert found[huge.subject].message.startswith("cause: xxx")
    assert len(found[huge.subject].message.encode("utf-8")) <= 16_384

    sources = [f"subnet-{i:017x}" for i in range(750)]  # 10x a table breaking 400 KB inline
    batch = {
        "creates": [
            {
                "route_table_id": "rtb-0123456789abcdef0",
                "destination": f"10.{i // 256}.{i % 256}.0/24",
                "local_gateway_id": "lgw-0123456789abcdef0",
                "destination_subnet_id": f"subnet-{i:017x}",
                "source_subnet_ids": sources,
                "reason": "mesh",
            }
            for i in range(100)
        ],
        "deletes": [],
    }
    assert len(json.dumps(batch)) > 10 * 400 * 1024 / 2
    [key] = store.stash_plan_batches("execution-1", [batch])
    assert store.stashed_plan_batch("execution-1", key) == batch
