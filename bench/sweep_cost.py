"""What the scheduled sweep costs on a fleet of converged VPCs, before and after the fleet diff.

The fleet: N VPCs, each over two racks with one Outpost subnet per rack, each subnet in a route
table of its own, meshed (two LGW routes, two LGW route table VPC associations). The stack of
template.yaml is deployed in the sandbox (:class:`SandboxPipeline`) and the fleet grows in one
account: 10, then 100, then 1,000 VPCs, then one of the 1,000 drifts (a person deletes one of its
routes).

Building. The first :data:`CLI_VPCS` are meshed through the CLI path (``reconcile_vpc``, the
product's rules and calls); its time per VPC is reported. The rest are put in the state that path
leaves, directly (:func:`bench.converge.converge`: the associations through the API, the routes
straight into the sandbox's EC2 backend, the ledger's routes, associations, MANAGED marker and
locations through ``LedgerStore.remember_locations``): the CLI path takes 0.3-0.4 s per VPC in
the sandbox, more as the fleet grows: over 4 minutes for 1,000. That bypasses the planner only
for the benchmark's setup; every sweep judges the fleet it finds (the report checks it finds
every VPC converged).

The new sweep runs for real: the deployed SweepFunction invoked in-process on the sandbox. Its
EC2 and DynamoDB calls are read from the sandbox's log (the pipeline's access key, up to its last
StartExecution: an execution it starts makes calls of its own afterwards); the pure part (every
VPC's plan and verify, ``fleet.judge``) is timed inside that run and again, best of
:data:`JUDGE_RUNS`, over the same arguments.

The old sweep (commit 3e33afb, ``workflow.triggers.sweep``; :func:`old_sweep`) runs for real at
10 and 100 VPCs with the SweepFunction's settings and an access key of its own, so that its calls
stay apart from its executions'. Its StartExecution calls go to a state machine of one Succeed
state, so that its run time is its own, not that of a hundred executions sharing this machine's
cores. Then :data:`EXECUTION_SAMPLE` of the executions it starts run for real on the reconcile
state machine (moto's Step Functions, the real handlers), one after the other: what one
converged execution costs (state transitions entered, Lambda invocations and their run times,
EC2 and DynamoDB calls) is their mean, which the report multiplies by the executions started;
1,000 VPCs are extrapolated from 100.
"""

from __future__ import annotations

import json
import math
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from bench.converge import converge
from bench.per_reconcile import BENCH_KEY
from bench.workflow import execution_history
from outpost_mesh.apply import Applier
from outpost_mesh.events import execution_name
from outpost_mesh.fleet import judge
from outpost_mesh.ledger import LedgerStore
from outpost_mesh.ledger.items import FleetIndex
from outpost_mesh.model import Ledger
from outpost_mesh.observe import FLEET_PAGE_SIZES, observe_fleet
from outpost_mesh.planner import plan_vpc
from outpost_mesh.reconcile import reconcile_vpc
from outpost_mesh.service import ReconcileService
from outpost_mesh.settings import Settings
from outpost_mesh.workflow import triggers
from outpost_mesh_sandbox.aws.control import ApiCall
from outpost_mesh_sandbox.aws.identities import PIPELINE_ACCESS_KEY
from outpost_mesh_sandbox.aws.paging import pages_for
from outpost_mesh_sandbox.aws.server import Sandbox
from outpost_mesh_sandbox.stack.cloudtrail import scheduled_event
from outpost_mesh_sandbox.stack.lambda_runtime import SandboxSession
from outpost_mesh_sandbox.stack.pipeline import PipelineOptions, SandboxPipeline

SIZES = (10, 100, 1_000)  # converged VPCs swept
OLD_SIZES = (10, 100)  # the old sweep run for real, and a sample of its executions
EXECUTION_SAMPLE = 10  # the old sweep's executions run for real, at each size
CLI_VPCS = 10  # meshed through the CLI path; the rest are written in its end state
RACKS = ("rack-a", "rack-b")
JUDGE_RUNS = 3
OLD_SWEEP_KEY = "AKIAOMBENCHOLDSWEEP1"  # the old sweep's own calls, apart from its executions'
SWEEP = "SweepFunction"
IDLE_TIMEOUT = 300.0  # seconds an execution may take on a loaded 2-core machine
# DynamoDB's request units: a strongly consistent read of up to 4 KB is one read unit (an
# eventually consistent one half), a write of up to 1 KB one write unit (DynamoDB Developer
# Guide, "Read/write capacity mode"); a write of an item in a global secondary index writes the
# index too, at the same units.
READ_UNIT_BYTES = 4096
WRITE_UNIT_BYTES = 1024


@dataclass(frozen=True)
class DynamoCost:
    """DynamoDB calls per action and the request units they consume."""

    calls: Mapping[str, int]
    read_units: float
    write_units: float

    @property
    def total(self) -> int:
        return sum(self.calls.values())


@dataclass(frozen=True)
class SweepRun:
    """One invocation of the deployed (new) SweepFunction."""

    vpcs: int
    drifted: int
    started: int  # executions the sweep started
    outcomes: Mapping[str, int]
    describes: Mapping[str, int]  # EC2 calls per action, from the sandbox's log
    formula: Mapping[str, int]  # pages_for(action, items in the Region) per action
    reported: Mapping[str, int]  # the sweep's own count (SweepOutput.describe_calls) per action
    dynamodb: DynamoCost
    ledger_pages: int
    seconds: float  # the Lambda's run time in the sandbox
    observe_seconds: float  # of which the fleet observation (its six paginated Describes)
    judge_seconds: float  # plan + verify of every VPC, best of JUDGE_RUNS (pure)
    judge_in_run: float  # the same, as timed inside the run
    other_calls: Mapping[str, int] = field(default_factory=dict)  # EC2 calls not in the formula

    @property
    def describe_total(self) -> int:
        return sum(self.describes.values())

    @property
    def formula_total(self) -> int:
        return sum(self.formula.values())


@dataclass(frozen=True)
class ExecutionCost:
    """What the executions of one old sweep cost, in all."""

    executions: int
    transitions: int  # *StateEntered events of their histories
    invocations: Mapping[str, int]  # per function (logical id)
    lambda_seconds: Mapping[str, float]  # per function, summed
    gb_seconds: float  # billed: each invocation's ms rounded up, x the function's memory
    ec2: int
    dynamodb: DynamoCost
    states: Mapping[str, int]  # states entered, per name, over all executions


@dataclass(frozen=True)
class OldSweepRun:
    """The sweep before the fleet diff, and a sample of the executions it starts."""

    vpcs: int
    started: int  # executions the sweep started: one per candidate VPC
    seconds: float  # the sweep Lambda's own run time
    gb_seconds: float
    ec2: Mapping[str, int]  # the sweep Lambda's own EC2 calls per action
    dynamodb: DynamoCost  # the sweep Lambda's own
    executions: ExecutionCost  # of the sample
    real_seconds: float  # the sweep and its sample, until the last execution had ended


@dataclass(frozen=True)
class BuildTimes:
    """Seconds to build the fleet: VPCs created and meshed through the CLI path, or created and
    written in that path's end state."""

    cli_vpcs: int = 0
    cli_seconds: float = 0.0
    direct_vpcs: int = 0
    direct_seconds: float = 0.0


@dataclass
class SweepCost:
    new: list[SweepRun] = field(default_factory=list)
    old: list[OldSweepRun] = field(default_factory=list)
    build: BuildTimes = BuildTimes()
    memory_mb: dict[str, int] = field(default_factory=dict)  # per function, from template.yaml


# -- DynamoDB request units ------------------------------------------------------------------
def _value_bytes(value: Mapping[str, Any]) -> int:
    """A DynamoDB attribute value's size (DynamoDB Developer Guide, "Item sizes")."""
    (kind, data), *_ = value.items()
    if kind in ("S", "B"):
        return len(data.encode() if isinstance(data, str) else data)
    if kind == "N":
        return math.ceil(len(str(data).lstrip("-").replace(".", "").lstrip("0") or "0") / 2) + 1
    if kind in ("BOOL", "NULL"):
        return 1
    if kind in ("SS", "BS"):
        return sum(len(v.encode() if isinstance(v, str) else v) for v in data)
    if kind == "NS":
        return sum(_value_bytes({"N": v}) for v in data)
    if kind == "L":
        return 3 + sum(1 + _value_bytes(v) for v in data)
    return 3 + item_bytes(data)  # M


def item_bytes(item: Mapping[str, Any]) -> int:
    """An item's size: its attribute names' UTF-8 bytes plus its values' sizes."""
    return sum(len(name.encode()) + _value_bytes(value) for name, value in item.items())


def _units(size: int, unit: int) -> int:
    return max(1, math.ceil(size / unit))


def dynamo_cost(calls: list[ApiCall], reader: Any) -> DynamoCost:
    """The request units of ``calls``' DynamoDB calls. A Query is run again (same parameters,
    the bench's key) to size the items its page read; a PutItem is sized from its item; other
    single-item calls touch items under 1 KB (the lease, the trigger counter, markers)."""
    mine = [c for c in calls if c.service == "dynamodb"]
    reads = writes = 0.0
    for call in mine:
        params = call.params
        if call.action == "Query":
            page = reader.query(**params)
            factor = 1.0 if params.get("ConsistentRead") else 0.5
            reads += factor * _units(sum(map(item_bytes, page.get("Items", []))), READ_UNIT_BYTES)
        elif call.action == "GetItem":
            reads += 1.0 if params.get("ConsistentRead") else 0.5
        elif call.action == "PutItem":
            item = params.get("Item", {})
            units = _units(item_bytes(item), WRITE_UNIT_BYTES)
            writes += units * (2 if FleetIndex.HASH in item else 1)  # the index writes its copy
        elif call.action == "BatchGetItem":
            for request in params.get("RequestItems", {}).values():
                reads += len(request["Keys"]) * (1.0 if request.get("ConsistentRead") else 0.5)
        elif call.action in ("UpdateItem", "DeleteItem"):
            writes += 1
        elif call.action == "BatchWriteItem":
            writes += sum(len(v) for v in params.get("RequestItems", {}).values())
    return DynamoCost(dict(Counter(c.action for c in mine)), reads, writes)


# -- the fleet ---------------------------------------------------------------------------------
def cidr(vpc: int, part: int | None = None) -> str:
    """VPC ``vpc``'s /22 (10.0.0.0/22 to 10.15.252.0/22 for 1,024 VPCs), or its part-th /24."""
    return f"10.{vpc // 64}.{(vpc % 64) * 4 + (part or 0)}.0/{22 if part is None else 24}"


class Fleet:
    """VPCs meshed over two racks in the sandbox, and the stack that sweeps them."""

    def __init__(self, sb: Sandbox, pipeline: SandboxPipeline) -> None:
        self.sb = sb
        self.pipeline = pipeline
        self.person = sb.client("ec2", caller="scenario")
        self.reader = sb.client("ec2", caller=BENCH_KEY)
        self.dynamodb = sb.client("dynamodb", caller=BENCH_KEY)
        self.store = LedgerStore(self.dynamodb, pipeline.table_name)
        self.racks = [sb.control.seed_outpost(name) for name in RACKS]
        self.vpcs: list[str] = []
        self.tables: dict[str, list[str]] = {}
        self.build = BuildTimes()

    def _create(self) -> str:
        """One more VPC: a subnet on each rack, each in a route table of its own."""
        index = len(self.vpcs)
        vpc = str(self.person.create_vpc(CidrBlock=cidr(index))["Vpc"]["VpcId"])
        self.vpcs.append(vpc)
        self.tables[vpc] = []
        for part, rack in enumerate(self.racks):
            subnet = self.person.create_subnet(
                VpcId=vpc,
                CidrBlock=cidr(index, part),
                OutpostArn=rack.outpost_arn,
                AvailabilityZone=rack.availability_zone,
            )["Subnet"]["SubnetId"]
            table = self.person.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
            self.person.associate_route_table(RouteTableId=table, SubnetId=subnet)
            self.tables[vpc].append(table)
        return vpc

    def grow_cli(self, count: int) -> None:
        """``count`` VPCs meshed through the CLI path (``outpost-mesh apply``), timed."""
        settings = Settings(table=self.store.table_name)
        service = ReconcileService(settings, ec2=self.reader, store=self.store)
        started = time.perf_counter()
        for _ in range(count):
            reconcile_vpc(
                service,
                self._create(),
                owner="bench",
                applier_factory=lambda: Applier(self.reader, self.store, "bench", sleep=_no_wait),
            )
        b = self.build
        took = time.perf_counter() - started
        self.build = replace(b, cli_vpcs=b.cli_vpcs + count, cli_seconds=b.cli_seconds + took)

    def grow_direct(self, count: int) -> None:
        """``count`` VPCs put in the state the CLI path leaves, without its calls (see above)."""
        started = time.perf_counter()
        new = [self._create() for _ in range(count)]
        seen = observe_fleet(self.reader, new)
        for vpc in new:
            topology = seen.topologies[vpc]
            converge(
                self.sb,
                self.reader,
                plan_vpc(topology, Ledger(vpc)),
                dynamodb=self.dynamodb,
                table=self.store.table_name,
            )
            self.store.remember_locations(
                vpc,
                tuple(s.subnet_id for s in topology.subnets),
                tuple(t.route_table_id for t in topology.route_tables),
            )
        b = self.build
        took = time.perf_counter() - started
        self.build = replace(
            b, direct_vpcs=b.direct_vpcs + count, direct_seconds=b.direct_seconds + took
        )

    def grow_to(self, size: int) -> None:
        cli = max(0, min(size, CLI_VPCS) - len(self.vpcs))
        if cli:
            self.grow_cli(cli)
        if size > len(self.vpcs):
            self.grow_direct(size - len(self.vpcs))

    def drift(self) -> str:
        """A person deletes the first VPC's route to its second subnet."""
        vpc = self.vpcs[0]
        self.person.delete_route(RouteTableId=self.tables[vpc][0], DestinationCidrBlock=cidr(0, 1))
        return vpc

    def page_formula(self) -> dict[str, int]:
        """Per EC2 action of the fleet observation: ceil(items in the Region / AWS's page)."""
        formula = {}
        for operation in FLEET_PAGE_SIZES:
            items = 0
            for page in self.reader.get_paginator(operation).paginate():
                items += sum(len(v) for v in page.values() if isinstance(v, list))
            action = self.reader.meta.method_to_api_mapping[operation]
            formula[action] = pages_for(action, items)
        return formula


def _no_wait(_seconds: float) -> None:
    """The sandbox moves an association on by describes: the CLI path need not wait."""


# -- the new sweep -----------------------------------------------------------------------------
@contextmanager
def _timed(
    name: str, spent: list[float], calls: list[tuple[Any, ...]] | None = None
) -> Iterator[None]:
    """``triggers.<name>`` timed (and its arguments kept) while inside."""
    original: Callable[..., Any] = getattr(triggers, name)

    def timed(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            spent.append(time.perf_counter() - start)
            if calls is not None:
                calls.append((args, kwargs))

    setattr(triggers, name, timed)
    try:
        yield
    finally:
        setattr(triggers, name, original)


def _mark(sb: Sandbox) -> int:
    return max((c.seq for c in sb.control.calls()), default=0)


def _event(sb: Sandbox) -> dict[str, Any]:
    return scheduled_event(sb.account_id, sb.region, f"arn:aws:events:{sb.region}::rule/bench")


def sweep(fleet: Fleet, drifted: int = 0) -> SweepRun:
    """Invoke the deployed SweepFunction once; what it did and what it cost."""
    sb, pipeline = fleet.sb, fleet.pipeline
    formula = fleet.page_formula()
    mark = _mark(sb)
    judged: list[float] = []
    observed: list[float] = []
    arguments: list[tuple[Any, ...]] = []
    with _timed("judge", judged, arguments), _timed("observe_fleet", observed):
        done = pipeline.seam.invoke(SWEEP, _event(sb))
    if not done.ok:
        raise RuntimeError(f"the sweep failed: {done.error_type}: {done.error_message}")
    calls = [c for c in sb.control.calls(since=mark) if c.caller == PIPELINE_ACCESS_KEY]
    starts = [c.seq for c in calls if c.action == "StartExecution"]
    calls = [c for c in calls if c.seq <= max(starts, default=calls[-1].seq)]
    ec2 = Counter(c.action for c in calls if c.service == "ec2")
    best = min(_judge_all(arguments) for _ in range(JUDGE_RUNS))
    out = done.payload
    pipeline.wait_idle(IDLE_TIMEOUT)  # the drifted VPC's execution, before anything else
    return SweepRun(
        vpcs=len(fleet.vpcs),
        drifted=drifted,
        started=out["started_count"],
        outcomes=out["outcomes"],
        describes={a: n for a, n in ec2.items() if a in formula},
        formula=formula,
        reported={
            fleet.reader.meta.method_to_api_mapping[op]: n
            for op, n in out["describe_calls"].items()
        },
        dynamodb=dynamo_cost(calls, fleet.dynamodb),
        ledger_pages=out["ledger_pages"],
        seconds=done.seconds,
        observe_seconds=sum(observed),
        judge_seconds=best,
        judge_in_run=sum(judged),
        other_calls={a: n for a, n in ec2.items() if a not in formula},
    )


def _judge_all(arguments: list[tuple[Any, ...]]) -> float:
    start = time.perf_counter()
    for args, kwargs in arguments:
        judge(*args, **kwargs)
    return time.perf_counter() - start


# -- the old sweep -----------------------------------------------------------------------------
def old_sweep(svc: ReconcileService, event_id: str) -> list[str]:
    """The scheduled sweep before the fleet diff (``git show 3e33afb:layers/outpost_mesh/
    outpost_mesh/workflow/triggers.py``), line for line: an execution for every candidate VPC
    (Outpost subnets or anything owned) that is managed, whatever its state."""
    started: list[str] = []
    for vpc_id in svc.candidate_vpcs():
        if not svc.worth_reconciling(vpc_id):
            continue
        arn = triggers.start_reconcile(
            svc, vpc_id, execution_name(vpc_id, event_id, prefix="sweep-"), f"sweep:{event_id}"
        )
        if arn:
            started.append(arn)
    return started


def billed_gb_seconds(seconds: float, memory_mb: int) -> float:
    """Lambda's duration charge's measure: the run time rounded up to the ms, x memory in GB."""
    return math.ceil(seconds * 1000) / 1000 * memory_mb / 1024


STAND_IN = {"StartAt": "Started", "States": {"Started": {"Type": "Succeed"}}}


def _stand_in(pipeline: SandboxPipeline) -> str:
    """A state machine of one Succeed state, for the old sweep's StartExecution calls: real
    calls, whose executions leave this machine's two cores to the sweep being timed."""
    sfn = pipeline.sandbox.client("stepfunctions", caller=BENCH_KEY)
    role = pipeline.sfn.describe_state_machine(stateMachineArn=pipeline.state_machine_arn)
    name = "bench-old-sweep-stand-in"
    for machine in sfn.list_state_machines()["stateMachines"]:
        if machine["name"] == name:
            return str(machine["stateMachineArn"])
    created = sfn.create_state_machine(
        name=name, definition=json.dumps(STAND_IN), roleArn=role["roleArn"], type="STANDARD"
    )
    return str(created["stateMachineArn"])


def _old_service(fleet: Fleet, state_machine_arn: str) -> ReconcileService:
    """The SweepFunction's settings, starting executions of ``state_machine_arn``, with its
    clients made (a warm container) and the old sweep's own key."""
    sb = fleet.sb
    settings = Settings.from_env(fleet.pipeline.seam.by_logical_id[SWEEP].environment)
    svc = ReconcileService(
        settings.model_copy(update={"state_machine_arn": state_machine_arn}),
        SandboxSession(sb.endpoint_url, sb.region, OLD_SWEEP_KEY),
    )
    svc.ec2, svc.sfn, svc.store  # noqa: B018 - made on first use
    return svc


def executions_cost(fleet: Fleet, vpcs: list[str], memory_mb: Mapping[str, int]) -> ExecutionCost:
    """What the old sweep's execution of each of ``vpcs`` costs, run one after the other (so
    that no execution's Lambda run times include another's on this machine's cores)."""
    sb, pipeline = fleet.sb, fleet.pipeline
    svc = _old_service(fleet, pipeline.state_machine_arn)
    event_id = str(_event(sb)["id"])
    mark = _mark(sb)
    invoked = len(pipeline.seam.invocations)
    arns = []
    for vpc in vpcs:
        name = execution_name(vpc, event_id, prefix="sweep-")
        arn = triggers.start_reconcile(svc, vpc, name, f"sweep:{event_id}")
        assert arn is not None
        arns.append(arn)
        pipeline.wait_idle(IDLE_TIMEOUT)
    theirs = [c for c in sb.control.calls(since=mark) if c.caller == PIPELINE_ACCESS_KEY]
    invocations = pipeline.seam.invocations[invoked:]
    sfn = sb.client("stepfunctions", caller=BENCH_KEY)
    states: Counter[str] = Counter()
    for arn in arns:
        for event in execution_history(sfn, arn):
            if event["type"].endswith("StateEntered"):
                states[event["stateEnteredEventDetails"]["name"]] += 1
    lambda_seconds: dict[str, float] = {}
    for invocation in invocations:
        name = invocation.function
        lambda_seconds[name] = lambda_seconds.get(name, 0.0) + invocation.seconds
    return ExecutionCost(
        executions=len(arns),
        transitions=sum(states.values()),
        invocations=dict(Counter(i.function for i in invocations)),
        lambda_seconds=lambda_seconds,
        gb_seconds=sum(billed_gb_seconds(i.seconds, memory_mb[i.function]) for i in invocations),
        ec2=sum(1 for c in theirs if c.service == "ec2"),
        dynamodb=dynamo_cost(theirs, fleet.dynamodb),
        states=dict(states),
    )


def old_sweep_run(fleet: Fleet, memory_mb: Mapping[str, int]) -> OldSweepRun:
    """The old sweep once, for real, its StartExecution calls to the stand-in machine; and
    EXECUTION_SAMPLE of the executions it starts, run for real on the reconcile machine."""
    sb, pipeline = fleet.sb, fleet.pipeline
    svc = _old_service(fleet, _stand_in(pipeline))
    mark = _mark(sb)
    started = time.perf_counter()
    arns = old_sweep(svc, str(_event(sb)["id"]))
    seconds = time.perf_counter() - started
    own = [c for c in sb.control.calls(since=mark) if c.caller == OLD_SWEEP_KEY]
    pipeline.wait_idle(IDLE_TIMEOUT)
    sample = fleet.vpcs[-EXECUTION_SAMPLE:]
    return OldSweepRun(
        vpcs=len(fleet.vpcs),
        started=len(arns),
        seconds=seconds,
        gb_seconds=billed_gb_seconds(seconds, memory_mb[SWEEP]),
        ec2=dict(Counter(c.action for c in own if c.service == "ec2")),
        dynamodb=dynamo_cost(own, fleet.dynamodb),
        executions=executions_cost(fleet, sample, memory_mb),
        real_seconds=time.perf_counter() - started,
    )


def warm(pipeline: SandboxPipeline) -> None:
    """A warm SweepFunction container: one sweep of nothing, and its Step Functions client
    made (a container makes each client once, on first use)."""
    done = pipeline.seam.invoke(SWEEP, _event(pipeline.sandbox))
    assert done.ok, done.error_message
    services = pipeline.seam.by_logical_id[SWEEP].services
    assert services is not None
    services.sfn  # noqa: B018 - made on first use


# -- the section -------------------------------------------------------------------------------
def measure(sb: Sandbox, sizes: tuple[int, ...] = SIZES, progress: Any = print) -> SweepCost:
    """The fleet grown to each size and swept (new, and old where in OLD_SIZES), then one VPC
    of the largest drifted and swept again."""
    result = SweepCost()
    sb.control.reset()
    pipeline = SandboxPipeline(sb, PipelineOptions(idle_timeout=IDLE_TIMEOUT)).deploy()
    try:
        result.memory_mb = {k: f.memory for k, f in pipeline.template.functions().items()}
        fleet = Fleet(sb, pipeline)
        warm(pipeline)
        for size in sizes:
            started = time.perf_counter()
            fleet.grow_to(size)
            progress(f"  sweep: {size:,} VPCs built ({time.perf_counter() - started:.0f} s)")
            result.new.append(sweep(fleet))
            if size in OLD_SIZES:
                result.old.append(old_sweep_run(fleet, result.memory_mb))
                took = result.old[-1].real_seconds
                progress(f"  sweep: the old sweep at {size:,} and its sample ({took:.0f} s)")
        fleet.drift()
        result.new.append(sweep(fleet, drifted=1))
        result.build = fleet.build
    finally:
        pipeline.close()
    return result
