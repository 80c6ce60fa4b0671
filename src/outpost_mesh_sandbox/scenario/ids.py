"""Scenario names <-> sandbox ids, both ways, for the runner, the report and placeholders.

:func:`~.seed.seed` and :func:`~.seed.run_step_calls` fill an :class:`IdMap` as they create
things; the report (``outpost_mesh_sandbox.demo.report``) reads AWS ids back as the scenario's
names with it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from outpost_mesh.model import ROUTE_TARGET_KEYS
from outpost_mesh_sandbox.scenario.model import LGW_PREFIX, MAIN_PREFIX

__all__ = ["FIRST_AZ_SUFFIX", "IdMap", "OutpostHandle", "account_ids"]

# ASSUMPTION (named once, here): every Outpost is seeded in the region's first AZ
# (``{region}a``), as are In-Region subnets.
FIRST_AZ_SUFFIX = "a"
#: The sandbox ids of a scenario's second, third... account: 210000000001, 210000000002...
#: (the first account is the sandbox's own, so a single-account run keeps its ids and keys).
OTHER_ACCOUNTS_BASE = 210_000_000_000


def account_ids(names: Sequence[str], first: str) -> dict[str, str]:
    """Account name -> 12-digit sandbox account id: ``first`` (the sandbox's) for the first."""
    return {
        name: first if index == 0 else f"{OTHER_ACCOUNTS_BASE + index:012d}"
        for index, name in enumerate(names)
    }


class LgwRouteTableHandle(Protocol):
    """One of an Outpost's LGW route tables (``SeededLgwRouteTable``)."""

    @property
    def name(self) -> str: ...
    @property
    def local_gateway_route_table_id(self) -> str: ...


class OutpostHandle(Protocol):
    """What seeding needs of ``SandboxControl.seed_outpost``'s result (``SeededOutpost``)."""

    @property
    def outpost_arn(self) -> str: ...
    @property
    def outpost_id(self) -> str: ...
    @property
    def local_gateway_id(self) -> str: ...
    @property
    def local_gateway_route_table_id(self) -> str: ...
    @property
    def route_tables(self) -> Sequence[LgwRouteTableHandle]: ...


@dataclass
class IdMap:
    """Scenario names <-> sandbox ids. Mutable: :func:`run_step_calls` updates it in place as steps
    create and delete subnets and change their associations.

    Forward maps hold what exists now; the reverse lookups (:meth:`name_of`,
    :meth:`target_text`) never forget an id, so a deleted subnet's id still reads as its name in a
    report, and ``{{subnet:NAME}}`` still gives the last id a name had.
    """

    account: str
    region: str
    vpcs: dict[str, str] = field(default_factory=dict)
    subnets: dict[str, str] = field(default_factory=dict)  # live subnets only
    route_tables: dict[str, str] = field(default_factory=dict)  # custom, and "main:VPC"
    outposts: dict[str, OutpostHandle] = field(default_factory=dict)
    outpost_azs: dict[str, str] = field(default_factory=dict)
    internet_gateways: dict[str, str] = field(default_factory=dict)  # VPC name -> igw id
    network_interfaces: dict[str, str] = field(default_factory=dict)  # VPC name -> eni id
    subnet_associations: dict[str, str] = field(default_factory=dict)  # subnet -> explicit assoc
    lgw_associations: dict[tuple[str, str], str] = field(default_factory=dict)  # (vpc, outpost)
    lgw_route_tables: dict[str, str] = field(default_factory=dict)  # table name -> lgw-rtb id
    main_associations: dict[str, str] = field(default_factory=dict)  # VPC -> its main assoc id
    accounts: dict[str, str] = field(default_factory=dict)  # account name -> id (several)
    subnet_vpcs: dict[str, str] = field(default_factory=dict)  # subnet -> its VPC (ever)
    # VPC -> (the scenario's ipv6_cidr, the /56 AWS gave): subnets' /64s keep their offset
    ipv6_blocks: dict[str, tuple[ipaddress.IPv6Network, ipaddress.IPv6Network]] = field(
        default_factory=dict
    )
    _names: dict[str, str] = field(default_factory=dict, repr=False)
    _targets: dict[str, str] = field(default_factory=dict, repr=False)
    _last_subnet_ids: dict[str, str] = field(default_factory=dict, repr=False)
    _table_outposts: dict[str, str] = field(default_factory=dict, repr=False)  # lgw-rtb -> Outpost
    _cidrs: dict[str, str] = field(default_factory=dict, repr=False)  # AWS's IPv6 -> scenario's

    # -- recording --

    def add_vpc(self, name: str, vpc_id: str) -> None:
        self.vpcs[name] = vpc_id
        self._names[vpc_id] = name

    def add_route_table(self, name: str, table_id: str) -> None:
        self.route_tables[name] = table_id
        self._names[table_id] = name

    def add_subnet(self, name: str, subnet_id: str, vpc: str = "") -> None:
        self.subnets[name] = subnet_id
        if vpc:
            self.subnet_vpcs[name] = vpc
        self._last_subnet_ids[name] = subnet_id
        self._names[subnet_id] = name

    def remove_subnet(self, name: str) -> None:
        del self.subnets[name]
        self.subnet_associations.pop(name, None)

    def add_outpost(self, name: str, outpost: OutpostHandle, availability_zone: str) -> None:
        self.outposts[name] = outpost
        self.outpost_azs[name] = availability_zone
        for aws_id in (outpost.outpost_arn, outpost.outpost_id, outpost.local_gateway_id):
            self._names[aws_id] = name
        self._targets[outpost.local_gateway_id] = f"{LGW_PREFIX}{name}"
        tables = list(outpost.route_tables)
        for table in tables:
            table_id = table.local_gateway_route_table_id
            self.lgw_route_tables[table.name] = table_id
            self._names[table_id] = table.name
            self._table_outposts[table_id] = name
        if not tables:  # a rack seeded the first way: one table, named after it
            self.lgw_route_tables[name] = outpost.local_gateway_route_table_id
            self._names[outpost.local_gateway_route_table_id] = name
            self._table_outposts[outpost.local_gateway_route_table_id] = name

    def add_ipv6_block(self, vpc: str, scenario_cidr: str, aws_cidr: str) -> None:
        self.ipv6_blocks[vpc] = (
            ipaddress.IPv6Network(scenario_cidr),
            ipaddress.IPv6Network(aws_cidr),
        )
        self._cidrs[aws_cidr] = scenario_cidr

    def ipv6_in_sandbox(self, vpc: str, scenario_cidr: str) -> str:
        """The IPv6 block AWS has for the scenario's: same offset in the VPC's actual /56."""
        ours, theirs = self.ipv6_blocks[vpc]
        network = ipaddress.IPv6Network(scenario_cidr)
        offset = int(network.network_address) - int(ours.network_address)
        actual = ipaddress.IPv6Network((int(theirs.network_address) + offset, network.prefixlen))
        self._cidrs[str(actual)] = scenario_cidr
        return str(actual)

    def add_internet_gateway(self, vpc: str, igw_id: str) -> None:
        self.internet_gateways[vpc] = igw_id
        self._names[igw_id] = f"igw:{vpc}"
        self._targets[igw_id] = "igw"

    def add_network_interface(self, vpc: str, eni_id: str) -> None:
        self.network_interfaces[vpc] = eni_id
        self._names[eni_id] = f"eni:{vpc}"
        self._targets[eni_id] = "eni"

    # -- forward lookups (KeyError for an unknown name) --

    def vpc_id(self, name: str) -> str:
        return self.vpcs[name]

    def subnet_id(self, name: str) -> str:
        return self.subnets[name]

    def route_table_id(self, name: str) -> str:
        """A custom table's id, or the main table's for ``main:VPC``."""
        return self.route_tables[name]

    def main_route_table_id(self, vpc: str) -> str:
        return self.route_tables[f"{MAIN_PREFIX}{vpc}"]

    def outpost(self, name: str) -> OutpostHandle:
        return self.outposts[name]

    def lgw_route_table_id(self, name: str) -> str:
        return self.lgw_route_tables[name]

    def resource_id(self, kind: str, name: str) -> str:
        """The id of a ``tag`` step's resource (``kind`` one of the model's TAG_KINDS)."""
        lookups: dict[str, Mapping[str, str]] = {
            "vpc": self.vpcs,
            "subnet": self.subnets,
            "route_table": self.route_tables,
            "lgw_route_table": self.lgw_route_tables,
        }
        return lookups[kind][name]

    def subnet_availability_zone(self, outpost: str | None) -> str:
        """The AZ a subnet is created in: its Outpost's, else the region's first."""
        if outpost is not None:
            return self.outpost_azs[outpost]
        return f"{self.region}{FIRST_AZ_SUFFIX}"

    def placeholder_value(self, kind: str, name: str | None) -> str:
        """For :func:`~outpost_mesh_sandbox.scenario.placeholders.substitute_placeholders`."""
        if kind == "account":
            return self.account  # the first account's, with several
        if kind == "region":
            return self.region
        lookups: dict[str, Mapping[str, str]] = {
            "vpc": self.vpcs,
            "subnet": self._last_subnet_ids,
            "route_table": self.route_tables,
            "outpost": {k: v.outpost_arn for k, v in self.outposts.items()},
        }
        try:
            return lookups[kind][name or ""]
        except KeyError:
            raise KeyError(f"{kind.replace('_', ' ')} named {name!r}") from None

    # -- reverse lookups (never forget) --

    def name_of(self, aws_id: str) -> str | None:
        """The scenario's name for a sandbox id: a VPC, subnet (deleted ones too), route table
        (``main:VPC`` for main tables), Outpost (by ARN, Outpost id, LGW id or LGW route table id);
        ``igw:VPC`` / ``eni:VPC`` for seeded targets. None for ids the scenario did not make (a
        route table the pipeline created, say)."""
        return self._names.get(aws_id)

    def target_text(self, target_id: str) -> str:
        """A route target id in the scenario's words: ``lgw:OUTPOST``, ``igw``, ``eni``,
        ``local``; any other id is returned as is."""
        return self._targets.get(target_id, target_id)

    def route_target_text(self, route: Mapping[str, Any]) -> str:
        """The target of one DescribeRouteTables route, in the scenario's words."""
        for key in ROUTE_TARGET_KEYS:  # the core's order: an LGW first
            value = route.get(key)
            if isinstance(value, str) and value:
                return self.target_text(value)
        return "unknown"

    def outpost_of_lgw_route_table(self, table_id: str) -> str | None:
        return self._table_outposts.get(table_id)

    def scenario_cidrs(self) -> Mapping[str, str]:
        """AWS's IPv6 blocks -> the scenario's, for rewriting text."""
        return self._cidrs

    def outpost_of_local_gateway(self, local_gateway_id: str) -> str | None:
        target = self._targets.get(local_gateway_id, "")
        return target[len(LGW_PREFIX) :] if target.startswith(LGW_PREFIX) else None
