"""The apply adapter's ownership rules, against the sandbox (outcomes in AWS state and ledger)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from outpost_mesh.apply import Applier
from outpost_mesh.errors import RouteAlreadyExistsError, ThrottledError
from outpost_mesh.ledger import LedgerStore, create_table
from outpost_mesh.model import AssociationChange, RouteChange
from outpost_mesh_sandbox.aws.server import Sandbox
from outpost_mesh_sandbox.scenario import load_scenario
from outpost_mesh_sandbox.scenario.ids import IdMap
from outpost_mesh_sandbox.scenario.seed import seed_and_run_steps

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


@pytest.fixture
def store(sb: Sandbox) -> LedgerStore:
    create_table(sb.client("dynamodb"), "ledger")
    return LedgerStore(sb.client("dynamodb"), "ledger")


@pytest.fixture
def blog(sb: Sandbox) -> IdMap:
    scenario = load_scenario(SCENARIOS / "blog.yaml")
    return seed_and_run_steps(scenario, sb.client("ec2", caller="scenario"), sb.control)


def applier(ec2: Any, store: LedgerStore, owner: str) -> Applier:
    return Applier(ec2, store, owner, sleep=lambda _s: None)


def associate_rack_a(ec2: Any, store: LedgerStore, ids: IdMap, owner: str = "run-1") -> None:
    rack = ids.outpost("rack-a")
    a = applier(ec2, store, owner)
    assoc = a.create_association(
        AssociationChange(
            rack.local_gateway_route_table_id,
            ids.vpc_id("app"),
            rack.outpost_arn,
            rack.local_gateway_id,
        )
    )
    a.wait_associated(assoc)


def route_a(ids: IdMap) -> RouteChange:
    return RouteChange(
        ids.route_table_id("rt-a"), "10.7.11.0/24", ids.outpost("rack-a").local_gateway_id
    )


def targets(ec2: Any, table_id: str) -> dict[str, str]:
    table = ec2.describe_route_tables(RouteTableIds=[table_id])["RouteTables"][0]
    return {
        r["DestinationCidrBlock"]: r.get("LocalGatewayId") or r.get("NetworkInterfaceId", "")
        for r in table["Routes"]
        if r.get("GatewayId") != "local"
    }


def test_a_retried_create_keeps_its_own_route_owned(
    ec2: Any, store: LedgerStore, blog: IdMap
) -> None:
    vpc = blog.vpc_id("app")
    associate_rack_a(ec2, store, blog)
    assert applier(ec2, store, "run-1").create_route(vpc, route_a(blog)) is True
    # the task is retried (its answer was lost): the route is there, still ours
    assert applier(ec2, store, "run-1").create_route(vpc, route_a(blog)) is False
    assert store.route_owner(vpc, blog.route_table_id("rt-a"), "10.7.11.0/24") == "run-1"


def test_someone_elses_identical_route_is_not_taken_over(
    sb: Sandbox, ec2: Any, store: LedgerStore, blog: IdMap
) -> None:
    vpc = blog.vpc_id("app")
    associate_rack_a(ec2, store, blog)
    person = sb.client("ec2", caller="scenario")
    change = route_a(blog)
    person.create_route(
        RouteTableId=change.route_table_id,
        DestinationCidrBlock=change.destination,
        LocalGatewayId=change.local_gateway_id,
    )
    assert applier(ec2, store, "run-2").create_route(vpc, change) is False
    assert store.route_owner(vpc, change.route_table_id, change.destination) is None
    assert store.load(vpc).routes == ()


def test_a_throttled_create_leaves_no_ownership_behind(
    sb: Sandbox, ec2: Any, store: LedgerStore, blog: IdMap
) -> None:
    vpc = blog.vpc_id("app")
    associate_rack_a(ec2, store, blog)
    sb.control.inject_fault("CreateRoute", "RequestLimitExceeded", times=1)
    with pytest.raises(ThrottledError):
        applier(ec2, store, "run-3").create_route(vpc, route_a(blog))
    assert store.load(vpc).routes == ()
    assert "10.7.11.0/24" not in targets(ec2, blog.route_table_id("rt-a"))


def test_a_conflicting_route_is_an_error_and_is_left_alone(
    sb: Sandbox, ec2: Any, store: LedgerStore, blog: IdMap
) -> None:
    vpc = blog.vpc_id("app")
    associate_rack_a(ec2, store, blog)
    person = sb.client("ec2", caller="scenario")
    eni = person.create_network_interface(SubnetId=blog.subnet_id("subnet-a"))
    eni_id = eni["NetworkInterface"]["NetworkInterfaceId"]
    person.create_route(
        RouteTableId=blog.route_table_id("rt-a"),
        DestinationCidrBlock="10.7.11.0/24",
        NetworkInterfaceId=eni_id,
    )
    with pytest.raises(RouteAlreadyExistsError):
        applier(ec2, store, "run-4").create_route(vpc, route_a(blog))
    assert targets(ec2, blog.route_table_id("rt-a"))["10.7.11.0/24"] == eni_id
    assert store.load(vpc).routes == ()


def test_delete_skips_a_route_someone_repointed(
    sb: Sandbox, ec2: Any, store: LedgerStore, blog: IdMap
) -> None:
    vpc = blog.vpc_id("app")
    associate_rack_a(ec2, store, blog)
    applier(ec2, store, "run-5").create_route(vpc, route_a(blog))
    person = sb.client("ec2", caller="scenario")
    eni = person.create_network_interface(SubnetId=blog.subnet_id("subnet-a"))
    eni_id = eni["NetworkInterface"]["NetworkInterfaceId"]
    person.replace_route(
        RouteTableId=blog.route_table_id("rt-a"),
        DestinationCidrBlock="10.7.11.0/24",
        NetworkInterfaceId=eni_id,
    )
    applier(ec2, store, "run-6").delete_route(vpc, route_a(blog))
    assert targets(ec2, blog.route_table_id("rt-a"))["10.7.11.0/24"] == eni_id
    assert store.load(vpc).routes == ()


def test_rollback_undoes_only_this_runs_changes(
    sb: Sandbox, ec2: Any, store: LedgerStore, blog: IdMap
) -> None:
    vpc = blog.vpc_id("app")
    associate_rack_a(ec2, store, blog, owner="earlier-run")
    earlier = applier(ec2, store, "earlier-run")
    earlier.create_route(vpc, route_a(blog))
    rack_b = blog.outpost("rack-b")
    this = applier(ec2, store, "this-run")
    assoc = this.create_association(
        AssociationChange(rack_b.local_gateway_route_table_id, vpc, rack_b.outpost_arn)
    )
    this.wait_associated(assoc)
    this.create_route(
        vpc, RouteChange(blog.route_table_id("rt-b"), "10.7.7.0/24", rack_b.local_gateway_id)
    )

    assert this.rollback() == []

    assert "10.7.11.0/24" in targets(ec2, blog.route_table_id("rt-a"))
    assert "10.7.7.0/24" not in targets(ec2, blog.route_table_id("rt-b"))
    assert [r.route_table_id for r in store.load(vpc).routes] == [blog.route_table_id("rt-a")]
    assert [a.lgw_route_table_id for a in store.load(vpc).associations] == [
        blog.outpost("rack-a").local_gateway_route_table_id
    ]
