"""outpost-mesh core: plan and apply LGW routes between a VPC's subnets on different Outposts."""

from __future__ import annotations

from outpost_mesh.model import Ledger, Plan, Topology
from outpost_mesh.planner import desired_state, plan_vpc, removal_plan
from outpost_mesh.verify import reachability

__all__ = [
    "Ledger",
    "Plan",
    "Topology",
    "desired_state",
    "plan_vpc",
    "reachability",
    "removal_plan",
]
