"""Workflow task: apply one route table's route changes, paced at EC2's refill rate."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from outpost_mesh import workflow
from outpost_mesh.lambda_kit import count, logger, metrics, parse_input, services, tracer
from outpost_mesh.task_models import ApplyRoutesInput


@logger.inject_lambda_context(correlation_id_path="execution_name")
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    task = parse_input(event, ApplyRoutesInput)
    logger.append_keys(vpc_id=task.batch.vpc_id, route_table_id=task.batch.route_table_id)
    result = workflow.apply_routes(
        services(), task.batch.model_dump(), task.execution_name, retry=task.retry
    )
    count("RoutesCreated", result["created"])
    count("RoutesDeleted", result["deleted"])
    # "created" is a LogRecord attribute: logging refuses it as an extra key (KeyError).
    logger.info(
        "route changes applied",
        extra={"routes_created": result["created"], "routes_deleted": result["deleted"]},
    )
    return result
