"""Route rules for moto's EC2: LocalGatewayId targets and what AWS enforces on routes.

Installed in moto by :mod:`outpost_mesh_sandbox.aws.patches`. Sources are docs/aws-facts.md
sections unless a comment says otherwise. Checked on CreateRoute, in this order:

1. the route table exists (moto: ``InvalidRouteTableID.NotFound``) and its VPC is this account's
   (a shared-in VPC's tables are refused, :mod:`outpost_mesh_sandbox.aws.sharing`);
2. the destination is a valid CIDR (moto), canonicalised as AWS does ("we modify the specified
   CIDR block to its canonical form", CreateRoute reference);
3. a ``LocalGatewayId`` target: the LGW exists; the VPC is associated (state ``associated``) with
   one of that LGW's route tables; the table serves only subnets of that LGW's Outpost (a main table
   serves every VPC subnet without an explicit association); on a rack without the intra-VPC
   update, a destination equal to or more specific than a VPC CIDR is refused with AWS's text;
4. a duplicate destination, including one equal to a VPC CIDR (the local route's), gives
   ``RouteAlreadyExists``;
5. a destination more specific than a VPC CIDR must be exactly some subnet's CIDR of the VPC;
6. the routes-per-table quota (non-local IPv4 routes) gives ``RouteLimitExceeded``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import Any

from moto.core.responses import ActionResult, EmptyResult
from moto.ec2.exceptions import InvalidDestinationCIDRBlockParameterError
from moto.ec2.models.route_tables import Route, RouteTable
from moto.ec2.utils import generate_route_id

from outpost_mesh_sandbox.aws import errors, outpost_sharing
from outpost_mesh_sandbox.aws.errors import SandboxEC2Error
from outpost_mesh_sandbox.aws.settings import current_settings
from outpost_mesh_sandbox.aws.sharing import check_owner

IPv4 = ipaddress.IPv4Network


def _canonical_ipv4(cidr: str) -> IPv4:
    try:
        return ipaddress.IPv4Network(str(cidr), strict=False)
    except ValueError as exc:
        raise InvalidDestinationCIDRBlockParameterError(cidr) from exc


def vpc_ipv4_cidrs(backend: Any, vpc_id: str) -> list[IPv4]:
    vpc = backend.get_vpc(vpc_id)
    return [
        ipaddress.IPv4Network(str(c["cidr_block"]), strict=False)
        for c in vpc.get_cidr_block_association_set(ipv6=False)
    ]


def served_subnets(backend: Any, route_table: RouteTable) -> list[Any]:
    """Subnets whose effective route table is ``route_table``: its explicit associations and,
    for a main table, every subnet of the VPC without an explicit association."""
    explicit: dict[str, str] = {}
    for table in backend.route_tables.values():
        if table.vpc_id != route_table.vpc_id:
            continue
        for target in table._associations.values():
            if target.startswith("subnet-"):
                explicit[target] = table.id
    served = []
    for subnet in backend.describe_subnets(filters={"vpc-id": [route_table.vpc_id]}):
        owner = explicit.get(subnet.id)
        if owner == route_table.id or (owner is None and route_table.main_association_id):
            served.append(subnet)
    return served


def check_lgw_target(
    backend: Any, route_table: RouteTable, lgw_id: str, destination: IPv4 | None
) -> None:
    # The account's own LGW or one of an Outpost shared with it (a consumer targets the shared
    # LGW: a named assumption, docs/aws-facts.md "Accounts and sharing").
    home = outpost_sharing.home_of_gateway(backend, lgw_id)
    if home is None:
        raise SandboxEC2Error(
            errors.ASSUMED_LGW_NOT_FOUND, f"The localGateway ID '{lgw_id}' does not exist"
        )
    state, outpost = home
    # "can only be used in route tables where the VPC has been associated with an LGW": any of
    # the LGW's route tables (docs/aws-facts.md, "Several LGW route tables per Outpost (routing
    # domains)").
    if not state.is_vpc_associated_with_lgw(route_table.vpc_id, lgw_id):
        raise SandboxEC2Error(
            errors.ASSUMED_LGW_NOT_ASSOCIATED,
            f"route table {route_table.id} and network gateway {lgw_id} belong to different "
            "networks",
        )
    # "can only be used in VPC and subnet route tables that are associated with an Outpost rack";
    # a main table shared with an In-Region subnet must be refused.
    for subnet in served_subnets(backend, route_table):
        if subnet.outpost_arn != outpost.arn:
            raise SandboxEC2Error(
                errors.ASSUMED_LGW_TABLE_NOT_OUTPOST_ONLY,
                f"Route table {route_table.id} is associated with subnet {subnet.id}, which is "
                f"not on Outpost {outpost.arn}: local gateway {lgw_id} can only be a target in "
                "route tables of that Outpost's subnets.",
            )
    # A rack without the intra-VPC update (docs/aws-facts.md "The feature being automated").
    if destination is not None and not outpost.intra_vpc:
        cidrs = vpc_ipv4_cidrs(backend, route_table.vpc_id)
        if any(destination.subnet_of(cidr) for cidr in cidrs):
            raise SandboxEC2Error(
                errors.INVALID_PARAMETER_VALUE,
                errors.intra_vpc_not_supported_message(str(destination)),
            )


def check_more_specific(backend: Any, route_table: RouteTable, destination: IPv4) -> None:
    # VPC user guide: the destination of a route more specific than the local route "must match
    # the entire CIDR block of a subnet in your VPC" (any target).
    cidrs = vpc_ipv4_cidrs(backend, route_table.vpc_id)
    if not any(destination.subnet_of(c) and destination != c for c in cidrs):
        return
    subnet_cidrs = {
        ipaddress.IPv4Network(str(s.cidr_block), strict=False)
        for s in backend.describe_subnets(filters={"vpc-id": [route_table.vpc_id]})
        if s.cidr_block
    }
    if destination not in subnet_cidrs:
        raise SandboxEC2Error(
            errors.ASSUMED_NOT_A_SUBNET_CIDR,
            f"The destination CIDR block {destination} is more specific than one of this VPC's "
            "CIDR blocks but does not match the CIDR block of any subnet in the VPC.",
        )


def count_quota_routes(route_table: RouteTable) -> int:
    # docs/aws-facts.md "Quotas and throttling": non-propagated routes, IPv4 and IPv6 counted
    # apart; the local route is not counted (assumption: AWS's quota excludes the local routes
    # it creates itself).
    return sum(1 for r in route_table._routes.values() if not r.local and r.destination_cidr_block)


def route_state(route: Route) -> str:
    """Route.state: ``blackhole`` for a route to an LGW the VPC is no longer associated with."""
    # ASSUMPTION: a route to an LGW whose route table is no longer associated with the VPC shows
    # `blackhole`, as routes to deleted NAT gateways or detached gateways do.
    lgw_id = getattr(route, "local_gateway_id", None)
    if lgw_id:
        home = outpost_sharing.home_of_gateway(route.route_table.ec2_backend, lgw_id)
        if home is None or not home[0].is_vpc_associated_with_lgw(route.route_table.vpc_id, lgw_id):
            return "blackhole"
    return "active"


def table_filter_value(original: Callable[..., Any]) -> Callable[..., Any]:
    """RouteTable.get_filter_value, plus DescribeRouteTables' ``route.local-gateway-id``."""

    def get_filter_value(self: Any, filter_name: str, method_name: str | None = None) -> Any:
        if filter_name == "route.local-gateway-id":
            return [r.local_gateway_id for r in self._routes.values() if r.local_gateway_id]
        return original(self, filter_name, method_name)

    return get_filter_value


def checked_create_route(original: Callable[..., Route]) -> Callable[..., Route]:
    """RouteBackend.create_route with the rules above and a ``local_gateway_id`` target."""

    def create_route(  # noqa: PLR0917 (mirrors moto's positional signature)
        self: Any,
        route_table_id: str,
        destination_cidr_block: str | None,
        destination_ipv6_cidr_block: str | None = None,
        destination_prefix_list_id: str | None = None,
        local: bool = False,
        *args: Any,
        local_gateway_id: str | None = None,
        **kwargs: Any,
    ) -> Route:
        if local:
            return original(
                self,
                route_table_id,
                destination_cidr_block,
                destination_ipv6_cidr_block,
                destination_prefix_list_id,
                local,
                *args,
                **kwargs,
            )
        route_table = self.get_route_table(route_table_id)
        check_owner(self, route_table.vpc_id)
        destination = None
        if destination_cidr_block:
            destination = _canonical_ipv4(destination_cidr_block)
            destination_cidr_block = str(destination)
        if local_gateway_id:
            check_lgw_target(self, route_table, local_gateway_id, destination)
        if destination is not None:
            existing = route_table._routes.get(generate_route_id(route_table.id, str(destination)))
            if existing is not None:
                # Covers a destination equal to a VPC CIDR too: the local route holds it, and moto
                # would otherwise silently overwrite it.
                raise errors.route_already_exists(route_table.id, str(destination))
            check_more_specific(self, route_table, destination)
            limit = current_settings().routes_per_table
            if count_quota_routes(route_table) >= limit:
                raise errors.route_limit_exceeded(route_table.id, limit)
        route = original(
            self,
            route_table_id,
            destination_cidr_block,
            destination_ipv6_cidr_block,
            destination_prefix_list_id,
            local,
            *args,
            **kwargs,
        )
        route.local_gateway_id = local_gateway_id or None  # type: ignore[attr-defined]
        return route

    return create_route


def checked_replace_route(original: Callable[..., Route]) -> Callable[..., Route]:
    """RouteBackend.replace_route with the LGW target rules and a ``local_gateway_id``."""

    def replace_route(
        self: Any,
        route_table_id: str,
        destination_cidr_block: str,
        *args: Any,
        local_gateway_id: str | None = None,
        **kwargs: Any,
    ) -> Route:
        route_table = self.get_route_table(route_table_id)
        check_owner(self, route_table.vpc_id)
        destination = None
        if destination_cidr_block:
            destination = _canonical_ipv4(destination_cidr_block)
            destination_cidr_block = str(destination)
        # Validate only when the route exists; moto answers a missing one itself.
        if (
            local_gateway_id
            and destination is not None
            and generate_route_id(route_table.id, str(destination)) in route_table._routes
        ):
            check_lgw_target(self, route_table, local_gateway_id, destination)
        route = original(self, route_table_id, destination_cidr_block, *args, **kwargs)
        route.local_gateway_id = local_gateway_id or None  # type: ignore[attr-defined]
        return route

    return replace_route


def checked_delete_route(original: Callable[..., Route]) -> Callable[..., Route]:
    """RouteBackend.delete_route that refuses the local route, as AWS does."""

    def delete_route(
        self: Any,
        route_table_id: str,
        destination_cidr_block: str | None,
        destination_ipv6_cidr_block: str | None = None,
        destination_prefix_list_id: str | None = None,
    ) -> Route:
        route_table = self.get_route_table(route_table_id)
        check_owner(self, route_table.vpc_id)
        if destination_cidr_block and not destination_ipv6_cidr_block:
            destination_cidr_block = str(_canonical_ipv4(destination_cidr_block))
            route = route_table._routes.get(
                generate_route_id(route_table.id, destination_cidr_block)
            )
            if route is not None and route.local:
                # AWS refuses to delete the local route (moto deletes it).
                raise SandboxEC2Error(
                    errors.INVALID_PARAMETER_VALUE,
                    f"cannot remove local route {destination_cidr_block} in route table "
                    f"{route_table_id}",
                )
        # moto raises InvalidRoute.NotFound for a missing route (docs/aws-facts.md "Routes").
        deleted: Route = original(
            self,
            route_table_id,
            destination_cidr_block,
            destination_ipv6_cidr_block,
            destination_prefix_list_id,
        )
        return deleted

    return delete_route


def create_route_response(self: Any) -> ActionResult:
    """moto's RouteTables.create_route plus ``LocalGatewayId``."""
    self.ec2_backend.create_route(
        self._get_param("RouteTableId"),
        self._get_param("DestinationCidrBlock"),
        self._get_param("DestinationIpv6CidrBlock"),
        self._get_param("DestinationPrefixListId"),
        gateway_id=self._get_param("GatewayId"),
        instance_id=self._get_param("InstanceId"),
        nat_gateway_id=self._get_param("NatGatewayId"),
        egress_only_igw_id=self._get_param("EgressOnlyInternetGatewayId"),
        transit_gateway_id=self._get_param("TransitGatewayId"),
        interface_id=self._get_param("NetworkInterfaceId"),
        vpc_peering_connection_id=self._get_param("VpcPeeringConnectionId"),
        carrier_gateway_id=self._get_param("CarrierGatewayId"),
        vpc_endpoint_id=self._get_param("VpcEndpointId"),
        local_gateway_id=self._get_param("LocalGatewayId"),
    )
    return ActionResult({"Return": True})


def replace_route_response(self: Any) -> ActionResult:
    """moto's RouteTables.replace_route plus ``LocalGatewayId``."""
    self.ec2_backend.replace_route(
        self._get_param("RouteTableId"),
        self._get_param("DestinationCidrBlock"),
        self._get_param("DestinationIpv6CidrBlock"),
        self._get_param("DestinationPrefixListId"),
        self._get_param("NatGatewayId"),
        self._get_param("EgressOnlyInternetGatewayId"),
        self._get_param("TransitGatewayId"),
        gateway_id=self._get_param("GatewayId"),
        instance_id=self._get_param("InstanceId"),
        interface_id=self._get_param("NetworkInterfaceId"),
        vpc_peering_connection_id=self._get_param("VpcPeeringConnectionId"),
        local_gateway_id=self._get_param("LocalGatewayId"),
    )
    return EmptyResult()
