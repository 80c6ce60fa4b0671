"""Workflow task: claim the VPC's lease (or hand the trigger to the execution holding it)."""

from __future__ import annotations

from outpost_mesh.lambda_kit import logger, task
from outpost_mesh.service import ReconcileService
from outpost_mesh.task_models import ClaimInput, ClaimOutput
from outpost_mesh.workflow import tasks


@task(ClaimInput)
def handler(event: ClaimInput, svc: ReconcileService) -> ClaimOutput:
    logger.append_keys(vpc_id=event.vpc_id)
    result = tasks.claim(svc, event)
    logger.info("lease claimed" if result.claimed else "VPC busy: trigger handed over")
    return result
