"""Workflow task: verify reachability of every meshed pair after the pass."""

from __future__ import annotations

from outpost_mesh.lambda_kit import count, logger, task
from outpost_mesh.limits import more
from outpost_mesh.service import ReconcileService
from outpost_mesh.task_models import VerifyInput, VerifyOutput
from outpost_mesh.workflow import tasks


@task(VerifyInput)
def handler(event: VerifyInput, svc: ReconcileService) -> VerifyOutput:
    logger.append_keys(vpc_id=event.vpc_id)
    result = tasks.verify(svc, event)
    count("UnreachablePairs", result.unreachable)
    logger.info(
        "verified: %d pair(s) reachable, %d unreachable",
        result.reachable,
        result.unreachable,
        extra={
            "broken": [b.model_dump(by_alias=True) for b in result.broken],
            **(
                {"more": more(result.broken_left_out, event.vpc_id)}
                if result.broken_left_out
                else {}
            ),
        },
    )
    return result
