"""The reconcile workflow's tasks, and the trigger and sweep, as plain functions.

Each Lambda handler parses its input, calls one function here with ``Services`` built from its
environment, and returns the dict. The state machine (statemachine/reconcile.asl.json) strings
them together: claim -> { plan -> associate -> check* -> apply batches -> disassociate -> verify
-> release } -> rollback on any error.

Ownership: every route or association is recorded in the ledger with the execution's name as
owner before (routes) or as (associations) it is created, so rollback undoes exactly this
execution's own changes, even those of a Map iteration whose result was lost with a failure.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from outpost_mesh.apply import Applier, JournalEntry, undo
from outpost_mesh.errors import (
    AssociationFailedError,
    LeaseBusyError,
    LeaseLostError,
    MalformedInputError,
    OutpostMeshError,
    ThrottledError,
    from_client_error,
)
from outpost_mesh.events import TriggerHint, execution_name
from outpost_mesh.ledger import (
    DEFAULT_LEASE_SECONDS,
    DEFAULT_QUARANTINE_SECONDS,
    LeaseClaim,
    LedgerStore,
)
from outpost_mesh.model import (
    AssociationChange,
    Finding,
    FindingKind,
    Plan,
    RouteChange,
    Topology,
)
from outpost_mesh.notices import Notice, failure_notice, findings_notice
from outpost_mesh.observe import OPT_OUT_TAG, observe_vpc
from outpost_mesh.pacing import (
    MUTATING_BUCKET,
    MUTATING_REFILL_PER_SECOND,
    TokenBucket,
    ec2_share,
)
from outpost_mesh.planner import (
    DELETE_MIN_OWNED,
    DELETE_SHARE_LIMIT,
    desired_state,
    plan_vpc,
    unsafe_deletion,
)
from outpost_mesh.verify import reachability

if TYPE_CHECKING:
    from mypy_boto3_ec2 import EC2Client

OPT_IN_TAG = "outpost-mesh:managed"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Settings:
    table: str
    state_machine_arn: str = ""
    topic_arn: str = ""
    report_only: bool = False
    managed: str = "all"  # "all" (opt-out by tag) or "opt-in"
    opt_in_tag: str = OPT_IN_TAG
    opt_out_tag: str = OPT_OUT_TAG
    quarantine_seconds: int = DEFAULT_QUARANTINE_SECONDS
    lease_seconds: int = DEFAULT_LEASE_SECONDS
    mutating_rate: float = MUTATING_REFILL_PER_SECOND
    mutating_burst: int = MUTATING_BUCKET
    apply_concurrency: int = 1
    routes_per_table: int = 50
    delete_share_limit: float = DELETE_SHARE_LIMIT
    delete_min_owned: int = DELETE_MIN_OWNED

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        return cls(
            table=env.get("LEDGER_TABLE", "outpost-mesh-ledger"),
            state_machine_arn=env.get("STATE_MACHINE_ARN", ""),
            topic_arn=env.get("TOPIC_ARN", ""),
            report_only=env.get("REPORT_ONLY", "false").lower() == "true",
            managed=env.get("MANAGED_VPCS", "all"),
            opt_in_tag=env.get("OPT_IN_TAG", OPT_IN_TAG),
            opt_out_tag=env.get("OPT_OUT_TAG", OPT_OUT_TAG),
            quarantine_seconds=int(env.get("QUARANTINE_SECONDS", DEFAULT_QUARANTINE_SECONDS)),
            lease_seconds=int(env.get("LEASE_SECONDS", DEFAULT_LEASE_SECONDS)),
            mutating_rate=float(env.get("MUTATING_RATE", MUTATING_REFILL_PER_SECOND)),
            mutating_burst=int(env.get("MUTATING_BURST", MUTATING_BUCKET)),
            apply_concurrency=int(env.get("APPLY_MAX_CONCURRENCY", "1")),
            routes_per_table=int(env.get("ROUTES_PER_TABLE", "50")),
            delete_share_limit=int(env.get("DELETE_THRESHOLD_PERCENT", "30")) / 100,
            delete_min_owned=int(env.get("DELETE_MIN_OWNED_ROUTES", str(DELETE_MIN_OWNED))),
        )


class Services:
    """Clients for one invocation, created on first use (cheap cold start)."""

    def __init__(self, settings: Settings, session: Any = None) -> None:
        self.settings = settings
        self._session = session

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
    def sns(self) -> Any:
        return self.session.client("sns")

    @cached_property
    def store(self) -> LedgerStore:
        return LedgerStore(self.session.client("dynamodb"), self.settings.table)


# -- which VPCs ------------------------------------------------------------------------------
def is_managed(svc: Services, vpc_id: str) -> bool:
    """Managed VPCs: all but those tagged opt-out, or only those tagged opt-in."""
    try:
        vpcs = svc.ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"]
    except ClientError as error:
        mapped = from_client_error(error, subject=vpc_id)
        if mapped.code == "InvalidVpcID.NotFound":
            return False
        raise mapped from error
    if not vpcs:
        return False
    tags = {t["Key"]: t.get("Value", "") for t in vpcs[0].get("Tags", [])}
    if svc.settings.managed == "opt-in":
        return tags.get(svc.settings.opt_in_tag, "").lower() not in ("", "false")
    return svc.settings.opt_out_tag not in tags or tags[svc.settings.opt_out_tag] == "false"


def has_outpost_subnets(svc: Services, vpc_id: str) -> bool:
    paginator = svc.ec2.get_paginator("describe_subnets")
    try:
        for page in paginator.paginate(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}]):
            if any(s.get("OutpostArn") for s in page["Subnets"]):
                return True
    except ClientError as error:
        raise from_client_error(error, subject=vpc_id) from error
    return False


def worth_reconciling(svc: Services, vpc_id: str) -> bool:
    """Outpost subnets or anything owned there; and the VPC is managed."""
    if not is_managed(svc, vpc_id):
        return False
    ledger = svc.store.load(vpc_id)
    return bool(ledger.routes or ledger.associations) or has_outpost_subnets(svc, vpc_id)


def _vpc_of_route_table(svc: Services, route_table_id: str) -> str | None:
    try:
        tables = svc.ec2.describe_route_tables(RouteTableIds=[route_table_id])["RouteTables"]
    except ClientError as error:
        mapped = from_client_error(error, subject=route_table_id)
        if mapped.code == "InvalidRouteTableID.NotFound":
            return svc.store.vpc_of("RTB", route_table_id)
        raise mapped from error
    return str(tables[0]["VpcId"]) if tables else None


def _vpc_of_subnet(svc: Services, subnet_id: str) -> str | None:
    try:
        subnets = svc.ec2.describe_subnets(SubnetIds=[subnet_id])["Subnets"]
    except ClientError as error:
        mapped = from_client_error(error, subject=subnet_id)
        if mapped.code == "InvalidSubnetID.NotFound":
            return svc.store.vpc_of("SUBNET", subnet_id)
        raise mapped from error
    return str(subnets[0]["VpcId"]) if subnets else svc.store.vpc_of("SUBNET", subnet_id)


def candidate_vpcs(svc: Services) -> list[str]:
    """Every VPC with Outpost subnets, plus every VPC the ledger has changed (a sweep)."""
    vpcs = set(svc.store.managed_vpcs())
    try:
        for page in svc.ec2.get_paginator("describe_subnets").paginate():
            vpcs.update(s["VpcId"] for s in page["Subnets"] if s.get("OutpostArn"))
    except ClientError as error:
        raise from_client_error(error, subject="sweep") from error
    return sorted(vpcs)


def vpcs_for_hint(svc: Services, hint: TriggerHint) -> tuple[list[str], bool]:
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
    return candidate_vpcs(svc), True


def start_reconcile(svc: Services, vpc_id: str, name: str, trigger: str) -> str | None:
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


def trigger(svc: Services, hint: TriggerHint) -> dict[str, Any]:
    vpcs, swept = vpcs_for_hint(svc, hint)
    started: list[str] = []
    ignored: list[str] = []
    for vpc_id in vpcs:
        if not worth_reconciling(svc, vpc_id):
            ignored.append(vpc_id)
            continue
        arn = start_reconcile(svc, vpc_id, execution_name(vpc_id, hint.event_id), hint.event_id)
        if arn:
            started.append(arn)
    return {"vpcs": vpcs, "swept": swept, "started": started, "ignored": ignored}


def sweep(svc: Services, event_id: str) -> dict[str, Any]:
    started: list[str] = []
    for vpc_id in candidate_vpcs(svc):
        if not worth_reconciling(svc, vpc_id):
            continue
        arn = start_reconcile(
            svc, vpc_id, execution_name(vpc_id, event_id, prefix="sweep-"), f"sweep:{event_id}"
        )
        if arn:
            started.append(arn)
    return {"started": started}


# -- the workflow's tasks --------------------------------------------------------------------
def claim(svc: Services, vpc_id: str, execution_arn: str) -> dict[str, Any]:
    def holder_alive(holder: str) -> bool:
        if not holder.startswith("arn:") or ":execution:" not in holder:
            return True  # a CLI run: only its expiry frees the lease
        try:
            status = svc.sfn.describe_execution(executionArn=holder)["status"]
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ExecutionDoesNotExist":
                return False
            raise from_client_error(error, subject=holder) from error  # unsure: keep the lease
        return bool(status == "RUNNING")

    try:
        got = svc.store.claim(
            vpc_id, execution_arn, svc.settings.lease_seconds, holder_alive=holder_alive
        )
    except LeaseBusyError:
        return {"claimed": False, "holder": execution_arn, "seen": 0}
    return {"claimed": True, "holder": got.holder, "seen": got.seen}


def _batches(plan: Plan) -> list[dict[str, Any]]:
    """The plan's route changes grouped by route table (tables in order, deletes first)."""
    tables: dict[str, dict[str, Any]] = {}

    def of(table: str) -> dict[str, Any]:
        if table not in tables:
            tables[table] = {
                "vpc_id": plan.vpc_id,
                "route_table_id": table,
                "creates": [],
                "deletes": [],
            }
        return tables[table]

    for change in plan.routes_to_delete:
        of(change.route_table_id)["deletes"].append(change.to_dict())
    for change in plan.routes_to_create:
        of(change.route_table_id)["creates"].append(change.to_dict())
    return [tables[table] for table in sorted(tables)]


def plan(svc: Services, vpc_id: str, execution: str) -> dict[str, Any]:
    if not is_managed(svc, vpc_id):
        return _plan_output(Plan(vpc_id), report_only=True, headroom=svc.settings.routes_per_table)
    topology = observe_vpc(svc.ec2, vpc_id)
    ledger = svc.store.load(vpc_id)
    result = plan_vpc(topology, ledger, svc.store.quarantined())
    refusal = unsafe_deletion(
        result, ledger, svc.settings.delete_share_limit, svc.settings.delete_min_owned
    )
    if refusal is not None:
        # Delete safety: the whole plan is held back (nothing of it applied), reported, alarmed.
        result = Plan(vpc_id, findings=(*result.findings, refusal))
    # Tell people about a finding once, when it appears (not on every sweep while it stands).
    known = {(f.kind, f.subject) for f in svc.store.open_findings(vpc_id)}
    new = tuple(f for f in result.findings if (f.kind, f.subject) not in known)
    unsent = notify_findings(svc, vpc_id, new, execution)
    svc.store.record_findings(
        vpc_id, tuple(f for f in result.findings if f not in unsent), execution
    )
    svc.store.resolve_findings(vpc_id, result.findings)
    for owned in result.stale_routes:
        svc.store.forget_route(vpc_id, owned.route_table_id, owned.destination)
    for owned_assoc in result.stale_associations:
        svc.store.forget_association(vpc_id, owned_assoc.association_id)
    svc.store.remember_locations(
        vpc_id,
        tuple(s.subnet_id for s in topology.subnets),
        tuple(t.route_table_id for t in topology.route_tables),
    )
    output = _plan_output(
        result,
        report_only=svc.settings.report_only,
        headroom=route_quota_headroom(topology, result, svc.settings.routes_per_table),
        blocked=blocked_subnets(topology, result.findings),
    )
    if output["route_batches"]:
        # EC2's bucket is taken as full only on the execution's first pass: a later one comes
        # seconds after its own calls (a plan retried after stashing is treated the same way).
        first_pass = not svc.store.has_stashed_plan(execution)
        output["route_batches"] = stash_batches(
            svc.store,
            execution,
            output["route_batches"],
            lanes=svc.settings.apply_concurrency,
            burst=first_pass,
            burst_size=svc.settings.mutating_burst,
        )
    return output


BATCH_CHANGES = 100  # route changes per ApplyRoutes task (one DynamoDB item, well under 400 KB)
MIN_BATCH_CHANGES = 5  # smaller batches would cost more in Lambda start-ups than they balance


def batch_size(changes: int, lanes: int, burst: int = MUTATING_BUCKET) -> int:
    """Changes per batch when ``lanes`` batches run side by side.

    Lanes end at most one batch apart, so batches are kept to about an eighth of a lane's work,
    but no smaller than a lane's share of EC2's burst (the first wave spends all of it) nor
    MIN_BATCH_CHANGES; never more than BATCH_CHANGES.
    """
    if lanes <= 1:
        return BATCH_CHANGES
    share = -(-burst // lanes)
    return min(BATCH_CHANGES, max(MIN_BATCH_CHANGES, share, -(-changes // (8 * lanes))))


def _units(batch: Mapping[str, Any]) -> list[list[tuple[str, dict[str, Any]]]]:
    """A table's changes as units that must stay in one batch: an owned route re-targeted to
    another LGW is a delete and a create of the same destination, which batches running side by
    side could otherwise run in the wrong order (RouteAlreadyExists)."""
    creates = {c["destination"]: c for c in batch["creates"]}
    units: list[list[tuple[str, dict[str, Any]]]] = []
    for d in batch["deletes"]:
        paired = creates.pop(d["destination"], None)
        units.append([("deletes", d)] + ([("creates", paired)] if paired is not None else []))
    units += [[("creates", c)] for c in creates.values()]
    return units


def _split(
    units: list[list[tuple[str, dict[str, Any]]]], limit: int
) -> list[list[tuple[str, dict[str, Any]]]]:
    """A table's change units in parts of about ``limit`` changes, of even size (a remainder
    much smaller than the rest would cost the Map a start-up for little work), none over
    BATCH_CHANGES but by a unit that cannot be cut."""
    total = sum(len(unit) for unit in units)
    count = max(1, -(-total // BATCH_CHANGES), round(total / limit))
    targets = [total // count + (1 if i < total % count else 0) for i in range(count)]
    parts: list[list[tuple[str, dict[str, Any]]]] = [[]]
    for unit in units:
        if len(parts[-1]) >= targets[len(parts) - 1] and len(parts) < count:
            parts.append([])
        parts[-1] += unit
    return [part for part in parts if part]


def stash_batches(
    store: LedgerStore,
    execution: str,
    batches: list[dict[str, Any]],
    *,
    lanes: int = 1,
    burst: bool = True,
    burst_size: int = MUTATING_BUCKET,
) -> list[dict[str, Any]]:
    """Keep the route changes in the ledger table; the state carries only a key per batch.

    Step Functions caps a task's result at 256 KiB: a plan of ~600 routes (about 430 bytes each)
    would exceed it (States.DataLimitExceeded), so the Map iterates over small references.
    A table with many changes is split into even batches of about ``batch_size`` changes
    (``lanes``: batches the Map runs at once; ``burst_size``: EC2's bucket).

    Batches go largest first (the Map starts them in order, so the last ones to start are short
    and the batches running side by side end close together), each numbered ``index`` of
    ``of``: ApplyRoutes derives its share of EC2's bucket from that (see ``batch_pacer``).
    ``burst``: EC2's bucket can be taken as full when the batches start (this execution's first
    pass; a later pass follows its own calls by seconds).
    """
    chunks: list[dict[str, Any]] = []
    limit = batch_size(
        sum(len(b["creates"]) + len(b["deletes"]) for b in batches), lanes, burst_size
    )
    for batch in batches:
        for kind, verb in (("deletes", "delete"), ("creates", "create")):
            for c in batch[kind]:
                log.info(
                    "planned: %s route %s %s -> %s",
                    verb,
                    c["route_table_id"],
                    c["destination"],
                    c["local_gateway_id"],
                )
        for part in _split(_units(batch), limit):
            chunks.append(
                {
                    "vpc_id": batch["vpc_id"],
                    "route_table_id": batch["route_table_id"],
                    "creates": [_lean(c) for kind, c in part if kind == "creates"],
                    "deletes": [_lean(c) for kind, c in part if kind == "deletes"],
                }
            )
    chunks.sort(key=lambda c: -(len(c["creates"]) + len(c["deletes"])))  # stable
    keys = store.stash_plan_batches(execution, chunks)
    return [
        {
            "vpc_id": chunk["vpc_id"],
            "route_table_id": chunk["route_table_id"],
            "key": key,
            "changes": len(chunk["creates"]) + len(chunk["deletes"]),
            "index": index,
            "of": len(chunks),
            "burst": burst,
        }
        for index, (key, chunk) in enumerate(zip(keys, chunks, strict=True))
    ]


def _lean(change: dict[str, Any]) -> dict[str, Any]:
    """What applying needs of a change: the reason stays in the logs, not in the state."""
    return {k: v for k, v in change.items() if k != "reason"}


def blocked_subnets(topology: Topology, findings: tuple[Finding, ...]) -> int:
    """Outpost subnets left out by a shared route table, a CoIP-mode LGW route table or a
    quarantined rack (findings name an Outpost for the last two: count its subnets)."""
    by_outpost = (FindingKind.COIP_MODE, FindingKind.RACK_NOT_UPDATED)
    outposts = {f.subject for f in findings if f.kind in by_outpost}
    blocked = {f.subject for f in findings if f.kind == FindingKind.SHARED_ROUTE_TABLE}
    for subnet in topology.subnets:
        table = topology.effective_route_table(subnet.subnet_id)
        if subnet.opted_out or (table is not None and table.opted_out):
            continue  # accepted by a person (opt-out tag)
        if subnet.outpost_arn in outposts:
            blocked.add(subnet.subnet_id)
    return len(blocked)


def notify_findings(
    svc: Services, vpc_id: str, findings: tuple[Finding, ...], execution: str
) -> tuple[Finding, ...]:
    """One notice per kind of new finding; returns those whose notice could not be sent (they
    are not recorded, so the next plan tries again: a notification is never silently lost)."""
    by_kind: dict[str, list[Finding]] = {}
    for finding in findings:
        by_kind.setdefault(finding.kind, []).append(finding)
    unsent: list[Finding] = []
    for kind, group in sorted(by_kind.items()):
        notice = findings_notice(
            vpc_id,
            kind,
            [(f.subject, f.message) for f in group],
            execution,
            svc.settings.report_only,
        )
        try:
            publish(svc, notice)
        except (OutpostMeshError, BotoCoreError) as error:
            log.error(
                "could not notify %d new %s finding(s) of %s (tried again on the next plan): %s",
                len(group),
                kind,
                vpc_id,
                error,
                extra={"vpc_id": vpc_id, "kind": kind},
            )
            unsent.extend(group)
            continue
        for finding in group:
            log.warning(
                "new finding %s %s: %s",
                finding.kind,
                finding.subject,
                finding.message,
                extra={"vpc_id": vpc_id, "kind": finding.kind, "subject": finding.subject},
            )
    return tuple(unsent)


def route_quota_headroom(topology: Topology, result: Plan, quota: int) -> int:
    """Fewest free route slots among the tables that hold (or will hold) LGW routes.

    The real quota (Service Quotas L-93826ACB, default 50, up to 1,000) is not readable without
    an extra API and permission: the stack passes it as a parameter (ROUTES_PER_TABLE).
    """
    lgw_ids = {g.local_gateway_id for g in topology.lgw_route_tables}
    used: dict[str, int] = {}
    for table in topology.route_tables:
        routes = [r for r in table.routes if not r.is_local]
        if any(r.target in lgw_ids for r in routes):
            used[table.route_table_id] = len(routes)
    for change in result.routes_to_create:
        used[change.route_table_id] = used.get(change.route_table_id, 0) + 1
    for change in result.routes_to_delete:
        used[change.route_table_id] = used.get(change.route_table_id, 0) - 1
    return quota - max(used.values(), default=0)


def _plan_output(
    result: Plan, report_only: bool, headroom: int = 0, blocked: int = 0
) -> dict[str, Any]:
    changes = not report_only and result.has_changes
    return {
        "vpc_id": result.vpc_id,
        "report_only": report_only,
        "has_changes": changes,
        "associations_to_create": (
            [c.to_dict() for c in result.associations_to_create] if changes else []
        ),
        "associations_to_delete": (
            [c.to_dict() for c in result.associations_to_delete] if changes else []
        ),
        "route_batches": _batches(result) if changes else [],
        "counts": result.counts(),
        "route_quota_headroom": headroom,
        "blocked_subnets": blocked,
        "findings": [f.to_dict() for f in result.findings],
    }


def _association_change(data: Mapping[str, Any]) -> AssociationChange:
    return AssociationChange(
        lgw_route_table_id=str(data["local_gateway_route_table_id"]),
        vpc_id=str(data["vpc_id"]),
        outpost_arn=str(data.get("outpost_arn", "")),
        local_gateway_id=str(data.get("local_gateway_id", "")),
        association_id=str(data.get("association_id", "")),
    )


def _route_change(data: Mapping[str, Any]) -> RouteChange:
    return RouteChange(
        route_table_id=str(data["route_table_id"]),
        destination=str(data["destination"]),
        local_gateway_id=str(data["local_gateway_id"]),
        destination_subnet_id=str(data.get("destination_subnet_id", "")),
        source_subnet_ids=tuple(str(s) for s in data.get("source_subnet_ids", [])),
    )


def _applier(svc: Services, owner: str, pacer: TokenBucket | None = None) -> Applier:
    """An Applier paced at EC2's mutating rate and burst unless given a pacer of its own."""
    if pacer is None:
        pacer = ec2_share(svc.settings.mutating_rate, svc.settings.mutating_burst)
    return Applier(svc.ec2, svc.store, owner, pacer=pacer)


def batch_pacer(
    settings: Settings, index: int, of: int, *, burst: bool, retry: int = 0
) -> TokenBucket:
    """The pacer of route batch ``index`` of ``of`` in the ApplyRoutes Map.

    The Map runs ``lanes = min(MaxConcurrency, of)`` batches side by side, and starts the next
    batch as soon as one ends; together they must not go past EC2's bucket (per account and
    API: ``mutating_burst`` calls at once, refilled at ``mutating_rate`` per second). So each
    batch paces at rate / lanes with a bucket of burst / lanes: the first wave (``index <
    lanes``) starts with its share full, spending EC2's burst once; every later batch, and any
    retry (``retry`` > 0: Step Functions' State.RetryCount, a retry follows a throttle or a
    crash), starts empty, because the batch it follows has just spent its lane's tokens. The
    lanes' tokens then never add up to more than EC2's bucket holds (less its RESERVE_TOKENS,
    for calls that reach EC2 with uneven delays), with no call wasted on RequestLimitExceeded,
    and the burst and the rate are both used: convergence comes close to the floor max(0, N -
    burst) / rate. ``burst`` False (a later pass of the execution, which follows its own calls
    by seconds): every batch starts empty.
    """
    lanes = max(1, min(settings.apply_concurrency, of))
    first = burst and retry == 0 and index < lanes
    return ec2_share(settings.mutating_rate, settings.mutating_burst, lanes, full=first)


def require_lease(svc: Services, vpc_id: str, execution: str) -> None:
    """Only the execution holding the VPC's lease changes it (rule 5), checked where it changes
    it: a task of an execution whose lease was taken over after its expiry, of a redriven
    execution or of a stray invocation raises LeaseLostError before any change."""
    holder = str((svc.store.lease(vpc_id) or {}).get("holder") or "")
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
        f"execution {execution} does not hold the lease of {vpc_id} (holder: {holder or 'none'})"
        "; nothing changed",
        subject=vpc_id,
    )


def associate(
    svc: Services, vpc_id: str, execution: str, associations: list[dict[str, Any]]
) -> dict[str, Any]:
    if associations:
        require_lease(svc, vpc_id, execution)
    applier = _applier(svc, execution)  # a few calls of their own API (bucket) at most
    ids = [applier.create_association(_association_change(a)) for a in associations]
    pending = any(applier.association_state(i) != "associated" for i in ids)
    return {"association_ids": ids, "pending": pending, "created": len(applier.journal)}


def check_association(
    svc: Services, association_ids: list[str], checks: int, max_checks: int
) -> dict[str, Any]:
    applier = _applier(svc, "check")
    pending = False
    for association_id in association_ids:
        state = applier.association_state(association_id)
        if state == "associated":
            continue
        if state not in ("associating", "pending"):
            raise AssociationFailedError(
                f"LGW route table association {association_id} is {state}, not associated",
                subject=association_id,
            )
        pending = True
    checks += 1
    if pending and checks >= max_checks:
        raise AssociationFailedError(
            f"LGW route table association(s) {', '.join(association_ids)} still associating "
            f"after {checks} checks",
            subject=",".join(association_ids),
        )
    return {"association_ids": association_ids, "pending": pending, "checks": checks}


def apply_routes(
    svc: Services, batch: Mapping[str, Any], execution: str, retry: int = 0
) -> dict[str, Any]:
    """One batch of a route table's changes, paced at its share of EC2's mutating bucket."""
    vpc_id = str(batch["vpc_id"])
    pacer = batch_pacer(
        svc.settings,
        int(batch.get("index") or 0),
        int(batch.get("of") or 1),
        burst=bool(batch.get("burst")),
        retry=retry,
    )
    if batch.get("key"):
        stored = svc.store.stashed_plan_batch(execution, str(batch["key"]))
        if stored is None:
            raise MalformedInputError(
                f"no stashed route batch {batch['key']} for execution {execution}"
            )
        batch = {**stored, "vpc_id": vpc_id, "route_table_id": batch["route_table_id"]}
    if batch.get("creates") or batch.get("deletes"):
        require_lease(svc, vpc_id, execution)
    applier = _applier(svc, execution, pacer)
    deleted = 0
    for change in batch.get("deletes", []):
        applier.delete_route(vpc_id, _route_change(change))
        deleted += 1
    created = 0
    for change in batch.get("creates", []):
        if applier.create_route(vpc_id, _route_change(change)):
            created += 1
    return {"route_table_id": batch["route_table_id"], "created": created, "deleted": deleted}


def disassociate(
    svc: Services, vpc_id: str, execution: str, associations: list[dict[str, Any]]
) -> dict[str, Any]:
    if associations:
        require_lease(svc, vpc_id, execution)
    applier = _applier(svc, "disassociate")
    for data in associations:
        applier.delete_association(_association_change(data))
    return {"deleted": len(associations)}


def verify(svc: Services, vpc_id: str) -> dict[str, Any]:
    topology = observe_vpc(svc.ec2, vpc_id)
    desired = desired_state(topology, svc.store.quarantined())
    eligible = {e.subnet.subnet_id: e.lgw.outpost_arn for e in desired.eligible}
    pairs = reachability(topology)
    expected = [
        p
        for p in pairs
        if p.source_subnet_id in eligible
        and p.destination_subnet_id in eligible
        and eligible[p.source_subnet_id] != eligible[p.destination_subnet_id]
    ]
    broken = [p for p in expected if not p.reachable]
    return {
        "reachable": len(expected) - len(broken),
        "unreachable": len(broken),
        "broken": [
            {"from": p.source_subnet_id, "to": p.destination_subnet_id, "reason": p.reason}
            for p in broken
        ],
    }


def release(svc: Services, vpc_id: str, holder: str, seen: int) -> dict[str, Any]:
    again = svc.store.release(LeaseClaim(vpc_id, holder, seen))
    if again is None:
        return {"again": False, "holder": holder, "seen": seen}
    return {"again": True, "holder": again.holder, "seen": again.seen}


def describe_error(error: Mapping[str, Any] | None) -> tuple[str, str, str]:
    """(error type, message, subject) from a Catch's ``$.error`` ({Error, Cause})."""
    if not error:
        return "UnknownError", "unknown error", ""
    name = str(error.get("Error", "UnknownError"))
    cause = error.get("Cause", "")
    if name == "BatchFailed":
        # ApplyRoutes' iterations end on their own errors (statemachine, BatchFailed); the
        # Cause is the Map's results: the first failed batch's error is the one to report.
        try:
            results = json.loads(cause) if isinstance(cause, str) else cause
        except ValueError:
            results = None
        for result in results if isinstance(results, list) else []:
            if isinstance(result, dict) and result.get("failed") and result.get("error"):
                inner = result["error"]
                return describe_error(inner if isinstance(inner, Mapping) else None)
    message, subject = str(cause), ""
    try:
        parsed = json.loads(cause) if isinstance(cause, str) else dict(cause)
    except (ValueError, TypeError):
        parsed = None
    if isinstance(parsed, dict):
        message = str(parsed.get("errorMessage", message))
        name = str(parsed.get("errorType", name))
    found = _SUBJECT.search(message)
    if found:
        subject = found.group(1)
        message = message[: found.start()].rstrip()
    return name, message, subject


_SUBJECT = re.compile(r" \[subject=([^\]]*)\]$")
_OUTPOST_ARN = re.compile(r"^arn:aws[a-z-]*:outposts:[a-z0-9-]+:[0-9]{12}:outpost/op-[0-9a-f]+$")
_NOT_SUBJECT_TEXT = re.compile(r"[^\x20-\x7e]")  # SNS subjects: printable ASCII, one line


def _outpost_of_lgw(svc: Services, local_gateway_id: str) -> str:
    """The Outpost ARN of a local gateway. Throttling is raised, not papered over: a quarantine
    recorded under the LGW's id would never match the planner's Outpost ARNs (the rack would be
    retried, and rejected, on every pass); the Rollback task's Retry asks again."""
    try:
        found = svc.ec2.describe_local_gateways(LocalGatewayIds=[local_gateway_id])
    except ClientError as error:
        mapped = from_client_error(error, subject=local_gateway_id)
        if isinstance(mapped, ThrottledError):
            raise mapped from error
        return local_gateway_id  # gone or unknown: the LGW's id is all there is to name
    gateways = found.get("LocalGateways", [])
    return str(gateways[0].get("OutpostArn", local_gateway_id)) if gateways else local_gateway_id


def rollback(
    svc: Services,
    *,
    vpc_id: str,
    execution: str,
    execution_arn: str,
    lease: Mapping[str, Any] | None,
    error: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """Undo this execution's own changes (newest first), report, and give the VPC back."""
    name, message, subject = describe_error(error)
    outpost, lookup_error = subject, None
    if name == "RackNotUpdatedError" and subject.startswith("lgw-"):
        try:
            outpost = _outpost_of_lgw(svc, subject)
        except OutpostMeshError as failed:
            lookup_error = failed  # undo first, then fail: the Rollback task's Retry runs again
    routes, associations = svc.store.owned_by(vpc_id, execution)
    undone = 0
    for route in routes:
        undo(
            svc.ec2,
            svc.store,
            JournalEntry(
                "route-created",
                vpc_id,
                route_table_id=route.route_table_id,
                destination=route.destination,
                local_gateway_id=route.local_gateway_id,
            ),
        )
        undone += 1
    for assoc in associations:
        undo(
            svc.ec2,
            svc.store,
            JournalEntry("association-created", vpc_id, association_id=assoc.association_id),
        )
        undone += 1

    if lookup_error is not None:
        raise lookup_error
    kind, cause = FindingKind.ERROR, f"{name}: {message}"
    if name == "RackNotUpdatedError":
        kind, subject = FindingKind.RACK_NOT_UPDATED, outpost
        cause = (
            f"Outpost {outpost} rejected its LGW route to another Outpost's subnet: the rack "
            "needs the intra-VPC communication update. Contact AWS Support; the rack is "
            f"quarantined (left out of the mesh) until released: "
            f"outpost-mesh release --outpost {outpost}"
        )
        if _OUTPOST_ARN.match(outpost):  # not an LGW id the lookup could not resolve
            svc.store.quarantine(outpost, cause, svc.settings.quarantine_seconds)
    elif name == "RouteQuotaExceededError":
        kind = FindingKind.ROUTE_QUOTA
        cause = (
            f"route table {subject} reached its routes-per-table quota; raise the Amazon VPC "
            "quota L-93826ACB or use fewer subnets per table"
        )
    notice = failure_notice(
        vpc_id, kind, subject=subject or vpc_id, cause=cause, undone=undone, execution=execution
    )
    cause += f". Rolled back {undone} change(s) made by execution {execution}."
    finding = Finding(kind, subject or vpc_id, cause)
    svc.store.record_findings(vpc_id, (finding,), execution)
    publish(svc, notice)

    restarted = ""
    holder = str((lease or {}).get("holder") or "")
    if holder == execution_arn:
        current = svc.store.lease(vpc_id) or {}
        arrived = int(current.get("triggers", 0)) > int((lease or {}).get("seen", 0))
        svc.store.force_release(vpc_id, execution_arn)
        if arrived and svc.settings.state_machine_arn:
            # A trigger came in while this execution failed: it is not lost, it gets a pass.
            restarted = (
                start_reconcile(
                    svc, vpc_id, execution_name(vpc_id, execution, prefix="retry-"), execution
                )
                or ""
            )
    return {"error": name, "cause": cause, "undone": undone, "restarted": restarted}


def publish(svc: Services, notice: Notice) -> None:
    notify(svc, notice.subject, notice.body, notice.kind, notice.vpc_id)


def notify(svc: Services, subject: str, message: str, kind: str, vpc_id: str) -> None:
    """Publish to the topic; ``kind`` and ``vpc_id`` are message attributes (filter policies)."""
    if not svc.settings.topic_arn:
        return
    try:
        svc.sns.publish(
            TopicArn=svc.settings.topic_arn,
            Subject=_NOT_SUBJECT_TEXT.sub(" ", subject).strip()[:99] or kind,
            Message=message,
            MessageAttributes={
                "kind": {"DataType": "String", "StringValue": kind},
                "vpc_id": {"DataType": "String", "StringValue": vpc_id},
            },
        )
    except ClientError as error:
        raise from_client_error(error, subject=vpc_id) from error
