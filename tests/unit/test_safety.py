"""Delete safety: a pass may not delete a large share of the owned routes unless forced."""

from __future__ import annotations

import pytest

from outpost_mesh.model import Ledger, OwnedRoute, Plan, RouteChange
from outpost_mesh.planner import unsafe_deletion

VPC = "vpc-0a1b2c3d4e5f60718"


def ledger_with(n: int) -> Ledger:
    return Ledger(VPC, tuple(OwnedRoute(f"rtb-{i:017x}", "10.0.1.0/24", "lgw-1") for i in range(n)))


def plan_deleting(n: int) -> Plan:
    return Plan(
        VPC,
        routes_to_delete=tuple(
            RouteChange(f"rtb-{i:017x}", "10.0.1.0/24", "lgw-1") for i in range(n)
        ),
    )


@pytest.mark.parametrize(
    ("owned", "deleting", "refused"),
    [
        (10, 3, False),  # 30% exactly is allowed
        (10, 4, True),  # over 30% of 10 owned
        (9, 9, False),  # below the minimum of owned routes anything goes
        (100, 31, True),
        (100, 0, False),
    ],
)
def test_mass_deletion_is_refused_past_the_threshold(
    owned: int, deleting: int, refused: bool
) -> None:
    finding = unsafe_deletion(plan_deleting(deleting), ledger_with(owned))
    assert (finding is not None) == refused
    if finding is not None:
        assert finding.kind == "error"
        assert "--force" in finding.message


def test_thresholds_are_parameters() -> None:
    assert unsafe_deletion(plan_deleting(2), ledger_with(4), share_limit=0.5, min_owned=4) is None
    assert unsafe_deletion(plan_deleting(3), ledger_with(4), share_limit=0.5, min_owned=4)
