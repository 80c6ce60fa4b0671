"""No traceback, ever: every `outpost-mesh` command with generated arguments and environment.

Hypothesis draws a command (every one ``build_parser`` registers: a new one is fuzzed without a
change here), its options from pools of good and bad values (ids of the seeded blog VPC and ids
that are not ids, ports in use or out of range, files that are not scenarios...), the AWS_*
environment (credentials or none, regions good and bad, a profile that does not exist, a config
file botocore cannot read, retry settings that are not numbers) and where AWS is: the test
session's sandbox, a local web server that is not AWS, a closed port, a URL that is not one, or a
non-local endpoint (drawn only without credentials: with them the CLI would go out to the
network, which this machine has not). ``sandbox up`` and ``demo`` get only inputs that fail fast
(a port in use or out of range, a file that is no scenario, a timeout that cannot be waited).

Each run is in-process (``main(argv)``), and some with stdout a pipe whose reader is gone. The
rule: a documented exit code (``ExitCode``); nothing on stderr on success, else exactly one line;
never a traceback. Derandomized, so a run is repeatable and bounded (a few seconds).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from outpost_mesh.ledger import create_table
from outpost_mesh_cli.aws import SANDBOX_TABLE
from outpost_mesh_cli.command import ExitCode
from outpost_mesh_cli.main import build_parser, main
from outpost_mesh_sandbox.aws.server import Sandbox

from .support import seeded
from .test_cli import not_aws_server, subcommands

ROOT = Path(__file__).resolve().parents[2]
RUNS = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# Commands that run until stopped when given good input: fuzzed with inputs that fail fast only.
LONG_RUNNING = {"sandbox up": "port", "demo": "timeout"}
COMMON = {"region", "profile", "endpoint_url", "output", "table", "stack"}


@dataclass(frozen=True)
class World:
    """What the pools are made of."""

    sandbox: str  # the session sandbox's endpoint, the blog scenario seeded
    not_aws: str  # a web server that is not AWS
    in_use: int  # a port another program listens on
    vpc: str
    outpost: str
    files: dict[str, str]  # kind -> path


@pytest.fixture(scope="module")
def world(sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    sandbox.control.reset()
    create_table(sandbox.client("dynamodb"), SANDBOX_TABLE)
    ids = seeded(sandbox, "blog")
    folder = tmp_path_factory.mktemp("fuzz")
    (folder / "not-json.json").write_text("{nope", encoding="utf-8")
    (folder / "bad.yaml").write_text("vpcs: [\n", encoding="utf-8")
    (folder / "config").write_text("[default\nregion = ", encoding="utf-8")
    files = {
        "missing": "/nonexistent/outpost-mesh/file",
        "not json": str(folder / "not-json.json"),
        "bad yaml": str(folder / "bad.yaml"),
        "bad config": str(folder / "config"),
        "folder": str(folder),
        "out": str(folder / "out"),
        "blog": str(ROOT / "scenarios" / "blog.yaml"),
    }
    with not_aws_server() as web, _listening() as port:
        yield World(
            sandbox.endpoint_url,
            web,
            port,
            ids.vpc_id("app"),
            ids.outpost("rack-a").outpost_arn,
            files,
        )


class _listening:
    """A port in use for the test's length."""

    def __enter__(self) -> int:
        import socket

        self.server = socket.create_server(("127.0.0.1", 0))
        return int(self.server.getsockname()[1])

    def __exit__(self, *_: object) -> None:
        self.server.close()


LEAVES = {
    name: parser
    for name, parser in subcommands(build_parser()).items()
    if not any(isinstance(a, argparse._SubParsersAction) for a in parser._actions)
}


Pool = tuple[list[str], list[str]]  # (good values, bad values)


def _pools(w: World) -> dict[str, Pool]:
    """Values per option (its dest); ``*`` for an option nobody here knows (its values fail
    fast: a missing file, a file that is not JSON, a folder that does not exist yet)."""
    return {
        "vpc": ([w.vpc, "vpc-0123456789abcdef0"], ["vpc-1", "subnet-123", "", "vpc-ZZZZZZZZ"]),
        "outpost": (
            [w.outpost, "arn:aws:outposts:us-east-1:123456789012:outpost/op-0123456789abcdef0"],
            ["bogus", ""],
        ),
        "state_machine_arn": (
            ["arn:aws:states:us-east-1:123456789012:stateMachine:outpost-mesh-reconcile"],
            ["junk"],
        ),
        "executions": (["0", "3"], ["-1", "many"]),
        "format": (["mermaid", "dot"], ["svg"]),
        "output": (["table", "json"], ["xml"]),
        "region": (["us-east-1", "eu-west-1"], ["not a region", ""]),
        "profile": ([], ["no-such-profile"]),
        "endpoint_url": _endpoints(w),
        "table": ([SANDBOX_TABLE], ["no-such-table", "bad name!"]),
        "stack": (["outpost-mesh", "outpost-mesh-prod"], [""]),
        "scenario": (
            [w.files["blog"]],
            [w.files["missing"], w.files["bad yaml"], w.files["folder"]],
        ),
        # sandbox up and demo: only values that fail fast
        "port": ([str(w.in_use)], ["99999", "-1", "http"]),
        "host": (["127.0.0.1", "localhost"], []),
        "timeout": ([], ["0", "-1", "nan", "inf", "soon"]),
        "function": (["TriggerFunction"], ["NoSuchFunction", ""]),
        "*": ([w.files["out"]], [w.files["missing"], w.files["not json"], ""]),
    }


def _endpoints(w: World) -> Pool:
    """Endpoints on this machine (malformed ones are refused before any call)."""
    return [w.sandbox], [w.not_aws, "http://127.0.0.1:1", "notaurl", "http://[::1", "ftp://x/"]


AWAY = "https://ec2.invalid"  # not this machine: drawn only without credentials
ENVIRONMENT = {  # AWS_* settings that are wrong, each drawn now and then
    "AWS_REGION": ["eu-west-1", "nowhere 1"],
    "AWS_DEFAULT_REGION": ["us-east-1", ""],
    "AWS_PROFILE": ["no-such-profile"],
    "AWS_CONFIG_FILE": ["bad config", "missing"],
    "AWS_MAX_ATTEMPTS": ["0", "many"],
    "AWS_RETRY_MODE": ["bogus"],
    "AWS_ENDPOINT_URL_EC2": ["notaurl"],
    "OUTPOST_MESH_TABLE": ["no-such-table", "bad name!"],
}


def _now_and_then(draw: Any, one_in: int) -> bool:
    """True one time in ``one_in``: the largest draw, not the smallest, which Hypothesis tries
    first and shrinks to (the plain case stays the plain case)."""
    return bool(draw(st.integers(1, one_in)) == one_in)


def _pick(draw: Any, pool: Pool) -> str:
    """Mostly a good value (so that runs get past the first check), a bad one 1 in 4."""
    good, bad = pool
    if bad and (not good or _now_and_then(draw, 4)):
        return str(draw(st.sampled_from(bad)))
    return str(draw(st.sampled_from(good)))


@st.composite
def invocations(draw: Any, w: World) -> tuple[list[str], dict[str, str]]:
    """A command line and an environment that cannot reach past this machine."""
    pools = _pools(w)
    name = draw(st.sampled_from(sorted(LEAVES)))
    credentials = draw(st.booleans())
    argv = name.split()
    for action in LEAVES[name]._actions:
        if isinstance(action, argparse._HelpAction | argparse._VersionAction):
            continue
        pool = pools.get(action.dest, pools["*"])
        if action.dest == "endpoint_url" and not credentials:
            pool = (pool[0], [*pool[1], AWAY])
        required = not action.option_strings or action.required
        if action.dest == LONG_RUNNING.get(name):
            pass  # always given: with a value that fails fast
        elif not pool[0]:  # only bad values: 1 in 6
            if not _now_and_then(draw, 6):
                continue
        elif required and _now_and_then(draw, 10):
            continue  # a required one left out
        elif not required and not draw(st.booleans()):
            continue
        if action.nargs == 0:
            argv.append(action.option_strings[0])
            continue
        value = _pick(draw, pool)
        argv += [action.option_strings[0], value] if action.option_strings else [value]
    if _now_and_then(draw, 10):
        argv.append(draw(st.sampled_from(["--bogus", "extra", "--vpc"])))
    env = {"HOME": "/nonexistent"}
    if credentials:
        env |= {"AWS_ACCESS_KEY_ID": "AKIAFUZZ", "AWS_SECRET_ACCESS_KEY": "fuzz"}
        env["AWS_ENDPOINT_URL"] = _pick(draw, _endpoints(w))  # with credentials, never AWS
    else:
        endpoint = _pick(draw, (_endpoints(w)[0], ["", AWAY]))
        if endpoint:
            env["AWS_ENDPOINT_URL"] = endpoint
    for key, values in ENVIRONMENT.items():
        if _now_and_then(draw, 12):
            value = draw(st.sampled_from(values))
            env[key] = w.files.get(value, value)
    return argv, env


def _run(
    argv: list[str], env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> tuple[int, str, str]:
    with pytest.MonkeyPatch.context() as patch:
        for key in list(os.environ):
            if key.startswith("AWS_") or key == "OUTPOST_MESH_TABLE":
                patch.delenv(key)
        for key, value in env.items():
            patch.setenv(key, value)
        capsys.readouterr()
        code = main(argv)
        out, err = capsys.readouterr()
    return code, out, err


def _holds_the_rule(argv: list[str], code: int, out: str, err: str) -> None:
    assert "Traceback" not in err and "Traceback" not in out, (argv, err)
    assert code in set(ExitCode), (argv, code, err)
    if code == ExitCode.DONE:
        assert err == "", (argv, err)
    else:
        assert err.count("\n") == 1 and err.startswith("outpost-mesh"), (argv, code, err)


def test_every_command_is_fuzzed() -> None:
    assert {"plan", "apply", "remove", "verify", "release", "status", "graph"} <= set(LEAVES)
    assert set(LONG_RUNNING) <= set(LEAVES)


@RUNS
@given(data=st.data())
def test_no_command_ever_prints_a_traceback(
    world: World, capsys: pytest.CaptureFixture[str], data: st.DataObject
) -> None:
    argv, env = data.draw(invocations(world))
    code, out, err = _run(argv, env, capsys)
    _holds_the_rule(argv, code, out, err)


@settings(RUNS, max_examples=12)
@given(data=st.data())
def test_a_closed_stdout_ends_quietly(
    world: World, capsys: pytest.CaptureFixture[str], data: st.DataObject
) -> None:
    """stdout a pipe whose reader went away (``| head`` that read what it wanted)."""
    argv, env = data.draw(invocations(world))
    read, write = os.pipe()
    os.close(read)
    closed = open(write, "w", encoding="utf-8")  # noqa: SIM115 - closed below
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(sys, "stdout", closed)
            code, _, err = _run(argv, env, capsys)
    finally:
        try:
            closed.close()
        except BrokenPipeError:  # what the CLI left in the buffer: it should have left nothing
            pytest.fail(f"{argv}: output left for a closed pipe")
    _holds_the_rule(argv, code, "", err)
