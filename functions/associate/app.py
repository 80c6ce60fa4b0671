"""Workflow task: associate the VPC with each Outpost's LGW route table it needs."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from outpost_mesh import workflow
from outpost_mesh.lambda_kit import count, logger, metrics, parse_input, services, tracer
from outpost_mesh.task_models import AssociateInput


@logger.inject_lambda_context(correlation_id_path="execution_name")
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    task = parse_input(event, AssociateInput)
    logger.append_keys(vpc_id=task.vpc_id)
    result = workflow.associate(
        services(),
        task.vpc_id,
        task.execution_name,
        [a.model_dump() for a in task.associations],
    )
    count("AssociationsCreated", result["created"])
    logger.info("associations requested", extra={"association_ids": result["association_ids"]})
    return result
