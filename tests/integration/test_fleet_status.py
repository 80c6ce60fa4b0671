"""``outpost-mesh status --accounts FILE`` and ``--organization`` against the sandbox, in-process.

The sandbox is moto: STS AssumeRole answers credentials that act in the role's account (moto's
``STSBackend.assume_role``: "the role does not need to exist"), so every account here is real
moto state, read through boto3. Account A (the sandbox's) holds the blog scenario, meshed; B a
managed VPC with a recorded failure; C has no ledger (no member stack); for D the hub's AssumeRole
is refused. Every call the CLI makes is read back from the sandbox's call log: nothing mutating,
and in a member account nothing FleetReadRole's policy in template.yaml does not allow.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml

from outpost_mesh.ledger import LedgerStore, create_table
from outpost_mesh.model import Finding, FindingKind, OwnedRoute
from outpost_mesh_cli.aws import SANDBOX_TABLE
from outpost_mesh_cli.main import main
from outpost_mesh_sandbox.aws.identities import SANDBOX_ACCOUNT, SECRET_KEY
from outpost_mesh_sandbox.aws.server import Sandbox

from .support import reconcile, seeded

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"
B, C, D = "222222222222", "333333333333", "444444444444"
ROLE = "outpost-mesh-fleet-read-us-east-1"
# What the hub itself calls: AssumeRole for each member, ListAccounts for --organization.
HUB_ACTIONS = {"sts:AssumeRole", "organizations:ListAccounts"}


@pytest.fixture
def cli(sb: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Run the CLI in-process against the sandbox: (exit code, stdout, stderr)."""
    for key in list(os.environ):
        if key.startswith("AWS_") or key == "OUTPOST_MESH_TABLE":
            monkeypatch.delenv(key)
    monkeypatch.setenv("HOME", "/nonexistent")  # no AWS config or credentials at all
    monkeypatch.setenv("AWS_ENDPOINT_URL", sb.endpoint_url)

    def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    return run


def member_session(sb: Sandbox, account: str) -> boto3.Session:
    """Credentials acting in ``account`` (a person there, seeding it)."""
    creds = sb.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/admin", RoleSessionName="seed"
    )["Credentials"]
    return boto3.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name=sb.region,
    )


@pytest.fixture
def fleet(sb: Sandbox, store: LedgerStore) -> dict[str, Any]:
    """A: the blog scenario meshed, one execution; B: a managed VPC with a recorded failure."""
    ids = seeded(sb, "blog")
    vpc_a = ids.vpc_id("app")
    reconcile(sb.client("ec2"), store, vpc_a)
    sfn = sb.client("stepfunctions")
    definition = {"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}}
    machine = sfn.create_state_machine(
        name="outpost-mesh-reconcile",
        definition=json.dumps(definition),
        roleArn=f"arn:aws:iam::{SANDBOX_ACCOUNT}:role/sfn",
    )["stateMachineArn"]
    execution = f"{vpc_a}-fleet-test"
    sfn.start_execution(stateMachineArn=machine, name=execution, input="{}")

    session = member_session(sb, B)
    ec2_b = session.client("ec2", endpoint_url=sb.endpoint_url)
    vpc_b = ec2_b.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    main_table = ec2_b.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc_b]}])[
        "RouteTables"
    ][0]["RouteTableId"]
    dynamodb_b = session.client("dynamodb", endpoint_url=sb.endpoint_url)
    create_table(dynamodb_b, SANDBOX_TABLE)
    store_b = LedgerStore(dynamodb_b, SANDBOX_TABLE)
    store_b.record_route(vpc_b, OwnedRoute(main_table, "10.9.1.0/24", "lgw-0123456789abcdef0"), "t")
    failure = Finding(FindingKind.ERROR, vpc_b, "CreateRoute failed: rolled back")
    store_b.record_findings(vpc_b, (failure,), "test")
    return {"vpc_a": vpc_a, "vpc_b": vpc_b, "execution": execution, "failure": failure}


def accounts_file(tmp_path: Path, *entries: Any) -> str:
    path = tmp_path / "accounts.yaml"
    path.write_text(yaml.safe_dump({"accounts": list(entries)}), encoding="utf-8")
    return str(path)


def role_actions() -> set[str]:
    """The actions FleetReadRole's policies in template.yaml allow (CloudFormation tags read as
    plain values; the !If of the KMS policy is left out: the sandbox ledger is not encrypted)."""

    class CfnLoader(yaml.SafeLoader):
        pass

    def tagged(loader: yaml.SafeLoader, _suffix: str, node: yaml.Node) -> Any:
        if isinstance(node, yaml.ScalarNode):
            return loader.construct_scalar(node)
        if isinstance(node, yaml.SequenceNode):
            return loader.construct_sequence(node, deep=True)
        return loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]

    CfnLoader.add_multi_constructor("!", tagged)
    doc = yaml.load(TEMPLATE.read_text(encoding="utf-8"), Loader=CfnLoader)
    role = doc["Resources"]["FleetReadRole"]["Properties"]
    actions: set[str] = set()
    for policy in role["Policies"]:
        if isinstance(policy, dict):
            for statement in policy["PolicyDocument"]["Statement"]:
                action = statement["Action"]
                actions.update(action if isinstance(action, list) else [action])
    return actions


def full_action(call: Any) -> str:
    service = {"stepfunctions": "states"}.get(call.service, call.service)
    return f"{service}:{call.action}"


def test_each_account_is_read_with_its_role_and_an_unreadable_one_is_a_line_and_exit_1(
    sb: Sandbox,
    fleet: dict[str, Any],
    cli: Any,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    # D first: the sandbox refuses the next AssumeRole, as AWS does where the role's trust
    # policy does not name the caller (or the role is missing).
    path = accounts_file(
        tmp_path,
        {"id": D, "name": "denied"},
        {"id": SANDBOX_ACCOUNT, "name": "workload-a"},
        {"id": B, "name": "workload-b", "regions": ["us-east-1"]},
        C,
    )
    sb.control.inject_fault(
        "AssumeRole", "AccessDenied", message="not authorized to assume", service="sts"
    )
    since = len(sb.control.calls())
    code, out, err = cli(capsys, "status", "--accounts", path, "--output", "json")

    assert code == 1
    assert err.count("\n") == 1 and f"{D} (us-east-1)" in err and f"{C} (us-east-1)" in err
    accounts = {a["account_id"]: a for a in json.loads(out)["accounts"]}
    assert list(accounts) == [D, SANDBOX_ACCOUNT, B, C]
    denied = accounts[D]
    assert not denied["read"] and denied["vpcs"] == []
    assert f"cannot assume arn:aws:iam::{D}:role/{ROLE}" in denied["error"]
    assert "AccessDenied" in denied["error"]

    a = accounts[SANDBOX_ACCOUNT]
    assert a["read"] and a["name"] == "workload-a"
    (vpc_a,) = a["vpcs"]
    assert vpc_a["vpc_id"] == fleet["vpc_a"]
    assert vpc_a["pairs"] == {"expected": 2, "reachable": 2}
    assert vpc_a["findings"] == []
    assert vpc_a["last_execution"]["name"] == fleet["execution"]

    b = accounts[B]
    assert b["read"]
    (vpc_b,) = b["vpcs"]  # B's own VPC, not A's: the role's credentials act in B
    assert vpc_b["vpc_id"] == fleet["vpc_b"]
    assert vpc_b["pairs"] == {"expected": 0, "reachable": 0}
    assert [(f["kind"], f["subject"]) for f in vpc_b["findings"]] == [("error", fleet["vpc_b"])]
    assert vpc_b["last_execution"] is None  # no state machine in B: said, not a failure
    assert vpc_b["executions_note"]

    c = accounts[C]  # the role was assumed (moto), but C has no ledger: no member stack
    assert not c["read"] and "ResourceNotFound" in c["error"]

    calls = sb.control.calls()[since:]
    others = {full_action(c) for c in calls if not c.action.startswith(("Describe", "Get"))}
    assert others <= {"sts:AssumeRole", "dynamodb:Query", "states:ListExecutions"}
    members = {full_action(c) for c in calls if c.caller.startswith("ASIA")}
    allowed = role_actions() | {"sts:GetCallerIdentity"}
    assert members and members <= allowed, members - allowed
    assert {full_action(c) for c in calls if not c.caller.startswith("ASIA")} <= HUB_ACTIONS


def test_text_is_one_line_per_account_and_vpc_and_all_read_exits_0(
    fleet: dict[str, Any], cli: Any, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = accounts_file(tmp_path, {"id": SANDBOX_ACCOUNT, "name": "workload-a"}, B)
    code, out, err = cli(capsys, "status", "--accounts", path)

    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert len(lines) == 3
    assert lines[0].startswith(f"{SANDBOX_ACCOUNT} (workload-a)  us-east-1  {fleet['vpc_a']}")
    assert "pairs 2/2 reachable  findings 0  last execution" in lines[0]
    assert fleet["execution"] in lines[0]
    assert lines[1].startswith(f"{B}  us-east-1  {fleet['vpc_b']}")
    assert "pairs 0/0 reachable  findings 1  executions not listed" in lines[1]
    assert lines[2] == "2 of 2 account(s) read"


def test_organization_reads_only_its_active_accounts(
    sb: Sandbox, fleet: dict[str, Any], cli: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    org = sb.client("organizations")
    org.create_organization(FeatureSet="ALL")  # A, the sandbox's account, is the management
    made = [
        org.create_account(Email=f"{n}@example.com", AccountName=n)["CreateAccountStatus"]
        for n in ("workload-new", "closed")
    ]
    new, closed = (m["AccountId"] for m in made)
    org.close_account(AccountId=closed)
    states = {a["Id"]: a.get("State") or a["Status"] for a in org.list_accounts()["Accounts"]}
    assert states[closed] != "ACTIVE" and states[new] == "ACTIVE"

    code, out, err = cli(capsys, "status", "--organization", "--output", "json")

    accounts = {a["account_id"]: a for a in json.loads(out)["accounts"]}
    assert set(accounts) == {SANDBOX_ACCOUNT, new}
    assert accounts[SANDBOX_ACCOUNT]["vpcs"][0]["vpc_id"] == fleet["vpc_a"]
    assert accounts[new]["name"] == "workload-new" and not accounts[new]["read"]
    assert code == 1 and new in err


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("accounts: []", "accounts: expected a non-empty list"),
        ("accounts: ['12345']", "accounts[0].id: '12345' is not a 12-digit account id"),
        ("accounts: [{id: '111122223333', region: x}]", "unknown key 'region'"),
        ("accounts: [{id: '111122223333', regions: [mars]}]", "'mars' is not a Region"),
        ("accounts: ['111122223333', '111122223333']", "111122223333 in us-east-1 twice"),
        ("accounts: [", "not YAML or JSON"),
    ],
)
def test_a_bad_accounts_file_is_one_line_and_exit_2(
    content: str, problem: str, cli: Any, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "accounts.yaml"
    path.write_text(content, encoding="utf-8")
    code, out, err = cli(capsys, "status", "--accounts", str(path))
    assert (code, out) == (2, "")
    assert err.count("\n") == 1 and problem in err and str(path) in err


def test_an_account_id_with_only_octal_digits_stays_as_written(
    sb: Sandbox, cli: Any, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """YAML 1.1 reads an unquoted 012345670123 as an octal number; the file's ids are text."""
    path = tmp_path / "accounts.yaml"
    path.write_text("accounts:\n  - 012345670123\n", encoding="utf-8")
    code, out, _ = cli(capsys, "status", "--accounts", str(path), "--output", "json")
    (account,) = json.loads(out)["accounts"]
    assert account["account_id"] == "012345670123"
    assert code == 1  # no ledger there


def test_fleet_flags_refuse_one_account_flags(
    cli: Any, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = accounts_file(tmp_path, B)
    for args in (
        ["--accounts", path, "--vpc", "vpc-0123abcd"],
        ["--organization", "--state-machine-arn", "arn:aws:states:us-east-1:1:stateMachine:x"],
        ["--role-name", "custom"],
        ["--accounts", path, "--organization"],
    ):
        code, out, err = cli(capsys, "status", *args)
        assert (code, out) == (2, ""), args
        assert err.count("\n") == 1, err
        assert SECRET_KEY not in err
