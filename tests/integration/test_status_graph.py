"""``outpost-mesh status`` and ``outpost-mesh graph`` against the sandbox, run in-process.

The blog scenario after ``apply`` shows both directions reachable, in the status and as edges of
the picture; a broken pair and a blocked subnet are marked; the last executions come from a state
machine when one is known and are skipped, with a note, when none is.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

import pytest

from outpost_mesh.ledger import LedgerStore
from outpost_mesh_cli.main import main
from outpost_mesh_sandbox.aws.server import Sandbox

from .support import reconcile, seeded


@pytest.fixture
def cli(sb: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Run the CLI in-process against the sandbox: (exit code, stdout)."""
    for key in list(os.environ):
        if key.startswith("AWS_") or key == "OUTPOST_MESH_TABLE":
            monkeypatch.delenv(key)
    monkeypatch.setenv("HOME", "/nonexistent")  # no AWS config or credentials at all
    monkeypatch.setenv("AWS_ENDPOINT_URL", sb.endpoint_url)

    def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
        capsys.readouterr()
        code = main(list(args))
        out, err = capsys.readouterr()
        assert not err, err
        return code, out

    return run


def node(subnet_id: str) -> str:
    return "s_" + subnet_id.replace("-", "_")


def test_blog_after_apply_is_reachable_both_ways_in_status_and_graph(
    sb: Sandbox, store: LedgerStore, cli: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = seeded(sb, "blog")
    vpc = ids.vpc_id("app")
    a, b = ids.subnet_id("subnet-a"), ids.subnet_id("subnet-b")
    rack_a, rack_b = ids.outpost("rack-a"), ids.outpost("rack-b")
    reconcile(sb.client("ec2"), store, vpc)

    code, out = cli(capsys, "status", "--vpc", vpc, "--output", "json")
    assert code == 0
    (status,) = json.loads(out)["vpcs"]
    assert status["pairs"]["expected"] == 2
    assert status["pairs"]["reachable"] == 2
    directions = {(p["from"], p["to"]): p for p in status["pairs"]["list"]}
    assert directions[(a, b)]["via"] == f"10.7.11.0/24 via {rack_a.local_gateway_id}"
    assert directions[(b, a)]["via"] == f"10.7.7.0/24 via {rack_b.local_gateway_id}"
    outposts = {o["outpost_arn"]: o for o in status["outposts"]}
    assert set(outposts) == {rack_a.outpost_arn, rack_b.outpost_arn}
    for outpost in outposts.values():
        assert outpost["mode"] == "direct-vpc-routing"
        assert outpost["vpc_association"] == "associated"
        assert outpost["association_owned"] is True
    assert {s["subnet_id"]: s["meshed"] for s in status["subnets"]} == {a: True, b: True}
    assert sorted((r["route_table_id"], r["destination"]) for r in status["owned"]["routes"]) == (
        sorted(
            [
                (ids.route_table_id("rt-a"), "10.7.11.0/24"),
                (ids.route_table_id("rt-b"), "10.7.7.0/24"),
            ]
        )
    )
    assert len(status["owned"]["associations"]) == 2
    assert status["findings"] == []
    assert not any(status["pending_changes"].values())
    assert status["lease"] is None
    # No state machine in the sandbox and no stack: skipped, with a note saying why.
    assert status["executions"] is None
    assert "no state machine known" in status["executions_note"]

    code, text = cli(capsys, "status", "--vpc", vpc)
    assert code == 0
    assert "Pairs: 2/2 reachable" in text
    assert f"{a} -> {b}: reachable (10.7.11.0/24 via {rack_a.local_gateway_id})" in text
    assert f"{b} -> {a}: reachable (10.7.7.0/24 via {rack_b.local_gateway_id})" in text

    code, picture = cli(capsys, "graph", "--vpc", vpc, "--format", "mermaid")
    assert code == 0
    assert picture.startswith("flowchart LR")
    assert picture.count("subgraph o_op_") == 2
    assert f'{node(a)} -->|"10.7.11.0/24 via {rack_a.local_gateway_id}"| {node(b)}' in picture
    assert f'{node(b)} -->|"10.7.7.0/24 via {rack_b.local_gateway_id}"| {node(a)}' in picture
    assert "UNREACHABLE" not in picture
    assert "-.-" not in picture
    # each subnet sits in its own Outpost's group
    groups = re.findall(r"subgraph (o_\S+)\[.*?\n(.*?)\n  end", picture, flags=re.S)
    assert {g: body.split("[")[0].strip() for g, body in groups} == {
        "o_" + rack_a.outpost_id.replace("-", "_"): node(a),
        "o_" + rack_b.outpost_id.replace("-", "_"): node(b),
    }

    code, page = cli(capsys, "graph", "--vpc", vpc, "--format", "html")
    assert code == 0
    assert page.lstrip().lower().startswith("<!doctype html")
    assert a in page and b in page and "10.7.7.0/24" in page and "10.7.11.0/24" in page
    lowered = page.lower()  # nothing fetched from elsewhere (an SVG namespace URI is no fetch)
    assert not any(x in lowered for x in ("<script", "<link", "src=", "@import", "url(http"))

    code, graph = cli(capsys, "graph", "--vpc", vpc, "--format", "dot")
    assert code == 0
    assert graph.startswith(f'digraph "{vpc}" {{')
    assert f'"{a}" -> "{b}" [label="10.7.11.0/24 via {rack_a.local_gateway_id}"' in graph
    assert f'"{b}" -> "{a}" [label="10.7.7.0/24 via {rack_b.local_gateway_id}"' in graph
    assert graph.count("subgraph cluster_") == 2
    assert graph.rstrip().endswith("}")


def test_a_broken_pair_is_marked(
    sb: Sandbox, store: LedgerStore, cli: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = seeded(sb, "blog")
    vpc = ids.vpc_id("app")
    a, b = ids.subnet_id("subnet-a"), ids.subnet_id("subnet-b")
    reconcile(sb.client("ec2"), store, vpc)
    # A person gives rt-b a default route to rack-b's LGW (subnet-b stays advertised), then
    # deletes the route rt-b had to subnet-a: b -> a breaks, a -> b still works.
    person = sb.client("ec2", caller="scenario")
    person.create_route(
        RouteTableId=ids.route_table_id("rt-b"),
        DestinationCidrBlock="0.0.0.0/0",
        LocalGatewayId=ids.outpost("rack-b").local_gateway_id,
    )
    person.delete_route(RouteTableId=ids.route_table_id("rt-b"), DestinationCidrBlock="10.7.7.0/24")

    code, out = cli(capsys, "status", "--vpc", vpc, "--output", "json")
    assert code == 0
    (status,) = json.loads(out)["vpcs"]
    assert (status["pairs"]["reachable"], status["pairs"]["expected"]) == (1, 2)
    assert status["pending_changes"]["routes_to_create"] == 1

    code, picture = cli(capsys, "graph", "--vpc", vpc)
    assert f"{node(a)} -->|" in picture
    broken = re.search(rf'{node(b)} -\.->\|"UNREACHABLE: ([^"]*)"\| {node(a)}', picture)
    assert broken is not None
    assert ids.route_table_id("rt-b") in broken.group(1)
    assert "stroke:#c00000" in picture

    code, graph = cli(capsys, "graph", "--vpc", vpc, "--format", "dot")
    assert re.search(rf'"{b}" -> "{a}" \[label="UNREACHABLE: [^"]*", color="#c00000"', graph)


def test_a_blocked_subnet_is_marked_with_its_finding(
    sb: Sandbox, store: LedgerStore, cli: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = seeded(sb, "shared-main-table", run_steps=False)
    vpc = ids.vpc_id("shop")
    shared, b = ids.subnet_id("subnet-a"), ids.subnet_id("subnet-b")
    web = ids.subnet_id("subnet-web")
    reconcile(sb.client("ec2"), store, vpc)

    code, out = cli(capsys, "status", "--vpc", vpc, "--output", "json")
    assert code == 0
    (status,) = json.loads(out)["vpcs"]
    subnets = {s["subnet_id"]: s for s in status["subnets"]}
    assert subnets[shared]["blocked"] == "shared-route-table"
    assert subnets[shared]["meshed"] is False
    assert subnets[web]["outpost_arn"] is None
    assert [(f["kind"], f["subject"]) for f in status["findings"]] == [
        ("shared-route-table", shared)
    ]
    assert status["pairs"]["expected"] == 0

    code, picture = cli(capsys, "graph", "--vpc", vpc)
    assert "BLOCKED: shared-route-table" in picture
    assert re.search(
        rf'({node(shared)} -\.-\|"blocked: shared-route-table"\| {node(b)}|'
        rf'{node(b)} -\.-\|"blocked: shared-route-table"\| {node(shared)})',
        picture,
    )
    assert f"class {node(shared)} blocked" in picture
    assert 'subgraph region["In-Region (not meshed)"]' in picture
    assert " -->|" not in picture  # nothing meshed: no LGW route edge


def test_status_lists_every_vpc_and_its_last_executions(
    sb: Sandbox, store: LedgerStore, cli: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = seeded(sb, "blog")
    vpc = ids.vpc_id("app")
    sfn = sb.client("stepfunctions")
    machine = sfn.create_state_machine(
        name="outpost-mesh-reconcile",
        definition=json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}),
        roleArn=f"arn:aws:iam::{sb.account_id}:role/outpost-mesh-states",
    )["stateMachineArn"]
    sfn.start_execution(stateMachineArn=machine, name=f"{vpc}-manual-1", input="{}")
    sfn.start_execution(stateMachineArn=machine, name="vpc-0000000000000000-other", input="{}")

    code, out = cli(capsys, "status", "--state-machine-arn", machine, "--output", "json")
    assert code == 0
    vpcs = {v["vpc_id"]: v for v in json.loads(out)["vpcs"]}
    assert vpc in vpcs  # found by its Outpost subnets, before anything was applied
    assert [e["name"] for e in vpcs[vpc]["executions"]] == [f"{vpc}-manual-1"]
    assert vpcs[vpc]["state_machine_arn"] == machine
    assert vpcs[vpc]["pairs"] == {
        "expected": 2,
        "reachable": 0,
        "list": vpcs[vpc]["pairs"]["list"],
    }

    code, text = cli(capsys, "status", "--state-machine-arn", machine)
    assert f"{vpc}-manual-1" in text
    assert "Pairs: 0/2 reachable" in text
