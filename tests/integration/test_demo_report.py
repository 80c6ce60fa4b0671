"""The demo report tells a person what is true at each moment (issue 14, item 5): a deleted subnet
is not on any rack in the ping matrix, and a finding a later plan no longer had is marked resolved
(in the text and in the JSON report's ``resolved`` key, docs/scenario-format.md, "Report")."""

from __future__ import annotations

from pathlib import Path

from outpost_mesh_cli.demo_cmd import render_text
from outpost_mesh_sandbox.aws.server import Sandbox
from outpost_mesh_sandbox.demo import run_demo

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


def matrix(text: str, title: str) -> dict[str, list[str]]:
    """The ping matrix under ``title``: each row's cells by its subnet (the header row too)."""
    lines = text.split(f"\n{title}")[1].splitlines()[1:]
    rows: dict[str, list[str]] = {}
    for line in lines:
        if not line.startswith("  ") or line.startswith("  ("):
            break
        cells = [c for c in line.strip().split("  ") if c]
        rows[cells[0].strip()] = [c.strip() for c in cells[1:]]
    return rows


def test_a_deleted_subnet_is_on_no_rack_in_the_ping_matrix(sb: Sandbox) -> None:
    run = run_demo(SCENARIOS / "delete-subnet.yaml", sandbox=sb)
    assert "subnet-b" not in run.after.subnets  # the step deleted it (AWS state, read back)
    text = render_text(run)

    before = matrix(text, "Ping before the first step")
    header = before["from \\ to"]
    assert header == ["subnet-a", "subnet-b", "subnet-c"]
    assert before["subnet-b"][header.index("subnet-c")] == "same rack"  # both on rack-b then

    after = matrix(text, "Ping after the last step")
    assert after["subnet-b"] == ["deleted", "-", "deleted"]
    assert [row[header.index("subnet-b")] for name, row in after.items() if name in header] == [
        "deleted",
        "-",
        "deleted",
    ]
    assert after["subnet-c"][header.index("subnet-a")] == "yes"  # the rest is still meshed
    assert "same rack" not in str(after["subnet-b"])
    assert "deleted: deleted by a step" in text.split("Ping after the last step")[1]
    assert "subnet-a 10.40.1.0/24 <-> subnet-b 10.40.2.0/24: no ping (subnet-b deleted" in text


def test_a_subnet_created_by_a_step_is_not_yet_in_the_first_matrix(sb: Sandbox) -> None:
    text = render_text(run_demo(SCENARIOS / "blog.yaml", sandbox=sb))
    before = matrix(text, "Ping before the first step")
    assert before["subnet-b"] == ["not yet", "-"]
    assert "not yet: created by a later step" in text


def test_findings_say_which_are_resolved(sb: Sandbox) -> None:
    """subnet-a shares the main table with an In-Region subnet (shared-route-table), then gets a
    table of its own: the finding stays in the report, resolved; in the ledger too."""
    run = run_demo(SCENARIOS / "shared-main-table.yaml", sandbox=sb)
    findings = run.report["findings"]
    shared = [f for f in findings if f["kind"] == "shared-route-table"]
    assert shared, findings
    assert all(f["resolved"] is True for f in shared)
    assert all(isinstance(f["resolved"], bool) for f in findings)
    reachable = {(p["from"], p["to"]): p["reachable"] for p in run.report["reachability"]}
    assert reachable[("subnet-a", "subnet-b")] is True  # why it is resolved: meshed now

    text = render_text(run)
    block = text.split("\nFindings")[1].split("\n\n")[0]
    lines = [line for line in block.splitlines()[1:] if "shared-route-table" in line]
    assert lines and all(line.split()[0] == "resolved" for line in lines)


def test_a_standing_finding_is_open(sb: Sandbox) -> None:
    run = run_demo(SCENARIOS / "coip-rack.yaml", sandbox=sb)
    coip = [f for f in run.report["findings"] if f["kind"] == "coip-mode"]
    assert coip and all(f["resolved"] is False for f in coip)
    block = render_text(run).split("\nFindings")[1]
    assert any(line.split()[:2] == ["open", "coip-mode"] for line in block.splitlines())
