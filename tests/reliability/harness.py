"""The reliability suite's harness: the deployed pipeline in the sandbox, hooks around the real
Lambda handlers, the checks every case must pass, and the tally docs/reliability.md is made of.

A :class:`World` is one case: an empty sandbox account, the stack of template.yaml deployed in it
(:class:`~outpost_mesh_sandbox.stack.pipeline.SandboxPipeline`), a scenario seeded, and the person's
steps run on demand. Every handler the seam runs is wrapped: each invocation is recorded (function,
execution, start, end, outcome) and a case may hook code before, after or instead of one
invocation (inject a fault when the workflow reaches a task, delete a subnet while a reconcile
runs, crash a task half-way). Outcomes are read back from AWS (route tables, associations), the
ledger, the Step Functions executions, the EMF the handlers printed, the notices on the topic and
the sandbox's call log; never from what the pipeline says it did.
"""

from __future__ import annotations

import bisect
import io
import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import pytest
import yaml

from outpost_mesh.ledger import LedgerStore
from outpost_mesh.model import Finding
from outpost_mesh.observe import observe_vpc, route_target
from outpost_mesh.planner import desired_state, plan_vpc
from outpost_mesh.reconcile import reconcile_vpc
from outpost_mesh.service import ReconcileService
from outpost_mesh.settings import Settings
from outpost_mesh_sandbox.aws.calls import is_mutating
from outpost_mesh_sandbox.aws.control import ApiCall
from outpost_mesh_sandbox.aws.identities import PIPELINE_ACCESS_KEY, SCENARIO_ACCESS_KEY
from outpost_mesh_sandbox.aws.server import Sandbox
from outpost_mesh_sandbox.scenario import Scenario, parse_scenario
from outpost_mesh_sandbox.scenario.ids import IdMap
from outpost_mesh_sandbox.scenario.seed import run_step_calls, seed
from outpost_mesh_sandbox.stack.cloudtrail import events_for_calls
from outpost_mesh_sandbox.stack.pipeline import (
    RUNNER_ACCESS_KEY,
    Delivery,
    ExecutionInfo,
    PipelineOptions,
    SandboxPipeline,
)

Route = tuple[str, str, str]  # (route table, destination, target)
MUTATING_TASKS = frozenset(
    {"AssociateFunction", "ApplyRoutesFunction", "DisassociateFunction", "RollbackFunction"}
)
TERMINAL = frozenset({"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"})
LIVE = frozenset({"associating", "associated"})


# -- the tally -------------------------------------------------------------------------------
@dataclass
class Row:
    """One line of the matrix in docs/reliability.md."""

    case: str
    fault: str
    outcome: str
    final: str
    routes: str
    findings: str
    metrics: str
    faults_hit: int | str
    calls: int
    events: int
    passed: bool = False


@dataclass
class Tally:
    """What the reliability package saw, for docs/reliability.md."""

    rows: list[Row] = field(default_factory=list)
    concurrency: list[str] = field(default_factory=list)
    corpus: dict[str, Counter[str]] = field(default_factory=dict)
    events_tried: int = 0
    calls_made: int = 0
    routes_lost: int = 0
    executions: Counter[str] = field(default_factory=Counter)
    ran: set[str] = field(default_factory=set)  # node ids that passed
    seconds: float = 0.0  # the package's tests' durations (set-up, call, teardown)


TALLY = Tally()


# -- invocations and hooks -------------------------------------------------------------------
@dataclass(frozen=True)
class Call:
    """One handler invocation as the seam ran it."""

    function: str
    execution: str
    start: float
    end: float
    ok: bool
    error: str = ""


@dataclass
class Hook:
    function: str
    before: Callable[[Any], None] | None = None
    after: Callable[[Any, Any], None] | None = None
    instead: Callable[[Any, Callable[[Any], Any]], Any] | None = None
    when: Callable[[Any], bool] | None = None
    times: int = 1


def execution_of(event: Any) -> str:
    """The execution a task invocation works for (its name), from the input the ASL gives it."""
    if not isinstance(event, dict):
        return ""
    name = event.get("execution_name")
    if isinstance(name, str) and name:
        return name
    holder = event.get("holder")
    if isinstance(holder, str) and ":execution:" in holder:
        return holder.rsplit(":", 1)[-1]
    return ""


class _Tee(io.TextIOBase):
    """Everything the handlers print (JSON logs, EMF), unbounded, for this case."""

    def __init__(self) -> None:
        self._chunks: list[str] = []
        self._lock = threading.Lock()

    def write(self, text: str) -> int:
        with self._lock:
            self._chunks.append(text)
        return len(text)

    def writable(self) -> bool:
        return True

    def position(self) -> int:
        with self._lock:
            return len(self._chunks)

    def records(self, since: int = 0) -> list[dict[str, Any]]:
        with self._lock:
            text = "".join(self._chunks[since:])
        found = []
        for raw in text.split("\n"):  # not splitlines(): U+0085 and U+2028 are data here
            line = raw.strip()
            if line.startswith("{"):
                try:
                    found.append(json.loads(line))
                except ValueError:
                    continue
        return found


def metric_sums(records: Iterable[dict[str, Any]]) -> dict[str, float]:
    """Sum of every EMF metric in ``records`` (Powertools' CloudWatch EMF blobs)."""
    sums: dict[str, float] = {}
    for record in records:
        aws = record.get("_aws")
        if not isinstance(aws, dict):
            continue
        for directive in aws.get("CloudWatchMetrics", []):
            for metric in directive.get("Metrics", []):
                name = metric["Name"]
                value = record.get(name, 0)
                values = value if isinstance(value, list) else [value]
                sums[name] = sums.get(name, 0.0) + sum(float(v) for v in values)
    return sums


def calls_since(sb: Sandbox, seq: int, *, last_only: bool = False) -> list[ApiCall]:
    """The sandbox's recorded calls after ``seq``, read in-process by bisection: the bad-input
    corpora read the log twice per example while it grows to tens of thousands of calls, and
    ``CallLog.since`` (or the control endpoint) scans all of it each time."""
    log = sb.app.calls if sb.app is not None else None
    assert log is not None
    with log._lock:  # the log only appends (and clears on reset), in seq order
        calls = log._calls
        if last_only:
            return calls[-1:]
        start = bisect.bisect_right(calls, seq, key=lambda c: c.seq)
        return calls[start:]


# -- snapshots -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Snapshot:
    routes: frozenset[Route]  # every non-local route of the scenario's VPCs
    owned: frozenset[Route]  # routes the ledger says the system created
    associations: dict[str, str]  # LGW route table VPC association id -> state (all of them)
    owned_associations: frozenset[str]
    findings: frozenset[tuple[str, str]]  # (kind, subject) ever recorded

    @property
    def unowned(self) -> frozenset[Route]:
        return self.routes - self.owned


@dataclass
class ExecutionRecord:
    name: str
    arn: str
    status: str
    rolled_back: bool
    handed_over: bool
    retried: Counter[str]
    error: str


# -- one case --------------------------------------------------------------------------------
class World:
    """One case: a fresh account with the stack deployed and a scenario seeded."""

    def __init__(
        self,
        sb: Sandbox,
        monkeypatch: pytest.MonkeyPatch,
        scenario: str,
        *,
        options: PipelineOptions | None = None,
        name: str = "case",
    ) -> None:
        self.sb = sb
        self.monkeypatch = monkeypatch
        self.scenario: Scenario = parse_scenario(yaml.safe_load(scenario), name, name)
        self.options = options or PipelineOptions()
        self.logs = _Tee()
        self.invocations: list[Call] = []
        self.hooks: list[Hook] = []
        self._lock = threading.Lock()
        self._idle = threading.Condition()
        self._inflight = 0
        self.events_delivered = 0
        self.deliveries: list[Delivery] = []
        self.mark = 0
        self.fault_codes: set[str] = set()
        sb.control.reset()
        self.pipeline = SandboxPipeline(sb, self.options, log_copy_to=self.logs).deploy()
        try:
            self.person = sb.client("ec2", caller="scenario")
            self.ec2 = sb.client("ec2", caller=RUNNER_ACCESS_KEY)
            self.store = LedgerStore(
                sb.client("dynamodb", caller=RUNNER_ACCESS_KEY), self.pipeline.table_name
            )
            self.ids: IdMap = seed(self.scenario, self.person, sb.control)
            self.cursor = self._last_seq()
            self.mark = self.cursor
            self.log_mark = 0
            self._wrap_handlers()
            self._inbox = self._subscribe()
        except BaseException:
            self.pipeline.close()
            raise

    # -- plumbing ----------------------------------------------------------------------------
    def close(self) -> None:
        self.pipeline.close()

    def _last_seq(self) -> int:
        return self.last_seq()

    def last_seq(self) -> int:
        """The call log's position now."""
        last = calls_since(self.sb, 0, last_only=True)
        return last[0].seq if last else self.mark

    def _wrap_handlers(self) -> None:
        for logical_id, binding in self.pipeline.seam.by_logical_id.items():
            attr = binding.handler_name.rsplit(".", 1)[-1]
            original = getattr(binding.module, attr)
            self.monkeypatch.setattr(binding.module, attr, self._wrapped(logical_id, original))

    def _take_hook(self, function: str, event: Any) -> Hook | None:
        with self._lock:
            for hook in self.hooks:
                if hook.function != function or hook.times <= 0:
                    continue
                if hook.when is not None and not hook.when(event):
                    continue
                hook.times -= 1
                return hook
        return None

    def _wrapped(
        self, function: str, original: Callable[[Any, Any], Any]
    ) -> Callable[[Any, Any], Any]:
        def handler(event: Any, context: Any) -> Any:
            hook = self._take_hook(function, event)
            started = time.time()
            ok, error = False, ""
            with self._idle:
                self._inflight += 1
            try:
                if hook is not None and hook.before is not None:
                    hook.before(event)
                if hook is not None and hook.instead is not None:
                    result = hook.instead(event, lambda e: original(e, context))
                else:
                    result = original(event, context)
                if hook is not None and hook.after is not None:
                    hook.after(event, result)
                ok = True
                return result
            except Exception as exc:
                error = type(exc).__name__
                raise
            finally:
                call = Call(function, execution_of(event), started, time.time(), ok, error)
                with self._lock:
                    self.invocations.append(call)
                with self._idle:
                    self._inflight -= 1
                    self._idle.notify_all()

        return handler

    def _subscribe(self) -> str:
        sns = self.sb.client("sns", caller=RUNNER_ACCESS_KEY)
        sqs = self.sb.client("sqs", caller=RUNNER_ACCESS_KEY)
        url = str(sqs.create_queue(QueueName="reliability-inbox")["QueueUrl"])
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        sns.subscribe(TopicArn=self.pipeline.topic_arn, Protocol="sqs", Endpoint=arn)
        return url

    def begin(self) -> None:
        """The case starts now: calls, logs and metrics are counted from here."""
        self.mark = self._last_seq()
        self.log_mark = self.logs.position()

    # -- the person and the events -------------------------------------------------------------
    def hook(self, function: str, **kwargs: Any) -> Hook:
        hook = Hook(function, **kwargs)
        with self._lock:
            self.hooks.append(hook)
        return hook

    def calls(self, step: int) -> list[dict[str, Any]]:
        """Make the person's calls of scenario step ``step``; their CloudTrail events."""
        run_step_calls(self.scenario.steps[step], self.person, self.ids, self.scenario)
        return self.person_events()

    def person_events(self) -> list[dict[str, Any]]:
        """Events of the person's calls since the last time this was asked."""
        calls = self.sb.control.calls(since=self.cursor)
        if calls:
            self.cursor = calls[-1].seq
        mine = [c for c in calls if c.caller == SCENARIO_ACCESS_KEY and c.service == "ec2"]
        return events_for_calls(mine, self.sb.account_id, self.sb.region, SCENARIO_ACCESS_KEY)

    def deliver(self, events: list[dict[str, Any]]) -> list[Delivery]:
        done = self.pipeline.deliver(events)
        with self._lock:
            self.events_delivered += len(events)
            self.deliveries.extend(done)
        return done

    def settle(self, timeout: float = 60.0) -> None:
        """Until no execution runs, no event is being delivered and no handler still runs (a
        Map iteration's Lambda may outlive its execution, as on AWS)."""
        self.pipeline.wait_idle(timeout=timeout)
        with self._idle:
            assert self._idle.wait_for(lambda: self._inflight == 0, timeout=timeout)

    def step(self, step: int) -> list[Delivery]:
        """A scenario step as the demo runs it: calls, every event at once, wait until idle."""
        done = self.deliver(self.calls(step))
        self.settle()
        return done

    def converge(self, step: int | None = None) -> None:
        """An earlier, completed run: the person's calls of ``step`` (their events are not
        delivered), then every VPC reconciled to its desired state by the synchronous core the
        CLI uses (same planner, applier, ledger and lease as the workflow, without the Step
        Functions round trips), so the routes it made are owned like the workflow's."""
        if step is not None:
            run_step_calls(self.scenario.steps[step], self.person, self.ids, self.scenario)
            self.person_events()
        ec2 = self.sb.client("ec2", caller="pipeline")
        store = LedgerStore(self.sb.client("dynamodb", caller="pipeline"), self.store.table_name)
        for vpc_id in self.vpc_ids:
            svc = ReconcileService(Settings(table=store.table_name), ec2=ec2, store=store)
            reconcile_vpc(svc, vpc_id, owner="earlier-run")
        assert self.pending_changes() == {}

    def sweep(self) -> list[Delivery]:
        """The schedule rule fires now (the periodic sweep), then wait until idle."""
        done = self.pipeline.sweep()
        with self._lock:
            self.deliveries.extend(done)
        self.settle()
        return done

    # -- reading AWS, the ledger and the pipeline ----------------------------------------------
    @property
    def vpc_ids(self) -> list[str]:
        return sorted(self.ids.vpcs.values())

    def routes(self) -> frozenset[Route]:
        found: set[Route] = set()
        paginator = self.ec2.get_paginator("describe_route_tables")
        for page in paginator.paginate(Filters=[{"Name": "vpc-id", "Values": self.vpc_ids}]):
            for table in page["RouteTables"]:
                for route in table.get("Routes", []):
                    target = route_target(route)
                    if target == "local":
                        continue
                    destination = route.get("DestinationCidrBlock") or route.get(
                        "DestinationIpv6CidrBlock", ""
                    )
                    found.add((table["RouteTableId"], destination, target))
        return frozenset(found)

    def associations(self) -> dict[str, str]:
        found = self.ec2.describe_local_gateway_route_table_vpc_associations(
            Filters=[{"Name": "vpc-id", "Values": self.vpc_ids}]
        )["LocalGatewayRouteTableVpcAssociations"]
        return {a["LocalGatewayRouteTableVpcAssociationId"]: a["State"] for a in found}

    def snapshot(self) -> Snapshot:
        owned: set[Route] = set()
        owned_assocs: set[str] = set()
        findings: set[tuple[str, str]] = set()
        for vpc_id in self.vpc_ids:
            ledger = self.store.load(vpc_id)
            owned |= {(r.route_table_id, r.destination, r.local_gateway_id) for r in ledger.routes}
            owned_assocs |= {a.association_id for a in ledger.associations}
            findings |= {(f.kind, f.subject) for f in self.store.findings(vpc_id)}
        return Snapshot(
            self.routes(),
            frozenset(owned),
            self.associations(),
            frozenset(owned_assocs),
            frozenset(findings),
        )

    def wanted(self) -> frozenset[Route]:
        """The desired routes of every VPC now (the planner's, on a fresh observation)."""
        wanted: set[Route] = set()
        quarantined = self.store.quarantined()
        for vpc_id in self.vpc_ids:
            desired = desired_state(observe_vpc(self.ec2, vpc_id), quarantined)
            wanted |= {(t, d, c.local_gateway_id) for (t, d), c in desired.routes.items()}
        return frozenset(wanted)

    def pending_changes(self) -> dict[str, int]:
        """What a plan of each VPC would still change (an empty dict: converged)."""
        quarantined = self.store.quarantined()
        left: dict[str, int] = {}
        for vpc_id in self.vpc_ids:
            plan = plan_vpc(observe_vpc(self.ec2, vpc_id), self.store.load(vpc_id), quarantined)
            if plan.has_changes:
                counts = plan.counts()
                left[vpc_id] = sum(v for k, v in counts.items() if k != "findings")
        return left

    def findings(self) -> list[Finding]:
        return [f for vpc_id in self.vpc_ids for f in self.store.findings(vpc_id)]

    def notices(self) -> list[dict[str, str]]:
        """Notices on the topic so far (kind, vpc_id, subject), read off its SQS subscription."""
        sqs = self.sb.client("sqs", caller=RUNNER_ACCESS_KEY)
        found: list[dict[str, str]] = []
        while True:
            got = sqs.receive_message(QueueUrl=self._inbox, MaxNumberOfMessages=10)
            messages = got.get("Messages", [])
            if not messages:
                return found
            for message in messages:
                body = json.loads(message["Body"])
                attributes = body.get("MessageAttributes", {})
                found.append(
                    {
                        "kind": attributes.get("kind", {}).get("Value", ""),
                        "vpc_id": attributes.get("vpc_id", {}).get("Value", ""),
                        "subject": body.get("Subject", ""),
                    }
                )
                sqs.delete_message(QueueUrl=self._inbox, ReceiptHandle=message["ReceiptHandle"])

    def metrics(self) -> dict[str, float]:
        return metric_sums(self.logs.records(self.log_mark))

    def log_records(self) -> list[dict[str, Any]]:
        return [r for r in self.logs.records(self.log_mark) if "level" in r]

    def api_calls(self, since: int | None = None) -> list[ApiCall]:
        return calls_since(self.sb, self.mark if since is None else since)

    def pipeline_calls(self, since: int | None = None) -> list[ApiCall]:
        return [c for c in self.api_calls(since) if c.caller == PIPELINE_ACCESS_KEY]

    def executions(self, known: Iterable[str] = ()) -> list[ExecutionRecord]:
        skip = set(known)
        records = []
        for info in self.pipeline.executions():
            if info.arn in skip:
                continue
            records.append(self._record(info))
        return records

    def _record(self, info: ExecutionInfo) -> ExecutionRecord:
        sfn = self.pipeline.sfn
        history = sfn.get_execution_history(executionArn=info.arn, maxResults=1000)["events"]
        rolled_back = any(
            e.get("type") == "TaskStateExited"
            and e.get("stateExitedEventDetails", {}).get("name") == "Rollback"
            for e in history
        )
        handed_over = any(
            e.get("stateEnteredEventDetails", {}).get("name") == "HandedOver" for e in history
        )
        retried: Counter[str] = Counter(
            str(e["taskFailedEventDetails"].get("error", ""))
            for e in history
            if "taskFailedEventDetails" in e
        )
        described = self.pipeline.describe(info.arn)
        return ExecutionRecord(
            info.name,
            info.arn,
            info.status,
            rolled_back,
            handed_over,
            retried,
            str(described.get("error") or ""),
        )

    def clear_faults(self) -> int:
        """Drop the faults nobody consumed (a permanent one, say); how many calls were left."""
        table = self.sb.app.faults if self.sb.app is not None else None
        left = sum(f.remaining for f in table.pending()) if table is not None else 0
        self.sb.control.clear_faults()
        return left


# -- what every case must show ---------------------------------------------------------------
@dataclass
class Expect:
    must: frozenset[str] = frozenset({"SUCCEEDED"})  # statuses that must appear
    final: str = "converged"  # "converged" | "unchanged" | "any"
    findings: frozenset[str] = frozenset()  # finding kinds that must be recorded and notified
    metrics: tuple[str, ...] = ()  # EMF metrics that must have been emitted
    executions: bool = True  # at least one execution must have run


def rolled_back(finding: str, *metrics: str) -> Expect:
    """The execution FAILED and undid all it had done: the tables as they were, ``finding``
    recorded and notified, Rollbacks (and ``metrics``) emitted."""
    return Expect(
        must=frozenset({"FAILED"}),
        final="unchanged",
        findings=frozenset({finding}),
        metrics=("Rollbacks", *metrics),
    )


@dataclass
class Outcome:
    executions: list[ExecutionRecord]
    before: Snapshot
    after: Snapshot
    added: frozenset[Route]
    removed: frozenset[Route]
    new_findings: frozenset[tuple[str, str]]
    notices: list[dict[str, str]]
    metrics: dict[str, float]
    calls: list[ApiCall]
    faults_left: int
    lost: int

    def summary(self) -> str:
        parts = []
        counts = Counter((e.status, e.rolled_back, e.handed_over) for e in self.executions)
        for (status, rolled, handed), n in sorted(counts.items()):
            words = status
            if rolled:
                words += " after rollback"
            elif handed:
                words += " (handed over)"
            parts.append(f"{n} x {words}")
        return ", ".join(parts) or "no execution (ignored)"


def check_case(world: World, before: Snapshot, known: Iterable[str], expect: Expect) -> Outcome:
    """Every promise of issue 5 for one case; returns what was seen (asserting as it goes)."""
    faults_left = world.clear_faults()
    after = world.snapshot()
    executions = world.executions(known)
    statuses = {e.status for e in executions}

    # Every execution ended SUCCEEDED, or FAILED after its rollback, owning nothing.
    assert statuses <= {"SUCCEEDED", "FAILED"}, [(e.name, e.status) for e in executions]
    assert expect.must <= statuses, (expect.must, [(e.name, e.status) for e in executions])
    if expect.executions:
        assert executions, "no execution ran"
    for execution in executions:
        if execution.status == "FAILED":
            assert execution.rolled_back, f"{execution.name} failed without its rollback"
            for vpc_id in world.vpc_ids:
                routes, associations = world.store.owned_by(vpc_id, execution.name)
                assert (routes, associations) == ([], []), (execution.name, routes, associations)

    # Route tables: earlier routes, minus owned ones no longer wanted, plus wanted owned ones.
    wanted = world.wanted()
    added = after.routes - before.routes
    removed = before.routes - after.routes
    assert before.unowned <= after.routes, (
        f"unowned routes changed: {before.unowned - after.routes}"
    )
    assert not (added - after.owned), f"routes nobody owns appeared: {added - after.owned}"
    assert added <= wanted, f"unwanted routes were created: {added - wanted}"
    assert removed <= before.owned, f"routes it did not own were removed: {removed - before.owned}"
    assert not (removed & wanted), f"wanted routes were removed: {removed & wanted}"

    # The ledger matches AWS: every owned route there with its target, every owned association
    # live; every route the system made is owned.
    assert after.owned <= after.routes, f"owned routes missing in AWS: {after.owned - after.routes}"
    live = {a for a, state in after.associations.items() if state in LIVE}
    assert after.owned_associations <= live, (after.owned_associations, after.associations)

    if expect.final == "converged":
        assert world.pending_changes() == {}, "the VPC is not in its desired state"
    elif expect.final == "unchanged":
        assert after.routes == before.routes, (added, removed)
        assert after.owned == before.owned
        assert after.owned_associations == before.owned_associations

    # One actor at a time, and no trigger left behind: every lease free, every trigger seen.
    for vpc_id in world.vpc_ids:
        lease = world.store.lease(vpc_id)
        if lease is not None:
            assert lease["holder"] is None, lease
            assert lease["triggers"] == lease["seen"], lease

    # Findings and their notices and metrics.
    new_findings = after.findings - before.findings
    kinds = {kind for kind, _ in new_findings}
    notices = world.notices()
    assert expect.findings <= kinds, (expect.findings, new_findings)
    assert expect.findings <= {n["kind"] for n in notices}, (expect.findings, notices)
    if "error" not in expect.findings:
        assert "error" not in kinds, new_findings
    metrics = world.metrics()
    for name in expect.metrics:
        assert name in metrics, (name, metrics)  # emitted (a headroom may well be 0 or less)
    if (
        statuses == {"SUCCEEDED"}
        and expect.final == "converged"
        and not any(e.rolled_back for e in executions)
    ):
        # Only SUCCEEDED passes: the metrics count exactly what changed in AWS.
        assert metrics.get("RoutesCreated", 0) == len(added), (metrics, added)
        assert metrics.get("RoutesDeleted", 0) == len(removed), (metrics, removed)

    kept = before.unowned | (before.owned & wanted)
    lost = len(kept - after.routes) + len(after.owned - after.routes)
    assert lost == 0
    calls = world.pipeline_calls()
    outcome = Outcome(
        executions,
        before,
        after,
        added,
        removed,
        new_findings,
        notices,
        metrics,
        calls,
        faults_left,
        lost,
    )
    TALLY.routes_lost += lost
    return outcome


def mutating(calls: Iterable[ApiCall]) -> list[ApiCall]:
    return [c for c in calls if c.service == "ec2" and is_mutating(c.action)]
