"""Workflow task: release the lease, unless a trigger arrived during the pass (then loop)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from outpost_mesh import workflow
from outpost_mesh.lambda_kit import count, logger, metrics, parse_input, services, tracer
from outpost_mesh.task_models import ReleaseInput


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    task = parse_input(event, ReleaseInput)
    logger.append_keys(vpc_id=task.vpc_id)
    # The holder is the execution's ARN: its last part is the execution name (correlation id).
    logger.set_correlation_id(task.holder.rsplit(":", 1)[-1])
    result = workflow.release(services(), task.vpc_id, task.holder, task.seen)
    if result["again"]:
        logger.info("trigger(s) arrived during the pass: one more pass, lease kept")
    elif task.started is not None:
        seconds = (datetime.now(UTC) - task.started).total_seconds()
        count("ReconcileSeconds", seconds, MetricUnit.Seconds)
        logger.info("reconcile done in %.1f s; lease released", seconds)
    return result
