"""Delete safety where the unit tests do not reach (issue 5, item 4): a mass deletion refused by
the workflow itself, through the pipeline, and the CLI's `apply` refusing it, then `--force`.

A VPC meshed over two racks (six subnets, each with its own route table: 18 owned routes) loses
two subnets at once: the plan would delete 12 of the 18 owned routes (more than 30%).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from outpost_mesh_cli.main import main

from .harness import TALLY, Expect, Row, World, check_case, mutating

RACKS = {"a": "rack-a", "b": "rack-b"}
SCENARIO = (
    "vpcs: [{name: lab, cidr: 10.60.0.0/16}]\n"
    "outposts: [{name: rack-a}, {name: rack-b}]\n"
    "route_tables:\n"
    + "".join(f"  - {{name: rt-{r}{i}, vpc: lab}}\n" for r in RACKS for i in (1, 2, 3))
    + "  - name: rt-edge\n    vpc: lab\n    routes: [{destination: 0.0.0.0/0, target: igw}]\n"
    "subnets:\n"
    + "".join(
        f"  - {{name: {r}{i}, vpc: lab, cidr: 10.60.{10 * (r == 'b') + i}.0/24, "
        f"outpost: {rack}, route_table: rt-{r}{i}}}\n"
        for r, rack in RACKS.items()
        for i in (1, 2, 3)
    )
    + "  - {name: edge, vpc: lab, cidr: 10.60.99.0/24, route_table: rt-edge}\n"
    "steps:\n  - together: [{delete_subnet: {name: b2}}, {delete_subnet: {name: b3}}]\n"
)


@pytest.fixture
def refused(make_world: Callable[..., World]) -> World:
    """The workflow's pass over the VPC after two of its six subnets went at once."""
    world = make_world(SCENARIO, name="delete-safety")
    world.converge()
    assert len(world.snapshot().owned) == 18
    before = world.snapshot()
    known = [e.arn for e in world.pipeline.executions()]
    world.begin()
    events = world.calls(0)
    world.deliver(events)
    world.settle()
    row = Row(
        "mass-deletion-refused",
        "2 of 6 subnets deleted at once: 12 of 18 owned routes would go (> 30%)",
        "",
        "",
        "",
        "",
        "-",
        "-",
        0,
        len(events),
    )
    TALLY.rows.append(row)
    outcome = check_case(
        world, before, known, Expect(final="unchanged", findings=frozenset({"error"}))
    )
    assert not mutating(outcome.calls), [c.action for c in mutating(outcome.calls)]
    [finding] = [f for f in world.findings() if f.kind == "error"]
    assert finding.message.startswith("refused: this plan deletes 12 of the 18 routes")
    assert "--force" in finding.message
    row.outcome, row.final, row.routes = outcome.summary(), "unchanged", "+0 / -0"
    row.findings, row.calls, row.passed = "error (refused)", len(outcome.calls), True
    return world


def cli(world: World, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(
        [
            *args,
            "--vpc",
            world.ids.vpc_id("lab"),
            "--endpoint-url",
            world.sb.endpoint_url,
            "--table",
            world.pipeline.table_name,
        ]
    )
    out, err = capsys.readouterr()
    return code, out, err


def test_the_workflow_and_the_cli_refuse_a_mass_deletion_until_forced(
    refused: World, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The workflow: refused is not failed; every execution succeeded, applying nothing of its
    # plan (the fixture checked the tables, the ledger, the finding and its notice).
    executions = refused.executions()
    assert executions and {e.status for e in executions} == {"SUCCEEDED"}
    assert not any(e.rolled_back for e in executions)
    assert not [i for i in refused.invocations if i.function == "ApplyRoutesFunction"]

    # The CLI, against the same sandbox: refused (one line, exit 2), then --force.
    for key in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("HOME", "/nonexistent")
    before = refused.snapshot()

    code, out, err = cli(refused, capsys, "apply")
    assert (code, out) == (2, "")
    assert err.count("\n") == 1 and "refused: this plan deletes 12 of the 18 routes" in err
    assert refused.snapshot().routes == before.routes

    code, out, err = cli(refused, capsys, "apply", "--force", "--output", "json")
    assert (code, err) == (0, "")
    after = refused.snapshot()
    assert before.routes - after.routes == before.owned - after.owned
    assert len(before.routes - after.routes) == 12
    assert before.unowned <= after.routes  # the person's routes stay
    assert refused.pending_changes() == {}
    lease = refused.store.lease(refused.ids.vpc_id("lab"))
    assert lease is not None and lease["holder"] is None
