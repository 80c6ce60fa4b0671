"""Scheduled sweep: reconcile every managed VPC with Outpost subnets or owned changes."""

from __future__ import annotations

from outpost_mesh.events import ScheduledEvent
from outpost_mesh.lambda_kit import logger, task
from outpost_mesh.service import ReconcileService
from outpost_mesh.task_models import SweepOutput
from outpost_mesh.workflow import triggers


@task(ScheduledEvent, correlation_id_path="id")
def handler(event: ScheduledEvent, svc: ReconcileService) -> SweepOutput:
    logger.append_keys(vpc_id="*")  # a sweep covers every managed VPC
    result = triggers.sweep(svc, event.id)
    logger.info("sweep started executions", extra=result.model_dump())
    return result
