"""Workflow task: record how AwaitApproval ended (approved, rejected, expired, timed out)."""

from __future__ import annotations

from outpost_mesh.lambda_kit import logger, task
from outpost_mesh.service import ReconcileService
from outpost_mesh.task_models import SettleApprovalInput, SettleApprovalOutput
from outpost_mesh.workflow import tasks


@task(SettleApprovalInput)
def handler(event: SettleApprovalInput, svc: ReconcileService) -> SettleApprovalOutput:
    logger.append_keys(vpc_id=event.vpc_id)
    result = tasks.settle_approval(svc, event)
    logger.info("approval %s by %s", result.status, result.decided_by)
    return result
