"""Workflow compensation: undo this execution's own changes, report, release the VPC."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from outpost_mesh import workflow
from outpost_mesh.lambda_kit import count, logger, metrics, parse_input, services, tracer
from outpost_mesh.task_models import RollbackInput


@logger.inject_lambda_context(correlation_id_path="execution_name")
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    task = parse_input(event, RollbackInput)
    logger.append_keys(vpc_id=task.vpc_id)
    result = workflow.rollback(
        services(),
        vpc_id=task.vpc_id,
        execution=task.execution_name,
        execution_arn=task.execution_arn,
        lease=task.lease.model_dump() if task.lease is not None else None,
        error=task.error.model_dump() if task.error is not None else None,
    )
    count("Rollbacks", 1)
    logger.error("reconcile failed and was rolled back", extra=result)
    return result
