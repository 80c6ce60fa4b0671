"""The reconcile service: every rule the CLI and the workflow share, written once.

Two drivers sequence the same steps: the CLI's ``apply``/``remove`` (``outpost_mesh.reconcile``,
one process) and the Step Functions workflow (``outpost_mesh.workflow``, one Lambda task a step).
Whatever both decide lives here:

- which VPCs are managed, and which are worth a reconcile (candidate VPCs);
- the VPC's lease: who may take it over (``holder_alive``: only a definite "stopped" frees a
  live holder's lease, an unknown answer keeps it), and that only its holder changes the VPC;
- observing with the stack's opt-out tag, planning with its deletion-safety thresholds;
- recording a plan: new findings notified once, findings recorded and resolved, what someone else
  removed forgotten, where subnets and tables live remembered;
- a failure: the finding it becomes (the same words whoever failed), the quarantine of a rack
  that rejected its routes, the notice;
- the pairs that should reach each other, and which of them do not.

About 400 lines on purpose: this is the one place for these rules; splitting it by topic would
make the drivers assemble the service again from parts.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from outpost_mesh.apply import Applier
from outpost_mesh.approval import (
    APPROVAL_EXPIRED,
    EXPIRED_BY,
    GONE_TOKEN_CODES,
    declined,
    gate,
    request,
)
from outpost_mesh.errors import (
    CaughtError,
    LeaseLostError,
    MalformedInputError,
    OutpostMeshError,
    ThrottledError,
    from_client_error,
)
from outpost_mesh.ledger import LeaseClaim, LedgerStore
from outpost_mesh.model import (
    Approval,
    ApprovalStatus,
    Finding,
    FindingKind,
    Ledger,
    PairReachability,
    Plan,
    QuotaRefusal,
    Topology,
)
from outpost_mesh.notices import (
    HubBus,
    Notifier,
    actor_words,
    approval_notice,
    bus_region,
    failure_notice,
    findings_notice,
    success_notice,
)
from outpost_mesh.observe import observe_vpc
from outpost_mesh.pacing import TokenBucket, ec2_share
from outpost_mesh.planner import (
    desired_state,
    plan_pass,
    quota_digest,
    removal_plan,
    table_need,
)
from outpost_mesh.settings import Settings
from outpost_mesh.verify import reachability

if TYPE_CHECKING:
    from mypy_boto3_ec2 import EC2Client

    from outpost_mesh.task_models import ApprovalAnswer
    from outpost_mesh.task_models import CaughtError as TaskError

log = logging.getLogger(__name__)

# The counts of a pass that are changes made in AWS (Plan.counts' others are not).
CHANGE_COUNTS = (
    "associations_to_create",
    "associations_to_delete",
    "routes_to_create",
    "routes_to_delete",
)

_OUTPOST_ARN = re.compile(r"^arn:aws[a-z-]*:outposts:[a-z0-9-]+:[0-9]{12}:outpost/op-[0-9a-f]+$")
# Step Functions execution statuses of a holder that no longer works on the VPC.
_STOPPED = frozenset({"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"})


@dataclass(frozen=True)
class PlannedPass:
    """One pass's reading of a VPC and what it plans there (deletions that deletion safety
    holds are in ``plan.routes_held``, not in ``plan.routes_to_delete``)."""

    topology: Topology
    ledger: Ledger
    plan: Plan


@dataclass(frozen=True)
class Verification:
    """The VPC's pairs after a pass: every ordered pair of Outpost subnets on different Outposts,
    which of them the mesh should connect (both subnets eligible), and which of those have all
    their routes in place (``DesiredState.routed_pairs``)."""

    pairs: tuple[PairReachability, ...]
    expected: frozenset[tuple[str, str]]
    routed: frozenset[tuple[str, str]] = frozenset()

    @property
    def broken(self) -> tuple[PairReachability, ...]:
        """Pairs whose routes are all in place yet that are not reachable (what verify and the
        UnreachablePairs alarm report: a pair not meshed yet, in report-only mode say, is not
        broken)."""
        return tuple(p for p in self.pairs if p.key in self.routed and not p.reachable)

    @property
    def reachable(self) -> int:
        return sum(1 for p in self.pairs if p.key in self.expected and p.reachable)


class ReconcileService:
    """The shared rules over one deployment's settings and clients (made on first use)."""

    def __init__(
        self,
        settings: Settings,
        session: Any = None,
        *,
        ec2: EC2Client | None = None,
        store: LedgerStore | None = None,
    ) -> None:
        """``session``: what makes clients by service name (a boto3 Session, the CLI's
        context, the sandbox's); None: a default boto3 Session, made on first use. ``ec2`` and
        ``store``: clients the caller already has (they stand in for the session's)."""
        self.settings = settings
        self._session = session
        if ec2 is not None:
            self.__dict__["ec2"] = ec2  # what the cached_property would have made
        if store is not None:
            self.__dict__["store"] = store

    # -- clients ----------------------------------------------------------------------------
    @cached_property
    def session(self) -> Any:
        if self._session is not None:
            return self._session
        import boto3

        return boto3.Session()

    @cached_property
    def ec2(self) -> EC2Client:
        return self.session.client("ec2")  # type: ignore[no-any-return]

    @cached_property
    def sfn(self) -> Any:
        return self.session.client("stepfunctions")

    @cached_property
    def store(self) -> LedgerStore:
        return LedgerStore(self.session.client("dynamodb"), self.settings.table)

    @cached_property
    def account_id(self) -> str:
        """The account this deployment acts for: the stack's ACCOUNT_ID, else STS's answer
        through the session (GetCallerIdentity needs no permission). Only VPCs it owns are
        changed. A caller that handed in its clients and no session and no account (a test, a
        benchmark) gets "": ownership is not checked (nothing is asked of a default session)."""
        if self.settings.account_id:
            return self.settings.account_id
        if self._session is None and "ec2" in self.__dict__:
            return ""
        try:
            return str(self.session.client("sts").get_caller_identity()["Account"])
        except ClientError as error:
            raise from_client_error(error, subject="sts:GetCallerIdentity") from error

    @cached_property
    def notifier(self) -> Notifier:
        """The stack's topic, and the hub's bus when the stack names one (an EventBridge client
        in the bus's Region; the events carry this deployment's Region)."""
        topic, bus = self.settings.topic_arn, self.settings.hub_event_bus_arn
        hub = (
            HubBus(
                self.session.client("events", region_name=bus_region(bus)),
                bus,
                self.ec2.meta.region_name,
            )
            if bus
            else None
        )
        return Notifier(self.session.client("sns") if topic else None, topic, hub)

    def pacer(self) -> TokenBucket:
        """A pacer at the stack's MutatingRate and MutatingBurst (EC2's mutating bucket)."""
        return ec2_share(self.settings.mutating_rate, self.settings.mutating_burst)

    def applier(self, owner: str, pacer: TokenBucket | None = None) -> Applier:
        """An Applier for ``owner``, paced by ``pacer`` (a route batch's share of EC2's bucket,
        or one shared by several passes), else by a pacer of its own."""
        return Applier(self.ec2, self.store, owner, pacer=pacer or self.pacer())

    # -- which VPCs -------------------------------------------------------------------------
    def is_managed(self, vpc_id: str) -> bool:
        """Managed VPCs: all but those tagged opt-out, or only those tagged opt-in."""
        try:
            vpcs = self.ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"]
        except ClientError as error:
            mapped = from_client_error(error, subject=vpc_id)
            if mapped.code == "InvalidVpcID.NotFound":
                return False
            raise mapped from error
        if not vpcs:
            return False
        return self.managed_by_tags({t["Key"]: t.get("Value", "") for t in vpcs[0].get("Tags", [])})

    def managed_by_tags(self, tags: Mapping[str, str]) -> bool:
        """Whether a VPC with these tags is managed (``ManagedVpcs``, the opt-in/opt-out tags)."""
        if self.settings.managed == "opt-in":
            return tags.get(self.settings.opt_in_tag, "").lower() not in ("", "false")
        opt_out = self.settings.opt_out_tag
        return opt_out not in tags or tags[opt_out] == "false"

    def has_outpost_subnets(self, vpc_id: str) -> bool:
        paginator = self.ec2.get_paginator("describe_subnets")
        try:
            for page in paginator.paginate(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}]):
                if any(s.get("OutpostArn") for s in page["Subnets"]):
                    return True
        except ClientError as error:
            raise from_client_error(error, subject=vpc_id) from error
        return False

    def worth_reconciling(self, vpc_id: str) -> bool:
        """Outpost subnets or anything owned there; and the VPC is managed."""
        if not self.is_managed(vpc_id):
            return False
        ledger = self.store.load(vpc_id)
        return bool(ledger.routes or ledger.associations) or self.has_outpost_subnets(vpc_id)

    def candidate_vpcs(self) -> list[str]:
        """Every VPC with Outpost subnets, plus every VPC the ledger has changed."""
        vpcs = set(self.store.managed_vpcs())
        try:
            for page in self.ec2.get_paginator("describe_subnets").paginate():
                vpcs.update(s["VpcId"] for s in page["Subnets"] if s.get("OutpostArn"))
        except ClientError as error:
            raise from_client_error(error, subject="sweep") from error
        return sorted(vpcs)

    # -- the lease --------------------------------------------------------------------------
    def holder_alive(self, holder: str) -> bool:
        """Whether the lease's holder may still be changing the VPC (rule 5).

        Only a definite answer frees a lease before its expiry: the holder is a Step Functions
        execution that Step Functions says has stopped or does not exist. Anything else keeps
        it: a CLI run (only its expiry frees it), or no answer (AccessDenied for a role without
        states:DescribeExecution, an error). Throttling is raised: the caller retries later,
        the lease stays with its holder meanwhile.
        """
        if not holder.startswith("arn:") or ":execution:" not in holder:
            return True
        try:
            status = self.sfn.describe_execution(executionArn=holder)["status"]
        except ClientError as error:
            mapped = from_client_error(error, subject=holder)
            if error.response.get("Error", {}).get("Code") == "ExecutionDoesNotExist":
                return False
            if isinstance(mapped, ThrottledError):
                raise mapped from error
            log.warning(
                "cannot tell whether %s still runs (%s): its lease is kept",
                holder,
                mapped.message,
            )
            return True
        except BotoCoreError as error:
            log.warning("cannot tell whether %s still runs (%s): its lease is kept", holder, error)
            return True
        return str(status) not in _STOPPED

    def claim(self, vpc_id: str, holder: str) -> LeaseClaim:
        """Take the VPC's lease, or raise LeaseBusyError after handing a trigger to its holder."""
        return self.store.claim(
            vpc_id, holder, self.settings.lease_seconds, holder_alive=self.holder_alive
        )

    def require_lease(self, vpc_id: str, execution: str) -> None:
        """Only the execution holding the VPC's lease changes it, checked where it changes it:
        a task of an execution whose lease was taken over after its expiry, of a redriven
        execution or of a stray invocation raises LeaseLostError before any change."""
        holder = str((self.store.lease(vpc_id) or {}).get("holder") or "")
        if ":execution:" in holder and holder.rsplit(":", 1)[-1] == execution:
            return
        log.warning(
            "refused: execution %s does not hold the lease of %s (holder: %s); nothing changed",
            execution,
            vpc_id,
            holder or "none",
            extra={"vpc_id": vpc_id},
        )
        raise LeaseLostError(
            f"execution {execution} does not hold the lease of {vpc_id} "
            f"(holder: {holder or 'none'}); nothing changed",
            subject=vpc_id,
        )

    # -- observe and plan -------------------------------------------------------------------
    def observe(self, vpc_id: str) -> Topology:
        return observe_vpc(self.ec2, vpc_id, self.settings.opt_out_tag)

    def plan(
        self,
        vpc_id: str,
        *,
        remove: bool = False,
        force: bool = False,
        execution: str | None = None,
    ) -> PlannedPass:
        """Read the VPC and plan it (or, with ``remove``, plan taking out all that is owned: an
        explicit teardown, which deletion safety does not hold). Deletions that would cut
        connectivity past the stack's thresholds are held unless ``force``. With ``execution``
        (a workflow pass), the changes approval mode makes wait are split off (``Plan.waiting``).
        Changes nothing."""
        topology = self.observe(vpc_id)
        ledger = self.store.load(vpc_id)
        if remove:
            return PlannedPass(topology, ledger, removal_plan(topology, ledger, self.account_id))
        plan = self.plan_topology(
            topology, ledger, self.store.quarantined(), force=force, execution=execution
        )
        return PlannedPass(topology, ledger, plan)

    def plan_topology(
        self,
        topology: Topology,
        ledger: Ledger,
        quarantined: frozenset[str],
        *,
        force: bool = False,
        quota: bool = True,
        execution: str | None = None,
    ) -> Plan:
        """:func:`planner.plan_pass` with this deployment's settings (pure: no call). ``quota``
        False: the plan before the quota check (what a refusal's fingerprint is taken of).
        ``execution``: gated by approval mode as that execution's pass runs it (``""``: as a
        new execution would, the sweep's view); None: not gated (a person's CLI run)."""
        settings = self.settings
        plan = plan_pass(
            topology,
            ledger,
            quarantined,
            self.account_id,
            share_limit=settings.delete_share_limit,
            min_owned=settings.delete_min_owned,
            quota=settings.routes_per_table if quota else None,
            force=force,
        )
        if execution is None:
            return plan
        return gate(plan, topology, settings.approval, ledger.approval, execution)

    def remember_quota_refusal(self, vpc_id: str, route_table_id: str) -> QuotaRefusal | None:
        """AWS refused a route in ``route_table_id`` with RouteLimitExceeded and the pass was
        rolled back: remember, per table, the fingerprint of what the next plan will see (the
        table as it is now, the changes planned for it, RoutesPerTableQuota), so the planner
        leaves the table out instead of trying again until one of them changes. None when the
        plan no longer creates routes there (nothing to remember). A throttled read is raised
        before anything is recorded (the caller asks again)."""
        topology = self.observe(vpc_id)
        plan = self.plan_topology(
            topology, self.store.load(vpc_id), self.store.quarantined(), quota=False
        )
        if not any(c.route_table_id == route_table_id for c in plan.routes_to_create):
            return None
        quota = self.settings.routes_per_table
        refusal = QuotaRefusal(
            route_table_id,
            quota_digest(plan, topology, route_table_id, quota),
            table_need(plan, topology, route_table_id),
            quota,
        )
        self.store.remember_quota_refusal(vpc_id, refusal)
        log.warning(
            "route table %s refused a route with RouteLimitExceeded: left out until it, the "
            "routes it needs or RoutesPerTableQuota change",
            route_table_id,
            extra={"vpc_id": vpc_id},
        )
        return refusal

    def record(self, planned: PlannedPass, actor: str) -> Plan:
        """What a pass leaves in the ledger and tells people; returns the plan it may run.

        A finding is notified once, when it appears (not on every sweep while it stands); one
        whose notice could not be sent is not recorded, so the next pass tries again. Owned
        routes and associations someone else removed are forgotten, and where the VPC's subnets
        and tables live is remembered for events that name no VPC.
        """
        plan = planned.plan
        vpc_id = plan.vpc_id
        known = {(f.kind, f.subject) for f in self.store.open_findings(vpc_id)}
        new = tuple(f for f in plan.findings if (f.kind, f.subject) not in known)
        unsent = self._notify_findings(vpc_id, new, actor, plan)
        self.store.record_findings(
            vpc_id, tuple(f for f in plan.findings if f not in unsent), actor
        )
        self.store.resolve_findings(vpc_id, plan.findings)
        held = {f.subject for f in plan.findings if f.kind is FindingKind.ROUTE_QUOTA}
        for refusal in planned.ledger.quota_refusals:
            if refusal.route_table_id not in held:  # the table, its routes or the quota changed
                self.store.forget_quota_refusal(vpc_id, refusal.route_table_id)
        for owned in plan.stale_routes:
            log.info(
                "route %s %s -> %s was removed by someone else: forgotten",
                owned.route_table_id,
                owned.destination,
                owned.local_gateway_id,
                extra={"change": "route-forgotten", "vpc_id": vpc_id},
            )
            self.store.forget_route(vpc_id, owned.route_table_id, owned.destination)
        for owned_assoc in plan.stale_associations:
            self.store.forget_association(vpc_id, owned_assoc.association_id)
        self.store.remember_locations(
            vpc_id,
            tuple(s.subnet_id for s in planned.topology.subnets),
            tuple(t.route_table_id for t in planned.topology.route_tables),
        )
        return plan

    def _notify_findings(
        self, vpc_id: str, findings: tuple[Finding, ...], actor: str, plan: Plan
    ) -> tuple[Finding, ...]:
        """One notice per kind of new finding, with the plan's on-premises impact; returns the
        findings whose notice could not be sent: to the topic or, in an Organization, to the
        hub's bus (sent means both took it; the next plan sends it to both again)."""
        by_kind: dict[FindingKind, list[Finding]] = {}
        for finding in findings:
            by_kind.setdefault(finding.kind, []).append(finding)
        unsent: list[Finding] = []
        for kind, group in sorted(by_kind.items()):
            notice = findings_notice(
                vpc_id,
                kind,
                [(f.subject, f.message) for f in group],
                actor,
                self.settings.report_only,
                opt_out_tag=self.settings.opt_out_tag,
                impact=plan.bgp_impact,
            )
            try:
                self.notifier.publish(notice)
            except (OutpostMeshError, BotoCoreError) as error:
                log.error(
                    "could not notify %d new %s finding(s) of %s (tried again on the next "
                    "plan): %s",
                    len(group),
                    kind,
                    vpc_id,
                    error,
                    extra={"vpc_id": vpc_id, "kind": str(kind)},
                )
                unsent.extend(group)
                continue
            for finding in group:
                log.warning(
                    "new finding %s %s: %s",
                    finding.kind,
                    finding.subject,
                    finding.message,
                    extra={"vpc_id": vpc_id, "kind": str(kind), "subject": finding.subject},
                )
        return tuple(unsent)

    # -- approval mode (outpost_mesh.approval) ----------------------------------------------
    def propose_approval(self, execution: str, waiting: Plan) -> Approval:
        """Record the changes of ``execution``'s pass that wait for a person."""
        approval = request(execution, waiting)
        self.store.propose(approval)
        return approval

    def remember_pass(self, actor: str, plan: Plan, by: str = "") -> None:
        """A line of the VPC's history for a pass that changes something: its counts, its
        on-premises impact and who approved it, ``by`` (the approver of a workflow pass's
        changes, ``approval.approved_by``; the caller of a CLI run, whose run is its approval)."""
        whole = plan.to_dict()
        self.store.add_history(
            plan.vpc_id,
            {
                "event": "pass",
                "actor": actor,
                "approved_by": by,
                "counts": plan.counts(),
                "advertised": whole["advertised"],
                "withdrawn": whole["withdrawn"],
            },
        )

    def report_success(self, vpc_id: str, execution: str) -> dict[str, int]:
        """At the end of an execution, with a hub: an Execution Outcome ``SUCCEEDED`` event on
        the hub's bus with what the execution changed (its passes in the VPC's history), when it
        changed something. Returns those counts (empty: nothing changed, nothing put)."""
        hub = self.notifier.hub
        if hub is None:
            return {}
        changes: dict[str, int] = {}
        for entry in self.store.history(vpc_id):
            if entry.get("event") != "pass" or entry.get("actor") != execution:
                continue
            for kind, count in (entry.get("counts") or {}).items():
                if kind in CHANGE_COUNTS and count:
                    changes[kind] = changes.get(kind, 0) + int(count)
        if changes:
            try:
                hub.put(success_notice(vpc_id, execution, changes))
            except (OutpostMeshError, BotoCoreError) as error:
                # a success is not undone for a hub that did not take its news
                log.warning(
                    "could not put the outcome of %s on the hub's bus: %s",
                    execution,
                    error,
                    extra={"vpc_id": vpc_id},
                )
        return changes

    def await_approval(self, vpc_id: str, execution_arn: str, token: str) -> Approval:
        """The request of ``execution_arn``'s pass waits on ``token`` (the lease kept until it
        expires); a person is told what waits and how to answer."""
        settings = self.settings
        approval = self.store.wait(
            vpc_id, execution_arn, token, seconds=settings.approval_timeout_seconds
        )
        if approval is None:
            raise MalformedInputError(
                f"no approval request of {execution_arn} for {vpc_id}", subject=vpc_id
            )
        self.store.extend(vpc_id, execution_arn, approval.expires_at + settings.lease_seconds)
        self.notifier.publish(approval_notice(approval, settings.report_only))
        self.store.add_history(
            vpc_id,
            {
                "event": "approval-requested",
                "execution": approval.execution,
                "changes": len(approval.changes),
                "expires_at": approval.expires_at,
                **{k: approval.plan.get(k) for k in ("advertised", "withdrawn")},
            },
        )
        return approval

    def settle_approval(
        self,
        vpc_id: str,
        execution: str,
        answer: ApprovalAnswer | None,
        error: TaskError | None,
    ) -> Approval:
        """Record how AwaitApproval ended (``answer``: approved; ``error``: not)."""
        if answer is not None:
            status, by, reason = ApprovalStatus.APPROVED, answer.approved_by, ""
        else:
            status, by, reason = declined(
                error.Error if error else "", error.Cause if error else ""
            )
        decided = self.store.decide(vpc_id, execution, status, by, reason)
        if decided is None:
            raise MalformedInputError(
                f"no approval request of {execution} for {vpc_id}", subject=vpc_id
            )
        return decided

    def expire_approval(self, approval: Approval) -> None:
        """The sweep's answer to a request nobody answered before its expiry: the waiting
        execution is failed with ``ApprovalExpired`` (it records it and goes on); a token that
        no longer waits (the execution stopped) is recorded expired here."""
        cause = json.dumps({"by": EXPIRED_BY, "reason": "not answered before it expired"})
        try:
            self.sfn.send_task_failure(
                taskToken=approval.token, error=APPROVAL_EXPIRED, cause=cause
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") not in GONE_TOKEN_CODES:
                raise from_client_error(error, subject=approval.vpc_id) from error
            self.store.decide(
                approval.vpc_id,
                approval.execution,
                ApprovalStatus.EXPIRED,
                EXPIRED_BY,
                "expired; its execution no longer waited",
            )

    # -- failure -> finding -> quarantine ---------------------------------------------------
    def report_failure(
        self,
        vpc_id: str,
        failure: CaughtError,
        *,
        undone: int,
        actor: str,
        topology: Topology | None = None,
    ) -> Finding:
        """A pass failed and ``actor`` undid its ``undone`` change(s): the finding, recorded and
        notified; a rack that rejected its routes is quarantined (rule 6).

        The subject of a rack's rejection is its local gateway: the quarantine is recorded
        under the Outpost's ARN (what the planner compares), read from ``topology`` or from
        DescribeLocalGateways. A throttled lookup is raised, after nothing was recorded: the
        caller asks again (the workflow's Rollback Retry); an LGW id that cannot be resolved is
        reported but quarantines nothing (it would never match the planner's Outpost ARNs).
        """
        kind, subject = failure.kind, failure.subject or vpc_id
        cause = f"{failure.name}: {failure.message}"
        if kind is FindingKind.RACK_NOT_UPDATED:
            subject = self._outpost_of(failure.subject, topology) if failure.subject else vpc_id
            cause = (
                f"Outpost {subject} rejected its LGW route to another Outpost's subnet: the rack "
                "needs the intra-VPC communication update. Contact AWS Support; the rack is "
                f"quarantined (left out of the mesh) until released: "
                f"outpost-mesh release --outpost {subject}"
            )
            if _OUTPOST_ARN.match(subject):
                self.store.quarantine(subject, cause, self.settings.quarantine_seconds)
        elif kind is FindingKind.ROUTE_QUOTA:
            if subject.startswith("rtb-"):
                self.remember_quota_refusal(vpc_id, subject)
            cause = (
                f"route table {subject} reached its routes-per-table quota; raise the Amazon VPC "
                "quota L-93826ACB (and RoutesPerTableQuota) or use fewer subnets per table. The "
                "table is left out of the mesh until it, the routes it needs or "
                "RoutesPerTableQuota change"
            )
        notice = failure_notice(
            vpc_id,
            kind,
            subject=subject,
            cause=cause,
            undone=undone,
            execution=actor,
            opt_out_tag=self.settings.opt_out_tag,
            report_only=self.settings.report_only,
        )
        finding = Finding(
            kind, subject, f"{cause}. Rolled back {undone} change(s) made by {actor_words(actor)}."
        )
        self.store.record_findings(vpc_id, (finding,), actor)
        self.notifier.publish(notice)
        return finding

    def _outpost_of(self, subject: str, topology: Topology | None) -> str:
        if not subject.startswith("lgw-") or subject.startswith("lgw-rtb-"):
            return subject
        lgw = topology.lgw_by_gateway(subject) if topology is not None else None
        if lgw is not None:
            return lgw.outpost_arn
        try:
            found = self.ec2.describe_local_gateways(LocalGatewayIds=[subject])
        except ClientError as error:
            mapped = from_client_error(error, subject=subject)
            if isinstance(mapped, ThrottledError):
                raise mapped from error
            return subject  # gone or unknown: the LGW's id is all there is to name
        gateways = found.get("LocalGateways", [])
        return str(gateways[0].get("OutpostArn", subject)) if gateways else subject

    # -- verify -----------------------------------------------------------------------------
    def verify(self, vpc_id: str, topology: Topology | None = None) -> Verification:
        """Every pair's reachability, and which pairs the mesh should connect."""
        topology = topology if topology is not None else self.observe(vpc_id)
        desired = desired_state(topology, self.store.quarantined(), self.account_id)
        return Verification(
            reachability(topology), desired.expected_pairs, desired.routed_pairs(topology)
        )


def failure_of(error: OutpostMeshError) -> CaughtError:
    """An error raised in this process, as the workflow's Catch would hand it over."""
    return CaughtError(type(error).__name__, error.message, error.subject)
