"""Ownership is recorded in the ledger before EC2 sees a CreateRoute (an intent), so a route the
system made is never left unowned, whenever the process stops.

A boto3 event hook on the Applier's own EC2 client reads the ledger at the moment each CreateRoute
leaves (``before-call``), or stops the process the moment EC2 has answered (``after-call``: the
route is made, the code after the call never runs, as when a Lambda times out or is killed).
Outcomes are read back from the sandbox's EC2 and DynamoDB through boto3.
"""

from __future__ import annotations

from typing import Any

import pytest

from outpost_mesh.apply import Applier
from outpost_mesh.ledger import LedgerStore
from outpost_mesh.observe import observe_vpc
from outpost_mesh.planner import plan_vpc
from outpost_mesh_sandbox.aws.server import Sandbox

from .support import reconcile, seeded
from .test_reconcile import lgw_routes

OWNER = "test"  # the owner support.reconcile's Applier records


def _route_key(params: dict[str, Any]) -> tuple[str, str]:
    """(route table, destination) of a CreateRoute request as botocore is about to send it."""
    body = params["body"]
    return body["RouteTableId"], body["DestinationCidrBlock"]


def _lgw_routes_in_vpc(ec2: Any, vpc: str) -> dict[tuple[str, str], str]:
    """(route table, destination) -> LGW of every LGW route AWS has in the VPC's tables."""
    tables = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc]}])
    return {
        (t["RouteTableId"], destination): target
        for t in tables["RouteTables"]
        for destination, target in lgw_routes(ec2, t["RouteTableId"]).items()
    }


@pytest.mark.parametrize(("scenario", "vpc_name"), [("blog", "app"), ("three-racks", "plant")])
def test_every_route_created_was_owned_in_the_ledger_before_ec2_saw_the_call(
    sb: Sandbox, ec2: Any, store: LedgerStore, scenario: str, vpc_name: str
) -> None:
    ids = seeded(sb, scenario)
    vpc = ids.vpc_id(vpc_name)
    owner_when_sent: dict[tuple[str, str], str | None] = {}

    def read_the_ledger(params: dict[str, Any], **_: Any) -> None:
        table_id, destination = _route_key(params)
        owner_when_sent[(table_id, destination)] = store.route_owner(vpc, table_id, destination)

    ec2.meta.events.register("before-call.ec2.CreateRoute", read_the_ledger)

    reconcile(ec2, store, vpc)

    created = _lgw_routes_in_vpc(ec2, vpc)
    assert created, "the scenario's mesh needs routes"
    assert set(owner_when_sent) == set(created)  # every route made went through the hook
    assert owner_when_sent == dict.fromkeys(created, OWNER)
    assert {(r.route_table_id, r.destination) for r in store.load(vpc).routes} == set(created)


class ProcessStopped(BaseException):
    """The process ends here (a Lambda timeout or kill): nothing after the call runs, not even
    the Applier's error handling (it is no ``Exception``)."""


def test_a_process_stopped_right_after_create_route_leaves_the_route_owned(
    sb: Sandbox, ec2: Any, store: LedgerStore
) -> None:
    """EC2 made the route and the process stopped before the Applier saw the answer: the ledger
    already owns it, so a removal takes it out (an unowned route would stay for good)."""
    ids = seeded(sb, "blog")
    vpc = ids.vpc_id("app")
    plan = plan_vpc(observe_vpc(ec2, vpc), store.load(vpc))
    applier = Applier(ec2, store, "stopped-run", sleep=lambda _s: None)
    for association in plan.associations_to_create:  # what the routes need first
        applier.wait_associated(applier.create_association(association))
    change = plan.routes_to_create[0]
    table_id, destination = change.route_table_id, change.destination

    def stop(**_: Any) -> None:
        raise ProcessStopped

    ec2.meta.events.register("after-call.ec2.CreateRoute", stop)
    with pytest.raises(ProcessStopped):
        applier.create_route(vpc, change)
    ec2.meta.events.unregister("after-call.ec2.CreateRoute", stop)

    assert lgw_routes(ec2, table_id) == {destination: change.local_gateway_id}
    assert store.route_owner(vpc, table_id, destination) == "stopped-run"

    reconcile(ec2, store, vpc, remove=True)

    assert lgw_routes(ec2, table_id) == {}  # owned, so removable: not an orphan
    assert store.load(vpc).routes == ()
