"""Approval mode's gate on plain data (outpost_mesh.approval): what waits in each mode, what an
approval of this execution lets through, what a rejection holds back and when it asks again."""

from __future__ import annotations

from dataclasses import replace

from outpost_mesh.approval import ApprovalPolicy, change_keys, digest, gate, request
from outpost_mesh.model import Approval, ApprovalStatus, FindingKind, RouteChange

from .test_advertise import meshed, planned
from .test_planner import blog
from .test_safety import mesh, opted_out, without

TOPO = blog()
PLAN = planned(TOPO)  # the blog from nothing: 2 associations, 2 routes


def test_the_blog_plan_has_what_the_tests_below_assume() -> None:
    assert len(PLAN.associations_to_create) == 2 and len(PLAN.routes_to_create) == 2


def test_none_mode_waits_for_nothing() -> None:
    assert gate(PLAN, TOPO, ApprovalPolicy("none"), None) is PLAN


def test_all_mode_makes_every_change_wait_and_keeps_nothing_to_apply() -> None:
    gated = gate(PLAN, TOPO, ApprovalPolicy("all"), None, "exec-1")
    assert not gated.has_changes
    assert gated.waiting is not None and change_keys(gated.waiting) == change_keys(PLAN)


def test_auto_approve_of_additions_lets_creations_and_associations_go() -> None:
    topo, ledger = meshed(TOPO)
    # subnet-b's rack gone from the VPC: its route in rt-a is owned clean-up; plus a new subnet
    plan = planned(without(topo, "subnet-b"), ledger)
    assert plan.routes_to_delete
    gated = gate(plan, without(topo, "subnet-b"), ApprovalPolicy("all", True), None, "e")
    assert gated.waiting is not None
    assert all(k.startswith("-") for k in change_keys(gated.waiting))
    assert not gated.routes_to_delete and not gated.associations_to_delete
    creations = gate(PLAN, TOPO, ApprovalPolicy("all", auto_additions=True), None, "e")
    assert creations.waiting is None and creations.routes_to_create == PLAN.routes_to_create


def test_deletions_mode_holds_only_deletions_that_cut_a_live_subnet() -> None:
    topo, ledger = meshed(TOPO)
    # creations go at once
    assert gate(PLAN, TOPO, ApprovalPolicy("deletions"), None, "e") is PLAN
    # subnet-b deleted: rt-a loses its last LGW route, which withdraws subnet-a (alive) -> waits
    gone = without(topo, "subnet-b")
    withdrawal = planned(gone, ledger, force=True)
    assert gate(withdrawal, gone, ApprovalPolicy("deletions"), None, "e").waiting is not None
    # a routine clean-up (a deleted subnet's routes, every table keeping an LGW route) goes
    two, owned = mesh("ab", 2)
    left = without(two, "subnet-b0")
    clean_up = planned(left, owned, force=True)
    assert clean_up.routes_to_delete
    assert gate(clean_up, left, ApprovalPolicy("deletions"), None, "e").waiting is None
    # subnet-b opted out but alive: deleting its routes cuts it off (and withdraws it) -> waits
    out = opted_out(topo, "subnet-b")
    cutting = planned(out, ledger, force=True)
    gated = gate(cutting, out, ApprovalPolicy("deletions"), None, "e")
    assert gated.routes_to_delete == () and gated.waiting is not None
    assert gated.waiting.routes_to_delete == cutting.routes_to_delete
    assert gated.waiting.bgp_impact  # its withdrawal is the impact the approver sees


def test_an_approval_holds_for_its_execution_and_its_changes_only() -> None:
    policy = ApprovalPolicy("all")
    asked = gate(PLAN, TOPO, policy, None, "exec-1").waiting
    assert asked is not None
    approved = replace(request("exec-1", asked), status=ApprovalStatus.APPROVED)
    assert gate(PLAN, TOPO, policy, approved, "exec-1").waiting is None
    assert gate(PLAN, TOPO, policy, approved, "exec-1").has_changes
    # another execution's approval approves nothing here
    assert gate(PLAN, TOPO, policy, approved, "exec-2").waiting is not None
    # a change that appeared since waits for its own approval
    extra = RouteChange("rtb-x", "10.7.99.0/24", "lgw-x", "subnet-x", ("subnet-y",))
    grown = replace(PLAN, routes_to_create=(*PLAN.routes_to_create, extra))
    again = gate(grown, TOPO, policy, approved, "exec-1")
    assert again.routes_to_create == PLAN.routes_to_create
    assert again.waiting is not None
    assert change_keys(again.waiting) == ("+route rtb-x 10.7.99.0/24 lgw-x",)


def test_a_rejection_holds_the_same_changes_back_and_a_different_plan_asks_again() -> None:
    policy = ApprovalPolicy("all")
    asked = gate(PLAN, TOPO, policy, None, "exec-1").waiting
    assert asked is not None
    rejected = Approval(
        PLAN.vpc_id,
        "exec-1",
        ApprovalStatus.REJECTED,
        digest(change_keys(asked)),
        change_keys(asked),
        decided_by="arn:aws:iam::111122223333:user/neteng",
        reason="change window",
    )
    held = gate(PLAN, TOPO, policy, rejected, "exec-9")
    assert held.waiting is None and not held.has_changes
    (finding,) = [f for f in held.findings if f.kind is FindingKind.APPROVAL_REJECTED]
    assert "neteng" in finding.message and "change window" in finding.message
    other = replace(PLAN, routes_to_create=PLAN.routes_to_create[:1])
    assert gate(other, TOPO, policy, rejected, "exec-9").waiting is not None
    expired = replace(rejected, status=ApprovalStatus.EXPIRED)
    kinds = {f.kind for f in gate(PLAN, TOPO, policy, expired, "e").findings}
    assert FindingKind.APPROVAL_EXPIRED in kinds
