"""Outposts in moto's EC2: seeded racks, their local gateway, LGW route tables and routing domains.

moto has no Outposts support (docs/aws-facts.md "Tools on this kind of machine"). This module
holds the state and the sandbox's own calls on it (AWS has no API to create an Outpost):
:func:`seed_outpost` and :func:`set_lgw_route_table`. The resources are in
:mod:`outpost_mesh_sandbox.aws.lgw_models`; the EC2 operations on them in
:mod:`outpost_mesh_sandbox.aws.local_gateways`.

An Outpost has ONE local gateway and one or more LGW route tables (each ``direct-vpc-routing``
or ``coip``, in a ``State``); a table carries traffic only while it is associated with a
virtual interface (VIF) group: it is then *active*. A first-generation rack has one VIF group and
at most one active table; a second-generation rack has up to 10 routing domains (an active table
with a VIF group of its own). Source: docs/aws-facts.md, "Several LGW route tables per Outpost
(routing domains)".

State lives on each EC2 backend (per account and region), so a moto reset clears it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from moto.ec2.models import EC2Backend
from moto.ec2.models.availability_zones_and_regions import RegionsAndZonesBackend

from outpost_mesh_sandbox.aws.lgw_models import (
    LocalGateway,
    LocalGatewayRouteTable,
    LocalGatewayRouteTableVpcAssociation,
    LocalGatewayVirtualInterfaceGroup,
    hex_id,
    new_id,
)
from outpost_mesh_sandbox.aws.lgw_models import (
    LocalGatewayRouteTableVirtualInterfaceGroupAssociation as VifGroupAssociation,
)

MODES = ("direct-vpc-routing", "coip")
DEFAULT_MODE = MODES[0]
# LocalGatewayRouteTable.State (EC2 API reference): pending | available | deleting | deleted,
# plus the rare modifying / failed. Only `available` tables take VPC associations (assumed:
# errors.ASSUMED_TABLE_NOT_AVAILABLE).
TABLE_STATES = ("pending", "available", "deleting", "deleted", "modifying", "failed")
# Active tables (associated with a VIF group) per Outpost and rack generation: first generation
# one at a time; second generation up to 10 routing domains. docs/aws-facts.md, "Several LGW
# route tables per Outpost (routing domains)".
MAX_ACTIVE_TABLES = {1: 1, 2: 10}

# AWS shows VPC association states associating -> associated | failed and disassociating ->
# disassociated (docs/aws-facts.md). The sandbox moves them on after a configurable number of
# describes.
ACTIVE_ASSOCIATION_STATES = ("associating", "associated")


@dataclass
class Outpost:
    name: str
    outpost_id: str
    arn: str
    availability_zone: str
    intra_vpc: bool
    local_gateway_id: str
    generation: int
    #: The first table seeded, and its mode (no API changes a table's mode).
    local_gateway_route_table_id: str = ""
    mode: str = DEFAULT_MODE


@dataclass(frozen=True)
class TableSpec:
    """One LGW route table as seeding asks for it."""

    name: str
    mode: str = DEFAULT_MODE
    active: bool = True
    state: str = "available"
    tags: dict[str, str] = field(default_factory=dict)


class OutpostState:
    """The sandbox's additions to one account+region: Outposts, their LGW resources, and the
    VPCs (:mod:`outpost_mesh_sandbox.aws.sharing`) and Outposts shared into the account."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.outposts: dict[str, Outpost] = {}
        self.local_gateways: dict[str, LocalGateway] = {}
        self.route_tables: dict[str, LocalGatewayRouteTable] = {}
        self.vif_groups: dict[str, LocalGatewayVirtualInterfaceGroup] = {}
        self.vif_associations: dict[str, VifGroupAssociation] = {}
        self.associations: dict[str, LocalGatewayRouteTableVpcAssociation] = {}
        #: VPC id -> the owner account of a VPC shared into this account.
        self.shared_vpcs: dict[str, str] = {}
        #: Outpost ARN -> the owner account of an Outpost shared with this account (RAM,
        #: :mod:`outpost_mesh_sandbox.aws.outpost_sharing`).
        self.shared_in: dict[str, str] = {}

    def outpost_by_arn(self, arn: str) -> Outpost | None:
        return next((o for o in self.outposts.values() if o.arn == arn), None)

    def outpost_of_lgw(self, lgw_id: str) -> Outpost | None:
        return next((o for o in self.outposts.values() if o.local_gateway_id == lgw_id), None)

    def tables_of(self, lgw_id: str) -> list[LocalGatewayRouteTable]:
        return [t for t in self.route_tables.values() if t.local_gateway_id == lgw_id]

    def vif_association_of(self, table_id: str) -> VifGroupAssociation | None:
        found = self.vif_associations.values()
        return next((a for a in found if a.local_gateway_route_table_id == table_id), None)

    def active_tables(self, lgw_id: str) -> list[LocalGatewayRouteTable]:
        return [t for t in self.tables_of(lgw_id) if self.vif_association_of(t.id) is not None]

    def vpc_associations(
        self, vpc_id: str, lgw_id: str, states: tuple[str, ...]
    ) -> list[LocalGatewayRouteTableVpcAssociation]:
        """The VPC's associations with any table of the local gateway, in one of ``states``."""
        with self.lock:
            return [
                a
                for a in self.associations.values()
                if a.vpc_id == vpc_id and a.local_gateway_id == lgw_id and a.state in states
            ]

    def is_vpc_associated_with_lgw(self, vpc_id: str, lgw_id: str) -> bool:
        return bool(self.vpc_associations(vpc_id, lgw_id, ("associated",)))


_STATE_ATTR = "_outpost_mesh_state"
_STATE_INIT_LOCK = threading.Lock()


def state_of(backend: Any) -> OutpostState:
    state = backend.__dict__.get(_STATE_ATTR)
    if state is None:
        with _STATE_INIT_LOCK:
            state = backend.__dict__.setdefault(_STATE_ATTR, OutpostState())
    return state  # type: ignore[no-any-return]


# ---------------------------------------------------------------------------------------------
# Seeding (the sandbox's own calls: AWS has no API to create an Outpost)
# ---------------------------------------------------------------------------------------------
_SPEC_KEYS = {"name", "mode", "active", "state", "tags"}


def _table_spec(raw: Any, where: str) -> TableSpec:
    if not isinstance(raw, dict):
        raise ValueError(f"{where} must be an object, got {raw!r}")
    unknown = set(raw) - _SPEC_KEYS
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    if "name" not in raw:
        raise ValueError(f"{where}.name is required")
    spec = TableSpec(**raw)
    if not spec.name or not isinstance(spec.name, str):
        raise ValueError(f"{where}.name must be a non-empty string")
    if spec.mode not in MODES:
        raise ValueError(f"{where}.mode must be one of {', '.join(MODES)}, got {spec.mode!r}")
    if not isinstance(spec.active, bool):
        raise ValueError(f"{where}.active must be a boolean, got {spec.active!r}")
    if spec.state not in TABLE_STATES:
        raise ValueError(
            f"{where}.state must be one of {', '.join(TABLE_STATES)}, got {spec.state!r}"
        )
    tags = spec.tags
    if not isinstance(tags, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in tags.items()
    ):
        raise ValueError(f"{where}.tags must map strings to strings, got {tags!r}")
    return spec


def table_specs(name: str, mode: str, route_tables: list[Any] | None) -> list[TableSpec]:
    """The tables a rack is seeded with: ``route_tables`` checked, or one named after it."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    if route_tables is None:
        return [TableSpec(name=name, mode=mode)]
    if mode != DEFAULT_MODE:
        raise ValueError("give either mode or route_tables (each table has its own mode)")
    if not isinstance(route_tables, list) or not route_tables:
        raise ValueError("route_tables must be a non-empty list of tables")
    specs = [_table_spec(raw, f"route_tables[{i}]") for i, raw in enumerate(route_tables)]
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        raise ValueError(f"LGW route table names must be unique, got {names}")
    return specs


def check_active_count(outpost: Outpost, active: list[str]) -> None:
    """A rack's generation limits its active tables (docs/aws-facts.md, "Several LGW route
    tables per Outpost (routing domains)")."""
    limit = MAX_ACTIVE_TABLES[outpost.generation]
    if len(active) <= limit:
        return
    if outpost.generation == 1:
        rule = "a first-generation rack has one VIF group: at most one active LGW route table"
    else:
        rule = f"a second-generation rack has at most {limit} routing domains"
    raise ValueError(
        f"Outpost {outpost.name!r}: {rule}; {len(active)} would be active ({', '.join(active)})"
    )


def _zone(backend: Any, availability_zone: str | None) -> str:
    region = backend.region_name
    zones = [z.name for z in RegionsAndZonesBackend.zones.get(region, [])]
    az = availability_zone or (zones[0] if zones else f"{region}a")
    if zones and az not in zones:
        raise ValueError(f"availability zone {az!r} is not in {region} ({', '.join(zones)})")
    return az


def seed_outpost(
    backend: Any,
    name: str,
    *,
    mode: str = DEFAULT_MODE,
    intra_vpc: bool = True,
    availability_zone: str | None = None,
    generation: int = 1,
    route_tables: list[dict[str, Any]] | None = None,
) -> Outpost:
    """A rack with its local gateway and LGW route tables (``route_tables``: dicts of
    :class:`TableSpec`'s fields; None: one table named after the rack, in ``mode``, active)."""
    if not name or not isinstance(name, str):
        raise ValueError("name must be a non-empty string")
    if not isinstance(intra_vpc, bool):
        raise ValueError(f"intra_vpc must be a boolean, got {intra_vpc!r}")
    if isinstance(generation, bool) or generation not in MAX_ACTIVE_TABLES:
        raise ValueError(f"generation must be 1 or 2, got {generation!r}")
    specs = table_specs(name, mode, route_tables)
    az = _zone(backend, availability_zone)
    state = state_of(backend)
    with state.lock:
        if name in state.outposts:
            raise ValueError(f"an Outpost named {name!r} is already seeded")
        taken = {t.name for t in state.route_tables.values()} & {s.name for s in specs}
        if taken:
            raise ValueError(f"LGW route table name(s) already seeded: {', '.join(sorted(taken))}")
        outpost_id = hex_id("op")
        outpost = Outpost(
            name=name,
            outpost_id=outpost_id,
            # Format: Outposts API reference (arn:aws:outposts:REGION:ACCOUNT:outpost/op-...).
            arn=f"arn:aws:outposts:{backend.region_name}:{backend.account_id}:outpost/{outpost_id}",
            availability_zone=az,
            intra_vpc=intra_vpc,
            local_gateway_id=new_id("local-gateway"),
            generation=generation,
            mode=specs[0].mode,
        )
        check_active_count(outpost, [s.name for s in specs if s.active])
        gateway = LocalGateway(backend, outpost.local_gateway_id, outpost.arn)
        state.outposts[name] = outpost
        state.local_gateways[gateway.id] = gateway
        if generation == 1:
            _new_vif_group(backend, state, gateway)  # the rack's one VIF group
        for spec in specs:
            table = LocalGatewayRouteTable(backend, gateway, spec.name, spec.mode, spec.state)
            state.route_tables[table.id] = table
            table.add_tags({"Name": spec.name, **spec.tags})
            if spec.active:
                _activate(backend, state, table)
        outpost.local_gateway_route_table_id = state.tables_of(gateway.id)[0].id
        return outpost


def set_lgw_route_table(
    backend: Any, table_id: str, *, state: str | None = None, active: bool | None = None
) -> None:
    """A table changes as AWS changes it (``state``), or gains or loses its VIF group
    (``active``), within its rack's generation rule."""
    if state is not None and state not in TABLE_STATES:
        raise ValueError(f"state must be one of {', '.join(TABLE_STATES)}, got {state!r}")
    if active is not None and not isinstance(active, bool):
        raise ValueError(f"active must be a boolean, got {active!r}")
    outposts = state_of(backend)
    with outposts.lock:
        table = outposts.route_tables.get(table_id)
        if table is None:
            raise ValueError(f"no LGW route table {table_id!r} is seeded")
        association = outposts.vif_association_of(table_id)
        if active and association is None:
            outpost = outposts.outpost_of_lgw(table.local_gateway_id)
            assert outpost is not None
            names = [t.name for t in outposts.active_tables(table.local_gateway_id)]
            check_active_count(outpost, [*names, table.name])
            _activate(backend, outposts, table)
        elif active is False and association is not None:
            del outposts.vif_associations[association.id]
        if state is not None:
            table.state = state


def _new_vif_group(
    backend: Any, state: OutpostState, gateway: LocalGateway
) -> LocalGatewayVirtualInterfaceGroup:
    group = LocalGatewayVirtualInterfaceGroup(backend, gateway)
    state.vif_groups[group.id] = group
    return group


def _activate(backend: Any, state: OutpostState, table: LocalGatewayRouteTable) -> None:
    """Associate the table with a free VIF group of its gateway (a second-generation rack gets
    one per routing domain; a first-generation rack has only its one)."""
    gateway = state.local_gateways[table.local_gateway_id]
    used = {a.local_gateway_virtual_interface_group_id for a in state.vif_associations.values()}
    free = [g for g in state.vif_groups.values() if g.local_gateway_id == gateway.id]
    group = next((g for g in free if g.id not in used), None)
    association = VifGroupAssociation(
        backend, table, group or _new_vif_group(backend, state, gateway)
    )
    state.vif_associations[association.id] = association


def seeded(backend: Any, outpost: Outpost) -> dict[str, Any]:
    """What the control API answers for a rack (its tables as they are now)."""
    state = state_of(backend)
    with state.lock:
        tables = [
            {
                "name": t.name,
                "local_gateway_route_table_id": t.id,
                "mode": t.mode,
                "active": state.vif_association_of(t.id) is not None,
                "state": t.state,
            }
            for t in state.tables_of(outpost.local_gateway_id)
        ]
    return {
        "name": outpost.name,
        "outpost_arn": outpost.arn,
        "outpost_id": outpost.outpost_id,
        "local_gateway_id": outpost.local_gateway_id,
        "local_gateway_route_table_id": outpost.local_gateway_route_table_id,
        "mode": outpost.mode,
        "intra_vpc": outpost.intra_vpc,
        "availability_zone": outpost.availability_zone,
        "generation": outpost.generation,
        "route_tables": tables,
    }


def sandbox_backend(account_id: str, region: str) -> EC2Backend:
    from moto.ec2.models import ec2_backends

    backend: EC2Backend = ec2_backends[account_id][region]
    return backend
