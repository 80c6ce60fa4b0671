"""The reconcile workflow's tasks: claim -> { plan -> associate -> check* -> apply batches ->
disassociate -> verify -> release } (statemachine/reconcile.asl.json), each a thin driver of
the reconcile service.

Ownership: every route or association is recorded in the ledger with the execution's name as
owner before (routes) or as (associations) it is created, so the rollback undoes exactly this
execution's own changes, even those of a Map iteration whose result was lost with a failure.
"""

from __future__ import annotations

from typing import Any

from outpost_mesh.approval import approved_by
from outpost_mesh.errors import AssociationFailedError, LeaseBusyError, MalformedInputError
from outpost_mesh.ledger import LeaseClaim
from outpost_mesh.limits import PLAN_FINDINGS_PER_KIND, VERIFY_BROKEN_PAIRS, first, first_per_kind
from outpost_mesh.model import Plan
from outpost_mesh.service import ReconcileService
from outpost_mesh.task_models import (
    ApplyRoutesInput,
    ApplyRoutesOutput,
    AssociateInput,
    AssociateOutput,
    AssociationItem,
    BatchRef,
    BrokenPair,
    CheckAssociationInput,
    CheckAssociationOutput,
    ClaimInput,
    ClaimOutput,
    DisassociateInput,
    DisassociateOutput,
    FindingItem,
    PlanInput,
    PlanOutput,
    ReleaseInput,
    ReleaseOutput,
    RequestApprovalInput,
    RequestApprovalOutput,
    RouteBatch,
    SettleApprovalInput,
    SettleApprovalOutput,
    VerifyInput,
    VerifyOutput,
)
from outpost_mesh.verify import blocked_subnets, route_quota_headroom
from outpost_mesh.workflow.batching import batch_pacer, route_batches, stash_batches


def claim(svc: ReconcileService, task: ClaimInput) -> ClaimOutput:
    try:
        got = svc.claim(task.vpc_id, task.execution_arn)
    except LeaseBusyError:
        return ClaimOutput(claimed=False, holder=task.execution_arn, seen=0)
    return ClaimOutput(claimed=True, holder=got.holder, seen=got.seen)


def plan(svc: ReconcileService, task: PlanInput) -> PlanOutput:
    """Plan the VPC, record and notify its findings, stash its route changes in batches."""
    settings = svc.settings
    if not svc.is_managed(task.vpc_id):
        return _plan_output(Plan(task.vpc_id), True, settings.routes_per_table, 0, [])
    planned = svc.plan(task.vpc_id, execution=task.execution_name)
    result = svc.record(planned, task.execution_name)  # refused by deletion safety: findings only
    approval_needed = result.waiting is not None and not settings.report_only
    if approval_needed:
        assert result.waiting is not None
        svc.propose_approval(task.execution_name, result.waiting)
    if result.has_changes and not settings.report_only:
        # who approved this execution's changes, as the pass's own ledger read says
        svc.remember_pass(
            task.execution_name, result, approved_by(planned.ledger.approval, task.execution_name)
        )
    batches = []
    if not settings.report_only and (result.routes_to_create or result.routes_to_delete):
        # EC2's bucket is taken as full only on the execution's first pass: a later one comes
        # seconds after its own calls (a plan retried after stashing is treated the same way).
        first_pass = not svc.store.has_stashed_plan(task.execution_name)
        batches = stash_batches(
            svc.store,
            task.execution_name,
            route_batches(result),
            lanes=settings.apply_concurrency,
            rate=settings.mutating_rate,
            burst=first_pass,
            burst_size=settings.mutating_burst,
        )
    output = _plan_output(
        result,
        settings.report_only,
        route_quota_headroom(planned.topology, result, settings.routes_per_table),
        blocked_subnets(planned.topology, result.findings),
        batches,
    )
    return output.model_copy(update={"approval_needed": approval_needed})


def _plan_output(
    result: Plan,
    report_only: bool,
    headroom: int,
    blocked: int,
    lanes: list[list[dict[str, Any]]],
) -> PlanOutput:
    changes = not report_only and result.has_changes
    # Rule 10: the first findings of each kind, and per kind how many more (the ledger table has
    # them all; outpost-mesh status --vpc ID shows them).
    kept, left_out = first_per_kind(result.findings, lambda f: f.kind, PLAN_FINDINGS_PER_KIND)
    return PlanOutput(
        vpc_id=result.vpc_id,
        report_only=report_only,
        has_changes=changes,
        associations_to_create=(
            [AssociationItem.of(c) for c in result.associations_to_create] if changes else []
        ),
        associations_to_delete=(
            [AssociationItem.of(c) for c in result.associations_to_delete] if changes else []
        ),
        route_lanes=[[BatchRef.model_validate(b) for b in lane] for lane in lanes],
        counts=result.counts(),
        route_quota_headroom=headroom,
        blocked_subnets=blocked,
        findings=[FindingItem.of(f) for f in kept],
        findings_left_out=left_out,
    )


def associate(svc: ReconcileService, task: AssociateInput) -> AssociateOutput:
    if task.associations:
        svc.require_lease(task.vpc_id, task.execution_name)
    applier = svc.applier(task.execution_name)  # a few calls of their own API (bucket) at most
    ids = [applier.create_association(a.change()) for a in task.associations]
    pending = any(applier.association_state(i) != "associated" for i in ids)
    return AssociateOutput(association_ids=ids, pending=pending, created=len(applier.journal))


def check_association(svc: ReconcileService, task: CheckAssociationInput) -> CheckAssociationOutput:
    applier = svc.applier("check")
    pending = False
    for association_id in task.association_ids:
        state = applier.association_state(association_id)
        if state == "associated":
            continue
        if state not in ("associating", "pending"):
            raise AssociationFailedError(
                f"LGW route table association {association_id} is {state}, not associated",
                subject=association_id,
            )
        pending = True
    checks = task.checks + 1
    if pending and checks >= task.max_checks:
        raise AssociationFailedError(
            f"LGW route table association(s) {', '.join(task.association_ids)} still "
            f"associating after {checks} checks",
            subject=",".join(task.association_ids),
        )
    return CheckAssociationOutput(
        association_ids=task.association_ids, pending=pending, checks=checks
    )


def apply_routes(svc: ReconcileService, task: ApplyRoutesInput) -> ApplyRoutesOutput:
    """One batch of a route table's changes (its lane's next), paced at its lane's share of EC2's
    mutating bucket; deletions first, they make room under the routes-per-table quota."""
    batch = task.batch
    pacer = batch_pacer(svc.settings, batch.share, batch.tokens, retry=task.retry)
    if batch.key:
        stored = svc.store.stashed_plan_batch(task.execution_name, batch.key)
        if stored is None:
            raise MalformedInputError(
                f"no stashed route batch {batch.key} for execution {task.execution_name}"
            )
        batch = RouteBatch.model_validate(
            {**stored, "vpc_id": batch.vpc_id, "route_table_id": batch.route_table_id}
        )
    if batch.creates or batch.deletes:
        svc.require_lease(batch.vpc_id, task.execution_name)
    applier = svc.applier(task.execution_name, pacer)
    for change in batch.deletes:
        applier.delete_route(batch.vpc_id, change.change())
    created = sum(1 for c in batch.creates if applier.create_route(batch.vpc_id, c.change()))
    return ApplyRoutesOutput(
        route_table_id=batch.route_table_id, created=created, deleted=len(batch.deletes)
    )


def disassociate(svc: ReconcileService, task: DisassociateInput) -> DisassociateOutput:
    if task.associations:
        svc.require_lease(task.vpc_id, task.execution_name)
    applier = svc.applier("disassociate")
    for item in task.associations:
        applier.delete_association(item.change())
    return DisassociateOutput(deleted=len(task.associations))


def verify(svc: ReconcileService, task: VerifyInput) -> VerifyOutput:
    result = svc.verify(task.vpc_id)
    broken, left_out = first(result.broken, VERIFY_BROKEN_PAIRS)  # rule 10: status shows all
    return VerifyOutput(
        reachable=result.reachable,
        unreachable=len(result.broken),
        broken=[BrokenPair.of(p) for p in broken],
        broken_left_out=left_out,
    )


def release(svc: ReconcileService, task: ReleaseInput) -> ReleaseOutput:
    again = svc.store.release(LeaseClaim(task.vpc_id, task.holder, task.seen))
    if again is None:
        # the execution's end: on the Organization's hub, when there is one, what it changed
        svc.report_success(task.vpc_id, task.holder.rsplit(":", 1)[-1])
        return ReleaseOutput(again=False, holder=task.holder, seen=task.seen)
    return ReleaseOutput(again=True, holder=again.holder, seen=again.seen)


def request_approval(svc: ReconcileService, task: RequestApprovalInput) -> RequestApprovalOutput:
    """The pass's waiting changes now wait on the execution's task token (AwaitApproval,
    ``waitForTaskToken``): recorded with their expiry, the VPC's lease kept until then, and a
    person told what waits and how to answer."""
    approval = svc.await_approval(task.vpc_id, task.execution_arn, task.task_token)
    return RequestApprovalOutput(
        vpc_id=task.vpc_id, changes=len(approval.changes), expires_at=approval.expires_at
    )


def settle_approval(svc: ReconcileService, task: SettleApprovalInput) -> SettleApprovalOutput:
    """Record how AwaitApproval ended: approved (``answer``, what ``outpost-mesh approve`` sent)
    or not (``error``: rejected by a person, expired by the sweep, timed out by Step Functions).
    The next pass applies the approved changes, or holds the declined ones with a finding."""
    decided = svc.settle_approval(task.vpc_id, task.execution_name, task.answer, task.error)
    return SettleApprovalOutput(
        vpc_id=task.vpc_id, status=str(decided.status), decided_by=decided.decided_by
    )
