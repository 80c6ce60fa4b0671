"""Workflow task: apply one batch of a route table's changes, its lane's next, paced at the
lane's share of EC2's refill rate."""

from __future__ import annotations

from outpost_mesh.lambda_kit import count, logger, task
from outpost_mesh.service import ReconcileService
from outpost_mesh.task_models import ApplyRoutesInput, ApplyRoutesOutput
from outpost_mesh.workflow import tasks


@task(ApplyRoutesInput)
def handler(event: ApplyRoutesInput, svc: ReconcileService) -> ApplyRoutesOutput:
    batch = event.batch
    logger.append_keys(vpc_id=batch.vpc_id, route_table_id=batch.route_table_id, lane=batch.lane)
    result = tasks.apply_routes(svc, event)
    count("RoutesCreated", result.created)
    count("RoutesDeleted", result.deleted)
    # "created" is a LogRecord attribute: logging refuses it as an extra key (KeyError).
    logger.info(
        "route changes applied",
        extra={"routes_created": result.created, "routes_deleted": result.deleted},
    )
    return result
