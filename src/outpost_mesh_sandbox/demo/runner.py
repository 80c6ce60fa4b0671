"""Run a scenario through the whole pipeline in the sandbox and build the demo report.

:func:`run_scenario` does exactly what docs/scenario-format.md says, through the real pipeline
(:class:`~outpost_mesh_sandbox.stack.pipeline.SandboxPipeline`):

1. an empty sandbox account; the stack of template.yaml deployed in it with the scenario's
   ``settings`` as its parameters (template.yaml's defaults otherwise: the functions pace their
   EC2 calls as deployed). AWS time is the sandbox's clock: pacing waits on it (a wait jumps the
   clock instead of sleeping) and the functions' ledger reads "now" from it
   (:class:`AwsTime`), so ``advance_clock`` expires quarantines and leases; with ``throttle`` it
   runs ``time_scale`` times faster than real time;
2. the scenario seeded with the scenario caller's key (seeding emits no events: the call log's
   position after seeding is where the steps begin);
3. each step, in order: its API calls (scenario caller), then the CloudTrail-shaped events of
   those calls delivered through the rules (``together``: every inner step's calls first, then all
   the events at once; ``quiet``: no events), then a bounded wait until the pipeline is idle.
   ``sweep`` fires the schedule rule, ``fail`` injects the sandbox fault, ``event`` delivers the
   raw event with its placeholders replaced, ``release`` deletes the Outpost's quarantine as the
   CLI's ``release`` does, ``advance_clock`` moves the sandbox's clock. A function failing on an
   event becomes a finding of kind ``error`` and the run goes on;
4. the report, read back from AWS state (route tables, associations, reachability), the ledger's
   findings and the pipeline's EC2 calls, in the scenario's words.

Several accounts (``accounts``): a stack in every account that has VPCs, as a StackSet deploys
it (:class:`SandboxPipeline` with ``account_id``), all on the same AWS time, each sending its
findings and notices to the hub's bus (:mod:`.hub`, in an account of its own). A step's calls are
made by the person of its account; their events go to that account's stack; ``sweep`` sweeps
every stack; the runner waits until every stack is idle; ``approve``/``reject`` answer through
the stack of the VPC's account and ``release`` releases in every stack's ledger; ``api_calls``
sums every stack's calls; findings are read from each VPC's account's ledger. An ``event`` step
goes to the stack of the event's ``account`` (the first stack when no stack is in it).

What a run saw is a :class:`~outpost_mesh_sandbox.demo.records.DemoRun`, whose ``report`` is the
JSON report (the public contract).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from outpost_mesh.approval import APPROVAL_REJECTED
from outpost_mesh.model import ApprovalStatus
from outpost_mesh_sandbox.aws.identities import access_key
from outpost_mesh_sandbox.aws.server import Sandbox
from outpost_mesh_sandbox.aws.throttle import EmulatedClock
from outpost_mesh_sandbox.demo.hub import Hub, hub_view
from outpost_mesh_sandbox.demo.records import DemoRun, StepRecord
from outpost_mesh_sandbox.demo.report import (
    Snapshot,
    Translator,
    counted,
    route_changes,
    snapshot,
    snapshot_accounts,
)
from outpost_mesh_sandbox.scenario.calls import SeedError, apply_fail, run_step_calls
from outpost_mesh_sandbox.scenario.ids import IdMap, account_ids
from outpost_mesh_sandbox.scenario.loader import load_scenario
from outpost_mesh_sandbox.scenario.model import (
    AdvanceClockStep,
    AnswerStep,
    CallStep,
    EventStep,
    FailStep,
    ReleaseStep,
    Scenario,
    Step,
    SweepStep,
    TogetherStep,
)
from outpost_mesh_sandbox.scenario.placeholders import substitute_placeholders
from outpost_mesh_sandbox.scenario.seed import seed
from outpost_mesh_sandbox.stack.cloudtrail import CallCursor, events_for_calls
from outpost_mesh_sandbox.stack.pipeline import (
    RUNNER_ACCESS_KEY,
    ExecutionInfo,
    PipelineOptions,
    SandboxPipeline,
    find_root,
)

__all__ = [
    "RUNNER_ACCESS_KEY",
    "AwsTime",
    "DemoRun",
    "RunnerError",
    "StepRecord",
    "run_demo",
    "run_scenario",
]

_ERROR_STATUSES = ("FAILED", "TIMED_OUT", "ABORTED")


class RunnerError(RuntimeError):
    """The runner itself could not go on (not something the pipeline reported)."""


@contextlib.contextmanager
def _faults_held_back(sandbox: Sandbox) -> Iterator[None]:
    """The runner's own reads (snapshots for the report) must not use up a ``fail`` step's
    faults, which are for the pipeline ("whoever calls" means the scenario's world, not the
    observer's): set the pending faults aside meanwhile, and put them back in the same order.
    The pipeline is idle whenever the runner reads."""
    table = sandbox.app.faults if sandbox.app is not None else None
    pending = table.pending() if table is not None else []
    if table is not None:
        table.clear()
    try:
        yield
    finally:
        if table is not None:
            for fault in pending:
                table.add(fault.action, fault.code, fault.remaining, fault.message, fault.service)


class AwsTime:
    """AWS time in epoch seconds, as the functions' ledger reads it during a run: the epoch when
    the run started plus the sandbox clock's seconds since (real time, ``time_scale`` times
    faster with ``throttle``, plus every jump: pacing's waits and ``advance_clock``).

    Never earlier than an earlier reading: seeding a throttled scenario restarts the sandbox's
    clock, before the pipeline has written anything.
    """

    def __init__(self, clock: EmulatedClock) -> None:
        self.clock = clock
        self.epoch = time.time() - clock.now()
        self._last = 0.0
        self._lock = threading.Lock()

    def __call__(self) -> float:
        now = self.epoch + self.clock.now()
        with self._lock:
            self._last = max(self._last, now)
            return self._last


class _Runner:
    def __init__(
        self,
        scenario: Scenario,
        sandbox: Sandbox,
        options: PipelineOptions,
        root: Path | None,
        progress: Any,
    ) -> None:
        self.scenario = scenario
        self.sandbox = sandbox
        self.options = options
        self.root = root
        self.progress = progress
        #: The stack of each account that has VPCs, by account name (None: the one account).
        self.pipelines: dict[str | None, SandboxPipeline] = {}
        self.hub: Hub | None = None
        self.error_findings: dict[tuple[str, str | None], str] = {}  # (subject, account)
        self.pipeline_calls: Counter[str] = Counter()
        self._owner: dict[str, str | None] = {}  # execution ARN -> its stack's account

    def say(self, text: str) -> None:
        if self.progress is not None:
            self.progress(text)

    # -- the stacks ----------------------------------------------------------------------------
    def _deploy(self, options: PipelineOptions, clock: AwsTime) -> None:
        """One stack per account that has VPCs (the sandbox's with one account); with several,
        the hub first, its bus the stacks' HubEventBusArn."""
        sb, scenario = self.sandbox, self.scenario
        if not scenario.accounts:
            self.pipelines[None] = SandboxPipeline(sb, options, root=self.root, ledger_clock=clock)
            self.pipelines[None].deploy()
            return
        self.hub = Hub(sb, self.root or find_root())
        parameters = {**options.parameters, "HubEventBusArn": self.hub.bus_arn}
        member = dataclasses.replace(options, parameters=parameters)
        ids = account_ids(scenario.accounts, sb.account_id)
        for name in scenario.accounts:
            if scenario.vpcs_of(name):
                pipeline = SandboxPipeline(
                    sb, member, root=self.root, ledger_clock=clock, account_id=ids[name]
                )
                self.pipelines[name] = pipeline
                pipeline.deploy()

    def _pipeline_of_vpc(self, vpc: str) -> SandboxPipeline:
        return self.pipelines[self.scenario.account_of_vpc(vpc)]

    def _account_of_id(self, account_id: str) -> str | None:
        return next((a for a, p in self.pipelines.items() if p.account_id == account_id), None)

    def _snapshot(self, ids: IdMap) -> Snapshot:
        readers = {
            account: self.sandbox.client("ec2", caller=p.runner_key)
            for account, p in self.pipelines.items()
        }
        with _faults_held_back(self.sandbox):
            if None in readers:
                return snapshot(readers[None], ids, self.scenario)
            return snapshot_accounts(
                {a: r for a, r in readers.items() if a is not None}, ids, self.scenario
            )

    def run(self) -> DemoRun:
        sb = self.sandbox
        sb.control.reset()
        assert sb.app is not None, "the sandbox runs in this process"
        clock = sb.app.throttle.clock
        parameters = {**self.scenario.settings.parameters(), **self.options.parameters}
        options = dataclasses.replace(self.options, parameters=parameters)
        try:
            self._deploy(options, AwsTime(clock))
            person = sb.client("ec2", caller="scenario")
            ids = seed(self.scenario, person, sb.control)
            cursor = CallCursor(sb.control)  # seeding's calls are behind us: they emit nothing
            before = current = self._snapshot(ids)
            records: list[StepRecord] = []
            for index, step in enumerate(self.scenario.steps):
                self.say(f"step {index + 1}/{len(self.scenario.steps)}: {step.label}")
                record = self._run_step(index, step, person, ids, cursor)
                record.after = self._snapshot(ids)
                record.added, record.removed = route_changes(
                    current.route_tables, record.after.route_tables
                )
                current = record.after
                records.append(record)
            findings = self._findings(ids, records)
            pending = self.pending_approvals(ids)
            return DemoRun(
                scenario=self.scenario,
                ids=ids,
                before=before,
                after=current,
                steps=records,
                findings=findings,
                pending_approvals=pending,
                api_calls=counted(self.pipeline_calls),
                logs=[line for p in self.pipelines.values() for line in p.seam.logs.lines],
                hub=None if self.hub is None else hub_view(self.hub.received(), ids),
            )
        finally:
            for pipeline in reversed(list(self.pipelines.values())):
                pipeline.close()

    # -- steps -------------------------------------------------------------------------------
    def _run_step(
        self, index: int, step: Step, person: Any, ids: IdMap, cursor: CallCursor
    ) -> StepRecord:
        sb, pipelines = self.sandbox, self.pipelines
        record = StepRecord(index, step, step.label)
        known = {e.arn for p in pipelines.values() for e in p.executions()}
        where = f"steps[{index}]"
        if isinstance(step, FailStep):
            apply_fail(step, sb.control)
        elif isinstance(step, ReleaseStep):
            self._release(ids.outpost(step.outpost).outpost_arn)
        elif isinstance(step, AdvanceClockStep):
            sb.control.advance_clock(step.seconds)
        elif isinstance(step, AnswerStep):
            self._answer(step, ids.vpc_id(step.vpc), record)
        elif isinstance(step, SweepStep):
            for pipeline in pipelines.values():
                record.deliveries += pipeline.sweep()
        elif isinstance(step, EventStep):
            event = substitute_placeholders(
                step.event, ids, source=self.scenario.name, path=f"{where}.event"
            )
            record.events = [event]
            account = self._account_of_id(str(event.get("account", "")))
            target = pipelines.get(account) or next(iter(pipelines.values()))
            record.deliveries = target.deliver(record.events)
        else:
            self._call_step(step, person, ids, cursor, record)
        for pipeline in pipelines.values():
            pipeline.wait_idle()
        self._count_pipeline(cursor.take(), record)
        for account, pipeline in pipelines.items():
            self._executions(account, pipeline, known, record)
        record.executions.sort(key=lambda e: (e.start, e.name))
        self._delivery_errors(record, ids)
        return record

    def _call_step(
        self, step: Step, person: Any, ids: IdMap, cursor: CallCursor, record: StepRecord
    ) -> None:
        """A step's calls, each account's person's; their events to that account's stack."""
        accounts = {p.account_id for p in self.pipelines.values()} | set(ids.accounts.values())
        people = {a: access_key("scenario", a) for a in sorted(accounts)}
        keys = set(people.values())
        inner: tuple[CallStep, ...] = (
            step.steps if isinstance(step, TogetherStep) else (step,)  # type: ignore[assignment]
        )
        events: dict[str, list[dict[str, Any]]] = {}
        for part in inner:
            self._calls(part, person, ids, record)
            calls = cursor.take()
            self._count_pipeline(calls, record)
            mine = [c for c in calls if c.caller in keys and c.service == "ec2"]
            record.calls += [c.action if c.ok else f"{c.action}!" for c in mine]
            if step.quiet or part.quiet:
                continue
            for account_id, key in people.items():
                emitted = events_for_calls(mine, account_id, self.sandbox.region, key)
                events.setdefault(account_id, []).extend(emitted)
                record.events += emitted
        stacks = {p.account_id: p for p in self.pipelines.values()}
        for account_id, batch in events.items():
            if account_id in stacks and batch:  # no stack in an account without VPCs
                record.deliveries += stacks[account_id].deliver(batch)

    def _executions(
        self,
        account: str | None,
        pipeline: SandboxPipeline,
        known: set[str],
        record: StepRecord,
    ) -> None:
        """The step's new executions of one stack, their failures, and those that wait."""
        for execution in pipeline.executions():
            if execution.arn in known:
                continue
            self._owner[execution.arn] = account
            record.executions.append(execution)
            described = pipeline.describe(execution.arn)
            if execution.status in _ERROR_STATUSES:
                record.failures[execution.name] = (
                    str(described.get("error") or execution.status),
                    str(described.get("cause") or ""),
                )
            elif _handed_over(described.get("output")):
                record.handed_over.add(execution.name)
        for execution in pipeline.running():
            if pipeline.awaits_approval(execution):
                approval = pipeline.approvals().approval(pipeline.vpc_of(execution))
                record.awaiting[execution.name] = len(approval.changes) if approval else 0

    def _calls(self, step: CallStep, person: Any, ids: IdMap, record: StepRecord) -> None:
        try:
            run_step_calls(step, person, ids, self.scenario)
        except ClientError as error:
            err = error.response.get("Error", {})
            record.call_errors.append(
                f"{step.label}: {err.get('Code', '?')}: {err.get('Message', str(error))}"
            )
        except SeedError as error:
            record.call_errors.append(f"{step.label}: nothing to call: {error}")
        except KeyError as error:
            raise RunnerError(
                f"{self.scenario.name}: steps[{record.index}] ({step.label}): "
                f"{error.args[0] if error.args else error} does not exist in the sandbox "
                "(an earlier call was refused)"
            ) from error

    def _answer(self, step: AnswerStep, vpc_id: str, record: StepRecord) -> None:
        """What ``outpost-mesh approve`` / ``reject --vpc ID`` does in the VPC's account: the
        waiting request's task token answered with SendTaskSuccess / SendTaskFailure, as the
        runner's identity. Nothing waiting is a refusal of the step, as the CLI's exit 2 is."""
        pipeline = self._pipeline_of_vpc(step.vpc)
        approval = pipeline.approvals().approval(vpc_id)
        if approval is None or approval.status is not ApprovalStatus.WAITING:
            record.call_errors.append(f"{step.label}: nothing waits for approval in {step.vpc}")
            return
        sts = self.sandbox.client("sts", caller=pipeline.runner_key)
        by = str(sts.get_caller_identity()["Arn"])
        sfn = pipeline.sfn
        if step.approve:
            sfn.send_task_success(taskToken=approval.token, output=json.dumps({"approved_by": by}))
        else:
            cause = json.dumps({"by": by, "reason": step.reason})
            sfn.send_task_failure(taskToken=approval.token, error=APPROVAL_REJECTED, cause=cause)
        pipeline.wait_answered(vpc_id, approval.token)

    def pending_approvals(self, ids: IdMap) -> list[dict[str, Any]]:
        """Every request that waits for a person at the end of the run, in scenario words."""
        words = Translator(ids)
        pending = []
        for vpc in self.scenario.vpcs:
            store = self._pipeline_of_vpc(vpc.name).approvals()
            approval = store.approval(ids.vpc_id(vpc.name))
            if approval is None or approval.status is not ApprovalStatus.WAITING:
                continue
            pending.append(
                {
                    "vpc": vpc.name,
                    "execution": approval.execution,
                    "changes": [words.text(k) for k in approval.changes],
                    "counts": dict(approval.plan.get("counts") or {}),
                    "advertised": _named(words, approval.plan.get("advertised")),
                    "withdrawn": _named(words, approval.plan.get("withdrawn")),
                }
            )
        return pending

    def _release(self, outpost_arn: str) -> None:
        """What ``outpost-mesh release --outpost ARN`` does, in every stack: the quarantine is
        gone (each account's stack keeps its own)."""
        for pipeline in self.pipelines.values():
            pipeline.approvals().release_quarantine(outpost_arn)

    def _count_pipeline(self, calls: list[Any], record: StepRecord) -> None:
        keys = {access_key("pipeline", p.account_id) for p in self.pipelines.values()}
        counts = Counter(c.action for c in calls if c.caller in keys and c.service == "ec2")
        self.pipeline_calls.update(counts)
        merged = Counter(record.api_calls)
        merged.update(counts)
        record.api_calls = dict(sorted(merged.items()))

    # -- findings ----------------------------------------------------------------------------
    def _delivery_errors(self, record: StepRecord, ids: IdMap) -> None:
        words = Translator(ids)
        for delivery in record.deliveries:
            event = delivery.event if isinstance(delivery.event, dict) else {}
            account = self._account_of_id(str(event.get("account", "")))
            for invocation in delivery.failed:
                detail = event.get("detail") if isinstance(event.get("detail"), dict) else {}
                what = (detail or {}).get("eventName") or event.get("detail-type") or "event"
                event_id = event.get("id")
                if invocation.function.startswith("Sweep"):
                    subject = "sweep"
                else:
                    subject = f"event {event_id}" if isinstance(event_id, str) else "event"
                message = words.text(
                    f"{invocation.function} failed on the {what} event of step "
                    f"'{record.label}': {invocation.error_type}: {invocation.error_message}"
                )
                self.error_findings.setdefault((subject, account), message)

    def _findings(self, ids: IdMap, records: list[StepRecord]) -> list[dict[str, Any]]:
        """Every finding of the run, each once, with ``resolved``: the ledger keeps a finding a
        later plan no longer had, marked resolved (the runner's own ``error`` findings, of
        events and executions that failed, are never resolved). With several accounts, each
        VPC's from its account's ledger, and each names its ``account``."""
        words = Translator(ids)
        found: dict[tuple[str, str, str | None], str] = {}
        resolved: set[tuple[str, str, str | None]] = set()
        seeded = [v for v in self.scenario.vpcs if v.name in ids.vpcs]
        for vpc in sorted(seeded, key=lambda v: ids.vpc_id(v.name)):
            vpc_id = ids.vpc_id(vpc.name)
            store = self._pipeline_of_vpc(vpc.name).approvals()
            still = {(f.kind, f.subject) for f in store.open_findings(vpc_id)}
            for finding in store.findings(vpc_id):
                key = (str(finding.kind), words.text(finding.subject), vpc.account)
                found[key] = words.text(finding.message)
                if (finding.kind, finding.subject) not in still:
                    resolved.add(key)
        for (subject, account), message in self.error_findings.items():
            found.setdefault(("error", subject, account), message)
        # An execution that failed without its rollback (which records a finding) still failed.
        for record in records:
            for execution in record.executions:
                if execution.status not in _ERROR_STATUSES or self._rolled_back(execution):
                    continue
                error, cause = record.failures.get(execution.name, (execution.status, ""))
                subject = words.text(self._execution_vpc(execution) or execution.name)
                found.setdefault(
                    ("error", subject, self._owner.get(execution.arn)),
                    words.text(f"execution {execution.name} {execution.status}: {error}: {cause}"),
                )
        findings = []
        for key in sorted(found, key=lambda k: (k[0], k[1], k[2] or "")):
            kind, subject, account = key
            message = found[key]
            entry: dict[str, Any] = {
                "kind": kind,
                "subject": subject,
                "message": message,
                "resolved": key in resolved,
            }
            if self.scenario.accounts:
                entry["account"] = account
            findings.append(entry)
        return findings

    def _pipeline_of(self, execution: ExecutionInfo) -> SandboxPipeline:
        return self.pipelines[self._owner.get(execution.arn)]

    def _rolled_back(self, execution: ExecutionInfo) -> bool:
        history = self._pipeline_of(execution).sfn.get_execution_history(
            executionArn=execution.arn, maxResults=1000, reverseOrder=True
        )
        return any(
            event.get("type") == "TaskStateExited"
            and event.get("stateExitedEventDetails", {}).get("name") == "Rollback"
            for event in history.get("events", [])
        )

    def _execution_vpc(self, execution: ExecutionInfo) -> str:
        described = self._pipeline_of(execution).describe(execution.arn)
        try:
            data = json.loads(described.get("input") or "{}")
        except ValueError:
            return ""
        return str(data.get("vpc_id", "")) if isinstance(data, dict) else ""


def _handed_over(output: Any) -> bool:
    """An execution that ended at HandedOver: its claim found another execution on the VPC, so
    its output is its input and the lease claim, without a plan (every pass writes one)."""
    try:
        data = json.loads(output) if isinstance(output, str) else None
    except ValueError:
        return False
    if not isinstance(data, dict) or "plan" in data:
        return False
    lease = data.get("lease")
    return isinstance(lease, dict) and lease.get("claimed") is False


def run_demo(
    scenario: str | Path | Scenario,
    *,
    sandbox: Sandbox | None = None,
    options: PipelineOptions | None = None,
    root: Path | None = None,
    progress: Any = None,
) -> DemoRun:
    """Run one scenario (a file or a loaded :class:`Scenario`) and return everything seen.

    ``sandbox``: a started sandbox to use (it is reset first); else one is started and stopped.
    ``progress``: called with one line per step, for a person watching.
    Raises ScenarioError for a bad file, RunnerError / PipelineTimeoutError when the runner
    itself cannot go on.
    """
    loaded = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    own = sandbox is None
    sb = sandbox if sandbox is not None else Sandbox().start()
    try:
        return _Runner(loaded, sb, options or PipelineOptions(), root, progress).run()
    finally:
        if own:
            sb.stop()


def run_scenario(
    scenario: str | Path | Scenario,
    *,
    sandbox: Sandbox | None = None,
    options: PipelineOptions | None = None,
    root: Path | None = None,
) -> dict[str, Any]:
    """The demo report (docs/scenario-format.md) of one scenario run."""
    return run_demo(scenario, sandbox=sandbox, options=options, root=root).report


def _named(words: Translator, by_outpost: object) -> dict[str, list[str]]:
    """An impact map (Outpost ARN -> CIDRs) with the Outposts by name."""
    if not isinstance(by_outpost, dict):
        return {}
    return {words.text(str(arn)): list(cidrs) for arn, cidrs in sorted(by_outpost.items())}
