"""Outposts in moto's EC2: seeded racks, local gateways, LGW route tables and VPC associations.

moto has no Outposts support (docs/aws-facts.md "Tools on this kind of machine"). This module
holds the models and the operations; :mod:`outpost_mesh_sandbox.aws.ec2_actions` answers the EC2
actions with them and :mod:`outpost_mesh_sandbox.aws.patches` installs those actions in moto.

* Outpost racks are seeded by the sandbox (AWS has no API to create one): :func:`seed_outpost`.
* Local gateways and LGW route tables come with their rack; VPC associations move
  ``associating`` -> ``associated`` | ``failed`` and ``disassociating`` -> ``disassociated`` as
  they are described (the pace is a knob of :mod:`outpost_mesh_sandbox.aws.settings`).

State lives on each EC2 backend (per account and region), so a moto reset clears it.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from moto.ec2.models import EC2Backend
from moto.ec2.models.availability_zones_and_regions import RegionsAndZonesBackend
from moto.ec2.models.core import TaggedEC2Resource
from moto.ec2.utils import random_id

from outpost_mesh_sandbox.aws import errors
from outpost_mesh_sandbox.aws.errors import SandboxEC2Error
from outpost_mesh_sandbox.aws.paging import apply_filters
from outpost_mesh_sandbox.aws.settings import (
    SandboxSettings,
    current_settings,
    take_association_failure,
)

MODES = ("direct-vpc-routing", "coip")

# Tag resource type for associations (docs/aws-facts.md "LGW route tables and VPC associations").
ASSOCIATION_RESOURCE_TYPE = "local-gateway-route-table-vpc-association"

# AWS shows states associating -> associated | failed and disassociating -> disassociated
# (docs/aws-facts.md). The sandbox moves them on after a configurable number of describes.
ACTIVE_ASSOCIATION_STATES = ("associating", "associated")


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
# Backend operations
# ---------------------------------------------------------------------------------------------
def _select_ids(items: dict[str, Any], ids: list[str] | None, code: str, noun: str) -> list[Any]:
    if not ids:
        return list(items.values())
    for wanted in ids:
        if wanted not in items:
            raise SandboxEC2Error(code, f"The {noun} ID '{wanted}' does not exist")
    return [items[i] for i in items if i in set(ids)]


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
        association.will_fail = take_association_failure()
        state.associations[association.id] = association
        if tags:
            association.add_tags(tags)
        return copy.copy(association)


def describe_associations(
    backend: Any, ids: list[str] | None, filters: dict[str, list[str]], *, look: bool = True
) -> list[LocalGatewayRouteTableVpcAssociation]:
    """Each describe that selects an association (by ids and every filter but ``state``) counts
    towards its next state; the ``state`` filter then applies to the state shown.

    Counting before the ``state`` filter means a poller that asks only for ``associated`` ones
    still makes progress, as time does on AWS. ``look=False`` (a later page of one describe)
    shows the states without moving them: one describe followed page by page is one look.
    """
    state = state_of(backend)
    settings = current_settings()
    with state.lock:
        if look:
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
        if look:
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


def sandbox_backend(account_id: str, region: str) -> EC2Backend:
    from moto.ec2.models import ec2_backends

    backend: EC2Backend = ec2_backends[account_id][region]
    return backend
