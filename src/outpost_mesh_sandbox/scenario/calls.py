"""A person's API calls on the sandbox: each step's (:func:`run_step_calls`), and those that
seeding (:mod:`.seed`) makes the same way.

``ec2`` is a boto3 EC2 client with the scenario's caller (``sandbox.client("ec2", "scenario")``),
so none of these calls counts as the pipeline's. The :class:`~.ids.IdMap` is kept up to date.

Assumptions, named here once:

- a person waits for an LGW route-table/VPC association only while seeding, by describing it, at
  most :data:`ASSOCIATION_DESCRIBES` times, without sleeping (the sandbox advances a state per
  describe); an ``associate_lgw_route_table`` step makes only the create call, as the format's
  table says (the pipeline's describes move it on);
- ``disassociate_lgw_route_table`` deletes the VPC's live association with that table whoever made
  it, found with a describe (the pipeline's association ids are not the scenario's to know); when
  there is none, nothing is called and the step reports why;
- ``set_main_route_table`` replaces the main association seeding recorded (and remembers the new
  one), so the step makes exactly one call;
- a VPC's ``ipv6_cidr`` names the /56 AWS gives it (``AmazonProvidedIpv6CidrBlock``, as a person
  without their own addresses gets one); a subnet's /64 is created at the same offset in the
  VPC's actual block;
- several accounts: ``ec2`` is the first account's person; every other account's person is a
  client like it signed with that account's scenario key (:func:`person`). A step acts as the
  person of the account of the VPC it changes (:func:`account_of_step`); tagging an LGW route
  table, as its Outpost's owner.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Protocol

import boto3

from outpost_mesh_sandbox.aws.identities import SECRET_KEY, access_key
from outpost_mesh_sandbox.scenario.ids import IdMap
from outpost_mesh_sandbox.scenario.model import (
    LGW_PREFIX,
    AddRouteStep,
    AdvanceClockStep,
    AnswerStep,
    AssociateLgwRouteTableStep,
    AssociateRouteTableStep,
    AssociateVpcCidrStep,
    CreateSubnetStep,
    DeleteRouteStep,
    DeleteSubnetStep,
    DisassociateLgwRouteTableStep,
    DisassociateRouteTableStep,
    EventStep,
    FailStep,
    ReleaseStep,
    RouteSpec,
    Scenario,
    SetMainRouteTableStep,
    Step,
    SubnetSpec,
    SweepStep,
    TagStep,
    TogetherStep,
    UntagStep,
)
from outpost_mesh_sandbox.scenario.placeholders import substitute_placeholders

if TYPE_CHECKING:
    from mypy_boto3_ec2 import EC2Client
    from mypy_boto3_ec2.literals import ResourceTypeType
    from mypy_boto3_ec2.type_defs import (
        CreateRouteRequestTypeDef,
        CreateSubnetRequestTypeDef,
        TagSpecificationTypeDef,
        TagTypeDef,
    )

__all__ = [
    "ASSOCIATION_DESCRIBES",
    "FaultControl",
    "SeedError",
    "account_of_step",
    "apply_fail",
    "associate_lgw",
    "create_route",
    "create_subnet",
    "name_tags",
    "person",
    "run_step_calls",
]

ASSOCIATION_DESCRIBES = 20  # bound on describes while waiting for a seeded LGW association
_LIVE_ASSOCIATION = ("associating", "associated")


class SeedError(RuntimeError):
    """The sandbox did not end up as the scenario says (a seeded association never associated),
    or a step had nothing to call (no association to delete)."""


class FaultControl(Protocol):
    """The part of ``SandboxControl`` that a ``fail`` step uses."""

    def inject_fault(self, action: str, error_code: str, times: int) -> None: ...


def name_tags(
    resource_type: ResourceTypeType, name: str, tags: Iterable[tuple[str, str]] = ()
) -> list[TagSpecificationTypeDef]:
    """The Name tag (the scenario's name) and the scenario's own tags, at creation."""
    pairs: list[TagTypeDef] = [{"Key": "Name", "Value": name}]
    pairs += [{"Key": k, "Value": v} for k, v in tags]
    return [{"ResourceType": resource_type, "Tags": pairs}]


def associate_lgw(ec2: EC2Client, ids: IdMap, vpc: str, table: str, *, wait: int = 0) -> str:
    """CreateLocalGatewayRouteTableVpcAssociation of the VPC with the named LGW route table;
    ``wait``: describe it (at most that many times) until it is associated."""
    table_id = ids.lgw_route_table_id(table)
    outpost = ids.outpost_of_lgw_route_table(table_id) or table
    created = ec2.create_local_gateway_route_table_vpc_association(
        LocalGatewayRouteTableId=table_id, VpcId=ids.vpc_id(vpc)
    )["LocalGatewayRouteTableVpcAssociation"]
    association_id = created["LocalGatewayRouteTableVpcAssociationId"]
    ids.lgw_associations[(vpc, outpost)] = association_id
    state = created.get("State")
    describes = 0
    while wait and state != "associated":
        if describes >= wait or state in ("failed", "disassociated"):
            raise SeedError(
                f"association of VPC {vpc} with LGW route table {table} ({table_id}) is "
                f"{state!r} after {describes} describes"
            )
        found = ec2.describe_local_gateway_route_table_vpc_associations(
            LocalGatewayRouteTableVpcAssociationIds=[association_id]
        )["LocalGatewayRouteTableVpcAssociations"]
        state = found[0].get("State") if found else None
        describes += 1
    return str(association_id)


def _disassociate_lgw(ec2: EC2Client, ids: IdMap, vpc: str, table: str) -> None:
    table_id = ids.lgw_route_table_id(table)
    found = ec2.describe_local_gateway_route_table_vpc_associations(
        Filters=[{"Name": "local-gateway-route-table-id", "Values": [table_id]}]
    )["LocalGatewayRouteTableVpcAssociations"]
    live = [
        a
        for a in found
        if a.get("VpcId") == ids.vpc_id(vpc) and a.get("State") in _LIVE_ASSOCIATION
    ]
    if not live:
        raise SeedError(f"VPC {vpc} has no association with LGW route table {table} to delete")
    association_id = live[0]["LocalGatewayRouteTableVpcAssociationId"]
    ec2.delete_local_gateway_route_table_vpc_association(
        LocalGatewayRouteTableVpcAssociationId=association_id
    )
    outpost = ids.outpost_of_lgw_route_table(table_id) or table
    if ids.lgw_associations.get((vpc, outpost)) == association_id:
        del ids.lgw_associations[(vpc, outpost)]


def create_subnet(ec2: EC2Client, ids: IdMap, subnet: SubnetSpec) -> None:
    """CreateSubnet (on the Outpost, in its AZ, when one is given; with its IPv6 block and tags),
    then AssociateRouteTable."""
    request: CreateSubnetRequestTypeDef = {
        "VpcId": ids.vpc_id(subnet.vpc),
        "CidrBlock": subnet.cidr,
        "AvailabilityZone": ids.subnet_availability_zone(subnet.outpost),
        "TagSpecifications": name_tags("subnet", subnet.name, subnet.tags),
    }
    if subnet.outpost is not None:
        request["OutpostArn"] = ids.outpost(subnet.outpost).outpost_arn
    if subnet.ipv6_cidr is not None:
        request["Ipv6CidrBlock"] = ids.ipv6_in_sandbox(subnet.vpc, subnet.ipv6_cidr)
    subnet_id = ec2.create_subnet(**request)["Subnet"]["SubnetId"]
    ids.add_subnet(subnet.name, subnet_id, subnet.vpc)
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


def create_route(ec2: EC2Client, ids: IdMap, table: str, vpc: str, route: RouteSpec) -> None:
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


def _set_main_route_table(ec2: EC2Client, ids: IdMap, vpc: str, route_table: str) -> None:
    replaced = ec2.replace_route_table_association(
        AssociationId=ids.main_associations[vpc], RouteTableId=ids.route_table_id(route_table)
    )
    ids.main_associations[vpc] = replaced["NewAssociationId"]


def _account_calls(step: Step, ec2: EC2Client, ids: IdMap) -> None:
    """The calls of the steps around the subnets: LGW associations, tags, blocks, main table."""
    if isinstance(step, AssociateLgwRouteTableStep):
        associate_lgw(ec2, ids, step.vpc, step.lgw_route_table)
    elif isinstance(step, DisassociateLgwRouteTableStep):
        _disassociate_lgw(ec2, ids, step.vpc, step.lgw_route_table)
    elif isinstance(step, TagStep):
        tags = substitute_placeholders(dict(step.tags), ids, source=step.label, path="tags")
        ec2.create_tags(
            Resources=[ids.resource_id(step.target_kind, step.target)],
            Tags=[{"Key": k, "Value": v} for k, v in tags.items()],
        )
    elif isinstance(step, UntagStep):
        ec2.delete_tags(
            Resources=[ids.resource_id(step.target_kind, step.target)],
            Tags=[{"Key": k} for k in step.keys],
        )
    elif isinstance(step, AssociateVpcCidrStep):
        ec2.associate_vpc_cidr_block(VpcId=ids.vpc_id(step.vpc), CidrBlock=step.cidr)
    elif isinstance(step, SetMainRouteTableStep):
        _set_main_route_table(ec2, ids, step.vpc, step.route_table)
    else:
        raise TypeError(f"unknown step {step!r}")


_PEOPLE: dict[tuple[str, str], Any] = {}  # (endpoint, access key) -> that person's EC2 client


def person(ec2: EC2Client, ids: IdMap, account: str | None) -> EC2Client:
    """The EC2 client of ``account``'s person: ``ec2`` itself for None (one account) or the
    first account, else a client like ``ec2`` with that account's scenario key."""
    account_id = ids.accounts.get(account or "", ids.account)
    if account is None or account_id == ids.account:
        return ec2
    key = (str(ec2.meta.endpoint_url), access_key("scenario", account_id))
    found = _PEOPLE.get(key)
    if found is None:
        found = _PEOPLE[key] = boto3.session.Session().client(
            "ec2",
            endpoint_url=key[0],
            region_name=ec2.meta.region_name,
            aws_access_key_id=key[1],
            aws_secret_access_key=SECRET_KEY,
            config=ec2.meta.config,
        )
    return found  # type: ignore[no-any-return]


def account_of_step(step: Step, scenario: Scenario, ids: IdMap) -> str | None:
    """The account whose person makes ``step``'s calls: the account of the VPC it changes
    (an LGW route table's owner for tagging one); None with one account or no calls."""
    vpc: str | None = None
    if isinstance(
        step,
        CreateSubnetStep
        | AssociateLgwRouteTableStep
        | DisassociateLgwRouteTableStep
        | AssociateVpcCidrStep
        | SetMainRouteTableStep,
    ):
        vpc = step.vpc
    elif isinstance(step, DeleteSubnetStep):
        vpc = ids.subnet_vpcs.get(step.name)
    elif isinstance(step, AssociateRouteTableStep | DisassociateRouteTableStep):
        vpc = ids.subnet_vpcs.get(step.subnet)
    elif isinstance(step, AddRouteStep | DeleteRouteStep):
        vpc = scenario.vpc_of_route_table(step.route_table)
    elif isinstance(step, TagStep | UntagStep):
        if step.target_kind == "lgw_route_table":
            return scenario.lgw_route_table(step.target)[0].account
        if step.target_kind == "vpc":
            vpc = step.target
        elif step.target_kind == "subnet":
            vpc = ids.subnet_vpcs.get(step.target)
        else:
            vpc = scenario.vpc_of_route_table(step.target)
    return scenario.account_of_vpc(vpc) if vpc is not None else None


def run_step_calls(step: Step, ec2: EC2Client, ids: IdMap, scenario: Scenario) -> None:
    """The API calls of one step, as the format's table says, made by the person of the step's
    account (:func:`account_of_step`; ``ec2`` is the first account's); ``ids`` is kept up to date.

    ``sweep``, ``fail``, ``event``, ``release``, ``advance_clock``, ``approve`` and ``reject`` make
    no calls (the runner plays them; see :func:`apply_fail` for ``fail``). A call AWS refuses
    raises botocore's ClientError, with ``ids`` as it was before that call; SeedError when there
    was nothing to call.
    """
    if isinstance(step, TogetherStep):
        for inner in step.steps:
            run_step_calls(inner, ec2, ids, scenario)
        return
    ec2 = person(ec2, ids, account_of_step(step, scenario, ids))
    if isinstance(step, CreateSubnetStep):
        create_subnet(ec2, ids, step.subnet)
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
        create_route(ec2, ids, step.route_table, vpc, route)
    elif isinstance(step, DeleteRouteStep):
        ec2.delete_route(
            RouteTableId=ids.route_table_id(step.route_table),
            DestinationCidrBlock=step.destination,
        )
    elif not isinstance(
        step, SweepStep | FailStep | EventStep | ReleaseStep | AdvanceClockStep | AnswerStep
    ):
        _account_calls(step, ec2, ids)


def apply_fail(step: FailStep, control: FaultControl) -> None:
    """Make the sandbox answer the next ``times`` calls of ``api`` with ``error``, whoever calls."""
    control.inject_fault(step.api, step.error, times=step.times)
