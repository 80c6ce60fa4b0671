"""The naive baseline the benchmark compares with: what a first script would do.

A Describe per subnet and per route table (after one listing of each), the LGW route tables and
associations per Outpost, then a CreateRoute for every ordered pair of subnets on different
Outposts, a duplicate (``RouteAlreadyExists``) caught and ignored. No ledger, no plan, no pacing:
its calls grow with the mesh on every run, even when nothing is to do.

``send_routes=False`` sends every other call but only counts the CreateRoute calls it would make
(for meshes whose tens of thousands of CreateRoute calls would take the sandbox minutes): the
count is exact when every route already exists or none does.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

ASSOCIATION_DESCRIBES = 10


@dataclass
class NaiveResult:
    calls: Counter[str] = field(default_factory=Counter)
    created: int = 0
    duplicates: int = 0
    routes_sent: bool = True

    @property
    def describes(self) -> int:
        return sum(n for action, n in self.calls.items() if action.startswith("Describe"))

    @property
    def mutating(self) -> int:
        return sum(n for action, n in self.calls.items() if not action.startswith("Describe"))


def naive_reconcile(ec2: Any, vpc_id: str, *, send_routes: bool = True) -> NaiveResult:
    result = NaiveResult(routes_sent=send_routes)

    def call(action: str, method: Any, **kwargs: Any) -> Any:
        result.calls[action] += 1
        return method(**kwargs)

    vpc_filter = [{"Name": "vpc-id", "Values": [vpc_id]}]
    subnet_ids = [
        s["SubnetId"]
        for s in call("DescribeSubnets", ec2.describe_subnets, Filters=vpc_filter)["Subnets"]
    ]
    table_ids = [
        t["RouteTableId"]
        for t in call("DescribeRouteTables", ec2.describe_route_tables, Filters=vpc_filter)[
            "RouteTables"
        ]
    ]
    subnets = {
        s: call("DescribeSubnets", ec2.describe_subnets, SubnetIds=[s])["Subnets"][0]
        for s in subnet_ids
    }
    table_of: dict[str, str] = {}
    main = ""
    for table_id in table_ids:
        table = call("DescribeRouteTables", ec2.describe_route_tables, RouteTableIds=[table_id])[
            "RouteTables"
        ][0]
        for association in table.get("Associations", []):
            if association.get("Main"):
                main = table_id
            elif association.get("SubnetId"):
                table_of[association["SubnetId"]] = table_id

    lgw_of: dict[str, str] = {}
    for outpost in sorted({s["OutpostArn"] for s in subnets.values() if s.get("OutpostArn")}):
        lgw_table = call(
            "DescribeLocalGatewayRouteTables",
            ec2.describe_local_gateway_route_tables,
            Filters=[{"Name": "outpost-arn", "Values": [outpost]}],
        )["LocalGatewayRouteTables"][0]
        lgw_of[outpost] = lgw_table["LocalGatewayId"]
        _associate(ec2, call, vpc_id, lgw_table["LocalGatewayRouteTableId"])

    for source_id, source in subnets.items():
        outpost = source.get("OutpostArn")
        if not outpost:
            continue
        for target in subnets.values():
            if not target.get("OutpostArn") or target["OutpostArn"] == outpost:
                continue
            if not send_routes:
                result.calls["CreateRoute"] += 1
                continue
            try:
                call(
                    "CreateRoute",
                    ec2.create_route,
                    RouteTableId=table_of.get(source_id, main),
                    DestinationCidrBlock=target["CidrBlock"],
                    LocalGatewayId=lgw_of[outpost],
                )
                result.created += 1
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") != "RouteAlreadyExists":
                    raise
                result.duplicates += 1
    return result


def _associate(ec2: Any, call: Any, vpc_id: str, lgw_table_id: str) -> None:
    found = call(
        "DescribeLocalGatewayRouteTableVpcAssociations",
        ec2.describe_local_gateway_route_table_vpc_associations,
        Filters=[
            {"Name": "vpc-id", "Values": [vpc_id]},
            {"Name": "local-gateway-route-table-id", "Values": [lgw_table_id]},
        ],
    )["LocalGatewayRouteTableVpcAssociations"]
    if any(a.get("State") in ("associating", "associated") for a in found):
        return
    created = call(
        "CreateLocalGatewayRouteTableVpcAssociation",
        ec2.create_local_gateway_route_table_vpc_association,
        LocalGatewayRouteTableId=lgw_table_id,
        VpcId=vpc_id,
    )["LocalGatewayRouteTableVpcAssociation"]
    association_id = created["LocalGatewayRouteTableVpcAssociationId"]
    state = created.get("State")
    for _ in range(ASSOCIATION_DESCRIBES):
        if state == "associated":
            return
        state = call(
            "DescribeLocalGatewayRouteTableVpcAssociations",
            ec2.describe_local_gateway_route_table_vpc_associations,
            LocalGatewayRouteTableVpcAssociationIds=[association_id],
        )["LocalGatewayRouteTableVpcAssociations"][0]["State"]
    raise RuntimeError(f"association {association_id} still {state}")
