"""Workflow task: poll the new LGW route table associations until they are associated."""

from __future__ import annotations

from outpost_mesh.lambda_kit import logger, task
from outpost_mesh.service import ReconcileService
from outpost_mesh.task_models import CheckAssociationInput, CheckAssociationOutput
from outpost_mesh.workflow import tasks


@task(CheckAssociationInput)
def handler(event: CheckAssociationInput, svc: ReconcileService) -> CheckAssociationOutput:
    logger.append_keys(vpc_id=event.vpc_id)
    result = tasks.check_association(svc, event)
    logger.info(
        "association(s) %s %s after %d check(s)",
        ", ".join(event.association_ids),
        "still associating" if result.pending else "associated",
        result.checks,
    )
    return result
