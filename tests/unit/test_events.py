"""CloudTrail event parsing: both shapes, thin events, and rejection of what is not ours."""

from __future__ import annotations

import copy
import subprocess
import sys
from typing import Any

import pytest
from pydantic import ValidationError

from outpost_mesh.events import CloudTrailEvent, execution_name, hint_from

VPC = "vpc-0a1b2c3d4e5f60718"
SUBNET = "subnet-0123456789abcdef0"
RTB = "rtb-0fedcba9876543210"


def envelope(name: str, request: Any, response: Any) -> dict[str, Any]:
    return {
        "version": "0",
        "id": "7bf73129-1428-4cd3-a780-95db273d1602",
        "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.ec2",
        "account": "123456789012",
        "time": "2026-11-27T10:00:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": {
            "eventVersion": "1.09",
            "eventSource": "ec2.amazonaws.com",
            "eventName": name,
            "awsRegion": "us-east-1",
            "requestParameters": request,
            "responseElements": response,
        },
    }


LEGACY_CREATE_SUBNET = envelope(
    "CreateSubnet",
    {"vpcId": VPC, "cidrBlock": "10.7.11.0/24", "availabilityZone": "us-east-1a"},
    {"requestId": "r-1", "subnet": {"subnetId": SUBNET, "vpcId": VPC, "state": "available"}},
)
WRAPPED_CREATE_SUBNET = envelope(
    "CreateSubnet",
    {"CreateSubnetRequest": {"VpcId": VPC, "CidrBlock": "10.7.11.0/24"}},
    {
        "CreateSubnetResponse": {
            "xmlns": "http://ec2.amazonaws.com/doc/2016-11-15/",
            "requestId": "r-1",
            "subnet": {"subnetId": SUBNET, "vpcId": VPC},
        }
    },
)


@pytest.mark.parametrize("event", [LEGACY_CREATE_SUBNET, WRAPPED_CREATE_SUBNET])
def test_create_subnet_names_its_vpc_in_either_shape(event: dict[str, Any]) -> None:
    hint = hint_from(CloudTrailEvent.model_validate(event))
    assert hint.vpc_ids == (VPC,)
    assert hint.subnet_ids == (SUBNET,)


def test_delete_subnet_names_no_vpc() -> None:
    event = envelope("DeleteSubnet", {"subnetId": SUBNET}, {"requestId": "r", "_return": True})
    hint = hint_from(CloudTrailEvent.model_validate(event))
    assert (hint.vpc_ids, hint.subnet_ids) == ((), (SUBNET,))


def test_association_events_give_route_table_and_subnet() -> None:
    event = envelope(
        "AssociateRouteTable",
        {"routeTableId": RTB, "subnetId": SUBNET},
        {"requestId": "r", "associationId": "rtbassoc-0123456789abcdef0"},
    )
    hint = hint_from(CloudTrailEvent.model_validate(event))
    assert (hint.route_table_ids, hint.subnet_ids, hint.vpc_ids) == ((RTB,), (SUBNET,), ())


def test_xml_quirk_item_sets_are_searched() -> None:
    event = envelope(
        "ReplaceRouteTableAssociation",
        {"ReplaceRouteTableAssociationRequest": {"items": [{"RouteTableId": RTB, "tag": 1}]}},
        {"ReplaceRouteTableAssociationResponse": {"item": {"newAssociationId": "rtbassoc-1"}}},
    )
    assert hint_from(CloudTrailEvent.model_validate(event)).route_table_ids == (RTB,)


@pytest.mark.parametrize(
    "mutate",
    [
        lambda e: e.update(source="aws.s3"),
        lambda e: e["detail"].update(eventName="RunInstances"),
        lambda e: e["detail"].update(eventSource="s3.amazonaws.com"),
        lambda e: e.pop("detail"),
        lambda e: e.update(id=""),
        lambda e: e.update({"detail-type": "Scheduled Event"}),
    ],
)
def test_events_that_are_not_ours_are_rejected(mutate: Any) -> None:
    event = copy.deepcopy(LEGACY_CREATE_SUBNET)
    mutate(event)
    with pytest.raises(ValidationError):
        CloudTrailEvent.model_validate(event)


def test_ids_that_do_not_look_like_ids_are_ignored() -> None:
    event = envelope("CreateSubnet", {"vpcId": "vpc-; DROP TABLE"}, {"subnet": {"vpcId": 7}})
    assert hint_from(CloudTrailEvent.model_validate(event)).vpc_ids == ()


def test_execution_names_are_stable_valid_and_short() -> None:
    name = execution_name(VPC, "7bf73129-1428-4cd3-a780-95db273d1602")
    assert name == execution_name(VPC, "7bf73129-1428-4cd3-a780-95db273d1602")
    assert len(execution_name(VPC, "x" * 200)) == 80
    assert execution_name(VPC, "a b:c/d") == f"{VPC}-a-b-c-d"


def test_input_models_are_built_on_first_parse_not_at_import() -> None:
    """Every handler imports every input model (through workflow); building all their
    validators at import would be paid by every cold start (bench/coldstart.py)."""
    probe = (
        "import outpost_mesh.events as e, outpost_mesh.task_models as t\n"
        "from pydantic import BaseModel\n"
        "models = [v for m in (e, t) for v in vars(m).values()\n"
        "          if isinstance(v, type) and issubclass(v, BaseModel) and v is not BaseModel]\n"
        "built = [m.__name__ for m in models if m.__pydantic_complete__]\n"
        "assert models and not built, built\n"
        "assert t.PlanInput.model_validate("
        "{'vpc_id': 'vpc-0a1b2c3d4e5f60718', 'execution_name': 'x'}).vpc_id\n"
        "assert t.PlanInput.__pydantic_complete__\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
