"""EventBridge target: a CloudTrail EC2 event names a VPC to reconcile; start its execution."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from outpost_mesh import workflow
from outpost_mesh.events import CloudTrailEvent, hint_from
from outpost_mesh.lambda_kit import logger, metrics, parse_input, services, tracer


@logger.inject_lambda_context(correlation_id_path="id")
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    parsed = parse_input(event, CloudTrailEvent)
    if parsed.detail.error_code is not None:
        # A failed call changed nothing (the rule drops these; a direct invoke may not).
        logger.info(
            "ignored: %s failed (%s), nothing changed",
            parsed.detail.event_name,
            parsed.detail.error_code[:128],
        )
        return {"vpcs": [], "swept": False, "started": [], "ignored": [], "failed_call": True}
    hint = hint_from(parsed)
    logger.append_keys(vpc_id=",".join(hint.vpc_ids) or None)
    result = workflow.trigger(services(), hint)
    logger.append_keys(vpc_id=",".join(result["vpcs"]) or None)
    logger.info(f"{hint.event_name}: reconcile triggered", extra=result)
    return result
