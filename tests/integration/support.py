"""What several integration tests need: a shipped scenario seeded into the sandbox, and the
CLI's reconcile without its real pauses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from outpost_mesh.apply import Applier
from outpost_mesh.ledger import LedgerStore
from outpost_mesh.reconcile import ReconcileResult, reconcile_vpc
from outpost_mesh.service import ReconcileService
from outpost_mesh.settings import DEFAULT_ROUTES_PER_TABLE, Settings
from outpost_mesh_sandbox.aws.server import Sandbox
from outpost_mesh_sandbox.scenario import load_scenario
from outpost_mesh_sandbox.scenario.ids import IdMap
from outpost_mesh_sandbox.scenario.seed import seed, seed_and_run_steps

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


def seeded(sb: Sandbox, name: str, *, run_steps: bool = True) -> IdMap:
    """scenarios/<name>.yaml seeded, and its steps' calls made unless ``run_steps`` is False."""
    scenario = load_scenario(SCENARIOS / f"{name}.yaml")
    person = sb.client("ec2", caller="scenario")
    if run_steps:
        return seed_and_run_steps(scenario, person, sb.control)
    return seed(scenario, person, sb.control)


def reconcile(
    ec2: Any,
    store: LedgerStore,
    vpc: str,
    *,
    account_id: str = "",
    routes_per_table: int = DEFAULT_ROUTES_PER_TABLE,
    **kwargs: Any,
) -> ReconcileResult:
    """reconcile_vpc without real pauses: the sandbox moves associations on by describes.
    ``account_id``: the stack's account (""; VPC ownership is not checked);
    ``routes_per_table``: the stack's RoutesPerTableQuota."""
    settings = Settings(
        table=store.table_name, account_id=account_id, routes_per_table=routes_per_table
    )
    svc = ReconcileService(settings, ec2=ec2, store=store)
    return reconcile_vpc(
        svc,
        vpc,
        owner="test",
        applier_factory=lambda: Applier(ec2, store, "test", sleep=lambda _s: None),
        **kwargs,
    )


def throttled_mesh(tmp_path: Path, racks: int, subnets_per_rack: int) -> Path:
    """A scenario file: ``racks`` x ``subnets_per_rack`` Outpost subnets, a route table each, EC2
    throttled at AWS's rates (``time_scale`` 1), meshed by one sweep."""
    cells = [(r, i) for r in range(racks) for i in range(subnets_per_rack)]
    lines = [
        f"description: {racks} racks x {subnets_per_rack} subnets, a route table per subnet, "
        "EC2 throttled",
        "vpcs: [{name: app, cidr: 10.0.0.0/16}]",
        "outposts: [" + ", ".join(f"{{name: rack-{r}}}" for r in range(racks)) + "]",
        "route_tables:",
        *(f"  - {{name: rt-{r}-{i}, vpc: app}}" for r, i in cells),
        "subnets:",
        *(
            f"  - {{name: s-{r}-{i}, vpc: app, cidr: 10.0.{r * 10 + i}.0/24, outpost: rack-{r}, "
            f"route_table: rt-{r}-{i}}}"
            for r, i in cells
        ),
        "throttle: {time_scale: 1}",
        "steps:",
        "  - sweep: {}",
    ]
    path = tmp_path / "mesh.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


class Clock:
    """Seconds since the epoch, as the test sets them (a LedgerStore's injected clock)."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now
