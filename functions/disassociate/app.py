"""Workflow task: remove owned LGW route table associations no longer needed."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from outpost_mesh import workflow
from outpost_mesh.lambda_kit import logger, metrics, parse_input, services, tracer
from outpost_mesh.task_models import DisassociateInput


@logger.inject_lambda_context(correlation_id_path="execution_name")
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    task = parse_input(event, DisassociateInput)
    logger.append_keys(vpc_id=task.vpc_id)
    result = workflow.disassociate(
        services(),
        task.vpc_id,
        task.execution_name,
        [a.model_dump() for a in task.associations],
    )
    logger.info("%d owned association(s) no longer needed were deleted", result["deleted"])
    return result
