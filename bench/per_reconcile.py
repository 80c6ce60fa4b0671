"""Per reconcile: Describe and mutating calls, plan time and reconcile time, beside the naive
baseline, for each topology of the grid.

Each topology is measured twice, from the same seeded account:

* **initial**: nothing meshed yet (every route and association to create);
* **steady**: the mesh complete, nothing to do (what every later trigger or sweep costs).

The product runs its synchronous path (``reconcile_vpc``: the CLI's ``apply``, the same core as the
workflow's tasks) with the ledger in the sandbox's DynamoDB; the naive baseline
(:mod:`bench.naive`) runs on its own fresh copy of the account. Calls are counted by the sandbox
(the product's, by access key) or by the baseline itself; times are the sandbox's wall-clock
seconds with throttling off (what throttling costs on AWS is the convergence section's subject).

Meshes of more than ``limit`` routes are not built call by call (the sandbox answers a CreateRoute
in ~15 ms): their steady state is put in place by :func:`bench.converge.converge`, the product's
initial reconcile is not run, and the naive baseline's CreateRoute calls are counted, not sent.
Their ledger stays in memory (for the pure plan) and out of the sandbox's DynamoDB, whose moto
takes ~2 ms per item to answer a query: their steady reconcile reads an empty ledger (same EC2
calls: the routes are then satisfied rather than owned).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bench.converge import converge
from bench.naive import naive_reconcile
from bench.topology import VPC, Mesh, Topology
from outpost_mesh import reconcile as reconcile_module
from outpost_mesh.apply import Applier
from outpost_mesh.ledger import LedgerStore, create_table
from outpost_mesh.model import Ledger, Plan
from outpost_mesh.observe import observe_vpc
from outpost_mesh.planner import plan_vpc
from outpost_mesh.reconcile import reconcile_vpc
from outpost_mesh.service import ReconcileService
from outpost_mesh.settings import Settings
from outpost_mesh.verify import reachability
from outpost_mesh_sandbox.aws.calls import is_mutating
from outpost_mesh_sandbox.aws.server import Sandbox
from outpost_mesh_sandbox.scenario.ids import IdMap
from outpost_mesh_sandbox.scenario.seed import seed

TABLE = "outpost-mesh-bench-ledger"
BENCH_KEY = "AKIAOMBENCHREADER001"  # the bench's own reads: neither the product's nor the naive's
NAIVE_KEY = "AKIAOMBENCHNAIVE0001"
DEFAULT_LIMIT = 1_300  # routes (product) and pairs (naive) made call by call


@dataclass(frozen=True)
class Calls:
    describes: int
    mutating: int
    seconds: float | None  # sandbox wall time; None when the calls were counted, not sent

    @property
    def counted_only(self) -> bool:
        return self.seconds is None


@dataclass(frozen=True)
class ReconcileRow:
    topology: Topology
    changes: int  # routes + associations a reconcile from scratch makes
    plan_initial_ms: float
    plan_steady_ms: float
    product_initial: Calls | None  # None: not run (mesh above the limit)
    product_steady: Calls
    naive_initial: Calls
    naive_steady: Calls
    steady_plan_empty: bool
    ledger_in_dynamodb: bool  # False: the steady reconcile read an empty ledger (see above)
    verify_ms: float  # reachability of the steady state (pure)
    plan_kib: float  # JSON size of the plan's route changes from scratch (stashed by the workflow)


def best_ms(
    fn: Callable[[], Any], seconds: float = 1.0, at_least: int = 3, at_most: int = 9
) -> float:
    """Best of ``at_least`` runs, more while they take under ``seconds`` in all."""
    best = float("inf")
    spent = 0.0
    for run in range(at_most):
        start = time.perf_counter()
        fn()
        took = time.perf_counter() - start
        best = min(best, took)
        spent += took
        if run + 1 >= at_least and spent > seconds:
            break
    return best * 1000


def fresh(sb: Sandbox, topo: Mesh) -> IdMap:
    """An empty account with the topology seeded (subnets, tables, racks) and the ledger table."""
    sb.reset()
    ids = seed(topo.scenario(), sb.client("ec2", caller="scenario"), sb.control)
    create_table(sb.client("dynamodb", caller=BENCH_KEY), TABLE)
    return ids


def _counts(sb: Sandbox, caller: str) -> dict[str, int]:
    return sb.control.call_counts(caller=caller)


def _delta(before: dict[str, int], after: dict[str, int]) -> tuple[int, int]:
    diff = {a: n - before.get(a, 0) for a, n in after.items() if n != before.get(a, 0)}
    describes = sum(n for a, n in diff.items() if a.startswith("Describe"))
    mutating = sum(n for a, n in diff.items() if is_mutating(a))
    return describes, mutating


def _product_reconcile(sb: Sandbox, vpc_id: str, verify_times: list[float] | None = None) -> Calls:
    """One reconcile; ``verify_times`` gets the seconds of each reachability it computed (the
    verify step, timed inside the run instead of run again: it is slow on big meshes)."""
    ec2 = sb.client("ec2", caller="pipeline")
    store = LedgerStore(sb.client("dynamodb", caller="pipeline"), TABLE)
    original = getattr(reconcile_module, "reachability")  # noqa: B009 - not re-exported

    def timed(topology: Any) -> Any:
        start = time.perf_counter()
        try:
            return original(topology)
        finally:
            if verify_times is not None:
                verify_times.append(time.perf_counter() - start)

    before = _counts(sb, "pipeline")
    setattr(reconcile_module, "reachability", timed)  # noqa: B010
    start = time.perf_counter()
    try:
        reconcile_vpc(
            # The stack's RoutesPerTableQuota is the account's quota (the mesh's, as seeded).
            ReconcileService(
                Settings(
                    table=store.table_name,
                    routes_per_table=sb.control.config()["routes_per_table"],
                ),
                ec2=ec2,
                store=store,
            ),
            vpc_id,
            owner="bench",
            applier_factory=lambda: Applier(ec2, store, "bench", sleep=lambda _s: None),
        )
    finally:
        setattr(reconcile_module, "reachability", original)  # noqa: B010
    seconds = time.perf_counter() - start
    describes, mutating = _delta(before, _counts(sb, "pipeline"))
    return Calls(describes, mutating, seconds)


def _naive(sb: Sandbox, vpc_id: str, send_routes: bool) -> Calls:
    start = time.perf_counter()
    result = naive_reconcile(sb.client("ec2", caller=NAIVE_KEY), vpc_id, send_routes=send_routes)
    seconds = time.perf_counter() - start
    return Calls(result.describes, result.mutating, seconds if send_routes else None)


def _changes(plan: Plan) -> int:
    return len(plan.routes_to_create) + len(plan.associations_to_create)


def measure(sb: Sandbox, topo: Topology, limit: int = DEFAULT_LIMIT) -> ReconcileRow:
    reader = sb.client("ec2", caller=BENCH_KEY)
    build = topo.routes <= limit
    pairs = topo.subnets * (topo.subnets - topo.subnets_per_rack)  # the naive's CreateRoute calls
    send = pairs <= limit

    # -- the product ----------------------------------------------------------------------
    vpc_id = fresh(sb, topo).vpc_id(VPC)
    before = observe_vpc(reader, vpc_id)
    empty = Ledger(vpc_id)
    plan0 = plan_vpc(before, empty)
    plan_initial_ms = best_ms(lambda: plan_vpc(before, empty))
    owned = empty
    if build:
        product_initial: Calls | None = _product_reconcile(sb, vpc_id)
    else:
        owned = converge(sb, reader, plan0)
        product_initial = None
    verify_times: list[float] = []
    product_steady = _product_reconcile(sb, vpc_id, verify_times)
    after = observe_vpc(reader, vpc_id)
    ledger = (
        LedgerStore(sb.client("dynamodb", caller=BENCH_KEY), TABLE).load(vpc_id) if build else owned
    )
    steady_plan = plan_vpc(after, ledger)
    plan_steady_ms = best_ms(lambda: plan_vpc(after, ledger))
    verify_ms = min(verify_times, default=0.0) * 1000
    if verify_ms < 500:  # cheap enough to take the best of a few runs
        verify_ms = min(verify_ms or float("inf"), best_ms(lambda: reachability(after), 0.5, 1))

    # -- the naive baseline, on its own copy of the account -------------------------------
    vpc_id = fresh(sb, topo).vpc_id(VPC)
    naive_initial = _naive(sb, vpc_id, send_routes=send)
    if not send:
        converge(sb, reader, plan_vpc(observe_vpc(reader, vpc_id), Ledger(vpc_id)))
    naive_steady = _naive(sb, vpc_id, send_routes=send)

    return ReconcileRow(
        topology=topo,
        changes=_changes(plan0),
        plan_initial_ms=plan_initial_ms,
        plan_steady_ms=plan_steady_ms,
        product_initial=product_initial,
        product_steady=product_steady,
        naive_initial=naive_initial,
        naive_steady=naive_steady,
        steady_plan_empty=steady_plan.is_empty,
        ledger_in_dynamodb=build,
        verify_ms=verify_ms,
        plan_kib=len(json.dumps([c.to_dict() for c in plan0.routes_to_create]).encode()) / 1024,
    )
