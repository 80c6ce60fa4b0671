"""Deletion safety where the unit tests do not reach (issue 12): routine clean-up through the
pipeline is never held; a cut of existing pairs past the threshold is held by the workflow (the
rest of the plan applied) and by the CLI's `apply` (exit 3), until `apply --force`.

A VPC meshed over two racks (six subnets, each with its own route table: 18 owned routes).
Routine: two subnets of rack b are deleted at once (12 of the 18 routes go: clean-up, applied).
Cut: two subnets of rack b are tagged opt-out (the same 12 routes would go while the subnets
still exist: more than 30%, held) while a new subnet is created on rack a (meshed meanwhile).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from outpost_mesh_cli.main import main

from .harness import TALLY, Expect, Row, World, check_case, mutating

RACKS = {"a": "rack-a", "b": "rack-b"}
BASE = (
    "vpcs: [{name: lab, cidr: 10.60.0.0/16}]\n"
    "outposts: [{name: rack-a}, {name: rack-b}]\n"
    "route_tables:\n"
    + "".join(f"  - {{name: rt-{r}{i}, vpc: lab}}\n" for r in RACKS for i in (1, 2, 3))
    + "  - {name: rt-a4, vpc: lab}\n"
    + "  - name: rt-edge\n    vpc: lab\n    routes: [{destination: 0.0.0.0/0, target: igw}]\n"
    "subnets:\n"
    + "".join(
        f"  - {{name: {r}{i}, vpc: lab, cidr: 10.60.{10 * (r == 'b') + i}.0/24, "
        f"outpost: {rack}, route_table: rt-{r}{i}}}\n"
        for r, rack in RACKS.items()
        for i in (1, 2, 3)
    )
    + "  - {name: edge, vpc: lab, cidr: 10.60.99.0/24, route_table: rt-edge}\n"
)
ROUTINE = (
    BASE + "steps:\n  - together: [{delete_subnet: {name: b2}}, {delete_subnet: {name: b3}}]\n"
)
CUT = BASE + (
    "steps:\n  - create_subnet: {name: a4, vpc: lab, cidr: 10.60.4.0/24, outpost: rack-a, "
    "route_table: rt-a4}\n"
)
OPT_OUT = "outpost-mesh:opt-out"


def test_routine_clean_up_after_deleted_subnets_is_never_held(
    make_world: Callable[..., World],
) -> None:
    world = make_world(ROUTINE, name="delete-safety-routine")
    world.converge()
    before = world.snapshot()
    assert len(before.owned) == 18
    known = [e.arn for e in world.pipeline.executions()]
    world.begin()
    events = world.calls(0)
    world.deliver(events)
    world.settle()

    outcome = check_case(world, before, known, Expect(metrics=("RoutesDeleted",)))

    assert len(outcome.removed) == 12 and outcome.added == frozenset()
    assert "deletion-held" not in {kind for kind, _ in outcome.new_findings}
    TALLY.rows.append(
        Row(
            "deletion-routine",
            "2 of 6 subnets deleted at once: 12 of 18 owned routes are clean-up",
            outcome.summary(),
            "converged",
            "+0 / -12",
            "none",
            "-",
            "-",
            len(outcome.calls),
            len(events),
            passed=True,
        )
    )


@pytest.fixture
def held(make_world: Callable[..., World]) -> World:
    """The workflow's sweep after two of rack b's subnets were tagged opt-out and a subnet was
    created on rack a."""
    world = make_world(CUT, name="delete-safety-held")
    world.converge()
    before = world.snapshot()
    assert len(before.owned) == 18
    known = [e.arn for e in world.pipeline.executions()]
    world.begin()
    world.calls(0)  # a4 created (its event is not delivered: the sweep finds it)
    world.person.create_tags(
        Resources=[world.ids.subnet_id("b2"), world.ids.subnet_id("b3")],
        Tags=[{"Key": OPT_OUT, "Value": "true"}],
    )
    world.person_events()
    world.sweep()

    outcome = check_case(
        world,
        before,
        known,
        Expect(final="any", findings=frozenset({"deletion-held"}), metrics=("DeletionsHeld",)),
    )
    assert not [c for c in mutating(outcome.calls) if c.action == "DeleteRoute"]
    assert len(outcome.added) == 2 and outcome.removed == frozenset()  # a4 <-> b1
    [finding] = [f for f in world.findings() if f.kind == "deletion-held"]
    assert "held 12 route deletion(s)" in finding.message and "--force" in finding.message
    assert world.metrics().get("DeletionsHeld", 0) >= 12
    if any(r.case == "deletion-held" for r in TALLY.rows):
        return world  # the matrix lists the case once, whichever test built it first
    TALLY.rows.append(
        Row(
            "deletion-held",
            "2 of 6 subnets opted out (12 of 18 owned routes would cut existing pairs, > 30%) "
            "while a subnet is created",
            outcome.summary(),
            "12 deletions held, the new subnet meshed",
            f"+{len(outcome.added)} / -{len(outcome.removed)}",
            "deletion-held",
            "-",
            "-",
            len(outcome.calls),
            1,
            passed=True,
        )
    )
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


def test_the_workflow_and_the_cli_hold_a_cut_until_forced(
    held: World, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The workflow: holding is not failing; every execution succeeded and rolled nothing back.
    executions = held.executions()
    assert executions and {e.status for e in executions} == {"SUCCEEDED"}
    assert not any(e.rolled_back for e in executions)

    # The CLI, against the same sandbox: holds too (exit 1: a problem, named; the rest applied),
    # says so on stderr, then --force applies the held deletions.
    for key in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("HOME", "/nonexistent")
    before = held.snapshot()

    code, out, err = cli(held, capsys, "apply")
    assert code == 1
    assert "~ held: route" in out
    assert err.count("\n") == 1 and "12 route deletions held" in err and "--force" in err
    assert held.snapshot().routes == before.routes

    code, out, err = cli(held, capsys, "apply", "--force", "--output", "json")
    assert (code, err) == (0, "")
    after = held.snapshot()
    assert before.routes - after.routes == before.owned - after.owned
    assert len(before.routes - after.routes) == 12
    assert before.unowned <= after.routes  # the person's routes stay
    assert held.pending_changes() == {}
    lease = held.store.lease(held.ids.vpc_id("lab"))
    assert lease is not None and lease["holder"] is None


def test_remove_asks_first_and_takes_out_only_what_it_owns(
    held: World, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for key in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("HOME", "/nonexistent")
    before = held.snapshot()

    code, out, err = cli(held, capsys, "remove")  # no terminal, no --yes: nothing removed
    assert code == 2 and "- route" in out  # what it would take out, then one refusal line
    assert err.count("\n") == 1 and "confirm with --yes" in err
    assert held.snapshot().routes == before.routes

    code, _, err = cli(held, capsys, "remove", "--yes")
    assert (code, err) == (0, "")
    after = held.snapshot()
    assert after.owned == frozenset() and after.owned_associations == frozenset()
    assert after.routes == before.unowned
