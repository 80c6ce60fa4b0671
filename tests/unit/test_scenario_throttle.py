"""The scenario's optional ``throttle`` key: EC2 throttle emulation after seeding."""

from __future__ import annotations

from typing import Any

import pytest

from outpost_mesh_sandbox.scenario import Scenario, ScenarioError, ThrottleSpec, parse_scenario
from outpost_mesh_sandbox.scenario.seed import seed


def doc(**extra: Any) -> dict[str, Any]:
    return {"vpcs": [{"name": "app", "cidr": "10.7.0.0/16"}], **extra}


def parse(document: object) -> Scenario:
    return parse_scenario(document, "test.yaml", "test")


def test_no_throttle_key_means_no_throttle() -> None:
    assert parse(doc()).throttle is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({}, 1.0),
        ({"time_scale": 60}, 60.0),
        ({"time_scale": 0.5}, 0.5),
        ({"time_scale": 3600}, 3600.0),
    ],
)
def test_throttle_with_its_time_scale(value: dict[str, Any], expected: float) -> None:
    assert parse(doc(throttle=value)).throttle == ThrottleSpec(expected)


@pytest.mark.parametrize(
    ("value", "path", "problem"),
    [
        (True, "throttle", "expected a mapping, got a boolean"),
        ({"scale": 60}, "throttle.scale", "did you mean 'time_scale'?"),
        ({"time_scale": "60"}, "throttle.time_scale", "expected a number, got a string"),
        ({"time_scale": True}, "throttle.time_scale", "expected a number, got a boolean"),
        ({"time_scale": 0}, "throttle.time_scale", "more than 0 and at most 3600, got 0"),
        ({"time_scale": -2}, "throttle.time_scale", "more than 0"),
        ({"time_scale": 7200}, "throttle.time_scale", "at most 3600, got 7200"),
    ],
)
def test_a_bad_throttle_is_one_line(value: object, path: str, problem: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        parse(doc(throttle=value))
    assert str(caught.value).startswith(f"test.yaml: {path}: ")
    assert problem in caught.value.problem


class RecordingControl:
    """The part of SandboxControl that seeding uses, recording each configure call."""

    def __init__(self) -> None:
        self.configured: list[dict[str, Any]] = []

    def configure(self, **settings: Any) -> None:
        self.configured.append(settings)

    def seed_outpost(self, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("no Outpost in this scenario")


class FakeEc2:
    """Just enough EC2 for a VPC-only seed."""

    class meta:  # boto3's attribute name
        region_name = "us-east-1"

    def create_vpc(self, **_: Any) -> dict[str, Any]:
        return {"Vpc": {"VpcId": "vpc-0123456789abcdef0", "OwnerId": "123456789012"}}

    def describe_route_tables(self, **_: Any) -> dict[str, Any]:
        main = {"Main": True, "RouteTableAssociationId": "rtbassoc-0123456789abcdef0"}
        return {"RouteTables": [{"RouteTableId": "rtb-0123456789abcdef0", "Associations": [main]}]}


def test_seeding_turns_the_throttle_on_last() -> None:
    control = RecordingControl()
    seed(parse(doc(throttle={"time_scale": 60})), FakeEc2(), control)  # type: ignore[arg-type]
    assert control.configured == [
        {"routes_per_table": 50},
        {"throttle": True, "time_scale": 60.0},
    ]
    control = RecordingControl()
    seed(parse(doc()), FakeEc2(), control)  # type: ignore[arg-type]
    assert control.configured == [{"routes_per_table": 50}]
