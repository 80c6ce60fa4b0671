"""Two accounts deploy the same functions, whose handler modules the sandbox imports once: each
account's invocations must still act with that account's identity, whichever account invoked a
function last (issue 15)."""

from __future__ import annotations

from typing import Any

from outpost_mesh_sandbox.aws.server import Sandbox

from .test_accounts_pipeline import (
    NETWORK,
    WORKLOAD,
    build_vpc,
    by,
    deploy,
    meshed,
    person,
    racks,
    stacks,
    sweep,
)

__all__ = ["stacks"]  # the fixture, used by name


def test_an_account_acts_as_itself_after_another_account_invoked_the_same_functions(
    sb: Sandbox, stacks: Any
) -> None:
    outposts = racks(sb, WORKLOAD)
    app = build_vpc(sb, WORKLOAD, 7, outposts)
    build_vpc(sb, NETWORK, 1, outposts)
    network, workload = deploy(sb, stacks, NETWORK), deploy(sb, stacks, WORKLOAD)
    sweep(sb, workload)  # the workload's functions run first ...
    sweep(sb, network)  # ... then the network's, from the same handler modules
    assert meshed(sb, app)
    table, cidr = app.tables[0], list(app.subnets.values())[1]
    person(sb, WORKLOAD).delete_route(RouteTableId=table, DestinationCidrBlock=cidr)  # drift
    calls = sweep(sb, workload)
    assert [c.action for c in by(calls, WORKLOAD) if c.action == "CreateRoute"] == ["CreateRoute"]
    assert by(calls, NETWORK) == []
    assert [e.status for e in workload.executions()][-1] == "SUCCEEDED"
    assert meshed(sb, app)
