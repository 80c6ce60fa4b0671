"""Deletion safety guards, it never blocks (docs/architecture.md, rule 8): routine clean-up after
subnets that are gone is never held; only deletions that would cut connectivity between subnets
that still exist count, and past the threshold exactly those are held while the rest applies."""

from __future__ import annotations

from dataclasses import replace

import pytest

from outpost_mesh.model import COIP, FindingKind, Ledger, Topology
from outpost_mesh.planner import cutting_deletions, hold_deletions, plan_vpc

from .test_planner import apply_plan, lgw, subnet, table, topology


def mesh(racks: str, per_rack: int) -> tuple[Topology, Ledger]:
    """``racks`` (one letter each) x ``per_rack`` subnets, a route table each, fully meshed."""
    subnets, tables = [], []
    for r, name in enumerate(racks):
        for i in range(per_rack):
            sid = f"subnet-{name}{i}"
            subnets.append(subnet(sid, f"10.7.{10 * r + i}.0/24", name))
            tables.append(table(f"rtb-{name}{i}", sid))
    topo = topology(subnets, tables, [lgw(name) for name in racks])
    return apply_plan(topo, Ledger(topo.vpc_id), plan_vpc(topo, Ledger(topo.vpc_id)))


def without(topo: Topology, *subnet_ids: str) -> Topology:
    """The subnets deleted (their tables stay, serving nothing)."""
    gone = set(subnet_ids)
    return replace(
        topo,
        subnets=tuple(s for s in topo.subnets if s.subnet_id not in gone),
        route_tables=tuple(
            replace(t, subnet_ids=tuple(i for i in t.subnet_ids if i not in gone))
            for t in topo.route_tables
        ),
    )


def opted_out(topo: Topology, *subnet_ids: str) -> Topology:
    out = set(subnet_ids)
    return replace(
        topo,
        subnets=tuple(replace(s, opted_out=s.subnet_id in out) for s in topo.subnets),
    )


def test_one_subnet_deleted_of_a_four_rack_mesh_is_cleaned_up_without_a_finding() -> None:
    """In a full mesh deleting one subnet of N removes about 2/N of the owned routes (here 6 of
    12, 50%): routine clean-up, never held."""
    topo, ledger = mesh("abcd", 1)
    after = without(topo, "subnet-d0")

    plan = hold_deletions(plan_vpc(after, ledger), after, ledger)

    assert len(plan.routes_to_delete) == 6 and plan.routes_held == ()
    assert not any(f.kind is FindingKind.DELETION_HELD for f in plan.findings)


def test_a_racks_subnets_all_deleted_and_a_subnet_created_elsewhere_are_both_done() -> None:
    topo, ledger = mesh("abc", 2)
    after = without(topo, "subnet-c0", "subnet-c1")
    after = replace(
        after,
        subnets=(*after.subnets, subnet("subnet-a9", "10.7.9.0/24", "a")),
        route_tables=(*after.route_tables, table("rtb-a9", "subnet-a9")),
    )

    plan = hold_deletions(plan_vpc(after, ledger), after, ledger)

    assert plan.routes_held == ()
    assert {c.destination_subnet_id for c in plan.routes_to_create} >= {"subnet-a9"}
    assert len(plan.routes_to_delete) == 16  # every route to or from rack c
    # the rack's LGW association goes too: nothing targets it any more
    assert [a.lgw_route_table_id for a in plan.associations_to_delete] == ["lgw-rtb-c"]


def test_a_rack_turned_ineligible_past_the_threshold_is_held_and_the_rest_applied() -> None:
    """Rack c's LGW route table became CoIP: its 2 subnets' routes (to and from rack c: 16 of
    the 24 owned) would cut pairs of subnets that still exist. A new subnet on rack a is meshed
    meanwhile."""
    topo, ledger = mesh("abc", 2)
    turned = replace(
        topo,
        lgw_route_tables=tuple(
            replace(g, mode=COIP) if g.route_table_id == "lgw-rtb-c" else g
            for g in topo.lgw_route_tables
        ),
        subnets=(*topo.subnets, subnet("subnet-a9", "10.7.9.0/24", "a")),
        route_tables=(*topo.route_tables, table("rtb-a9", "subnet-a9")),
    )

    planned = plan_vpc(turned, ledger)
    plan = hold_deletions(planned, turned, ledger)

    assert len(planned.routes_to_delete) == 16
    assert set(plan.routes_held) == set(planned.routes_to_delete)
    assert plan.routes_to_delete == ()
    assert plan.routes_to_create == planned.routes_to_create  # subnet-a9 meshed with a and b
    assert any(c.destination_subnet_id == "subnet-a9" for c in plan.routes_to_create)
    assert plan.associations_to_delete == ()  # the held routes still target rack c's LGW
    found = [f for f in plan.findings if f.kind is FindingKind.DELETION_HELD]
    assert len(found) == 1 and "--force" in found[0].message and "16" in found[0].message


def test_only_cutting_deletions_are_held_routine_clean_up_goes_ahead() -> None:
    """Rack c opted out (cuts) and subnet-b1 deleted (routine) in one pass."""
    topo, ledger = mesh("abc", 2)
    after = without(opted_out(topo, "subnet-c0", "subnet-c1"), "subnet-b1")

    planned = plan_vpc(after, ledger)
    plan = hold_deletions(planned, after, ledger)

    assert plan.routes_held
    assert all(c.destination_subnet_id != "subnet-b1" for c in plan.routes_held)
    assert {c.destination_subnet_id for c in plan.routes_to_delete} >= {"subnet-b1"}
    assert set(plan.routes_held) | set(plan.routes_to_delete) == set(planned.routes_to_delete)


@pytest.mark.parametrize(
    ("share", "min_owned", "is_held"),
    [
        (0.30, 10, True),  # 6 of 12 cut: over 30%
        (0.50, 10, False),  # exactly the share is allowed
        (0.30, 13, False),  # fewer owned routes than the minimum: nothing held
        (0.30, 12, True),  # exactly the minimum counts
    ],
)
def test_thresholds_are_parameters(share: float, min_owned: int, is_held: bool) -> None:
    """4 racks x 1 subnet (12 owned routes); rack d opted out cuts 6 of them (the 3 routes to
    it, its table's 3 routes out)."""
    topo, ledger = mesh("abcd", 1)
    after = opted_out(topo, "subnet-d0")
    planned = plan_vpc(after, ledger)
    cut = len(cutting_deletions(planned, after))
    assert cut == 6

    plan = hold_deletions(planned, after, ledger, share_limit=share, min_owned=min_owned)

    assert bool(plan.routes_held) == is_held


def test_an_owned_route_redone_to_the_right_lgw_is_not_a_cut() -> None:
    topo, ledger = mesh("ab", 6)
    # every table of rack a now routes through the wrong LGW (ours): each is redone
    moved = replace(
        topo,
        route_tables=tuple(
            replace(
                t,
                routes=tuple(
                    replace(r, target="lgw-x") if r.target == "lgw-a" else r for r in t.routes
                ),
            )
            for t in topo.route_tables
        ),
    )
    ledger = replace(
        ledger,
        routes=tuple(
            replace(r, local_gateway_id="lgw-x") if r.local_gateway_id == "lgw-a" else r
            for r in ledger.routes
        ),
    )

    planned = plan_vpc(moved, ledger)

    assert len(planned.routes_to_delete) == 36
    assert cutting_deletions(planned, moved) == ()
    assert hold_deletions(planned, moved, ledger).routes_held == ()
