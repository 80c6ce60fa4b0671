"""The planner against the plain pair-by-pair implementation it replaced, kept here as reference.

The planner indexes the topology and builds each (route table, destination) route once per table;
the reference builds one per (source subnet, target subnet) pair and looks everything up by linear
scans. On random topologies both must give the same routes, in the same order, with the same
reasons, and the same route diff (creates, deletes, stale claims, conflicts).
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings

from outpost_mesh.model import Finding, Ledger, OwnedRoute, RouteChange, Topology
from outpost_mesh.planner import EligibleSubnet, desired_state, plan_vpc

from .strategies import Scenario, scenarios

PROPERTY_SETTINGS = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def reference_routes(eligible: tuple[EligibleSubnet, ...]) -> dict[tuple[str, str], RouteChange]:
    """A route per ordered pair on different Outposts; a table's later sources join the earlier."""
    routes: dict[tuple[str, str], RouteChange] = {}
    if len({e.lgw.outpost_arn for e in eligible}) < 2:
        return routes
    for source in eligible:
        for target in eligible:
            if target.lgw.outpost_arn == source.lgw.outpost_arn:
                continue
            key = (source.table.route_table_id, target.cidr)
            previous = routes.get(key)
            sources = sorted(
                {source.subnet.subnet_id, *(previous.source_subnet_ids if previous else ())}
            )
            routes[key] = RouteChange(
                route_table_id=source.table.route_table_id,
                destination=target.cidr,
                local_gateway_id=source.lgw.local_gateway_id,
                destination_subnet_id=target.subnet.subnet_id,
                source_subnet_ids=tuple(sources),
                reason=f"{', '.join(sources)} on {source.lgw.outpost_arn} reach "
                f"{target.subnet.subnet_id} on {target.lgw.outpost_arn}",
            )
    return routes


def reference_route_diff(
    topo: Topology, ledger: Ledger, wanted: dict[tuple[str, str], RouteChange]
) -> tuple[list[RouteChange], list[RouteChange], list[OwnedRoute], set[Finding]]:
    """Creates, deletes, stale claims and conflicts, by linear lookups (as plan_vpc once did)."""
    creates: list[RouteChange] = []
    deletes: list[RouteChange] = []
    stale: list[OwnedRoute] = []
    conflicts: set[Finding] = set()
    for (table_id, destination), route in sorted(wanted.items()):
        table = topo.route_table(table_id)
        assert table is not None
        existing = table.route_to(destination)
        if existing is None:
            creates.append(route)
        elif existing.target == route.local_gateway_id:
            continue
        elif ledger.owns_route(table_id, destination, existing.target):
            deletes.append(
                RouteChange(
                    table_id,
                    destination,
                    existing.target,
                    reason="owned route targets another local gateway than wanted",
                )
            )
            creates.append(route)
        else:
            conflicts.add(
                Finding(
                    "conflict",
                    f"{table_id}:{destination}",
                    f"route table {table_id} already sends {destination} to {existing.target}, "
                    f"not to {route.local_gateway_id}; left alone (not created by outpost-mesh)",
                )
            )
    for owned in sorted(ledger.routes):
        still = wanted.get((owned.route_table_id, owned.destination))
        if still is not None and still.local_gateway_id == owned.local_gateway_id:
            continue
        table = topo.route_table(owned.route_table_id)
        existing = table.route_to(owned.destination) if table else None
        if existing is None or existing.target != owned.local_gateway_id:
            stale.append(owned)
        elif not any(
            (d.route_table_id, d.destination) == (owned.route_table_id, owned.destination)
            for d in deletes
        ):
            deletes.append(
                RouteChange(
                    owned.route_table_id,
                    owned.destination,
                    owned.local_gateway_id,
                    owned.destination_subnet_id,
                    owned.source_subnet_ids,
                    reason="owned route no longer wanted",
                )
            )
    return sorted(creates), sorted(deletes), sorted(stale), conflicts


def with_reasons(changes: object) -> list[tuple[RouteChange, str]]:
    """RouteChange equality ignores the reason: compare it too."""
    assert isinstance(changes, (list, tuple))
    return [(c, c.reason) for c in changes]


@PROPERTY_SETTINGS
@given(scenarios())
def test_desired_routes_equal_the_pair_by_pair_reference(case: Scenario) -> None:
    desired = desired_state(case.topology, case.quarantined)
    expected = reference_routes(desired.eligible)

    assert list(desired.routes) == list(expected)  # same keys, same order
    assert with_reasons(list(desired.routes.values())) == with_reasons(list(expected.values()))


@PROPERTY_SETTINGS
@given(scenarios())
def test_route_diff_equals_the_linear_reference(case: Scenario) -> None:
    topo, ledger = case.topology, case.ledger
    plan = plan_vpc(topo, ledger, case.quarantined)
    wanted = reference_routes(desired_state(topo, case.quarantined).eligible)
    creates, deletes, stale, conflicts = reference_route_diff(topo, ledger, wanted)

    assert with_reasons(plan.routes_to_create) == with_reasons(creates)
    assert with_reasons(plan.routes_to_delete) == with_reasons(deletes)
    assert list(plan.stale_routes) == stale
    assert {f for f in plan.findings if f.kind == "conflict"} == conflicts
