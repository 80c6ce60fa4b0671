"""The sandbox's control plane: fault injection, call recording, reset, server lifecycle."""

from __future__ import annotations

import json
import os
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from outpost_mesh_sandbox.aws.control import SandboxControl, SandboxControlError
from outpost_mesh_sandbox.aws.identities import PIPELINE_ACCESS_KEY, SCENARIO_ACCESS_KEY
from outpost_mesh_sandbox.aws.server import Sandbox


def test_fault_hits_the_next_n_calls_whoever_calls(
    sb: Sandbox, ec2: Any, scenario_ec2: Any
) -> None:
    sb.control.inject_fault("DescribeVpcs", "RequestLimitExceeded", times=2)
    outcomes = []
    for client in (ec2, scenario_ec2, ec2):
        try:
            client.describe_vpcs()
            outcomes.append(("ok", 200))
        except ClientError as exc:
            outcomes.append(
                (exc.response["Error"]["Code"], exc.response["ResponseMetadata"]["HTTPStatusCode"])
            )
    assert outcomes == [("RequestLimitExceeded", 503), ("RequestLimitExceeded", 503), ("ok", 200)]
    recorded = [(c.caller, c.status, c.error_code) for c in sb.control.calls()]
    assert recorded == [
        (PIPELINE_ACCESS_KEY, 503, "RequestLimitExceeded"),
        (SCENARIO_ACCESS_KEY, 503, "RequestLimitExceeded"),
        (PIPELINE_ACCESS_KEY, 200, ""),
    ]


def test_fault_is_ec2_shaped_and_the_call_does_not_run(sb: Sandbox, ec2: Any) -> None:
    sb.control.inject_fault("CreateVpc", "UnauthorizedOperation", message="You are not authorized.")
    with pytest.raises(ClientError) as exc:
        ec2.create_vpc(CidrBlock="10.7.0.0/16")
    assert exc.value.response["Error"] == {
        "Code": "UnauthorizedOperation",
        "Message": "You are not authorized.",
    }
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert ec2.describe_vpcs()["Vpcs"] == []
    faulted = sb.control.calls()[0]
    assert faulted.action == "CreateVpc"
    assert faulted.response.startswith("<?xml")
    assert "<Errors><Error><Code>UnauthorizedOperation</Code>" in faulted.response
    assert "<RequestID>" in faulted.response
    # Only that action is faulted, and only once.
    ec2.create_vpc(CidrBlock="10.7.0.0/16")
    assert len(ec2.describe_vpcs()["Vpcs"]) == 1


def test_faults_for_json_services(sb: Sandbox) -> None:
    sfn = sb.client("stepfunctions")
    sb.control.inject_fault("ListStateMachines", "ThrottlingException", service="states")
    with pytest.raises(ClientError) as exc:
        sfn.list_state_machines()
    assert exc.value.response["Error"]["Code"] == "ThrottlingException"
    assert sfn.list_state_machines()["stateMachines"] == []


def test_fault_and_control_argument_errors(sb: Sandbox) -> None:
    with pytest.raises(SandboxControlError):
        sb.control.inject_fault("CreateRoute", "RequestLimitExceeded", times=0)
    with pytest.raises(SandboxControlError):
        sb.control.configure(routes_per_table=0)
    with pytest.raises(SandboxControlError):
        sb.control.fail_next_associations(-1)
    sb.control.inject_fault("CreateRoute", "RequestLimitExceeded", times=3)
    sb.control.clear_faults()
    assert sb.control.config() == {
        "routes_per_table": 50,
        "association_describes": 1,
        "disassociation_describes": 1,
        "failing_associations": 0,
    }


def test_calls_record_params_and_mutating_responses(sb: Sandbox, ec2: Any) -> None:
    vpc = ec2.create_vpc(
        CidrBlock="10.7.0.0/16",
        TagSpecifications=[{"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": "app"}]}],
    )["Vpc"]["VpcId"]
    ec2.describe_vpcs(Filters=[{"Name": "vpc-id", "Values": [vpc]}])
    with pytest.raises(ClientError):
        ec2.delete_route(RouteTableId="rtb-00000000000000000", DestinationCidrBlock="10.0.0.0/24")
    create, describe, failed = sb.control.calls()
    assert (create.service, create.action, create.caller, create.status) == (
        "ec2",
        "CreateVpc",
        PIPELINE_ACCESS_KEY,
        200,
    )
    assert create.region == "us-east-1"
    assert create.params["CidrBlock"] == "10.7.0.0/16"
    assert create.params["TagSpecification.1.ResourceType"] == "vpc"
    assert create.params["TagSpecification.1.Tag.1.Value"] == "app"
    assert f"<vpcId>{vpc}</vpcId>" in create.response
    assert create.time <= time.time()
    assert describe.params["Filter.1.Name"] == "vpc-id"
    assert describe.response == ""  # read-only actions keep no body
    assert (failed.status, failed.error_code) == (400, "InvalidRouteTableID.NotFound")
    assert "InvalidRouteTableID.NotFound" in failed.response
    assert [c.seq for c in sb.control.calls(since=create.seq)] == [describe.seq, failed.seq]


def test_call_counts_per_caller(sb: Sandbox, ec2: Any, scenario_ec2: Any) -> None:
    scenario_ec2.create_vpc(CidrBlock="10.7.0.0/16")
    ec2.describe_vpcs()
    ec2.describe_vpcs()
    ec2.describe_subnets()
    assert sb.control.call_counts(caller="pipeline") == {"DescribeSubnets": 1, "DescribeVpcs": 2}
    assert sb.control.call_counts(caller=PIPELINE_ACCESS_KEY) == {
        "DescribeSubnets": 1,
        "DescribeVpcs": 2,
    }
    assert sb.control.call_counts(caller="scenario") == {"CreateVpc": 1}
    assert sb.control.call_counts() == {"CreateVpc": 1, "DescribeSubnets": 1, "DescribeVpcs": 2}
    assert sb.control.call_counts(service="states") == {}


def test_reset_returns_to_an_empty_default_account(sb: Sandbox, ec2: Any) -> None:
    rack = sb.control.seed_outpost("rack-a")
    ec2.create_vpc(CidrBlock="10.7.0.0/16")
    sb.control.configure(routes_per_table=2, association_describes=5)
    sb.control.inject_fault("DescribeVpcs", "RequestLimitExceeded", times=5)
    sb.control.fail_next_associations(3)
    sb.control.reset()
    assert sb.control.outposts() == []
    assert sb.control.calls() == []
    assert ec2.describe_vpcs()["Vpcs"] == []  # no fault left, no VPC, no default VPC
    assert ec2.describe_local_gateways()["LocalGateways"] == []
    assert sb.control.config()["routes_per_table"] == 50
    # The old rack is gone; a new one with the same name can be seeded.
    assert sb.control.seed_outpost("rack-a").outpost_id != rack.outpost_id
    vpc = ec2.create_vpc(CidrBlock="10.7.0.0/16")["Vpc"]["VpcId"]
    fresh = sb.control.outposts()[0]
    association = ec2.create_local_gateway_route_table_vpc_association(
        LocalGatewayRouteTableId=fresh.local_gateway_route_table_id, VpcId=vpc
    )["LocalGatewayRouteTableVpcAssociation"]["LocalGatewayRouteTableVpcAssociationId"]
    states = [
        ec2.describe_local_gateway_route_table_vpc_associations(
            LocalGatewayRouteTableVpcAssociationIds=[association]
        )["LocalGatewayRouteTableVpcAssociations"][0]["State"]
        for _ in range(2)
    ]
    assert states == ["associating", "associated"]


def test_step_functions_execute_after_start_and_reset(sb: Sandbox) -> None:
    from moto.core.config import default_user_config

    assert default_user_config["stepfunctions"]["execute_state_machine"] is True
    assert default_user_config["lambda"]["use_docker"] is False
    assert os.environ["MOTO_PORT"] == str(sb.port)
    sfn = sb.client("stepfunctions")
    definition = {
        "StartAt": "Done",
        "States": {"Done": {"Type": "Pass", "Result": {"ok": True}, "End": True}},
    }
    machine = sfn.create_state_machine(
        name="probe",
        definition=json.dumps(definition),
        roleArn="arn:aws:iam::123456789012:role/probe",
    )["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=machine, name="probe-1", input="{}")[
        "executionArn"
    ]
    deadline = time.monotonic() + 20
    status = "RUNNING"
    while status == "RUNNING" and time.monotonic() < deadline:
        described = sfn.describe_execution(executionArn=execution)
        status = described["status"]
    assert status == "SUCCEEDED"
    assert json.loads(described["output"]) == {"ok": True}
    start = next(c for c in sb.control.calls() if c.action == "StartExecution")
    assert start.service == "states"
    assert start.params["name"] == "probe-1"


def test_a_second_server_on_all_interfaces_reports_loopback(sandbox: Sandbox) -> None:
    moto_port = os.environ.get("MOTO_PORT")
    with Sandbox(host="0.0.0.0") as other:
        assert other.endpoint_url == f"http://127.0.0.1:{other.port}"
        assert other.port != sandbox.port
        assert SandboxControl(other.endpoint_url).health()
        assert other.client("ec2", caller="scenario").describe_vpcs()["Vpcs"] == []
    assert os.environ.get("MOTO_PORT") == moto_port
    sandbox.control.reset()  # the shared moto state was reset by the other server: back to known


def test_client_rejects_unknown_callers(sb: Sandbox) -> None:
    with pytest.raises(ValueError):
        sb.client("ec2", caller="someone")
