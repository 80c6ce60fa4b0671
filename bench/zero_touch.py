"""Zero-touch latency: from a CloudTrail event reaching the trigger to the last route call, on the
blog scenario (scenarios/blog.yaml: subnet-b created on rack-b, next to subnet-a on rack-a), split
by step, in the sandbox's AWS time.

The scenario runs through the deployed stack (:class:`SandboxPipeline`: EventBridge rule, the
TriggerFunction, moto's Step Functions executing statemachine/reconcile.asl.json with the real
handlers) with throttle emulation on (``time_scale`` 1). AWS time is the throttle's clock: real
time plus every jump a paced call made (the functions pace on that clock); each EC2 call is
logged on it, so the bench maps any real timestamp (execution history events, each handler's
start and end) to AWS time through the EC2 call before it. The run's step's calls are made,
their CloudTrail events delivered to the rules at once (as the demo runner does), and the
pipeline waits until idle.

Per step: its AWS seconds in the sandbox, of which our handlers' own run time; the rest is the
sandbox's Step Functions and Lambda (moto), which stand for AWS's and say nothing of its speed.
What AWS itself makes the path wait is added from the template and the measured handler imports:
each association check comes after a Wait of AssociationWaitSeconds (the sandbox's is 0 s; an
association's state change takes AWS a time it does not document), EC2's pacing (none for two
routes: they fit MutatingBurst), and a cold start per function on the path.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bench.workflow import execution_history
from outpost_mesh_sandbox.aws.control import ApiCall
from outpost_mesh_sandbox.aws.identities import PIPELINE_ACCESS_KEY, SCENARIO_ACCESS_KEY
from outpost_mesh_sandbox.aws.server import Sandbox
from outpost_mesh_sandbox.aws.throttle import ThrottledCall
from outpost_mesh_sandbox.demo.runner import AwsTime
from outpost_mesh_sandbox.scenario import Scenario, parse_scenario
from outpost_mesh_sandbox.scenario.calls import run_step_calls
from outpost_mesh_sandbox.scenario.seed import seed
from outpost_mesh_sandbox.stack.cloudtrail import events_for_calls
from outpost_mesh_sandbox.stack.pipeline import PipelineOptions, SandboxPipeline

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "blog.yaml"
ROUTE_ACTIONS = ("CreateRoute", "DeleteRoute")
RUNS = 3  # measured runs after one to warm the sandbox up; the run of the median total is kept
# The steps on the way to the last route call: the state machine's states of each, and the
# functions whose run time is ours in it.
STEPS: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("claim", ("ClaimLease", "Claimed?"), ("ClaimFunction",)),
    ("plan", ("Plan",), ("PlanFunction",)),
    ("association: create", ("Associate",), ("AssociateFunction",)),
    (
        "association: wait",
        ("Associated?", "WaitForAssociation", "CheckAssociation"),
        ("CheckAssociationFunction",),
    ),
)
AFTER = (
    ("verify", ("Disassociate", "Verify"), ("DisassociateFunction", "VerifyFunction")),
    ("release", ("ReleaseOrLoop", "AnotherPass?"), ("ReleaseFunction",)),
)
TRIGGER = "TriggerFunction"
ROUTES = "ApplyRoutesFunction"


@dataclass(frozen=True)
class Span:
    """One handler run, in real epoch seconds."""

    function: str  # logical id
    start: float
    end: float


@dataclass(frozen=True)
class Step:
    name: str
    aws_seconds: float
    ours: float  # of which our handlers ran (their real seconds inside the step)
    functions: tuple[str, ...] = ()  # logical ids of the functions that are ours in it


@dataclass
class ZeroTouch:
    steps: list[Step] = field(default_factory=list)  # to the last route call, in order
    after: list[Step] = field(default_factory=list)  # after it: verify, release, more passes
    total: float = 0.0  # AWS seconds, the event at the trigger to the last route call
    clock_jumps: float = 0.0  # AWS seconds the clock jumped (EC2 pacing) on the way
    association_checks: int = 0
    association_wait_seconds: int = 0  # template.yaml's AssociationWaitSeconds (sandbox: 0)
    routes: int = 0
    executions: int = 0
    passes: int = 0  # Plan states entered by the working execution
    events: int = 0  # CloudTrail events the step made
    functions: dict[str, str] = field(default_factory=dict)  # logical id -> functions/<dir>


class AwsClock:
    """Real epoch seconds to the throttle's AWS seconds, through the EC2 calls both logs hold
    (each call's arrival: real in the call log, AWS in the throttle's)."""

    def __init__(self, calls: Iterable[ApiCall], throttled: Iterable[ThrottledCall]) -> None:
        pending: dict[tuple[str, str], list[float]] = {}
        for call in sorted(calls, key=lambda c: c.seq):
            if call.service == "ec2":
                pending.setdefault((call.caller, call.action), []).append(call.time)
        pairs = []
        for entry in throttled:
            reals = pending.get((entry.caller, entry.action))
            if reals:
                pairs.append((reals.pop(0), entry.aws_time))
        if not pairs:
            raise RuntimeError("no EC2 call was logged on the throttle's clock")
        self.pairs = sorted(pairs)

    def offset(self, real: float) -> float:
        """AWS minus real time as of ``real`` (the last EC2 call at or before it)."""
        before = [aws - r for r, aws in self.pairs if r <= real]
        return before[-1] if before else self.pairs[0][1] - self.pairs[0][0]

    def __call__(self, real: float) -> float:
        return real + self.offset(real)


def _warm(pipeline: SandboxPipeline) -> None:
    """Every function's container warm, as a Lambda's stays between invocations: its service
    and boto3 clients made, its event model built (an empty event is refused by it), so that
    the step times each handler's work, not its first use (a cold start is projected apart)."""
    for logical_id, binding in pipeline.seam.by_logical_id.items():
        pipeline.seam.invoke(logical_id, {})
        svc = binding.services
        svc.ec2, svc.store, svc.sfn, svc.notifier  # noqa: B018 - made on first use


def _timed_seam(pipeline: SandboxPipeline, spans: list[Span]) -> None:
    """Every handler run of the pipeline's functions recorded with its real start and end."""
    run: Callable[[Any, Any], Any] = pipeline.seam.run

    def timed(binding: Any, event: Any) -> Any:
        start = time.time()
        try:
            return run(binding, event)
        finally:
            spans.append(Span(binding.logical_id, start, time.time()))

    pipeline.seam.run = timed  # type: ignore[method-assign]


def _states(history: list[dict[str, Any]]) -> list[tuple[str, float, float]]:
    """(state, entered, exited) in real epoch seconds, in order of entry."""
    entered: dict[str, list[float]] = {}
    out: list[tuple[str, float, float]] = []
    for event in history:
        when = event["timestamp"].timestamp()
        if event["type"].endswith("StateEntered"):
            entered.setdefault(event["stateEnteredEventDetails"]["name"], []).append(when)
        elif event["type"].endswith("StateExited"):
            name = event["stateExitedEventDetails"]["name"]
            out.append((name, entered[name].pop(0), when))
    return sorted(out, key=lambda s: s[1])


def _ours(spans: list[Span], functions: tuple[str, ...], start: float, end: float) -> float:
    """Real seconds within [start, end] when a handler of ``functions`` ran (overlapping runs,
    such as two events' triggers, counted once)."""
    cuts = sorted(
        (max(s.start, start), min(s.end, end))
        for s in spans
        if s.function in functions and s.end > start and s.start < end
    )
    covered, reach = 0.0, start
    for low, high in cuts:
        covered += max(0.0, high - max(low, reach))
        reach = max(reach, high)
    return covered


def blog() -> Scenario:
    """scenarios/blog.yaml with EC2 throttled at AWS's rates (``time_scale`` 1)."""
    document = yaml.safe_load(SCENARIO.read_text(encoding="utf-8"))
    document["throttle"] = {"time_scale": 1}
    return parse_scenario(document, str(SCENARIO.relative_to(ROOT)), SCENARIO.stem)


def measure(sb: Sandbox, runs: int = RUNS) -> ZeroTouch:
    """One run to warm the sandbox up (moto's engine makes its clients on first use), then
    ``runs``: the one of the median total."""
    once(sb)
    measured = sorted((once(sb) for _ in range(runs)), key=lambda r: r.total)
    return measured[len(measured) // 2]


def once(sb: Sandbox) -> ZeroTouch:
    scenario = blog()
    sb.control.reset()
    assert sb.app is not None, "the sandbox runs in this process"
    options = PipelineOptions(parameters=scenario.settings.parameters(), idle_timeout=120)
    pipeline = SandboxPipeline(sb, options, ledger_clock=AwsTime(sb.app.throttle.clock))
    pipeline.deploy()
    _warm(pipeline)
    spans: list[Span] = []
    _timed_seam(pipeline, spans)
    try:
        person = sb.client("ec2", caller="scenario")
        ids = seed(scenario, person, sb.control)
        mark = max((c.seq for c in sb.control.calls()), default=0)
        run_step_calls(scenario.steps[0], person, ids, scenario)
        made = [c for c in sb.control.calls(since=mark) if c.caller == SCENARIO_ACCESS_KEY]
        events = events_for_calls(made, sb.account_id, sb.region, SCENARIO_ACCESS_KEY)
        pipeline.deliver(events)
        pipeline.wait_idle()
        result = _split(sb, pipeline, spans, mark)
        result.events = len(events)
        result.functions = {
            k: Path(f.code_uri).name for k, f in pipeline.template.functions().items()
        }
        parameters = pipeline.template.doc["Parameters"]
        result.association_wait_seconds = int(parameters["AssociationWaitSeconds"]["Default"])
    finally:
        pipeline.close()
    return result


def _split(sb: Sandbox, pipeline: SandboxPipeline, spans: list[Span], mark: int) -> ZeroTouch:
    assert sb.app is not None
    calls = sb.control.calls(since=mark)
    clock = AwsClock(calls, sb.app.throttle.log)
    sfn = sb.client("stepfunctions")
    executions = pipeline.executions()
    histories = {e.arn: execution_history(sfn, e.arn) for e in executions}
    worker = max(histories, key=lambda arn: len(histories[arn]))
    states = _states(histories[worker])
    name = next(e.name for e in executions if e.arn == worker)
    started = next(
        c for c in calls if c.action == "StartExecution" and c.params.get("name") == name
    )
    routes = [c for c in calls if c.caller == PIPELINE_ACCESS_KEY and c.action in ROUTE_ACTIONS]
    t0 = min(s.start for s in spans if s.function == TRIGGER)
    last_route = routes[-1].time if routes else t0
    result = ZeroTouch(routes=len(routes), executions=len(executions))
    result.passes = sum(1 for s in states if s[0] == "Plan")
    result.association_checks = sum(
        1 for s in states if s[0] == "CheckAssociation" and s[1] < last_route
    )

    def step(label: str, functions: tuple[str, ...], start: float, end: float) -> Step:
        ours = _ours(spans, functions, start, end)
        return Step(label, clock(end) - clock(start), ours, functions)

    result.steps.append(step("trigger", (TRIGGER,), t0, started.time))
    first = states[0][1]
    result.steps.append(step("execution start", (), started.time, first))
    cursor = first
    for label, names, functions in STEPS:
        ends = [s[2] for s in states if s[0] in names and s[1] >= cursor and s[2] <= last_route]
        end = max(ends, default=cursor)
        result.steps.append(step(label, functions, cursor, end))
        cursor = end
    result.steps.append(step("routes", (ROUTES,), cursor, last_route))
    for label, names, functions in AFTER:
        firsts = [next((s for s in states if s[0] == n and s[1] >= cursor), None) for n in names]
        end = max((s[2] for s in firsts if s is not None), default=cursor)
        result.after.append(step(label, functions, cursor, end))
        cursor = end
    finish = states[-1][2]
    if finish > cursor:
        every = tuple(sorted({s.function for s in spans} - {TRIGGER}))
        result.after.append(step("another pass", every, cursor, finish))
    result.total = clock(last_route) - clock(t0)
    result.clock_jumps = clock.offset(last_route) - clock.offset(t0)
    return result
