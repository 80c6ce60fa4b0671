"""Make a scenario real in the sandbox, with the API calls a person would make.

:func:`seed` builds the account a scenario describes (before its first step) and keeps the
:class:`~.ids.IdMap` (scenario names <-> sandbox ids) up to date for the runner and the report;
each step's calls are :mod:`.calls`' (:func:`run_step_calls`, re-exported here).

``ec2`` is a boto3 EC2 client with the scenario's caller (``sandbox.client("ec2", "scenario")``),
so none of these calls counts as the pipeline's. Events emitted while seeding are the runner's
business: the format says seeded things have none.

Assumptions, named here once:

- every Outpost is seeded in the region's first AZ (``{region}a``), as are In-Region subnets
  (:data:`~.ids.FIRST_AZ_SUFFIX`);
- seeding waits for each LGW route-table/VPC association it makes (``lgw_associations``, and the
  one a seeded ``lgw:OUTPOST`` route implies: with the Outpost's first available table, unless
  the VPC is associated with one of its tables already) by describing it, at most
  ``max_describes`` times, without sleeping: the sandbox advances a state per describe;
- the internet gateway and the network interface that ``igw`` / ``eni`` targets need are created
  once per VPC at seeding, for seeded routes and for ``add_route`` steps alike, so that steps make
  only the calls the table lists. The interface sits in a seeded subnet no step deletes (preferring
  an In-Region one); the loader guarantees there is one;
- several accounts (``accounts``): the first is the sandbox's own account, the others get ids of
  their own (:func:`~.ids.account_ids`); each Outpost is seeded in its owner's account and shared
  (RAM) with the accounts of its ``shared_with``; each VPC, with its route tables, subnets,
  targets, LGW associations and routes, is made by its account's person
  (:func:`~.calls.person`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Protocol

from outpost_mesh_sandbox.aws.identities import SANDBOX_ACCOUNT
from outpost_mesh_sandbox.scenario.calls import (
    ASSOCIATION_DESCRIBES,
    FaultControl,
    SeedError,
    apply_fail,
    associate_lgw,
    create_route,
    create_subnet,
    name_tags,
    person,
    run_step_calls,
)
from outpost_mesh_sandbox.scenario.ids import FIRST_AZ_SUFFIX, IdMap, OutpostHandle, account_ids
from outpost_mesh_sandbox.scenario.model import (
    MAIN_PREFIX,
    AddRouteStep,
    DeleteSubnetStep,
    OutpostSpec,
    Scenario,
    VpcSpec,
)

if TYPE_CHECKING:
    from mypy_boto3_ec2 import EC2Client

__all__ = [
    "ASSOCIATION_DESCRIBES",
    "FaultControl",
    "SeedControl",
    "SeedError",
    "apply_fail",
    "run_step_calls",
    "seed",
    "seed_and_run_steps",
]


class SeedControl(Protocol):
    """The part of ``SandboxControl`` that seeding uses."""

    def seed_outpost(
        self,
        name: str,
        *,
        mode: str = ...,
        intra_vpc: bool = ...,
        availability_zone: str | None = ...,
        generation: int = ...,
        route_tables: list[dict[str, Any]] | None = ...,
        account_id: str | None = ...,
    ) -> OutpostHandle: ...

    def share_outpost(
        self, outpost: str, owner_id: str, consumer_id: str, *, shared: bool = ...
    ) -> None: ...

    def configure(
        self,
        *,
        routes_per_table: int | None = None,
        throttle: bool | None = None,
        time_scale: float | None = None,
    ) -> None: ...


def _seed_outpost(control: SeedControl, outpost: OutpostSpec, az: str, ids: IdMap) -> OutpostHandle:
    """The rack, with its LGW route tables as the scenario lists them (else the default one), in
    its owner's account (the sandbox's with one account), shared as the scenario says."""
    owner = ids.accounts.get(outpost.account or "")
    seeded = _seed_rack(control, outpost, az, {"account_id": owner} if owner else {})
    for consumer in outpost.shared_with:
        control.share_outpost(
            outpost.name, ids.accounts[outpost.account or ""], ids.accounts[consumer]
        )
    return seeded


def _seed_rack(
    control: SeedControl, outpost: OutpostSpec, az: str, where: dict[str, Any]
) -> OutpostHandle:
    if not outpost.lgw_route_tables:
        return control.seed_outpost(
            outpost.name,
            mode=outpost.lgw_mode,
            intra_vpc=outpost.intra_vpc,
            availability_zone=az,
            generation=outpost.generation,
            **where,
        )
    tables = [
        {
            "name": t.name,
            "mode": t.mode,
            "active": t.active,
            "state": t.state,
            "tags": dict(t.tags),
        }
        for t in outpost.lgw_route_tables
    ]
    return control.seed_outpost(
        outpost.name,
        intra_vpc=outpost.intra_vpc,
        availability_zone=az,
        generation=outpost.generation,
        route_tables=tables,
        **where,
    )


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
    ids.accounts = account_ids(scenario.accounts, SANDBOX_ACCOUNT)
    az = f"{region}{FIRST_AZ_SUFFIX}"
    for outpost in scenario.outposts:
        ids.add_outpost(outpost.name, _seed_outpost(control, outpost, az, ids), az)

    def of(vpc: str) -> EC2Client:
        return person(ec2, ids, scenario.account_of_vpc(vpc))

    for vpc in scenario.vpcs:
        _create_vpc(of(vpc.name), ids, vpc)

    for table in scenario.route_tables:
        created_table = of(table.vpc).create_route_table(
            VpcId=ids.vpc_id(table.vpc),
            TagSpecifications=name_tags("route-table", table.name, table.tags),
        )
        ids.add_route_table(table.name, created_table["RouteTable"]["RouteTableId"])

    for subnet in scenario.subnets:
        create_subnet(of(subnet.vpc), ids, subnet)

    _seed_targets(scenario, of, ids)

    for association in scenario.lgw_associations:
        owner = of(association.vpc)
        associate_lgw(owner, ids, association.vpc, association.lgw_route_table, wait=max_describes)
    for table in scenario.route_tables:
        for route in table.routes:
            rack = route.outpost
            if rack is not None and (table.vpc, rack) not in ids.lgw_associations:
                first = _first_available(scenario.outpost(rack))
                associate_lgw(of(table.vpc), ids, table.vpc, first, wait=max_describes)
            create_route(of(table.vpc), ids, table.name, table.vpc, route)
    if scenario.throttle is not None:  # seeding itself is never throttled
        control.configure(throttle=True, time_scale=scenario.throttle.time_scale)
    return ids


def _first_available(outpost: OutpostSpec) -> str:
    """The table a seeded ``lgw:`` route implies (the loader made sure one is available)."""
    return next(t.name for t in outpost.tables if t.state == "available")


def _create_vpc(ec2: EC2Client, ids: IdMap, vpc: VpcSpec) -> None:
    """CreateVpc (with an Amazon-provided IPv6 /56 when the scenario names one), its secondary
    blocks; the main route table and its main association are recorded."""
    name, ipv6_cidr = vpc.name, vpc.ipv6_cidr
    created = ec2.create_vpc(
        CidrBlock=vpc.cidr,
        AmazonProvidedIpv6CidrBlock=ipv6_cidr is not None,
        TagSpecifications=name_tags("vpc", name, vpc.tags),
    )["Vpc"]
    vpc_id = created["VpcId"]
    if not ids.accounts:  # with several, {{account}} stays the first account's
        ids.account = created.get("OwnerId", ids.account)
    ids.add_vpc(name, vpc_id)
    for block in vpc.secondary_cidrs:
        ec2.associate_vpc_cidr_block(VpcId=vpc_id, CidrBlock=block)
    if ipv6_cidr is not None:
        found = ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"][0]
        given = found.get("Ipv6CidrBlockAssociationSet", [])
        ids.add_ipv6_block(name, ipv6_cidr, given[0]["Ipv6CidrBlock"])
    main = ec2.describe_route_tables(
        Filters=[
            {"Name": "vpc-id", "Values": [vpc_id]},
            {"Name": "association.main", "Values": ["true"]},
        ]
    )["RouteTables"][0]
    ids.add_route_table(f"{MAIN_PREFIX}{name}", main["RouteTableId"])
    association = next(a for a in main.get("Associations", []) if a.get("Main"))
    ids.main_associations[name] = association["RouteTableAssociationId"]


def _seed_targets(scenario: Scenario, of: Callable[[str], EC2Client], ids: IdMap) -> None:
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
        ec2 = of(vpc)
        if target == "igw" and vpc not in ids.internet_gateways:
            igw_id = ec2.create_internet_gateway(
                TagSpecifications=name_tags("internet-gateway", f"{vpc}-igw")
            )["InternetGateway"]["InternetGatewayId"]
            ec2.attach_internet_gateway(InternetGatewayId=igw_id, VpcId=ids.vpc_id(vpc))
            ids.add_internet_gateway(vpc, igw_id)
        elif target == "eni" and vpc not in ids.network_interfaces:
            host = _eni_host(scenario, vpc, deleted)
            eni_id = ec2.create_network_interface(
                SubnetId=ids.subnet_id(host),
                Description=f"appliance of {vpc}",
                TagSpecifications=name_tags("network-interface", f"{vpc}-appliance"),
            )["NetworkInterface"]["NetworkInterfaceId"]
            ids.add_network_interface(vpc, eni_id)


def _eni_host(scenario: Scenario, vpc: str, deleted: Iterable[str]) -> str:
    gone = set(deleted)
    candidates = [s for s in scenario.subnets if s.vpc == vpc and s.name not in gone]
    in_region = [s for s in candidates if s.outpost is None]
    return (in_region or candidates)[0].name


def seed_and_run_steps(scenario: Scenario, ec2: EC2Client, control: SeedControl) -> IdMap:
    """The account as the scenario leaves it: :func:`seed`, then every step's calls made with
    ``ec2`` (a person's client), as ``outpost-mesh sandbox up`` serves it."""
    ids = seed(scenario, ec2, control)
    for step in scenario.steps:
        run_step_calls(step, ec2, ids, scenario)
    return ids
