"""Reconcile one VPC end to end in one process: the CLI's ``apply``/``remove`` and ``plan``.

A driver of the reconcile service, like the workflow's tasks: lease -> { plan (recorded and
notified) -> apply -> verify } until no trigger arrived meanwhile -> release; a failed pass is
undone by this run and reported as the workflow reports it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from outpost_mesh.apply import Applier
from outpost_mesh.errors import OutpostMeshError, ReconcileFailedError
from outpost_mesh.model import Finding, PairReachability, Plan
from outpost_mesh.service import ReconcileService, failure_of
from outpost_mesh.verify import reachability

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
    findings: tuple[Finding, ...] = ()

    @property
    def reachability(self) -> tuple[PairReachability, ...]:
        return self.passes[-1].reachability if self.passes else ()


def preview(
    svc: ReconcileService, vpc_id: str, *, remove: bool = False, force: bool = False
) -> ReconcileResult:
    """What a reconcile would change and why (deletions it would hold among it, unless
    ``force``): reads only, records and notifies nothing."""
    planned = svc.plan(vpc_id, remove=remove, force=force)
    pairs = reachability(planned.topology)
    return ReconcileResult(vpc_id, (PassResult(planned.plan, pairs, False),), planned.plan.findings)


def reconcile_vpc(
    svc: ReconcileService,
    vpc_id: str,
    *,
    owner: str,
    remove: bool = False,
    applier_factory: Callable[[], Applier] | None = None,
    max_passes: int = MAX_PASSES,
    force: bool = False,
) -> ReconcileResult:
    """Drive the VPC to its desired state (or, with ``remove``, take out all that is owned)."""
    claim = svc.claim(vpc_id, owner)
    passes: list[PassResult] = []
    findings: set[Finding] = set()
    try:
        while True:
            planned = svc.plan(vpc_id, remove=remove, force=force)
            plan = svc.record(planned, owner)
            findings.update(plan.findings)
            applier = applier_factory() if applier_factory else Applier(svc.ec2, svc.store, owner)
            try:
                applier.apply(plan)
            except OutpostMeshError as error:
                undone = len(applier.journal)
                problems = applier.rollback()
                finding = svc.report_failure(
                    vpc_id,
                    failure_of(error),
                    undone=undone,
                    actor=owner,
                    topology=planned.topology,
                )
                raise ReconcileFailedError(
                    finding.message,
                    cause=error,
                    findings=(*plan.findings, finding),
                    undone=undone,
                    rollback_problems=tuple(problems),
                ) from error
            after = svc.observe(vpc_id) if not plan.is_empty else planned.topology
            passes.append(PassResult(plan, reachability(after), True))
            again = svc.store.release(claim)
            if again is None:
                break
            claim = again
            if len(passes) >= max_passes:
                svc.store.force_release(vpc_id, owner)
                break
    except BaseException:
        svc.store.force_release(vpc_id, owner)
        raise
    return ReconcileResult(vpc_id, tuple(passes), tuple(sorted(findings)))
