"""The value types of a scenario file: what one value must be, whatever the rest says.

Names, CIDR blocks (IPv4, canonical, /16 to /28 for VPCs and subnets), whole numbers in a range,
the throttle's time scale, LGW modes, EC2 action and error-code spellings, as pydantic types
(``Annotated`` with a validator) for :mod:`.schema`. A validator's mistake is a
:func:`problem`, a pydantic error that :func:`.schema.read` shows as it is.
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
    LGW_MODES,
    MAX_PREFIX,
    MAX_ROUTES_PER_TABLE,
    MAX_TIME_SCALE,
    MAX_VPC_CIDR_BLOCKS,
    MIN_PREFIX,
)

__all__ = [
    "Cidr",
    "Ec2Action",
    "ErrorCode",
    "LgwMode",
    "Name",
    "RoutesPerTable",
    "SecondaryCidrs",
    "SizedCidr",
    "TimeScale",
    "Times",
    "not_empty",
    "problem",
]

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


def _lgw_mode(mode: str) -> str:
    if mode not in LGW_MODES:
        raise problem(
            f"unknown lgw_mode {mode!r}{suggest(mode, LGW_MODES)}; "
            f"expected one of: {', '.join(LGW_MODES)}"
        )
    return mode


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
LgwMode = Annotated[StrictStr, AfterValidator(_lgw_mode)]
Ec2Action = Annotated[StrictStr, AfterValidator(_ec2_action)]
ErrorCode = Annotated[StrictStr, AfterValidator(_error_code)]
SecondaryCidrs = Annotated[list[SizedCidr], AfterValidator(_secondary_count)]
