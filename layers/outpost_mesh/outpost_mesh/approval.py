"""Approval mode: which of a pass's changes wait for a person (pure; docs/architecture.md,
"Approval mode").

The stack parameter ``ApprovalMode`` says what waits:

* ``none`` (default): nothing, zero-touch;
* ``deletions``: the route deletions that deletion safety counts (``planner.cutting_deletions``:
  they cut connectivity of subnets that still exist, between them or from on-premises by a BGP
  withdrawal) and the disassociations those routes still use; creations and routine clean-up go
  at once;
* ``all``: every change; with ``ApprovalAutoApproveAdditions``, route creations and
  associations go at once and only deletions wait.

What waits is split off the plan into ``Plan.waiting`` and asked for once per execution
(``waitForTaskToken``). An approval holds for exactly the changes it was asked for, in the
execution that asked: the pass after it re-plans from AWS as it is then and applies the approved
changes that still hold; a change that appeared meanwhile waits for a new approval. A rejection,
or a request nobody answered in time, holds its changes back (a finding) while the plan would ask
for the same changes again; a different set asks again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Literal, TypeVar

from outpost_mesh.advertise import bgp_impact
from outpost_mesh.model import (
    Advertisement,
    Approval,
    ApprovalStatus,
    AssociationChange,
    Finding,
    FindingKind,
    Plan,
    RouteChange,
    Topology,
)
from outpost_mesh.planner import cutting_deletions

ApprovalMode = Literal["none", "deletions", "all"]
MODES: tuple[ApprovalMode, ...] = ("none", "deletions", "all")
DEFAULT_TIMEOUT_SECONDS = 86400  # ApprovalTimeoutHours' default, 24

# The errors AwaitApproval ends with when not approved (SendTaskFailure's ``error``; its ``cause``
# is JSON ``{"by": ARN, "reason": TEXT}``), and Step Functions' own when its TimeoutSeconds passed.
APPROVAL_REJECTED = "ApprovalRejected"
APPROVAL_EXPIRED = "ApprovalExpired"
EXPIRED_BY = "the sweep (ApprovalTimeoutHours)"
TIMED_OUT_BY = "Step Functions (AwaitApproval's TimeoutSeconds)"
# SendTaskSuccess/SendTaskFailure's errors for a token nobody waits on any more (Step Functions
# API Reference: InvalidToken, TaskTimedOut, TaskDoesNotExist; docs/aws-facts.md).
GONE_TOKEN_CODES = frozenset({"InvalidToken", "TaskTimedOut", "TaskDoesNotExist"})


@dataclass(frozen=True)
class ApprovalPolicy:
    mode: ApprovalMode = "none"
    auto_additions: bool = False


def route_key(change: RouteChange, sign: str) -> str:
    return f"{sign}route {change.route_table_id} {change.destination} {change.local_gateway_id}"


def association_key(change: AssociationChange, sign: str) -> str:
    if sign == "+":
        return f"+association {change.lgw_route_table_id}"
    return f"-association {change.association_id or change.lgw_route_table_id}"


def change_keys(plan: Plan) -> tuple[str, ...]:
    """One key per change of ``plan``, sorted: what an approval names."""
    keys = [route_key(c, "+") for c in plan.routes_to_create]
    keys += [route_key(c, "-") for c in plan.routes_to_delete]
    keys += [association_key(a, "+") for a in plan.associations_to_create]
    keys += [association_key(a, "-") for a in plan.associations_to_delete]
    return tuple(sorted(keys))


def digest(keys: Iterable[str]) -> str:
    return hashlib.sha256("\n".join(sorted(keys)).encode()).hexdigest()[:32]


C = TypeVar("C", RouteChange, AssociationChange)


def _part(
    changes: tuple[C, ...], key: Callable[[C], str], keep: set[str], waits: bool
) -> tuple[C, ...]:
    return tuple(c for c in changes if (key(c) in keep) == waits)


def _split(plan: Plan, keep: set[str], waits: bool) -> Plan:
    """``plan``'s changes whose key is in ``keep`` (``waits``) or is not."""
    return replace(
        plan,
        routes_to_create=_part(plan.routes_to_create, lambda c: route_key(c, "+"), keep, waits),
        routes_to_delete=_part(plan.routes_to_delete, lambda c: route_key(c, "-"), keep, waits),
        associations_to_create=_part(
            plan.associations_to_create, lambda a: association_key(a, "+"), keep, waits
        ),
        associations_to_delete=_part(
            plan.associations_to_delete, lambda a: association_key(a, "-"), keep, waits
        ),
    )


def gated_keys(plan: Plan, topology: Topology, policy: ApprovalPolicy) -> set[str]:
    """The keys of the changes of ``plan`` that ``policy`` makes wait for a person."""
    if policy.mode == "none":
        return set()
    if policy.mode == "all":
        keys = set(change_keys(plan))
        if policy.auto_additions:
            keys = {k for k in keys if k.startswith("-")}
        return keys
    cutting = cutting_deletions(plan, topology)
    gateways = {c.local_gateway_id for c in cutting}
    keys = {route_key(c, "-") for c in cutting}
    keys |= {
        association_key(a, "-")
        for a in plan.associations_to_delete
        if a.local_gateway_id in gateways
    }
    return keys


def gate(
    plan: Plan,
    topology: Topology,
    policy: ApprovalPolicy,
    approval: Approval | None,
    execution: str = "",
) -> Plan:
    """``plan`` as a pass of ``execution`` runs it under ``policy``: the changes that wait moved
    to ``waiting`` (None when none waits), the ones ``approval`` approved for this execution kept,
    the ones it declined held back with a finding. ``bgp_impact`` is recomputed for each part."""
    keys = gated_keys(plan, topology, policy)
    approved = approval is not None and approval.status is ApprovalStatus.APPROVED
    if approval is not None and approved and approval.execution == execution:
        keys -= set(approval.changes)
    if not keys:
        return plan
    now = _split(plan, keys, waits=False)
    now = replace(now, bgp_impact=bgp_impact(topology, now))
    waiting = _split(
        Plan(
            plan.vpc_id,
            plan.associations_to_create,
            plan.associations_to_delete,
            plan.routes_to_create,
            plan.routes_to_delete,
        ),
        keys,
        waits=True,
    )
    if approval is not None and approval.digest == digest(keys):
        declined = _declined(approval, len(keys))
        if declined is not None:
            return replace(now, findings=tuple(sorted({*now.findings, declined})))
    return replace(now, waiting=replace(waiting, bgp_impact=bgp_impact(topology, waiting)))


def _declined(approval: Approval, changes: int) -> Finding | None:
    """The finding that holds a rejected or expired request's changes back, or None."""
    if approval.status is ApprovalStatus.REJECTED:
        kind = FindingKind.APPROVAL_REJECTED
        why = f"rejected by {approval.decided_by or 'an unknown caller'}"
        if approval.reason:
            why += f" ({approval.reason})"
    elif approval.status is ApprovalStatus.EXPIRED:
        kind = FindingKind.APPROVAL_EXPIRED
        why = "not approved before the request expired"
    else:
        return None
    return Finding(
        kind,
        approval.vpc_id,
        f"{changes} change(s) of {approval.vpc_id} asked for in {approval.execution} were "
        f"{why}: they stay undone while the plan is the same (a different plan asks again); "
        f"`outpost-mesh apply --vpc {approval.vpc_id}` applies them as your own approval",
    )


def declined(error: str, cause: object) -> tuple[ApprovalStatus, str, str]:
    """(status, who, why) of an AwaitApproval that ended with ``error`` and ``cause``."""
    told: dict[str, object] = {}
    if isinstance(cause, dict):
        told = cause
    elif isinstance(cause, str) and cause.startswith("{"):
        try:
            loaded = json.loads(cause)
        except ValueError:
            loaded = {}
        told = loaded if isinstance(loaded, dict) else {}
    by, reason = str(told.get("by") or ""), str(told.get("reason") or "")
    if error == APPROVAL_REJECTED:
        return ApprovalStatus.REJECTED, by or "an unknown caller", reason
    if error == APPROVAL_EXPIRED:
        return ApprovalStatus.EXPIRED, by or EXPIRED_BY, reason
    return ApprovalStatus.EXPIRED, TIMED_OUT_BY, f"{error}: {cause}"[:500] if cause else error


def approved_by(approval: Approval | None, execution: str) -> str:
    """Who approved ``execution``'s waiting changes ("" : nobody, or another execution's)."""
    if approval is None or approval.execution != execution:
        return ""
    return approval.decided_by if approval.status is ApprovalStatus.APPROVED else ""


def summary(waiting: Plan) -> dict[str, object]:
    """What an approval request keeps of its plan besides the change keys (``Approval.plan``):
    the counts and the on-premises impact (``Plan.to_dict``'s ``advertised``/``withdrawn``)."""
    whole = waiting.to_dict()
    return {
        "counts": waiting.counts(),
        "advertised": whole["advertised"],
        "withdrawn": whole["withdrawn"],
    }


def request(execution: str, waiting: Plan) -> Approval:
    """The approval request for ``waiting`` (``Plan.waiting``) made by ``execution``."""
    keys = change_keys(waiting)
    return Approval(
        waiting.vpc_id,
        execution,
        ApprovalStatus.PROPOSED,
        digest(keys),
        keys,
        plan=summary(waiting),
    )


def impact_of(approval: Approval) -> tuple[Advertisement, ...]:
    """The on-premises impact an approval request was asked with."""
    advertised: dict[str, list[str]] = dict(approval.plan.get("advertised") or {})
    withdrawn: dict[str, list[str]] = dict(approval.plan.get("withdrawn") or {})
    return tuple(
        Advertisement(o, tuple(advertised.get(o, ())), tuple(withdrawn.get(o, ())))
        for o in sorted(advertised.keys() | withdrawn.keys())
    )
