"""The value types of a scenario file: what one value must be, whatever the rest says.

Names, CIDR blocks (IPv4, canonical, /16 to /28 for VPCs and subnets; IPv6 /56 for VPCs and /64
for subnets), whole numbers in a range, the throttle's time scale, LGW modes and table states, rack
generations, tags, the stack settings' ranges (template.yaml's), EC2 action and error-code
spellings, as pydantic types (``Annotated`` with a validator) for :mod:`.schema`. A validator's
mistake is a :func:`problem`, a pydantic error that :func:`.schema.read` shows as it is.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Callable
from typing import Annotated, Any

from pydantic import AfterValidator, StrictFloat, StrictInt, StrictStr
from pydantic_core import PydanticCustomError

from outpost_mesh_sandbox.scenario.errors import suggest
from outpost_mesh_sandbox.scenario.model import (
    GENERATIONS,
    LGW_MODES,
    LGW_TABLE_STATES,
    MAX_PREFIX,
    MAX_ROUTES_PER_TABLE,
    MAX_TIME_SCALE,
    MAX_VPC_CIDR_BLOCKS,
    MIN_PREFIX,
    SUBNET_IPV6_PREFIX,
    VPC_IPV6_PREFIX,
)

__all__ = [
    "ApplyMaxConcurrency",
    "ApprovalMode",
    "ApprovalTimeoutHours",
    "Cidr",
    "DeleteMinOwnedRoutes",
    "DeleteThresholdPercent",
    "Ec2Action",
    "ErrorCode",
    "Generation",
    "LeaseSeconds",
    "LgwMode",
    "LgwTableState",
    "ManagedVpcs",
    "Name",
    "QuarantineMinutes",
    "RoutesPerTable",
    "SecondaryCidrs",
    "Seconds",
    "SizedCidr",
    "SubnetIpv6Cidr",
    "TagKey",
    "TagKeys",
    "TagMap",
    "TimeScale",
    "Times",
    "VpcIpv6Cidr",
    "not_empty",
    "problem",
]

# The stack parameters' limits, as template.yaml states them (a unit test holds the two together).
APPLY_MAX_CONCURRENCY = (1, 40)  # ApplyMaxConcurrency MinValue/MaxValue
DELETE_THRESHOLD_PERCENT = (0, 100)  # DeleteThresholdPercent
DELETE_MIN_OWNED_ROUTES = (0, 100000)  # DeleteMinOwnedRoutes
LEASE_SECONDS = (60, 86400)  # LeaseSeconds
QUARANTINE_MINUTES = (0, 15, 30, 60, 120, 240, 480, 720, 1440, 2880, 4320, 10080)  # AllowedValues
MANAGED_VPCS = ("all", "opt-in")  # ManagedVpcs AllowedValues
APPROVAL_MODES = ("none", "deletions", "all")  # ApprovalMode AllowedValues
APPROVAL_TIMEOUT_HOURS = (1, 4, 8, 24, 72, 168)  # ApprovalTimeoutHours AllowedValues
TAG_KEY_LENGTH = 128  # OptInTagKey/OptOutTagKey MaxLength; EC2's tag key limit too
# EC2 tags (Amazon EC2 User Guide, "Tag restrictions"): keys of 1 to 128 characters, values of at
# most 256, at most 50 per resource, no key starting "aws:". The scenario keeps "Name" for its own
# names (seeding tags every resource with it).
TAG_VALUE_LENGTH = 256
MAX_TAGS = 50
RESERVED_TAG_KEY = "Name"

_NAME_FORBIDDEN = re.compile(r"[\s:{}]")
_ERROR_CODE = re.compile(r"^[A-Za-z][A-Za-z0-9]*(\.[A-Za-z][A-Za-z0-9]*)*$")


def problem(text: str, at: str | None = None) -> PydanticCustomError:
    """A validation error in the format's words; ``at``: a key below the value's path."""
    return PydanticCustomError("scenario", "{problem}", {"problem": text, "at": at})


def _name(text: str) -> str:
    if not text:
        raise problem("a name cannot be empty")
    bad = _NAME_FORBIDDEN.search(text)
    if bad:
        char = "whitespace" if bad.group(0).isspace() else repr(bad.group(0))
        raise problem(f"invalid name {text!r}: names cannot contain {char}")
    return text


def _cidr(text: str) -> str:
    if "/" not in text:
        raise problem(f"{text!r} is not a CIDR block (expected e.g. 10.7.0.0/16)")
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise problem(f"{text!r} is not a valid CIDR block (expected e.g. 10.7.0.0/16)") from None
    if not isinstance(network, ipaddress.IPv4Network):
        raise problem(f"{text!r} is IPv6; only IPv4 CIDR blocks are supported")
    if str(network) != text:
        raise problem(f"{text!r} has host bits set or is not canonical; did you mean {network}?")
    return text


def _ipv6_cidr(prefix: int) -> Callable[[str], str]:
    def check(text: str) -> str:
        try:
            network = ipaddress.ip_network(text, strict=False)
        except ValueError:
            raise problem(
                f"{text!r} is not a valid IPv6 CIDR block (expected e.g. 2600:1f14:aaaa::/56)"
            ) from None
        if not isinstance(network, ipaddress.IPv6Network):
            raise problem(f"{text!r} is IPv4; ipv6_cidr takes an IPv6 block")
        if str(network) != text:
            raise problem(
                f"{text!r} has host bits set or is not canonical; did you mean {network}?"
            )
        if network.prefixlen != prefix:
            raise problem(f"{text} is a /{network.prefixlen}; AWS gives a /{prefix} here")
        return text

    return check


def _sized(text: str) -> str:
    prefix = ipaddress.IPv4Network(text).prefixlen
    if not MIN_PREFIX <= prefix <= MAX_PREFIX:
        raise problem(f"{text} is a /{prefix}; AWS allows /{MIN_PREFIX} to /{MAX_PREFIX}")
    return text


def _between(minimum: int, maximum: int | None = None) -> Callable[[int], int]:
    def check(value: int) -> int:
        if value < minimum:
            raise problem(f"must be at least {minimum}, got {value}")
        if maximum is not None and value > maximum:
            raise problem(f"must be at most {maximum}, got {value}")
        return value

    return check


def _time_scale(value: float) -> float:
    if not 0 < value <= MAX_TIME_SCALE:
        shown = int(value) if value.is_integer() else value
        raise problem(f"must be more than 0 and at most {MAX_TIME_SCALE}, got {shown}")
    return value


def _one_of(what: str, choices: tuple[str, ...]) -> Callable[[str], str]:
    def check(value: str) -> str:
        if value not in choices:
            raise problem(
                f"unknown {what} {value!r}{suggest(value, choices)}; "
                f"expected one of: {', '.join(choices)}"
            )
        return value

    return check


def _generation(value: int) -> int:
    if value not in GENERATIONS:
        raise problem(f"generation is 1 or 2, got {value}")
    return value


def _listed_number(parameter: str, allowed: tuple[int, ...]) -> Callable[[int], int]:
    """A number template.yaml's ``parameter`` lists in its AllowedValues."""

    def check(value: int) -> int:
        if value not in allowed:
            listed = ", ".join(str(n) for n in allowed)
            raise problem(f"must be one of {listed} (template.yaml's {parameter}), got {value}")
        return value

    return check


def _tag_key_problem(key: str) -> str | None:
    if not 1 <= len(key) <= TAG_KEY_LENGTH:
        return f"a tag key has 1 to {TAG_KEY_LENGTH} characters, got {len(key)}"
    if key.lower().startswith("aws:"):
        return f"tag key {key!r}: keys starting with aws: are reserved by AWS"
    return None


def _tag_key(key: str) -> str:
    found = _tag_key_problem(key)
    if found is not None:
        raise problem(found)
    return key


def _scenario_tag_key_problem(key: str) -> str | None:
    if key == RESERVED_TAG_KEY:
        return "the Name tag holds the scenario's name of each resource; use another key"
    return _tag_key_problem(key)


def _scenario_tag_key(key: str) -> str:
    found = _scenario_tag_key_problem(key)
    if found is not None:
        raise problem(found)
    return key


def _tag_map(tags: dict[str, str]) -> dict[str, str]:
    if len(tags) > MAX_TAGS:
        raise problem(f"a resource has at most {MAX_TAGS} tags, got {len(tags)}")
    for key, value in tags.items():
        found = _scenario_tag_key_problem(key)
        if found is not None:
            raise problem(found, at=key)
        if len(value) > TAG_VALUE_LENGTH:
            raise problem(
                f"a tag value has at most {TAG_VALUE_LENGTH} characters, got {len(value)}", at=key
            )
    return tags


@functools.cache
def _ec2_actions() -> frozenset[str]:
    import botocore.session  # botocore's model is loaded once, on first need

    model = botocore.session.get_session().get_service_model("ec2")
    return frozenset(model.operation_names)


def _ec2_action(api: str) -> str:
    actions = _ec2_actions()
    if api not in actions:
        raise problem(f"{api!r} is not an EC2 API action{suggest(api, actions)}")
    return api


def _error_code(error: str) -> str:
    if not _ERROR_CODE.match(error):
        raise problem(
            f"{error!r} is not an EC2 error code (e.g. RequestLimitExceeded, InvalidRoute.NotFound)"
        )
    return error


def _secondary_count(cidrs: list[str]) -> list[str]:
    if len(cidrs) + 1 > MAX_VPC_CIDR_BLOCKS:
        raise problem(
            f"a VPC has at most {MAX_VPC_CIDR_BLOCKS} CIDR blocks (AWS's default quota), "
            f"got {len(cidrs) + 1}"
        )
    return cidrs


def not_empty(text: str) -> Callable[[list[Any]], list[Any]]:
    def check(items: list[Any]) -> list[Any]:
        if not items:
            raise problem(text)
        return items

    return check


#: Names are non-empty and hold no whitespace and none of ``:{}`` (``main:VPC``, ``lgw:OUTPOST``
#: and ``{{kind:NAME}}`` use those characters).
Name = Annotated[StrictStr, AfterValidator(_name)]
Cidr = Annotated[StrictStr, AfterValidator(_cidr)]
SizedCidr = Annotated[StrictStr, AfterValidator(_cidr), AfterValidator(_sized)]
Times = Annotated[StrictInt, AfterValidator(_between(1))]
RoutesPerTable = Annotated[StrictInt, AfterValidator(_between(1, MAX_ROUTES_PER_TABLE))]
TimeScale = Annotated[StrictFloat, AfterValidator(_time_scale)]
LgwMode = Annotated[StrictStr, AfterValidator(_one_of("lgw_mode", LGW_MODES))]
Ec2Action = Annotated[StrictStr, AfterValidator(_ec2_action)]
ErrorCode = Annotated[StrictStr, AfterValidator(_error_code)]
SecondaryCidrs = Annotated[list[SizedCidr], AfterValidator(_secondary_count)]
VpcIpv6Cidr = Annotated[StrictStr, AfterValidator(_ipv6_cidr(VPC_IPV6_PREFIX))]
SubnetIpv6Cidr = Annotated[StrictStr, AfterValidator(_ipv6_cidr(SUBNET_IPV6_PREFIX))]
LgwTableState = Annotated[StrictStr, AfterValidator(_one_of("state", LGW_TABLE_STATES))]
Generation = Annotated[StrictInt, AfterValidator(_generation)]
ManagedVpcs = Annotated[StrictStr, AfterValidator(_one_of("managed_vpcs", MANAGED_VPCS))]
TagKey = Annotated[StrictStr, AfterValidator(_tag_key)]
#: A scenario's tags: EC2's rules, and never the Name tag (the scenario's names live there).
TagMap = Annotated[dict[StrictStr, StrictStr], AfterValidator(_tag_map)]
TagKeys = Annotated[
    list[Annotated[StrictStr, AfterValidator(_scenario_tag_key)]],
    AfterValidator(not_empty("untag needs at least one key")),
]
ApplyMaxConcurrency = Annotated[StrictInt, AfterValidator(_between(*APPLY_MAX_CONCURRENCY))]
DeleteThresholdPercent = Annotated[StrictInt, AfterValidator(_between(*DELETE_THRESHOLD_PERCENT))]
DeleteMinOwnedRoutes = Annotated[StrictInt, AfterValidator(_between(*DELETE_MIN_OWNED_ROUTES))]
LeaseSeconds = Annotated[StrictInt, AfterValidator(_between(*LEASE_SECONDS))]
QuarantineMinutes = Annotated[
    StrictInt, AfterValidator(_listed_number("QuarantineMinutes", QUARANTINE_MINUTES))
]
ApprovalMode = Annotated[StrictStr, AfterValidator(_one_of("approval_mode", APPROVAL_MODES))]


def _approval_hours(value: int) -> int:
    if value not in APPROVAL_TIMEOUT_HOURS:
        allowed = ", ".join(str(h) for h in APPROVAL_TIMEOUT_HOURS)
        raise problem(
            f"must be one of {allowed} (template.yaml's ApprovalTimeoutHours), got {value}"
        )
    return value


ApprovalTimeoutHours = Annotated[StrictInt, AfterValidator(_approval_hours)]
#: ``advance_clock.seconds``: a whole number of at least 1.
Seconds = Annotated[StrictInt, AfterValidator(_between(1))]
