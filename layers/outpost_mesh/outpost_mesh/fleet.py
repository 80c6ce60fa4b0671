"""The sweep's fleet diff: which VPCs of the Region need an execution, decided in memory.

The scheduled sweep observes the whole Region once (``observe.observe_fleet``: one paginated
Describe per action), reads the whole ledger once (``LedgerStore.fleet``: one paginated query on
an index), and judges every VPC here, pure: the plan a pass would run (``planner.plan_pass``, the
same rules as the workflow's Plan task and the CLI) and the pairs verify would report broken.
Only a VPC with work an execution can do gets one (docs/architecture.md, "The sweep"):

- ``changes``: the plan has changes it may apply (not in report-only mode);
- ``broken``: a pair whose routes are all in place is not reachable (not in report-only mode);
- ``findings``: the plan's findings differ from those the ledger holds open (an execution
  records and notifies them; report-only mode too). Findings are compared by kind and subject.

A VPC whose execution waits for a person's approval (approval mode) is skipped: the execution
holds its lease and will re-plan when answered. Its request is failed (``ApprovalExpired``) once
its expiry passed, on the ledger's clock. Changes that wait for an approval count as changes
(an execution asks for it); changes whose request was rejected or expired are held back by the
plan with a finding, a steady state, until the plan asks for other changes.

Another account's VPC shared into this one is its owner's to mesh: the sweep starts one execution
to report it (``not-owner``, recorded and notified once) and then leaves it alone.

A VPC with nothing of these is left alone: no lease, no execution. Standing conflicts, held
deletions, a table the quota holds back and report-only mode are steady states, not work, so
they do not restart a VPC every hour. An expired quarantine is work: the rack's routes are back
in the plan.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from outpost_mesh.model import ApprovalStatus, Finding, FindingKind, Ledger, Plan, Topology
from outpost_mesh.planner import desired_state
from outpost_mesh.service import Verification
from outpost_mesh.verify import blocked_subnets, reachability, route_quota_headroom

# Executions a sweep's result lists by ARN (each ~150 bytes; rule 10); the rest are counted.
SWEEP_STARTED_LISTED = 100

START_CHANGES = "changes"
START_BROKEN = "broken"
START_FINDINGS = "findings"
CONVERGED = "converged"  # nothing to do, nothing standing
STEADY = "steady"  # nothing an execution can do: findings stand (held, quota, report-only)
NOT_MANAGED = "not-managed"  # opted out (tag) or not opted in
NOTHING_THERE = "nothing-there"  # no Outpost subnet and nothing owned
NOT_OURS = "not-ours"  # another account's VPC shared in: its owner's stack meshes it
WAITING_APPROVAL = "waiting-approval"  # its execution waits for a person (approval mode)
APPROVAL_EXPIRED = "approval-expired"  # ...past the request's expiry: the sweep fails it


@dataclass(frozen=True)
class VpcVerdict:
    """One VPC as the sweep judged it, and what the alarms watch of it."""

    vpc_id: str
    outcome: str
    conflicts: int = 0
    blocked: int = 0
    unreachable: int = 0
    headroom: int | None = None

    @property
    def start(self) -> bool:
        return self.outcome in (START_CHANGES, START_BROKEN, START_FINDINGS)


def worth_looking_at(topology: Topology, ledger: Ledger) -> bool:
    """A VPC with an Outpost subnet, or anything the system owns there."""
    return bool(ledger.routes or ledger.associations or any(s.on_outpost for s in topology.subnets))


def judge(
    topology: Topology,
    ledger: Ledger,
    open_findings: tuple[Finding, ...],
    plan_of: Callable[[Topology, Ledger], Plan],
    *,
    report_only: bool,
    quota: int,
    account_id: str = "",
    quarantined: frozenset[str] = frozenset(),
    now: float = 0.0,
) -> VpcVerdict:
    """Whether ``topology``'s VPC needs an execution (``plan_of``: the pass's plan, pure, as a
    new execution would run it under approval mode; ``now``: the ledger's clock)."""
    vpc_id = topology.vpc_id
    approval = ledger.approval
    if approval is not None and approval.status is ApprovalStatus.WAITING:
        return VpcVerdict(vpc_id, APPROVAL_EXPIRED if approval.expired(now) else WAITING_APPROVAL)
    if not worth_looking_at(topology, ledger):
        return VpcVerdict(vpc_id, NOTHING_THERE)
    plan = plan_of(topology, ledger)
    news = {(f.kind, f.subject) for f in plan.findings} != {
        (f.kind, f.subject) for f in open_findings
    }
    if any(f.kind is FindingKind.NOT_OWNER for f in plan.findings):
        # reported once (an execution records and notifies the finding), then left alone
        return VpcVerdict(vpc_id, START_FINDINGS if news else NOT_OURS)
    desired = desired_state(topology, quarantined, account_id)
    broken = len(
        Verification(
            reachability(topology), desired.expected_pairs, desired.routed_pairs(topology)
        ).broken
    )
    conflicts = sum(1 for f in plan.findings if f.kind is FindingKind.CONFLICT)
    metrics = {
        "conflicts": conflicts,
        "blocked": blocked_subnets(topology, plan.findings),
        "unreachable": broken,
        "headroom": route_quota_headroom(topology, plan, quota),
    }
    if not report_only and (plan.has_changes or plan.waiting is not None):
        outcome = START_CHANGES
    elif not report_only and broken:
        outcome = START_BROKEN
    elif news:
        outcome = START_FINDINGS
    else:
        outcome = STEADY if plan.findings or (report_only and plan.has_changes) else CONVERGED
    return VpcVerdict(vpc_id, outcome, **metrics)


@dataclass(frozen=True)
class FleetSummary:
    """A sweep's verdicts in numbers: VPCs seen, converged, steady, started, per outcome; and
    the worst VPC's value of each metric an alarm watches (the alarms take the Maximum, or the
    Minimum for the headroom, so the worst VPC decides as if every VPC were emitted)."""

    outcomes: Mapping[str, int]
    conflicts: int
    blocked: int
    unreachable: int
    headroom: int | None

    @classmethod
    def of(cls, verdicts: list[VpcVerdict]) -> FleetSummary:
        outcomes: dict[str, int] = {}
        for verdict in verdicts:
            outcomes[verdict.outcome] = outcomes.get(verdict.outcome, 0) + 1
        headrooms = [v.headroom for v in verdicts if v.headroom is not None]
        return cls(
            outcomes=outcomes,
            conflicts=max((v.conflicts for v in verdicts), default=0),
            blocked=max((v.blocked for v in verdicts), default=0),
            unreachable=max((v.unreachable for v in verdicts), default=0),
            headroom=min(headrooms) if headrooms else None,
        )

    @property
    def started(self) -> int:
        return sum(self.outcomes.get(k, 0) for k in (START_CHANGES, START_BROKEN, START_FINDINGS))

    @property
    def converged(self) -> int:
        return self.outcomes.get(CONVERGED, 0)
