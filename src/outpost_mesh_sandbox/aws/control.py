"""HTTP client for the sandbox's own control endpoints (``/_sandbox/...``).

Pure stdlib (``urllib`` + ``json``) so that it works from any process that knows the endpoint URL,
without moto installed. The server side lives in :mod:`outpost_mesh_sandbox.aws.middleware`.

Every method maps to one JSON endpoint:

====================================  ========================================================
``GET  /_sandbox/health``             liveness
``POST /_sandbox/outposts``           seed an Outpost rack (AWS has no API for that)
``GET  /_sandbox/outposts``           the seeded racks
``POST /_sandbox/lgw-route-table``    a seeded LGW route table's state, VIF group on/off
``POST /_sandbox/shared-vpcs``        a VPC becomes another account's, shared in (VPC sharing)
``POST /_sandbox/outpost-shares``     RAM: share (or stop sharing) an Outpost with an account
``GET|POST /_sandbox/config``         sandbox knobs (route quota, association describe counts;
                                      POST also ``throttle``, ``time_scale``, ``page_size``)
``GET  /_sandbox/paging``             items per page of a Describe without MaxResults
``GET  /_sandbox/throttle``           EC2 throttle emulation: on/off, AWS time, calls refused
``POST /_sandbox/clock``              move the throttle's AWS time forward
``POST|DELETE /_sandbox/faults``      inject / clear faults
``POST /_sandbox/fail-associations``  next N LGW route table VPC associations end ``failed``
``GET  /_sandbox/calls?since=N``      the recorded API calls
``GET  /_sandbox/call-counts``        calls per action
``POST /_sandbox/reset``              back to an empty account
====================================  ========================================================
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from outpost_mesh_sandbox.aws.identities import PIPELINE_ACCESS_KEY, SCENARIO_ACCESS_KEY

#: Caller aliases accepted wherever an access key id is expected.
CALLER_KEYS = {"pipeline": PIPELINE_ACCESS_KEY, "scenario": SCENARIO_ACCESS_KEY}


class SandboxControlError(RuntimeError):
    """A control endpoint refused the request (bad argument, unknown name, ...)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"sandbox control error {status}: {message}")
        self.status = status
        self.message = message


@dataclass(frozen=True)
class SeededLgwRouteTable:
    """One LGW route table of a seeded rack; ``active``: associated with a VIF group."""

    name: str
    local_gateway_route_table_id: str
    mode: str
    active: bool
    state: str


@dataclass(frozen=True)
class SeededOutpost:
    """An Outpost rack seeded in the sandbox, with its local gateway and LGW route tables.

    ``local_gateway_route_table_id`` and ``mode`` are the first table's (the only one unless
    the rack was seeded with ``route_tables``)."""

    name: str
    outpost_arn: str
    outpost_id: str
    local_gateway_id: str
    local_gateway_route_table_id: str
    mode: str
    intra_vpc: bool
    # Additive field: CreateSubnet with an OutpostArn needs the Outpost's Availability Zone.
    availability_zone: str = ""
    generation: int = 1
    route_tables: tuple[SeededLgwRouteTable, ...] = ()

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SeededOutpost:
        tables = tuple(SeededLgwRouteTable(**t) for t in data.get("route_tables", ()))
        return cls(**{**data, "route_tables": tables})


@dataclass(frozen=True)
class ApiCall:
    """One API call the sandbox answered (or faulted).

    ``params`` holds the flat query parameters for query protocols (EC2: ``Filter.1.Name`` ...)
    or the parsed JSON body for JSON protocols. ``response`` keeps the raw body of EC2 mutating
    actions (success and error) and is ``""`` otherwise. ``time`` is epoch seconds when the request
    arrived. ``region``, ``error_code`` and ``error_message`` are additive fields that a
    CloudTrail-shaped event needs (``awsRegion``, ``errorCode``, ``errorMessage``).
    """

    seq: int
    service: str
    action: str
    caller: str
    status: int
    params: dict[str, Any]
    response: str
    time: float
    region: str = ""
    error_code: str = ""
    error_message: str = ""

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ApiCall:
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        return cls(**known)


class SandboxControl:
    """Drives a running sandbox through its ``/_sandbox`` endpoints."""

    def __init__(self, endpoint_url: str, timeout: float = 30.0) -> None:
        self.endpoint_url = endpoint_url.rstrip("/")
        self.timeout = timeout

    # -- transport -------------------------------------------------------------------------
    def _request(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        query: dict[str, Any] | None = None,
    ) -> Any:
        url = f"{self.endpoint_url}/_sandbox/{path}"
        if query:
            clean = {k: v for k, v in query.items() if v is not None}
            if clean:
                url += "?" + urllib.parse.urlencode(clean)
        data = None if body is None else json.dumps(body).encode("utf-8")
        req = urllib.request.Request(url, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            try:
                message = json.loads(raw.decode("utf-8")).get("error", "")
            except (ValueError, AttributeError):
                message = raw.decode("utf-8", "replace")
            raise SandboxControlError(exc.code, message) from None
        return json.loads(raw.decode("utf-8")) if raw else None

    # -- public API --------------------------------------------------------------------------
    def health(self) -> bool:
        return bool(self._request("GET", "health").get("ok"))

    def seed_outpost(
        self,
        name: str,
        *,
        mode: str = "direct-vpc-routing",
        intra_vpc: bool = True,
        availability_zone: str | None = None,
        generation: int = 1,
        route_tables: list[dict[str, Any]] | None = None,
        account_id: str | None = None,
    ) -> SeededOutpost:
        """A rack (AWS has no API for that). ``route_tables``: None for one table named after
        the rack, in ``mode``; else dicts ``{"name", "mode", "active", "state", "tags"}`` (all
        but ``name`` optional: direct-vpc-routing, active, available, no tags; giving ``mode``
        too is an error). ``generation`` 1: at most one active table; 2: up to 10.
        ``account_id``: the owner account (default: the sandbox's)."""
        data = self._request(
            "POST",
            "outposts",
            {
                "name": name,
                "mode": mode,
                "intra_vpc": intra_vpc,
                "availability_zone": availability_zone,
                "generation": generation,
                "route_tables": route_tables,
                "account_id": account_id,
            },
        )
        return SeededOutpost.from_json(data)

    def outposts(self) -> list[SeededOutpost]:
        return [SeededOutpost.from_json(d) for d in self._request("GET", "outposts")]

    def set_lgw_route_table(
        self, table_id: str, *, state: str | None = None, active: bool | None = None
    ) -> None:
        """A seeded LGW route table changes ``state`` (as AWS moves it: pending, available,
        deleting, ...) or gains (``active=True``) or loses its VIF group; None leaves it."""
        self._request(
            "POST",
            "lgw-route-table",
            {"local_gateway_route_table_id": table_id, "state": state, "active": active},
        )

    def share_vpc_in(self, vpc_id: str, owner_id: str) -> None:
        """``vpc_id`` becomes account ``owner_id``'s VPC shared into this account: its OwnerId
        is the owner's and changes to its route tables and LGW associations are refused."""
        self._request("POST", "shared-vpcs", {"vpc_id": vpc_id, "owner_id": owner_id})

    def share_outpost(
        self, outpost: str, owner_id: str, consumer_id: str, *, shared: bool = True
    ) -> None:
        """RAM: account ``owner_id``'s Outpost named ``outpost`` (with its local gateway and LGW
        route tables) is shared with account ``consumer_id`` (``shared=False``: no longer)."""
        self._request(
            "POST",
            "outpost-shares",
            {
                "outpost": outpost,
                "owner_id": owner_id,
                "consumer_id": consumer_id,
                "shared": shared,
            },
        )

    def configure(
        self,
        *,
        routes_per_table: int | None = None,
        association_describes: int | None = None,
        disassociation_describes: int | None = None,
        throttle: bool | None = None,
        time_scale: float | None = None,
        page_size: int | None = None,
    ) -> None:
        """Sandbox knobs; None leaves one as it is.

        ``throttle``: EC2 throttle emulation on/off (:mod:`outpost_mesh_sandbox.aws.throttle`);
        ``time_scale``: AWS seconds per real second of its clock (0: AWS time moves only by
        :meth:`advance_clock`). Either one refills every bucket. ``page_size``: items per page of
        the paged Describe actions called without MaxResults
        (:mod:`outpost_mesh_sandbox.aws.paging`; a reset restores the default).
        """
        body = {
            "routes_per_table": routes_per_table,
            "association_describes": association_describes,
            "disassociation_describes": disassociation_describes,
            "throttle": throttle,
            "time_scale": time_scale,
            "page_size": page_size,
        }
        self._request("POST", "config", {k: v for k, v in body.items() if v is not None})

    def config(self) -> dict[str, int]:
        result: dict[str, int] = self._request("GET", "config")
        return result

    def page_size(self) -> int:
        """Items per page of a paged Describe called without MaxResults."""
        return int(self._request("GET", "paging")["page_size"])

    def throttle(self) -> dict[str, Any]:
        """The throttle emulation: ``enabled``, ``time_scale``, ``now`` (AWS seconds), and EC2
        ``calls`` / ``throttled`` per action since it was configured."""
        result: dict[str, Any] = self._request("GET", "throttle")
        return result

    def advance_clock(self, seconds: float) -> float:
        """Move the throttle's AWS time forward; returns the new time."""
        return float(self._request("POST", "clock", {"seconds": seconds})["now"])

    def inject_fault(
        self,
        action: str,
        error_code: str,
        times: int = 1,
        message: str | None = None,
        *,
        service: str | None = "ec2",
        per_entry: bool = False,
    ) -> None:
        """The next ``times`` calls of ``action`` (of ``service``; None = any), whoever calls,
        get ``error_code`` instead of running. ``per_entry`` (EventBridge's PutEvents only): a
        200 answer whose every entry failed with ``error_code`` (``faults.PER_ENTRY_ACTIONS``)."""
        self._request(
            "POST",
            "faults",
            {
                "action": action,
                "error_code": error_code,
                "times": times,
                "message": message,
                "service": service,
                "per_entry": per_entry,
            },
        )

    def clear_faults(self) -> None:
        self._request("DELETE", "faults")

    def fail_next_associations(self, times: int = 1) -> None:
        self._request("POST", "fail-associations", {"times": times})

    def calls(self, since: int = 0) -> list[ApiCall]:
        return [ApiCall.from_json(d) for d in self._request("GET", "calls", query={"since": since})]

    def call_counts(self, caller: str | None = None, service: str = "ec2") -> dict[str, int]:
        """Calls per action; ``caller`` is an access key id or an alias (pipeline, scenario)."""
        if caller is not None:
            caller = CALLER_KEYS.get(caller, caller)
        result: dict[str, int] = self._request(
            "GET", "call-counts", query={"caller": caller, "service": service}
        )
        return result

    def reset(self) -> None:
        self._request("POST", "reset", {})
