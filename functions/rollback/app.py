"""Workflow compensation: undo this execution's own changes, report, release the VPC."""

from __future__ import annotations

from outpost_mesh.lambda_kit import count, logger, task
from outpost_mesh.service import ReconcileService
from outpost_mesh.task_models import RollbackInput, RollbackOutput
from outpost_mesh.workflow.rollback import rollback


@task(RollbackInput)
def handler(event: RollbackInput, svc: ReconcileService) -> RollbackOutput:
    logger.append_keys(vpc_id=event.vpc_id)
    result = rollback(svc, event)
    count("Rollbacks", 1)
    logger.error("reconcile failed and was rolled back", extra=result.model_dump())
    return result
