"""The sweep's verdict per VPC (``fleet.judge``), pure: an execution only where it has work;
steady states (standing conflicts, a table the quota holds back, report-only mode) start none."""

from __future__ import annotations

from dataclasses import replace
from functools import partial

from outpost_mesh.fleet import (
    CONVERGED,
    NOTHING_THERE,
    START_CHANGES,
    START_FINDINGS,
    STEADY,
    FleetSummary,
    VpcVerdict,
    judge,
)
from outpost_mesh.model import Finding, Ledger, Plan, Topology, VpcAssociation
from outpost_mesh.planner import plan_pass

from .test_planner import VPC, lgw, subnet, table, topology

QUOTA = 50


def plan_of(quota: int, t: Topology, ledger: Ledger) -> Plan:
    return plan_pass(t, ledger, frozenset(), "", share_limit=0.3, min_owned=10, quota=quota)


def verdict(
    t: Topology,
    open_findings: tuple[Finding, ...] = (),
    *,
    quota: int = QUOTA,
    report_only: bool = False,
) -> VpcVerdict:
    ledger = Ledger(VPC)
    return judge(
        t, ledger, open_findings, partial(plan_of, quota), report_only=report_only, quota=quota
    )


def two_racks(meshed: bool, conflict: bool = False) -> Topology:
    a_routes = (("10.7.11.0/24", "lgw-a"),) if meshed else ()
    if conflict:
        a_routes = (("10.7.11.0/24", "eni-someone"),)
    b_routes = (("10.7.7.0/24", "lgw-b"),) if meshed else ()
    assocs = [
        VpcAssociation(f"assoc-{r}", f"lgw-rtb-{r}", VPC, "associated", f"lgw-{r}") for r in "ab"
    ]
    return topology(
        [subnet("subnet-a", "10.7.7.0/24", "a"), subnet("subnet-b", "10.7.11.0/24", "b")],
        [table("rtb-a", "subnet-a", routes=a_routes), table("rtb-b", "subnet-b", routes=b_routes)],
        [lgw("a"), lgw("b")],
        assocs if meshed or conflict else [],
    )


def test_a_vpc_with_changes_to_apply_gets_an_execution() -> None:
    assert verdict(two_racks(meshed=False)).outcome == START_CHANGES


def test_a_converged_vpc_gets_none() -> None:
    assert verdict(two_racks(meshed=True)).outcome == CONVERGED


def test_a_vpc_with_no_outpost_subnet_and_nothing_owned_is_not_looked_at() -> None:
    t = topology([subnet("subnet-x", "10.7.1.0/24")], [table("rtb-x", "subnet-x")], [])
    assert verdict(t).outcome == NOTHING_THERE


def test_a_standing_conflict_is_new_once_then_steady() -> None:
    """rtb-a routes subnet-b's CIDR elsewhere (someone's route); the rest is meshed."""
    t = two_racks(meshed=True)
    t = replace(
        t,
        route_tables=tuple(
            table("rtb-a", "subnet-a", routes=(("10.7.11.0/24", "eni-someone"),))
            if x.route_table_id == "rtb-a"
            else x
            for x in t.route_tables
        ),
    )
    plan = plan_of(QUOTA, t, Ledger(VPC))
    first = verdict(t)

    assert not plan.has_changes, plan
    assert first.outcome == START_FINDINGS and first.conflicts == 1  # the news: recorded once
    assert verdict(t, plan.findings).outcome == STEADY  # then not restarted every hour


def test_report_only_is_steady_once_its_findings_are_recorded() -> None:
    t = two_racks(meshed=False)
    assert verdict(t, report_only=True).outcome == STEADY  # nothing to record, nothing applied


def test_a_table_the_quota_holds_back_is_steady_once_recorded() -> None:
    t = two_racks(meshed=False)
    plan = plan_of(0, t, Ledger(VPC))
    assert not plan.has_changes or plan.associations_to_create == ()
    first = verdict(t, quota=0)
    assert first.outcome == START_FINDINGS
    assert verdict(t, plan.findings, quota=0).outcome == STEADY


def test_the_summary_is_the_worst_vpc_for_every_alarm() -> None:
    verdicts = [
        VpcVerdict("vpc-1", CONVERGED, conflicts=0, blocked=1, unreachable=0, headroom=40),
        VpcVerdict("vpc-2", START_FINDINGS, conflicts=3, blocked=0, unreachable=2, headroom=7),
        VpcVerdict("vpc-3", NOTHING_THERE),
    ]
    summary = FleetSummary.of(verdicts)
    assert (summary.conflicts, summary.blocked, summary.unreachable, summary.headroom) == (
        3,
        1,
        2,
        7,
    )
    assert summary.started == 1 and summary.converged == 1
    assert replace(summary, headroom=None).headroom is None
