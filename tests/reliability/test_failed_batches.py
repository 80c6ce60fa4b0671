"""Every lane of ApplyRoutes fails, at ApplyMaxConcurrency's most (40 lanes): the workflow still
rolls back, reports the first failed batch's error and stays under Step Functions' 256 KiB
(issue 12, "200 failed batches (the rollback runs)"; rule 10).

Each failed lane carries its batch's error into the state, and BatchErrors hands them all to the
Rollback task: a state past 256 KiB ends the execution with States.DataLimitExceeded, which no
Catch catches (no rollback, no notice). The errors are bounded where they are raised
(``lambda_kit.bounded_error``, at most ``limits.TASK_ERROR_BYTES`` each) and BatchErrors keeps
only what the Rollback reads (``limits.BATCH_ERRORS_STATE_BYTES``).

Two cases through the real workflow on the sandbox (the functions pace on its clock, Retry
intervals compressed: tests/reliability/conftest.py): a rack without the intra-VPC update
rejects 200 route batches planned in 40 lanes; and 40 lanes fail on an EC2 error whose message
runs to kilobytes, which before these bounds ended the execution at BatchErrors with
States.DataLimitExceeded. Outcomes are read from AWS: route tables, the ledger, the execution
and its history, the topic's notices.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from outpost_mesh.limits import (
    BATCH_ERRORS_STATE_BYTES,
    MAX_LANES,
    STATE_BYTES,
    TASK_ERROR_BYTES,
    caught_error_bytes,
    utf8_size,
)
from outpost_mesh_sandbox.stack.pipeline import PipelineOptions

from .harness import TALLY, Outcome, Row, World, check_case, rolled_back

RACK_B_SUBNETS = 200  # one route table each: one batch each, 5 batches in each of the 40 lanes
A_CIDR = "10.7.250.0/24"
# The harness's wrapper around every handler (tests/reliability/harness.py): a frame AWS does not
# have, left out where one error's size is compared with TASK_ERROR_BYTES.
HARNESS_FRAME = "/tests/reliability/harness.py"


def b_cidr(i: int) -> str:
    return f"10.7.{i // 4}.{(i % 4) * 64}/26"


def mesh(b_subnets: int, *, rack_b_updated: bool) -> str:
    """Rack A: one subnet, whose table already routes every rack-B subnet to rack A's LGW (a
    person's routes, satisfied: nothing to change there). Rack B: ``b_subnets`` subnets, a route
    table each, each wanting one route to rack A's subnet: one batch per table."""
    routes = ", ".join(
        f"{{destination: {b_cidr(i)}, target: 'lgw:rack-a'}}" for i in range(b_subnets)
    )
    lines = [
        "vpcs: [{name: app, cidr: 10.7.0.0/16}]",
        "outposts: [{name: rack-a}, "
        f"{{name: rack-b, intra_vpc: {'true' if rack_b_updated else 'false'}}}]",
        f"quotas: {{routes_per_table: {b_subnets + 10}}}",
        "route_tables:",
        f"  - {{name: rt-a, vpc: app, routes: [{routes}]}}",
        *(f"  - {{name: rt-b{i}, vpc: app}}" for i in range(b_subnets)),
        "subnets:",
        f"  - {{name: a, vpc: app, cidr: {A_CIDR}, outpost: rack-a, route_table: rt-a}}",
        *(
            f"  - {{name: b{i}, vpc: app, cidr: {b_cidr(i)}, outpost: rack-b, "
            f"route_table: rt-b{i}}}"
            for i in range(b_subnets)
        ),
    ]
    return "\n".join(lines) + "\n"


def options(b_subnets: int) -> PipelineOptions:
    return PipelineOptions(
        parameters={
            "ApplyMaxConcurrency": str(MAX_LANES),
            "RoutesPerTableQuota": str(b_subnets + 10),  # the account's quota as seeded
        }
    )


def history(world: World, arn: str) -> Iterator[dict[str, Any]]:
    paginator = world.pipeline.sfn.get_paginator("get_execution_history")
    for page in paginator.paginate(executionArn=arn):
        yield from page["events"]


def state_sizes(events: list[dict[str, Any]]) -> dict[str, int]:
    """The largest of each state's input and output, and of the task results and errors, in
    UTF-8 bytes: ``BatchErrors.output``, ``taskSucceeded.output``, ``taskFailed.cause``..."""
    sizes: dict[str, int] = {}
    for event in events:
        for key, details in event.items():
            if not key.endswith("EventDetails") or not isinstance(details, dict):
                continue
            label = str(details.get("name") or key.removesuffix("EventDetails"))
            for field in ("input", "output", "cause"):
                if isinstance(details.get(field), str):
                    name = f"{label}.{field}"
                    sizes[name] = max(sizes.get(name, 0), utf8_size(details[field]))
    return sizes


def planned_lanes(events: list[dict[str, Any]]) -> list[list[Any]]:
    [plan] = [
        json.loads(e["taskSucceededEventDetails"]["output"])["Payload"]
        for e in events
        if "taskSucceededEventDetails" in e
        and "route_lanes" in e["taskSucceededEventDetails"]["output"]
    ]
    lanes: list[list[Any]] = plan["route_lanes"]
    return lanes


def task_errors(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The Lambda error payloads (Step Functions' Causes) of the execution's failed tasks."""
    return [
        json.loads(e["taskFailedEventDetails"]["cause"])
        for e in events
        if "taskFailedEventDetails" in e
    ]


def one_error_bytes(payload: dict[str, Any]) -> int:
    """What one error takes in the state, as AWS's runtime would report it (no harness frame)."""
    stack = [line for line in payload["stackTrace"] if HARNESS_FRAME not in line]
    return caught_error_bytes(payload["errorMessage"], payload["errorType"], stack)


@dataclass(frozen=True)
class Run:
    """One execution whose every lane failed, as its history tells it."""

    outcome: Outcome
    arn: str
    events: list[dict[str, Any]]
    errors: list[dict[str, Any]]  # the failed ApplyRoutes tasks' error payloads
    sizes: dict[str, int]  # state_sizes
    seconds: float  # from the sweep to an idle pipeline

    @property
    def widest(self) -> int:
        return max(one_error_bytes(p) for p in self.errors)

    @property
    def largest(self) -> tuple[str, int]:
        name = max(self.sizes, key=self.sizes.__getitem__)
        return name, self.sizes[name]

    def numbers(self) -> str:
        where, largest = self.largest
        return (
            f"largest state {largest:,} bytes ({where}); BatchErrors "
            f"{self.sizes['BatchErrors.output']:,} (bound {BATCH_ERRORS_STATE_BYTES:,}, limit "
            f"{STATE_BYTES:,}); largest error {self.widest:,} bytes (bound "
            f"{TASK_ERROR_BYTES:,}); the run {self.seconds:.1f} s"
        )


def run_failing_lanes(world: World, expect_finding: str) -> Run:
    """A scheduled sweep reconciles the VPC; every lane fails. The execution rolled back (every
    promise of ``check_case``), 40 lanes failed, every error and BatchErrors' state within their
    bounds and no state at Step Functions' limit."""
    before = world.snapshot()
    known = [e.arn for e in world.pipeline.executions()]
    world.begin()
    started = time.monotonic()
    world.sweep()
    seconds = time.monotonic() - started
    outcome = check_case(world, before, known, rolled_back(expect_finding))
    [execution] = outcome.executions
    assert execution.status == "FAILED" and execution.rolled_back
    assert outcome.added == outcome.removed == frozenset()  # no route left that it created
    events = list(history(world, execution.arn))
    run = Run(outcome, execution.arn, events, task_errors(events), state_sizes(events), seconds)
    assert len(run.errors) == MAX_LANES
    # The stack starts above the runtime (the sandbox's seam, as AWS's bootstrap.py).
    assert not [p for p in run.errors if "lambda_seam.py" in "".join(p["stackTrace"])]
    assert run.widest <= TASK_ERROR_BYTES
    assert run.sizes["BatchErrors.output"] <= BATCH_ERRORS_STATE_BYTES
    assert run.largest[1] < STATE_BYTES, run.sizes
    return run


def record(world: World, run: Run, *, case: str, fault: str) -> None:
    """The case as a row of the report's fault matrix."""
    TALLY.rows.append(
        Row(
            case,
            fault,
            run.outcome.summary(),
            "unchanged",
            f"+{len(run.outcome.added)} / -{len(run.outcome.removed)}",
            ", ".join(sorted({k for k, _ in run.outcome.new_findings})),
            f"Rollbacks {run.outcome.metrics.get('Rollbacks', 0):g}",
            len([c for c in run.outcome.calls if c.error_code]),
            len(run.outcome.calls),
            len(world.deliveries),
            passed=True,
        )
    )


def test_200_failed_batches_in_40_lanes_roll_back_within_the_state_limit(
    make_world: Callable[..., World], report_line: Callable[[str], None]
) -> None:
    started = time.monotonic()
    world = make_world(
        mesh(RACK_B_SUBNETS, rack_b_updated=False),
        options=options(RACK_B_SUBNETS),
        name="failed-batches",
    )
    run = run_failing_lanes(world, "rack-not-updated")

    lanes = planned_lanes(run.events)
    assert len(lanes) == MAX_LANES and sum(len(lane) for lane in lanes) == RACK_B_SUBNETS
    applied = [c for c in world.invocations if c.function == "ApplyRoutesFunction"]
    assert len(applied) == MAX_LANES  # each lane's first batch, then the lane ends
    assert {c.error for c in applied} == {"RackNotUpdatedError"}
    # The rollback ran and reported the first failed batch's error: not States.DataLimitExceeded.
    described = world.pipeline.describe(run.arn)
    assert described["error"] == "RackNotUpdatedError", described.get("cause")
    rack_b = world.ids.outpost("rack-b").outpost_arn
    assert rack_b in described["cause"]
    assert rack_b in world.store.quarantined()
    assert {f.subject for f in world.findings() if f.kind == "rack-not-updated"} == {rack_b}

    record(
        world,
        run,
        case="failed-batches-rack-not-updated",
        fault=f"rack-b not updated: {RACK_B_SUBNETS} route batches in {MAX_LANES} lanes, every "
        "lane fails",
    )
    report_line(
        f"{RACK_B_SUBNETS} route batches in {len(lanes)} lanes, rack-b not updated: "
        f"{len(applied)} lanes failed (RackNotUpdatedError), FAILED after its rollback; "
        f"{run.numbers()}, the test {time.monotonic() - started:.1f} s."
    )


def unauthorized_message(account: str, region: str) -> str:
    """EC2's UnauthorizedOperation text, with an encoded authorization failure message (what
    sts:DecodeAuthorizationMessage decodes); its length here, about 4 KB, is this test's choice."""
    blob = b"".join(hashlib.sha256(str(i).encode()).digest() for i in range(94))
    return (
        "You are not authorized to perform this operation. User: arn:aws:sts::"
        f"{account}:assumed-role/outpost-mesh-ApplyRoutesFunctionRole/outpost-mesh-ApplyRoutes "
        f"is not authorized to perform: ec2:CreateRoute on resource: arn:aws:ec2:{region}:"
        f"{account}:route-table/* because no identity-based policy allows the ec2:CreateRoute "
        "action. Encoded authorization failure message: " + base64.b64encode(blob).decode()
    )


def test_40_lanes_failing_with_kilobytes_of_message_each_still_roll_back(
    make_world: Callable[..., World], report_line: Callable[[str], None]
) -> None:
    started = time.monotonic()
    world = make_world(
        mesh(MAX_LANES, rack_b_updated=True), options=options(MAX_LANES), name="long-errors"
    )
    message = unauthorized_message(world.sb.account_id, world.sb.region)
    assert utf8_size(message) > 4_000
    world.sb.control.inject_fault("CreateRoute", "UnauthorizedOperation", MAX_LANES, message)
    run = run_failing_lanes(world, "error")

    assert run.outcome.faults_left == 0  # every lane's CreateRoute was refused
    described = world.pipeline.describe(run.arn)
    assert described["error"] == "AccessDeniedError", described.get("cause")
    assert {p["errorType"] for p in run.errors} == {"AccessDeniedError"}
    said = f"UnauthorizedOperation: {message[:200]}"
    assert all(p["errorMessage"].startswith(said) for p in run.errors)

    record(
        world,
        run,
        case="failed-batches-long-errors",
        fault=f"UnauthorizedOperation with a {utf8_size(message):,}-byte message on every "
        f"CreateRoute ({MAX_LANES} lanes)",
    )
    report_line(
        f"{MAX_LANES} lanes fail on UnauthorizedOperation with a {utf8_size(message):,}-byte "
        f"message: FAILED after its rollback; {run.numbers()}, the test "
        f"{time.monotonic() - started:.1f} s."
    )
