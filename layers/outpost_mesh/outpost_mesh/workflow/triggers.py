"""What starts a reconcile: a CloudTrail event (the trigger) and the schedule (the sweep).

An event only names what changed; the VPC to reconcile is read from AWS (or, for resources that
are gone, from the ledger's record of where they lived). Each start counts a trigger on the
VPC's lease first, so an execution already working on the VPC makes one more pass for it.
"""

from __future__ import annotations

import json

from botocore.exceptions import ClientError

from outpost_mesh.errors import from_client_error
from outpost_mesh.events import TriggerHint, execution_name
from outpost_mesh.fleet import (
    APPROVAL_EXPIRED,
    NOT_MANAGED,
    SWEEP_STARTED_LISTED,
    FleetSummary,
    VpcVerdict,
    judge,
)
from outpost_mesh.limits import first
from outpost_mesh.model import Ledger
from outpost_mesh.observe import observe_fleet
from outpost_mesh.service import ReconcileService
from outpost_mesh.task_models import SweepOutput, TriggerOutput


def _vpc_of_route_table(svc: ReconcileService, route_table_id: str) -> str | None:
    try:
        tables = svc.ec2.describe_route_tables(RouteTableIds=[route_table_id])["RouteTables"]
    except ClientError as error:
        mapped = from_client_error(error, subject=route_table_id)
        if mapped.code == "InvalidRouteTableID.NotFound":
            return svc.store.vpc_of("RTB", route_table_id)
        raise mapped from error
    return str(tables[0]["VpcId"]) if tables else None


def _vpc_of_subnet(svc: ReconcileService, subnet_id: str) -> str | None:
    try:
        subnets = svc.ec2.describe_subnets(SubnetIds=[subnet_id])["Subnets"]
    except ClientError as error:
        mapped = from_client_error(error, subject=subnet_id)
        if mapped.code == "InvalidSubnetID.NotFound":
            return svc.store.vpc_of("SUBNET", subnet_id)
        raise mapped from error
    return str(subnets[0]["VpcId"]) if subnets else svc.store.vpc_of("SUBNET", subnet_id)


def vpcs_for_hint(svc: ReconcileService, hint: TriggerHint) -> tuple[list[str], bool]:
    """The VPCs an event points at, and whether it fell back to a sweep of managed VPCs."""
    vpcs: list[str] = list(hint.vpc_ids)
    if not vpcs:
        for route_table_id in hint.route_table_ids:
            found = _vpc_of_route_table(svc, route_table_id)
            if found:
                vpcs.append(found)
    if not vpcs:
        for subnet_id in hint.subnet_ids:
            found = _vpc_of_subnet(svc, subnet_id)
            if found:
                vpcs.append(found)
    if vpcs:
        return sorted(set(vpcs)), False
    # DisassociateRouteTable names only an association id that no longer exists, and a deleted
    # subnet may be unknown to the ledger: sweep rather than drop a well-formed trigger.
    return svc.candidate_vpcs(), True


def start_reconcile(svc: ReconcileService, vpc_id: str, name: str, trigger: str) -> str | None:
    """Count the trigger on the VPC and start its execution; None when it already existed."""
    svc.store.add_trigger(vpc_id)
    try:
        out = svc.sfn.start_execution(
            stateMachineArn=svc.settings.state_machine_arn,
            name=name,
            input=json.dumps({"vpc_id": vpc_id, "trigger": trigger}),
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ExecutionAlreadyExists":
            return None  # a redelivered event: its execution exists already
        raise from_client_error(error, subject=vpc_id) from error
    return str(out["executionArn"])


def trigger(svc: ReconcileService, hint: TriggerHint) -> TriggerOutput:
    vpcs, swept = vpcs_for_hint(svc, hint)
    started: list[str] = []
    ignored: list[str] = []
    for vpc_id in vpcs:
        if not svc.worth_reconciling(vpc_id):
            ignored.append(vpc_id)
            continue
        arn = start_reconcile(svc, vpc_id, execution_name(vpc_id, hint.event_id), hint.event_id)
        if arn:
            started.append(arn)
    return TriggerOutput(vpcs=vpcs, swept=swept, started=started, ignored=ignored)


def sweep(svc: ReconcileService, event_id: str) -> tuple[SweepOutput, FleetSummary]:
    """The scheduled sweep as a fleet diff (``outpost_mesh.fleet``): the Region observed once,
    the ledger read once, every VPC judged in memory, and an execution started only for a VPC
    with work an execution can do. The others get no lease and no execution."""
    ledger = svc.store.fleet()
    seen = observe_fleet(svc.ec2, ledger.managed, svc.settings.opt_out_tag)
    quarantined = svc.store.quarantined()
    settings = svc.settings
    verdicts = []
    for vpc_id, topology in sorted(seen.topologies.items()):
        if not svc.managed_by_tags(seen.vpc_tags.get(vpc_id, {})):
            verdicts.append(VpcVerdict(vpc_id, NOT_MANAGED))
            continue
        verdicts.append(
            judge(
                topology,
                ledger.ledgers.get(vpc_id) or Ledger(vpc_id),
                tuple(ledger.open_findings.get(vpc_id, ())),
                lambda t, owned: svc.plan_topology(t, owned, quarantined, execution=""),
                report_only=settings.report_only,
                quota=settings.routes_per_table,
                account_id=svc.account_id,
                quarantined=quarantined,
                now=svc.store.clock(),
            )
        )
    for verdict in verdicts:
        approval = ledger.ledger(verdict.vpc_id).approval
        if verdict.outcome == APPROVAL_EXPIRED and approval is not None:
            svc.expire_approval(approval)
    started: list[str] = []
    for verdict in verdicts:
        if not verdict.start:
            continue
        name = execution_name(verdict.vpc_id, event_id, prefix="sweep-")
        arn = start_reconcile(svc, verdict.vpc_id, name, f"sweep:{event_id}:{verdict.outcome}")
        if arn:
            started.append(arn)
    summary = FleetSummary.of(verdicts)
    listed, left_out = first(started, SWEEP_STARTED_LISTED)
    output = SweepOutput(
        seen=len(verdicts),
        converged=summary.converged,
        started_count=len(started),
        outcomes=dict(summary.outcomes),
        started=listed,
        started_left_out=left_out,
        describe_calls=dict(seen.calls),
        ledger_pages=ledger.pages,
    )
    return output, summary
