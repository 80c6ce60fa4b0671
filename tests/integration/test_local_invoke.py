"""Local invocation against the sandbox (issue 14, item 4), the README's path:

    outpost-mesh sandbox up --pipeline --scenario scenarios/blog.yaml
    outpost-mesh events render --endpoint-url URL --out DIR
    outpost-mesh invoke TriggerFunction -e DIR/trigger_create_subnet_legacy.json \\
        --env-vars events/env.json --endpoint-url URL

The sandbox runs in a process of its own (a free port, as a person starts it); the trigger's
handler runs in a process of its own with the environment SAM CLI would give it (held here to SAM
CLI's own code, which the dev tools install); the execution it starts runs to its end in the
sandbox, and the routes are read back through boto3.
"""

from __future__ import annotations

import json
import os
import queue
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from outpost_mesh_cli.events_cmd import SAMPLE
from outpost_mesh_cli.main import main
from outpost_mesh_sandbox.aws.identities import (
    PIPELINE_ACCESS_KEY,
    SCENARIO_ACCESS_KEY,
    SECRET_KEY,
)
from outpost_mesh_sandbox.aws.server import Sandbox
from outpost_mesh_sandbox.scenario import load_scenario
from outpost_mesh_sandbox.scenario.seed import seed_and_run_steps
from outpost_mesh_sandbox.stack.local_invoke import local_functions, sam_environment

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"
START_TIMEOUT = 60.0  # seconds for `sandbox up --pipeline` to print its endpoint
RUN_TIMEOUT = 60.0  # seconds for the execution to end


class Running:
    """`outpost-mesh sandbox up ...` in a process of its own, its stdout read line by line."""

    def __init__(self, args: list[str], log: Path) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env["HOME"] = "/nonexistent"  # no AWS config or credentials at all
        self.log = log
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "outpost_mesh_cli.main", "sandbox", "up", *args],
            stdout=subprocess.PIPE,
            stderr=log.open("w", encoding="utf-8"),  # the functions' logs: never a full pipe
            text=True,
            env=env,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)  # the process ended

    def until(self, prefix: str, timeout: float) -> list[str]:
        """Lines up to and including the first that starts with ``prefix`` (a regular
        expression)."""
        deadline = time.monotonic() + timeout
        seen: list[str] = []
        while True:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                pytest.fail(f"no {prefix!r} line after {timeout:.0f} s: {seen}")
            if line is None:
                pytest.fail(f"sandbox up ended: {seen} {self.log.read_text()[-2000:]}")
            seen.append(line)
            if re.match(prefix, line):
                return seen

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=START_TIMEOUT)


@pytest.fixture
def pipeline_sandbox(tmp_path: Path) -> Iterator[tuple[Running, dict[str, str]]]:
    running = Running(
        ["--pipeline", "--scenario", str(ROOT / "scenarios" / "blog.yaml")],
        tmp_path / "sandbox.log",
    )
    try:
        printed: dict[str, str] = {}
        for line in running.until("endpoint ", START_TIMEOUT):
            kind, *rest = line.split()
            printed[f"{kind} {rest[0]}" if len(rest) > 1 else kind] = rest[-1]
        yield running, printed
    finally:
        running.stop()


@pytest.fixture
def no_aws_config(monkeypatch: pytest.MonkeyPatch) -> None:
    """A machine that has never seen AWS: the CLI falls back to the sandbox's keys."""
    for key in list(os.environ):
        if key.startswith("AWS_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("HOME", "/nonexistent")


def client(endpoint: str, service: str, key: str = PIPELINE_ACCESS_KEY) -> Any:
    return boto3.client(
        service,  # type: ignore[call-overload]
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=key,
        aws_secret_access_key=SECRET_KEY,
    )


def lgw_routes(ec2: Any, table_id: str) -> dict[str, str]:
    table = ec2.describe_route_tables(RouteTableIds=[table_id])["RouteTables"][0]
    return {
        r["DestinationCidrBlock"]: r["LocalGatewayId"]
        for r in table["Routes"]
        if "LocalGatewayId" in r
    }


# -- the README's path ----------------------------------------------------------------------------
@pytest.mark.usefixtures("no_aws_config")
def test_a_locally_invoked_trigger_starts_an_execution_that_meshes_the_sandbox(
    pipeline_sandbox: tuple[Running, dict[str, str]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    running, printed = pipeline_sandbox
    endpoint = printed["endpoint"]
    machine = printed["state-machine"]
    assert machine.endswith(":stateMachine:outpost-mesh-reconcile")
    assert printed["table"] == "outpost-mesh-ledger"  # the CLI's and events/env.json's
    ec2 = client(endpoint, "ec2")
    rt_a, rt_b = printed["route-table rt-a"], printed["route-table rt-b"]
    assert lgw_routes(ec2, rt_a) == {} and lgw_routes(ec2, rt_b) == {}  # nothing reacted yet

    out = tmp_path / "events"
    assert main(["events", "render", "--endpoint-url", endpoint, "--out", str(out)]) == 0
    capsys.readouterr()
    code = main(
        [
            "invoke",
            "TriggerFunction",
            "-e",
            str(out / "trigger_create_subnet_legacy.json"),
            "--env-vars",
            str(EVENTS / "env.json"),
            "--endpoint-url",
            endpoint,
        ]
    )
    result, err = capsys.readouterr()
    assert code == 0, err
    started = json.loads(result)
    assert started["vpcs"] == [printed["vpc app"]]
    assert len(started["started"]) == 1 and started["started"][0].startswith(
        machine.replace(":stateMachine:", ":execution:")
    )

    name = started["started"][0].rsplit(":", 1)[1]
    running.until(
        f"execution {re.escape(name)} SUCCEEDED", RUN_TIMEOUT
    )  # the sandbox says it ended...
    described = client(endpoint, "stepfunctions").describe_execution(
        executionArn=started["started"][0]
    )
    assert described["status"] == "SUCCEEDED"  # ...and Step Functions agrees
    lgws = {
        o["LocalGatewayId"]: o["OutpostArn"] for o in ec2.describe_local_gateways()["LocalGateways"]
    }
    by_outpost = {arn: lgw for lgw, arn in lgws.items()}
    assert lgw_routes(ec2, rt_a) == {"10.7.11.0/24": by_outpost[printed["outpost rack-a"]]}
    assert lgw_routes(ec2, rt_b) == {"10.7.7.0/24": by_outpost[printed["outpost rack-b"]]}
    associations = ec2.describe_local_gateway_route_table_vpc_associations()[
        "LocalGatewayRouteTableVpcAssociations"
    ]
    assert {(a["VpcId"], a["State"]) for a in associations} == {(printed["vpc app"], "associated")}
    assert len(associations) == 2


def test_a_persons_call_reaches_the_rules_as_its_cloudtrail_event(
    pipeline_sandbox: tuple[Running, dict[str, str]],
) -> None:
    """A subnet created on rack B while `sandbox up --pipeline` serves (a person's key, as with
    the AWS CLI): its CreateSubnet event goes through the rules to the trigger, whose execution
    meshes the VPC, the new subnet with it."""
    running, printed = pipeline_sandbox
    endpoint = printed["endpoint"]
    person = client(endpoint, "ec2", SCENARIO_ACCESS_KEY)
    ec2 = client(endpoint, "ec2")
    subnet_b = ec2.describe_subnets(SubnetIds=[printed["subnet subnet-b"]])["Subnets"][0]
    created = person.create_subnet(
        VpcId=printed["vpc app"],
        CidrBlock="10.7.12.0/24",
        OutpostArn=printed["outpost rack-b"],
        AvailabilityZone=subnet_b["AvailabilityZone"],
    )["Subnet"]["SubnetId"]
    said = running.until(r"execution \S+ (SUCCEEDED|FAILED|TIMED_OUT|ABORTED)$", RUN_TIMEOUT)
    assert any(re.match(r"event CreateSubnet -> \w+ -> TriggerFunction$", line) for line in said)
    assert said[-1].endswith(" SUCCEEDED"), said
    lgw = {
        o["OutpostArn"]: o["LocalGatewayId"] for o in ec2.describe_local_gateways()["LocalGateways"]
    }
    rack_a, rack_b = lgw[printed["outpost rack-a"]], lgw[printed["outpost rack-b"]]
    assert lgw_routes(ec2, printed["route-table rt-a"]) == {
        "10.7.11.0/24": rack_a,
        "10.7.12.0/24": rack_a,
    }
    assert lgw_routes(ec2, printed["route-table rt-b"]) == {"10.7.7.0/24": rack_b}
    main_table = ec2.describe_route_tables(
        Filters=[{"Name": "association.subnet-id", "Values": [created]}]
    )["RouteTables"]
    assert main_table == []  # no explicit table: the VPC's main one serves it
    assert lgw_routes(ec2, printed["route-table main:app"]) == {"10.7.7.0/24": rack_b}


# -- events render -------------------------------------------------------------------------------
@pytest.fixture
def blog_ids(sb: Sandbox) -> Any:
    scenario = load_scenario(ROOT / "scenarios" / "blog.yaml")
    return seed_and_run_steps(scenario, sb.client("ec2", caller="scenario"), sb.control)


@pytest.mark.usefixtures("no_aws_config")
def test_events_render_writes_every_sample_with_the_sandbox_ids(
    sb: Sandbox, blog_ids: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "rendered"
    assert main(["events", "render", "--endpoint-url", sb.endpoint_url, "--out", str(out)]) == 0
    said = capsys.readouterr().out
    samples = {p.name for p in EVENTS.glob("*.json")} - {"env.json"}
    assert {p.name for p in out.iterdir()} == samples
    text = "".join((out / name).read_text(encoding="utf-8") for name in sorted(samples))
    rack_b = blog_ids.outpost("rack-b")
    real = {
        "vpc": blog_ids.vpc_id("app"),
        "subnet_a": blog_ids.subnet_id("subnet-a"),
        "subnet_b": blog_ids.subnet_id("subnet-b"),
        "route_table_b": blog_ids.route_table_id("rt-b"),
        "route_table_other": blog_ids.main_route_table_id("app"),
        "outpost_b": rack_b.outpost_arn,
        "local_gateway_b": rack_b.local_gateway_id,
        "lgw_route_table_b": rack_b.local_gateway_route_table_id,
        "cidr_a": "10.7.7.0/24",
        "cidr_b": "10.7.11.0/24",
    }
    for role, value in real.items():
        assert SAMPLE[role] not in text, role
        assert value in text, role
    # What does not exist yet stays made up, and is named: the VPC is not associated yet.
    assert SAMPLE["lgw_association_b"] in text
    assert "lgw_association_b" in said and "left made up" in said
    legacy = json.loads((out / "trigger_create_subnet_legacy.json").read_text(encoding="utf-8"))
    assert legacy["detail"]["requestParameters"]["vpcId"] == real["vpc"]
    assert legacy["detail"]["responseElements"]["subnet"]["subnetId"] == real["subnet_b"]
    claim = json.loads((out / "claim.json").read_text(encoding="utf-8"))
    assert claim["execution_name"].startswith(real["vpc"] + "-")


@pytest.mark.usefixtures("no_aws_config")
@pytest.mark.parametrize("inside", [".", "rendered"])
def test_events_render_refuses_the_tracked_samples(
    sb: Sandbox, blog_ids: Any, capsys: pytest.CaptureFixture[str], inside: str
) -> None:
    del blog_ids
    before = {p: p.read_bytes() for p in EVENTS.iterdir()}
    out = EVENTS / inside
    code = main(["events", "render", "--endpoint-url", sb.endpoint_url, "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == "" and captured.err.count("\n") == 1
    assert "refusing" in captured.err
    assert {p: p.read_bytes() for p in EVENTS.iterdir()} == before


@pytest.mark.usefixtures("no_aws_config")
def test_events_render_without_a_two_rack_vpc_says_so(
    sb: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["events", "render", "--endpoint-url", sb.endpoint_url, "--out", str(tmp_path)])
    captured = capsys.readouterr()
    assert code == 2 and captured.err.count("\n") == 1
    assert "two Outposts" in captured.err
    assert list(tmp_path.iterdir()) == []


def test_events_render_checks_the_vpc_id_before_any_call(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "rendered"
    code = main(["events", "render", "--vpc", "subnet-123", "--out", str(out)])
    captured = capsys.readouterr()
    assert (code, captured.out) == (2, "")
    assert captured.err.count("\n") == 1 and "not a VPC id" in captured.err
    assert not out.exists()


# -- invoke: the environment is SAM CLI's, the answer Lambda's ------------------------------------
@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # SAM's template validator's own
def test_invoke_gives_each_function_the_environment_sam_cli_gives_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """SAM CLI's own resolution (its template provider and LocalLambdaRunner._make_env_vars,
    which needs no Docker) against ours, for every function, with events/env.json and a shell
    that sets credentials, a region and one declared variable."""
    from samcli.commands.local.lib.local_lambda import LocalLambdaRunner
    from samcli.lib.providers.sam_function_provider import SamFunctionProvider
    from samcli.lib.providers.sam_stack_provider import SamLocalStackProvider

    for key in list(os.environ):
        if key.startswith("AWS_"):
            monkeypatch.delenv(key)
    shell = {
        "HOME": "/nonexistent",
        "AWS_ACCESS_KEY_ID": "AKIAOMSHELL000000001",
        "AWS_SECRET_ACCESS_KEY": "from-the-shell",
        "AWS_REGION": "us-east-1",
        "LEASE_SECONDS": "600",  # declared, not in the env file: the shell's value wins
    }
    for key, value in shell.items():
        monkeypatch.setenv(key, value)
    env_file = json.loads((EVENTS / "env.json").read_text(encoding="utf-8"))
    monkeypatch.chdir(ROOT)
    stacks, _ = SamLocalStackProvider.get_stacks(str(ROOT / "template.yaml"))
    provider = SamFunctionProvider(stacks)
    runner = LocalLambdaRunner(
        local_runtime=None,  # type: ignore[arg-type]  # resolving needs no runtime
        function_provider=provider,
        cwd=str(ROOT),
        real_path=str(ROOT),
        env_vars_values=env_file,
    )
    ours_by_function = local_functions(ROOT / "template.yaml", "us-east-1")
    assert set(ours_by_function) == {f.name for f in provider.get_all()}
    for name, function in ours_by_function.items():
        sam = runner._make_env_vars(provider.get(name)).resolve()
        ours = sam_environment(
            function,
            env_file,
            os.environ,
            region="us-east-1",
            credentials=(shell["AWS_ACCESS_KEY_ID"], shell["AWS_SECRET_ACCESS_KEY"], None),
        )
        assert ours == {k: sam[k] for k in ours}, name
        assert ours["LEASE_SECONDS"] == "600"
        assert ours["AWS_ACCESS_KEY_ID"] == shell["AWS_ACCESS_KEY_ID"]  # never the file's
        assert ours["LEDGER_TABLE"] == "outpost-mesh-ledger"  # the sandbox's (SAM: LedgerTable)


def test_env_file_sets_only_variables_sam_cli_applies() -> None:
    """Every variable of events/env.json reaches the functions it is for: SAM CLI applies only
    variables the template declares, and takes credentials and region from the shell."""
    env_file = json.loads((EVENTS / "env.json").read_text(encoding="utf-8"))
    functions = local_functions(ROOT / "template.yaml", "us-east-1")
    assert set(env_file) - {"Parameters"} <= set(functions)
    for name, function in functions.items():
        given = set(env_file.get("Parameters", {})) | set(env_file.get(name, {}))
        assert given <= set(function.environment), (name, given - set(function.environment))
    assert not any(k.startswith("AWS_") and k != "AWS_ENDPOINT_URL" for k in env_file["Parameters"])


@pytest.mark.usefixtures("no_aws_config")
def test_a_failing_function_prints_lambdas_error_payload_and_exits_1(
    sb: Sandbox, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """stdout: Lambda's error payload; stderr: one line (the function's log goes to --log-file,
    here as Lambda would send it to CloudWatch Logs: the handler's own line for its input)."""
    event = tmp_path / "bad.json"
    event.write_text('{"vpc_id": 7}', encoding="utf-8")
    log = tmp_path / "function.log"
    code = main(
        [
            "invoke",
            "ClaimFunction",
            "-e",
            str(event),
            "--endpoint-url",
            sb.endpoint_url,
            "--log-file",
            str(log),
        ]
    )
    out, err = capfd.readouterr()
    assert code == 1
    payload = json.loads(out)
    assert payload["errorType"] == "MalformedInputError"
    assert set(payload) == {"errorMessage", "errorType", "requestId", "stackTrace"}
    assert not any("local_invoke.py" in frame for frame in payload["stackTrace"])
    assert err.count("\n") == 1 and "ClaimFunction failed: MalformedInputError" in err
    assert '"message":"rejected input"' in log.read_text(encoding="utf-8")  # Powertools' JSON


@pytest.mark.usefixtures("no_aws_config")
@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["NoSuchFunction", "-e", str(EVENTS / "claim.json")], "no function 'NoSuchFunction'"),
        (["ClaimFunction", "-e", "/nonexistent.json"], "cannot read the event"),
        (
            [
                "ClaimFunction",
                "-e",
                str(EVENTS / "claim.json"),
                "--env-vars",
                str(EVENTS / "claim.json"),
            ],
            "every top-level value must be an object",
        ),
    ],
)
def test_invoke_bad_input_is_one_line_and_exit_2(
    sb: Sandbox, capsys: pytest.CaptureFixture[str], args: list[str], problem: str
) -> None:
    code = main(["invoke", *args, "--endpoint-url", sb.endpoint_url])
    out, err = capsys.readouterr()
    assert (code, out) == (2, "")
    assert err.count("\n") == 1 and problem in err
