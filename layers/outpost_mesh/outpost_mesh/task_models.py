"""Input models of the workflow's Lambda tasks (what statemachine/reconcile.asl.json sends)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

VPC_ID = r"^vpc-[0-9a-f]{8,17}$"


class _Task(BaseModel):
    model_config = ConfigDict(extra="ignore")


class ClaimInput(_Task):
    vpc_id: str = Field(pattern=VPC_ID)
    execution_arn: str = Field(min_length=1, max_length=2048)
    execution_name: str = Field(min_length=1, max_length=80)
    trigger: str | None = None


class PlanInput(_Task):
    vpc_id: str = Field(pattern=VPC_ID)
    execution_name: str = Field(min_length=1, max_length=80)


class AssociateInput(_Task):
    vpc_id: str = Field(pattern=VPC_ID)
    execution_name: str = Field(min_length=1, max_length=80)
    associations: list[dict[str, Any]] = Field(default_factory=list)


class CheckAssociationInput(_Task):
    association_ids: list[str] = Field(default_factory=list)
    checks: int = Field(default=0, ge=0)
    max_checks: int = Field(default=60, ge=1)


class RouteBatch(_Task):
    vpc_id: str = Field(pattern=VPC_ID)
    route_table_id: str = Field(pattern=r"^rtb-[0-9a-f]{8,17}$")
    creates: list[dict[str, Any]] = Field(default_factory=list)
    deletes: list[dict[str, Any]] = Field(default_factory=list)


class ApplyRoutesInput(_Task):
    batch: RouteBatch
    execution_name: str = Field(min_length=1, max_length=80)


class DisassociateInput(_Task):
    vpc_id: str = Field(pattern=VPC_ID)
    associations: list[dict[str, Any]] = Field(default_factory=list)


class VerifyInput(_Task):
    vpc_id: str = Field(pattern=VPC_ID)
    execution_name: str = ""


class ReleaseInput(_Task):
    vpc_id: str = Field(pattern=VPC_ID)
    holder: str = Field(min_length=1, max_length=2048)
    seen: int = Field(ge=0)
    started: datetime | None = None  # $$.Execution.StartTime, for ReconcileSeconds


class RollbackInput(_Task):
    vpc_id: str = Field(pattern=VPC_ID)
    execution_name: str = Field(min_length=1, max_length=80)
    execution_arn: str = Field(min_length=1, max_length=2048)
    lease: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
