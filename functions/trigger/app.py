"""EventBridge target: a CloudTrail EC2 event names a VPC to reconcile; start its execution."""

from __future__ import annotations

from outpost_mesh.events import CloudTrailEvent, hint_from
from outpost_mesh.lambda_kit import logger, task
from outpost_mesh.service import ReconcileService
from outpost_mesh.task_models import TriggerOutput
from outpost_mesh.workflow import triggers


@task(CloudTrailEvent, correlation_id_path="id")
def handler(event: CloudTrailEvent, svc: ReconcileService) -> TriggerOutput:
    if event.detail.error_code is not None:
        # A failed call changed nothing (the rule drops these; a direct invoke may not).
        logger.info(
            "ignored: %s failed (%s), nothing changed",
            event.detail.event_name,
            event.detail.error_code[:128],
        )
        return TriggerOutput(vpcs=[], swept=False, started=[], ignored=[], failed_call=True)
    hint = hint_from(event)
    logger.append_keys(vpc_id=",".join(hint.vpc_ids) or None)
    result = triggers.trigger(svc, hint)
    logger.append_keys(vpc_id=",".join(result.vpcs) or None)
    logger.info(f"{hint.event_name}: reconcile triggered", extra=result.model_dump())
    return result
