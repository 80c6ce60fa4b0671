"""Workflow task: route-level reachability of every meshed pair after the pass."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from outpost_mesh import workflow
from outpost_mesh.lambda_kit import count, logger, metrics, parse_input, services, tracer
from outpost_mesh.task_models import VerifyInput


@logger.inject_lambda_context(correlation_id_path="execution_name")
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    task = parse_input(event, VerifyInput)
    logger.append_keys(vpc_id=task.vpc_id)
    result = workflow.verify(services(), task.vpc_id)
    count("UnreachablePairs", result["unreachable"])
    logger.info(
        "verified: %d pair(s) reachable, %d unreachable",
        result["reachable"],
        result["unreachable"],
        extra={"broken": result["broken"]},
    )
    return result
