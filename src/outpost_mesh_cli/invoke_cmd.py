"""``outpost-mesh invoke FUNCTION -e EVENT [--env-vars FILE]``: a function of template.yaml run
on this machine with the environment ``sam local invoke`` would give it, without Docker.

The handler runs in a Python process of its own (:mod:`outpost_mesh_sandbox.stack.local_invoke`
builds SAM CLI's environment and runs it). Credentials and region are the CLI's, as SAM CLI takes
them from the shell or profile (against a local endpoint without credentials: the sandbox's
pipeline key). ``--endpoint-url`` (else AWS_ENDPOINT_URL) is where the function's SDK calls go:
it replaces the env-vars file's AWS_ENDPOINT_URL, which in events/env.json is for a container
(``host.docker.internal``). The handler's result is printed as JSON; a function that fails prints
Lambda's error payload and exits 1.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from pathlib import Path
from typing import Any, TextIO

from outpost_mesh_cli.aws import AwsContext, CliError
from outpost_mesh_cli.command import ExitCode, fail


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    del common  # --output, --table and --stack mean nothing here
    text = (
        "run one function of template.yaml on this machine with the environment `sam local "
        "invoke` gives it (no Docker), pointed at --endpoint-url; print its JSON result"
    )
    parser = sub.add_parser("invoke", help=text, description=text)
    parser.add_argument(
        "function", metavar="FUNCTION", help="the function's logical id, e.g. TriggerFunction"
    )
    parser.add_argument(
        "-e", "--event", required=True, metavar="FILE", help="JSON event file ('-': stdin)"
    )
    parser.add_argument(
        "--env-vars",
        metavar="FILE",
        help='environment overrides in SAM\'s format: {"Parameters": {VAR: value}, '
        '"FunctionLogicalId": {VAR: value}} (e.g. events/env.json)',
    )
    parser.add_argument(
        "--endpoint-url", help="where the function's AWS calls go (else AWS_ENDPOINT_URL)"
    )
    parser.add_argument("--region", help="AWS region (else AWS_REGION / the profile's)")
    parser.add_argument("--profile", help="named AWS profile for the function's credentials")
    parser.add_argument(
        "-t", "--template", metavar="FILE", help="SAM template (default: the project's)"
    )
    parser.add_argument(
        "-l",
        "--log-file",
        metavar="FILE",
        help="append the function's log (its stdout and stderr) to FILE (default: not shown; "
        "/dev/stderr to watch it)",
    )
    parser.set_defaults(func=cmd_invoke)


def _event(path: str) -> Any:
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
        return json.loads(text)
    except (OSError, ValueError) as error:
        raise CliError(f"cannot read the event {path!r}: {error}") from error


def _log_file(path: str) -> TextIO:
    try:
        return open(path, "a", encoding="utf-8")
    except OSError as error:
        raise CliError(f"cannot write the log file {path!r}: {error.strerror}") from error


def cmd_invoke(args: argparse.Namespace) -> int:
    from outpost_mesh_sandbox.stack.local_invoke import (
        EnvFileError,
        invoke,
        local_functions,
        read_env_file,
        sam_environment,
    )
    from outpost_mesh_sandbox.stack.template import TemplateError, find_root

    try:
        template = Path(args.template) if args.template else find_root() / "template.yaml"
        env_file = read_env_file(Path(args.env_vars)) if args.env_vars else {}
    except (TemplateError, EnvFileError) as error:
        raise CliError(str(error)) from error
    event = _event(args.event)
    ctx = AwsContext(args.region, args.profile, args.endpoint_url, None)
    region = ctx.session.region_name
    try:
        functions = local_functions(template, region)
    except TemplateError as error:
        raise CliError(str(error)) from error
    function = functions.get(args.function)
    if function is None:
        raise CliError(
            f"no function {args.function!r} in {template}: one of {', '.join(sorted(functions))}"
        )
    found = ctx.session.get_credentials()
    creds = found.get_frozen_credentials() if found is not None else None
    credentials = None
    if creds is not None and creds.access_key and creds.secret_key:
        credentials = (creds.access_key, creds.secret_key, creds.token)
    environment = sam_environment(
        function, env_file, os.environ, region=region, credentials=credentials
    )
    if ctx.endpoint_url:
        environment["AWS_ENDPOINT_URL"] = ctx.endpoint_url
    with contextlib.ExitStack() as stack:
        log = stack.enter_context(_log_file(args.log_file)) if args.log_file else None
        done = invoke(function, template.parent, environment, event, log)
    print(json.dumps(done.payload, indent=2, default=str))
    if done.ok:
        return ExitCode.DONE
    fail(f"{function.logical_id} failed: {done.error_type}: {done.error_message}")
    return ExitCode.PROBLEM
