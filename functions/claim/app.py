"""Workflow task: claim the VPC's lease, or hand the trigger to the execution holding it."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from outpost_mesh import workflow
from outpost_mesh.lambda_kit import logger, metrics, parse_input, services, tracer
from outpost_mesh.task_models import ClaimInput


@logger.inject_lambda_context(correlation_id_path="execution_name")
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    task = parse_input(event, ClaimInput)
    logger.append_keys(vpc_id=task.vpc_id)
    result = workflow.claim(services(), task.vpc_id, task.execution_arn)
    logger.info("lease claimed" if result["claimed"] else "VPC busy: trigger handed over")
    return result
