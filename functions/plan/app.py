"""Workflow task: observe the VPC and plan its changes (route batches per route table)."""

from __future__ import annotations

from outpost_mesh.lambda_kit import count, logger, task
from outpost_mesh.limits import more
from outpost_mesh.model import FindingKind
from outpost_mesh.service import ReconcileService
from outpost_mesh.task_models import PlanInput, PlanOutput
from outpost_mesh.workflow import tasks


@task(PlanInput)
def handler(event: PlanInput, svc: ReconcileService) -> PlanOutput:
    logger.append_keys(vpc_id=event.vpc_id)
    result = tasks.plan(svc, event)
    count("Conflicts", result.finding_count(FindingKind.CONFLICT))
    count("BlockedSubnets", result.blocked_subnets)
    count("RouteQuotaHeadroom", result.route_quota_headroom)
    count("DeletionsHeld", result.counts.get("routes_held", 0))
    logger.info(
        "plan: %(associations_to_create)s association(s) to create, %(associations_to_delete)s "
        "to delete, %(routes_to_create)s route(s) to create, %(routes_to_delete)s to delete, "
        "%(findings)s finding(s)",
        result.counts,
        extra={
            "report_only": result.report_only,
            "changes": _changes_in_words(result),
            "findings": [f.model_dump(mode="json") for f in result.findings],
            **_left_out(result),
            "route_quota_headroom": result.route_quota_headroom,
            "blocked_subnets": result.blocked_subnets,
        },
    )
    return result


def _left_out(result: PlanOutput) -> dict[str, object]:
    """What the result's findings leave out (rule 10), per kind and where to read it whole."""
    left_out = sum(result.findings_left_out.values())
    if not left_out:
        return {}
    return {"findings_left_out": result.findings_left_out, "more": more(left_out, result.vpc_id)}


def _changes_in_words(result: PlanOutput) -> list[str]:
    """The plan's changes as an operator reads (and greps) them."""
    words = [
        f"associate {a.vpc_id} with LGW route table {a.local_gateway_route_table_id}"
        for a in result.associations_to_create
    ]
    words += [
        f"disassociate {a.association_id} (LGW route table {a.local_gateway_route_table_id})"
        for a in result.associations_to_delete
    ]
    # Route changes are stashed in the ledger table, not carried in the state (256 KiB limit):
    # the core logs each one as it plans it ("planned: create route ...").
    words += [
        f"apply {b.changes} route change(s) to {b.route_table_id} (batch {b.key})"
        for b in result.route_batches
    ]
    return words
