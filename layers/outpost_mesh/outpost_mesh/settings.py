"""The knobs of one deployment, validated once per cold start (and once per CLI run).

Every knob is a stack parameter (template.yaml passes it to every function as the environment
variable named in ``ENV``) or a named constant below. A bad value fails at once with one line
naming the variable, never with a traceback from deep inside a task.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from outpost_mesh.approval import DEFAULT_TIMEOUT_SECONDS, ApprovalMode, ApprovalPolicy
from outpost_mesh.errors import ConfigurationError
from outpost_mesh.ledger import DEFAULT_LEASE_SECONDS, DEFAULT_QUARANTINE_SECONDS
from outpost_mesh.model import OPT_OUT_TAG
from outpost_mesh.pacing import MUTATING_BUCKET, MUTATING_REFILL_PER_SECOND
from outpost_mesh.planner import DELETE_MIN_OWNED, DELETE_SHARE_LIMIT

# Defaults are template.yaml's parameter defaults, named once where the code that uses them lives.
DEFAULT_TABLE = "outpost-mesh-ledger"  # the sandbox's ledger table (the stack names its own)
OPT_IN_TAG = "outpost-mesh:managed"  # OptInTagKey
DEFAULT_ROUTES_PER_TABLE = 50  # RoutesPerTableQuota: AWS's default routes-per-table quota

# Field -> the environment variable template.yaml sets for it.
ENV: dict[str, str] = {
    "table": "LEDGER_TABLE",
    "account_id": "ACCOUNT_ID",
    "state_machine_arn": "STATE_MACHINE_ARN",
    "topic_arn": "TOPIC_ARN",
    "report_only": "REPORT_ONLY",
    "managed": "MANAGED_VPCS",
    "opt_in_tag": "OPT_IN_TAG",
    "opt_out_tag": "OPT_OUT_TAG",
    "quarantine_seconds": "QUARANTINE_SECONDS",
    "lease_seconds": "LEASE_SECONDS",
    "mutating_rate": "MUTATING_RATE",
    "mutating_burst": "MUTATING_BURST",
    "apply_concurrency": "APPLY_MAX_CONCURRENCY",
    "routes_per_table": "ROUTES_PER_TABLE",
    "delete_threshold_percent": "DELETE_THRESHOLD_PERCENT",
    "delete_min_owned": "DELETE_MIN_OWNED_ROUTES",
    # The hub's bus (HubEventBusArn), set only when the parameter is (template.yaml's Fn::If).
    "hub_event_bus_arn": "HUB_EVENT_BUS_ARN",
    "approval_mode": "APPROVAL_MODE",
    "approval_auto_additions": "APPROVAL_AUTO_ADDITIONS",
    "approval_timeout_seconds": "APPROVAL_TIMEOUT_SECONDS",
}

# Field -> the stack parameter it comes from (the CLI reads a deployed stack's values, so it
# applies the same rules as the stack's functions). QuarantineMinutes and ApprovalTimeoutHours
# are converted to seconds.
PARAMETERS: dict[str, str] = {
    "managed": "ManagedVpcs",
    "opt_in_tag": "OptInTagKey",
    "opt_out_tag": "OptOutTagKey",
    "quarantine_seconds": "QuarantineMinutes",
    "lease_seconds": "LeaseSeconds",
    "mutating_rate": "MutatingRate",
    "mutating_burst": "MutatingBurst",
    "routes_per_table": "RoutesPerTableQuota",
    "delete_threshold_percent": "DeleteThresholdPercent",
    "delete_min_owned": "DeleteMinOwnedRoutes",
    "approval_mode": "ApprovalMode",
    "approval_auto_additions": "ApprovalAutoApproveAdditions",
    "approval_timeout_seconds": "ApprovalTimeoutHours",
}

_TAG_KEY = r"^[^\s].{0,126}[^\s]$|^[^\s]$"  # EC2 tag keys: 1-128 characters
# An event bus's ARN (EventBridge API Reference, EventBus: names of [/.-_A-Za-z0-9], 1-256).
_EVENT_BUS_ARN = r"^(arn:aws[a-z-]*:events:[a-z0-9-]+:\d{12}:event-bus/[/._A-Za-z0-9-]{1,256})?$"


class Settings(BaseModel):
    """One deployment's settings (the workflow's, the trigger's, the CLI's)."""

    # Built on first validation (once per cold start), not at import.
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    table: str = Field(default=DEFAULT_TABLE, min_length=1, max_length=255)
    # The account the stack runs in ("" : asked of STS when needed, as the CLI does).
    account_id: str = Field(default="", pattern=r"^(\d{12})?$")
    state_machine_arn: str = ""
    topic_arn: str = ""
    report_only: bool = False
    managed: Literal["all", "opt-in"] = "all"
    opt_in_tag: str = Field(default=OPT_IN_TAG, pattern=_TAG_KEY)
    opt_out_tag: str = Field(default=OPT_OUT_TAG, pattern=_TAG_KEY)
    quarantine_seconds: int = Field(default=DEFAULT_QUARANTINE_SECONDS, ge=0)
    lease_seconds: int = Field(default=DEFAULT_LEASE_SECONDS, ge=1)
    mutating_rate: float = Field(default=MUTATING_REFILL_PER_SECOND, gt=0, allow_inf_nan=False)
    mutating_burst: int = Field(default=MUTATING_BUCKET, ge=1)
    apply_concurrency: int = Field(default=1, ge=1, le=40)  # an inline Map runs 40 at most
    routes_per_table: int = Field(default=DEFAULT_ROUTES_PER_TABLE, ge=1, le=1000)
    delete_threshold_percent: int = Field(default=round(DELETE_SHARE_LIMIT * 100), ge=0, le=100)
    delete_min_owned: int = Field(default=DELETE_MIN_OWNED, ge=0)
    # The Organization's hub bus: every notice is also put there as one event ("" : none).
    hub_event_bus_arn: str = Field(default="", pattern=_EVENT_BUS_ARN)
    # Approval mode (docs/architecture.md): what waits for a person, and for how long.
    approval_mode: ApprovalMode = "none"
    approval_auto_additions: bool = False
    approval_timeout_seconds: int = Field(default=DEFAULT_TIMEOUT_SECONDS, ge=60)

    @property
    def approval(self) -> ApprovalPolicy:
        return ApprovalPolicy(self.approval_mode, self.approval_auto_additions)

    @property
    def delete_share_limit(self) -> float:
        return self.delete_threshold_percent / 100

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **given: Any) -> Settings:
        """Settings from the environment (``given`` values win); ConfigurationError names the
        first variable whose value does not fit."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {f: env[name] for f, name in ENV.items() if env.get(name)}
        values.update(given)
        for flag in ("report_only", "approval_auto_additions"):
            if isinstance(values.get(flag), str):
                values[flag] = _flag(values[flag], ENV[flag])
        try:
            return cls(**values)
        except ValidationError as error:
            first = error.errors()[0]
            field = str(first["loc"][0]) if first["loc"] else ""
            name = ENV.get(field, field)
            got = values.get(field, "")
            raise ConfigurationError(
                f"{name}={str(got)[:80]!r}: {first['msg']}", subject=name
            ) from None

    @classmethod
    def from_stack(cls, parameters: Mapping[str, str], **given: Any) -> Settings:
        """Settings from a deployed stack's parameter values (``given`` values win)."""
        env = {ENV[f]: parameters[p] for f, p in PARAMETERS.items() if parameters.get(p)}
        minutes = parameters.get(PARAMETERS["quarantine_seconds"], "")
        if minutes.strip().isdigit():
            env[ENV["quarantine_seconds"]] = str(int(minutes) * 60)
        hours = parameters.get(PARAMETERS["approval_timeout_seconds"], "")
        if hours.strip().isdigit():
            env[ENV["approval_timeout_seconds"]] = str(int(hours) * 3600)
        return cls.from_env(env, **given)


def _flag(value: str, name: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    raise ConfigurationError(f"{name}={value[:80]!r}: must be true or false", subject=name)
