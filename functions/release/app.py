"""Workflow task: release the lease, unless a trigger arrived during the pass (then loop)."""

from __future__ import annotations

from datetime import UTC, datetime

from aws_lambda_powertools.metrics import MetricUnit

from outpost_mesh.lambda_kit import count, logger, task
from outpost_mesh.service import ReconcileService
from outpost_mesh.task_models import ReleaseInput, ReleaseOutput
from outpost_mesh.workflow import tasks


@task(ReleaseInput, correlation_id_path=None)
def handler(event: ReleaseInput, svc: ReconcileService) -> ReleaseOutput:
    logger.append_keys(vpc_id=event.vpc_id)
    # The holder is the execution's ARN: its last part is the execution name (correlation id).
    logger.set_correlation_id(event.holder.rsplit(":", 1)[-1])
    result = tasks.release(svc, event)
    if result.again:
        logger.info("trigger(s) arrived during the pass: one more pass, lease kept")
    elif event.started is not None:
        seconds = (datetime.now(UTC) - event.started).total_seconds()
        count("ReconcileSeconds", seconds, MetricUnit.Seconds)
        logger.info("reconcile done in %.1f s; lease released", seconds)
    return result
