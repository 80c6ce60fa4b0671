"""The `outpost-mesh` CLI against a real `outpost-mesh sandbox up` process.

This is the issue's acceptance path: with the blog sandbox running, `plan` shows 2 associations
and 2 routes, `apply` makes them, `verify` exits 0, and a second `plan` is empty.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest

from outpost_mesh.ledger import LedgerStore
from outpost_mesh.notices import CLI_ACTOR_PREFIX
from outpost_mesh_cli.command import ExitCode
from outpost_mesh_cli.main import build_parser, main
from outpost_mesh_sandbox.aws.server import Sandbox
from outpost_mesh_sandbox.scenario.ids import IdMap

from .support import seeded
from .test_reconcile import lgw_routes, live_associations

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 60  # seconds to wait for the sandbox to print its endpoint


@pytest.fixture(scope="module")
def blog_sandbox() -> Iterator[dict[str, str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["HOME"] = "/nonexistent"  # no AWS config or credentials at all
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "outpost_mesh_cli.main",
            "sandbox",
            "up",
            "--scenario",
            str(ROOT / "scenarios" / "blog.yaml"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    ids: dict[str, str] = {}
    try:
        assert proc.stdout is not None
        for line in proc.stdout:  # blocks until the next line; the process ends on a crash
            kind, *rest = line.split()
            if kind == "endpoint":
                ids["endpoint"] = rest[0]
                break
            ids[f"{kind} {rest[0]}"] = rest[-1]
        else:
            pytest.fail(f"sandbox up ended early: {proc.stderr.read() if proc.stderr else ''}")
        yield ids
    finally:
        proc.terminate()
        proc.wait(timeout=START_TIMEOUT)


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, blog_sandbox: dict[str, str]) -> dict[str, str]:
    for key in list(os.environ):
        if key.startswith("AWS_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("HOME", "/nonexistent")
    monkeypatch.setenv("AWS_ENDPOINT_URL", blog_sandbox["endpoint"])
    return blog_sandbox


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def subcommands(parser: argparse.ArgumentParser, prefix: str = "") -> dict[str, Any]:
    """Every (sub)command's parser by its words: ``plan``, ``sandbox up``..."""
    found: dict[str, Any] = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                found[prefix + name] = child
                found.update(subcommands(child, prefix + name + " "))
    return found


def test_sandbox_up_prints_every_id_then_the_endpoint(blog_sandbox: dict[str, str]) -> None:
    assert blog_sandbox["vpc app"].startswith("vpc-")
    assert blog_sandbox["subnet subnet-a"].startswith("subnet-")
    assert blog_sandbox["subnet subnet-b"].startswith("subnet-")  # made by the step
    assert blog_sandbox["route-table rt-a"].startswith("rtb-")
    assert blog_sandbox["outpost rack-a"].startswith("arn:aws:outposts:")
    assert blog_sandbox["table outpost-mesh-ledger"] == "outpost-mesh-ledger"
    assert blog_sandbox["endpoint"].startswith("http://127.0.0.1:")


def test_plan_apply_verify_plan(
    cli_env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    vpc = cli_env["vpc app"]
    code, out, _ = run(capsys, "plan", "--vpc", vpc, "--output", "json")
    plan = json.loads(out)
    assert code == 0
    assert set(plan) >= {
        "associations_to_create",
        "associations_to_delete",
        "routes_to_create",
        "routes_to_delete",
        "findings",
    }
    assert len(plan["associations_to_create"]) == 2
    assert sorted((r["route_table_id"], r["destination"]) for r in plan["routes_to_create"]) == (
        sorted(
            [
                (cli_env["route-table rt-a"], "10.7.11.0/24"),
                (cli_env["route-table rt-b"], "10.7.7.0/24"),
            ]
        )
    )

    code, out, _ = run(capsys, "verify", "--vpc", vpc)
    # Nothing routed yet: the pairs are unreachable, but no pair with its routes in place is
    # (the rule the UnreachablePairs alarm follows: a VPC never meshed is not broken).
    assert code == 0
    assert out.count("UNREACHABLE (routes not in place yet)") == 2

    code, _, err = run(capsys, "apply", "--vpc", vpc)
    assert (code, err) == (0, "")

    code, out, _ = run(capsys, "verify", "--vpc", vpc, "--output", "json")
    assert code == 0
    assert [p["reachable"] for p in json.loads(out)["reachability"]] == [True, True]

    code, out, _ = run(capsys, "plan", "--vpc", vpc, "--output", "json")
    again = json.loads(out)
    assert code == 0
    assert again["associations_to_create"] == again["routes_to_create"] == []
    assert again["routes_to_delete"] == again["associations_to_delete"] == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["plan", "--vpc", "vpc-00000000000000000"], "InvalidVpcID.NotFound"),
        (["plan", "--vpc", "vpc-12345678", "--endpoint-url", "http://127.0.0.1:1"], "cannot reach"),
        (
            ["plan", "--vpc", "vpc-12345678", "--endpoint-url", "https://ec2.invalid"],
            "no AWS credentials",
        ),
    ],
)
def test_bad_input_gets_one_line_and_exit_2(
    cli_env: dict[str, str], capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, out, err = run(capsys, *args)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert message in err
    assert "Traceback" not in err


def test_unknown_scenario_file_is_one_line_error(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["sandbox", "up", "--scenario", "/nonexistent/scenario.yaml"])
    _, err = capsys.readouterr()
    assert code == 2
    assert err.count("\n") == 1
    assert "/nonexistent/scenario.yaml" in err


def test_sandbox_up_pipeline_refuses_a_scenario_of_several_accounts(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """One stack cannot play several accounts: refused before anything starts, pointing at demo
    (which runs a stack per account)."""
    path = str(ROOT / "scenarios" / "two-accounts.yaml")
    code = main(["sandbox", "up", "--scenario", path, "--pipeline", "--port", "0"])
    _, err = capsys.readouterr()
    assert code == 2
    assert err.count("\n") == 1
    assert "2 accounts" in err and f"outpost-mesh demo --scenario {path}" in err


# -- issue 14: the operator's CLI with the AWS CLI's manners -------------------------------------
# The tests below run against the test session's sandbox (reset for each test): in-process through
# main(argv), or as a process of its own where a process is what is under test (a closed pipe,
# Ctrl-C).


@pytest.fixture
def bare_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No AWS configuration or credentials at all, as on a machine that never saw AWS."""
    for key in list(os.environ):
        if key.startswith("AWS_") or key == "OUTPOST_MESH_TABLE":
            monkeypatch.delenv(key)
    monkeypatch.setenv("HOME", "/nonexistent")


@pytest.fixture
def blog(sb: Sandbox, store: LedgerStore, bare_env: None, monkeypatch: pytest.MonkeyPatch) -> IdMap:
    """The blog scenario in the sandbox, which the CLI finds through AWS_ENDPOINT_URL."""
    del store  # the ledger table the CLI uses against a local endpoint, created empty
    monkeypatch.setenv("AWS_ENDPOINT_URL", sb.endpoint_url)
    return seeded(sb, "blog")


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """The test's stderr is the CLI's: the server keeps its request log to itself."""


@contextmanager
def not_aws_server() -> Iterator[str]:
    """A local web server that is not AWS (Python's http.server: GET only, HTML error pages)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def not_aws() -> Iterator[str]:
    with not_aws_server() as url:
        yield url


def one_line(err: str) -> str:
    """The one stderr line of a failed command (and nothing like a traceback)."""
    assert err.count("\n") == 1 and err.startswith("outpost-mesh"), err
    assert "Traceback" not in err
    return err


def cli_process(*args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "outpost_mesh_cli.main", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**{k: v for k, v in os.environ.items() if not k.startswith("AWS_")}, **env},
    )


# item 2: no traceback, ever
def test_apply_into_a_closed_pipe_applies_and_ends_quietly(blog: IdMap, sb: Sandbox) -> None:
    """`apply | head -3` once printed a BrokenPipeError traceback: here the reader is gone before
    the first byte, the apply is done all the same, stderr is empty and the exit code is the
    command's (0: converged)."""
    proc = cli_process(
        "apply",
        "--vpc",
        blog.vpc_id("app"),
        env={"HOME": "/nonexistent", "AWS_ENDPOINT_URL": sb.endpoint_url},
    )
    assert proc.stdout is not None
    proc.stdout.close()  # like `head` that has read what it wanted
    _, err = proc.communicate(timeout=START_TIMEOUT)
    assert (proc.returncode, err) == (0, "")
    ec2 = sb.client("ec2")
    assert lgw_routes(ec2, blog.route_table_id("rt-a")) == {
        "10.7.11.0/24": blog.outpost("rack-a").local_gateway_id
    }
    assert len(live_associations(ec2, blog.vpc_id("app"))) == 2


@pytest.mark.parametrize("command", ["plan", "verify", "status", "graph", "apply"])
def test_a_web_server_that_is_not_aws_is_one_line_and_exit_2(
    bare_env: None, not_aws: str, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    code, out, err = run(
        capsys, command, "--vpc", "vpc-0123456789abcdef0", "--endpoint-url", not_aws
    )
    assert (code, out) == (2, "")
    assert "not an AWS API" in one_line(err) and "--endpoint-url" in err


def test_ctrl_c_is_one_line_and_exit_130(bare_env: None) -> None:
    """A call that never gets an answer, interrupted: `interrupted`, exit 130, no traceback."""
    with socket.create_server(("127.0.0.1", 0)) as silent:
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        proc = cli_process(
            "plan",
            "--vpc",
            "vpc-0123456789abcdef0",
            env={"HOME": "/nonexistent", "AWS_ENDPOINT_URL": url},
        )
        silent.settimeout(START_TIMEOUT)
        while True:  # the reachability check connects and says nothing; the API call speaks
            conn, _ = silent.accept()
            with conn:
                conn.settimeout(START_TIMEOUT)
                if conn.recv(1):
                    proc.send_signal(signal.SIGINT)
                    out, err = proc.communicate(timeout=START_TIMEOUT)
                    break
    assert (proc.returncode, out) == (130, "")
    assert "interrupted" in one_line(err)


# item 3: AWS_REGION, as the AWS CLI v2 and the SDKs take it (botocore reads only
# AWS_DEFAULT_REGION)
def test_aws_region_comes_before_aws_default_region(
    blog: IdMap, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_REGION", "us-east-1")  # where the scenario is seeded
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")  # an empty account
    code, out, err = run(capsys, "plan", "--vpc", blog.vpc_id("app"), "--output", "json")
    assert (code, err) == (0, "")
    assert len(json.loads(out)["routes_to_create"]) == 2

    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    code, _, err = run(capsys, "plan", "--vpc", blog.vpc_id("app"))
    assert code == 2 and "InvalidVpcID.NotFound" in one_line(err)
    code, _, err = run(capsys, "plan", "--vpc", blog.vpc_id("app"), "--region", "us-east-1")
    assert (code, err) == (0, "")  # --region before both


# item 6: values refused before anything starts
@pytest.mark.parametrize("timeout", ["0", "-1", "nan", "inf"])
def test_demo_refuses_a_timeout_that_cannot_be_waited(
    bare_env: None, capsys: pytest.CaptureFixture[str], timeout: str
) -> None:
    blog_file = str(ROOT / "scenarios" / "blog.yaml")
    code, out, err = run(capsys, "demo", "--scenario", blog_file, f"--timeout={timeout}")
    assert (code, out) == (2, "")
    assert "--timeout" in one_line(err)


@pytest.mark.parametrize("port", ["99999", "-1", "http"])
def test_sandbox_up_refuses_a_port_that_is_no_port(
    bare_env: None, capsys: pytest.CaptureFixture[str], port: str
) -> None:
    code, out, err = run(capsys, "sandbox", "up", f"--port={port}")
    assert (code, out) == (2, "")
    assert "--port" in one_line(err)


def test_sandbox_up_on_a_port_in_use_is_one_line(
    bare_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = str(taken.getsockname()[1])
        code, out, err = run(capsys, "sandbox", "up", "--port", port)
    assert (code, out) == (2, "")
    assert f"port {port} on 127.0.0.1 is in use" in one_line(err)


# item 7: release
def test_release_names_what_it_released_and_refuses_what_is_not_quarantined(
    blog: IdMap, store: LedgerStore, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "release", "--outpost", "bogus")
    assert (code, out) == (2, "")
    assert "is not an Outpost ARN" in one_line(err)

    rack_a = blog.outpost("rack-a").outpost_arn
    code, out, err = run(capsys, "release", "--outpost", rack_a)
    assert (code, out) == (2, "")
    assert f"{rack_a} is not quarantined" in one_line(err)

    store.quarantine(rack_a, "rack-not-updated", 3600)
    code, out, err = run(capsys, "release", "--outpost", rack_a)
    assert (code, err) == (0, "")
    assert out.startswith(f"Released the quarantine of {rack_a}")
    assert store.quarantined() == frozenset()


def test_release_help_says_what_it_does(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "release", "--help")
    assert code == 0
    assert "End an Outpost's quarantine" in out
    assert "the Outpost's ARN" in out


# item 8: ids checked before any call
@pytest.mark.parametrize("command", ["plan", "apply", "remove", "verify", "graph", "status"])
def test_a_vpc_id_that_is_no_vpc_id_is_refused_before_any_call(
    blog: IdMap, sb: Sandbox, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    calls = len(sb.control.calls())
    code, out, err = run(capsys, command, "--vpc", blog.subnet_id("subnet-a"))
    assert (code, out) == (2, "")
    assert "is not a VPC id" in one_line(err) and "{" not in err
    assert len(sb.control.calls()) == calls


# item 9: the credentials error suggests only what was not done
def test_no_credentials_error_does_not_suggest_the_endpoint_that_was_passed(
    bare_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    vpc = "vpc-0123456789abcdef0"
    code, _, err = run(capsys, "plan", "--vpc", vpc, "--endpoint-url", "https://ec2.example.com")
    assert code == 2
    assert "no AWS credentials found for https://ec2.example.com" in one_line(err)
    assert "--endpoint-url" not in err

    code, _, err = run(capsys, "plan", "--vpc", vpc, "--region", "us-east-1")
    assert code == 2 and "--endpoint-url for the sandbox" in one_line(err)


# item 10: what was done, with names
def test_apply_and_remove_say_what_they_did(
    blog: IdMap, sb: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    vpc = blog.vpc_id("app")
    code, out, err = run(capsys, "apply", "--vpc", vpc)
    assert (code, err) == (0, "")
    assert out.rstrip().endswith(f"created 2 routes, 2 associations in {vpc} (app); 0 failed")

    code, out, err = run(capsys, "remove", "--vpc", vpc, "--yes", "--output", "json")
    assert (code, err) == (0, "")
    removed = json.loads(out)
    assert removed["summary"] == f"removed 2 routes, 2 associations from {vpc} (app); 0 failed"
    applied = removed["applied"]
    assert sorted(r["route_table_id"] for r in applied["routes_deleted"]) == sorted(
        [blog.route_table_id("rt-a"), blog.route_table_id("rt-b")]
    )
    assert len(applied["associations_deleted"]) == 2 and applied["failed"] == 0
    assert lgw_routes(sb.client("ec2"), blog.route_table_id("rt-a")) == {}

    code, out, err = run(capsys, "apply", "--vpc", vpc, "--output", "json")
    done = json.loads(out)
    assert (code, err) == (0, "")
    assert len(done["applied"]["routes_created"]) == 2
    assert len(done["applied"]["associations_created"]) == 2
    assert done["names"][vpc] == "app"


def test_plan_and_verify_name_things_once_with_their_ids(
    blog: IdMap, capsys: pytest.CaptureFixture[str]
) -> None:
    vpc, a, b = blog.vpc_id("app"), blog.subnet_id("subnet-a"), blog.subnet_id("subnet-b")
    rt_a = blog.route_table_id("rt-a")
    code, out, _ = run(capsys, "plan", "--vpc", vpc)
    assert code == 0
    assert out.startswith(f"Plan for {vpc} (app): create 2 associations and 2 routes; 0 findings")
    assert out.count(a) == out.count(b) == out.count(rt_a) == 1  # the id beside the name, once
    assert f"{rt_a} (rt-a) 10.7.11.0/24" in out
    assert out.count(" reaches ") == 2 and " reach " not in out
    assert "arn:aws:outposts" not in out and "(s)" not in out

    code, out, _ = run(capsys, "verify", "--vpc", vpc)
    assert code == 0
    assert out.startswith("Reachability: 0 of 2 pairs reachable; the mesh joins 2")
    assert out.count(a) == out.count(b) == 1  # pairs in subnet-id order: names from then on
    assert f"{a} (subnet-a)" in out and f"{b} (subnet-b)" in out
    assert out.count("UNREACHABLE (routes not in place yet)") == 2

    code, out, _ = run(capsys, "verify", "--vpc", vpc, "--output", "json")
    assert json.loads(out)["names"] == {
        vpc: "app",
        a: "subnet-a",
        b: "subnet-b",
        rt_a: "rt-a",
        blog.route_table_id("rt-b"): "rt-b",
        **json.loads(out)["names"],  # the LGW route tables' and the main table's too
    }


def test_every_option_has_help_and_the_command_list_one_line_each(
    capsys: pytest.CaptureFixture[str],
) -> None:
    parser = build_parser()
    commands = subcommands(parser)
    for name, command in {"": parser, **commands}.items():
        for action in command._actions:
            if isinstance(action, argparse._SubParsersAction):
                for choice in action._choices_actions:  # each command's line in the list
                    assert choice.help, f"{name} {choice.dest} has no help"
            else:
                assert action.help, f"{name} {action.option_strings or action.dest} has no help"
    code, out, _ = run(capsys, "--help")
    assert code == 0
    listed = out[out.index("COMMAND\n") :]
    for name in (n for n in commands if " " not in n):
        lines = [line for line in listed.splitlines() if line.split()[:1] == [name]]
        assert len(lines) == 1 and len(lines[0].split()) > 1, (name, listed)
    code, out, _ = run(capsys, "plan", "--help")
    assert "--output {table,json}" in out and "text for people" in out


def test_version_is_the_installed_distributions(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--version")
    assert (code, out) == (0, f"outpost-mesh {version('outpost-mesh')}\n")


# item 11: status against the sandbox says nothing of a stack it was not asked about
def test_status_against_the_sandbox_does_not_complain_of_a_missing_stack(
    blog: IdMap, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "status")
    assert (code, err) == (0, "")
    assert "no state machine known" not in out and "Last executions" not in out

    code, out, err = run(capsys, "status", "--stack", "outpost-mesh-prod")
    assert (code, err) == (0, "")
    notes = [line for line in out.splitlines() if "stack 'outpost-mesh-prod' not found" in line]
    assert len(notes) == 1 and "--stack NAME" in notes[0]


# item 12: verify's exit code counts only pairs the mesh joins, with their routes in place
def test_verify_exit_1_names_a_meshed_pair_that_broke(
    blog: IdMap, sb: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    vpc = blog.vpc_id("app")
    assert run(capsys, "apply", "--vpc", vpc)[0] == 0
    person = sb.client("ec2", caller="scenario")
    rack_b = person.describe_local_gateway_route_table_vpc_associations(
        Filters=[
            {"Name": "vpc-id", "Values": [vpc]},
            {"Name": "local-gateway-route-table-id", "Values": [blog.lgw_route_tables["rack-b"]]},
        ]
    )["LocalGatewayRouteTableVpcAssociations"][0]
    person.delete_local_gateway_route_table_vpc_association(
        LocalGatewayRouteTableVpcAssociationId=rack_b["LocalGatewayRouteTableVpcAssociationId"]
    )
    code, out, err = run(capsys, "verify", "--vpc", vpc)
    assert code == 1 and "UNREACHABLE" in out
    assert "1 pair the mesh joins, with its routes in place both ways, is not reachable: " in (
        one_line(err)
    )
    assert "subnet-b -> subnet-a (VPC not associated with" in err

    code, out, err = run(capsys, "remove", "--vpc", vpc, "--yes")
    assert (code, err) == (0, "")
    code, out, err = run(capsys, "verify", "--vpc", vpc)
    assert (code, err) == (0, "")  # nothing routed: nothing broken
    code, out, _ = run(capsys, "verify", "--help")
    assert "exit 1 only for a pair the mesh joins" in " ".join(out.split())


def test_verify_does_not_count_pairs_the_mesh_leaves_out(
    sb: Sandbox, store: LedgerStore, bare_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = seeded(sb, "coip-rack")  # rack-c is CoIP: its subnet is left out, 4 of 6 pairs
    common = ["--vpc", ids.vpc_id("retail"), "--endpoint-url", sb.endpoint_url]
    assert run(capsys, "apply", *common)[0] == 0
    code, out, err = run(capsys, "verify", *common, "--output", "json")
    pairs = json.loads(out)["reachability"]
    assert (code, err) == (0, "")
    assert sum(not p["reachable"] for p in pairs) == 4
    assert all(not p["expected"] for p in pairs if not p["reachable"])


# item 13: a busy VPC
def test_a_vpc_busy_with_another_actor_exits_3_and_says_retry_later(
    blog: IdMap, sb: Sandbox, store: LedgerStore, capsys: pytest.CaptureFixture[str]
) -> None:
    vpc = blog.vpc_id("app")
    store.claim(vpc, f"{CLI_ACTOR_PREFIX}someone@elsewhere:1")  # another CLI run holds it
    code, out, err = run(capsys, "apply", "--vpc", vpc)
    assert (code, out) == (3, "")
    line = one_line(err)
    assert "busy" in line and "retry later" in line and "trigger" not in line
    assert f"{CLI_ACTOR_PREFIX}someone@elsewhere:1" in line
    assert lgw_routes(sb.client("ec2"), blog.route_table_id("rt-a")) == {}  # nothing done


def test_exit_codes_are_in_the_help_and_the_readme(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--help")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    cli_section = readme[readme.index("## The CLI") :]
    cli_section = cli_section[: cli_section.index("\n## ", 1)]
    assert code == 0
    for exit_code in ExitCode:
        assert re.search(rf"^  {exit_code.value}\s", out, re.MULTILINE), exit_code
        assert re.search(rf"^\| `{exit_code.value}` \|", cli_section, re.MULTILINE), exit_code
