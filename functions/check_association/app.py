"""Workflow task: poll the LGW route table associations until `associated` (bounded)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from outpost_mesh import workflow
from outpost_mesh.lambda_kit import logger, metrics, parse_input, services, tracer
from outpost_mesh.task_models import CheckAssociationInput


@logger.inject_lambda_context(correlation_id_path="execution_name")
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    task = parse_input(event, CheckAssociationInput)
    # vpc_id and execution_name are read when the state machine passes them along.
    logger.append_keys(vpc_id=event.get("vpc_id") if isinstance(event, dict) else None)
    result = workflow.check_association(
        services(), task.association_ids, task.checks, task.max_checks
    )
    logger.info(
        "association(s) %s %s after %d check(s)",
        ", ".join(task.association_ids),
        "still associating" if result["pending"] else "associated",
        result["checks"],
    )
    return result
