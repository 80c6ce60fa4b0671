"""A plan's on-premises impact (``advertise.bgp_impact``) on plain data, and what it means for
deletion safety.

BGP advertises an Outpost subnet's CIDR only while its effective route table has a route to its
Outpost's LGW (docs/aws-facts.md, "BGP advertisement"): a table's first LGW route starts it, its
last one's deletion withdraws it, whoever made the routes.
"""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given

from outpost_mesh.advertise import Advertisement, bgp_impact, withdrawing_deletions
from outpost_mesh.model import FindingKind, Ledger, Plan, Route, RouteChange, Topology
from outpost_mesh.planner import (
    cutting_deletions,
    hold_deletions,
    plan_pass,
    plan_vpc,
    removal_plan,
)

from .strategies import Scenario, scenarios
from .test_planner import VPC, apply_plan, blog, lgw, rack, subnet, table, topology
from .test_safety import mesh, opted_out, without

A, B = rack("a"), rack("b")


def planned(topo: Topology, ledger: Ledger | None = None, *, force: bool = False) -> Plan:
    """The plan a pass runs (deletion safety at its defaults, no quota in the way)."""
    return plan_pass(
        topo,
        ledger or Ledger(VPC),
        frozenset(),
        "",
        share_limit=0.3,
        min_owned=10,
        quota=1_000,
        force=force,
    )


def meshed(topo: Topology) -> tuple[Topology, Ledger]:
    return apply_plan(topo, Ledger(VPC), plan_vpc(topo, Ledger(VPC)))


def impact(plan: Plan) -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    return {a.outpost_arn: (a.advertised, a.withdrawn) for a in plan.bgp_impact}


def test_a_tables_first_lgw_route_starts_advertising_its_subnet() -> None:
    plan = planned(blog())

    assert plan.bgp_impact == (
        Advertisement(A, advertised=("10.7.7.0/24",)),
        Advertisement(B, advertised=("10.7.11.0/24",)),
    )
    as_dict = plan.to_dict()
    assert as_dict["advertised"] == {A: ["10.7.7.0/24"], B: ["10.7.11.0/24"]}
    assert as_dict["withdrawn"] == {}


def test_a_converged_plan_changes_nothing_on_premises() -> None:
    topo, ledger = meshed(blog())

    plan = planned(topo, ledger)

    assert not plan.has_changes and plan.bgp_impact == ()
    assert plan.to_dict()["advertised"] == {} and plan.to_dict()["withdrawn"] == {}


def test_a_tables_last_lgw_route_deleted_withdraws_its_subnet() -> None:
    """subnet-b is deleted: rt-a's only LGW route (to it) goes, so subnet-a is withdrawn."""
    topo, ledger = meshed(blog())
    after = without(topo, "subnet-b")

    plan = planned(after, ledger)

    assert [c.route_table_id for c in plan.routes_to_delete] == ["rt-a", "rt-b"]
    assert impact(plan) == {A: ((), ("10.7.7.0/24",))}
    assert plan.to_dict()["withdrawn"] == {A: ["10.7.7.0/24"]}


def test_a_table_shared_by_two_subnets_of_an_outpost_advertises_and_withdraws_both() -> None:
    """Listed in address order: 10.7.9.0/24 before 10.7.10.0/24 (not text order)."""
    topo = topology(
        [
            subnet("subnet-a10", "10.7.10.0/24", "a"),
            subnet("subnet-a9", "10.7.9.0/24", "a"),
            subnet("subnet-b", "10.7.11.0/24", "b"),
        ],
        [table("rt-a", "subnet-a10", "subnet-a9"), table("rt-b", "subnet-b")],
        [lgw("a"), lgw("b")],
    )

    assert impact(planned(topo)) == {
        A: (("10.7.9.0/24", "10.7.10.0/24"), ()),
        B: (("10.7.11.0/24",), ()),
    }
    after, ledger = meshed(topo)
    assert impact(planned(without(after, "subnet-b"), ledger)) == {
        A: ((), ("10.7.9.0/24", "10.7.10.0/24"))
    }


def test_a_persons_own_lgw_route_keeps_the_subnet_advertised() -> None:
    """rt-a already sends on-premises traffic (0.0.0.0/0) to rack a's LGW: subnet-a was advertised
    before the mesh and stays advertised when the mesh's last route there goes."""
    topo = blog(rt_a_routes=(("0.0.0.0/0", "lgw-a"),))

    first = planned(topo)
    assert impact(first) == {B: (("10.7.11.0/24",), ())}  # subnet-a: no news

    after, ledger = meshed(topo)
    plan = planned(without(after, "subnet-b"), ledger)
    assert ("rt-a", "10.7.11.0/24") in {
        (c.route_table_id, c.destination) for c in plan.routes_to_delete
    }
    assert plan.bgp_impact == ()


def test_another_targets_route_does_not_count_as_advertising() -> None:
    """Only a route to the subnet's own Outpost's LGW counts: an internet gateway's does not."""
    plan = planned(blog(rt_a_routes=(("0.0.0.0/0", "igw-1"),)))

    assert impact(plan)[A] == (("10.7.7.0/24",), ())


def test_a_main_table_subnet_is_advertised_through_the_main_table() -> None:
    """subnet-a has no table of its own: its effective table is the main one, which serves only
    it, so the mesh's routes go there and advertise it."""
    topo = topology(
        [subnet("subnet-a", "10.7.7.0/24", "a"), subnet("subnet-b", "10.7.11.0/24", "b")],
        [table("rtb-main", main=True), table("rt-b", "subnet-b")],
        [lgw("a"), lgw("b")],
    )

    plan = planned(topo)

    assert {c.route_table_id for c in plan.routes_to_create} == {"rtb-main", "rt-b"}
    assert impact(plan) == {A: (("10.7.7.0/24",), ()), B: (("10.7.11.0/24",), ())}


def test_an_opted_out_subnet_with_its_own_table_is_never_advertised() -> None:
    topo = topology(
        [
            subnet("subnet-a", "10.7.7.0/24", "a"),
            subnet("subnet-a9", "10.7.9.0/24", "a", opted_out=True),
            subnet("subnet-b", "10.7.11.0/24", "b"),
        ],
        [table("rt-a", "subnet-a"), table("rt-a9", "subnet-a9"), table("rt-b", "subnet-b")],
        [lgw("a"), lgw("b")],
    )

    first = planned(topo)
    after, ledger = apply_plan(topo, Ledger(VPC), first)
    gone = planned(without(after, "subnet-b"), ledger)

    assert "10.7.9.0/24" not in str(first.bgp_impact) + str(gone.bgp_impact)
    assert impact(first)[A] == (("10.7.7.0/24",), ())
    assert impact(gone)[A] == ((), ("10.7.7.0/24",))


def test_opting_out_a_meshed_subnet_withdraws_it_as_aws_would() -> None:
    """AWS's rule knows no outpost-mesh tag: the opt-out makes the mesh delete its routes in the
    subnet's table, and BGP then withdraws the subnet (the plan says so)."""
    topo, ledger = meshed(blog())

    plan = planned(opted_out(topo, "subnet-a"), ledger)

    assert impact(plan) == {A: ((), ("10.7.7.0/24",)), B: ((), ("10.7.11.0/24",))}


def test_an_in_region_subnet_is_never_advertised() -> None:
    """BGP advertises subnets on an Outpost only: an LGW route in an In-Region subnet's table (a
    plan the planner never makes, given here by hand) advertises nothing."""
    topo = topology(
        [subnet("subnet-r", "10.7.50.0/24"), subnet("subnet-b", "10.7.11.0/24", "b")],
        [table("rt-r", "subnet-r"), table("rt-b", "subnet-b")],
        [lgw("a"), lgw("b")],
    )
    plan = Plan(
        VPC,
        routes_to_create=(
            RouteChange("rt-r", "10.7.11.0/24", "lgw-a"),
            RouteChange("rt-b", "10.7.50.0/24", "lgw-b"),
        ),
    )

    assert bgp_impact(topo, plan) == (Advertisement(B, advertised=("10.7.11.0/24",)),)


def test_a_teardown_withdraws_every_meshed_subnet() -> None:
    topo, ledger = meshed(blog())

    plan = removal_plan(topo, ledger)

    assert impact(plan) == {A: ((), ("10.7.7.0/24",)), B: ((), ("10.7.11.0/24",))}


# --------------------------------------------------------------------------- deletion safety


def test_withdrawing_a_live_subnet_counts_as_a_cutting_deletion() -> None:
    """Rack b's 3 subnets are deleted from a 2 x 3 mesh (18 owned routes). The routes to them are
    clean-up after subnets that are gone, but rack a's tables lose their last LGW route: rack a's
    3 subnets, which still exist, would be withdrawn from the customer's network. Those 9
    deletions cut (more than 30% of 18): they are held, so nothing is withdrawn."""
    topo, ledger = mesh("ab", 3)
    after = without(topo, "subnet-b0", "subnet-b1", "subnet-b2")
    diff = plan_vpc(after, ledger)

    from_rack_a = {c for c in diff.routes_to_delete if c.local_gateway_id == "lgw-a"}
    assert len(diff.routes_to_delete) == 18 and len(from_rack_a) == 9
    assert set(withdrawing_deletions(diff, after)) == from_rack_a
    assert set(cutting_deletions(diff, after)) == from_rack_a

    plan = planned(after, ledger)
    assert set(plan.routes_held) == from_rack_a
    assert any(f.kind is FindingKind.DELETION_HELD for f in plan.findings)
    assert plan.bgp_impact == ()  # the held routes keep rack a's subnets advertised

    forced = planned(after, ledger, force=True)
    assert impact(forced) == {A: ((), ("10.7.0.0/24", "10.7.1.0/24", "10.7.2.0/24"))}


def test_clean_up_that_withdraws_nothing_is_not_a_cut() -> None:
    """The same deletion with a person's route to rack a's LGW in each of its tables: rack a's
    subnets stay advertised, so it is routine clean-up and nothing is held."""
    topo, ledger = mesh("ab", 3)
    topo = replace(
        topo,
        route_tables=tuple(
            replace(t, routes=(*t.routes, Route("0.0.0.0/0", "lgw-a")))
            if t.route_table_id.startswith("rtb-a")
            else t
            for t in topo.route_tables
        ),
    )
    after = without(topo, "subnet-b0", "subnet-b1", "subnet-b2")

    diff = plan_vpc(after, ledger)
    assert withdrawing_deletions(diff, after) == () and cutting_deletions(diff, after) == ()
    plan = hold_deletions(diff, after, ledger)
    assert plan.routes_held == () and len(plan.routes_to_delete) == 18


# --------------------------------------------------------------------------- against a reference


def advertised_by_scan(topo: Topology) -> set[tuple[str, str]]:
    """(Outpost, CIDR) of every subnet BGP advertises, by a plain scan of the topology: its
    table (the first that lists it, else the main one) has a route to its Outpost's LGW."""
    result = set()
    for s in topo.subnets:
        if s.outpost_arn is None or s.cidr is None:
            continue
        gateway = next(
            (g.local_gateway_id for g in topo.lgw_route_tables if g.outpost_arn == s.outpost_arn),
            None,
        )
        tables = [t for t in topo.route_tables if s.subnet_id in t.subnet_ids]
        own = tables[0] if tables else next((t for t in topo.route_tables if t.main), None)
        if own is not None and any(r.target == gateway for r in own.routes):
            result.add((s.outpost_arn, s.cidr))
    return result


@given(scenarios())
def test_impact_is_the_difference_of_what_is_advertised_before_and_after(case: Scenario) -> None:
    plan = plan_vpc(case.topology, case.ledger, case.quarantined)
    after, _ = apply_plan(case.topology, case.ledger, plan)
    before_set, after_set = advertised_by_scan(case.topology), advertised_by_scan(after)

    got = bgp_impact(case.topology, plan)

    assert {(a.outpost_arn, c) for a in got for c in a.advertised} == after_set - before_set
    assert {(a.outpost_arn, c) for a in got for c in a.withdrawn} == before_set - after_set
    assert all(a.advertised or a.withdrawn for a in got)
