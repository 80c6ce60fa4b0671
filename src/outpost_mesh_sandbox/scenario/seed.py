"""Make a scenario real in the sandbox, with the API calls a person would make.

:func:`seed` builds the account a scenario describes (before its first step), :func:`run_step_calls`
makes one step's API calls exactly as the format's table says, and both keep the
:class:`~.ids.IdMap` (scenario names <-> sandbox ids) up to date for the runner and the report.

``ec2`` is a boto3 EC2 client with the scenario's caller (``sandbox.client("ec2", "scenario")``),
so none of these calls counts as the pipeline's. Events emitted while seeding are the runner's
business: the format says seeded things have none.

Assumptions, named here once:

- every Outpost is seeded in the region's first AZ (``{region}a``), as are In-Region subnets
  (:data:`~.ids.FIRST_AZ_SUFFIX`);
- seeding waits for a seeded LGW route-table/VPC association by describing it, at most
  :data:`ASSOCIATION_DESCRIBES` times, without sleeping: the sandbox advances a state per describe;
- the internet gateway and the network interface that ``igw`` / ``eni`` targets need are created
  once per VPC at seeding, for seeded routes and for ``add_route`` steps alike, so that steps make
  only the calls the table lists. The interface sits in a seeded subnet no step deletes (preferring
  an In-Region one); the loader guarantees there is one.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Protocol

from outpost_mesh_sandbox.aws.identities import SANDBOX_ACCOUNT
from outpost_mesh_sandbox.scenario.ids import FIRST_AZ_SUFFIX, IdMap, OutpostHandle
from outpost_mesh_sandbox.scenario.model import (
    LGW_PREFIX,
    MAIN_PREFIX,
    AddRouteStep,
    AssociateRouteTableStep,
    CreateSubnetStep,
    DeleteRouteStep,
    DeleteSubnetStep,
    DisassociateRouteTableStep,
    EventStep,
    FailStep,
    RouteSpec,
    Scenario,
    Step,
    SubnetSpec,
    SweepStep,
    TogetherStep,
)

if TYPE_CHECKING:
    from mypy_boto3_ec2 import EC2Client
    from mypy_boto3_ec2.literals import ResourceTypeType
    from mypy_boto3_ec2.type_defs import (
        CreateRouteRequestTypeDef,
        CreateSubnetRequestTypeDef,
        TagSpecificationTypeDef,
    )

__all__ = [
    "ASSOCIATION_DESCRIBES",
    "FaultControl",
    "SeedControl",
    "SeedError",
    "apply_fail",
    "run_step_calls",
    "seed",
]

ASSOCIATION_DESCRIBES = 20  # bound on describes while waiting for a seeded LGW association


class SeedError(RuntimeError):
    """The sandbox did not end up as the scenario says (a seeded association never associated)."""


class SeedControl(Protocol):
    """The part of ``SandboxControl`` that seeding uses."""

    def seed_outpost(
        self, name: str, *, mode: str, intra_vpc: bool, availability_zone: str | None
    ) -> OutpostHandle: ...

    def configure(
        self,
        *,
        routes_per_table: int | None = None,
        throttle: bool | None = None,
        time_scale: float | None = None,
    ) -> None: ...


class FaultControl(Protocol):
    """The part of ``SandboxControl`` that a ``fail`` step uses."""

    def inject_fault(self, action: str, error_code: str, times: int) -> None: ...


def _name_tag(resource_type: ResourceTypeType, name: str) -> list[TagSpecificationTypeDef]:
    return [{"ResourceType": resource_type, "Tags": [{"Key": "Name", "Value": name}]}]


def seed(
    scenario: Scenario,
    ec2: EC2Client,
    control: SeedControl,
    *,
    max_describes: int = ASSOCIATION_DESCRIBES,
) -> IdMap:
    """Build the scenario's account: quota, Outposts, VPCs (and secondary CIDRs), custom route
    tables, subnets (and their explicit associations), the targets seeded routes and ``add_route``
    steps need, LGW associations implied by seeded ``lgw:`` routes, then the seeded routes.

    ``max_describes`` bounds the describes spent waiting for each seeded LGW association; raise
    it if the sandbox is configured with more ``association_describes`` than that.
    """
    region = ec2.meta.region_name
    control.configure(routes_per_table=scenario.quotas.routes_per_table)
    ids = IdMap(account=SANDBOX_ACCOUNT, region=region)
    az = f"{region}{FIRST_AZ_SUFFIX}"
    for outpost in scenario.outposts:
        handle = control.seed_outpost(
            outpost.name, mode=outpost.lgw_mode, intra_vpc=outpost.intra_vpc, availability_zone=az
        )
        ids.add_outpost(outpost.name, handle, az)

    for vpc in scenario.vpcs:
        created = ec2.create_vpc(CidrBlock=vpc.cidr, TagSpecifications=_name_tag("vpc", vpc.name))
        vpc_id = created["Vpc"]["VpcId"]
        ids.account = created["Vpc"].get("OwnerId", ids.account)
        ids.add_vpc(vpc.name, vpc_id)
        for cidr in vpc.secondary_cidrs:
            ec2.associate_vpc_cidr_block(VpcId=vpc_id, CidrBlock=cidr)
        main = ec2.describe_route_tables(
            Filters=[
                {"Name": "vpc-id", "Values": [vpc_id]},
                {"Name": "association.main", "Values": ["true"]},
            ]
        )["RouteTables"]
        ids.add_route_table(f"{MAIN_PREFIX}{vpc.name}", main[0]["RouteTableId"])

    for table in scenario.route_tables:
        created_table = ec2.create_route_table(
            VpcId=ids.vpc_id(table.vpc), TagSpecifications=_name_tag("route-table", table.name)
        )
        ids.add_route_table(table.name, created_table["RouteTable"]["RouteTableId"])

    for subnet in scenario.subnets:
        _create_subnet(ec2, ids, subnet)

    _seed_targets(scenario, ec2, ids)

    for table in scenario.route_tables:
        for route in table.routes:
            if route.outpost is not None:
                _associate_lgw(ec2, ids, table.vpc, route.outpost, max_describes)
            _create_route(ec2, ids, table.name, table.vpc, route)
    if scenario.throttle is not None:  # seeding itself is never throttled
        control.configure(throttle=True, time_scale=scenario.throttle.time_scale)
    return ids


def _seed_targets(scenario: Scenario, ec2: EC2Client, ids: IdMap) -> None:
    """One internet gateway / network interface per VPC that any seeded route or step targets."""
    uses: list[tuple[str, str]] = [
        (table.vpc, route.target) for table in scenario.route_tables for route in table.routes
    ]
    uses += [
        (scenario.vpc_of_route_table(step.route_table), step.target)
        for step in scenario.all_steps()
        if isinstance(step, AddRouteStep)
    ]
    deleted = {s.name for s in scenario.all_steps() if isinstance(s, DeleteSubnetStep)}
    for vpc, target in uses:
        if target == "igw" and vpc not in ids.internet_gateways:
            igw_id = ec2.create_internet_gateway(
                TagSpecifications=_name_tag("internet-gateway", f"{vpc}-igw")
            )["InternetGateway"]["InternetGatewayId"]
            ec2.attach_internet_gateway(InternetGatewayId=igw_id, VpcId=ids.vpc_id(vpc))
            ids.add_internet_gateway(vpc, igw_id)
        elif target == "eni" and vpc not in ids.network_interfaces:
            host = _eni_host(scenario, vpc, deleted)
            eni_id = ec2.create_network_interface(
                SubnetId=ids.subnet_id(host),
                Description=f"appliance of {vpc}",
                TagSpecifications=_name_tag("network-interface", f"{vpc}-appliance"),
            )["NetworkInterface"]["NetworkInterfaceId"]
            ids.add_network_interface(vpc, eni_id)


def _eni_host(scenario: Scenario, vpc: str, deleted: Iterable[str]) -> str:
    gone = set(deleted)
    candidates = [s for s in scenario.subnets if s.vpc == vpc and s.name not in gone]
    in_region = [s for s in candidates if s.outpost is None]
    return (in_region or candidates)[0].name


def _associate_lgw(ec2: EC2Client, ids: IdMap, vpc: str, outpost: str, max_describes: int) -> None:
    """Associate the VPC with the Outpost's LGW route table, once, and wait until associated."""
    if (vpc, outpost) in ids.lgw_associations:
        return
    table_id = ids.outpost(outpost).local_gateway_route_table_id
    created = ec2.create_local_gateway_route_table_vpc_association(
        LocalGatewayRouteTableId=table_id, VpcId=ids.vpc_id(vpc)
    )["LocalGatewayRouteTableVpcAssociation"]
    association_id = created["LocalGatewayRouteTableVpcAssociationId"]
    state = created.get("State")
    describes = 0
    while state != "associated":
        if describes >= max_describes or state in ("failed", "disassociated"):
            raise SeedError(
                f"association of VPC {vpc} with {outpost}'s LGW route table {table_id} is "
                f"{state!r} after {describes} describes"
            )
        found = ec2.describe_local_gateway_route_table_vpc_associations(
            LocalGatewayRouteTableVpcAssociationIds=[association_id]
        )["LocalGatewayRouteTableVpcAssociations"]
        state = found[0].get("State") if found else None
        describes += 1
    ids.lgw_associations[(vpc, outpost)] = association_id


def _create_subnet(ec2: EC2Client, ids: IdMap, subnet: SubnetSpec) -> None:
    """CreateSubnet (on the Outpost, in its AZ, when one is given), then AssociateRouteTable."""
    request: CreateSubnetRequestTypeDef = {
        "VpcId": ids.vpc_id(subnet.vpc),
        "CidrBlock": subnet.cidr,
        "AvailabilityZone": ids.subnet_availability_zone(subnet.outpost),
        "TagSpecifications": _name_tag("subnet", subnet.name),
    }
    if subnet.outpost is not None:
        request["OutpostArn"] = ids.outpost(subnet.outpost).outpost_arn
    subnet_id = ec2.create_subnet(**request)["Subnet"]["SubnetId"]
    ids.add_subnet(subnet.name, subnet_id)
    if subnet.route_table is not None:
        _associate_route_table(ec2, ids, subnet.name, subnet.route_table)


def _associate_route_table(ec2: EC2Client, ids: IdMap, subnet: str, route_table: str) -> None:
    """AssociateRouteTable, or ReplaceRouteTableAssociation when the subnet has an explicit one.

    Only people (the scenario) change subnet associations, never the pipeline, so the map's record
    of explicit associations is the truth and no describe is needed first.
    """
    table_id = ids.route_table_id(route_table)
    current = ids.subnet_associations.get(subnet)
    if current is None:
        association_id = ec2.associate_route_table(
            RouteTableId=table_id, SubnetId=ids.subnet_id(subnet)
        )["AssociationId"]
    else:
        association_id = ec2.replace_route_table_association(
            AssociationId=current, RouteTableId=table_id
        )["NewAssociationId"]
    ids.subnet_associations[subnet] = association_id


def _create_route(ec2: EC2Client, ids: IdMap, table: str, vpc: str, route: RouteSpec) -> None:
    """CreateRoute with the target's id: the Outpost's LGW, the VPC's IGW or its ENI."""
    target = route.target
    request: CreateRouteRequestTypeDef = {
        "RouteTableId": ids.route_table_id(table),
        "DestinationCidrBlock": route.destination,
    }
    if target.startswith(LGW_PREFIX):
        request["LocalGatewayId"] = ids.outpost(target[len(LGW_PREFIX) :]).local_gateway_id
    elif target == "igw":
        request["GatewayId"] = ids.internet_gateways[vpc]
    elif target == "eni":
        request["NetworkInterfaceId"] = ids.network_interfaces[vpc]
    else:
        raise KeyError(f"unknown target {target!r}")
    ec2.create_route(**request)


def run_step_calls(step: Step, ec2: EC2Client, ids: IdMap, scenario: Scenario) -> None:
    """The API calls of one step, as the format's table says; ``ids`` is kept up to date.

    ``sweep``, ``fail`` and ``event`` make no calls (see :func:`apply_fail` for ``fail``).
    A call AWS refuses raises botocore's ClientError, with ``ids`` as it was before that call.
    """
    if isinstance(step, CreateSubnetStep):
        _create_subnet(ec2, ids, step.subnet)
    elif isinstance(step, DeleteSubnetStep):
        ec2.delete_subnet(SubnetId=ids.subnet_id(step.name))
        ids.remove_subnet(step.name)
    elif isinstance(step, AssociateRouteTableStep):
        _associate_route_table(ec2, ids, step.subnet, step.route_table)
    elif isinstance(step, DisassociateRouteTableStep):
        ec2.disassociate_route_table(AssociationId=ids.subnet_associations[step.subnet])
        del ids.subnet_associations[step.subnet]
    elif isinstance(step, AddRouteStep):
        vpc = scenario.vpc_of_route_table(step.route_table)
        route = RouteSpec(step.destination, step.target)
        _create_route(ec2, ids, step.route_table, vpc, route)
    elif isinstance(step, DeleteRouteStep):
        ec2.delete_route(
            RouteTableId=ids.route_table_id(step.route_table),
            DestinationCidrBlock=step.destination,
        )
    elif isinstance(step, TogetherStep):
        for inner in step.steps:
            run_step_calls(inner, ec2, ids, scenario)
    elif not isinstance(step, SweepStep | FailStep | EventStep):
        raise TypeError(f"unknown step {step!r}")


def seed_and_run_steps(scenario: Scenario, ec2: EC2Client, control: SeedControl) -> IdMap:
    """The account as the scenario leaves it: :func:`seed`, then every step's calls made with
    ``ec2`` (a person's client), as ``outpost-mesh sandbox up`` serves it."""
    ids = seed(scenario, ec2, control)
    for step in scenario.steps:
        run_step_calls(step, ec2, ids, scenario)
    return ids


def apply_fail(step: FailStep, control: FaultControl) -> None:
    """Make the sandbox answer the next ``times`` calls of ``api`` with ``error``, whoever calls."""
    control.inject_fault(step.api, step.error, times=step.times)
