"""Static checks of the Organization-wide pieces (issue 15): the hub (hub.yaml), the artifacts
bucket (artifacts-bucket.yaml), the member stack's hub parameters and read-only role
(template.yaml), and what `make stackset` deploys (scripts/stackset.py).

Offline and fast. Resource policies are judged by a small evaluator of the statements as
deployed (parameters and references filled in by the sandbox's template reader): a principal is
admitted only if an Allow statement names it (or "*"), the action and the resource, and every
condition operator of the statement holds for its request context. An operator the evaluator does
not know fails the test: it never guesses in a policy's favour.
"""

from __future__ import annotations

import json
import re
import runpy
import subprocess
import sys
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from outpost_mesh_sandbox.stack.template import StackTemplate, load_template

REPO = Path(__file__).resolve().parent.parent
TEMPLATE = REPO / "template.yaml"
HUB = REPO / "hub.yaml"
ARTIFACTS_BUCKET = REPO / "artifacts-bucket.yaml"
REPORTS = REPO / "reports" / "org-templates"  # git-ignored

ORG = "o-exampleorg1"
OTHER_ORG = "o-someoneelse"
HUB_ACCOUNT = "111122223333"
MEMBER_ACCOUNT = "444455556666"
OUTSIDER_ACCOUNT = "777788889999"
BUS_ARN = f"arn:aws:events:us-east-1:{HUB_ACCOUNT}:event-bus/outpost-mesh-fleet"

# The event contract members put on the hub's bus (docs/architecture.md, "Organization-wide").
EVENT_SOURCE = "outpost-mesh"
DETAIL_TYPES = {
    "outpost-mesh Finding",
    "outpost-mesh Notice",
    "outpost-mesh Execution Outcome",
}
# The functions that notify (ReconcileService: findings from plan, failures from rollback).
NOTIFIERS = {
    "PlanFunction",
    "RollbackFunction",
    "RequestApprovalFunction",
    "ReleaseFunction",  # SUCCEEDED outcomes, on the hub only
}
# What FleetReadRole may do: reads only. kms:Decrypt/DescribeKey only through DynamoDB, for a
# ledger encrypted with KmsKeyArn.
READ_ONLY_ACTION = re.compile(
    r"^[a-z0-9-]+:(Describe[A-Za-z0-9]*|Get[A-Za-z0-9]*|List[A-Za-z0-9]*|Query|BatchGetItem)$"
)
KMS_THROUGH_DYNAMODB = {"kms:Decrypt", "kms:DescribeKey"}


# scripts/stackset.py's names (it is a script, not a package module).
stackset = SimpleNamespace(**runpy.run_path(str(REPO / "scripts" / "stackset.py")))


# -- a small policy evaluator ------------------------------------------------------------------
def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _matches(pattern: str, value: str) -> bool:
    return re.fullmatch(re.escape(pattern).replace(r"\*", ".*"), value) is not None


def _principal_matches(principal: Any, account: str) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, Mapping):
        return False
    named = [str(p) for p in as_list(principal.get("AWS", []))]
    return "*" in named or any(p in (account, f"arn:aws:iam::{account}:root") for p in named)


def _condition_holds(operator: str, wanted: list[str], present: list[str] | None) -> bool:
    if operator == "StringEquals":
        return present is not None and len(present) == 1 and present[0] in wanted
    if operator == "ForAllValues:StringEquals":
        return all(value in wanted for value in present or [])
    if operator == "Bool":
        return present is not None and [v.lower() for v in present] == [w.lower() for w in wanted]
    raise AssertionError(f"the evaluator does not know condition operator {operator}")


def allowed(
    policy: Mapping[str, Any], account: str, action: str, resource: str, context: dict[str, Any]
) -> bool:
    """Whether ``policy`` admits a principal of ``account`` calling ``action`` on ``resource``
    with the request context ``context`` (key -> values): an explicit Deny wins."""
    verdicts = []
    for statement in as_list(policy["Statement"]):
        if not _principal_matches(statement.get("Principal"), account):
            continue
        if not any(_matches(a, action) for a in as_list(statement["Action"])):
            continue
        if not any(_matches(r, resource) for r in as_list(statement["Resource"])):
            continue
        holds = all(
            _condition_holds(operator, [str(w) for w in as_list(wanted)], context.get(key))
            for operator, pairs in statement.get("Condition", {}).items()
            for key, wanted in pairs.items()
        )
        if holds:
            verdicts.append(statement["Effect"])
    return "Allow" in verdicts and "Deny" not in verdicts


def request(org: str, account: str, **more: list[str]) -> dict[str, list[str]]:
    return {
        "aws:PrincipalOrgID": [org],
        "aws:PrincipalAccount": [account],
        "aws:SecureTransport": ["true"],
        **more,
    }


# -- loading ------------------------------------------------------------------------------------
def stack(path: Path, **parameters: str) -> StackTemplate:
    """A template with its parameters set and every resource's Ref/Arn a plausible value."""
    loaded = load_template(path, account=HUB_ACCOUNT, parameters=dict(parameters))
    for logical_id in loaded.doc["Resources"]:
        loaded.refs.setdefault(logical_id, f"{logical_id.lower()}-ref")
        loaded.attrs.setdefault(
            (logical_id, "Arn"), f"arn:aws:x:us-east-1:{HUB_ACCOUNT}:{logical_id}"
        )
    return loaded


def resources(doc: Mapping[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in doc["Resources"].items() if v["Type"] == kind}


def if_branches(value: Any) -> Iterator[Any]:
    """Both branches of an Fn::If (recursively); the value itself otherwise."""
    if isinstance(value, dict) and set(value) == {"Fn::If"}:
        _, when_true, when_false = value["Fn::If"]
        yield from if_branches(when_true)
        yield from if_branches(when_false)
    elif value != {"Ref": "AWS::NoValue"}:
        yield value


def role_statements(role: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every statement of an IAM role's inline policies, in every Fn::If branch."""
    found = []
    for item in role["Properties"].get("Policies", []):
        for branch in if_branches(item):
            found += as_list(branch["PolicyDocument"]["Statement"])
    return found


@pytest.fixture(scope="module")
def hub() -> StackTemplate:
    loaded = stack(HUB, OrganizationId=ORG)
    loaded.attrs[("FleetBus", "Arn")] = BUS_ARN
    loaded.attrs[("FleetDeadLetters", "QueueName")] = "fleet-dead-letters"
    return loaded


@pytest.fixture(scope="module")
def member() -> StackTemplate:
    return load_template(TEMPLATE)


# -- the hub ------------------------------------------------------------------------------------
def bus_policy(hub: StackTemplate) -> dict[str, Any]:
    resource = hub.doc["Resources"]["FleetBusPolicy"]["Properties"]
    return {"Statement": [hub.resolve(resource["Statement"], "FleetBusPolicy")]}


def test_hub_bus_admits_the_organization_and_denies_a_principal_outside_it(
    hub: StackTemplate,
) -> None:
    policy = bus_policy(hub)
    source = {"events:source": [EVENT_SOURCE]}
    member_puts = request(ORG, MEMBER_ACCOUNT, **source)
    assert allowed(policy, MEMBER_ACCOUNT, "events:PutEvents", BUS_ARN, member_puts)
    outsider = request(OTHER_ORG, OUTSIDER_ACCOUNT, **source)
    assert not allowed(policy, OUTSIDER_ACCOUNT, "events:PutEvents", BUS_ARN, outsider)
    no_org = {"aws:PrincipalAccount": [OUTSIDER_ACCOUNT], **source}
    assert not allowed(policy, OUTSIDER_ACCOUNT, "events:PutEvents", BUS_ARN, no_org)
    # members put outpost-mesh events only, and only that: no rule or target changes
    other_source = request(ORG, MEMBER_ACCOUNT, **{"events:source": ["aws.ec2"]})
    assert not allowed(policy, MEMBER_ACCOUNT, "events:PutEvents", BUS_ARN, other_source)
    for action in ("events:PutRule", "events:PutTargets", "events:DeleteRule"):
        assert not allowed(policy, MEMBER_ACCOUNT, action, BUS_ARN, member_puts), action


def policy_statements(value: Any) -> Iterator[dict[str, Any]]:
    """Every policy statement in a resolved value, JSON policy documents in strings included."""
    if isinstance(value, dict):
        if "Effect" in value:
            yield value
        for inner in value.values():
            yield from policy_statements(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from policy_statements(inner)
    elif isinstance(value, str) and value.lstrip().startswith("{") and "Statement" in value:
        yield from policy_statements(json.loads(value))


def test_hub_has_no_wildcard_principal_without_the_organization_condition(
    hub: StackTemplate,
) -> None:
    everything = hub.resolve(hub.doc["Resources"], "Resources")
    statements = list(policy_statements(everything))
    assert len(statements) >= 6  # bus, topic (2), queue (2), logs
    for statement in statements:
        if statement["Effect"] == "Allow" and "*" in json.dumps(statement.get("Principal")):
            assert statement["Condition"]["StringEquals"]["aws:PrincipalOrgID"] == ORG, statement


def test_hub_has_no_role_and_grants_nothing_in_another_account(hub: StackTemplate) -> None:
    """The hub only receives: no IAM resource at all; every resource policy grants a service
    principal of this account's resources, or the Organization's PutEvents on the bus."""
    assert not [k for k, v in hub.doc["Resources"].items() if v["Type"].startswith("AWS::IAM::")]
    assert "RoleArn" not in json.dumps(hub.doc["Resources"]["FleetEventsRule"])
    policies = {
        "FleetTopicPolicy": "PolicyDocument",
        "FleetDeadLettersPolicy": "PolicyDocument",
    }
    for logical_id, prop in policies.items():
        document = hub.resolve(hub.doc["Resources"][logical_id]["Properties"][prop], logical_id)
        for statement in document["Statement"]:
            if statement["Effect"] == "Allow":
                assert set(statement["Principal"]) == {"Service"}, logical_id
            for resource in as_list(statement["Resource"]):
                assert HUB_ACCOUNT in resource or resource.endswith("-ref"), resource
    logs = json.loads(
        hub.resolve(
            hub.doc["Resources"]["FleetLogGroupPolicy"]["Properties"]["PolicyDocument"], "logs"
        )
    )
    for statement in logs["Statement"]:
        assert set(statement["Principal"]) == {"Service"}
        assert set(statement["Action"]) == {"logs:CreateLogStream", "logs:PutLogEvents"}
        assert statement["Resource"] == hub.attrs[("FleetLogGroup", "Arn")]
    assert bus_policy(hub)["Statement"][0]["Resource"] == BUS_ARN


def test_hub_rule_sends_the_contract_to_one_topic_and_the_fleet_log(hub: StackTemplate) -> None:
    from moto.events.models import EventPattern

    rule = hub.doc["Resources"]["FleetEventsRule"]["Properties"]
    assert rule["EventBusName"] == {"Ref": "FleetBus"}
    pattern = rule["EventPattern"]
    assert pattern["source"] == [EVENT_SOURCE]
    assert sorted(pattern["detail-type"]) == sorted(DETAIL_TYPES)
    assert set(pattern) == {"source", "detail-type"}
    matcher = EventPattern.load(json.dumps(pattern))
    for detail_type in DETAIL_TYPES:
        event = {"source": EVENT_SOURCE, "detail-type": detail_type, "detail": {}}
        assert matcher.matches_event(event), detail_type
    assert not matcher.matches_event({"source": "aws.ec2", "detail-type": "outpost-mesh Finding"})
    targets = {t["Id"]: t for t in rule["Targets"]}
    assert targets["FleetTopic"]["Arn"] == {"Ref": "FleetTopic"}
    assert targets["FleetLog"]["Arn"] == {"Fn::GetAtt": ["FleetLogGroup", "Arn"]}
    for target in targets.values():
        assert target["DeadLetterConfig"]["Arn"] == {"Fn::GetAtt": ["FleetDeadLetters", "Arn"]}
    assert len(resources(hub.doc, "AWS::SNS::Topic")) == 1
    assert len(resources(hub.doc, "AWS::CloudWatch::Dashboard")) == 1


def test_hub_dashboard_names_the_rule_the_metrics_carry(hub: StackTemplate) -> None:
    """A custom bus's rule metrics carry EventBusName and RuleName: the rule's fixed name."""
    body = hub.resolve(hub.doc["Resources"]["FleetDashboard"]["Properties"]["DashboardBody"], "d")
    widgets = json.loads(body)["widgets"]
    rule_name = hub.resolve(hub.doc["Resources"]["FleetEventsRule"]["Properties"]["Name"], "r")
    metrics = [m for w in widgets for m in w["properties"].get("metrics", [])]
    assert metrics
    for metric in metrics:
        assert metric[2:6] == ["EventBusName", "outpost-mesh-fleet", "RuleName", rule_name]
    queries = " ".join(w["properties"].get("query", "") for w in widgets)
    assert "SOURCE '/aws/events/outpost-mesh-fleet'" in queries.replace(
        hub.refs["FleetLogGroup"], "/aws/events/outpost-mesh-fleet"
    )


# -- the artifacts bucket -----------------------------------------------------------------------
def test_artifacts_bucket_is_read_by_the_organization_only() -> None:
    bucket = stack(ARTIFACTS_BUCKET, OrganizationId=ORG, ArtifactsBucketPrefix="om-artifacts")
    arn = "arn:aws:s3:::om-artifacts-us-east-1"
    bucket.attrs[("ArtifactsBucket", "Arn")] = arn
    policy = bucket.resolve(
        bucket.doc["Resources"]["ArtifactsBucketPolicy"]["Properties"]["PolicyDocument"], "p"
    )
    code = f"{arn}/outpost-mesh/PlanFunction-0123456789abcdef.zip"
    assert allowed(policy, MEMBER_ACCOUNT, "s3:GetObject", code, request(ORG, MEMBER_ACCOUNT))
    outsider = request(OTHER_ORG, OUTSIDER_ACCOUNT)
    assert not allowed(policy, OUTSIDER_ACCOUNT, "s3:GetObject", code, outsider)
    plain_http = request(ORG, MEMBER_ACCOUNT, **{"aws:SecureTransport": ["false"]})
    assert not allowed(policy, MEMBER_ACCOUNT, "s3:GetObject", code, plain_http)
    for action in ("s3:PutObject", "s3:DeleteObject", "s3:PutBucketPolicy"):
        assert not allowed(policy, MEMBER_ACCOUNT, action, code, request(ORG, MEMBER_ACCOUNT))
    name = bucket.resolve(
        bucket.doc["Resources"]["ArtifactsBucket"]["Properties"]["BucketName"], ""
    )
    assert name == "om-artifacts-us-east-1"  # what the member template reads code from


# -- the member stack ---------------------------------------------------------------------------
def test_a_single_account_deploy_gets_no_hub_grant_no_role_and_no_variable(
    member: StackTemplate,
) -> None:
    params = member.doc["Parameters"]
    assert params["HubEventBusArn"]["Default"] == params["HubAccountId"]["Default"] == ""
    assert not member.condition("HasHubEventBus")
    assert not member.condition("HasHubAccount")
    assert member.doc["Resources"]["FleetReadRole"]["Condition"] == "HasHubAccount"
    assert member.doc["Outputs"]["FleetReadRoleArn"]["Condition"] == "HasHubAccount"
    env = member.doc["Globals"]["Function"]["Environment"]["Variables"]
    assert env["HUB_EVENT_BUS_ARN"] == {
        "Fn::If": ["HasHubEventBus", {"Ref": "HubEventBusArn"}, {"Ref": "AWS::NoValue"}]
    }


def test_only_the_notifiers_may_put_events_and_only_on_the_hub_bus(member: StackTemplate) -> None:
    functions = resources(member.doc, "AWS::Serverless::Function")
    putters = set()
    for logical_id, function in functions.items():
        for item in function["Properties"].get("Policies", []):
            grants = json.dumps(item)
            if "events:" not in grants:
                continue
            putters.add(logical_id)
            condition, when_set, when_empty = item["Fn::If"]
            assert (condition, when_empty) == ("HasHubEventBus", {"Ref": "AWS::NoValue"})
            assert when_set["Statement"] == [
                {
                    "Sid": "PutEventsOnHubBus",
                    "Effect": "Allow",
                    "Action": "events:PutEvents",
                    "Resource": {"Ref": "HubEventBusArn"},
                }
            ]
    assert putters == NOTIFIERS


def test_fleet_read_role_cannot_call_a_mutating_action(member: StackTemplate) -> None:
    statements = role_statements(member.doc["Resources"]["FleetReadRole"])
    assert statements
    for statement in statements:
        assert statement["Effect"] == "Allow"
        assert "NotAction" not in statement and "NotResource" not in statement
        for action in as_list(statement["Action"]):
            if action in KMS_THROUGH_DYNAMODB:
                via = statement["Condition"]["StringEquals"]["kms:ViaService"]
                assert via == {"Fn::Sub": "dynamodb.${AWS::Region}.amazonaws.com"}
            else:
                assert READ_ONLY_ACTION.match(action), f"FleetReadRole may {action}"
        if statement["Resource"] == "*":
            assert all(a.startswith("ec2:Describe") for a in as_list(statement["Action"]))


def test_the_read_only_check_refuses_a_mutating_action() -> None:
    """The pattern above is what stops a write: it must refuse each kind of one."""
    for action in (
        "ec2:CreateRoute",
        "ec2:DeleteLocalGatewayRouteTableVpcAssociation",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:BatchWriteItem",
        "states:StartExecution",
        "cloudformation:UpdateStack",
        "iam:PassRole",
        "ec2:*",
        "*",
    ):
        assert not READ_ONLY_ACTION.match(action), action


def test_fleet_read_role_is_assumed_from_the_hub_account_only(member: StackTemplate) -> None:
    set_up = StackTemplate(path=TEMPLATE, doc=member.doc, parameters={"HubAccountId": HUB_ACCOUNT})
    assert set_up.condition("HasHubAccount")
    role = member.doc["Resources"]["FleetReadRole"]["Properties"]
    trust = set_up.resolve(role["AssumeRolePolicyDocument"], "FleetReadRole")
    assert trust["Statement"] == [
        {
            "Sid": "HubAccountOnly",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{HUB_ACCOUNT}:root"},
            "Action": "sts:AssumeRole",
        }
    ]
    assume = {"aws:PrincipalAccount": [HUB_ACCOUNT]}
    assert allowed(
        {"Statement": [{**trust["Statement"][0], "Resource": "*"}]},
        HUB_ACCOUNT,
        "sts:AssumeRole",
        "role",
        assume,
    )
    assert not allowed(
        {"Statement": [{**trust["Statement"][0], "Resource": "*"}]},
        MEMBER_ACCOUNT,
        "sts:AssumeRole",
        "role",
        {"aws:PrincipalAccount": [MEMBER_ACCOUNT]},
    )
    assert set_up.resolve(role["RoleName"], "RoleName") == "outpost-mesh-fleet-read-us-east-1"


def test_fleet_read_role_reads_only_this_stacks_ledger_and_executions(
    member: StackTemplate,
) -> None:
    by_service: dict[str, list[Any]] = {}
    for statement in role_statements(member.doc["Resources"]["FleetReadRole"]):
        for service in {action.split(":")[0] for action in as_list(statement["Action"])}:
            by_service.setdefault(service, []).extend(as_list(statement["Resource"]))
    assert by_service["dynamodb"] == [
        {"Fn::GetAtt": ["LedgerTable", "Arn"]},
        {"Fn::Sub": "${LedgerTable.Arn}/index/fleet"},
    ]
    assert by_service["states"] == [
        {
            "Fn::Sub": "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:"
            "stateMachine:${AWS::StackName}-reconcile"
        }
    ]
    assert by_service["cloudformation"] == [{"Ref": "AWS::StackId"}]
    assert set(by_service) == {"ec2", "dynamodb", "states", "cloudformation", "kms"}


# -- what a StackSet deploys --------------------------------------------------------------------
def fake_keys(template: Mapping[str, Any]) -> dict[str, str]:
    return {
        logical_id: stackset.artifact_key(logical_id, logical_id.encode())
        for logical_id in stackset.code_resources(template)
    }


@pytest.fixture(scope="module")
def translated(member: StackTemplate) -> tuple[dict[str, Any], dict[str, str]]:
    keys = fake_keys(member.doc)
    template = stackset.load_template(TEMPLATE)
    return stackset.translate(template, keys, REPO), keys


def test_stackset_template_has_no_transform_and_reads_code_from_the_bucket(
    translated: tuple[dict[str, Any], dict[str, str]],
) -> None:
    plain, keys = translated
    assert stackset.problems(plain, keys) == []
    assert "Transform" not in plain
    assert not [r for r in plain["Resources"].values() if r["Type"].startswith("AWS::Serverless")]
    functions = resources(plain, "AWS::Lambda::Function")
    # every function of the member stack, each a plain Lambda function reading its zip
    assert set(functions) == set(
        resources(stackset.load_template(TEMPLATE), "AWS::Serverless::Function")
    )
    layers = resources(plain, "AWS::Lambda::LayerVersion")
    assert len(layers) == 1
    bucket = {"Fn::Sub": "${ArtifactsBucketPrefix}-${AWS::Region}"}
    for logical_id, function in functions.items():
        assert function["Properties"]["Code"] == {"S3Bucket": bucket, "S3Key": keys[logical_id]}
    (layer,) = layers.values()
    assert layer["Properties"]["Content"] == {
        "S3Bucket": bucket,
        "S3Key": keys["OutpostMeshLayer"],
    }
    assert plain["Parameters"]["ArtifactsBucketPrefix"]["Type"] == "String"
    assert "Default" not in plain["Parameters"]["ArtifactsBucketPrefix"]


def test_stackset_template_keeps_the_workflow_the_hub_parameters_and_the_role(
    translated: tuple[dict[str, Any], dict[str, str]],
) -> None:
    plain, _ = translated
    machine = plain["Resources"]["ReconcileStateMachine"]["Properties"]
    assert "DefinitionS3Location" not in machine
    assert machine["DefinitionString"] == (REPO / "statemachine/reconcile.asl.json").read_text(
        encoding="utf-8"
    )
    assert set(machine["DefinitionSubstitutions"]) >= {"PlanFunctionArn", "RetryIntervalSeconds"}
    assert {"HubEventBusArn", "HubAccountId"} <= set(plain["Parameters"])
    assert plain["Resources"]["FleetReadRole"]["Condition"] == "HasHubAccount"
    plan_role = plain["Resources"]["PlanFunctionRole"]["Properties"]["Policies"]
    assert "PutEventsOnHubBus" in json.dumps(plan_role)
    assert "us-east-1" not in json.dumps(plain), "the translation fixed a Region"


def test_stackset_template_passes_cfn_lint(
    translated: tuple[dict[str, Any], dict[str, str]],
) -> None:
    plain, _ = translated
    REPORTS.mkdir(parents=True, exist_ok=True)
    path = REPORTS / "member.json"
    path.write_bytes(stackset.render(plain))
    assert len(path.read_bytes()) <= stackset.TEMPLATE_URL_MAX_BYTES
    done = subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint"), str(path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_stackset_problems_name_code_outside_the_bucket_and_a_transform(
    translated: tuple[dict[str, Any], dict[str, str]],
) -> None:
    plain, keys = translated
    broken = json.loads(json.dumps(plain))
    broken["Transform"] = "AWS::Serverless-2016-10-31"
    broken["Resources"]["PlanFunction"]["Properties"]["Code"]["S3Bucket"] = "somewhere-else"
    found = stackset.problems(broken, keys)
    assert "a Transform is left" in found
    assert any(p.startswith("PlanFunction: code not from the artifacts bucket") for p in found)
    assert f"artifact {keys['PlanFunction']} is not used" in found


def _fake_build(root: Path, template: Mapping[str, Any]) -> Path:
    build = root / "build"
    for logical_id in stackset.code_resources(template):
        layer = template["Resources"][logical_id]["Type"] == "AWS::Serverless::LayerVersion"
        # what sam build leaves: a function's app.py at the top, a layer's python/ folder
        file = build / logical_id / ("python/outpost_mesh/__init__.py" if layer else "app.py")
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(f"# {logical_id}\n", encoding="utf-8")
    return build


def test_make_stackset_packages_by_content_and_writes_what_it_translated(
    member: StackTemplate,
) -> None:
    root = REPORTS / "build-run"
    build = _fake_build(root, member.doc)
    member_json, keys = stackset.build(TEMPLATE, build, root / "out")
    again, same_keys = stackset.build(TEMPLATE, build, root / "out")
    assert keys == same_keys and member_json.read_bytes() == again.read_bytes()
    artifacts = root / "out" / "artifacts"
    assert sorted(p.name for p in artifacts.iterdir()) == sorted(
        k.removeprefix("outpost-mesh/") for k in keys.values()
    )
    with zipfile.ZipFile(artifacts / keys["PlanFunction"].removeprefix("outpost-mesh/")) as z:
        assert z.namelist() == ["app.py"]
    with zipfile.ZipFile(artifacts / keys["OutpostMeshLayer"].removeprefix("outpost-mesh/")) as z:
        assert z.namelist() == ["python/outpost_mesh/__init__.py"]
    deployed = json.loads(member_json.read_text(encoding="utf-8"))
    assert stackset.problems(deployed, keys) == []
    (build / "PlanFunction" / "app.py").write_text("# changed\n", encoding="utf-8")
    _, changed = stackset.build(TEMPLATE, build, root / "out")
    assert {k for k in keys if keys[k] != changed[k]} == {"PlanFunction"}
    assert len(list(artifacts.iterdir())) == len(keys)  # the replaced zip is gone


def test_make_stackset_refuses_a_missing_build() -> None:
    root = REPORTS / "no-build"
    with pytest.raises(stackset.StackSetError, match="no build output"):
        stackset.build(TEMPLATE, root / "nothing", root / "out")
