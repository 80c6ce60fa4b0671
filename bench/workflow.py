"""Through the whole pipeline under EC2 throttle emulation: convergence and a burst.

Each run is a scenario (:mod:`bench.topology`) played by the sandbox's runner
(:func:`outpost_mesh_sandbox.demo.run_demo`): the template's functions in-process behind moto's
Lambda, the reconcile state machine executed by moto's Step Functions, EventBridge rules, and the
functions' environment as the template gives it (MutatingRate 5/s, MutatingBurst 50,
ApplyMaxConcurrency 4). Only the runner's intervals are shortened (task retry 1 s instead of 2 s,
association wait 0 s instead of 5 s).

The scenario turns on throttle emulation after seeding (``throttle: {time_scale: 1}``): EC2
answers ``RequestLimitExceeded`` past AWS's rates. AWS time is the throttle's emulated clock,
which runs with real time and jumps when a paced task sleeps (the bench hands pacing the same
clock), so minutes of AWS pacing take seconds: convergence is measured in AWS seconds, from the
pipeline's first EC2 call to its last.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from bench.topology import VPC, Mesh, Topology
from outpost_mesh import pacing
from outpost_mesh.model import Ledger
from outpost_mesh.observe import observe_vpc
from outpost_mesh.planner import plan_vpc
from outpost_mesh_sandbox.aws.calls import is_mutating
from outpost_mesh_sandbox.aws.identities import PIPELINE_ACCESS_KEY
from outpost_mesh_sandbox.aws.server import Sandbox
from outpost_mesh_sandbox.demo import DemoRun, run_demo
from outpost_mesh_sandbox.stack.pipeline import PipelineOptions

HISTORY_CAP = 25_000  # events of one Standard execution
PAYLOAD_CAP = 256 * 1024  # bytes of a state's input or output (Step Functions quota)
WASTE_CODES = ("RouteAlreadyExists", "RequestLimitExceeded")
THROTTLE_SCALE = 1.0


@dataclass
class WorkflowRun:
    label: str
    routes: int  # routes the mesh needs
    racks: int  # one LGW route table association to create each
    converged: bool
    failure: str
    aws_seconds: float | None
    real_seconds: float
    mutating: int
    mutating_ok: int
    wasted: Counter[str] = field(default_factory=Counter)
    throttled_describes: int = 0
    executions: int = 0
    handed_over: int = 0
    worked: int = 0  # executions that claimed the VPC and planned at least once
    passes: int = 0
    history: int = 0  # events of the largest execution
    batches: int = 0  # ApplyRouteBatch iterations of the largest execution
    plan_bytes: int = 0  # JSON size of the route changes of the plan from scratch
    # AWS seconds from the first EC2 call to the first route call, of the route calls, and
    # from the last route call to the last EC2 call (observing, planning, associating; verifying)
    before_routes: float = 0.0
    route_seconds: float = 0.0
    after_routes: float = 0.0
    plan_task: float = 0.0  # seconds of the largest execution's Plan task (real time: no pacing)

    @property
    def changes(self) -> int:
        """Routes + associations to create."""
        return self.routes + self.racks

    @property
    def floor(self) -> float:
        return max(0, self.routes - 50) / 5


@contextmanager
def pacing_on_throttle_clock(sb: Sandbox) -> Iterator[None]:
    """Pacing in the in-process functions reads and sleeps on the throttle's AWS clock."""
    assert sb.app is not None
    clock = sb.app.throttle.clock
    previous = pacing.use_time_source(pacing.TimeSource(clock.now, clock.sleep))
    try:
        yield
    finally:
        pacing.use_time_source(previous)


def execution_history(sfn: Any, arn: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {}
    while True:
        page = sfn.get_execution_history(executionArn=arn, maxResults=1000, **kwargs)
        events += page["events"]
        if not page.get("nextToken"):
            return events
        kwargs = {"nextToken": page["nextToken"]}


def _state_seconds(events: list[dict[str, Any]], state: str) -> float:
    """Seconds from entering ``state`` to leaving it, the first time, in an execution's history."""
    times = [
        e["timestamp"]
        for e in events
        for details in ("stateEnteredEventDetails", "stateExitedEventDetails")
        if e.get(details, {}).get("name") == state
    ]
    return (times[1] - times[0]).total_seconds() if len(times) >= 2 else 0.0


def _entered(events: list[dict[str, Any]], state: str) -> int:
    return sum(
        1
        for e in events
        if e.get("type", "").endswith("StateEntered")
        and e.get("stateEnteredEventDetails", {}).get("name") == state
    )


def plan_bytes(sb: Sandbox, topo: Mesh) -> int:
    """JSON size of the route changes a plan from scratch hands to the workflow (the bulk of the
    Plan task's output), on a fresh copy of the topology."""
    from bench.per_reconcile import BENCH_KEY, fresh

    vpc_id = fresh(sb, topo).vpc_id(VPC)
    plan = plan_vpc(observe_vpc(sb.client("ec2", caller=BENCH_KEY), vpc_id), Ledger(vpc_id))
    return len(json.dumps([c.to_dict() for c in plan.routes_to_create]).encode())


def run(
    sb: Sandbox,
    *,
    label: str,
    document: dict[str, Any],
    routes: int,
    racks: int,
    timeout: float = 300.0,
) -> WorkflowRun:
    import time

    from outpost_mesh_sandbox.scenario import parse_scenario

    scenario = parse_scenario(document, f"bench:{label}", "bench")
    options = PipelineOptions(env={}, idle_timeout=timeout)
    started = time.perf_counter()
    with pacing_on_throttle_clock(sb):
        demo: DemoRun = run_demo(scenario, sandbox=sb, options=options)
    real = time.perf_counter() - started
    assert sb.app is not None
    log = [c for c in sb.app.throttle.log if c.caller == PIPELINE_ACCESS_KEY]
    calls = [
        c for c in sb.control.calls() if c.caller == PIPELINE_ACCESS_KEY and c.service == "ec2"
    ]
    mutating = [c for c in calls if is_mutating(c.action)]
    wasted = Counter(c.error_code for c in mutating if c.error_code in WASTE_CODES)
    executions = [e for step in demo.steps for e in step.executions]
    handed = sum(len(step.handed_over) for step in demo.steps)
    failures = {name: why for step in demo.steps for name, why in step.failures.items()}
    reach = demo.report["reachability"]
    converged = bool(reach) and all(p["reachable"] for p in reach) and not failures
    sfn = sb.client("stepfunctions")
    histories = [execution_history(sfn, e.arn) for e in executions]
    largest = max(histories, key=len, default=[])
    failure = ""
    if failures:
        error, cause = next(iter(failures.values()))
        failure = f"{error}: {cause}"
        # The rollback's finding keeps the error that started it (the execution's own error can
        # be a later one: its Fail state re-raising a reserved name).
        recorded = [f["message"] for f in demo.findings if f.get("kind") != "conflict"]
        if recorded:
            failure = recorded[0]
        failure = failure[:300]
    routing = [c for c in log if c.action in ("CreateRoute", "DeleteRoute")]
    phases = (
        (
            routing[0].aws_time - log[0].aws_time,
            routing[-1].aws_time - routing[0].aws_time,
            log[-1].aws_time - routing[-1].aws_time,
        )
        if routing
        else (0.0, 0.0, 0.0)
    )
    return WorkflowRun(
        label=label,
        routes=routes,
        racks=racks,
        converged=converged,
        failure=failure,
        aws_seconds=(log[-1].aws_time - log[0].aws_time) if log and converged else None,
        real_seconds=real,
        mutating=len(mutating),
        mutating_ok=sum(1 for c in mutating if c.ok),
        wasted=wasted,
        throttled_describes=sum(
            1 for c in calls if not is_mutating(c.action) and c.error_code == "RequestLimitExceeded"
        ),
        executions=len(executions),
        handed_over=handed,
        worked=sum(1 for h in histories if _entered(h, "Plan")),
        passes=sum(_entered(h, "Plan") for h in histories),
        history=len(largest),
        batches=_entered(largest, "ApplyRouteBatch"),
        before_routes=phases[0],
        route_seconds=phases[1],
        after_routes=phases[2],
        plan_task=_state_seconds(largest, "Plan"),
    )


def convergence(sb: Sandbox, topo: Mesh) -> WorkflowRun:
    """The mesh from nothing: seeded subnets, one sweep, until the execution ends."""
    size = plan_bytes(sb, topo)
    document = topo.document(steps=[{"sweep": {}}], throttle=THROTTLE_SCALE)
    result = run(
        sb,
        label=topo.label,
        document=document,
        routes=topo.routes,
        racks=topo.racks,
    )
    result.plan_bytes = size
    return result


def burst(sb: Sandbox, topo: Topology) -> WorkflowRun:
    """Every subnet of the topology created at once (its route tables exist), all events
    delivered together."""
    creates = [
        {"create_subnet": topo.subnet(r, i)}
        for r in range(topo.racks)
        for i in range(topo.subnets_per_rack)
    ]
    document = topo.document(seeded=False, steps=[{"together": creates}], throttle=THROTTLE_SCALE)
    return run(
        sb,
        label=f"burst {topo.subnets} subnets",
        document=document,
        routes=topo.routes,
        racks=topo.racks,
    )
