"""One sweep's consumption, and a month of hourly sweeps in dollars at published list prices.

Prices: us-east-1 list prices, on-demand, before any free tier, as AWS publishes them on the
pricing pages of Step Functions, Lambda and DynamoDB; all in effect since :data:`PRICES_AS_OF`,
the day DynamoDB cut its on-demand prices by half (Step Functions' and Lambda's are older; checked
in 2025). EC2 API calls are not charged; they count against EC2's request rates.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields

from bench.sweep_cost import SWEEP, OldSweepRun, SweepRun, billed_gb_seconds

PRICES_AS_OF = "2024-11-01"
STEP_FUNCTIONS_STANDARD_PER_TRANSITION = 0.025 / 1_000
LAMBDA_PER_REQUEST = 0.20 / 1_000_000
LAMBDA_PER_GB_SECOND = 0.0000166667  # x86 (template.yaml: Architectures [x86_64])
DYNAMODB_PER_READ_UNIT = 0.125 / 1_000_000  # on-demand read request unit
DYNAMODB_PER_WRITE_UNIT = 0.625 / 1_000_000  # on-demand write request unit
SWEEPS_PER_MONTH = 730  # template.yaml's SweepSchedule default, rate(1 hour): 24 x 365 / 12
FLEET = 1_000  # VPCs of the monthly figure


@dataclass(frozen=True)
class Bill:
    """What one sweep (or a month of them) consumes."""

    executions: float
    transitions: float
    invocations: float
    gb_seconds: float
    ec2_calls: float
    dynamodb_calls: float
    read_units: float
    write_units: float

    def times(self, factor: float) -> Bill:
        return Bill(*(getattr(self, f.name) * factor for f in fields(self)))

    @property
    def dollars(self) -> float:
        return sum(self.by_service().values())

    def by_service(self) -> dict[str, float]:
        return {
            "Step Functions": self.transitions * STEP_FUNCTIONS_STANDARD_PER_TRANSITION,
            "Lambda": self.invocations * LAMBDA_PER_REQUEST
            + self.gb_seconds * LAMBDA_PER_GB_SECOND,
            "DynamoDB": self.read_units * DYNAMODB_PER_READ_UNIT
            + self.write_units * DYNAMODB_PER_WRITE_UNIT,
        }


def new_bill(run: SweepRun, memory_mb: Mapping[str, int]) -> Bill:
    """The fleet diff: one Lambda run, and the executions it started (not counted here: the
    converged fleet starts none)."""
    return Bill(
        executions=run.started,
        transitions=0,
        invocations=1,
        gb_seconds=billed_gb_seconds(run.seconds, memory_mb[SWEEP]),
        ec2_calls=run.describe_total + sum(run.other_calls.values()),
        dynamodb_calls=run.dynamodb.total,
        read_units=run.dynamodb.read_units,
        write_units=run.dynamodb.write_units,
    )


def old_bill(run: OldSweepRun, vpcs: int | None = None) -> Bill:
    """The sweep before the fleet diff: its own Lambda run (measured) and one execution per
    candidate VPC, each costing the mean of the sample run (extrapolated). ``vpcs``: a larger
    fleet than ``run``'s, extrapolated: one execution per VPC, and the sweep's own calls and run
    time in proportion (they are per VPC, but for a page or two of DescribeSubnets)."""
    n = run.started if vpcs is None else vpcs
    scale = n / run.started if run.started else 0.0
    ex = run.executions
    per = n / ex.executions if ex.executions else 0.0
    return Bill(
        executions=n,
        transitions=ex.transitions * per,
        invocations=1 + sum(ex.invocations.values()) * per,
        gb_seconds=run.gb_seconds * scale + ex.gb_seconds * per,
        ec2_calls=sum(run.ec2.values()) * scale + ex.ec2 * per,
        dynamodb_calls=run.dynamodb.total * scale + ex.dynamodb.total * per,
        read_units=run.dynamodb.read_units * scale + ex.dynamodb.read_units * per,
        write_units=run.dynamodb.write_units * scale + ex.dynamodb.write_units * per,
    )
