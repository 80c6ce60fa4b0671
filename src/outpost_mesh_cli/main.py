"""``outpost-mesh``: plan, apply, verify and remove the LGW mesh of a VPC; run the sandbox.

Works the same against AWS and the sandbox. Errors are one line on stderr and a non-zero exit:
2 for a usage or environment problem, 1 for ``verify`` finding a broken pair or ``apply`` rolling
back.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import signal
import socket
import sys
import threading
from collections.abc import Sequence
from typing import Any, NoReturn

from botocore.exceptions import BotoCoreError, ClientError

from outpost_mesh.apply import Applier
from outpost_mesh.errors import OutpostMeshError, ReconcileFailedError, from_client_error
from outpost_mesh.ledger import LedgerStore
from outpost_mesh.observe import observe_vpc
from outpost_mesh.pacing import ec2_share
from outpost_mesh.planner import desired_state
from outpost_mesh.reconcile import ReconcileResult, reconcile_vpc
from outpost_mesh.verify import reachability
from outpost_mesh_cli.aws import AwsContext, CliError
from outpost_mesh_cli.render import findings_lines, plan_text, reachability_text


def _owner() -> str:
    try:
        user = getpass.getuser()
    except Exception:  # no user name in some containers
        user = "unknown"
    return f"cli:{user}@{socket.gethostname()}:{os.getpid()}"


def _emit(args: argparse.Namespace, data: Any, text: str) -> None:
    if args.output == "json":
        print(json.dumps(data, indent=2, sort_keys=False))
    else:
        print(text)


def _context(args: argparse.Namespace) -> tuple[AwsContext, Any, LedgerStore]:
    ctx = AwsContext(args.region, args.profile, args.endpoint_url, args.table, args.stack)
    ec2 = ctx.client("ec2")
    store = LedgerStore(ctx.client("dynamodb"), ctx.table_name())
    return ctx, ec2, store


def _holder_alive(ctx: AwsContext) -> Any:
    """A lease held by a Step Functions execution is stale once the execution stopped."""
    sfn = ctx.client("stepfunctions")

    def alive(holder: str) -> bool:
        if not holder.startswith("arn:aws:states:"):
            return True  # another CLI: only its expiry frees the lease
        try:
            return bool(sfn.describe_execution(executionArn=holder)["status"] == "RUNNING")
        except ClientError:
            return False

    return alive


def cmd_plan(args: argparse.Namespace) -> int:
    _, ec2, store = _context(args)
    result = reconcile_vpc(ec2, store, args.vpc, owner=_owner(), report_only=True)
    plan = result.passes[0].plan
    _emit(args, plan.to_dict(), plan_text(plan))
    return 0


def _result_dict(result: ReconcileResult) -> dict[str, Any]:
    return {
        "vpc_id": result.vpc_id,
        "passes": [p.plan.to_dict() for p in result.passes],
        "reachability": [
            {"from": r.source_subnet_id, "to": r.destination_subnet_id, "reachable": r.reachable}
            for r in result.reachability
        ],
        "findings": [f.to_dict() for f in result.findings],
    }


def _reconcile(args: argparse.Namespace, remove: bool) -> int:
    ctx, ec2, store = _context(args)
    owner = _owner()
    # Paced at EC2's mutating bucket (50, then 5/s), as the workflow is: calls past it would only
    # be refused (botocore's adaptive retry stays the backstop for other callers' use of it).
    pacer = ec2_share()
    try:
        result = reconcile_vpc(
            ec2,
            store,
            args.vpc,
            owner=owner,
            remove=remove,
            applier_factory=lambda: Applier(ec2, store, owner, pacer=pacer),
            holder_alive=_holder_alive(ctx),
            force=args.force,
        )
    except ReconcileFailedError as failed:
        data = {
            "vpc_id": args.vpc,
            "failed": failed.message,
            "rolled_back": failed.undone,
            "findings": [f.to_dict() for f in failed.findings],
        }
        _emit(
            args,
            data,
            "\n".join(
                [
                    f"FAILED, rolled back {failed.undone} change(s): {failed.message}",
                    *findings_lines(failed.findings),
                ]
            ),
        )
        return 1
    text = "\n\n".join(plan_text(p.plan) for p in result.passes)
    if not remove:
        text += "\n\n" + reachability_text(result.reachability)
    _emit(args, _result_dict(result), text)
    return 0


def cmd_apply(args: argparse.Namespace) -> int:
    return _reconcile(args, remove=False)


def cmd_remove(args: argparse.Namespace) -> int:
    return _reconcile(args, remove=True)


def cmd_verify(args: argparse.Namespace) -> int:
    _, ec2, store = _context(args)
    topology = observe_vpc(ec2, args.vpc)
    desired = desired_state(topology, store.quarantined())
    eligible = {e.subnet.subnet_id: e.lgw.outpost_arn for e in desired.eligible}
    expected = {(a, b) for a, pa in eligible.items() for b, pb in eligible.items() if pa != pb}
    pairs = reachability(topology)
    broken = [
        p
        for p in pairs
        if (p.source_subnet_id, p.destination_subnet_id) in expected and not p.reachable
    ]
    data = {
        "vpc_id": args.vpc,
        "reachability": [
            {
                "from": p.source_subnet_id,
                "to": p.destination_subnet_id,
                "reachable": p.reachable,
                "expected": (p.source_subnet_id, p.destination_subnet_id) in expected,
                "reason": p.reason,
            }
            for p in pairs
        ],
        "broken": len(broken),
    }
    _emit(args, data, reachability_text(pairs, expected))
    return 1 if broken else 0


def cmd_release(args: argparse.Namespace) -> int:
    _, _, store = _context(args)
    store.release_quarantine(args.outpost)
    _emit(args, {"released": args.outpost}, f"Released quarantine of {args.outpost}")
    return 0


def cmd_sandbox_up(args: argparse.Namespace) -> int:
    from outpost_mesh_cli.sandbox_cmd import sandbox_up

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    return sandbox_up(args.scenario, args.host, args.port, stop)


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

    def vpc_cmd(name: str, help_text: str, func: Any) -> argparse.ArgumentParser:
        p = sub.add_parser(name, parents=[common], help=help_text, description=help_text)
        p.add_argument("--vpc", required=True, metavar="ID", help="the VPC id (vpc-...)")
        p.set_defaults(func=func)
        return p

    vpc_cmd("plan", "show what a reconcile would change and why; changes nothing", cmd_plan)
    force_help = "apply even when the plan deletes more than 30%% of the owned routes"
    vpc_cmd(
        "apply", "reconcile the VPC now (same core and lease as the workflow)", cmd_apply
    ).add_argument("--force", action="store_true", help=force_help)
    vpc_cmd(
        "remove", "take out every route and association outpost-mesh owns in the VPC", cmd_remove
    ).add_argument("--force", action="store_true", help=force_help)
    vpc_cmd("verify", "reachability matrix; exit 1 when a meshed pair is unreachable", cmd_verify)
    rel = sub.add_parser(
        "release", parents=[common], help="release a quarantined Outpost (rack-not-updated)"
    )
    rel.add_argument("--outpost", required=True, metavar="ARN")
    rel.set_defaults(func=cmd_release)

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
    up.set_defaults(func=cmd_sandbox_up)

    from outpost_mesh_cli import extra_commands

    extra_commands.register(sub, common)
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
