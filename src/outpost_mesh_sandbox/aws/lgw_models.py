"""The local gateway resources of a seeded Outpost, shaped as botocore's EC2 model serialises them.

moto's ``EC2Response`` serialises an object through the output shape by attribute name
(``LocalGatewayRouteTableId`` -> ``local_gateway_route_table_id``, ``Tags`` -> the object's tags),
so each class here holds exactly the members of its shape in the service model (``State``,
``Mode``, ...); a member left unset is left out of the answer. Each class lists the Describe
filters of the EC2 API reference; any other filter is refused as EC2 refuses it.

State and rules live in :mod:`outpost_mesh_sandbox.aws.outposts` (seeding) and
:mod:`outpost_mesh_sandbox.aws.local_gateways` (the EC2 operations).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from moto.ec2.models.core import TaggedEC2Resource
from moto.ec2.utils import random_id

from outpost_mesh_sandbox.aws import errors
from outpost_mesh_sandbox.aws.errors import SandboxEC2Error
from outpost_mesh_sandbox.aws.settings import SandboxSettings

#: id prefix per EC2 resource type (the ``ResourceType`` of CreateTags / TagSpecifications and of
#: DescribeTags), from the EC2 API reference's examples and ResourceType enumeration.
RESOURCE_PREFIXES = {
    "local-gateway": "lgw",
    "local-gateway-route-table": "lgw-rtb",
    "local-gateway-route-table-vpc-association": "lgw-vpc-assoc",
    "local-gateway-virtual-interface-group": "lgw-vif-grp",
    "local-gateway-route-table-virtual-interface-group-association": "lgw-vif-grp-assoc",
}
ASSOCIATION_RESOURCE_TYPE = "local-gateway-route-table-vpc-association"
#: Virtual interfaces (lgw-vif-...) are named by their group; the sandbox has no VIF resource.
VIF_PREFIX = "lgw-vif"


def hex_id(prefix: str) -> str:
    """AWS ids: prefix + 17 lowercase hex digits (op-, lgw-rtb-0123456789abcdef0, ...)."""
    return str(random_id(prefix=prefix, size=17))


def new_id(resource_type: str) -> str:
    return hex_id(RESOURCE_PREFIXES[resource_type])


def ec2_arn(backend: Any, resource_type: str, resource_id: str) -> str:
    # ARN format: EC2 API reference examples
    # (arn:aws:ec2:REGION:ACCOUNT:local-gateway-route-table/lgw-rtb-...).
    return f"arn:aws:ec2:{backend.region_name}:{backend.account_id}:{resource_type}/{resource_id}"


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

    def __init__(self, ec2_backend: Any, local_gateway_id: str, outpost_arn: str) -> None:
        self.ec2_backend = ec2_backend
        self.id = local_gateway_id
        self.local_gateway_id = self.id
        self.outpost_arn = outpost_arn
        self.owner_id = ec2_backend.account_id
        self.state = "available"


class LocalGatewayRouteTable(_Filterable):
    """One LGW route table; ``name`` is the sandbox's handle (also its ``Name`` tag)."""

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

    def __init__(
        self, ec2_backend: Any, gateway: LocalGateway, name: str, mode: str, state: str
    ) -> None:
        self.ec2_backend = ec2_backend
        self.id = new_id("local-gateway-route-table")
        self.local_gateway_route_table_id = self.id
        self.local_gateway_route_table_arn = ec2_arn(
            ec2_backend, "local-gateway-route-table", self.id
        )
        self.local_gateway_id = gateway.id
        self.outpost_arn = gateway.outpost_arn
        self.owner_id = ec2_backend.account_id
        self.name = name
        self.state = state
        self.mode = mode


class LocalGatewayVirtualInterfaceGroup(_Filterable):
    # Filters: EC2 API reference, DescribeLocalGatewayVirtualInterfaceGroups.
    FILTERS = {
        "local-gateway-id": lambda o: o.local_gateway_id,
        "local-gateway-virtual-interface-group-id": lambda o: o.id,
        "local-gateway-virtual-interface-id": lambda o: o.local_gateway_virtual_interface_ids,
        "owner-id": lambda o: o.owner_id,
    }

    # ASSUMPTION: two virtual interfaces per group (an Outpost's two network devices each have a
    # VIF in the group, Outposts user guide "Local gateway"); the sandbox answers no describe of
    # the VIFs themselves.
    VIFS_PER_GROUP = 2

    def __init__(self, ec2_backend: Any, gateway: LocalGateway) -> None:
        self.ec2_backend = ec2_backend
        self.id = new_id("local-gateway-virtual-interface-group")
        self.local_gateway_virtual_interface_group_id = self.id
        self.local_gateway_virtual_interface_ids = [
            hex_id(VIF_PREFIX) for _ in range(self.VIFS_PER_GROUP)
        ]
        self.local_gateway_id = gateway.id
        self.owner_id = ec2_backend.account_id
        self.local_gateway_virtual_interface_group_arn = ec2_arn(
            ec2_backend, "local-gateway-virtual-interface-group", self.id
        )
        self.configuration_state = "available"


class LocalGatewayRouteTableVirtualInterfaceGroupAssociation(_Filterable):
    """A table associated with a VIF group: the table carries traffic (it is *active*)."""

    # Filters: EC2 API reference, DescribeLocalGatewayRouteTableVirtualInterfaceGroupAssociations.
    FILTERS = {
        "local-gateway-id": lambda o: o.local_gateway_id,
        "local-gateway-route-table-arn": lambda o: o.local_gateway_route_table_arn,
        "local-gateway-route-table-id": lambda o: o.local_gateway_route_table_id,
        "local-gateway-route-table-virtual-interface-group-association-id": lambda o: o.id,
        "local-gateway-route-table-virtual-interface-group-id": lambda o: (
            o.local_gateway_virtual_interface_group_id
        ),
        "owner-id": lambda o: o.owner_id,
        "state": lambda o: o.state,
    }

    def __init__(
        self,
        ec2_backend: Any,
        table: LocalGatewayRouteTable,
        group: LocalGatewayVirtualInterfaceGroup,
    ) -> None:
        self.ec2_backend = ec2_backend
        self.id = new_id("local-gateway-route-table-virtual-interface-group-association")
        self.local_gateway_route_table_virtual_interface_group_association_id = self.id
        self.local_gateway_virtual_interface_group_id = group.id
        self.local_gateway_id = table.local_gateway_id
        self.local_gateway_route_table_id = table.id
        self.local_gateway_route_table_arn = table.local_gateway_route_table_arn
        self.owner_id = ec2_backend.account_id
        self.state = "associated"


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
        self.id = new_id(ASSOCIATION_RESOURCE_TYPE)
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
