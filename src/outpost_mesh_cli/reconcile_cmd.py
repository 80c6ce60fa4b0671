"""``plan``, ``apply``, ``remove``, ``verify`` and ``release``: the CLI as a driver of the
same reconcile service as the workflow (same lease, findings, thresholds and failure rules)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from outpost_mesh.errors import ReconcileFailedError
from outpost_mesh.reconcile import ReconcileResult, preview, reconcile_vpc
from outpost_mesh.service import ReconcileService
from outpost_mesh_cli.command import emit, owner, service
from outpost_mesh_cli.render import findings_lines, plan_text, reachability_text

# `apply` applied what it could but deletion safety held some deletions (`--force` applies them).
HELD_EXIT = 3


def cmd_plan(args: argparse.Namespace) -> int:
    _, svc = service(args)
    plan = preview(svc, args.vpc).passes[0].plan
    emit(args, plan.to_dict(), plan_text(plan))
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
    _, svc = service(args)
    if remove and not _confirmed(args, svc):
        return 2
    me = owner()
    # Paced at EC2's mutating bucket (50, then 5/s), as the workflow is: calls past it would only
    # be refused (botocore's adaptive retry stays the backstop for other callers' use of it).
    pacer = svc.pacer()  # one bucket for every pass of this run
    try:
        result = reconcile_vpc(
            svc,
            args.vpc,
            owner=me,
            remove=remove,
            applier_factory=lambda: svc.applier(me, pacer),
            force=remove or args.force,
        )
    except ReconcileFailedError as failed:
        data = {
            "vpc_id": args.vpc,
            "failed": failed.message,
            "rolled_back": failed.undone,
            "findings": [f.to_dict() for f in failed.findings],
        }
        text = "\n".join(
            [
                f"FAILED, rolled back {failed.undone} change(s): {failed.message}",
                *findings_lines(failed.findings),
            ]
        )
        emit(args, data, text)
        return 1
    text = "\n\n".join(plan_text(p.plan) for p in result.passes)
    if not remove:
        text += "\n\n" + reachability_text(result.reachability)
    emit(args, _result_dict(result), text)
    held = sum(len(p.plan.routes_held) for p in result.passes)
    if held:
        print(
            f"outpost-mesh: {held} route deletion(s) held by deletion safety (the rest was "
            f"applied); `outpost-mesh apply --vpc {args.vpc} --force` applies them",
            file=sys.stderr,
        )
        return HELD_EXIT
    return 0


def _confirmed(args: argparse.Namespace, svc: ReconcileService) -> bool:
    """``remove`` is an explicit teardown: it shows what it takes out and asks first (``--yes``
    answers for scripts; without a terminal and without ``--yes`` nothing is removed)."""
    if args.yes:
        return True
    plan = preview(svc, args.vpc, remove=True).passes[0].plan
    if not plan.has_changes:
        return True
    print(plan_text(plan), file=sys.stderr)
    question = (
        f"Take out {len(plan.routes_to_delete)} route(s) and "
        f"{len(plan.associations_to_delete)} association(s) from {args.vpc}?"
    )
    if not sys.stdin.isatty():
        print(f"outpost-mesh: error: {question} Confirm with --yes", file=sys.stderr)
        return False
    answer = input(f"{question} [y/N] ")
    return answer.strip().lower() in ("y", "yes")


def cmd_apply(args: argparse.Namespace) -> int:
    return _reconcile(args, remove=False)


def cmd_remove(args: argparse.Namespace) -> int:
    return _reconcile(args, remove=True)


def cmd_verify(args: argparse.Namespace) -> int:
    _, svc = service(args)
    result = svc.verify(args.vpc)
    data = {
        "vpc_id": args.vpc,
        "reachability": [
            {
                "from": p.source_subnet_id,
                "to": p.destination_subnet_id,
                "reachable": p.reachable,
                "expected": p.key in result.expected,
                "routed": p.key in result.routed,
                "reason": p.reason,
            }
            for p in result.pairs
        ],
        "broken": len(result.broken),
    }
    emit(args, data, reachability_text(result.pairs, result.expected, result.routed))
    return 1 if result.broken else 0


def cmd_release(args: argparse.Namespace) -> int:
    _, svc = service(args)
    svc.store.release_quarantine(args.outpost)
    emit(args, {"released": args.outpost}, f"Released quarantine of {args.outpost}")
    return 0


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    def vpc_cmd(name: str, help_text: str, func: Any) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = sub.add_parser(
            name, parents=[common], help=help_text, description=help_text
        )
        p.add_argument("--vpc", required=True, metavar="ID", help="the VPC id (vpc-...)")
        p.set_defaults(func=func)
        return p

    vpc_cmd("plan", "show what a reconcile would change and why; changes nothing", cmd_plan)
    force_help = (
        "also apply the deletions deletion safety holds (those that cut connectivity between "
        "existing subnets, past the stack's DeleteThresholdPercent, default 30%%)"
    )
    vpc_cmd(
        "apply",
        "reconcile the VPC now (same core and lease as the workflow); exit 3 when deletion "
        "safety held deletions",
        cmd_apply,
    ).add_argument("--force", action="store_true", help=force_help)
    vpc_cmd(
        "remove",
        "take out every route and association outpost-mesh owns in the VPC (asks first)",
        cmd_remove,
    ).add_argument("--yes", action="store_true", help="do not ask for confirmation (scripts)")
    vpc_cmd("verify", "reachability matrix; exit 1 when a meshed pair is unreachable", cmd_verify)
    rel = sub.add_parser(
        "release", parents=[common], help="release a quarantined Outpost (rack-not-updated)"
    )
    rel.add_argument("--outpost", required=True, metavar="ARN")
    rel.set_defaults(func=cmd_release)
