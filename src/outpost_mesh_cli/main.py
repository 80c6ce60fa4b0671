"""``outpost-mesh``: plan, apply, verify and remove the LGW mesh of a VPC; run the sandbox.

Works the same against AWS and the sandbox. Whatever happens, what went wrong is one line on
stderr, never a traceback, with the exit codes of ``command.ExitCode`` (listed by ``--help``).
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from typing import NoReturn

from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserError

from outpost_mesh.errors import OutpostMeshError, VpcNotFoundError, from_client_error
from outpost_mesh_cli import (
    approval_cmd,
    demo_cmd,
    events_cmd,
    fleet_status,
    invoke_cmd,
    reconcile_cmd,
    status_cmd,
)
from outpost_mesh_cli.command import (
    EXIT_CODES_HELP,
    PROG,
    BusyError,
    ExitCode,
    check_port_free,
    drop_stdout,
    fail,
    parse_port,
    parse_seconds,
)

DISTRIBUTION = "outpost-mesh"  # pyproject.toml's [project] name


def cmd_sandbox_up(args: argparse.Namespace) -> int:
    from outpost_mesh_cli.sandbox_cmd import sandbox_up

    check_port_free(args.host, args.port)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    return sandbox_up(args.scenario, args.host, args.port, stop, pipeline=args.pipeline)


class _Parser(argparse.ArgumentParser):
    """A usage mistake is one line on stderr and exit code 2, like every other CLI error
    (argparse would print the whole usage block first). Subcommands' parsers are this class too
    (``add_subparsers`` makes its parsers of its parent's class)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see: {self.prog} --help)\n")


class _CommandList(argparse.RawDescriptionHelpFormatter):
    """``outpost-mesh --help``: one line per command (a long help is not wrapped onto more), and
    the exit codes as written."""

    def _split_lines(self, text: str, width: int) -> list[str]:
        return [" ".join(text.split())]


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="Mesh subnets of one VPC on different AWS Outposts racks over their LGWs.",
        epilog=EXIT_CODES_HELP,
        formatter_class=_CommandList,
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {_version()}", help="print the version"
    )
    common = _Parser(add_help=False)
    common.add_argument(
        "--region", help="AWS region (else AWS_REGION, AWS_DEFAULT_REGION, the profile's)"
    )
    common.add_argument("--profile", help="named AWS profile (else AWS_PROFILE)")
    common.add_argument(
        "--endpoint-url", help="AWS endpoint, e.g. the sandbox's (else AWS_ENDPOINT_URL)"
    )
    common.add_argument(
        "--output",
        choices=("table", "json"),
        default="table",
        help="table: text for people (default); json: one JSON document, ids with their names",
    )
    common.add_argument(
        "--table", help="ledger table (else OUTPOST_MESH_TABLE, else the stack's/sandbox's)"
    )
    common.add_argument(
        "--stack",
        help="the deployed stack's name (default outpost-mesh; sam deploy --config-env prod "
        "makes outpost-mesh-prod)",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    reconcile_cmd.register(sub, common)
    approval_cmd.register(sub, common)

    sandbox = sub.add_parser("sandbox", help="the local sandbox AWS")
    sandbox_sub = sandbox.add_subparsers(dest="sandbox_command", required=True, metavar="ACTION")
    up = sandbox_sub.add_parser(
        "up", help="start a sandbox, seed a scenario, print its ids, run until interrupted"
    )
    up.add_argument("--scenario", help="scenario YAML file to seed (its steps' calls are made)")
    up.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (0.0.0.0 for containers)"
    )
    up.add_argument("--port", type=parse_port, default=0, help="port (default 0: a free one)")
    up.add_argument(
        "--pipeline",
        action="store_true",
        help="also run the stack (state machine, functions, ledger, topic): a locally invoked "
        "trigger starts a real execution here",
    )
    up.set_defaults(func=cmd_sandbox_up)

    demo_cmd.register(sub, common)
    status_cmd.register(sub, common)
    fleet_status.register(sub)
    invoke_cmd.register(sub, common)
    events_cmd.register(sub, common)
    return parser


def _version() -> str:
    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; the exit code, never an exception (``KeyboardInterrupt`` included)."""
    if not logging.root.handlers:
        # The core's log lines are the functions' (CloudWatch); in the CLI, Python would print
        # its warnings as extra stderr lines beside the one line the CLI says.
        logging.root.addHandler(logging.NullHandler())
    try:
        code = _run(argv)
    except KeyboardInterrupt:
        fail("interrupted")
        return ExitCode.INTERRUPTED
    except BrokenPipeError:  # stdout's reader went away outside emit (--help | head)
        drop_stdout()
        return ExitCode.DONE
    try:  # what is still buffered (argparse's --help), while a closed pipe can be told
        if sys.stdout is not None:
            sys.stdout.flush()
    except BrokenPipeError:
        drop_stdout()
    return code


def _run(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        _check_timeout(parser, args)
    except SystemExit as exit_:  # --help, --version, a usage error (its line is printed)
        return exit_.code if isinstance(exit_.code, int) else ExitCode.BAD_INPUT
    try:
        return int(args.func(args))
    except BusyError as error:
        fail(error.message)
        return ExitCode.BUSY
    except VpcNotFoundError as error:  # EC2's text (moto's: a Python set) says less than this
        vpc = f"VPC {error.subject}" if error.subject else "the VPC"
        fail(
            f"{vpc} not found in the account and Region in use ({error.code or 'not found'}): "
            "check --vpc and --region (or AWS_REGION)"
        )
    except OutpostMeshError as error:  # CliError among them; the core's mapped AWS errors
        fail(_not_aws(error.code, "") or error.message)
    except ClientError as error:
        code = str(error.response.get("Error", {}).get("Code", ""))
        fail(_not_aws(code, error.operation_name) or from_client_error(error).message)
    except ResponseParserError:
        fail(f"the endpoint's answer is not an AWS API response: {NOT_AWS}")
    except BotoCoreError as error:
        fail(str(error))
    except BrokenPipeError:
        raise
    except OSError as error:
        fail(f"{error.strerror or error}{f': {error.filename}' if error.filename else ''}")
    except Exception as error:  # a bug or a library's surprise: still one line
        fail(f"unexpected {type(error).__name__}: {error}")
    return ExitCode.BAD_INPUT


def _check_timeout(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """demo_cmd registers ``--timeout`` as a plain float: held to ``parse_seconds`` here (0, a
    negative or an endless wait is refused like any other bad value)."""
    timeout = getattr(args, "timeout", None)
    if timeout is None:
        return
    try:
        parse_seconds(str(timeout))
    except argparse.ArgumentTypeError as error:
        parser.error(f"argument --timeout: {error}")


NOT_AWS = "is --endpoint-url (or AWS_ENDPOINT_URL) an AWS endpoint, or the sandbox's?"


def _not_aws(code: str, operation: str) -> str:
    """AWS's error codes are words; a bare HTTP status means the server is not AWS (a web server
    at --endpoint-url answers an API call with its error page). "" for an AWS error code."""
    if not code.isdigit():
        return ""
    return f"{operation or 'a call'} got HTTP {code}, not an AWS API answer: {NOT_AWS}"


if __name__ == "__main__":
    sys.exit(main())
