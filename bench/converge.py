"""Put a VPC in its converged state fast, for meshes too big to build call by call.

The routes go straight into the sandbox's moto backend (tens of thousands of CreateRoute calls
would take the sandbox minutes: its route rules look at every table and subnet on each call) and
the associations are made with the API: what a reconcile from scratch leaves in EC2. What it
would leave in the ledger is returned as a :class:`Ledger`, and written to DynamoDB only when
asked (with the project's own ``LedgerStore``, through a client that batches its writes): moto
serialises each DynamoDB item it returns in ~2 ms, so reading a ledger of tens of thousands of
routes back would cost the sandbox a minute that DynamoDB does not.
"""

from __future__ import annotations

from typing import Any

from outpost_mesh.ledger import LedgerStore
from outpost_mesh.model import Ledger, OwnedAssociation, Plan
from outpost_mesh_sandbox.aws import outposts
from outpost_mesh_sandbox.aws.server import Sandbox

OWNER = "bench-converged"
BATCH = 25


class BatchingDynamo:
    """Enough of a DynamoDB client for LedgerStore's writes: put_item is kept, then written in
    batches by :meth:`flush` (the last write of a key wins, as with put_item; of puts
    conditioned on the item not existing, the first: the table holds none of them before)."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self._items: dict[tuple[str, str, str], dict[str, Any]] = {}

    def put_item(
        self, *, TableName: str, Item: dict[str, Any], ConditionExpression: str = ""
    ) -> None:
        key = (TableName, Item["pk"]["S"], Item["sk"]["S"])
        if ConditionExpression.startswith("attribute_not_exists") and key in self._items:
            return
        self._items[key] = Item

    def flush(self) -> int:
        pending = list(self._items.items())
        self._items.clear()
        for start in range(0, len(pending), BATCH):
            chunk = pending[start : start + BATCH]
            requests: dict[str, list[dict[str, Any]]] = {}
            for (table, _, _), item in chunk:
                requests.setdefault(table, []).append({"PutRequest": {"Item": item}})
            while requests:
                answer = self.client.batch_write_item(RequestItems=requests)
                requests = answer.get("UnprocessedItems") or {}
        return len(pending)


def associate(ec2: Any, vpc_id: str, lgw_route_table_id: str) -> str:
    created = ec2.create_local_gateway_route_table_vpc_association(
        LocalGatewayRouteTableId=lgw_route_table_id, VpcId=vpc_id
    )["LocalGatewayRouteTableVpcAssociation"]
    association_id = str(created["LocalGatewayRouteTableVpcAssociationId"])
    state = created.get("State")
    for _ in range(10):
        if state == "associated":
            return association_id
        state = ec2.describe_local_gateway_route_table_vpc_associations(
            LocalGatewayRouteTableVpcAssociationIds=[association_id]
        )["LocalGatewayRouteTableVpcAssociations"][0]["State"]
    raise RuntimeError(f"association {association_id} still {state}")


def converge(sb: Sandbox, ec2: Any, plan: Plan, *, dynamodb: Any = None, table: str = "") -> Ledger:
    """Apply ``plan`` (a plan from scratch) without the API's per-route cost; returns the ledger
    that owns it, recorded in DynamoDB's ``table`` too when ``dynamodb`` is given."""
    from moto.ec2.models.route_tables import Route

    store = LedgerStore(BatchingDynamo(dynamodb), table) if dynamodb is not None else None  # type: ignore[arg-type]
    owned: list[OwnedAssociation] = []
    for wanted in plan.associations_to_create:
        association_id = associate(ec2, plan.vpc_id, wanted.lgw_route_table_id)
        owned.append(
            OwnedAssociation(association_id, wanted.lgw_route_table_id, wanted.outpost_arn)
        )
        if store is not None:
            store.record_association(plan.vpc_id, owned[-1], OWNER)
    backend = outposts.sandbox_backend(sb.account_id, sb.region)
    assert sb.app is not None
    with sb.app.ec2_lock:
        for change in plan.routes_to_create:
            route_table = backend.get_route_table(change.route_table_id)
            route = Route(route_table, change.destination, None)
            route.local_gateway_id = change.local_gateway_id
            route_table._routes[route.id] = route
    if store is not None:
        for change in plan.routes_to_create:
            store.record_route(plan.vpc_id, change.owned(), OWNER)
        store.dynamodb.flush()  # type: ignore[attr-defined]
    return Ledger(
        plan.vpc_id,
        tuple(sorted(c.owned() for c in plan.routes_to_create)),
        tuple(sorted(owned)),
    )
