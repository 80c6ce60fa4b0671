"""The EC2 operations on local gateway resources, with the rules AWS enforces on them.

:mod:`outpost_mesh_sandbox.aws.ec2_actions` answers the EC2 actions with these;
:mod:`outpost_mesh_sandbox.aws.outposts` holds the state they read. VPC associations move
``associating`` -> ``associated`` | ``failed`` and ``disassociating`` -> ``disassociated`` as
they are described (the pace is a knob of :mod:`outpost_mesh_sandbox.aws.settings`).

CreateLocalGatewayRouteTableVpcAssociation is checked in this order: the table exists; the VPC
exists; the VPC is this account's (:mod:`outpost_mesh_sandbox.aws.sharing`); the table is
``available``; the VPC has no live association with the same table (already associated) nor with
another table of the same local gateway (one routing domain per Outpost). A CoIP table takes
associations like any other (a VPC can be in a CoIP domain). A table shared with the account
(:mod:`outpost_mesh_sandbox.aws.outpost_sharing`) takes its VPCs' associations, kept with the
table in its owner's state.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from outpost_mesh_sandbox.aws import errors, outpost_sharing, sharing
from outpost_mesh_sandbox.aws.errors import SandboxEC2Error
from outpost_mesh_sandbox.aws.lgw_models import (
    ASSOCIATION_RESOURCE_TYPE,
    RESOURCE_PREFIXES,
    LocalGatewayRouteTable,
    LocalGatewayRouteTableVpcAssociation,
)
from outpost_mesh_sandbox.aws.outposts import ACTIVE_ASSOCIATION_STATES, OutpostState, state_of
from outpost_mesh_sandbox.aws.paging import apply_filters
from outpost_mesh_sandbox.aws.settings import current_settings, take_association_failure

Filters = dict[str, list[str]]


#: LGW resource type -> where its objects are kept (OutpostState), the code for an unknown id, and
#: the noun of its message ("The localGateway ID 'lgw-...' does not exist").
_RESOURCES = {
    "local-gateway": ("local_gateways", errors.ASSUMED_LGW_NOT_FOUND, "localGateway"),
    "local-gateway-route-table": (
        "route_tables",
        errors.LGW_ROUTE_TABLE_NOT_FOUND,
        "localGatewayRouteTable",
    ),
    "local-gateway-route-table-vpc-association": (
        "associations",
        errors.ASSOCIATION_NOT_FOUND,
        "localGatewayRouteTableVpcAssociation",
    ),
    "local-gateway-virtual-interface-group": (
        "vif_groups",
        errors.ASSUMED_VIF_GROUP_NOT_FOUND,
        "localGatewayVirtualInterfaceGroup",
    ),
    "local-gateway-route-table-virtual-interface-group-association": (
        "vif_associations",
        errors.ASSUMED_VIF_GROUP_ASSOCIATION_NOT_FOUND,
        "localGatewayRouteTableVirtualInterfaceGroupAssociation",
    ),
}


def _not_found(resource_type: str, resource_id: str) -> SandboxEC2Error:
    _, code, noun = _RESOURCES[resource_type]
    return SandboxEC2Error(code, f"The {noun} ID '{resource_id}' does not exist")


def _select_ids(backend: Any, resource_type: str, ids: list[str] | None) -> list[Any]:
    """What the account sees (its own and what is shared with it), by ids or all."""
    items = outpost_sharing.visible(backend, _RESOURCES[resource_type][0])
    if not ids:
        return list(items.values())
    for wanted in ids:
        if wanted not in items:
            raise _not_found(resource_type, wanted)
    return [items[i] for i in items if i in set(ids)]


def _describer(resource_type: str) -> Callable[[Any, list[str] | None, Filters], list[Any]]:
    def describe(backend: Any, ids: list[str] | None, filters: Filters) -> list[Any]:
        state = state_of(backend)
        with state.lock:
            return apply_filters(_select_ids(backend, resource_type, ids), filters)

    return describe


describe_local_gateways = _describer("local-gateway")
describe_local_gateway_route_tables = _describer("local-gateway-route-table")
describe_virtual_interface_groups = _describer("local-gateway-virtual-interface-group")
describe_virtual_interface_group_associations = _describer(
    "local-gateway-route-table-virtual-interface-group-association"
)


def _check_one_domain(state: OutpostState, table: LocalGatewayRouteTable, vpc_id: str) -> None:
    live = state.vpc_associations(vpc_id, table.local_gateway_id, ACTIVE_ASSOCIATION_STATES)
    for existing in live:
        if existing.local_gateway_route_table_id == table.id:
            raise SandboxEC2Error(
                errors.ASSUMED_ALREADY_ASSOCIATED,
                f"VPC {vpc_id} is already associated with local gateway route table "
                f"{table.id} ({existing.id}).",
            )
        # "VPCs are exclusively associated with one LGW routing domain per Outpost"
        # (docs/aws-facts.md, "Several LGW route tables per Outpost (routing domains)").
        raise SandboxEC2Error(
            errors.ASSUMED_DOMAIN_TAKEN,
            errors.domain_taken_message(
                vpc_id, table.id, existing.local_gateway_route_table_id, existing.id
            ),
        )


def create_association(
    backend: Any, table_id: str, vpc_id: str, tags: dict[str, str]
) -> LocalGatewayRouteTableVpcAssociation:
    # A shared table's associations are kept with it, in its owner's state.
    state = outpost_sharing.home_of_table(backend, table_id) or state_of(backend)
    with state.lock:
        table = state.route_tables.get(table_id)
        if table is None:
            raise _not_found("local-gateway-route-table", table_id)
        backend.get_vpc(vpc_id)  # InvalidVpcID.NotFound, as moto raises it
        sharing.check_owner(backend, vpc_id)
        if table.state != "available":
            raise SandboxEC2Error(
                errors.ASSUMED_TABLE_NOT_AVAILABLE,
                f"The local gateway route table {table_id} is in state '{table.state}'; it "
                "must be 'available' to be associated with a VPC.",
            )
        _check_one_domain(state, table, vpc_id)
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
            for association in outpost_sharing.visible(backend, "associations").values():
                association.advance(settings)
        items = _select_ids(backend, ASSOCIATION_RESOURCE_TYPE, ids)
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
    state = outpost_sharing.home_of_association(backend, association_id) or state_of(backend)
    with state.lock:
        association = state.associations.get(association_id)
        # ASSUMPTION: a disassociated association is gone for Delete (NotFound) although
        # describes may still list it for a while; a second Delete while it is disassociating
        # returns it unchanged. AWS documents neither.
        if association is None or association.state == "disassociated":
            raise _not_found(ASSOCIATION_RESOURCE_TYPE, association_id)
        sharing.check_owner(backend, association.vpc_id)
        if association.state != "disassociating":
            association.state = "disassociating"
            association.describes_seen = 0
        return copy.copy(association)


# -- tags on LGW resources (CreateTags / DeleteTags; aws/patches.py registers the prefixes) ----
#: Longest prefix first, so lgw-vif-grp-assoc-... is not read as lgw-vif-grp-... or lgw-...
_BY_PREFIX = sorted(
    ((RESOURCE_PREFIXES[kind], kind) for kind in _RESOURCES), key=lambda p: -len(p[0])
)


def resource_type_of(resource_id: str) -> str | None:
    """The LGW resource type an id names (by its prefix), or None."""
    return next((kind for prefix, kind in _BY_PREFIX if resource_id.startswith(f"{prefix}-")), None)


def check_resources_exist(backend: Any, resource_ids: list[str]) -> list[str]:
    """Raise NotFound for an LGW id that names nothing; return the ids that are not LGW ones."""
    state = state_of(backend)
    others = []
    with state.lock:
        for resource_id in resource_ids:
            kind = resource_type_of(resource_id)
            if kind is None:
                others.append(resource_id)
                continue
            _select_ids(backend, kind, [resource_id])
    return others


def prefix_aware(original: Callable[[str], str | None]) -> Callable[[str], str | None]:
    """moto's ``get_prefix``, plus the LGW prefixes (moto reads lgw-rtb-... as ``lgw``)."""

    def get_prefix(resource_id: str) -> str | None:
        kind = resource_type_of(resource_id)
        return RESOURCE_PREFIXES[kind] if kind else original(resource_id)

    return get_prefix


def existence_checked(original: Callable[..., bool]) -> Callable[..., bool]:
    """``EC2Backend.do_resources_exist`` (CreateTags' check), plus the LGW resources."""

    def do_resources_exist(self: Any, resource_ids: list[str]) -> bool:
        return original(self, check_resources_exist(self, resource_ids))

    return do_resources_exist
