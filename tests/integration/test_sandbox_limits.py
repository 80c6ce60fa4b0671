"""The sandbox refuses what AWS refuses for its size (docs/aws-facts.md, "Size limits"), through
boto3: an SNS message over 256 KB, a DynamoDB item over 400 KB, and a Lambda task result over
256 KiB, which ends the execution with States.DataLimitExceeded that States.ALL does not catch."""

from __future__ import annotations

import io
import json
import time
import zipfile
from typing import Any

import pytest
import requests
from botocore.exceptions import ClientError

from outpost_mesh_sandbox.aws.server import Sandbox

SNS_LIMIT = 262_144
ATTRIBUTES = {"kind": {"DataType": "String", "StringValue": "conflict"}}
ATTRIBUTE_BYTES = len("kind") + len("String") + len("conflict")


def _topic(sb: Sandbox) -> tuple[Any, str]:
    sns = sb.client("sns")
    return sns, sns.create_topic(Name="limits")["TopicArn"]


def test_sns_takes_a_message_of_256_kb_with_its_attributes(sb: Sandbox) -> None:
    sns, topic = _topic(sb)
    body = "x" * (SNS_LIMIT - ATTRIBUTE_BYTES)
    assert sns.publish(TopicArn=topic, Message=body, MessageAttributes=ATTRIBUTES)["MessageId"]


def test_sns_refuses_a_message_over_256_kb_counting_its_attributes(sb: Sandbox) -> None:
    sns, topic = _topic(sb)
    body = "x" * (SNS_LIMIT - ATTRIBUTE_BYTES + 1)
    with pytest.raises(ClientError) as refused:
        sns.publish(TopicArn=topic, Message=body, MessageAttributes=ATTRIBUTES)
    error = refused.value.response["Error"]
    assert error["Code"] == "InvalidParameter"
    assert error["Message"] == "Invalid parameter: Message too long"


def test_sns_counts_utf8_bytes_not_characters(sb: Sandbox) -> None:
    sns, topic = _topic(sb)
    body = "é" * (SNS_LIMIT // 2 + 1)  # fewer characters than the limit, more bytes
    with pytest.raises(ClientError) as refused:
        sns.publish(TopicArn=topic, Message=body)
    assert refused.value.response["Error"]["Code"] == "InvalidParameter"


def _table(sb: Sandbox) -> Any:
    dynamodb = sb.client("dynamodb")
    dynamodb.create_table(
        TableName="limits",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return dynamodb


def test_dynamodb_refuses_an_item_over_400_kb(sb: Sandbox) -> None:
    dynamodb = _table(sb)
    dynamodb.put_item(TableName="limits", Item={"pk": {"S": "small"}, "v": {"S": "x" * 390_000}})
    with pytest.raises(ClientError) as refused:
        dynamodb.put_item(
            TableName="limits", Item={"pk": {"S": "big"}, "v": {"S": "x" * (400 * 1024)}}
        )
    error = refused.value.response["Error"]
    assert error["Code"] == "ValidationException"
    assert "Item size has exceeded the maximum allowed size" in error["Message"]
    assert "Item" not in dynamodb.get_item(TableName="limits", Key={"pk": {"S": "big"}})


def test_dynamodb_refuses_an_update_that_grows_an_item_over_400_kb(sb: Sandbox) -> None:
    dynamodb = _table(sb)
    dynamodb.put_item(TableName="limits", Item={"pk": {"S": "k"}, "a": {"S": "x" * 300_000}})
    with pytest.raises(ClientError) as refused:
        dynamodb.update_item(
            TableName="limits",
            Key={"pk": {"S": "k"}},
            UpdateExpression="SET b = :b",
            ExpressionAttributeValues={":b": {"S": "y" * 200_000}},
        )
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    item = dynamodb.get_item(TableName="limits", Key={"pk": {"S": "k"}})["Item"]
    assert "b" not in item


# -- Step Functions: a Lambda result over 256 KiB -------------------------------------------------
# The Lambda task as a bare function ARN, and as the service integration the project's state
# machine uses (whose result is the whole invocation response, Payload included).
TASKS = {
    "function-arn": {"Resource": "{function}"},
    "lambda-invoke": {
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "{function}", "Payload.$": "$"},
    },
}


def _machine(task: dict[str, Any], function: str) -> str:
    answer = {
        "Type": "Task",
        **task,
        "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Caught"}],
        "End": True,
    }
    machine = {
        "StartAt": "Answer",
        "States": {"Answer": answer, "Caught": {"Type": "Pass", "End": True}},
    }
    return json.dumps(machine).replace("{function}", function)


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return event\n")
    return buffer.getvalue()


def _run_answering(
    sb: Sandbox, task: dict[str, Any], result: str
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A state machine whose Lambda task (Catch States.ALL -> Caught) answers ``result`` (moto's
    simple Lambda answers what its queue holds); the finished execution and its history."""
    iam = sb.client("iam")
    role = iam.create_role(RoleName="limits", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    function = sb.client("lambda").create_function(
        FunctionName="answer",
        Runtime="python3.13",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": _zip()},
    )["FunctionArn"]
    account = sb.client("sts").get_caller_identity()["Account"]
    queued = requests.post(
        f"{sb.endpoint_url}/moto-api/static/lambda-simple/response",
        json={"account_id": account, "region": sb.region, "results": [result]},
        timeout=30,
    )
    assert queued.status_code == 201, queued.text
    sfn = sb.client("stepfunctions")
    machine = sfn.create_state_machine(
        name="limits", definition=_machine(task, function), roleArn=role
    )
    arn = sfn.start_execution(
        stateMachineArn=machine["stateMachineArn"], name="limits-1", input="{}"
    )["executionArn"]
    deadline = time.monotonic() + 30
    execution = sfn.describe_execution(executionArn=arn)
    while execution["status"] == "RUNNING" and time.monotonic() < deadline:
        time.sleep(0.05)  # polling an engine that runs in a thread, with a deadline
        execution = sfn.describe_execution(executionArn=arn)
    history = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
    return execution, history


def _entered(history: list[dict[str, Any]]) -> list[str]:
    return [
        e["stateEnteredEventDetails"]["name"] for e in history if "stateEnteredEventDetails" in e
    ]


@pytest.mark.parametrize("task", TASKS.values(), ids=list(TASKS))
def test_a_lambda_result_over_256_kib_ends_the_execution_uncaught(
    sb: Sandbox, task: dict[str, Any]
) -> None:
    execution, history = _run_answering(sb, task, json.dumps({"blob": "x" * 262_144}))
    assert execution["status"] == "FAILED"
    assert execution["error"] == "States.DataLimitExceeded"
    assert _entered(history) == ["Answer"]  # the Catch on States.ALL did not run


@pytest.mark.parametrize("task", TASKS.values(), ids=list(TASKS))
def test_a_lambda_result_under_256_kib_goes_on(sb: Sandbox, task: dict[str, Any]) -> None:
    execution, history = _run_answering(sb, task, json.dumps({"blob": "x" * 200_000}))
    assert execution["status"] == "SUCCEEDED"
    assert _entered(history) == ["Answer"]
