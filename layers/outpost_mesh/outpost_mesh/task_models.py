"""The workflow's Lambda tasks' inputs (what statemachine/reconcile.asl.json sends) and outputs
(what the state machine reads back), as pydantic models: the tasks take and return these."""

from __future__ import annotations

import ipaddress
import re
from datetime import datetime
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from outpost_mesh.limits import STATE_MESSAGE_CHARS, STATE_SUBJECT_CHARS, clip
from outpost_mesh.model import (
    AssociationChange,
    Finding,
    FindingKind,
    PairReachability,
    RouteChange,
)

VPC_ID = r"^vpc-[0-9a-f]{8,17}$"
SUBNET_ID = r"^subnet-[0-9a-f]{8,17}$"
ROUTE_TABLE_ID = r"^rtb-[0-9a-f]{8,17}$"
LGW_ID = r"^lgw-[0-9a-f]{8,17}$"
LGW_ROUTE_TABLE_ID = r"^lgw-rtb-[0-9a-f]{8,17}$"
ASSOCIATION_ID = r"^lgw-vpc-assoc-[0-9a-f]{8,17}$"
# $$.Execution.Id: arn:<partition>:states:<region>:<account>:execution:<machine>:<name>
# Step Functions execution names: 1-80 characters, no whitespace, control characters or
# <>{}[]?*"#%\^|~`$&,;:/ (StartExecution reference).
EXECUTION_NAME = r"^[^\s<>{}\[\]?*\"#%\\^|~`$&,;:/\x00-\x1f\x7f-\x9f]{1,80}$"
EXECUTION_ARN = r"^arn:aws[a-z-]*:states:[a-z0-9-]+:[0-9]{12}:execution:[^:\s]{1,80}:[^:\s]{1,80}$"


class _Task(BaseModel):
    # Each handler parses one of these models: building every model's validator at import would
    # make every cold start pay for all of them. pydantic builds a model on its first validation.
    model_config = ConfigDict(extra="ignore", defer_build=True)


def _same_execution(arn: str, name: str) -> None:
    if arn.rsplit(":", 1)[-1] != name:
        raise ValueError("execution_arn does not name execution_name")


class ClaimInput(_Task):
    vpc_id: str = Field(pattern=VPC_ID)
    execution_arn: str = Field(pattern=EXECUTION_ARN)
    execution_name: str = Field(pattern=EXECUTION_NAME)
    trigger: str | None = Field(default=None, max_length=256)

    @model_validator(mode="after")
    def _one_execution(self) -> Self:
        _same_execution(self.execution_arn, self.execution_name)
        return self


class AssociationItem(_Task):
    """One association change of a plan (model.AssociationChange.to_dict)."""

    local_gateway_route_table_id: str = Field(pattern=LGW_ROUTE_TABLE_ID)
    vpc_id: str = Field(pattern=VPC_ID)
    outpost_arn: str = Field(default="", max_length=2048)
    local_gateway_id: str = Field(default="", pattern=f"(^$)|({LGW_ID})")
    association_id: str = Field(default="", pattern=f"(^$)|({ASSOCIATION_ID})")
    reason: str = Field(default="", max_length=2048)

    @classmethod
    def of(cls, change: AssociationChange) -> AssociationItem:
        return cls.model_construct(**change.to_dict())

    def change(self) -> AssociationChange:
        return AssociationChange(
            lgw_route_table_id=self.local_gateway_route_table_id,
            vpc_id=self.vpc_id,
            outpost_arn=self.outpost_arn,
            local_gateway_id=self.local_gateway_id,
            association_id=self.association_id,
            reason=self.reason,
        )


class DisassociationItem(AssociationItem):
    association_id: str = Field(pattern=ASSOCIATION_ID)


class RouteItem(_Task):
    """One route change of a batch (model.RouteChange.to_dict)."""

    route_table_id: str = Field(pattern=ROUTE_TABLE_ID)
    destination: str = Field(max_length=18)
    local_gateway_id: str = Field(pattern=LGW_ID)
    destination_subnet_id: str = Field(default="", pattern=f"(^$)|({SUBNET_ID})")
    source_subnet_ids: list[str] = Field(default_factory=list, max_length=1000)
    reason: str = Field(default="", max_length=2048)

    @field_validator("destination")
    @classmethod
    def _ipv4_cidr(cls, value: str) -> str:
        try:
            network = ipaddress.IPv4Network(value, strict=True)
        except ValueError as error:
            raise ValueError(f"not an IPv4 CIDR block: {error}") from None
        if str(network) != value:
            raise ValueError("not a canonical IPv4 CIDR block")
        return value

    def change(self) -> RouteChange:
        return RouteChange(
            route_table_id=self.route_table_id,
            destination=self.destination,
            local_gateway_id=self.local_gateway_id,
            destination_subnet_id=self.destination_subnet_id,
            source_subnet_ids=tuple(self.source_subnet_ids),
            reason=self.reason,
        )


class PlanInput(_Task):
    vpc_id: str = Field(pattern=VPC_ID)
    execution_name: str = Field(pattern=EXECUTION_NAME)


def _one_vpc(vpc_id: str, associations: list[AssociationItem]) -> None:
    if any(a.vpc_id != vpc_id for a in associations):
        raise ValueError("an association is for another VPC than vpc_id")


class AssociateInput(_Task):
    vpc_id: str = Field(pattern=VPC_ID)
    execution_name: str = Field(pattern=EXECUTION_NAME)
    associations: list[AssociationItem] = Field(default_factory=list, max_length=1000)

    @model_validator(mode="after")
    def _for_this_vpc(self) -> Self:
        _one_vpc(self.vpc_id, list(self.associations))
        return self


class CheckAssociationInput(_Task):
    vpc_id: str | None = Field(default=None, max_length=64)  # passed along, for the logs
    association_ids: list[str] = Field(default_factory=list, max_length=1000)
    checks: int = Field(default=0, ge=0)
    max_checks: int = Field(default=60, ge=1)

    @field_validator("association_ids")
    @classmethod
    def _association_ids(cls, value: list[str]) -> list[str]:
        for item in value:
            if not re.match(ASSOCIATION_ID, item):
                raise ValueError(f"not an LGW route table VPC association id: {item[:64]!r}")
        return value


class RouteBatch(_Task):
    vpc_id: str = Field(pattern=VPC_ID)
    route_table_id: str = Field(pattern=ROUTE_TABLE_ID)
    creates: list[RouteItem] = Field(default_factory=list, max_length=1000)
    deletes: list[RouteItem] = Field(default_factory=list, max_length=1000)
    # The Plan task stashes a batch's changes in the ledger table and passes only its key
    # (Step Functions' 256 KiB state limit); creates/deletes inline remain accepted.
    key: str | None = Field(default=None, pattern=r"^[0-9]{15}-[0-9]{5}$")
    changes: int | None = Field(default=None, ge=0)
    # Pacing (workflow.batch_pacer): the batch's lane, the lane's share of EC2's bucket and the
    # tokens the batch may start with. Absent (a hand-made input): paced alone, from empty.
    lane: int = Field(default=0, ge=0)
    share: float = Field(default=1.0, gt=0, le=1, allow_inf_nan=False)
    tokens: float = Field(default=0.0, ge=0, allow_inf_nan=False)

    @model_validator(mode="after")
    def _one_table(self) -> Self:
        if any(r.route_table_id != self.route_table_id for r in [*self.creates, *self.deletes]):
            raise ValueError("a route change is for another route table than the batch's")
        return self


class ApplyRoutesInput(_Task):
    batch: RouteBatch
    execution_name: str = Field(pattern=EXECUTION_NAME)
    retry: int = Field(default=0, ge=0)  # Step Functions' $$.State.RetryCount


class DisassociateInput(_Task):
    vpc_id: str = Field(pattern=VPC_ID)
    execution_name: str = Field(pattern=EXECUTION_NAME)
    associations: list[DisassociationItem] = Field(default_factory=list, max_length=1000)

    @model_validator(mode="after")
    def _for_this_vpc(self) -> Self:
        _one_vpc(self.vpc_id, list(self.associations))
        return self


class VerifyInput(_Task):
    vpc_id: str = Field(pattern=VPC_ID)
    execution_name: str = Field(default="", pattern=f"(^$)|({EXECUTION_NAME})")


class ReleaseInput(_Task):
    vpc_id: str = Field(pattern=VPC_ID)
    holder: str = Field(min_length=1, max_length=2048)
    seen: int = Field(ge=0)
    started: datetime | None = None  # $$.Execution.StartTime, for ReconcileSeconds


class RequestApprovalInput(_Task):
    vpc_id: str = Field(pattern=VPC_ID)
    execution_arn: str = Field(pattern=EXECUTION_ARN)
    task_token: str = Field(min_length=1, max_length=1024)  # $$.Task.Token


class ApprovalAnswer(_Task):
    """What ``outpost-mesh approve`` sends with SendTaskSuccess (AwaitApproval's output)."""

    approved_by: str = Field(min_length=1, max_length=2048)


class SettleApprovalInput(_Task):
    vpc_id: str = Field(pattern=VPC_ID)
    execution_name: str = Field(pattern=EXECUTION_NAME)
    answer: ApprovalAnswer | None = None  # approved
    error: CaughtError | None = None  # not approved: ApprovalRejected, ApprovalExpired, timeout

    @model_validator(mode="after")
    def _one_outcome(self) -> Self:
        if (self.answer is None) == (self.error is None):
            raise ValueError("give exactly one of answer (approved) and error (not approved)")
        return self


class LeaseState(_Task):
    """``$.lease``: what ClaimLease (or ReleaseOrLoop) said."""

    claimed: bool | None = None
    holder: str | None = Field(default=None, max_length=2048)
    seen: int = Field(default=0, ge=0)


class CaughtError(_Task):
    """``$.error``: what a Catch put there (Error, and Cause: the Lambda error payload)."""

    Error: str = Field(default="UnknownError", max_length=1024)
    Cause: str | dict[str, Any] = Field(default="")


class RollbackInput(_Task):
    vpc_id: str = Field(pattern=VPC_ID)
    execution_name: str = Field(pattern=EXECUTION_NAME)
    execution_arn: str = Field(pattern=EXECUTION_ARN)
    lease: LeaseState | None = None
    error: CaughtError | None = None

    @model_validator(mode="after")
    def _one_execution(self) -> Self:
        _same_execution(self.execution_arn, self.execution_name)
        return self


# -- outputs ---------------------------------------------------------------------------------
class _Output(BaseModel):
    model_config = ConfigDict(defer_build=True, populate_by_name=True)


class ClaimOutput(_Output):
    claimed: bool
    holder: str
    seen: int


class FindingItem(_Output):
    kind: FindingKind
    subject: str
    message: str

    @classmethod
    def of(cls, finding: Finding) -> FindingItem:
        """The finding as a task result carries it: long texts cut (the ledger has them whole)."""
        return cls(
            kind=finding.kind,
            subject=clip(finding.subject, STATE_SUBJECT_CHARS),
            message=clip(finding.message, STATE_MESSAGE_CHARS),
        )


class BatchRef(_Output):
    """A route batch as a lane of the Map applies it: its changes are stashed under ``key``."""

    vpc_id: str
    route_table_id: str
    key: str
    changes: int
    lane: int
    share: float
    tokens: float


class PlanOutput(_Output):
    vpc_id: str
    report_only: bool
    has_changes: bool
    associations_to_create: list[AssociationItem]
    associations_to_delete: list[AssociationItem]
    # The ApplyRoutes Map's items: lanes of batches, each lane applied in order (rule 9).
    route_lanes: list[list[BatchRef]]
    counts: dict[str, int]
    route_quota_headroom: int
    blocked_subnets: int
    # The first findings of each kind (limits.PLAN_FINDINGS_PER_KIND) and, per kind, how many
    # more there are (rule 10: the result stays under 256 KiB; the ledger has them all).
    findings: list[FindingItem]
    findings_left_out: dict[str, int] = Field(default_factory=dict)
    # Approval mode: changes of this pass wait for a person (AwaitApproval follows Verify).
    approval_needed: bool = False

    def finding_count(self, kind: FindingKind) -> int:
        """How many findings of ``kind`` the plan has, listed or left out."""
        listed = sum(1 for f in self.findings if f.kind == kind)
        return listed + self.findings_left_out.get(str(kind), 0)

    @property
    def route_batches(self) -> list[BatchRef]:
        """Every lane's batches, lane after lane."""
        return [batch for lane in self.route_lanes for batch in lane]


class AssociateOutput(_Output):
    association_ids: list[str]
    pending: bool
    created: int


class CheckAssociationOutput(_Output):
    association_ids: list[str]
    pending: bool
    checks: int


class ApplyRoutesOutput(_Output):
    route_table_id: str
    created: int
    deleted: int


class DisassociateOutput(_Output):
    deleted: int


class BrokenPair(_Output):
    source: str = Field(alias="from")
    to: str
    reason: str

    @classmethod
    def of(cls, pair: PairReachability) -> BrokenPair:
        return cls.model_validate(
            {
                "from": pair.source_subnet_id,
                "to": pair.destination_subnet_id,
                "reason": clip(pair.reason, STATE_MESSAGE_CHARS),
            }
        )


class VerifyOutput(_Output):
    reachable: int
    unreachable: int
    # The first unreachable pairs (limits.VERIFY_BROKEN_PAIRS) and how many more there are.
    broken: list[BrokenPair]
    broken_left_out: int = 0


class RequestApprovalOutput(_Output):
    vpc_id: str
    changes: int
    expires_at: int


class SettleApprovalOutput(_Output):
    vpc_id: str
    status: str
    decided_by: str


class ReleaseOutput(_Output):
    again: bool
    holder: str
    seen: int


class RollbackOutput(_Output):
    error: str
    cause: str
    undone: int
    restarted: str


class TriggerOutput(_Output):
    vpcs: list[str]
    swept: bool
    started: list[str]
    ignored: list[str]
    failed_call: bool | None = None  # set only when the event was a failed call


class SweepOutput(_Output):
    """A sweep's fleet diff: VPCs seen and what became of them (``outcomes``: per
    ``fleet.VpcVerdict`` outcome), the executions it started (the first SWEEP_STARTED_LISTED
    ARNs, and how many more: rule 10), and what it cost (Describe calls per action, ledger
    pages)."""

    seen: int
    converged: int
    started_count: int
    outcomes: dict[str, int]
    started: list[str]
    started_left_out: int = 0
    describe_calls: dict[str, int]
    ledger_pages: int
