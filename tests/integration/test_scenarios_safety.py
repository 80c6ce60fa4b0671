"""Issue 12's safety rules through the whole pipeline (the demo runner on the sandbox: the stack of
template.yaml, the real handlers and state machine), asserted on the report (AWS state read back)
and the functions' metrics: routine clean-up is never held, a full table is left out up front
without calls and without a one-way mesh, report-only raises no UnreachablePairs datapoint."""

from __future__ import annotations

import json
from typing import Any

import yaml

from outpost_mesh_sandbox.aws.server import Sandbox
from outpost_mesh_sandbox.demo import DemoRun, run_demo
from outpost_mesh_sandbox.scenario import parse_scenario


def run(sb: Sandbox, text: str, name: str = "case") -> DemoRun:
    return run_demo(parse_scenario(yaml.safe_load(text), name, name), sandbox=sb)


def racks(names: str, per_rack: int, *, prefix: str = "10.90") -> str:
    """Racks ``names`` (one letter each) x ``per_rack`` Outpost subnets, a route table each;
    rack r's subnets are PREFIX.(step x r + i).0/24."""
    step = 10 if per_rack <= 10 else 100
    lines = [
        f"vpcs: [{{name: app, cidr: {prefix}.0.0/16}}]",
        "outposts: [" + ", ".join(f"{{name: rack-{n}}}" for n in names) + "]",
        "route_tables:",
        *(f"  - {{name: rt-{n}{i}, vpc: app}}" for n in names for i in range(per_rack)),
        "subnets:",
        *(
            f"  - {{name: {n}{i}, vpc: app, cidr: {prefix}.{step * r + i}.0/24, "
            f"outpost: rack-{n}, route_table: rt-{n}{i}}}"
            for r, n in enumerate(names)
            for i in range(per_rack)
        ),
    ]
    return "\n".join(lines) + "\n"


def lgw_routes(report: dict[str, Any], table: str) -> dict[str, str]:
    return {
        r["destination"]: r["target"]
        for r in report["route_tables"][table]
        if r["target"].startswith("lgw:")
    }


def pairs(report: dict[str, Any]) -> dict[tuple[str, str], bool]:
    return {(p["from"], p["to"]): p["reachable"] for p in report["reachability"]}


def kinds(report: dict[str, Any]) -> set[str]:
    return {f["kind"] for f in report["findings"]}


def metric(run: DemoRun, name: str) -> list[float]:
    """Every value of one EMF metric the functions printed during the run."""
    values: list[float] = []
    for line in run.logs:
        start = line.find('{"_aws"')
        if start < 0:
            continue
        try:
            blob = json.loads(line[start:])
        except ValueError:
            continue
        if name in blob:
            value = blob[name]
            values.extend(value if isinstance(value, list) else [value])
    return values


def test_one_subnet_deleted_of_a_four_rack_mesh_is_cleaned_up_without_a_finding(
    sb: Sandbox,
) -> None:
    done = run(sb, racks("abcd", 1) + "steps:\n  - sweep: {}\n  - delete_subnet: {name: d0}\n")
    report = done.report

    assert all({e["status"] for e in s["executions"]} == {"SUCCEEDED"} for s in report["steps"])
    assert kinds(report) == set()  # no deletion-held: 6 of 12 owned routes are clean-up
    for table in ("rt-a0", "rt-b0", "rt-c0"):
        assert "10.90.30.0/24" not in lgw_routes(report, table)
        assert len(lgw_routes(report, table)) == 2
    assert all(pairs(report).values())


def test_a_racks_subnets_all_deleted_then_a_subnet_created_elsewhere_are_both_done(
    sb: Sandbox,
) -> None:
    text = racks("abc", 2).replace(
        "route_tables:\n", "route_tables:\n  - {name: rt-a9, vpc: app}\n"
    ) + (
        "steps:\n  - sweep: {}\n"
        "  - together: [{delete_subnet: {name: c0}}, {delete_subnet: {name: c1}}]\n"
        "  - create_subnet: {name: a9, vpc: app, cidr: 10.90.9.0/24, outpost: rack-a, "
        "route_table: rt-a9}\n"
    )
    report = run(sb, text).report

    assert "deletion-held" not in kinds(report)
    assert all(not t.endswith("rack-c") for t in lgw_routes(report, "rt-a0").values())
    assert lgw_routes(report, "rt-a9") == {
        "10.90.10.0/24": "lgw:rack-a",
        "10.90.11.0/24": "lgw:rack-a",
    }
    assert pairs(report)[("a9", "b0")] and pairs(report)[("b1", "a9")]
    assert report["associations"] and all(a["outpost"] != "rack-c" for a in report["associations"])


def test_a_table_that_cannot_take_a_new_subnets_route_is_left_out_both_ways_and_not_retried(
    sb: Sandbox,
) -> None:
    """RoutesPerTableQuota 3 (the account's too): rt-a0 already holds 2 routes of a person's, so
    it cannot take the routes to b0 and c0 (4 > 3). a0 is left out both ways, b0 and c0 mesh."""
    text = racks("abc", 1).replace(
        "  - {name: rt-a0, vpc: app}",
        "  - name: rt-a0\n    vpc: app\n    routes:\n"
        "      - {destination: 0.0.0.0/0, target: igw}\n"
        "      - {destination: 192.168.0.0/16, target: igw}",
    )
    text = "quotas: {routes_per_table: 3}\n" + text + "steps:\n  - sweep: {}\n  - sweep: {}\n"
    done = run(sb, text)
    report = done.report

    assert "route-quota" in kinds(report)
    assert lgw_routes(report, "rt-a0") == {}
    assert "10.90.0.0/24" not in lgw_routes(report, "rt-b0")  # nothing one-way towards a0
    assert "10.90.0.0/24" not in lgw_routes(report, "rt-c0")
    assert pairs(report)[("b0", "c0")] and pairs(report)[("c0", "b0")]
    first, second = report["steps"]
    assert {e["status"] for e in first["executions"]} == {"SUCCEEDED"}
    assert first["api_calls"].get("CreateRoute") == 2  # b0 <-> c0 only
    assert second["api_calls"].get("CreateRoute", 0) == 0  # not retried while nothing changed


def test_report_only_on_two_racks_of_thirty_changes_nothing_and_raises_no_unreachable_pairs(
    sb: Sandbox,
) -> None:
    """A subnet created (its event's execution plans, changes nothing, SUCCEEDED), then a sweep:
    report-only is a steady state, so the fleet diff starts no execution for it."""
    text = (
        "settings: {report_only: true}\n"
        + racks("ab", 30)
        + "steps:\n"
        + "  - create_subnet: {name: a30, vpc: app, cidr: 10.90.30.0/24, outpost: rack-a, "
        + "route_table: rt-a0}\n"
        + "  - sweep: {}\n"
    )
    done = run(sb, text)
    report = done.report

    created, swept = report["steps"]
    assert {e["status"] for e in created["executions"]} == {"SUCCEEDED"}
    assert swept["executions"] == []
    assert all(lgw_routes(report, t) == {} for t in report["route_tables"])
    assert report["associations"] == []
    assert not any(pairs(report).values())
    assert metric(done, "UnreachablePairs") and set(metric(done, "UnreachablePairs")) == {0}
