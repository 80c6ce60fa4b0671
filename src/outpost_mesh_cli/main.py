"""``outpost-mesh``: plan, apply, verify and remove the LGW mesh of a VPC; run the sandbox.

Works the same against AWS and the sandbox. Errors are one line on stderr and a non-zero exit:
2 for a usage or environment problem (or an unconfirmed ``remove``), 1 for ``verify`` finding a
broken pair or ``apply`` rolling back, 3 for ``apply`` holding deletions (deletion safety).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from typing import NoReturn

from botocore.exceptions import BotoCoreError, ClientError

from outpost_mesh.errors import OutpostMeshError, from_client_error
from outpost_mesh_cli import demo_cmd, events_cmd, invoke_cmd, reconcile_cmd, status_cmd
from outpost_mesh_cli.aws import CliError


def cmd_sandbox_up(args: argparse.Namespace) -> int:
    from outpost_mesh_cli.sandbox_cmd import sandbox_up

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    return sandbox_up(args.scenario, args.host, args.port, stop, pipeline=args.pipeline)


class _Parser(argparse.ArgumentParser):
    """A usage mistake is one line on stderr and exit code 2, like every other CLI error
    (argparse would print the whole usage block first). Subcommands' parsers are this class too
    (``add_subparsers`` makes its parsers of its parent's class)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see: {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="outpost-mesh",
        description="Mesh subnets of one VPC on different AWS Outposts racks over their LGWs.",
    )
    common = _Parser(add_help=False)
    common.add_argument("--region", help="AWS region (else AWS_REGION / the profile's)")
    common.add_argument("--profile", help="named AWS profile")
    common.add_argument(
        "--endpoint-url", help="AWS endpoint, e.g. the sandbox's (else AWS_ENDPOINT_URL)"
    )
    common.add_argument("--output", choices=("table", "json"), default="table")
    common.add_argument(
        "--table", help="ledger table (else OUTPOST_MESH_TABLE, else the stack's/sandbox's)"
    )
    common.add_argument("--stack", default="outpost-mesh", help="deployed stack name")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    reconcile_cmd.register(sub, common)

    sandbox = sub.add_parser("sandbox", help="the local sandbox AWS")
    sandbox_sub = sandbox.add_subparsers(dest="sandbox_command", required=True, metavar="ACTION")
    up = sandbox_sub.add_parser(
        "up", help="start a sandbox, seed a scenario, print its ids, run until interrupted"
    )
    up.add_argument("--scenario", help="scenario YAML file to seed (its steps' calls are made)")
    up.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (0.0.0.0 for containers)"
    )
    up.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    up.add_argument(
        "--pipeline",
        action="store_true",
        help="also run the stack (state machine, functions, ledger, topic): a locally invoked "
        "trigger starts a real execution here",
    )
    up.set_defaults(func=cmd_sandbox_up)

    demo_cmd.register(sub, common)
    status_cmd.register(sub, common)
    invoke_cmd.register(sub, common)
    events_cmd.register(sub, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        return 130
    except OutpostMeshError as error:
        print(f"outpost-mesh: error: {error.message}", file=sys.stderr)
        return 2
    except ClientError as error:
        print(f"outpost-mesh: error: {from_client_error(error).message}", file=sys.stderr)
        return 2
    except BotoCoreError as error:
        print(f"outpost-mesh: error: {error}", file=sys.stderr)
        return 2
    except CliError as error:  # pragma: no cover - CliError is an OutpostMeshError
        print(f"outpost-mesh: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
