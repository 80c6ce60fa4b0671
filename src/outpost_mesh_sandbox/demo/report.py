"""The demo report (docs/scenario-format.md, "Report"): AWS state read back, in scenario words.

Everything here reads the sandbox with Describe calls (never what the pipeline says it did) and
names things as the scenario does, through :class:`~outpost_mesh_sandbox.scenario.ids.IdMap`:

* ``route_tables``: every route table of every scenario VPC (custom tables by name, main tables
  as ``main:VPC``, tables the pipeline made by id), every non-local route, targets as
  ``lgw:OUTPOST`` / ``eni`` / ``igw``, sorted by destination (as text);
* ``associations``: every LGW route table / VPC association not ``disassociated``, with the
  table's Outpost and the table (the routing domain) by name;
* ``reachability``: every ordered pair of Outpost subnets of one VPC on different Outposts
  (:func:`outpost_mesh.verify.reachability`, the contract's definition);
* :class:`Translator`: AWS ids and ARNs inside findings' subjects and messages as names (and the
  IPv6 blocks AWS gave as the scenario writes them).

With several accounts, :func:`snapshot_accounts` reads each account's VPCs as that account (a
reader client per account) and merges them; each association also names its VPC's ``account``.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from outpost_mesh.observe import observe_vpc
from outpost_mesh.verify import reachability
from outpost_mesh_sandbox.scenario.ids import IdMap
from outpost_mesh_sandbox.scenario.model import MAIN_PREFIX, Scenario

__all__ = [
    "ALWAYS_COUNTED",
    "Snapshot",
    "Translator",
    "associations_report",
    "counted",
    "reachability_report",
    "route_tables_report",
    "snapshot",
    "snapshot_accounts",
]

#: Mutating actions the pipeline may make; ``api_calls`` always lists them, 0 when not called.
ALWAYS_COUNTED = (
    "CreateLocalGatewayRouteTableVpcAssociation",
    "CreateRoute",
    "DeleteLocalGatewayRouteTableVpcAssociation",
    "DeleteRoute",
)


def counted(calls: Mapping[str, int]) -> dict[str, int]:
    """EC2 calls by action, sorted, with every action of ALWAYS_COUNTED (0 when not called)."""
    return dict(sorted({**dict.fromkeys(ALWAYS_COUNTED, 0), **calls}.items()))


# An ARN, except as a command's argument ("outpost-mesh release --outpost ARN" must stay usable).
_ARN = re.compile(
    r"(?<!--outpost )arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:\d{12}:[A-Za-z0-9_./:-]*[A-Za-z0-9]"
)
# An id alone, not inside a longer name (an execution is named "vpc-0abc...-<event id>").
_ID = re.compile(
    r"(?<![\w/:-])(?:lgw-vpc-assoc|lgw-rtb|lgw|vpc|subnet|rtbassoc|rtb|eni|igw|op)-[0-9a-f]{8,17}"
    r"(?![\w-])"
)


class Translator:
    """AWS ids and ARNs -> the scenario's names (unknown ones stay as they are)."""

    def __init__(self, ids: IdMap) -> None:
        self.ids = ids

    def name(self, aws_id: str) -> str:
        return self.ids.name_of(aws_id) or aws_id

    def text(self, text: str) -> str:
        def arn(match: re.Match[str]) -> str:
            return self.ids.name_of(match.group(0)) or match.group(0)

        def one(match: re.Match[str]) -> str:
            found = match.group(0)
            if found.startswith("lgw-") and not found.startswith(("lgw-rtb-", "lgw-vpc-assoc-")):
                target = self.ids.target_text(found)  # a local gateway reads as lgw:OUTPOST
                return target if target != found else found
            return self.ids.name_of(found) or found

        text = _ID.sub(one, _ARN.sub(arn, text))
        for theirs, ours in self.ids.scenario_cidrs().items():
            text = text.replace(theirs, ours)
        return text


def _route_destination(route: Mapping[str, Any]) -> str:
    return str(
        route.get("DestinationCidrBlock")
        or route.get("DestinationIpv6CidrBlock")
        or route.get("DestinationPrefixListId")
        or ""
    )


def _is_local(route: Mapping[str, Any]) -> bool:
    return route.get("GatewayId") == "local"


def route_tables_report(
    ec2: Any, ids: IdMap, scenario: Scenario
) -> dict[str, list[dict[str, str]]]:
    """Every route table of the scenario's VPCs -> its non-local routes, in scenario words."""
    vpc_ids = [ids.vpc_id(v.name) for v in scenario.vpcs if v.name in ids.vpcs]
    tables: dict[str, list[dict[str, str]]] = {}
    if not vpc_ids:
        return tables
    found = []
    for page in ec2.get_paginator("describe_route_tables").paginate(
        Filters=[{"Name": "vpc-id", "Values": vpc_ids}]
    ):
        found.extend(page["RouteTables"])
    by_key: dict[str, list[dict[str, str]]] = {}
    for table in found:
        key = ids.name_of(table["RouteTableId"]) or table["RouteTableId"]
        routes = [
            {"destination": _route_destination(r), "target": ids.route_target_text(r)}
            for r in table.get("Routes", [])
            if not _is_local(r)
        ]
        by_key[key] = sorted(routes, key=lambda r: (r["destination"], r["target"]))
    return _in_scenario_order(by_key, scenario)


def _in_scenario_order(
    by_key: dict[str, list[dict[str, str]]], scenario: Scenario
) -> dict[str, list[dict[str, str]]]:
    """Custom tables as the scenario lists them, then main tables, then any others by id."""
    order = [t.name for t in scenario.route_tables] + [
        f"{MAIN_PREFIX}{v.name}" for v in scenario.vpcs
    ]
    rest = dict(by_key)
    tables = {key: rest.pop(key) for key in order if key in rest}
    for key in sorted(rest):
        tables[key] = rest[key]
    return tables


def associations_report(ec2: Any, ids: IdMap, scenario: Scenario) -> list[dict[str, str]]:
    """Every LGW route table / VPC association of the scenario's VPCs not disassociated:
    ``{"vpc", "outpost", "state", "lgw_route_table"}``."""
    vpc_ids = {ids.vpc_id(v.name) for v in scenario.vpcs if v.name in ids.vpcs}
    found = []
    for page in ec2.get_paginator("describe_local_gateway_route_table_vpc_associations").paginate():
        found.extend(page["LocalGatewayRouteTableVpcAssociations"])
    result = []
    for association in found:
        if association.get("VpcId") not in vpc_ids or association.get("State") == "disassociated":
            continue
        table_id = association["LocalGatewayRouteTableId"]
        result.append(
            {
                "vpc": ids.name_of(association["VpcId"]) or association["VpcId"],
                "outpost": ids.outpost_of_lgw_route_table(table_id) or table_id,
                "state": association.get("State", ""),
                "lgw_route_table": ids.name_of(table_id) or table_id,
            }
        )
    return sorted(result, key=lambda a: (a["vpc"], a["outpost"], a["lgw_route_table"], a["state"]))


def reachability_report(ec2: Any, ids: IdMap, scenario: Scenario) -> list[dict[str, Any]]:
    """Every ordered pair of Outpost subnets of one VPC on different Outposts, at this moment."""
    pairs: list[dict[str, Any]] = []
    for vpc in scenario.vpcs:
        if vpc.name not in ids.vpcs:
            continue
        topology = observe_vpc(ec2, ids.vpc_id(vpc.name))
        for pair in reachability(topology):
            pairs.append(
                {
                    "from": ids.name_of(pair.source_subnet_id) or pair.source_subnet_id,
                    "to": ids.name_of(pair.destination_subnet_id) or pair.destination_subnet_id,
                    "reachable": bool(pair.reachable),
                    "reason": pair.reason,
                }
            )
    return sorted(pairs, key=lambda p: (p["from"], p["to"]))


@dataclass(frozen=True)
class Snapshot:
    """What a person would look at: routes, associations, reachability, subnets, at one moment."""

    route_tables: dict[str, list[dict[str, str]]]
    associations: list[dict[str, str]]
    reachability: list[dict[str, Any]]  # with a "reason" key, dropped in the JSON report
    subnets: dict[str, dict[str, str | None]]  # live subnets: name -> cidr, outpost, table

    def reachable(self, source: str, target: str) -> bool | None:
        for pair in self.reachability:
            if pair["from"] == source and pair["to"] == target:
                return bool(pair["reachable"])
        return None


def _subnets(ec2: Any, ids: IdMap, scenario: Scenario) -> dict[str, dict[str, str | None]]:
    vpc_ids = [ids.vpc_id(v.name) for v in scenario.vpcs if v.name in ids.vpcs]
    if not vpc_ids:
        return {}
    filters = [{"Name": "vpc-id", "Values": vpc_ids}]
    found = []
    for page in ec2.get_paginator("describe_subnets").paginate(Filters=filters):
        found.extend(page["Subnets"])
    explicit: dict[str, str] = {}
    mains: dict[str, str] = {}
    for page in ec2.get_paginator("describe_route_tables").paginate(Filters=filters):
        for table in page["RouteTables"]:
            name = ids.name_of(table["RouteTableId"]) or table["RouteTableId"]
            for assoc in table.get("Associations", []):
                if assoc.get("Main"):
                    mains[table["VpcId"]] = name
                elif assoc.get("SubnetId"):
                    explicit[assoc["SubnetId"]] = name
    result: dict[str, dict[str, str | None]] = {}
    for raw in found:
        subnet_id = raw["SubnetId"]
        outpost = raw.get("OutpostArn")
        result[ids.name_of(subnet_id) or subnet_id] = {
            "id": subnet_id,
            "vpc": ids.name_of(raw["VpcId"]) or raw["VpcId"],
            "cidr": raw.get("CidrBlock"),
            "outpost": (ids.name_of(outpost) or outpost) if outpost else None,
            "route_table": explicit.get(subnet_id) or mains.get(raw["VpcId"]),
        }
    return _by_cidr(result)


def _by_cidr(subnets: dict[str, dict[str, str | None]]) -> dict[str, dict[str, str | None]]:
    return dict(sorted(subnets.items(), key=lambda kv: _cidr_key(kv[1].get("cidr"))))


def _cidr_key(cidr: str | None) -> tuple[int, int, str]:
    try:
        network = ipaddress.ip_network(cidr or "")
    except ValueError:
        return (9, 0, str(cidr))
    return (network.version, int(network.network_address), str(cidr))


def snapshot(ec2: Any, ids: IdMap, scenario: Scenario) -> Snapshot:
    return Snapshot(
        route_tables=route_tables_report(ec2, ids, scenario),
        associations=associations_report(ec2, ids, scenario),
        reachability=reachability_report(ec2, ids, scenario),
        subnets=_subnets(ec2, ids, scenario),
    )


def snapshot_accounts(readers: Mapping[str, Any], ids: IdMap, scenario: Scenario) -> Snapshot:
    """One snapshot of several accounts: each account's VPCs read by its reader (account name ->
    EC2 client), merged in the single-account order; associations carry their ``account``."""
    parts: dict[str, Snapshot] = {}
    for account, ec2 in readers.items():
        vpcs = scenario.vpcs_of(account)
        names = {v.name for v in vpcs}
        own = [t for t in scenario.route_tables if t.vpc in names]
        mine = dataclasses.replace(scenario, vpcs=vpcs, route_tables=tuple(own))
        parts[account] = snapshot(ec2, ids, mine)
    return Snapshot(
        route_tables=_in_scenario_order(
            {k: v for p in parts.values() for k, v in p.route_tables.items()}, scenario
        ),
        associations=sorted(
            ({**a, "account": account} for account, p in parts.items() for a in p.associations),
            key=lambda a: (a["vpc"], a["outpost"], a["lgw_route_table"], a["state"]),
        ),
        reachability=sorted(
            (pair for p in parts.values() for pair in p.reachability),
            key=lambda p: (p["from"], p["to"]),
        ),
        subnets=_by_cidr({k: v for p in parts.values() for k, v in p.subnets.items()}),
    )


def route_changes(
    before: Mapping[str, Iterable[Mapping[str, str]]],
    after: Mapping[str, Iterable[Mapping[str, str]]],
) -> tuple[list[tuple[str, str, str]], list[tuple[str, str, str]]]:
    """(added, removed) routes as (table, destination, target)."""

    def flat(tables: Mapping[str, Iterable[Mapping[str, str]]]) -> set[tuple[str, str, str]]:
        return {(t, r["destination"], r["target"]) for t, rs in tables.items() for r in rs}

    old, new = flat(before), flat(after)
    return sorted(new - old), sorted(old - new)
