"""Input models: CloudTrail-via-EventBridge events, the schedule event, the workflow tasks' inputs.

An event is only a hint naming a VPC, subnet or route table (level-triggered); Describe calls are
the truth. CloudTrail logs EC2 calls in two shapes (docs/aws-facts.md, "Events"):

* legacy lowercase (CreateSubnet, DeleteSubnet, CreateRoute...): ``requestParameters.vpcId``,
  ``responseElements.subnet.subnetId``;
* wrapped (newer actions): ``requestParameters.<Wrapper>.{PascalCase}`` and
  ``responseElements.<Action>Response.{camelCase}``, the wrapper's name not always
  ``<Action>Request``; XML-to-JSON quirks: one-item lists collapse to an object, sets appear as
  ``{"items": [...]}`` or ``{"item": {...}}``.

So ids are found by a tolerant search for known keys in any case, at any depth.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from outpost_mesh.limits import bounded_name

WATCHED_EVENTS = (
    "CreateSubnet",
    "DeleteSubnet",
    "AssociateRouteTable",
    "ReplaceRouteTableAssociation",
    "DisassociateRouteTable",
)
_ID_PATTERNS = {
    "vpc": re.compile(r"^vpc-[0-9a-f]{8,17}$"),
    "subnet": re.compile(r"^subnet-[0-9a-f]{8,17}$"),
    "route_table": re.compile(r"^rtb-[0-9a-f]{8,17}$"),
}
_KEYS = {
    "vpc": ("vpcid",),
    "subnet": ("subnetid",),
    "route_table": ("routetableid",),
}
MAX_DEPTH = 8  # CloudTrail's wrappers are 3-4 levels deep; deeper input is not ours
# The models are built on first use (defer_build): every handler imports this module through
# workflow; only the trigger and the sweep parse with them.


class CloudTrailDetail(BaseModel):
    """The part of a CloudTrail record the trigger uses; everything else is ignored."""

    model_config = ConfigDict(extra="ignore", defer_build=True)

    event_source: Literal["ec2.amazonaws.com"] = Field(alias="eventSource")
    event_name: str = Field(alias="eventName", max_length=128)
    aws_region: str | None = Field(default=None, alias="awsRegion", max_length=64)
    request_parameters: dict[str, Any] | None = Field(default=None, alias="requestParameters")
    response_elements: dict[str, Any] | None = Field(default=None, alias="responseElements")
    error_code: str | None = Field(default=None, alias="errorCode")

    @field_validator("event_name")
    @classmethod
    def _watched(cls, value: str) -> str:
        if value not in WATCHED_EVENTS:
            raise ValueError(f"not a watched event: {value[:64]}")
        return value


class CloudTrailEvent(BaseModel):
    """An ``AWS API Call via CloudTrail`` event as EventBridge delivers it."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True, defer_build=True)

    id: str = Field(min_length=1, max_length=128)
    source: Literal["aws.ec2"]
    detail_type: Literal["AWS API Call via CloudTrail"] = Field(alias="detail-type")
    account: str = Field(default="", max_length=32)
    region: str = Field(default="", max_length=64)
    detail: CloudTrailDetail


class ScheduledEvent(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, defer_build=True)

    id: str = Field(default="manual", min_length=1, max_length=128)
    source: str = Field(default="aws.events", max_length=256)
    detail_type: str = Field(default="Scheduled Event", alias="detail-type", max_length=256)


def _walk(value: Any, depth: int = 0) -> Iterator[tuple[str, Any]]:
    if depth > MAX_DEPTH:
        return
    if isinstance(value, dict):
        for key, inner in value.items():
            yield str(key), inner
            yield from _walk(inner, depth + 1)
    elif isinstance(value, list):
        for inner in value[:1000]:
            yield from _walk(inner, depth + 1)


def find_ids(section: Any, kind: str) -> list[str]:
    """Ids of ``kind`` (vpc/subnet/route_table) under known keys, in either CloudTrail shape."""
    keys = _KEYS[kind]
    pattern = _ID_PATTERNS[kind]
    found: list[str] = []
    for key, value in _walk(section):
        if (
            key.lower() in keys
            and isinstance(value, str)
            and pattern.match(value)
            and value not in found
        ):
            found.append(value)
    return found


class TriggerHint(BaseModel):
    """What an event says about where to look."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    event_id: str
    event_name: str
    vpc_ids: tuple[str, ...] = ()
    subnet_ids: tuple[str, ...] = ()
    route_table_ids: tuple[str, ...] = ()


def hint_from(event: CloudTrailEvent) -> TriggerHint:
    detail = event.detail
    sections = [detail.request_parameters or {}, detail.response_elements or {}]
    return TriggerHint(
        event_id=event.id,
        event_name=detail.event_name,
        vpc_ids=tuple(dict.fromkeys(v for s in sections for v in find_ids(s, "vpc"))),
        subnet_ids=tuple(dict.fromkeys(v for s in sections for v in find_ids(s, "subnet"))),
        route_table_ids=tuple(
            dict.fromkeys(v for s in sections for v in find_ids(s, "route_table"))
        ),
    )


_NAME_BAD = re.compile(r"[^0-9A-Za-z_-]")


def execution_name(vpc_id: str, event_id: str, prefix: str = "") -> str:
    """Unique per event and VPC, stable on redelivery; Step Functions' naming rules (aws-facts):
    a name longer than 80 characters keeps a hash of all of it, so it stays unique."""
    return bounded_name(_NAME_BAD.sub("-", f"{prefix}{vpc_id}-{event_id}"))
