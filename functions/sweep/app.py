"""Scheduled sweep: reconcile every managed VPC with Outpost subnets or owned changes."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from outpost_mesh import workflow
from outpost_mesh.events import ScheduledEvent
from outpost_mesh.lambda_kit import logger, metrics, parse_input, services, tracer


@logger.inject_lambda_context(correlation_id_path="id")
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    scheduled = parse_input(event, ScheduledEvent)
    logger.append_keys(vpc_id="*")  # a sweep covers every managed VPC
    result = workflow.sweep(services(), scheduled.id)
    logger.info("sweep started executions", extra=result)
    return result
