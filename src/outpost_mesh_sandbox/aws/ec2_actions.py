"""EC2 actions the sandbox adds to moto or answers differently: the LGW APIs, subnets on an
Outpost, and Describe answers in pages.

moto's ``EC2Response`` dispatches an action name to a snake_case method and serialises what it
returns through botocore's output shapes. The functions here are those methods (or builders of
them from moto's own); :mod:`outpost_mesh_sandbox.aws.patches` is where they enter moto.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from moto.core.responses import ActionResult
from moto.ec2.models.availability_zones_and_regions import RegionsAndZonesBackend

from outpost_mesh_sandbox.aws import errors, local_gateways, outpost_sharing
from outpost_mesh_sandbox.aws.errors import SandboxEC2Error
from outpost_mesh_sandbox.aws.lgw_models import ASSOCIATION_RESOURCE_TYPE
from outpost_mesh_sandbox.aws.paging import check_max_results, is_continuation, paginate

Action = Callable[[Any], ActionResult]


def _filters(response: Any) -> dict[str, list[str]]:
    result: dict[str, list[str]] = response._filters_from_querystring()
    return result


def _page(response: Any, items: list[Any], key: str) -> ActionResult:
    page, token = paginate(
        response._get_action(),
        items,
        response._get_param("MaxResults"),
        response._get_param("NextToken"),
    )
    return ActionResult({key: page, "NextToken": token})


# -- the LGW APIs (EC2 API reference; moto has none of them) ------------------------------------
Describe = Callable[[Any, list[str], dict[str, list[str]]], list[Any]]


def _described(key: str, ids_param: str, describe: Describe) -> Action:
    """A Describe action of the LGW resources: by ids, filtered, in pages."""

    def action(self: Any) -> ActionResult:
        self.error_on_dryrun()
        items = describe(self.ec2_backend, self._get_param(ids_param, []), _filters(self))
        return _page(self, items, key)

    return action


def create_local_gateway_route_table_vpc_association(self: Any) -> ActionResult:
    self.error_on_dryrun()
    resource_type = ASSOCIATION_RESOURCE_TYPE
    tags = self._parse_tag_specification(resource_type).get(resource_type, {})
    association = local_gateways.create_association(
        self.ec2_backend,
        self._get_param("LocalGatewayRouteTableId"),
        self._get_param("VpcId"),
        tags,
    )
    return ActionResult({"LocalGatewayRouteTableVpcAssociation": association})


def describe_local_gateway_route_table_vpc_associations(self: Any) -> ActionResult:
    self.error_on_dryrun()
    check_max_results(self._get_action(), self._get_param("MaxResults"))  # refused: no look
    items = local_gateways.describe_associations(
        self.ec2_backend,
        self._get_param("LocalGatewayRouteTableVpcAssociationIds", []),
        _filters(self),
        look=not is_continuation(self._get_param("NextToken")),
    )
    return _page(self, items, "LocalGatewayRouteTableVpcAssociations")


def delete_local_gateway_route_table_vpc_association(self: Any) -> ActionResult:
    self.error_on_dryrun()
    association = local_gateways.delete_association(
        self.ec2_backend, self._get_param("LocalGatewayRouteTableVpcAssociationId")
    )
    return ActionResult({"LocalGatewayRouteTableVpcAssociation": association})


#: action method name -> method, for EC2Response.
LGW_ACTIONS: dict[str, Action] = {
    "describe_local_gateways": _described(
        "LocalGateways", "LocalGatewayIds", local_gateways.describe_local_gateways
    ),
    "describe_local_gateway_route_tables": _described(
        "LocalGatewayRouteTables",
        "LocalGatewayRouteTableIds",
        local_gateways.describe_local_gateway_route_tables,
    ),
    "describe_local_gateway_virtual_interface_groups": _described(
        "LocalGatewayVirtualInterfaceGroups",
        "LocalGatewayVirtualInterfaceGroupIds",
        local_gateways.describe_virtual_interface_groups,
    ),
    "describe_local_gateway_route_table_virtual_interface_group_associations": _described(
        "LocalGatewayRouteTableVirtualInterfaceGroupAssociations",
        "LocalGatewayRouteTableVirtualInterfaceGroupAssociationIds",
        local_gateways.describe_virtual_interface_group_associations,
    ),
    "create_local_gateway_route_table_vpc_association": (
        create_local_gateway_route_table_vpc_association
    ),
    "describe_local_gateway_route_table_vpc_associations": (
        describe_local_gateway_route_table_vpc_associations
    ),
    "delete_local_gateway_route_table_vpc_association": (
        delete_local_gateway_route_table_vpc_association
    ),
}


# -- subnets on an Outpost ------------------------------------------------------------------------
def _zone_name_for_id(zone_id: str) -> str | None:
    for zones in RegionsAndZonesBackend.zones.values():
        for zone in zones:
            if zone.zone_id == zone_id:
                return str(zone.name)
    return None


def subnet_filter_value(original: Callable[..., Any]) -> Callable[..., Any]:
    """Subnet.get_filter_value, plus DescribeSubnets' ``outpost-arn`` filter."""

    def get_filter_value(self: Any, filter_name: str, method_name: str | None = None) -> Any:
        if filter_name == "outpost-arn":
            return self.outpost_arn
        return original(self, filter_name, method_name)

    return get_filter_value


def create_subnet_on_outpost(original: Action) -> Action:
    """Subnets.create_subnet, plus ``OutpostArn`` (which must name a seeded rack, in its AZ)."""

    def create_subnet(self: Any) -> ActionResult:
        outpost_arn = self._get_param("OutpostArn")
        if outpost_arn:
            # the account's own rack or one shared with it (RAM)
            outpost = outpost_sharing.outpost_by_arn(self.ec2_backend, outpost_arn)
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
        result = original(self)
        if outpost_arn:
            result.result["Subnet"].outpost_arn = outpost_arn  # type: ignore[index]
        return result

    return create_subnet


# -- Describe answers in pages (aws/paging.py) ----------------------------------------------------
def paged(key: str) -> Callable[[Action], Action]:
    """A builder of moto's Describe method answering one page of its ``key`` list."""

    def build(original: Action) -> Action:
        def describe(self: Any) -> ActionResult:
            shape = dict(original(self).result)  # type: ignore[call-overload]
            shape.update(_page(self, list(shape[key]), key).result)  # type: ignore[call-overload]
            return ActionResult(shape)

        describe.__name__ = getattr(original, "__name__", "describe")
        return describe

    return build
