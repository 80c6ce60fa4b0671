"""Rule 9 through the pipeline: one route table, one writer, in order.

Each scenario runs the whole pipeline on the sandbox with EC2 throttled at AWS's rates; the
functions pace on the throttle's AWS clock (the sandbox pipeline gives it to them), so minutes of
AWS time take seconds. Outcomes are read from AWS state:
the executions, the findings, the routes, what EC2 answered and, for who wrote a table when, the
executions' histories.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from outpost_mesh_sandbox.aws.identities import PIPELINE_ACCESS_KEY
from outpost_mesh_sandbox.aws.server import Sandbox
from outpost_mesh_sandbox.demo import DemoRun, run_demo
from outpost_mesh_sandbox.stack.pipeline import PipelineOptions

# EC2's mutating bucket and its refill per second (docs/aws-facts.md, Quotas and throttling)
MUTATING_FLOOR = (50, 5.0)


def subnet(name: str, n: int, outpost: str, table: str) -> str:
    return (
        f"  - {{name: {name}, vpc: app, cidr: 10.0.{n}.0/24, outpost: {outpost}, "
        f"route_table: {table}}}"
    )


def scenario(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "lanes.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def batch_windows(sb: Sandbox, run: DemoRun) -> list[tuple[str, datetime, datetime]]:
    """Every ApplyRoutes task of every execution as (route table, scheduled, ended), from the
    executions' histories."""
    sfn = sb.client("stepfunctions")
    windows = []
    for execution in [e for step in run.steps for e in step.executions]:
        events: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {}
        while True:
            page = sfn.get_execution_history(executionArn=execution.arn, maxResults=1000, **kwargs)
            events += page["events"]
            if not page.get("nextToken"):
                break
            kwargs = {"nextToken": page["nextToken"]}
        by_id = {e["id"]: e for e in events}
        for event in events:
            if event["type"] not in ("TaskSucceeded", "TaskFailed", "TaskTimedOut"):
                continue
            started = by_id[event["previousEventId"]]
            scheduled = by_id[started["previousEventId"]]
            parameters = json.loads(scheduled["taskScheduledEventDetails"]["parameters"])
            batch = parameters.get("Payload", {}).get("batch")
            if batch is not None:
                windows.append(
                    (batch["route_table_id"], scheduled["timestamp"], event["timestamp"])
                )
    return windows


def overlapping(windows: list[tuple[str, datetime, datetime]]) -> list[str]:
    """Route tables two ApplyRoutes tasks wrote at once."""
    found = set()
    for i, (table, start, end) in enumerate(windows):
        for other, other_start, other_end in windows[i + 1 :]:
            if other == table and start < other_end and other_start < end:
                found.add(table)
    return sorted(found)


def lgw_routes(sb: Sandbox, table_id: str) -> set[str]:
    ec2 = sb.client("ec2", caller="scenario")
    (table,) = ec2.describe_route_tables(RouteTableIds=[table_id])["RouteTables"]
    return {r["DestinationCidrBlock"] for r in table["Routes"] if r.get("LocalGatewayId")}


def test_a_table_at_its_quota_swaps_ten_routes_under_throttling(
    sb: Sandbox, tmp_path: Path
) -> None:
    """rt-a holds its quota of 11 routes; ten of the subnets they reach go and ten others come,
    and EC2 throttles the first DeleteRoute: rt-a's 10 deletions must still make room before its
    10 creations. Applied by two batches at once, the creations would run while the throttled
    deletions wait for their retry and meet RouteLimitExceeded (a false route-quota finding and
    a rollback, the new subnets unmeshed)."""
    gone = [subnet(f"b{i}", 10 + i, "rack-b", "rt-b") for i in range(10)]
    lines = [
        "description: a table at its quota swaps ten routes, EC2 throttled",
        "vpcs: [{name: app, cidr: 10.0.0.0/16}]",
        "outposts: [{name: rack-a}, {name: rack-b}]",
        "route_tables: [{name: rt-a, vpc: app}, {name: rt-b, vpc: app}]",
        "subnets:",
        subnet("a", 1, "rack-a", "rt-a"),
        subnet("b-keep", 2, "rack-b", "rt-b"),
        *gone,
        "quotas: {routes_per_table: 11}",
        # Every owned route may go in one pass (the routes of subnets deleted are clean-up).
        "settings: {delete_threshold_percent: 100}",
        "throttle: {time_scale: 1}",
        "steps:",
        "  - sweep: {}",
        "  - fail: {api: DeleteRoute, error: RequestLimitExceeded, times: 1}",
        "  - together:",
        *(f"      - delete_subnet: {{name: b{i}}}" for i in range(10)),
        *(
            f"      - create_subnet: {{name: c{i}, vpc: app, cidr: 10.0.{30 + i}.0/24, "
            "outpost: rack-b, route_table: rt-b}"
            for i in range(10)
        ),
    ]
    run = run_demo(scenario(tmp_path, lines), sandbox=sb, options=PipelineOptions(env={}))
    swap = run.steps[2]
    assert swap.executions and {e.status for e in swap.executions} == {"SUCCEEDED"}
    assert [f for f in run.findings if f["kind"] in ("route-quota", "error")] == []
    assert run.report["reachability"] and all(p["reachable"] for p in run.report["reachability"])
    rt_a = run.ids.route_table_id("rt-a")
    writes = [
        c
        for c in sb.control.calls()
        if c.caller == PIPELINE_ACCESS_KEY
        and c.action in ("CreateRoute", "DeleteRoute")
        and c.params.get("RouteTableId") == rt_a
    ]
    assert [c.error_code for c in writes if not c.ok] == ["RequestLimitExceeded"]  # no quota
    # The swap: every deletion before any creation (the first sweep made rt-a's 11 routes).
    done = [c.action for c in writes[11:] if c.ok]
    assert done == ["DeleteRoute"] * 10 + ["CreateRoute"] * 10
    assert overlapping(batch_windows(sb, run)) == []
    assert lgw_routes(sb, rt_a) == {"10.0.2.0/24"} | {f"10.0.{30 + i}.0/24" for i in range(10)}


def test_a_table_with_most_changes_converges_near_the_floor_with_one_writer(
    sb: Sandbox, tmp_path: Path
) -> None:
    """rack-a's one table needs a route to each of rack-b's 120 subnets; rack-b's four tables
    need 30 each. rt-a is written by one lane, one batch at a time, yet the mesh converges
    within a tenth of EC2's floor: the lanes are balanced (rt-a in one, rack-b's tables in the
    other) and share EC2's rate in proportion to their changes, so they end together (rt-a in
    a lane of its own at a quarter of the rate would take twice the floor)."""
    lines = [
        "description: 240 routes, 120 of them in one table, EC2 throttled",
        "vpcs: [{name: app, cidr: 10.0.0.0/16}]",
        "outposts: [{name: rack-a}, {name: rack-b}]",
        "route_tables:",
        "  - {name: rt-a, vpc: app}",
        *(f"  - {{name: rt-b{j}, vpc: app}}" for j in range(4)),
        "subnets:",
        *(subnet(f"a{i}", 1 + i, "rack-a", "rt-a") for i in range(30)),
        *(subnet(f"b{i}", 40 + i, "rack-b", f"rt-b{i % 4}") for i in range(120)),
        "quotas: {routes_per_table: 150}",
        "throttle: {time_scale: 1}",
        "steps:",
        "  - sweep: {}",
    ]
    run = run_demo(scenario(tmp_path, lines), sandbox=sb, options=PipelineOptions(env={}))
    assert {e.status for step in run.steps for e in step.executions} == {"SUCCEEDED"}
    assert len(run.report["reachability"]) == 2 * 30 * 120
    assert all(p["reachable"] for p in run.report["reachability"])
    windows = batch_windows(sb, run)
    assert overlapping(windows) == []
    assert len({table for table, _, _ in windows}) == 5
    assert sb.app is not None
    routing = [
        c
        for c in sb.app.throttle.log
        if c.caller == PIPELINE_ACCESS_KEY and c.action in ("CreateRoute", "DeleteRoute")
    ]
    assert len(routing) == 240
    assert sb.control.throttle()["throttled"] == {}  # no call wasted on RequestLimitExceeded
    bucket, rate = MUTATING_FLOOR
    floor = max(0, len(routing) - bucket) / rate
    took = routing[-1].aws_time - routing[0].aws_time
    assert floor <= took <= 1.1 * floor, f"{took:.1f} s of AWS time, floor {floor:.1f} s"
