"""Describe answers as EC2 gives them: filtered, and in pages that the caller must follow.

EC2 documents pagination for its Describe actions: a request may carry ``MaxResults``, an answer
carries ``NextToken`` while there are more items, and the caller asks again with it until there
is none (EC2 API reference, "Query requests", Pagination; EC2 developer guide, "Pagination in the
Amazon EC2 API", which recommends paginating any describe that can return many items). moto 5.2
pages the LGW describes it does not have and none of DescribeSubnets, DescribeRouteTables and
DescribeVpcs, with ``MaxResults`` or without, so a caller that reads only the first page passes
every test against it. The sandbox pages every describe that the core's observe makes
(:data:`PAGED_ACTIONS`), ``MaxResults`` or not.
"""

from __future__ import annotations

import base64
import fnmatch
import threading
from collections.abc import Iterable
from typing import Any

from outpost_mesh_sandbox.aws import errors
from outpost_mesh_sandbox.aws.errors import SandboxEC2Error

# ASSUMPTION: the items in one page of a Describe called without MaxResults. Whether and at what
# size EC2 pages such an answer is not documented; callers must be ready for a NextToken either
# way. 1000 is the largest MaxResults that DescribeSubnets, DescribeVpcs and the LGW describes
# accept (DescribeRouteTables: 100), so every sandbox scenario and test of today fits in one page;
# a test that wants to see a caller follow pages sets a small one with
# ``SandboxControl.configure(page_size=N)``.
ASSUMED_DEFAULT_PAGE_SIZE = 1000

#: The Describe actions the sandbox pages (the ones outpost_mesh.observe.observe_vpc makes).
PAGED_ACTIONS = (
    "DescribeLocalGatewayRouteTableVirtualInterfaceGroupAssociations",
    "DescribeLocalGatewayRouteTableVpcAssociations",
    "DescribeLocalGatewayRouteTables",
    "DescribeLocalGatewayVirtualInterfaceGroups",
    "DescribeLocalGateways",
    "DescribeRouteTables",
    "DescribeSubnets",
    "DescribeVpcs",
)

_TOKEN_PREFIX = "om-page:"
_INVALID_TOKEN = "The specified pagination token is not valid or is expired."


class _PageSize:
    lock = threading.Lock()
    value = ASSUMED_DEFAULT_PAGE_SIZE


def page_size() -> int:
    """Items per page when the caller gives no MaxResults."""
    with _PageSize.lock:
        return _PageSize.value


def check_page_size(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"page_size must be an integer >= 1, got {value!r}")
    return value


def set_page_size(value: int | None) -> int:
    """Set the page size (None: back to :data:`ASSUMED_DEFAULT_PAGE_SIZE`); returns it."""
    size = ASSUMED_DEFAULT_PAGE_SIZE if value is None else check_page_size(value)
    with _PageSize.lock:
        _PageSize.value = size
    return size


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
    items: list[Any], max_results: int | str | None, next_token: str | None
) -> tuple[list[Any], str | None]:
    """One page of ``items`` and the token of the next (None on the last page)."""
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
    size = int(max_results) if max_results else page_size()
    end = start + size
    if end >= len(items):
        return items[start:], None
    token = base64.urlsafe_b64encode(f"{_TOKEN_PREFIX}{end}".encode("ascii")).decode("ascii")
    return items[start:end], token
