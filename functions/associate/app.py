"""Workflow task: associate the VPC with the LGW route tables the plan needs."""

from __future__ import annotations

from outpost_mesh.lambda_kit import count, logger, task
from outpost_mesh.service import ReconcileService
from outpost_mesh.task_models import AssociateInput, AssociateOutput
from outpost_mesh.workflow import tasks


@task(AssociateInput)
def handler(event: AssociateInput, svc: ReconcileService) -> AssociateOutput:
    logger.append_keys(vpc_id=event.vpc_id)
    result = tasks.associate(svc, event)
    count("AssociationsCreated", result.created)
    logger.info("associations requested", extra={"association_ids": result.association_ids})
    return result
