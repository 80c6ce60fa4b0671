"""Describe answers as EC2 gives them: filtered, and in pages that the caller must follow.

EC2 documents pagination for its Describe actions: a request may carry ``MaxResults``, an answer
carries ``NextToken`` while there are more items, and the caller asks again with it until there
is none (EC2 API reference, "Query requests", Pagination; EC2 developer guide, "Pagination in the
Amazon EC2 API", which recommends paginating any describe that can return many items). moto 5.2
pages the LGW describes it does not have and none of DescribeSubnets, DescribeRouteTables and
DescribeVpcs, with ``MaxResults`` or without, and accepts any ``MaxResults``; so a caller that
reads only the first page, or asks for pages larger than AWS gives, passes every test against it.
The sandbox pages every describe in :data:`MAX_RESULTS`, ``MaxResults`` or not, at AWS's page
sizes, and refuses a ``MaxResults`` outside the action's range as EC2 does.
"""

from __future__ import annotations

import base64
import fnmatch
import math
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from outpost_mesh_sandbox.aws import errors
from outpost_mesh_sandbox.aws.errors import SandboxEC2Error


@dataclass(frozen=True)
class MaxResultsRange:
    """The ``MaxResults`` an action accepts, both ends included; ``high`` is its largest page."""

    low: int
    high: int


_LGW_MAX_RESULTS = MaxResultsRange(5, 1000)

#: The Describe actions the sandbox pages (the ones outpost_mesh.observe makes) and the MaxResults
#: range of each. Source: EC2 API Reference, each action's request parameter MaxResults, "Valid
#: Range"; the same numbers are the min/max of the MaxResults shapes in EC2's service model
#: (botocore/data/ec2/2016-11-15/service-2.json: DescribeRouteTablesMaxResults 5-100,
#: DescribeSubnetsMaxResults and DescribeVpcsMaxResults 5-1000, LocalGatewayMaxResults 5-1000 for
#: the five LGW describes). docs/aws-facts.md, "Pagination".
MAX_RESULTS: Mapping[str, MaxResultsRange] = MappingProxyType(
    {
        "DescribeLocalGatewayRouteTableVirtualInterfaceGroupAssociations": _LGW_MAX_RESULTS,
        "DescribeLocalGatewayRouteTableVpcAssociations": _LGW_MAX_RESULTS,
        "DescribeLocalGatewayRouteTables": _LGW_MAX_RESULTS,
        "DescribeLocalGatewayVirtualInterfaceGroups": _LGW_MAX_RESULTS,
        "DescribeLocalGateways": _LGW_MAX_RESULTS,
        "DescribeRouteTables": MaxResultsRange(5, 100),
        "DescribeSubnets": MaxResultsRange(5, 1000),
        "DescribeVpcs": MaxResultsRange(5, 1000),
    }
)

#: The Describe actions the sandbox pages.
PAGED_ACTIONS = tuple(sorted(MAX_RESULTS))

# EC2's answer to a MaxResults above the action's range, as observed for DescribeRouteTables
# (MaxResults 1000): InvalidParameterValue "Value ( 1000 ) for parameter MaxResults is invalid.
# Expecting a value smaller than or equal to 100." docs/aws-facts.md, "Pagination".
_INVALID_MAX_RESULTS = "Value ( {value} ) for parameter MaxResults is invalid."
_TOO_LARGE = " Expecting a value smaller than or equal to {high}."
# ASSUMPTION: the text for a MaxResults below the range, by the same pattern. The one observed
# text is DescribeInstances' older "Expecting a value greater than 5." (for MaxResults 1; the code
# is InvalidParameterValue there too). docs/aws-facts.md, "Pagination".
ASSUMED_TOO_SMALL = " Expecting a value greater than or equal to {low}."

_TOKEN_PREFIX = "om-page:"
_INVALID_TOKEN = "The specified pagination token is not valid or is expired."


class _PageSize:
    lock = threading.Lock()
    value: int | None = None  # None: each action's largest page


# ASSUMPTION: a Describe called without MaxResults answers in pages of the action's largest
# MaxResults (MAX_RESULTS[action].high), with a NextToken while more remain. Whether and at what
# size EC2 pages such an answer is not documented: callers must be ready for a NextToken either
# way. A test that wants to see a caller follow many pages sets a smaller page for every action
# with ``SandboxControl.configure(page_size=N)`` (never above an action's largest page).
# docs/aws-facts.md, "Pagination".
def page_size(action: str | None = None) -> int:
    """Items per page of ``action`` called without MaxResults: the size set with
    :func:`set_page_size` (no more than the action's largest page), else the action's largest page.
    Without an action: the size set, or 0 when none is (each action pages at its largest)."""
    with _PageSize.lock:
        size = _PageSize.value
    if action is None:
        return size or 0
    high = MAX_RESULTS[action].high
    return high if size is None else min(size, high)


def check_page_size(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"page_size must be an integer >= 1, got {value!r}")
    return value


def set_page_size(value: int | None) -> int | None:
    """Set the page size for every paged action (None: back to each action's largest); returns
    it."""
    size = None if value is None else check_page_size(value)
    with _PageSize.lock:
        _PageSize.value = size
    return size


def pages_for(action: str, items: int) -> int:
    """The Describe calls a caller makes to read ``items`` items of ``action`` at AWS's largest
    page (MaxResults at the action's maximum, or none): ceil(items / largest page), and one call
    for an empty answer."""
    if items < 0:
        raise ValueError(f"items must be >= 0, got {items}")
    return max(1, math.ceil(items / MAX_RESULTS[action].high))


def check_max_results(action: str, value: int | str | None) -> int | None:
    """The ``MaxResults`` of a request of ``action`` (None when absent), refused outside the
    action's range as EC2 refuses it. (moto has parsed it as the model's integer by now.)"""
    if value is None:
        return None
    number, limits = int(value), MAX_RESULTS[action]
    if limits.low <= number <= limits.high:
        return number
    reason = _TOO_LARGE if number > limits.high else ASSUMED_TOO_SMALL
    message = _INVALID_MAX_RESULTS.format(value=number) + reason.format(
        low=limits.low, high=limits.high
    )
    raise SandboxEC2Error(errors.INVALID_PARAMETER_VALUE, message)


def _matches(value: Any, patterns: list[str]) -> bool:
    # EC2 filter values accept * and ? wildcards.
    if value is None:
        return False
    values = [value] if isinstance(value, str) else list(value)
    return any(fnmatch.fnmatchcase(str(v), p) for v in values for p in patterns)


def apply_filters(objects: Iterable[Any], filters: dict[str, list[str]]) -> list[Any]:
    """The objects whose ``get_filter_value(name)`` matches every filter (moto's convention)."""
    result = list(objects)
    for name, patterns in (filters or {}).items():
        result = [o for o in result if _matches(o.get_filter_value(name), list(patterns))]
    return result


def is_continuation(next_token: str | None) -> bool:
    """A request for a later page of an answer already begun."""
    return bool(next_token)


def paginate(
    action: str, items: list[Any], max_results: int | str | None, next_token: str | None
) -> tuple[list[Any], str | None]:
    """One page of ``items`` for a request of ``action`` and the token of the next (None on the
    last page)."""
    size = check_max_results(action, max_results) or page_size(action)
    start = 0
    if next_token:
        try:
            decoded = base64.urlsafe_b64decode(next_token.encode("ascii")).decode("ascii")
            if not decoded.startswith(_TOKEN_PREFIX):
                raise ValueError(decoded)
            start = int(decoded[len(_TOKEN_PREFIX) :])
        except (ValueError, UnicodeError) as exc:
            raise SandboxEC2Error(errors.INVALID_PAGINATION_TOKEN, _INVALID_TOKEN) from exc
        if start < 0 or start > len(items):
            raise SandboxEC2Error(errors.INVALID_PAGINATION_TOKEN, _INVALID_TOKEN)
    end = start + size
    if end >= len(items):
        return items[start:], None
    token = base64.urlsafe_b64encode(f"{_TOKEN_PREFIX}{end}".encode("ascii")).decode("ascii")
    return items[start:end], token
