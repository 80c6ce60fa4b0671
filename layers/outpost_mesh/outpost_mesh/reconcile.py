"""Reconcile one VPC end to end: lease -> { observe -> plan -> apply -> verify } -> release.

This is the synchronous path used by the CLI (``apply``/``remove``); the Step Functions workflow
runs the same pieces as separate tasks. Both take the same per-VPC lease.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from outpost_mesh.apply import Applier
from outpost_mesh.errors import (
    OutpostMeshError,
    RackNotUpdatedError,
    ReconcileFailedError,
    RouteQuotaExceededError,
    UnsafePlanError,
)
from outpost_mesh.ledger import DEFAULT_QUARANTINE_SECONDS, LedgerStore
from outpost_mesh.model import Finding, FindingKind, PairReachability, Plan, Topology
from outpost_mesh.observe import observe_vpc
from outpost_mesh.planner import plan_vpc, removal_plan, unsafe_deletion
from outpost_mesh.verify import reachability

if TYPE_CHECKING:
    from mypy_boto3_ec2 import EC2Client

MAX_PASSES = 5


@dataclass(frozen=True)
class PassResult:
    plan: Plan
    reachability: tuple[PairReachability, ...]
    applied: bool


@dataclass(frozen=True)
class ReconcileResult:
    vpc_id: str
    passes: tuple[PassResult, ...] = ()
    findings: tuple[Finding, ...] = field(default=())

    @property
    def reachability(self) -> tuple[PairReachability, ...]:
        return self.passes[-1].reachability if self.passes else ()


def failure_finding(error: OutpostMeshError, topology: Topology, undone: int) -> Finding:
    """A finding a person can act on, for an error that stopped a pass."""
    rolled = f"; rolled back {undone} change(s) made by this run"
    if isinstance(error, RackNotUpdatedError):
        lgw = topology.lgw_by_gateway(error.subject)
        outpost = lgw.outpost_arn if lgw else error.subject
        return Finding(
            FindingKind.RACK_NOT_UPDATED,
            outpost,
            f"Outpost {outpost} rejected a route to another Outpost's subnet: this rack needs "
            "the intra-VPC communication update; contact AWS Support, then release its "
            f"quarantine (outpost-mesh release --outpost {outpost}){rolled}",
        )
    if isinstance(error, RouteQuotaExceededError):
        return Finding(
            FindingKind.ROUTE_QUOTA,
            error.subject,
            f"route table {error.subject} reached its routes-per-table quota; raise quota "
            f"L-93826ACB (Amazon VPC) or use fewer subnets per table{rolled}",
        )
    return Finding(FindingKind.ERROR, error.subject or topology.vpc_id, f"{error.message}{rolled}")


def apply_pass(
    applier: Applier,
    store: LedgerStore,
    topology: Topology,
    plan: Plan,
    quarantine_seconds: int = DEFAULT_QUARANTINE_SECONDS,
) -> None:
    """Apply a plan whole or not at all: on any error undo this pass's changes and raise."""
    try:
        applier.apply(plan)
    except OutpostMeshError as error:
        undone = len(applier.journal)
        problems = applier.rollback()
        finding = failure_finding(error, topology, undone)
        if isinstance(error, RackNotUpdatedError):
            store.quarantine(finding.subject, finding.message, quarantine_seconds)
        raise ReconcileFailedError(
            finding.message,
            cause=error,
            findings=(*plan.findings, finding),
            undone=undone,
            rollback_problems=tuple(problems),
        ) from error


def reconcile_vpc(
    ec2: EC2Client,
    store: LedgerStore,
    vpc_id: str,
    *,
    owner: str,
    report_only: bool = False,
    remove: bool = False,
    applier_factory: Callable[[], Applier] | None = None,
    quarantine_seconds: int = DEFAULT_QUARANTINE_SECONDS,
    holder_alive: Callable[[str], bool] | None = None,
    max_passes: int = MAX_PASSES,
    force: bool = False,
) -> ReconcileResult:
    """Drive the VPC to its desired state (or, with ``remove``, take out all that is owned)."""
    if report_only:
        topology = observe_vpc(ec2, vpc_id)
        ledger = store.load(vpc_id)
        plan = (
            removal_plan(topology, ledger)
            if remove
            else plan_vpc(topology, ledger, store.quarantined())
        )
        return ReconcileResult(
            vpc_id, (PassResult(plan, reachability(topology), False),), plan.findings
        )

    claim = store.claim(vpc_id, owner, holder_alive=holder_alive)
    passes: list[PassResult] = []
    findings: set[Finding] = set()
    try:
        while True:
            topology = observe_vpc(ec2, vpc_id)
            ledger = store.load(vpc_id)
            plan = (
                removal_plan(topology, ledger)
                if remove
                else plan_vpc(topology, ledger, store.quarantined())
            )
            findings.update(plan.findings)
            refusal = None if force else unsafe_deletion(plan, ledger)
            if refusal is not None:
                raise UnsafePlanError(refusal.message, subject=vpc_id)
            applier = applier_factory() if applier_factory else Applier(ec2, store, owner)
            apply_pass(applier, store, topology, plan, quarantine_seconds)
            after = observe_vpc(ec2, vpc_id) if not plan.is_empty else topology
            if plan.routes_to_create:
                store.remember_locations(
                    vpc_id,
                    tuple(sorted({s.subnet_id for s in after.subnets})),
                    tuple(sorted({t.route_table_id for t in after.route_tables})),
                )
            passes.append(PassResult(plan, reachability(after), True))
            again = store.release(claim)
            if again is None:
                break
            claim = again
            if len(passes) >= max_passes:
                store.force_release(vpc_id, owner)
                break
    except BaseException:
        store.force_release(vpc_id, owner)
        raise
    return ReconcileResult(vpc_id, tuple(passes), tuple(sorted(findings)))
