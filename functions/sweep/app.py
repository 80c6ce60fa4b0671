"""Scheduled sweep: a fleet diff of every managed VPC; executions only where there is work."""

from __future__ import annotations

from outpost_mesh.events import ScheduledEvent
from outpost_mesh.lambda_kit import count, logger, task
from outpost_mesh.service import ReconcileService
from outpost_mesh.task_models import SweepOutput
from outpost_mesh.workflow import triggers


@task(ScheduledEvent, correlation_id_path="id")
def handler(event: ScheduledEvent, svc: ReconcileService) -> SweepOutput:
    logger.append_keys(vpc_id="*")  # a sweep covers every managed VPC
    result, fleet = triggers.sweep(svc, event.id)
    count("SweepVpcsSeen", result.seen)
    count("SweepVpcsConverged", result.converged)
    count("SweepExecutionsStarted", result.started_count)
    # What the finding and reachability alarms watch, for every VPC on every sweep (the worst
    # VPC's value: the alarms take the Maximum, the headroom's the Minimum), so they never
    # freeze in the state of the last execution.
    count("Conflicts", fleet.conflicts)
    count("BlockedSubnets", fleet.blocked)
    count("UnreachablePairs", fleet.unreachable)
    if fleet.headroom is not None:
        count("RouteQuotaHeadroom", fleet.headroom)
    logger.info(
        "sweep: %d VPC(s) seen, %d converged, %d execution(s) started",
        result.seen,
        result.converged,
        result.started_count,
        extra=result.model_dump(),
    )
    return result
