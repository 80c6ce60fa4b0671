"""Scenarios with several accounts through the demo (issue 15; docs/scenario-format.md, "Several
accounts"): each account's stack meshes its own VPCs, the report names each association's and
finding's account, the hub's bus hears each account's findings, and no stack makes a call on
another account's resources (read from the sandbox's call log: whose key made which call)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from outpost_mesh_cli.demo_cmd import render_text
from outpost_mesh_sandbox.aws.control import ApiCall
from outpost_mesh_sandbox.aws.identities import SANDBOX_ACCOUNT, access_key
from outpost_mesh_sandbox.aws.server import Sandbox
from outpost_mesh_sandbox.demo import DemoRun, run_demo
from outpost_mesh_sandbox.scenario import parse_scenario

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
WORKLOAD = "210000000001"  # the scenario's second account (ids.account_ids)
MUTATING = ("Create", "Delete", "Replace", "Associate", "Disassociate")


def resources_of(run: DemoRun, vpcs: set[str]) -> set[str]:
    """Every id the scenario knows of these VPCs: the VPCs, their subnets and route tables."""
    ids = run.ids
    found = {ids.vpc_id(v) for v in vpcs}
    found |= {i for name, i in ids.subnets.items() if ids.subnet_vpcs.get(name) in vpcs}
    tables = ids.route_tables.items()
    return found | {i for name, i in tables if run.scenario.vpc_of_route_table(name) in vpcs}


def calls_by(calls: list[ApiCall], account: str) -> list[ApiCall]:
    key = access_key("pipeline", account)
    return [c for c in calls if c.caller == key and c.service == "ec2"]


def naming(calls: list[ApiCall], ids: set[str]) -> list[ApiCall]:
    return [c for c in calls if any(i in json.dumps(c.params) for i in ids)]


@pytest.fixture(scope="module")
def two_accounts(sandbox: Sandbox) -> tuple[DemoRun, list[ApiCall]]:
    run = run_demo(SCENARIOS / "two-accounts.yaml", sandbox=sandbox)
    return run, sandbox.control.calls()


def test_each_account_meshes_its_own_vpc_and_the_report_names_the_accounts(
    two_accounts: tuple[DemoRun, list[ApiCall]],
) -> None:
    run, _ = two_accounts
    report = run.report
    assert all(p["reachable"] for p in report["reachability"])
    assert {p["from"] for p in report["reachability"]} == {
        "app-a",
        "app-b",
        "app-c",
        "core-a",
        "core-b",
    }
    assert [(a["vpc"], a["outpost"], a["account"]) for a in report["associations"]] == [
        ("app", "rack-a", "workload"),
        ("app", "rack-b", "workload"),
        ("core", "rack-a", "network"),
        ("core", "rack-b", "network"),
    ]
    assert [(f["kind"], f["subject"], f["account"], f["resolved"]) for f in report["findings"]] == [
        ("conflict", "app-rt-b:10.7.7.0/24", "workload", True),
        ("conflict", "core-rt-a:10.1.2.0/24", "network", True),
    ]
    # The workload's create_subnet reached the workload's stack only: its executions, none of
    # the network's (the network's VPC is meshed by the sweep that follows).
    first = run.steps[0]
    assert first.executions and {e.arn.split(":")[4] for e in first.executions} == {WORKLOAD}


def test_the_hub_hears_each_accounts_findings_in_scenario_words(
    two_accounts: tuple[DemoRun, list[ApiCall]],
) -> None:
    run, _ = two_accounts
    # each account's findings, and the outcome of each of its executions that changed something
    outcome = "outpost-mesh Execution Outcome"
    assert [(e["account"], e["detail_type"], e["vpc"]) for e in run.report["hub"]] == [
        ("network", outcome, "core"),
        ("network", outcome, "core"),
        ("network", "outpost-mesh Finding", "core"),
        ("workload", outcome, "app"),
        ("workload", outcome, "app"),
        ("workload", "outpost-mesh Finding", "app"),
    ]
    assert all(
        "succeeded (" in e["summary"] for e in run.report["hub"] if e["detail_type"] == outcome
    )
    text = render_text(run)
    hub = text.split("\nHub (")[1]
    assert "network    outpost-mesh Finding" in hub and "core: " in hub
    assert "  network: its stack meshes core; owns rack-a, rack-b" in text
    assert "    app: 4/4 cross-rack directions routed" in text
    assert "[workload] app on rack-a: rack-a (associated)" in text
    step_1 = text.split("\nStep 1: ")[1].split("\nStep 2: ")[0]
    assert "events      [workload] CreateSubnet -> Ec2ApiCallRule" in step_1
    assert "SUCCEEDED  [workload] vpc-" in step_1 and "[network]" not in step_1


def test_no_stack_calls_on_another_accounts_resources(
    two_accounts: tuple[DemoRun, list[ApiCall]],
) -> None:
    run, calls = two_accounts
    app, core = resources_of(run, {"app"}), resources_of(run, {"core"})
    network, workload = calls_by(calls, SANDBOX_ACCOUNT), calls_by(calls, WORKLOAD)
    assert naming(network, app) == []  # the network's stack never named the workload's VPC
    assert naming(workload, core) == []
    assert [c for c in network if c.action.startswith(MUTATING)]
    assert naming([c for c in workload if c.action.startswith(MUTATING)], app)
    # the pipeline's calls in the report are both stacks' together
    made = {a: n for a, n in run.report["api_calls"].items() if n}
    assert made["CreateRoute"] == sum(1 for c in network + workload if c.action == "CreateRoute")


def test_a_single_account_report_keeps_its_shape(sandbox: Sandbox) -> None:
    report = run_demo(SCENARIOS / "blog.yaml", sandbox=sandbox).report
    assert "hub" not in report
    assert all("account" not in a for a in report["associations"])
    assert all("account" not in f for f in report["findings"])


def two_workloads() -> dict[str, Any]:
    """The network account shares its racks with two workload accounts and has no VPC (so no
    stack); each workload's VPC spans both racks."""
    vpcs, tables, subnets = [], [], []
    for octet, team in ((7, "team-a"), (8, "team-b")):
        vpcs.append({"name": team, "cidr": f"10.{octet}.0.0/16", "account": team})
        for rack in ("a", "b"):
            table = f"{team}-rt-{rack}"
            tables.append({"name": table, "vpc": team})
            subnets.append(
                {
                    "name": f"{team}-{rack}",
                    "vpc": team,
                    "cidr": f"10.{octet}.{1 if rack == 'a' else 2}.0/24",
                    "outpost": f"rack-{rack}",
                    "route_table": table,
                }
            )
    shared = ["team-a", "team-b"]
    return {
        "accounts": [{"name": "network"}, {"name": "team-a"}, {"name": "team-b"}],
        "outposts": [
            {"name": "rack-a", "shared_with": shared},
            {"name": "rack-b", "shared_with": shared},
        ],
        "vpcs": vpcs,
        "route_tables": tables,
        "subnets": subnets,
        "steps": [{"sweep": {}}],
    }


def test_two_workloads_on_the_same_racks_are_meshed_each_by_its_own_stack(
    sandbox: Sandbox,
) -> None:
    scenario = parse_scenario(two_workloads(), "two-workloads.yaml", "two-workloads")
    run = run_demo(scenario, sandbox=sandbox)
    calls = sandbox.control.calls()
    report = run.report
    assert report["reachability"] and all(p["reachable"] for p in report["reachability"])
    assert {(a["vpc"], a["account"]) for a in report["associations"]} == {
        ("team-a", "team-a"),
        ("team-b", "team-b"),
    }
    assert report["findings"] == []
    # a clean mesh sends the hub one outcome per account: its execution's changes
    assert [(e["account"], e["detail_type"]) for e in report["hub"]] == [
        ("team-a", "outpost-mesh Execution Outcome"),
        ("team-b", "outpost-mesh Execution Outcome"),
    ]
    team_a, team_b = run.ids.accounts["team-a"], run.ids.accounts["team-b"]
    assert calls_by(calls, SANDBOX_ACCOUNT) == []  # no VPC in the network account: no stack
    a_ids, b_ids = resources_of(run, {"team-a"}), resources_of(run, {"team-b"})
    assert naming(calls_by(calls, team_a), b_ids) == []
    assert naming(calls_by(calls, team_b), a_ids) == []
    assert "  network: no VPCs, no stack; owns rack-a, rack-b" in render_text(run)
