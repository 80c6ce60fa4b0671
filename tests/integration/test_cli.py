"""The `outpost-mesh` CLI against a real `outpost-mesh sandbox up` process.

This is the issue's acceptance path: with the blog sandbox running, `plan` shows 2 associations
and 2 routes, `apply` makes them, `verify` exits 0, and a second `plan` is empty.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from outpost_mesh_cli.main import main

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
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


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
        (["plan", "--vpc", "vpc-1", "--endpoint-url", "http://127.0.0.1:1"], "cannot reach"),
        (["plan", "--vpc", "vpc-1", "--endpoint-url", "https://ec2.invalid"], "no AWS credentials"),
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
