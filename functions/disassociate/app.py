"""Workflow task: delete the owned LGW route table associations no longer needed."""

from __future__ import annotations

from outpost_mesh.lambda_kit import logger, task
from outpost_mesh.service import ReconcileService
from outpost_mesh.task_models import DisassociateInput, DisassociateOutput
from outpost_mesh.workflow import tasks


@task(DisassociateInput)
def handler(event: DisassociateInput, svc: ReconcileService) -> DisassociateOutput:
    logger.append_keys(vpc_id=event.vpc_id)
    result = tasks.disassociate(svc, event)
    logger.info("%d owned association(s) no longer needed were deleted", result.deleted)
    return result
