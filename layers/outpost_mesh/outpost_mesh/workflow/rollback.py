"""The workflow's compensation: undo this execution's own changes, report, give the VPC back.

Runs from every Catch of the state machine. Only what the ledger says this execution created is
undone, newest first (the saga pattern; docs/aws-facts.md, "Step Functions"); undoing is
idempotent, so the task's own Retry may run it again.
"""

from __future__ import annotations

from outpost_mesh.apply import JournalEntry, undo
from outpost_mesh.errors import CaughtError
from outpost_mesh.events import execution_name
from outpost_mesh.service import ReconcileService
from outpost_mesh.task_models import RollbackInput, RollbackOutput
from outpost_mesh.workflow.triggers import start_reconcile


def rollback(svc: ReconcileService, task: RollbackInput) -> RollbackOutput:
    vpc_id, execution = task.vpc_id, task.execution_name
    failure = CaughtError.decode(task.error.model_dump() if task.error is not None else None)
    routes, associations = svc.store.owned_by(vpc_id, execution)
    for route in routes:
        undo(svc.ec2, svc.store, JournalEntry.route_created(vpc_id, route))
    for assoc in associations:
        undo(svc.ec2, svc.store, JournalEntry.association_created(vpc_id, assoc.association_id))
    undone = len(routes) + len(associations)
    finding = svc.report_failure(vpc_id, failure, undone=undone, actor=execution)

    restarted = ""
    lease = task.lease
    if lease is not None and lease.holder == task.execution_arn:
        current = svc.store.lease(vpc_id) or {}
        arrived = int(current.get("triggers", 0)) > lease.seen
        svc.store.force_release(vpc_id, task.execution_arn)
        if arrived and svc.settings.state_machine_arn:
            # A trigger came in while this execution failed: it is not lost, it gets a pass.
            name = execution_name(vpc_id, execution, prefix="retry-")
            restarted = start_reconcile(svc, vpc_id, name, execution) or ""
    return RollbackOutput(
        error=failure.name, cause=finding.message, undone=undone, restarted=restarted
    )
