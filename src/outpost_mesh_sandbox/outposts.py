"""Outposts for moto's EC2: seeded racks, local gateways, LGW route tables and VPC associations.

moto has no Outposts support (aws-facts.md "Tools"). :func:`install` patches moto's EC2 models and
its ``EC2Response`` class (which dispatches an action name to a snake_case method and serialises
the returned objects through botocore's output shapes), idempotently, for the whole process:

* Outpost racks are seeded by the sandbox (AWS has no API to create one): :func:`seed_outpost`.
* DescribeLocalGateways, DescribeLocalGatewayRouteTables,
  Create/Describe/DeleteLocalGatewayRouteTableVpcAssociation(s) are added.
* CreateSubnet keeps ``OutpostArn``; DescribeSubnets returns it and filters on ``outpost-arn``.
* Route rules (:mod:`outpost_mesh_sandbox.routes`) and account hygiene
  (:mod:`outpost_mesh_sandbox.account`) are installed from here too.

State lives on each EC2 backend (per account and region), so a moto reset clears it. The sandbox
knobs (:class:`SandboxSettings`) are process-wide and reset by :func:`reset_settings`.
"""

from __future__ import annotations

import base64
import copy
import fnmatch
import threading
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import Any

from moto.core.responses import ActionResult
from moto.ec2.models import EC2Backend
from moto.ec2.models.availability_zones_and_regions import RegionsAndZonesBackend
from moto.ec2.models.core import TaggedEC2Resource
from moto.ec2.models.subnets import Subnet
from moto.ec2.responses import EC2Response
from moto.ec2.responses.subnets import Subnets
from moto.ec2.utils import random_id

from outpost_mesh_sandbox import errors
from outpost_mesh_sandbox.errors import SandboxEC2Error

MODES = ("direct-vpc-routing", "coip")

# Tag resource type for associations (aws-facts.md "LGW route tables and VPC associations").
ASSOCIATION_RESOURCE_TYPE = "local-gateway-route-table-vpc-association"

# AWS shows states associating -> associated | failed and disassociating -> disassociated
# (aws-facts.md). The sandbox moves them on after a configurable number of describes.
ACTIVE_ASSOCIATION_STATES = ("associating", "associated")


# ---------------------------------------------------------------------------------------------
# Sandbox settings (process-wide)
# ---------------------------------------------------------------------------------------------
@dataclass
class SandboxSettings:
    # aws-facts.md "Quotas": routes per route table, default 50 (non-propagated; IPv4 counted).
    routes_per_table: int = 50
    # How many describes see an association `associating` before it becomes `associated`.
    association_describes: int = 1
    # Same for `disassociating` -> `disassociated`.
    disassociation_describes: int = 1
    # Next N created associations end `failed` instead of `associated`.
    failing_associations: int = 0


_SETTINGS = SandboxSettings()
_SETTINGS_LOCK = threading.Lock()


def current_settings() -> SandboxSettings:
    with _SETTINGS_LOCK:
        return copy.copy(_SETTINGS)


def configure(
    *,
    routes_per_table: int | None = None,
    association_describes: int | None = None,
    disassociation_describes: int | None = None,
) -> SandboxSettings:
    values = {
        "routes_per_table": routes_per_table,
        "association_describes": association_describes,
        "disassociation_describes": disassociation_describes,
    }
    for name, value in values.items():
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{name} must be an integer, got {value!r}")
        minimum = 1 if name == "routes_per_table" else 0
        if value < minimum:
            raise ValueError(f"{name} must be >= {minimum}, got {value}")
    with _SETTINGS_LOCK:
        for name, value in values.items():
            if value is not None:
                setattr(_SETTINGS, name, value)
        return copy.copy(_SETTINGS)


def fail_next_associations(times: int) -> None:
    if isinstance(times, bool) or not isinstance(times, int) or times < 0:
        raise ValueError(f"times must be a non-negative integer, got {times!r}")
    with _SETTINGS_LOCK:
        _SETTINGS.failing_associations = times


def _take_association_failure() -> bool:
    with _SETTINGS_LOCK:
        if _SETTINGS.failing_associations > 0:
            _SETTINGS.failing_associations -= 1
            return True
        return False


def reset_settings() -> None:
    with _SETTINGS_LOCK:
        for name, value in asdict(SandboxSettings()).items():
            setattr(_SETTINGS, name, value)


def settings_dict() -> dict[str, int]:
    return asdict(current_settings())


# ---------------------------------------------------------------------------------------------
# Models
# ---------------------------------------------------------------------------------------------
def _hex_id(prefix: str) -> str:
    # AWS ids: prefix + 17 lowercase hex digits (op-, lgw-, lgw-rtb-, lgw-vpc-assoc-).
    return str(random_id(prefix=prefix, size=17))


@dataclass
class Outpost:
    name: str
    outpost_id: str
    arn: str
    availability_zone: str
    intra_vpc: bool
    local_gateway_id: str
    local_gateway_route_table_id: str
    mode: str

    def seeded(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "outpost_arn": self.arn,
            "outpost_id": self.outpost_id,
            "local_gateway_id": self.local_gateway_id,
            "local_gateway_route_table_id": self.local_gateway_route_table_id,
            "mode": self.mode,
            "intra_vpc": self.intra_vpc,
            "availability_zone": self.availability_zone,
        }


Getter = Callable[[Any], Any]


class _Filterable(TaggedEC2Resource):
    """Filter support shared by the LGW resources: a name -> getter table plus tag filters."""

    FILTERS: dict[str, Getter] = {}
    ec2_backend: Any
    id: str

    def get_filter_value(self, filter_name: str, method_name: str | None = None) -> Any:
        getter = self.FILTERS.get(filter_name)
        if getter is not None:
            return getter(self)
        if filter_name.startswith("tag:") or filter_name in ("tag-key", "tag-value"):
            return super().get_filter_value(filter_name, method_name)
        raise SandboxEC2Error(
            errors.ASSUMED_INVALID_FILTER, f"The filter '{filter_name}' is invalid"
        )


class LocalGateway(_Filterable):
    # Filters: EC2 API reference, DescribeLocalGateways.
    FILTERS = {
        "local-gateway-id": lambda o: o.id,
        "outpost-arn": lambda o: o.outpost_arn,
        "owner-id": lambda o: o.owner_id,
        "state": lambda o: o.state,
    }

    def __init__(self, ec2_backend: Any, outpost: Outpost) -> None:
        self.ec2_backend = ec2_backend
        self.id = outpost.local_gateway_id
        self.local_gateway_id = self.id
        self.outpost_arn = outpost.arn
        self.owner_id = ec2_backend.account_id
        self.state = "available"


class LocalGatewayRouteTable(_Filterable):
    # Filters: EC2 API reference, DescribeLocalGatewayRouteTables (+ `mode`, sandbox extra).
    FILTERS = {
        "local-gateway-id": lambda o: o.local_gateway_id,
        "local-gateway-route-table-arn": lambda o: o.local_gateway_route_table_arn,
        "local-gateway-route-table-id": lambda o: o.id,
        "outpost-arn": lambda o: o.outpost_arn,
        "owner-id": lambda o: o.owner_id,
        "state": lambda o: o.state,
        "mode": lambda o: o.mode,
    }

    def __init__(self, ec2_backend: Any, outpost: Outpost) -> None:
        self.ec2_backend = ec2_backend
        self.id = outpost.local_gateway_route_table_id
        self.local_gateway_route_table_id = self.id
        # ARN format: EC2 API reference examples
        # (arn:aws:ec2:REGION:ACCOUNT:local-gateway-route-table/lgw-rtb-...).
        self.local_gateway_route_table_arn = (
            f"arn:aws:ec2:{ec2_backend.region_name}:{ec2_backend.account_id}"
            f":local-gateway-route-table/{self.id}"
        )
        self.local_gateway_id = outpost.local_gateway_id
        self.outpost_arn = outpost.arn
        self.owner_id = ec2_backend.account_id
        self.state = "available"
        self.mode = outpost.mode


class LocalGatewayRouteTableVpcAssociation(_Filterable):
    # Filters: EC2 API reference, DescribeLocalGatewayRouteTableVpcAssociations.
    FILTERS = {
        "local-gateway-id": lambda o: o.local_gateway_id,
        "local-gateway-route-table-arn": lambda o: o.local_gateway_route_table_arn,
        "local-gateway-route-table-id": lambda o: o.local_gateway_route_table_id,
        "local-gateway-route-table-vpc-association-id": lambda o: o.id,
        "owner-id": lambda o: o.owner_id,
        "state": lambda o: o.state,
        "vpc-id": lambda o: o.vpc_id,
    }

    def __init__(self, ec2_backend: Any, table: LocalGatewayRouteTable, vpc_id: str) -> None:
        self.ec2_backend = ec2_backend
        # Format: EC2 API reference examples (lgw-vpc-assoc-0ee765bcc8EXAMPLE).
        self.id = _hex_id("lgw-vpc-assoc")
        self.local_gateway_route_table_vpc_association_id = self.id
        self.local_gateway_route_table_id = table.id
        self.local_gateway_route_table_arn = table.local_gateway_route_table_arn
        self.local_gateway_id = table.local_gateway_id
        self.vpc_id = vpc_id
        self.owner_id = ec2_backend.account_id
        self.state = "associating"
        self.will_fail = False
        self.describes_seen = 0

    def advance(self, settings: SandboxSettings) -> None:
        if self.state == "associating" and self.describes_seen >= settings.association_describes:
            self.state = "failed" if self.will_fail else "associated"
            self.describes_seen = 0
        elif (
            self.state == "disassociating"
            and self.describes_seen >= settings.disassociation_describes
        ):
            self.state = "disassociated"
            self.describes_seen = 0


class OutpostState:
    """Outposts of one account+region, kept on its EC2 backend."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.outposts: dict[str, Outpost] = {}
        self.local_gateways: dict[str, LocalGateway] = {}
        self.route_tables: dict[str, LocalGatewayRouteTable] = {}
        self.associations: dict[str, LocalGatewayRouteTableVpcAssociation] = {}

    def outpost_by_arn(self, arn: str) -> Outpost | None:
        return next((o for o in self.outposts.values() if o.arn == arn), None)

    def outpost_of_lgw(self, lgw_id: str) -> Outpost | None:
        return next((o for o in self.outposts.values() if o.local_gateway_id == lgw_id), None)

    def is_vpc_associated(self, vpc_id: str, lgw_route_table_id: str) -> bool:
        with self.lock:
            return any(
                a.vpc_id == vpc_id
                and a.local_gateway_route_table_id == lgw_route_table_id
                and a.state == "associated"
                for a in self.associations.values()
            )


_STATE_ATTR = "_outpost_mesh_state"
_STATE_INIT_LOCK = threading.Lock()


def state_of(backend: Any) -> OutpostState:
    state = backend.__dict__.get(_STATE_ATTR)
    if state is None:
        with _STATE_INIT_LOCK:
            state = backend.__dict__.setdefault(_STATE_ATTR, OutpostState())
    return state  # type: ignore[no-any-return]


# ---------------------------------------------------------------------------------------------
# Seeding (the sandbox's own call: AWS has no API to create an Outpost)
# ---------------------------------------------------------------------------------------------
def seed_outpost(
    backend: Any,
    name: str,
    *,
    mode: str = "direct-vpc-routing",
    intra_vpc: bool = True,
    availability_zone: str | None = None,
) -> Outpost:
    if not name or not isinstance(name, str):
        raise ValueError("name must be a non-empty string")
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    if not isinstance(intra_vpc, bool):
        raise ValueError(f"intra_vpc must be a boolean, got {intra_vpc!r}")
    region = backend.region_name
    zones = [z.name for z in RegionsAndZonesBackend.zones.get(region, [])]
    az = availability_zone or (zones[0] if zones else f"{region}a")
    if zones and az not in zones:
        raise ValueError(f"availability zone {az!r} is not in {region} ({', '.join(zones)})")
    state = state_of(backend)
    with state.lock:
        if name in state.outposts:
            raise ValueError(f"an Outpost named {name!r} is already seeded")
        outpost_id = _hex_id("op")
        outpost = Outpost(
            name=name,
            outpost_id=outpost_id,
            # Format: Outposts API reference (arn:aws:outposts:REGION:ACCOUNT:outpost/op-...).
            arn=f"arn:aws:outposts:{region}:{backend.account_id}:outpost/{outpost_id}",
            availability_zone=az,
            intra_vpc=intra_vpc,
            local_gateway_id=_hex_id("lgw"),
            local_gateway_route_table_id=_hex_id("lgw-rtb"),
            mode=mode,
        )
        state.outposts[name] = outpost
        lgw = LocalGateway(backend, outpost)
        state.local_gateways[lgw.id] = lgw
        table = LocalGatewayRouteTable(backend, outpost)
        state.route_tables[table.id] = table
        return outpost


# ---------------------------------------------------------------------------------------------
# Describe helpers: filters and pagination
# ---------------------------------------------------------------------------------------------
def _matches(value: Any, patterns: list[str]) -> bool:
    # EC2 filter values accept * and ? wildcards.
    if value is None:
        return False
    values = [value] if isinstance(value, str) else list(value)
    return any(fnmatch.fnmatchcase(str(v), p) for v in values for p in patterns)


def apply_filters(objects: Iterable[Any], filters: dict[str, list[str]]) -> list[Any]:
    result = list(objects)
    for name, patterns in (filters or {}).items():
        result = [o for o in result if _matches(o.get_filter_value(name), list(patterns))]
    return result


_TOKEN_PREFIX = "om-page:"


def paginate(
    items: list[Any], max_results: int | None, next_token: str | None
) -> tuple[list[Any], str | None]:
    start = 0
    if next_token:
        try:
            decoded = base64.urlsafe_b64decode(next_token.encode("ascii")).decode("ascii")
            if not decoded.startswith(_TOKEN_PREFIX):
                raise ValueError(decoded)
            start = int(decoded[len(_TOKEN_PREFIX) :])
        except (ValueError, UnicodeError) as exc:
            raise SandboxEC2Error(
                errors.INVALID_PAGINATION_TOKEN,
                "The specified pagination token is not valid or is expired.",
            ) from exc
        if start < 0 or start > len(items):
            raise SandboxEC2Error(
                errors.INVALID_PAGINATION_TOKEN,
                "The specified pagination token is not valid or is expired.",
            )
    if not max_results:
        return items[start:], None
    end = start + int(max_results)
    if end >= len(items):
        return items[start:], None
    token = base64.urlsafe_b64encode(f"{_TOKEN_PREFIX}{end}".encode("ascii")).decode("ascii")
    return items[start:end], token


def _select_ids(items: dict[str, Any], ids: list[str] | None, code: str, noun: str) -> list[Any]:
    if not ids:
        return list(items.values())
    for wanted in ids:
        if wanted not in items:
            raise SandboxEC2Error(code, f"The {noun} ID '{wanted}' does not exist")
    return [items[i] for i in items if i in set(ids)]


# ---------------------------------------------------------------------------------------------
# Backend operations
# ---------------------------------------------------------------------------------------------
def describe_local_gateways(
    backend: Any, ids: list[str] | None, filters: dict[str, list[str]]
) -> list[LocalGateway]:
    state = state_of(backend)
    with state.lock:
        items = _select_ids(state.local_gateways, ids, errors.ASSUMED_LGW_NOT_FOUND, "localGateway")
        return apply_filters(items, filters)


def describe_local_gateway_route_tables(
    backend: Any, ids: list[str] | None, filters: dict[str, list[str]]
) -> list[LocalGatewayRouteTable]:
    state = state_of(backend)
    with state.lock:
        items = _select_ids(
            state.route_tables, ids, errors.LGW_ROUTE_TABLE_NOT_FOUND, "localGatewayRouteTable"
        )
        return apply_filters(items, filters)


def create_association(
    backend: Any, table_id: str, vpc_id: str, tags: dict[str, str]
) -> LocalGatewayRouteTableVpcAssociation:
    state = state_of(backend)
    with state.lock:
        table = state.route_tables.get(table_id)
        if table is None:
            raise SandboxEC2Error(
                errors.LGW_ROUTE_TABLE_NOT_FOUND,
                f"The localGatewayRouteTable ID '{table_id}' does not exist",
            )
        backend.get_vpc(vpc_id)  # InvalidVpcID.NotFound, as moto raises it
        for existing in state.associations.values():
            if (
                existing.vpc_id == vpc_id
                and existing.local_gateway_route_table_id == table_id
                and existing.state in ACTIVE_ASSOCIATION_STATES
            ):
                raise SandboxEC2Error(
                    errors.ASSUMED_ALREADY_ASSOCIATED,
                    f"VPC {vpc_id} is already associated with local gateway route table "
                    f"{table_id} ({existing.id}).",
                )
        association = LocalGatewayRouteTableVpcAssociation(backend, table, vpc_id)
        association.will_fail = _take_association_failure()
        state.associations[association.id] = association
        if tags:
            association.add_tags(tags)
        return copy.copy(association)


def describe_associations(
    backend: Any, ids: list[str] | None, filters: dict[str, list[str]]
) -> list[LocalGatewayRouteTableVpcAssociation]:
    """Each describe that selects an association (by ids and every filter but ``state``) counts
    towards its next state; the ``state`` filter then applies to the state shown.

    Counting before the ``state`` filter means a poller that asks only for ``associated`` ones
    still makes progress, as time does on AWS.
    """
    state = state_of(backend)
    settings = current_settings()
    with state.lock:
        for association in state.associations.values():
            association.advance(settings)
        items = _select_ids(
            state.associations,
            ids,
            errors.ASSOCIATION_NOT_FOUND,
            "localGatewayRouteTableVpcAssociation",
        )
        other_filters = {k: v for k, v in (filters or {}).items() if k != "state"}
        candidates = apply_filters(items, other_filters)
        for association in candidates:
            association.describes_seen += 1
        shown = (
            apply_filters(candidates, {"state": filters["state"]})
            if "state" in (filters or {})
            else candidates
        )
        return [copy.copy(a) for a in shown]


def delete_association(backend: Any, association_id: str) -> LocalGatewayRouteTableVpcAssociation:
    state = state_of(backend)
    with state.lock:
        association = state.associations.get(association_id)
        # ASSUMPTION: a disassociated association is gone for Delete (NotFound) although
        # describes may still list it for a while; a second Delete while it is disassociating
        # returns it unchanged. AWS documents neither.
        if association is None or association.state == "disassociated":
            raise SandboxEC2Error(
                errors.ASSOCIATION_NOT_FOUND,
                f"The localGatewayRouteTableVpcAssociation ID '{association_id}' does not exist",
            )
        if association.state != "disassociating":
            association.state = "disassociating"
            association.describes_seen = 0
        return copy.copy(association)


# ---------------------------------------------------------------------------------------------
# EC2Response actions (added to moto's EC2Response class)
# ---------------------------------------------------------------------------------------------
def _filters(response: Any) -> dict[str, list[str]]:
    result: dict[str, list[str]] = response._filters_from_querystring()
    return result


def _describe_local_gateways(self: Any) -> ActionResult:
    self.error_on_dryrun()
    items = describe_local_gateways(
        self.ec2_backend, self._get_param("LocalGatewayIds", []), _filters(self)
    )
    page, token = paginate(items, self._get_param("MaxResults"), self._get_param("NextToken"))
    return ActionResult({"LocalGateways": page, "NextToken": token})


def _describe_local_gateway_route_tables(self: Any) -> ActionResult:
    self.error_on_dryrun()
    items = describe_local_gateway_route_tables(
        self.ec2_backend, self._get_param("LocalGatewayRouteTableIds", []), _filters(self)
    )
    page, token = paginate(items, self._get_param("MaxResults"), self._get_param("NextToken"))
    return ActionResult({"LocalGatewayRouteTables": page, "NextToken": token})


def _create_local_gateway_route_table_vpc_association(self: Any) -> ActionResult:
    self.error_on_dryrun()
    tags = self._parse_tag_specification(ASSOCIATION_RESOURCE_TYPE).get(
        ASSOCIATION_RESOURCE_TYPE, {}
    )
    association = create_association(
        self.ec2_backend,
        self._get_param("LocalGatewayRouteTableId"),
        self._get_param("VpcId"),
        tags,
    )
    return ActionResult({"LocalGatewayRouteTableVpcAssociation": association})


def _describe_local_gateway_route_table_vpc_associations(self: Any) -> ActionResult:
    self.error_on_dryrun()
    items = describe_associations(
        self.ec2_backend,
        self._get_param("LocalGatewayRouteTableVpcAssociationIds", []),
        _filters(self),
    )
    page, token = paginate(items, self._get_param("MaxResults"), self._get_param("NextToken"))
    return ActionResult({"LocalGatewayRouteTableVpcAssociations": page, "NextToken": token})


def _delete_local_gateway_route_table_vpc_association(self: Any) -> ActionResult:
    self.error_on_dryrun()
    association = delete_association(
        self.ec2_backend, self._get_param("LocalGatewayRouteTableVpcAssociationId")
    )
    return ActionResult({"LocalGatewayRouteTableVpcAssociation": association})


# ---------------------------------------------------------------------------------------------
# Subnets: OutpostArn
# ---------------------------------------------------------------------------------------------
def _zone_name_for_id(zone_id: str) -> str | None:
    for zones in RegionsAndZonesBackend.zones.values():
        for zone in zones:
            if zone.zone_id == zone_id:
                return str(zone.name)
    return None


def _patch_subnets() -> None:
    # DescribeSubnets returns `outpostArn` from this attribute (botocore Subnet.OutpostArn).
    Subnet.outpost_arn = None  # type: ignore[attr-defined]

    original_filter = Subnet.get_filter_value

    def get_filter_value(self: Any, filter_name: str, method_name: str | None = None) -> Any:
        if filter_name == "outpost-arn":
            return self.outpost_arn
        return original_filter(self, filter_name, method_name)

    Subnet.get_filter_value = get_filter_value  # type: ignore[method-assign]

    original_create = Subnets.create_subnet

    def create_subnet(self: Any) -> ActionResult:
        outpost_arn = self._get_param("OutpostArn")
        if outpost_arn:
            outpost = state_of(self.ec2_backend).outpost_by_arn(outpost_arn)
            if outpost is None:
                raise SandboxEC2Error(
                    errors.ASSUMED_BAD_OUTPOST_ARN, f"The Outpost '{outpost_arn}' does not exist."
                )
            az = self._get_param("AvailabilityZone")
            az_id = self._get_param("AvailabilityZoneId")
            if not az and az_id:
                az = _zone_name_for_id(az_id)
            # CreateSubnet reference: "If you specify an Outpost ARN, you must also specify the
            # Availability Zone of the Outpost subnet."
            if not az:
                raise SandboxEC2Error(
                    errors.ASSUMED_OUTPOST_AZ_MISSING,
                    "The request must contain the parameter AvailabilityZone when an OutpostArn "
                    "is specified.",
                )
            if az != outpost.availability_zone:
                raise SandboxEC2Error(
                    errors.ASSUMED_BAD_OUTPOST_ARN,
                    f"The Outpost '{outpost_arn}' is in Availability Zone "
                    f"{outpost.availability_zone}, not {az}.",
                )
        result = original_create(self)
        if outpost_arn:
            result.result["Subnet"].outpost_arn = outpost_arn  # type: ignore[index]
        return result

    Subnets.create_subnet = create_subnet  # type: ignore[method-assign]


# ---------------------------------------------------------------------------------------------
# install()
# ---------------------------------------------------------------------------------------------
_INSTALL_LOCK = threading.Lock()
_INSTALLED: set[str] = set()


def install() -> None:
    """Patch moto's EC2 for Outposts (idempotent; process-wide)."""
    with _INSTALL_LOCK:
        if "ec2" in _INSTALLED:
            return
        from outpost_mesh_sandbox import account, routes

        actions: dict[str, Callable[[Any], ActionResult]] = {
            "describe_local_gateways": _describe_local_gateways,
            "describe_local_gateway_route_tables": _describe_local_gateway_route_tables,
            "create_local_gateway_route_table_vpc_association": (
                _create_local_gateway_route_table_vpc_association
            ),
            "describe_local_gateway_route_table_vpc_associations": (
                _describe_local_gateway_route_table_vpc_associations
            ),
            "delete_local_gateway_route_table_vpc_association": (
                _delete_local_gateway_route_table_vpc_association
            ),
        }
        for name, function in actions.items():
            setattr(EC2Response, name, function)
        _patch_subnets()
        routes.install()
        account.install()
        _INSTALLED.add("ec2")


def sandbox_backend(account_id: str, region: str) -> EC2Backend:
    from moto.ec2.models import ec2_backends

    backend: EC2Backend = ec2_backends[account_id][region]
    return backend
