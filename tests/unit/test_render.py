"""The CLI's plan text shows the plan's on-premises impact (BGP advertisement, issue 16)."""

from __future__ import annotations

from outpost_mesh.model import Advertisement, Plan
from outpost_mesh_cli.render import Names, impact_lines

ARN = "arn:aws:outposts:us-east-1:123456789012:outpost/op-0123456789abcdef0"


def test_the_plan_says_what_each_outpost_starts_and_stops_advertising() -> None:
    plan = Plan(
        "vpc-1",
        bgp_impact=(Advertisement(ARN, ("10.7.7.0/24",), ("10.7.9.0/24", "10.7.10.0/24")),),
    )
    lines = impact_lines(plan, Names({ARN: "rack-a"}))
    assert len(lines) == 2
    assert "starts advertising 10.7.7.0/24 over BGP" in lines[0] and "rack-a" in lines[0]
    assert "stops advertising 10.7.9.0/24, 10.7.10.0/24 over BGP" in lines[1]


def test_a_plan_that_changes_nothing_on_premises_says_nothing() -> None:
    assert impact_lines(Plan("vpc-1"), Names({})) == []
