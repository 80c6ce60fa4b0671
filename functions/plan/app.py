"""Workflow task: observe the VPC and plan its changes (route batches per route table)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from outpost_mesh import workflow
from outpost_mesh.lambda_kit import (
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
    count("BlockedSubnets", result.get("blocked_subnets", 0))
    count("RouteQuotaHeadroom", result["route_quota_headroom"])
    logger.info(
        "plan: %(associations_to_create)s association(s) to create, %(associations_to_delete)s "
        "to delete, %(routes_to_create)s route(s) to create, %(routes_to_delete)s to delete, "
        "%(findings)s finding(s)",
        result["counts"],
        extra={
            "report_only": result["report_only"],
            "changes": _changes_in_words(result),
            "findings": result["findings"],
            "route_quota_headroom": result["route_quota_headroom"],
            "blocked_subnets": result.get("blocked_subnets", 0),
        },
    )
    return result


def _changes_in_words(result: dict[str, Any]) -> list[str]:
    """The plan's changes as an operator reads (and greps) them."""
    words = [
        f"associate {a['vpc_id']} with LGW route table {a['local_gateway_route_table_id']}"
        for a in result["associations_to_create"]
    ]
    words += [
        f"disassociate {a['association_id']} (LGW route table {a['local_gateway_route_table_id']})"
        for a in result["associations_to_delete"]
    ]
    # Route changes are stashed in the ledger table, not carried in the state (256 KiB limit):
    # the core logs each one as it plans it ("planned: create route ...").
    words += [
        f"apply {b['changes']} route change(s) to {b['route_table_id']} (batch {b['key']})"
        for b in result["route_batches"]
    ]
    return words
