"""Static checks of the SAM stack: template.yaml, the state machine file, events/ and the handlers.

Offline and fast (no AWS, no Docker, no sandbox). Each test names the property it protects and
fails when that property is broken. OUTPOST_MESH_ROOT points the tests at another checkout (used
to check that the tests fail on a broken copy).
"""

from __future__ import annotations

import ast
import copy
import importlib.util
import json
import os
import py_compile
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from outpost_mesh.errors import ConfigurationError
from outpost_mesh.settings import ENV as SETTINGS_ENV
from outpost_mesh.settings import PARAMETERS as SETTINGS_PARAMETERS
from outpost_mesh.settings import Settings

REPO = Path(__file__).resolve().parent.parent
ROOT = Path(os.environ.get("OUTPOST_MESH_ROOT", REPO)).resolve()
TEMPLATE = ROOT / "template.yaml"
EVENTS = ROOT / "events"

# logical id -> functions/<dir>
FUNCTIONS = {
    "TriggerFunction": "trigger",
    "SweepFunction": "sweep",
    "ClaimFunction": "claim",
    "PlanFunction": "plan",
    "AssociateFunction": "associate",
    "CheckAssociationFunction": "check_association",
    "ApplyRoutesFunction": "apply_routes",
    "DisassociateFunction": "disassociate",
    "VerifyFunction": "verify",
    "ReleaseFunction": "release",
    "RollbackFunction": "rollback",
    "RequestApprovalFunction": "request_approval",
    "SettleApprovalFunction": "settle_approval",
    "MeshMapFunction": "mesh_map",
}
WORKFLOW_TASKS = set(FUNCTIONS) - {"TriggerFunction", "SweepFunction", "MeshMapFunction"}
WATCHED_EVENTS = {
    "CreateSubnet",
    "DeleteSubnet",
    "AssociateRouteTable",
    "ReplaceRouteTableAssociation",
    "DisassociateRouteTable",
}
STATE_MACHINE_ARN_SUB = (
    "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:stateMachine:"
    "${AWS::StackName}-reconcile"
)
# Functions that read every VPC's ledger at once (LedgerStore.fleet: the table's fleet index).
FLEET_READERS = {"SweepFunction", "MeshMapFunction"}
# EC2 actions that change something, per function: nothing else may hold any.
MUTATING_EC2 = {
    "AssociateFunction": {"ec2:CreateLocalGatewayRouteTableVpcAssociation", "ec2:CreateTags"},
    "ApplyRoutesFunction": {"ec2:CreateRoute", "ec2:DeleteRoute"},
    "DisassociateFunction": {"ec2:DeleteLocalGatewayRouteTableVpcAssociation"},
    "RollbackFunction": {"ec2:DeleteRoute", "ec2:DeleteLocalGatewayRouteTableVpcAssociation"},
}
# Actions AWS authorizes only on Resource "*" that are not reads: allowed on "*" on purpose.
STAR_ONLY_WRITES = {
    # Step Functions logging to CloudWatch Logs (vended log delivery): AWS documents Resource "*".
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
    # X-Ray segments (SAM's AWSXrayWriteOnlyAccess): no resource-level permissions exist.
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "xray:GetSamplingRules",
    "xray:GetSamplingTargets",
    "xray:GetSamplingStatisticSummaries",
}
ALLOWED_MANAGED_POLICIES = {
    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
    "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess",
}
READ_ONLY = re.compile(r"^[a-z0-9-]+:(Describe|Get|List|BatchGet|Query)[A-Za-z0-9]*$")
# Environment variables every handler reads (layers/outpost_mesh/outpost_mesh/settings.py).
GLOBAL_ENV = {
    "LEDGER_TABLE",
    "TOPIC_ARN",
    "REPORT_ONLY",
    "MANAGED_VPCS",
    "OPT_IN_TAG",
    "OPT_OUT_TAG",
    "QUARANTINE_SECONDS",
    "MUTATING_RATE",
    "MUTATING_BURST",
    "POWERTOOLS_SERVICE_NAME",
    "POWERTOOLS_METRICS_NAMESPACE",
    "POWERTOOLS_LOG_LEVEL",
}
# SAM CLI sets these in the container itself (from the shell's credentials and region); an
# env-vars file may list them for the reader, but SAM ignores them there.
SAM_LOCAL_AWS_VARS = {
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
}


# -- loading ------------------------------------------------------------------------------------
def _load_script(name: str) -> ModuleType:
    path = REPO / "scripts" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"outpost_mesh_scripts_{name}", path)
    assert spec and spec.loader, path
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


check_asl = _load_script("check_asl")
check_layer = _load_script("check_layer")


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    loaded: dict[str, Any] = check_asl.load_template(TEMPLATE)
    return loaded


def resources(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v.get("Type") == kind}


def functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return resources(template, "AWS::Serverless::Function")


def effective(template: dict[str, Any], logical_id: str, prop: str) -> Any:
    """A function property as deployed: its own value, else the Globals.Function value."""
    props = template["Resources"][logical_id].get("Properties", {})
    if prop in props:
        return props[prop]
    return template.get("Globals", {}).get("Function", {}).get(prop)


def env_vars(template: dict[str, Any], logical_id: str) -> dict[str, Any]:
    merged = dict(
        template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
    )
    props = template["Resources"][logical_id].get("Properties", {})
    merged.update(props.get("Environment", {}).get("Variables", {}))
    return merged


def if_branches(value: Any) -> Iterator[Any]:
    """Both branches of an Fn::If (recursively); the value itself otherwise."""
    if isinstance(value, dict) and set(value) == {"Fn::If"}:
        _, when_true, when_false = value["Fn::If"]
        yield from if_branches(when_true)
        yield from if_branches(when_false)
    elif not (isinstance(value, dict) and value == {"Ref": "AWS::NoValue"}):
        yield value


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def policy_statements(policies: Any) -> Iterator[dict[str, Any]]:
    """Inline statements of a SAM Policies property (documents, Fn::If branches)."""
    for item in as_list(policies or []):
        for branch in if_branches(item):
            if isinstance(branch, dict) and "Statement" in branch:
                yield from as_list(branch["Statement"])


def policy_templates(policies: Any) -> Iterator[tuple[str, Any]]:
    """SAM policy templates (``- LambdaInvokePolicy: {...}``) and managed policy names/ARNs."""
    for item in as_list(policies or []):
        for branch in if_branches(item):
            if isinstance(branch, str):
                yield "ManagedPolicy", branch
            elif isinstance(branch, dict) and "Statement" not in branch:
                yield from branch.items()


def statements_of(template: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(owner logical id, statement) for every identity policy statement in the template."""
    for kind in ("AWS::Serverless::Function", "AWS::Serverless::StateMachine"):
        for logical_id, resource in resources(template, kind).items():
            for statement in policy_statements(resource.get("Properties", {}).get("Policies")):
                yield logical_id, statement
    for kind in ("AWS::IAM::Role", "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
        for logical_id, resource in resources(template, kind).items():
            props = resource.get("Properties", {})
            docs = [p.get("PolicyDocument", {}) for p in props.get("Policies", [])]
            docs.append(props.get("PolicyDocument", {}))
            for doc in docs:
                for statement in as_list(doc.get("Statement", [])):
                    yield logical_id, statement


def wildcard_write_problems(owner: str, statement: dict[str, Any]) -> list[str]:
    if statement.get("Effect") != "Allow":
        return []
    actions = [a for a in as_list(statement.get("Action", [])) if isinstance(a, str)]
    problems = [f"{owner}: wildcard action {a}" for a in actions if a == "*" or a.endswith(":*")]
    if "NotAction" in statement or "NotResource" in statement:
        problems.append(f"{owner}: NotAction/NotResource in an Allow")
    if "*" in as_list(statement.get("Resource", [])):
        problems += [
            f"{owner}: {a} on Resource '*'"
            for a in actions
            if not READ_ONLY.match(a) and a not in STAR_ONLY_WRITES
        ]
        problems += [
            f"{owner}: {a} (EC2, not Describe*) on Resource '*'"
            for a in actions
            if a.startswith("ec2:") and not a.startswith("ec2:Describe")
        ]
    return problems


def function_actions(template: dict[str, Any], logical_id: str) -> set[str]:
    props = template["Resources"][logical_id]["Properties"]
    return {
        a
        for s in policy_statements(props.get("Policies"))
        if s.get("Effect") == "Allow"
        for a in as_list(s.get("Action", []))
    }


def contains_intrinsic(value: Any) -> bool:
    if isinstance(value, dict):
        return any(
            k == "Ref" or k.startswith("Fn::") or contains_intrinsic(v) for k, v in value.items()
        )
    if isinstance(value, list):
        return any(contains_intrinsic(v) for v in value)
    return False


def refers_to(value: Any, logical_id: str) -> bool:
    """Whether a value references a resource (Ref, GetAtt, or ${Id} / ${Id.Attr} in a Sub)."""
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Ref" and inner == logical_id:
                return True
            if key == "Fn::GetAtt":
                target = inner[0] if isinstance(inner, list) else str(inner).split(".")[0]
                if target == logical_id:
                    return True
            if key == "Fn::Sub":
                text = inner if isinstance(inner, str) else inner[0]
                if re.search(r"\$\{" + re.escape(logical_id) + r"(\.[A-Za-z]+)?\}", text):
                    return True
                if not isinstance(inner, str) and refers_to(inner[1], logical_id):
                    return True
            if refers_to(inner, logical_id):
                return True
    if isinstance(value, list):
        return any(refers_to(v, logical_id) for v in value)
    return False


def pattern_rules(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        k: v
        for k, v in resources(template, "AWS::Events::Rule").items()
        if "EventPattern" in v.get("Properties", {})
    }


def sample(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EVENTS / name).read_text(encoding="utf-8"))
    return data


# -- functions ----------------------------------------------------------------------------------
def test_every_expected_function_is_declared(template: dict[str, Any]) -> None:
    assert set(functions(template)) == set(FUNCTIONS)


@pytest.mark.parametrize("logical_id", sorted(FUNCTIONS))
def test_function_runs_python313_app_handler_with_the_layer(
    template: dict[str, Any], logical_id: str
) -> None:
    assert effective(template, logical_id, "Runtime") == "python3.13"
    assert effective(template, logical_id, "Handler") == "app.handler"
    assert effective(template, logical_id, "Tracing") == "Active"
    assert {"Ref": "OutpostMeshLayer"} in as_list(effective(template, logical_id, "Layers") or [])


@pytest.mark.parametrize("logical_id", sorted(FUNCTIONS))
def test_function_code_uri_has_app_py_with_handler(
    template: dict[str, Any], logical_id: str
) -> None:
    code_uri = template["Resources"][logical_id]["Properties"]["CodeUri"]
    assert code_uri.rstrip("/") == f"functions/{FUNCTIONS[logical_id]}"
    app = ROOT / code_uri / "app.py"
    assert app.is_file(), f"{app} missing"
    tree = ast.parse(app.read_text(encoding="utf-8"))
    handlers = [
        node
        for node in tree.body
        if isinstance(node, ast.FunctionDef) and node.name == "handler" and len(node.args.args) == 2
    ]
    assert handlers, f"{app} has no module-level handler(event, context)"


def test_layer_builds_for_python313_without_aws_sdk(template: dict[str, Any]) -> None:
    layer = template["Resources"]["OutpostMeshLayer"]
    assert layer["Type"] == "AWS::Serverless::LayerVersion"
    assert layer["Properties"]["ContentUri"].rstrip("/") == "layers/outpost_mesh"
    assert layer["Properties"]["CompatibleRuntimes"] == ["python3.13"]
    assert layer["Properties"]["CompatibleArchitectures"] == ["x86_64"]
    # The layer's Makefile installs requirements.txt for python3.13 on Linux x86_64, then trims.
    assert layer["Metadata"]["BuildMethod"] == "makefile"
    makefile = (ROOT / "layers" / "outpost_mesh" / "Makefile").read_text()
    assert re.search(r"^build-OutpostMeshLayer:", makefile, re.MULTILINE)
    for flag in ("-r requirements.txt", "--python-version 3.13", "manylinux2014_x86_64"):
        assert flag in makefile, flag
    assert "--no-compile" in makefile  # pip compiles nothing: the trimmed layer is compiled once
    assert "--invalidation-mode checked-hash" in makefile
    requirements = (ROOT / "layers" / "outpost_mesh" / "requirements.txt").read_text()
    names = {
        re.split(r"[<>=!~\[; ]", line.strip(), maxsplit=1)[0].lower()
        for line in requirements.splitlines()
        if line.strip() and not line.strip().startswith("#")
    }
    assert names == {"aws-lambda-powertools", "pydantic"}


def _fake_layer(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def test_layer_check_fails_on_an_import_the_trim_left_dangling(tmp_path: Path) -> None:
    layer = _fake_layer(
        tmp_path,
        {
            "pkg/__init__.py": "from pkg.kept import x\n",
            "pkg/kept.py": (
                "from __future__ import annotations\n"
                "from typing import TYPE_CHECKING\n"
                "if TYPE_CHECKING:\n    from pkg.stubs_only import T\n"
                "x = 1\n"
                "def later():\n    from .trimmed import y\n    import pkg.sub.gone\n"
                "def optional():\n    import other_package\n"
            ),
            "pkg/sub/__init__.py": "",
        },
    )
    missing = check_layer.dangling_imports(layer, ("pkg",))
    # Function-level imports count; TYPE_CHECKING ones and other packages' do not.
    assert missing == {"pkg.trimmed": {"pkg.kept"}, "pkg.sub.gone": {"pkg.kept"}}


def test_layer_check_wants_checked_hash_bytecode_matching_every_module(tmp_path: Path) -> None:
    layer = _fake_layer(tmp_path, {"pkg/__init__.py": "x = 1\n", "pkg/mod.py": "y = 2\n"})
    assert len(check_layer.bytecode_problems(layer)) == 1  # none compiled yet

    def compile_all(mode: py_compile.PycInvalidationMode) -> None:
        for source in layer.rglob("*.py"):
            py_compile.compile(str(source), doraise=True, invalidation_mode=mode)

    compile_all(py_compile.PycInvalidationMode.CHECKED_HASH)
    assert check_layer.bytecode_problems(layer) == []
    (layer / "pkg" / "mod.py").write_text("y = 3\n", encoding="utf-8")  # edited after the build
    assert check_layer.bytecode_problems(layer) == [
        "1 module(s) with a .pyc that does not match its source: pkg/mod.py"
    ]
    compile_all(py_compile.PycInvalidationMode.TIMESTAMP)  # what a zip's dates can make stale
    assert check_layer.bytecode_problems(layer) == [
        "2 module(s) with a .pyc that is not checked-hash bytecode of this Python: "
        "pkg/__init__.py, pkg/mod.py"
    ]


# -- triggers -----------------------------------------------------------------------------------
def test_rule_patterns_match_successful_watched_ec2_calls_only(template: dict[str, Any]) -> None:
    rules = pattern_rules(template)
    assert rules, "no AWS::Events::Rule with an EventPattern"
    named: set[str] = set()
    for logical_id, rule in rules.items():
        pattern = rule["Properties"]["EventPattern"]
        assert not contains_intrinsic(pattern), f"{logical_id}: EventPattern must be literal"
        assert pattern["source"] == ["aws.ec2"]
        assert pattern["detail-type"] == ["AWS API Call via CloudTrail"]
        assert pattern["detail"]["eventSource"] == ["ec2.amazonaws.com"]
        assert pattern["detail"]["errorCode"] == [{"exists": False}], logical_id
        named |= set(pattern["detail"]["eventName"])
    assert named == WATCHED_EVENTS


@pytest.mark.parametrize("logical_id", ["Ec2ApiCallRule", "SweepScheduleRule"])
def test_rule_targets_retry_and_dead_letter(template: dict[str, Any], logical_id: str) -> None:
    rule = template["Resources"][logical_id]
    targets = rule["Properties"]["Targets"]
    assert targets
    for target in targets:
        assert target["RetryPolicy"]["MaximumRetryAttempts"] >= 1
        dlq = target["DeadLetterConfig"]["Arn"]
        assert dlq["Fn::GetAtt"][1] == "Arn"
        queue = dlq["Fn::GetAtt"][0]
        assert template["Resources"][queue]["Type"] == "AWS::SQS::Queue"
        # The queue's policy lets EventBridge send, for this rule only.
        policies = [
            p
            for p in resources(template, "AWS::SQS::QueuePolicy").values()
            if {"Ref": queue} in p["Properties"]["Queues"]
        ]
        allowed = [
            s
            for p in policies
            for s in p["Properties"]["PolicyDocument"]["Statement"]
            if s["Effect"] == "Allow"
            and s.get("Principal") == {"Service": "events.amazonaws.com"}
            and "sqs:SendMessage" in as_list(s["Action"])
        ]
        assert allowed, f"{queue} has no policy letting events.amazonaws.com send"
        sources = [
            arn for s in allowed for arn in as_list(s["Condition"]["ArnEquals"]["aws:SourceArn"])
        ]
        assert {"Fn::GetAtt": [logical_id, "Arn"]} in sources


def test_pattern_rule_targets_trigger_function_with_permission(template: dict[str, Any]) -> None:
    for logical_id, rule in pattern_rules(template).items():
        arns = [t["Arn"] for t in rule["Properties"]["Targets"]]
        assert arns == [{"Fn::GetAtt": ["TriggerFunction", "Arn"]}]
        permissions = [
            p["Properties"]
            for p in resources(template, "AWS::Lambda::Permission").values()
            if p["Properties"].get("SourceArn") == {"Fn::GetAtt": [logical_id, "Arn"]}
        ]
        assert permissions and permissions[0]["Principal"] == "events.amazonaws.com"
        assert refers_to(permissions[0]["FunctionName"], "TriggerFunction")


def test_sweep_schedule_comes_from_parameter(template: dict[str, Any]) -> None:
    rule = template["Resources"]["SweepScheduleRule"]["Properties"]
    assert rule["ScheduleExpression"] == {"Ref": "SweepSchedule"}
    assert template["Parameters"]["SweepSchedule"]["Default"] == "rate(1 hour)"
    assert rule["Targets"][0]["Arn"] == {"Fn::GetAtt": ["SweepFunction", "Arn"]}


@pytest.mark.parametrize("logical_id", ["TriggerFunction", "SweepFunction"])
def test_async_failures_go_to_a_queue(template: dict[str, Any], logical_id: str) -> None:
    config = template["Resources"][logical_id]["Properties"]["EventInvokeConfig"]
    on_failure = config["DestinationConfig"]["OnFailure"]
    assert on_failure["Type"] == "SQS"
    queue = on_failure["Destination"]["Fn::GetAtt"][0]
    assert template["Resources"][queue]["Type"] == "AWS::SQS::Queue"


def _matcher(pattern: dict[str, Any]) -> Any:
    from moto.events.models import EventPattern

    return EventPattern.load(json.dumps(pattern))


def test_trigger_samples_match_the_rule_and_failed_calls_do_not(template: dict[str, Any]) -> None:
    patterns = [_matcher(r["Properties"]["EventPattern"]) for r in pattern_rules(template).values()]
    samples = sorted(EVENTS.glob("trigger_*.json"))
    assert len(samples) >= 6
    seen = set()
    for path in samples:
        event = json.loads(path.read_text(encoding="utf-8"))
        seen.add(event["detail"]["eventName"])
        assert any(p.matches_event(event) for p in patterns), f"{path.name} matches no rule"
        failed = copy.deepcopy(event)
        failed["detail"]["errorCode"] = "Client.UnauthorizedOperation"
        assert not any(p.matches_event(failed) for p in patterns), f"{path.name} with errorCode"
        other = copy.deepcopy(event)
        other["detail"]["eventName"] = "CreateRoute"
        assert not any(p.matches_event(other) for p in patterns)
    assert seen == WATCHED_EVENTS


# -- IAM ----------------------------------------------------------------------------------------
def test_no_wildcard_write_grants_in_the_template(template: dict[str, Any]) -> None:
    problems = [
        p for owner, s in statements_of(template) for p in wildcard_write_problems(owner, s)
    ]
    assert not problems, problems


def test_only_reviewed_policy_templates(template: dict[str, Any]) -> None:
    for logical_id, resource in functions(template).items():
        found = list(policy_templates(resource["Properties"].get("Policies")))
        assert not found, f"{logical_id}: use inline statements, not {found}"
    machine = template["Resources"]["ReconcileStateMachine"]["Properties"]
    names = {name for name, _ in policy_templates(machine["Policies"])}
    assert names == {"LambdaInvokePolicy"}


def test_state_machine_invokes_exactly_its_task_functions(template: dict[str, Any]) -> None:
    machine = template["Resources"]["ReconcileStateMachine"]["Properties"]
    invoked = {
        args["FunctionName"]["Ref"]
        for name, args in policy_templates(machine["Policies"])
        if name == "LambdaInvokePolicy"
    }
    substituted = {
        value["Fn::GetAtt"][0]
        for value in machine["DefinitionSubstitutions"].values()
        if isinstance(value, dict) and "Fn::GetAtt" in value
    }
    assert invoked == substituted == WORKFLOW_TASKS
    statements = list(policy_statements(machine["Policies"]))
    assert not any(
        a.startswith("lambda:") for s in statements for a in as_list(s.get("Action", []))
    ), "lambda permissions of the state machine come from LambdaInvokePolicy only"


@pytest.mark.parametrize("logical_id", sorted(FUNCTIONS))
def test_mutating_ec2_actions_only_where_needed_and_scoped(
    template: dict[str, Any], logical_id: str
) -> None:
    props = template["Resources"][logical_id]["Properties"]
    mutating: set[str] = set()
    for statement in policy_statements(props.get("Policies")):
        actions = {
            a
            for a in as_list(statement.get("Action", []))
            if a.startswith("ec2:") and not a.startswith("ec2:Describe")
        }
        if not actions or statement.get("Effect") != "Allow":
            continue
        mutating |= actions
        for resource in as_list(statement["Resource"]):
            text = resource.get("Fn::Sub", "") if isinstance(resource, dict) else resource
            assert text.startswith("arn:${AWS::Partition}:ec2:${AWS::Region}:"), (logical_id, text)
            assert text.split(":", 5)[-1] not in ("*", ""), (logical_id, text)
        condition = json.dumps(statement.get("Condition", {}))
        if actions & {"ec2:CreateRoute", "ec2:DeleteRoute"}:
            assert "ec2:Vpc" in condition, f"{logical_id}: route changes without ec2:Vpc"
        if "ec2:DeleteLocalGatewayRouteTableVpcAssociation" in actions:
            assert "aws:ResourceTag/outpost-mesh:managed-by" in condition
        if "ec2:CreateTags" in actions:
            assert "ec2:CreateAction" in condition
    assert mutating == MUTATING_EC2.get(logical_id, set())


def test_association_creation_requires_the_ownership_tag(template: dict[str, Any]) -> None:
    props = template["Resources"]["AssociateFunction"]["Properties"]
    on_association = [
        s
        for s in policy_statements(props["Policies"])
        if "ec2:CreateLocalGatewayRouteTableVpcAssociation" in as_list(s["Action"])
        and any(
            "local-gateway-route-table-vpc-association/" in json.dumps(r)
            for r in as_list(s["Resource"])
        )
    ]
    assert on_association
    for statement in on_association:
        assert statement["Condition"]["Null"] == {"aws:RequestTag/outpost-mesh:managed-by": "false"}


def test_step_functions_and_sns_grants(template: dict[str, Any]) -> None:
    machine_arn = {"Fn::Sub": STATE_MACHINE_ARN_SUB}
    for logical_id in FUNCTIONS:
        actions = function_actions(template, logical_id)
        starts = logical_id in {"TriggerFunction", "SweepFunction", "RollbackFunction"}
        assert ("states:StartExecution" in actions) == starts, logical_id
        assert ("states:DescribeExecution" in actions) == (logical_id == "ClaimFunction")
        # rollback notifies failures; plan notifies new findings (once each); request-approval
        # tells a person what waits for approval
        notifies = logical_id in {"RollbackFunction", "PlanFunction", "RequestApprovalFunction"}
        assert ("sns:Publish" in actions) == notifies, logical_id
        # only the sweep answers a waiting task (ApprovalExpired); people do through ApproverPolicy
        assert ("states:SendTaskFailure" in actions) == (logical_id == "SweepFunction")
        assert "states:SendTaskSuccess" not in actions
        statements = policy_statements(
            template["Resources"][logical_id]["Properties"].get("Policies")
        )
        for statement in statements:
            granted = set(as_list(statement["Action"]))
            if granted & {"states:StartExecution", "states:SendTaskFailure"}:
                assert statement["Resource"] == machine_arn
            if "states:DescribeExecution" in granted:
                assert statement["Resource"] == {
                    "Fn::Sub": STATE_MACHINE_ARN_SUB.replace(":stateMachine:", ":execution:") + ":*"
                }
            if "sns:Publish" in granted:
                assert statement["Resource"] == {"Ref": "NotificationTopic"}
            if any(a.startswith("dynamodb:") for a in granted):
                # the table; the sweep and the mesh map also query its fleet index
                # (LedgerStore.fleet), with nothing else
                fleet_index = {"Fn::Sub": "${LedgerTable.Arn}/index/fleet"}
                if fleet_index in as_list(statement["Resource"]):
                    assert logical_id in FLEET_READERS and granted == {"dynamodb:Query"}
                else:
                    assert statement["Resource"] == {"Fn::GetAtt": ["LedgerTable", "Arn"]}


def test_mesh_map_only_reads_the_fleet_as_observe_fleet_and_the_ledger_do(
    template: dict[str, Any],
) -> None:
    """The widget's function may make exactly observe_fleet's Describes and Query the ledger
    and its fleet index (LedgerStore.fleet): nothing that writes, nothing per VPC."""
    from outpost_mesh.observe import FLEET_PAGE_SIZES

    describes = {
        "ec2:" + "".join(word.capitalize() for word in operation.split("_"))
        for operation in FLEET_PAGE_SIZES
    }
    assert len(describes) == 6
    actions = function_actions(template, "MeshMapFunction")
    assert {a for a in actions if a.startswith("ec2:")} == describes
    assert {a for a in actions if a.startswith("dynamodb:")} == {"dynamodb:Query"}
    assert {a for a in actions if not a.startswith(("ec2:", "dynamodb:", "kms:"))} == set()
    props = template["Resources"]["MeshMapFunction"]["Properties"]
    (ledger,) = [
        s for s in policy_statements(props["Policies"]) if "dynamodb:Query" in as_list(s["Action"])
    ]
    assert ledger["Resource"] == [
        {"Fn::GetAtt": ["LedgerTable", "Arn"]},
        {"Fn::Sub": "${LedgerTable.Arn}/index/fleet"},
    ]
    kms = {a for a in actions if a.startswith("kms:")}
    assert kms <= {"kms:Decrypt", "kms:DescribeKey"}


def test_mesh_map_is_a_custom_widget_on_the_dashboard(template: dict[str, Any]) -> None:
    body = template["Resources"]["OperationsDashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    named = re.sub(r'"\$\{([^}!]+)\}"', r'"\1"', body)  # a whole string: the name it refers to
    rendered = re.sub(r"\$\{[^}!]+\}", "0", named)  # a number, or part of a string
    widgets = json.loads(rendered)["widgets"]
    (custom,) = [w for w in widgets if w["type"] == "custom"]
    assert custom["properties"]["endpoint"] == "MeshMapFunction.Arn"
    assert custom["properties"]["updateOn"]["refresh"] is True
    assert custom["width"] == 24


def test_translated_template_has_no_wildcard_writes(template: dict[str, Any]) -> None:
    """What SAM generates (roles of functions, destinations, policy templates) passes too."""
    from samtranslator.translator.transform import transform  # type: ignore[import-untyped]

    class NoManagedPolicies:
        def load(self) -> dict[str, str]:
            return {}

    raw = copy.deepcopy(template)
    for resource in raw["Resources"].values():
        props = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri", "DefinitionUri"):
            if isinstance(props.get(key), str):
                props[key] = "s3://bucket/" + props[key].strip("/")
    old_region = os.environ.get("AWS_DEFAULT_REGION")
    os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
    try:
        translated = transform(raw, {}, NoManagedPolicies())
    finally:
        if old_region is None:
            os.environ.pop("AWS_DEFAULT_REGION", None)
        else:
            os.environ["AWS_DEFAULT_REGION"] = old_region
    problems = [
        p for owner, s in statements_of(translated) for p in wildcard_write_problems(owner, s)
    ]
    assert not problems, problems
    for logical_id, role in resources(translated, "AWS::IAM::Role").items():
        managed = set(role["Properties"].get("ManagedPolicyArns", []))
        assert managed <= ALLOWED_MANAGED_POLICIES, (logical_id, managed)


# -- state machine ------------------------------------------------------------------------------
def test_state_machine_is_standard_logged_traced(template: dict[str, Any]) -> None:
    machine = template["Resources"]["ReconcileStateMachine"]
    assert machine["Type"] == "AWS::Serverless::StateMachine"
    props = machine["Properties"]
    assert props["Type"] == "STANDARD"
    assert props["Name"] == {"Fn::Sub": "${AWS::StackName}-reconcile"}
    assert props["Tracing"] == {"Enabled": True}
    level = props["Logging"]["Level"]
    if isinstance(level, dict):
        level = template["Parameters"][level["Ref"]]["Default"]
    assert level in ("ALL", "ERROR")
    assert props["Logging"]["Destinations"][0]["CloudWatchLogsLogGroup"]["LogGroupArn"]
    assert (ROOT / props["DefinitionUri"]).is_file()


def test_definition_substitutions_cover_the_asl_exactly(template: dict[str, Any]) -> None:
    props = template["Resources"]["ReconcileStateMachine"]["Properties"]
    used = check_asl.placeholders((ROOT / props["DefinitionUri"]).read_text(encoding="utf-8"))
    assert used == set(props["DefinitionSubstitutions"])
    for key in ("RetryIntervalSeconds", "AssociationWaitSeconds", "AssociationMaxChecks"):
        assert props["DefinitionSubstitutions"][key] == {"Ref": key}


def test_state_machine_definition_is_valid_asl() -> None:
    assert check_asl.check(TEMPLATE, use_asl_validator=False) == []


def test_no_resource_refers_to_the_state_machine_it_is_invoked_by(
    template: dict[str, Any],
) -> None:
    """The state machine references the functions; a reference back would be a cycle."""
    for logical_id in FUNCTIONS:
        assert not refers_to(template["Resources"][logical_id], "ReconcileStateMachine")
        assert not refers_to(template["Resources"][logical_id], "ReconcileStateMachineRole")
    for logical_id in ("TriggerFunction", "SweepFunction", "RollbackFunction"):
        assert env_vars(template, logical_id)["STATE_MACHINE_ARN"] == {
            "Fn::Sub": STATE_MACHINE_ARN_SUB
        }


@pytest.mark.parametrize("logical_id", sorted(FUNCTIONS))
def test_functions_get_the_environment_the_code_reads(
    template: dict[str, Any], logical_id: str
) -> None:
    env = env_vars(template, logical_id)
    assert set(env) >= GLOBAL_ENV
    assert env["POWERTOOLS_METRICS_NAMESPACE"] == "OutpostMesh"
    assert env["LEDGER_TABLE"] == {"Ref": "LedgerTable"}
    assert env["TOPIC_ARN"] == {"Ref": "NotificationTopic"}
    assert not any(re.search(r"SECRET|PASSWORD|TOKEN", k) for k in env), (
        "no secret in environment variables"
    )


def test_every_setting_the_code_reads_is_set_from_a_stack_parameter(
    template: dict[str, Any],
) -> None:
    """Settings.from_env reads these variables: every function gets each (STATE_MACHINE_ARN
    only the functions that start or inspect executions), and the CLI's mapping from a deployed
    stack's parameters names parameters that exist."""
    per_function = {"STATE_MACHINE_ARN"}
    for logical_id in FUNCTIONS:
        assert set(env_vars(template, logical_id)) >= set(SETTINGS_ENV.values()) - per_function
    assert set(SETTINGS_PARAMETERS.values()) <= set(template["Parameters"])
    for field, parameter in SETTINGS_PARAMETERS.items():
        # minutes (hours) -> seconds through the QuarantineSeconds (ApprovalTimeout) map
        if field not in ("quarantine_seconds", "approval_timeout_seconds"):
            assert env_vars(template, "PlanFunction")[SETTINGS_ENV[field]] == {"Ref": parameter}


def test_a_bad_setting_fails_with_one_line_naming_its_variable() -> None:
    with pytest.raises(ConfigurationError) as bad:
        Settings.from_env({"APPLY_MAX_CONCURRENCY": "four"})
    assert bad.value.message.startswith("APPLY_MAX_CONCURRENCY='four': ")
    assert "\n" not in bad.value.message
    for env in ({"MANAGED_VPCS": "some"}, {"REPORT_ONLY": "yes"}, {"MUTATING_RATE": "0"}):
        with pytest.raises(ConfigurationError, match=f"^{next(iter(env))}="):
            Settings.from_env(env)
    assert Settings.from_env({}) == Settings()
    assert Settings.from_stack({"QuarantineMinutes": "15", "OptOutTagKey": "keep-out"}) == (
        Settings(quarantine_seconds=900, opt_out_tag="keep-out")
    )
    assert Settings.from_stack({"ApprovalTimeoutHours": "4", "ApprovalMode": "deletions"}) == (
        Settings(approval_timeout_seconds=14400, approval_mode="deletions")
    )
    with pytest.raises(ConfigurationError, match=r"^APPROVAL_AUTO_ADDITIONS="):
        Settings.from_env({"APPROVAL_AUTO_ADDITIONS": "yes"})


# -- data and notifications ---------------------------------------------------------------------
def test_ledger_table(template: dict[str, Any]) -> None:
    table = template["Resources"]["LedgerTable"]
    assert table["Type"] == "AWS::DynamoDB::Table"
    props = table["Properties"]
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert sorted((k["AttributeName"], k["KeyType"]) for k in props["KeySchema"]) == [
        ("pk", "HASH"),
        ("sk", "RANGE"),
    ]
    assert {(a["AttributeName"], a["AttributeType"]) for a in props["AttributeDefinitions"]} == {
        ("pk", "S"),
        ("sk", "S"),
        ("fleet", "S"),
        ("fleet_sk", "S"),
    }
    assert props["GlobalSecondaryIndexes"] == [
        {
            "IndexName": "fleet",
            "KeySchema": [
                {"AttributeName": "fleet", "KeyType": "HASH"},
                {"AttributeName": "fleet_sk", "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "ALL"},
        }
    ]
    for branch in if_branches(props["SSESpecification"]):
        assert branch["SSEEnabled"] is True


def test_topic_with_optional_email_subscription(template: dict[str, Any]) -> None:
    assert template["Resources"]["NotificationTopic"]["Type"] == "AWS::SNS::Topic"
    subscription = template["Resources"]["NotificationEmailSubscription"]
    assert subscription["Condition"] == "HasNotificationEmail"
    assert subscription["Properties"]["Protocol"] == "email"
    assert template["Parameters"]["NotificationEmail"]["Default"] == ""


def test_queues_are_encrypted(template: dict[str, Any]) -> None:
    queues = resources(template, "AWS::SQS::Queue")
    assert len(queues) >= 2
    for logical_id, queue in queues.items():
        props = queue["Properties"]
        managed = props.get("SqsManagedSseEnabled")
        kms = props.get("KmsMasterKeyId")
        assert managed == {"Fn::If": ["HasKmsKey", {"Ref": "AWS::NoValue"}, True]}, logical_id
        assert kms == {"Fn::If": ["HasKmsKey", {"Ref": "KmsKeyArn"}, {"Ref": "AWS::NoValue"}]}


def test_trail_is_optional(template: dict[str, Any]) -> None:
    for logical_id in ("Trail", "TrailBucket", "TrailBucketPolicy"):
        assert template["Resources"][logical_id]["Condition"] == "CreateTrailCondition"
    assert template["Parameters"]["CreateTrail"]["AllowedValues"] == ["true", "false"]
    trail = template["Resources"]["Trail"]["Properties"]
    assert trail["EventSelectors"][0]["IncludeManagementEvents"] is True


def test_parameters_and_defaults(template: dict[str, Any]) -> None:
    params = template["Parameters"]
    assert params["ManagedVpcs"]["AllowedValues"] == ["all", "opt-in"]
    assert params["ManagedVpcs"]["Default"] == "all"
    assert params["ReportOnly"]["AllowedValues"] == ["true", "false"]
    assert params["KmsKeyArn"]["Default"] == ""
    expected = {
        "RetryIntervalSeconds": 2,
        "AssociationWaitSeconds": 5,
        "AssociationMaxChecks": 60,
        "ApplyMaxConcurrency": 4,
    }
    for name, default in expected.items():
        assert int(params[name]["Default"]) == default, name
    minutes = {str(v) for v in params["QuarantineMinutes"]["AllowedValues"]}
    assert minutes == set(template["Mappings"]["QuarantineSeconds"])
    for value, row in template["Mappings"]["QuarantineSeconds"].items():
        assert row["Seconds"] == int(value) * 60


def test_outputs(template: dict[str, Any]) -> None:
    assert {
        "LedgerTableName",
        "StateMachineArn",
        "NotificationTopicArn",
        "RuleTargetDlqUrl",
        "AsyncFailureQueueUrl",
    } <= set(template["Outputs"])


# -- events/ ------------------------------------------------------------------------------------
def test_every_function_has_a_sample_event() -> None:
    for directory in FUNCTIONS.values():
        assert list(EVENTS.glob(f"{directory}*.json")), f"no events/{directory}*.json"
    for name in (
        "trigger_create_subnet_legacy.json",
        "trigger_create_subnet_wrapped.json",
        "trigger_delete_subnet.json",
        "trigger_associate_route_table.json",
        "trigger_replace_route_table_association.json",
        "trigger_disassociate_route_table.json",
        "sweep_scheduled.json",
    ):
        assert (EVENTS / name).is_file(), name


def test_create_subnet_samples_have_both_cloudtrail_shapes() -> None:
    legacy = sample("trigger_create_subnet_legacy.json")["detail"]
    assert legacy["requestParameters"]["vpcId"].startswith("vpc-")
    assert legacy["requestParameters"]["outpostArn"].startswith("arn:aws:outposts:")
    assert legacy["responseElements"]["subnet"]["subnetId"].startswith("subnet-")
    wrapped = sample("trigger_create_subnet_wrapped.json")["detail"]
    assert wrapped["requestParameters"]["CreateSubnetRequest"]["VpcId"].startswith("vpc-")
    response = wrapped["responseElements"]["CreateSubnetResponse"]
    assert response["xmlns"].startswith("http://ec2.amazonaws.com/doc/")
    assert response["subnet"]["subnetId"].startswith("subnet-")
    deleted = sample("trigger_delete_subnet.json")["detail"]
    assert set(deleted["requestParameters"]) == {"subnetId"}
    assert deleted["responseElements"]["_return"] is True


def test_samples_parse_with_the_handlers_models() -> None:
    sys.path.insert(0, str(ROOT / "layers" / "outpost_mesh"))
    try:
        from outpost_mesh import task_models
        from outpost_mesh.events import CloudTrailEvent, ScheduledEvent
        from outpost_mesh.mesh_map import WidgetRequest
    finally:
        sys.path.pop(0)
    from pydantic import BaseModel

    models: dict[str, type[BaseModel]] = {
        "trigger": CloudTrailEvent,
        "sweep": ScheduledEvent,
        "claim": task_models.ClaimInput,
        "plan": task_models.PlanInput,
        "associate": task_models.AssociateInput,
        "check_association": task_models.CheckAssociationInput,
        "apply_routes": task_models.ApplyRoutesInput,
        "disassociate": task_models.DisassociateInput,
        "verify": task_models.VerifyInput,
        "release": task_models.ReleaseInput,
        "rollback": task_models.RollbackInput,
        "request_approval": task_models.RequestApprovalInput,
        "settle_approval": task_models.SettleApprovalInput,
        "mesh_map": WidgetRequest,
    }
    for path in sorted(EVENTS.glob("*.json")):
        if path.name == "env.json":
            continue
        prefix = max((p for p in models if path.stem.startswith(p)), key=len)
        models[prefix].model_validate_json(path.read_text(encoding="utf-8"))


def test_env_file_sets_only_variables_sam_local_will_apply(template: dict[str, Any]) -> None:
    env = sample("env.json")
    assert set(env) - {"Parameters"} <= set(FUNCTIONS)
    assert env["Parameters"]["AWS_ENDPOINT_URL"] == "http://host.docker.internal:4566"
    assert env["Parameters"]["LEDGER_TABLE"] == "outpost-mesh-ledger"
    # credentials come from the shell: SAM CLI applies the file only to declared variables
    assert "AWS_ACCESS_KEY_ID" not in env["Parameters"]
    for logical_id in FUNCTIONS:
        declared = set(env_vars(template, logical_id))
        given = set(env["Parameters"]) | set(env.get(logical_id, {}))
        ignored = given - declared - SAM_LOCAL_AWS_VARS
        assert not ignored, f"{logical_id}: SAM CLI would ignore {sorted(ignored)}"
        if "STATE_MACHINE_ARN" in declared:
            assert env[logical_id]["STATE_MACHINE_ARN"].startswith("arn:aws:states:us-east-1:")
    assert template["Parameters"]["SandboxEndpointUrl"]["Default"] == ""


# -- handlers in a Lambda-like environment --------------------------------------------------------
IMPORT_PROBE = textwrap.dedent(
    """
    import importlib.abc, importlib.util, json, sys
    BLOCKED = {blocked!r}

    class Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ModuleNotFoundError(f"No module named {{name!r}} (not in Lambda)")
            return None

    sys.meta_path.insert(0, Block())
    sys.path.insert(0, {layer!r})
    failures = {{}}
    for name, app in {apps!r}.items():
        try:
            spec = importlib.util.spec_from_file_location("app_" + name, app)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            assert callable(module.handler)
        except BaseException as error:
            failures[name] = f"{{type(error).__name__}}: {{error}}"
    print(json.dumps(failures))
    """
)


def test_handlers_import_with_only_the_layer_and_the_runtime() -> None:
    """Lambda has the layer and boto3, nothing else: no aws_xray_sdk (it would bring botocore
    into the layer), no dev tools. Powertools' Tracer() needs aws_xray_sdk: build it only when
    the SDK is importable."""
    apps = {d: str(ROOT / "functions" / d / "app.py") for d in FUNCTIONS.values()}
    blocked = [
        "aws_xray_sdk",
        "moto",
        "yaml",
        "pytest",
        "hypothesis",
        "outpost_mesh_sandbox",
        "outpost_mesh_cli",
    ]
    probe = IMPORT_PROBE.format(
        blocked=blocked, layer=str(ROOT / "layers" / "outpost_mesh"), apps=apps
    )
    env = {
        "PATH": os.environ.get("PATH", ""),
        "LAMBDA_TASK_ROOT": "/var/task",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "AKIAOMPIPELINE000001",
        "AWS_SECRET_ACCESS_KEY": "outpost-mesh-sandbox-secret",
        "LEDGER_TABLE": "outpost-mesh-ledger",
        "POWERTOOLS_SERVICE_NAME": "outpost-mesh",
        "POWERTOOLS_METRICS_NAMESPACE": "OutpostMesh",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    done = subprocess.run(
        [sys.executable, "-I", "-c", probe],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    failures = json.loads(done.stdout.strip().splitlines()[-1])
    assert not failures, failures
