"""VPCs shared into the sandbox's account by another account (VPC sharing, RAM), for tests.

AWS: participants see the owner's shared VPCs and subnets in Describe calls, with the owner's
``OwnerId``, and cannot change the owner's route tables (docs/aws-facts.md, "Accounts and
sharing"). :func:`share_vpc_in` turns a VPC the sandbox made into such a VPC: DescribeVpcs,
DescribeSubnets and DescribeRouteTables then show the owner's account for it, its subnets and its
route tables, and every change this account makes to its route tables (routes, subnet
associations, new or deleted tables) or to its LGW associations is refused with
:data:`~outpost_mesh_sandbox.aws.errors.ASSUMED_NOT_OWNER`.

:mod:`outpost_mesh_sandbox.aws.patches` installs :func:`owner_id` as the ``owner_id`` of moto's
VPC, Subnet and RouteTable, and :func:`owner_checked` around moto's route table changes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from outpost_mesh_sandbox.aws import errors
from outpost_mesh_sandbox.aws.outposts import state_of

_ACCOUNT_ID = re.compile(r"\d{12}")


def share_vpc_in(backend: Any, vpc_id: str, owner_id: str) -> None:
    """From now on ``vpc_id`` is another account's (``owner_id``) VPC shared into this one."""
    if not isinstance(owner_id, str) or not _ACCOUNT_ID.fullmatch(owner_id):
        raise ValueError(f"owner_id must be a 12-digit account id, got {owner_id!r}")
    if owner_id == backend.account_id:
        raise ValueError(f"owner_id {owner_id} is this account: a shared-in VPC is another's")
    if not isinstance(vpc_id, str) or vpc_id not in backend.vpcs:
        raise ValueError(f"no VPC {vpc_id!r} in the sandbox")
    state = state_of(backend)
    with state.lock:
        state.shared_vpcs[vpc_id] = owner_id


def vpc_owner(backend: Any, vpc_id: str) -> str:
    state = state_of(backend)
    with state.lock:
        return state.shared_vpcs.get(vpc_id, backend.account_id)  # type: ignore[no-any-return]


def owner_id(resource: Any) -> str:
    """``owner_id`` of moto's VPC, Subnet and RouteTable: the VPC owner's account."""
    vpc_id = resource.id if resource.id.startswith("vpc-") else resource.vpc_id
    return vpc_owner(resource.ec2_backend, vpc_id)


def check_owner(backend: Any, vpc_id: str) -> None:
    """Refuse a change to a shared-in VPC's route tables or LGW associations."""
    owner = vpc_owner(backend, vpc_id)
    if owner != backend.account_id:
        raise errors.not_owner(vpc_id, owner)


#: moto RouteBackend method -> the VPC its call changes (from the call's arguments).
VpcOf = Callable[..., str]


def _table_vpc(backend: Any, route_table_id: str, *_: Any, **__: Any) -> str:
    return str(backend.get_route_table(route_table_id).vpc_id)


def _association_vpc(backend: Any, association_id: str, *_: Any, **__: Any) -> str:
    for table in backend.route_tables.values():
        if association_id in table.all_associations_ids:
            return str(table.vpc_id)
    return ""  # moto raises its own NotFound


GUARDED: dict[str, VpcOf] = {
    "create_route_table": lambda backend, vpc_id, *_, **__: vpc_id,
    "delete_route_table": _table_vpc,
    "associate_route_table": _table_vpc,
    "disassociate_route_table": _association_vpc,
    "replace_route_table_association": lambda backend, association_id, route_table_id, **__: (
        _table_vpc(backend, route_table_id)
    ),
}


def owner_checked(vpc_of: VpcOf) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A builder of a moto RouteBackend method that first refuses a shared-in VPC's change."""

    def build(original: Callable[..., Any]) -> Callable[..., Any]:
        def method(self: Any, *args: Any, **kwargs: Any) -> Any:
            vpc_id = vpc_of(self, *args, **kwargs)
            if vpc_id:
                check_owner(self, vpc_id)
            return original(self, *args, **kwargs)

        method.__name__ = getattr(original, "__name__", "method")
        return method

    return build
