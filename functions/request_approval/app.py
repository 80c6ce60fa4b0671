"""Workflow task (AwaitApproval, waitForTaskToken): the pass's waiting changes wait on the task
token; a person is told what waits and how to approve or reject it."""

from __future__ import annotations

from outpost_mesh.lambda_kit import count, logger, task
from outpost_mesh.service import ReconcileService
from outpost_mesh.task_models import RequestApprovalInput, RequestApprovalOutput
from outpost_mesh.workflow import tasks


@task(RequestApprovalInput, correlation_id_path=None)
def handler(event: RequestApprovalInput, svc: ReconcileService) -> RequestApprovalOutput:
    logger.append_keys(vpc_id=event.vpc_id)
    logger.set_correlation_id(event.execution_arn.rsplit(":", 1)[-1])
    result = tasks.request_approval(svc, event)
    count("ApprovalsRequested", 1)
    logger.info(
        "%d change(s) wait for approval until %d (epoch seconds)",
        result.changes,
        result.expires_at,
    )
    return result
