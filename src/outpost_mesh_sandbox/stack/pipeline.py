"""The deployed stack, offline: template.yaml's pieces built in a running sandbox.

:class:`SandboxPipeline` reads template.yaml and creates in the sandbox what ``sam deploy`` would:

* the ledger table and the notification topic;
* every function, in moto's Lambda, answered in-process by the project's handlers
  (:mod:`outpost_mesh_sandbox.stack.lambda_seam`), with the environment the template gives them;
* the reconcile state machine from its DefinitionUri with its DefinitionSubstitutions (function
  ARNs; short retry and wait intervals so that tests do not sleep), executed by moto's engine;
* the EventBridge rules: their literal event patterns are applied with moto's own matcher, and a
  matched event is delivered to the rule's target functions in-process (moto does not fire Lambda
  targets); schedule rules fire when :meth:`SandboxPipeline.sweep` is called;
* while deployed, the functions' pacing (template.yaml's MutatingRate and MutatingBurst) reads
  the sandbox's clock through ``outpost_mesh.pacing.use_time_source``: a pause jumps that clock
  instead of sleeping, so batching runs as deployed without real waits.

:meth:`SandboxPipeline.wait_idle` waits, with a deadline, until no execution runs and no event is
being delivered.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from outpost_mesh import pacing
from outpost_mesh.ledger import LedgerStore, create_table
from outpost_mesh.model import ApprovalStatus
from outpost_mesh.pacing import TimeSource
from outpost_mesh_sandbox.aws.identities import access_key
from outpost_mesh_sandbox.stack.cloudtrail import scheduled_event
from outpost_mesh_sandbox.stack.lambda_runtime import Invocation, trust_policy
from outpost_mesh_sandbox.stack.lambda_seam import LambdaSeam
from outpost_mesh_sandbox.stack.template import (
    RuleDef,
    StackTemplate,
    find_root,
    load_template,
)

if TYPE_CHECKING:
    from outpost_mesh_sandbox.aws.server import Sandbox

__all__ = [
    "RUNNER_ACCESS_KEY",
    "Delivery",
    "ExecutionInfo",
    "PipelineOptions",
    "PipelineTimeoutError",
    "SandboxPipeline",
    "find_root",
]

STATES_ROLE = "outpost-mesh-sandbox-states"
#: The runner's own identity (deploying the stack, polling executions, reading for reports):
#: neither the person's calls nor the pipeline's, so the call log keeps them apart.
RUNNER_ACCESS_KEY = "AKIAOMDEMORUNNER0001"
_TERMINAL = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")


class PipelineTimeoutError(RuntimeError):
    """The pipeline did not become idle before the deadline."""


@dataclass(frozen=True)
class PipelineOptions:
    """How the sandbox stack differs from a deployed one: only in speed.

    ``parameters`` override template parameters (the rest keep template.yaml's defaults: the
    functions pace their EC2 calls as deployed); the interval defaults keep moto's real-time
    Wait and Retry short. ``env`` overrides every function's environment (nothing by default).
    ``table_name``: the ledger table's name (default ``<stack_name>-LedgerTable``); ``sandbox up
    --pipeline`` names it as the CLI and events/env.json do against a local endpoint.
    """

    stack_name: str = "outpost-mesh"
    table_name: str = ""
    retry_interval_seconds: int = 1
    association_wait_seconds: int = 0
    association_max_checks: int = 60
    parameters: Mapping[str, str] = field(default_factory=dict)
    env: Mapping[str, str] = field(default_factory=dict)
    idle_timeout: float = 60.0
    poll_interval: float = 0.02


@dataclass(frozen=True)
class Delivery:
    """One event handed to the rules: which matched, and what each target function answered."""

    event: Any
    rules: tuple[str, ...]
    invocations: tuple[Invocation, ...]

    @property
    def matched(self) -> bool:
        return bool(self.rules)

    @property
    def failed(self) -> tuple[Invocation, ...]:
        return tuple(i for i in self.invocations if not i.ok)


@dataclass(frozen=True)
class ExecutionInfo:
    name: str
    arn: str
    status: str
    start: float
    stop: float | None = None


class SandboxPipeline:
    """The stack of template.yaml, deployed in one sandbox for one run."""

    def __init__(
        self,
        sandbox: Sandbox,
        options: PipelineOptions | None = None,
        root: Path | None = None,
        log_copy_to: Any = None,
        ledger_clock: Callable[[], float] | None = None,
        *,
        account_id: str | None = None,
    ) -> None:
        """``ledger_clock``: what the functions' ledger reads as now (epoch seconds; default:
        real time), for a run whose AWS time is the sandbox's clock. ``account_id``: the account
        the stack is deployed in (default: the sandbox's), as a StackSet deploys it in each
        member account; its functions act with that account's pipeline key."""
        self.sandbox = sandbox
        self.options = options or PipelineOptions()
        self.root = root or find_root()
        self.account_id = account_id or sandbox.account_id
        #: The runner's key in the stack's account (deploying, polling, reading).
        self.runner_key = (
            RUNNER_ACCESS_KEY
            if self.account_id == sandbox.account_id
            else access_key("runner", self.account_id)
        )
        self.template: StackTemplate = load_template(
            self.root / "template.yaml",
            stack_name=self.options.stack_name,
            account=self.account_id,
            region=sandbox.region,
        )
        self.template.parameters.update(self.options.parameters)
        self.seam = LambdaSeam(
            sandbox.endpoint_url,
            sandbox.region,
            self.account_id,
            function_prefix=self.options.stack_name,
            log_copy_to=log_copy_to,
            ledger_clock=ledger_clock,
            access_key=access_key("pipeline", self.account_id),
        )
        self.sfn = sandbox.client("stepfunctions", caller=self.runner_key)
        self.state_machine_arn = ""
        self.table_name = ""
        self.topic_arn = ""
        self.rules: list[RuleDef] = []
        self._patterns: dict[str, Any] = {}
        self._pending = 0
        self._pending_lock = threading.Lock()
        self._vpc_of: dict[str, str] = {}  # execution ARN -> its input's vpc_id
        self._deployed = False
        self._previous_time: TimeSource | None = None
        self._async_retries: dict[str, int] = {}

    # -- deployment --------------------------------------------------------------------------
    def deploy(self) -> SandboxPipeline:
        if self._deployed:
            return self
        sb, tpl, opts = self.sandbox, self.template, self.options
        self.table_name = opts.table_name or f"{opts.stack_name}-LedgerTable"
        create_table(sb.client("dynamodb", caller=self.runner_key), self.table_name)
        self.topic_arn = sb.client("sns", caller=self.runner_key).create_topic(
            Name=f"{opts.stack_name}-notifications"
        )["TopicArn"]
        tpl.refs.update(LedgerTable=self.table_name, NotificationTopic=self.topic_arn)
        machine = tpl.resources("AWS::Serverless::StateMachine")
        for logical_id in machine:
            # The machine's ARN is known before it exists (its name is fixed in the template).
            name = tpl.resolve(machine[logical_id].get("Properties", {}).get("Name"), logical_id)
            tpl.refs[logical_id] = (
                f"arn:aws:states:{sb.region}:{self.account_id}:stateMachine:{name}"
            )
        functions = tpl.functions()
        self._async_retries = {name: fn.async_retries for name, fn in functions.items()}
        arns = self.seam.deploy(
            sb.client("lambda", caller=self.runner_key),
            sb.client("iam", caller=self.runner_key),
            functions,
            self.root,
            env_overrides=opts.env,
        )
        for logical_id, arn in arns.items():
            tpl.attrs[(logical_id, "Arn")] = arn
            tpl.refs[logical_id] = self.seam.by_logical_id[logical_id].name
        tpl.parameters.setdefault("RetryIntervalSeconds", str(opts.retry_interval_seconds))
        tpl.parameters.setdefault("AssociationWaitSeconds", str(opts.association_wait_seconds))
        tpl.parameters.setdefault("AssociationMaxChecks", str(opts.association_max_checks))
        self.state_machine_arn = self._create_state_machine()
        self.rules = [r for r in tpl.rules() if r.enabled]
        from moto.events.models import EventPattern

        self._patterns = {
            r.logical_id: EventPattern.load(json.dumps(r.event_pattern))
            for r in self.rules
            if r.event_pattern is not None
        }
        self.seam.install()
        # The functions pace themselves as deployed, on the sandbox's clock: a pause jumps it
        # instead of sleeping (with throttle, it also runs time_scale times faster).
        assert sb.app is not None, "the sandbox runs in this process"
        self._previous_time = pacing.use_time_source(sb.app.throttle.clock.time_source())
        self._deployed = True
        return self

    def _create_state_machine(self) -> str:
        sm = self.template.state_machine()
        definition = (self.root / sm.definition_uri).read_text(encoding="utf-8")
        for key, value in sm.substitutions.items():
            definition = definition.replace("${" + key + "}", value)
        json.loads(definition)  # a substitution left the definition invalid: fail here, clearly
        iam = self.sandbox.client("iam", caller=self.runner_key)
        try:
            role = iam.create_role(
                RoleName=STATES_ROLE, AssumeRolePolicyDocument=trust_policy("states.amazonaws.com")
            )
        except iam.exceptions.EntityAlreadyExistsException:
            role = iam.get_role(RoleName=STATES_ROLE)
        created = self.sfn.create_state_machine(
            name=sm.name, definition=definition, roleArn=role["Role"]["Arn"], type="STANDARD"
        )
        arn = str(created["stateMachineArn"])
        self.template.refs[sm.logical_id] = arn
        return arn

    def close(self) -> None:
        self.seam.uninstall()
        if self._previous_time is not None:
            pacing.use_time_source(self._previous_time)
            self._previous_time = None

    def __enter__(self) -> SandboxPipeline:
        return self.deploy()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- events ------------------------------------------------------------------------------
    def matching_rules(self, event: Any) -> list[RuleDef]:
        if not isinstance(event, dict):
            return []
        return [
            r
            for r in self.rules
            if r.logical_id in self._patterns and self._patterns[r.logical_id].matches_event(event)
        ]

    def _deliver_one(self, event: Any) -> Delivery:
        try:
            rules = self.matching_rules(event)
            invocations = [
                self._invoke_async(target, event) for rule in rules for target in rule.targets
            ]
            return Delivery(event, tuple(r.logical_id for r in rules), tuple(invocations))
        finally:
            with self._pending_lock:
                self._pending -= 1

    def _invoke_async(self, logical_id: str, event: Any) -> Invocation:
        """An asynchronous invoke: Lambda retries a failed one ``async_retries`` times (the
        template's EventInvokeConfig) before it goes to the on-failure destination."""
        retries = self._async_retries.get(logical_id, 2)
        invocation = self.seam.invoke(logical_id, event)
        for _ in range(retries):
            if invocation.ok:
                break
            invocation = self.seam.invoke(logical_id, event)
        return invocation

    def deliver(self, events: Iterable[Any]) -> list[Delivery]:
        """Deliver events through the rules, all at once (each in its own thread, as
        EventBridge invokes its targets asynchronously); returns when every target answered."""
        batch = list(events)
        if not batch:
            return []
        with self._pending_lock:
            self._pending += len(batch)
        with ThreadPoolExecutor(max_workers=len(batch), thread_name_prefix="eventbridge") as pool:
            return list(pool.map(self._deliver_one, batch))

    def sweep(self) -> list[Delivery]:
        """Fire every schedule rule now: its targets get a Scheduled Event."""
        deliveries = []
        for rule in self.rules:
            if rule.schedule is None:
                continue
            arn = (
                f"arn:aws:events:{self.sandbox.region}:{self.account_id}:rule/"
                f"{self.options.stack_name}-{rule.logical_id}"
            )
            event = scheduled_event(self.account_id, self.sandbox.region, arn)
            with self._pending_lock:
                self._pending += 1
            try:
                invocations = tuple(self._invoke_async(t, event) for t in rule.targets)
            finally:
                with self._pending_lock:
                    self._pending -= 1
            deliveries.append(Delivery(event, (rule.logical_id,), invocations))
        return deliveries

    # -- executions --------------------------------------------------------------------------
    def executions(self) -> list[ExecutionInfo]:
        """Every execution of the reconcile state machine, oldest first."""
        found: list[ExecutionInfo] = []
        paginator = self.sfn.get_paginator("list_executions")
        for page in paginator.paginate(stateMachineArn=self.state_machine_arn):
            for item in page["executions"]:
                stop = item.get("stopDate")
                found.append(
                    ExecutionInfo(
                        name=item["name"],
                        arn=item["executionArn"],
                        status=item["status"],
                        start=item["startDate"].timestamp(),
                        stop=stop.timestamp() if stop is not None else None,
                    )
                )
        found.sort(key=lambda e: (e.start, e.name))
        return found

    def running(self) -> list[ExecutionInfo]:
        return [e for e in self.executions() if e.status not in _TERMINAL]

    def describe(self, execution_arn: str) -> dict[str, Any]:
        result: dict[str, Any] = self.sfn.describe_execution(executionArn=execution_arn)
        return result

    def approvals(self) -> LedgerStore:
        """The stack's ledger as the runner reads it (approval requests)."""
        dynamodb = self.sandbox.client("dynamodb", caller=self.runner_key)
        return LedgerStore(dynamodb, self.table_name)

    @property
    def approvals_possible(self) -> bool:
        """Whether an execution of this stack may wait for a person (ApprovalMode not none):
        only then does ``wait_idle`` read the ledger for it (its polls are many; every read is
        a request the sandbox serialises with the pipeline's own)."""
        return self.options.parameters.get("ApprovalMode", "none") != "none"

    def vpc_of(self, execution: ExecutionInfo) -> str:
        """The VPC an execution reconciles (its input's ``vpc_id``)."""
        vpc_id = self._vpc_of.get(execution.arn)
        if vpc_id is None:
            given = json.loads(self.describe(execution.arn).get("input") or "{}")
            vpc_id = self._vpc_of[execution.arn] = str(given.get("vpc_id") or "")
        return vpc_id

    def awaits_approval(self, execution: ExecutionInfo) -> bool:
        """Whether ``execution`` waits for a person (approval mode: its VPC's request is waiting
        on it): it counts as idle (docs/scenario-format.md)."""
        vpc_id = self.vpc_of(execution)
        approval = self.approvals().approval(vpc_id) if vpc_id else None
        return (
            approval is not None
            and approval.status is ApprovalStatus.WAITING
            and approval.execution == execution.name
        )

    def wait_answered(self, vpc_id: str, token: str, timeout: float | None = None) -> None:
        """Until the VPC's request waiting on ``token`` is recorded as answered (its execution
        moved on): right after SendTaskSuccess/SendTaskFailure it still reads as waiting, which
        ``wait_idle`` would take for idle. PipelineTimeoutError after ``timeout`` seconds."""
        limit = self.options.idle_timeout if timeout is None else timeout
        deadline = time.monotonic() + limit
        while True:
            approval = self.approvals().approval(vpc_id)
            if approval is None or approval.token != token:
                return
            if time.monotonic() >= deadline:
                raise PipelineTimeoutError(
                    f"the answer to {vpc_id}'s approval request was not recorded after "
                    f"{limit:.0f} s"
                )
            time.sleep(self.options.poll_interval)

    def wait_idle(self, timeout: float | None = None) -> None:
        """Until no event is being delivered and no execution runs but those waiting for a
        person's approval; PipelineTimeoutError after ``timeout`` seconds (default: the
        options')."""
        limit = self.options.idle_timeout if timeout is None else timeout
        deadline = time.monotonic() + limit
        quiet_checks = 0
        while True:
            with self._pending_lock:
                pending = self._pending
            running = self.running() if pending == 0 else []
            if running and self.approvals_possible:
                running = [e for e in running if not self.awaits_approval(e)]
            if pending == 0 and not running:
                # Twice in a row: an execution started by a task that is just finishing (a
                # rollback's restart) exists before that task's execution ends, so one
                # idle reading is already final; the second guards against list lag.
                quiet_checks += 1
                if quiet_checks >= 2:
                    return
            else:
                quiet_checks = 0
            if time.monotonic() >= deadline:
                names = ", ".join(e.name for e in running) or "none"
                raise PipelineTimeoutError(
                    f"the pipeline was not idle after {limit:.0f} s: {pending} event(s) being "
                    f"delivered, executions still running: {names}"
                )
            time.sleep(self.options.poll_interval)
