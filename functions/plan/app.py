"""Workflow task: observe the VPC and plan its changes (route batches per route table)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from outpost_mesh import workflow
from outpost_mesh.lambda_kit import (
    BLOCKING_KINDS,
    count,
    logger,
    metrics,
    parse_input,
    services,
    tracer,
)
from outpost_mesh.task_models import PlanInput


@logger.inject_lambda_context(correlation_id_path="execution_name")
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    task = parse_input(event, PlanInput)
    logger.append_keys(vpc_id=task.vpc_id)
    result = workflow.plan(services(), task.vpc_id, task.execution_name)
    kinds = [f["kind"] for f in result["findings"]]
    count("Conflicts", kinds.count("conflict"))
    count("BlockedSubnets", sum(kinds.count(k) for k in BLOCKING_KINDS))
    count("RouteQuotaHeadroom", result["route_quota_headroom"])
    logger.info(
        "plan: %(associations_to_create)s association(s) to create, %(routes_to_create)s "
        "route(s) to create, %(routes_to_delete)s to delete, %(findings)s finding(s)",
        result["counts"],
        extra={"findings": result["findings"]},
    )
    return result
