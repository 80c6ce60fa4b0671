"""The routes-per-table quota known up front (docs/architecture.md, rule 4): a table that cannot
take all of its new routes takes none, its pairs are left out both ways, the rest is meshed."""

from __future__ import annotations

from dataclasses import replace

from outpost_mesh.model import FindingKind, Ledger, OwnedRoute, QuotaRefusal, Route, Topology
from outpost_mesh.planner import fit_quota, plan_vpc, quota_digest
from outpost_mesh.verify import route_quota_headroom

from .test_planner import lgw, subnet, table, topology

QUOTA = 10


def racks(extra_in_a: int) -> Topology:
    """Three racks: a0 (its table already holds ``extra_in_a`` other routes), b0 and c0; a new
    subnet b1 is to be meshed with everything."""
    filler = tuple((f"192.168.{i}.0/24", f"eni-{i:03d}") for i in range(extra_in_a))
    return topology(
        [
            subnet("subnet-a0", "10.7.0.0/24", "a"),
            subnet("subnet-b0", "10.7.10.0/24", "b"),
            subnet("subnet-b1", "10.7.11.0/24", "b"),
            subnet("subnet-c0", "10.7.20.0/24", "c"),
        ],
        [
            table("rtb-a0", "subnet-a0", routes=filler),
            table("rtb-b0", "subnet-b0"),
            table("rtb-b1", "subnet-b1"),
            table("rtb-c0", "subnet-c0"),
        ],
        [lgw("a"), lgw("b"), lgw("c")],
    )


def pairs(topo: Topology, quota: int) -> tuple[set[tuple[str, str]], set[str]]:
    """(source subnet, destination subnet) of every route the fitted plan creates, and the
    tables with a route-quota finding."""
    plan = fit_quota(plan_vpc(topo, Ledger(topo.vpc_id)), topo, quota)
    made = {
        (s, c.destination_subnet_id) for c in plan.routes_to_create for s in c.source_subnet_ids
    }
    full = {f.subject for f in plan.findings if f.kind is FindingKind.ROUTE_QUOTA}
    return made, full


def test_a_full_table_takes_none_of_its_routes_and_its_pairs_are_left_out_both_ways() -> None:
    made, full = pairs(racks(extra_in_a=QUOTA - 2), QUOTA)  # a0 needs 3 new routes: 11 > 10

    assert full == {"rtb-a0"}
    assert not any(src == "subnet-a0" for src, _ in made)  # no call to the full table
    assert not any(dst == "subnet-a0" for _, dst in made)  # and nothing one-way towards a0
    # everything else is meshed: b0, b1 and c0 with one another
    assert {("subnet-b1", "subnet-c0"), ("subnet-c0", "subnet-b1")} <= made
    assert {("subnet-b0", "subnet-c0"), ("subnet-c0", "subnet-b0")} <= made


def test_a_table_filled_exactly_to_its_quota_is_not_held_back() -> None:
    made, full = pairs(racks(extra_in_a=QUOTA - 3), QUOTA)  # 7 + 3 = 10

    assert full == set()
    assert ("subnet-a0", "subnet-b1") in made


def test_the_plans_own_deletions_in_the_table_make_room() -> None:
    """Two owned routes in a0's table serve a subnet that is gone: their deletion makes room."""
    topo = racks(extra_in_a=QUOTA - 3)
    gone = (Route("10.7.30.0/24", "lgw-a"), Route("10.7.31.0/24", "lgw-a"))
    topo = replace(
        topo,
        route_tables=tuple(
            replace(t, routes=t.routes + gone) if t.route_table_id == "rtb-a0" else t
            for t in topo.route_tables
        ),
    )
    ledger = Ledger(
        topo.vpc_id,
        tuple(
            OwnedRoute("rtb-a0", r.destination, "lgw-a", "subnet-gone", ("subnet-a0",))
            for r in gone
        ),
    )
    plan = fit_quota(plan_vpc(topo, ledger), topo, QUOTA)

    assert len(plan.routes_to_delete) == 2
    assert not any(f.kind is FindingKind.ROUTE_QUOTA for f in plan.findings)
    assert any(c.route_table_id == "rtb-a0" for c in plan.routes_to_create)


def test_local_and_ipv6_routes_do_not_count() -> None:
    topo = racks(extra_in_a=QUOTA - 3)
    v6 = tuple(Route(f"2600:1f14:aaaa:{i}::/64", f"eni-6{i}") for i in range(5))
    topo = replace(
        topo,
        route_tables=tuple(
            replace(t, routes=t.routes + v6) if t.route_table_id == "rtb-a0" else t
            for t in topo.route_tables
        ),
    )

    _, full = pairs(topo, QUOTA)

    assert full == set()


def refused(topo: Topology, quota: int, table_id: str = "rtb-a0") -> Ledger:
    """The ledger after AWS refused a route of ``table_id`` (RouteLimitExceeded) in this very
    situation: what ``ReconcileService.remember_quota_refusal`` records."""
    plan = plan_vpc(topo, Ledger(topo.vpc_id))
    digest = quota_digest(plan, topo, table_id, quota)
    return Ledger(topo.vpc_id, quota_refusals=(QuotaRefusal(table_id, digest, 3, quota),))


def held(topo: Topology, ledger: Ledger, quota: int) -> tuple[set[tuple[str, str]], set[str]]:
    plan = fit_quota(plan_vpc(topo, ledger), topo, quota, ledger)
    made = {
        (s, c.destination_subnet_id) for c in plan.routes_to_create for s in c.source_subnet_ids
    }
    return made, {f.subject for f in plan.findings if f.kind is FindingKind.ROUTE_QUOTA}


def test_a_table_aws_refused_is_left_out_both_ways_while_nothing_changed() -> None:
    """The parameter says 50, AWS's real quota is lower: a RouteLimitExceeded taught it. The
    next plan of the same situation sends nothing to that table and nothing one-way towards it,
    and meshes the rest."""
    topo = racks(extra_in_a=0)

    made, full = held(topo, refused(topo, 50), 50)

    assert full == {"rtb-a0"}
    assert not any("subnet-a0" in pair for pair in made)
    assert {("subnet-b1", "subnet-c0"), ("subnet-c0", "subnet-b1")} <= made
    message = next(
        f.message
        for f in fit_quota(
            plan_vpc(topo, Ledger(topo.vpc_id)), topo, 50, refused(topo, 50)
        ).findings
        if f.kind is FindingKind.ROUTE_QUOTA
    )
    assert "RouteLimitExceeded" in message and "RoutesPerTableQuota" in message


def test_a_refused_table_is_tried_again_when_it_its_routes_or_the_quota_change() -> None:
    topo = racks(extra_in_a=0)
    ledger = refused(topo, 50)
    # the table changed: a person removed a route from it (here: it had one more before)
    before = replace(
        topo,
        route_tables=tuple(
            replace(t, routes=(*t.routes, Route("192.168.99.0/24", "eni-099")))
            if t.route_table_id == "rtb-a0"
            else t
            for t in topo.route_tables
        ),
    )
    changed_table = held(topo, refused(before, 50), 50)[1]
    # the routes it needs changed: a subnet of rack c was deleted
    fewer = replace(
        topo,
        subnets=tuple(s for s in topo.subnets if s.subnet_id != "subnet-c0"),
        route_tables=tuple(t for t in topo.route_tables if t.route_table_id != "rtb-c0"),
    )
    changed_routes = held(fewer, ledger, 50)[1]
    # the parameter changed: RoutesPerTableQuota raised to 60
    changed_quota = held(topo, ledger, 60)[1]

    assert held(topo, ledger, 50)[1] == {"rtb-a0"}  # the control: nothing changed, held
    assert changed_table == set()
    assert changed_routes == set()
    assert changed_quota == set()


def test_route_quota_headroom_counts_routes_as_the_quota_check_does() -> None:
    """IPv6 and local routes do not count towards the IPv4 quota in the alarm's metric either."""
    topo = racks(extra_in_a=QUOTA - 3)
    v6 = tuple(Route(f"2600:1f14:aaaa:{i}::/64", "lgw-a") for i in range(5))
    topo = replace(
        topo,
        route_tables=tuple(
            replace(t, routes=t.routes + v6) if t.route_table_id == "rtb-a0" else t
            for t in topo.route_tables
        ),
    )
    plan = fit_quota(plan_vpc(topo, Ledger(topo.vpc_id)), topo, QUOTA)

    assert route_quota_headroom(topo, plan, QUOTA) == 0  # 7 + 3 new = 10 of 10; v6 apart
