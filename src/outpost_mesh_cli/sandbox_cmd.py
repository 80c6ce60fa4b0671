"""``outpost-mesh sandbox up``: a sandbox AWS left as a person would leave it.

Seeds a scenario's topology and makes the API calls of its steps; no pipeline reacts to them
(``sweep``, ``fail`` and ``event`` steps are skipped), so ``plan``/``apply`` have something to work
on. With ``--pipeline`` the sandbox also runs the stack of template.yaml, as ``demo`` does
(:class:`~outpost_mesh_sandbox.stack.pipeline.SandboxPipeline`: the ledger table, the topic, every
function answered in-process by its real handler, the reconcile state machine executed by moto's
engine, the rules' patterns): a trigger invoked locally (``outpost-mesh invoke``, or ``sam local
invoke`` with Docker) starts a real execution there, which runs to its end while the sandbox
serves; and the calls a person makes meanwhile (the AWS CLI with ``--endpoint-url``) reach the
rules as their CloudTrail events would (:class:`_Trail`). The stack's ledger table is the one the
CLI and events/env.json name against a local endpoint (``outpost-mesh-ledger``), its state
machine ``outpost-mesh-reconcile``. Each event delivered and each execution (when it starts and
when it ends) is printed; the functions' logs go to stderr.
"""

from __future__ import annotations

import sys
import threading
from typing import TYPE_CHECKING

from outpost_mesh.ledger import create_table
from outpost_mesh_cli.aws import SANDBOX_TABLE, CliError

if TYPE_CHECKING:
    from outpost_mesh_sandbox.aws.server import Sandbox
    from outpost_mesh_sandbox.scenario import Scenario
    from outpost_mesh_sandbox.scenario.ids import IdMap
    from outpost_mesh_sandbox.stack.pipeline import SandboxPipeline


def id_lines(ids: IdMap) -> list[str]:
    """One line per id the sandbox created, in the order people read a topology."""
    lines = [f"vpc {name} {vpc_id}" for name, vpc_id in sorted(ids.vpcs.items())]
    lines += [f"outpost {name} {o.outpost_arn}" for name, o in sorted(ids.outposts.items())]
    lines += [f"route-table {name} {rtb}" for name, rtb in sorted(ids.route_tables.items())]
    lines += [f"subnet {name} {subnet}" for name, subnet in sorted(ids.subnets.items())]
    return lines


def _say(line: str) -> None:
    print(line, flush=True)


def _deploy(sandbox: Sandbox, scenario: Scenario | None) -> SandboxPipeline:
    """The stack in the sandbox, with the scenario's ``settings`` as its parameters."""
    from outpost_mesh_sandbox.stack.pipeline import PipelineOptions, SandboxPipeline

    parameters = scenario.settings.parameters() if scenario is not None else {}
    options = PipelineOptions(table_name=SANDBOX_TABLE, parameters=parameters)
    return SandboxPipeline(sandbox, options, log_copy_to=sys.stderr).deploy()


class _Trail:
    """What a trail and the stack's rules do on AWS, for the calls a person makes while the
    sandbox serves: each mutating EC2 call signed with any key but the pipeline's or the stack
    runner's becomes its CloudTrail event, delivered through the rules (a matched one invokes
    the trigger). Calls made before (seeding, the scenario's steps) emit nothing."""

    def __init__(self, sandbox: Sandbox, pipeline: SandboxPipeline) -> None:
        from outpost_mesh_sandbox.stack.cloudtrail import CallCursor

        self.sandbox = sandbox
        self.pipeline = pipeline
        self.cursor = CallCursor(sandbox.control)

    def deliver(self) -> None:
        from outpost_mesh_sandbox.aws.identities import PIPELINE_ACCESS_KEY
        from outpost_mesh_sandbox.stack.cloudtrail import events_for_calls
        from outpost_mesh_sandbox.stack.pipeline import RUNNER_ACCESS_KEY

        calls = self.cursor.take()
        people = dict.fromkeys(
            c.caller for c in calls if c.caller not in (PIPELINE_ACCESS_KEY, RUNNER_ACCESS_KEY)
        )
        sb = self.sandbox
        events = [e for p in people for e in events_for_calls(calls, sb.account_id, sb.region, p)]
        for delivery in self.pipeline.deliver(events):
            name = delivery.event["detail"]["eventName"]
            if not delivery.matched:
                _say(f"event {name}: no rule matched")
                continue
            targets = [
                i.function if i.ok else f"{i.function} failed ({i.error_type})"
                for i in delivery.invocations
            ]
            _say(f"event {name} -> {' -> '.join([*delivery.rules, *targets])}")


class _Executions:
    """Says each execution of the stack's state machine once when seen, once when it ends."""

    def __init__(self, pipeline: SandboxPipeline) -> None:
        self.pipeline = pipeline
        self.said: dict[str, str] = {}

    def report(self) -> None:
        for execution in self.pipeline.executions():
            if execution.arn not in self.said:
                _say(f"execution {execution.name} started")
                self.said[execution.arn] = "RUNNING"
            if execution.status != self.said[execution.arn]:
                _say(f"execution {execution.name} {execution.status}")
                self.said[execution.arn] = execution.status


def sandbox_up(
    scenario_path: str | None,
    host: str,
    port: int,
    stop: threading.Event,
    pipeline: bool = False,
) -> int:
    from outpost_mesh_sandbox.aws.server import Sandbox
    from outpost_mesh_sandbox.scenario import ScenarioError, load_scenario
    from outpost_mesh_sandbox.scenario.seed import seed_and_run_steps

    try:  # a bad file is reported before anything starts
        scenario = load_scenario(scenario_path) if scenario_path else None
    except ScenarioError as error:
        raise CliError(str(error)) from error
    if pipeline and scenario is not None and len(scenario.accounts) > 1:
        # one stack relays the person's CloudTrail events here; `demo` runs one per account
        raise CliError(
            f"{scenario_path}: --pipeline runs one account's stack and this scenario has "
            f"{len(scenario.accounts)} accounts; run it with `outpost-mesh demo --scenario "
            f"{scenario_path}` (a stack per account), or without --pipeline"
        )
    sandbox = Sandbox(host=host, port=port).start()
    stack = None
    try:
        create_table(sandbox.client("dynamodb"), SANDBOX_TABLE)
        if pipeline:
            stack = _deploy(sandbox, scenario)
        if scenario is not None:
            # sweep, fail and event steps make no calls: they need the pipeline (`demo`)
            ids = seed_and_run_steps(
                scenario, sandbox.client("ec2", caller="scenario"), sandbox.control
            )
            for line in id_lines(ids):
                _say(line)
        _say(f"table {SANDBOX_TABLE}")
        if stack is not None:
            _say(f"state-machine {stack.state_machine_arn}")
            _say(f"topic {stack.topic_arn}")
        trail = _Trail(sandbox, stack) if stack is not None else None
        executions = _Executions(stack) if stack is not None else None
        _say(f"endpoint {sandbox.endpoint_url}")
        try:
            while not stop.wait(0.5):
                if trail is not None and executions is not None:
                    trail.deliver()
                    executions.report()
        except KeyboardInterrupt:
            pass
    finally:
        if stack is not None:
            stack.close()
        sandbox.stop()
    return 0
