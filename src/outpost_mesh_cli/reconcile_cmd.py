"""``plan``, ``apply``, ``remove``, ``verify`` and ``release``: the CLI as a driver of the
same reconcile service as the workflow (same lease, findings, thresholds and failure rules).

Exit codes (``command.ExitCode``): 0 done; 1 a problem, named in one line on stderr (a pair the
mesh joins, its routes in place both ways, is unreachable; a failed change was rolled back;
deletion safety held deletions); 2 bad input; 3 the VPC is busy with another actor.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from typing import Any

from outpost_mesh.errors import LeaseBusyError, ReconcileFailedError
from outpost_mesh.model import Plan
from outpost_mesh.reconcile import reconcile_vpc
from outpost_mesh.service import ReconcileService, Verification
from outpost_mesh_cli.approval_cmd import caller_arn
from outpost_mesh_cli.aws import CliError
from outpost_mesh_cli.command import (
    BusyError,
    ExitCode,
    emit,
    fail,
    owner,
    parse_outpost_arn,
    parse_vpc_id,
    read_names,
    service,
)
from outpost_mesh_cli.render import (
    Names,
    applied_dict,
    applied_summary,
    broken_text,
    counted,
    findings_lines,
    plan_text,
    reachability_text,
)

VERIFY_RULE = (
    "exit 1 only for a pair the mesh joins (both subnets eligible: not CoIP, not a shared "
    "route table, not quarantined, not opted out) whose routes are in place both ways and that "
    "is still unreachable; pairs left out, and pairs whose routes are not in place yet (before "
    "the first apply, report-only, held), do not count"
)


def cmd_plan(args: argparse.Namespace) -> int:
    ctx, svc = service(args)
    planned = svc.plan(args.vpc)
    names = read_names(ctx, svc, planned.topology)
    emit(args, {**planned.plan.to_dict(), "names": names.to_dict()}, plan_text(planned.plan, names))
    return ExitCode.DONE


def _reconcile(args: argparse.Namespace, remove: bool) -> int:
    ctx, svc = service(args)
    planned = svc.plan(args.vpc, remove=True) if remove else None
    names = read_names(ctx, svc, planned.topology if planned else svc.observe(args.vpc))
    if planned is not None and not args.yes and planned.plan.has_changes:
        refused = _ask(args, planned.plan, names)
        if refused is not None:
            return refused
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
    except LeaseBusyError as busy:
        raise BusyError(_busy(svc, args.vpc, names)) from busy
    except ReconcileFailedError as failed:
        return _failed(args, failed, names)
    plans = [p.plan for p in result.passes]
    if any(p.has_changes for p in plans):
        by = caller_arn(ctx)  # a person's run is its own approval: recorded with who ran it
        for plan in (p for p in plans if p.has_changes):
            svc.remember_pass(me, plan, by=by)
    summary = applied_summary(plans, names, remove=remove)
    data: dict[str, Any] = {
        "vpc_id": result.vpc_id,
        "summary": summary,
        "applied": applied_dict(plans),
        "passes": [p.to_dict() for p in plans],
        "findings": [f.to_dict() for f in result.findings],
        "names": names.to_dict(),
    }
    text = [plan_text(p, names) for p in plans]
    problems = []
    if not remove:
        verification = svc.verify(args.vpc)
        data["reachability"] = _pairs(verification)
        text.append(reachability_text(verification.pairs, names, *_sets(verification)))
        if verification.broken:
            problems.append(broken_text(verification.broken, names))
    held = sum(len(p.routes_held) for p in plans)
    if held:
        problems.append(
            f"{counted(held, 'route deletion')} held by deletion safety (the rest was applied); "
            f"`outpost-mesh apply --vpc {args.vpc} --force` applies them"
        )
    emit(args, data, "\n\n".join([*text, summary]))
    if problems:
        fail("; ".join(problems))
        return ExitCode.PROBLEM
    return ExitCode.DONE


def _busy(svc: ReconcileService, vpc: str, names: Names) -> str:
    lease = svc.store.lease(vpc) or {}
    holder = lease.get("holder") or "another actor"
    until = lease.get("expires_at")
    expiry = (
        f", its lease expires {datetime.fromtimestamp(int(until), UTC):%Y-%m-%d %H:%M:%S} UTC"
        if isinstance(until, int | float) and until
        else ""
    )
    return (
        f"busy: {names.full(vpc)} is being reconciled by {holder}{expiry}; nothing was changed, "
        "retry later (it makes one more pass for this request before it lets go)"
    )


def _failed(args: argparse.Namespace, failed: ReconcileFailedError, names: Names) -> int:
    data = {
        "vpc_id": args.vpc,
        "failed": failed.message,
        "rolled_back": failed.undone,
        "findings": [f.to_dict() for f in failed.findings],
        "names": names.to_dict(),
    }
    undone = counted(failed.undone, "change")
    text = "\n".join(
        [
            f"FAILED in {names(args.vpc)}, rolled back {undone}: {names.text(failed.message)}",
            *findings_lines(failed.findings, names),
        ]
    )
    emit(args, data, text)
    left = ""
    if failed.rollback_problems:
        left = f" ({counted(len(failed.rollback_problems), 'change')} could not be undone)"
    fail(
        f"the reconcile of {names.full(args.vpc)} failed and was rolled back: {undone} "
        f"undone{left}: {names.text(failed.message)}"
    )
    return ExitCode.PROBLEM


def _ask(args: argparse.Namespace, plan: Plan, names: Names) -> int | None:
    """``remove`` is an explicit teardown: it shows what it takes out and asks first (``--yes``
    answers for scripts; without a terminal and without ``--yes`` nothing is removed, the plan
    is the output and the refusal the one line on stderr). None: go ahead; else the exit code."""
    question = (
        f"Take out {counted(len(plan.routes_to_delete), 'route')} and "
        f"{counted(len(plan.associations_to_delete), 'association')} from {names.full(args.vpc)}?"
    )
    text = plan_text(plan, names)
    if sys.stdin is not None and sys.stdin.isatty():
        print(text, file=sys.stderr)
        if input(f"{question} [y/N] ").strip().lower() in ("y", "yes"):
            return None
        fail("nothing removed (not confirmed)")
        return ExitCode.BAD_INPUT
    emit(args, {**plan.to_dict(), "removed": False, "names": names.to_dict()}, text)
    fail(f"{question} Nothing removed: confirm with --yes (no terminal to ask on)")
    return ExitCode.BAD_INPUT


def cmd_apply(args: argparse.Namespace) -> int:
    return _reconcile(args, remove=False)


def cmd_remove(args: argparse.Namespace) -> int:
    return _reconcile(args, remove=True)


def _sets(result: Verification) -> tuple[frozenset[tuple[str, str]], frozenset[tuple[str, str]]]:
    return result.expected, result.routed


def _pairs(result: Verification) -> list[dict[str, Any]]:
    return [
        {
            "from": p.source_subnet_id,
            "to": p.destination_subnet_id,
            "reachable": p.reachable,
            "expected": p.key in result.expected,
            "routed": p.key in result.routed,
            "reason": p.reason,
        }
        for p in result.pairs
    ]


def cmd_verify(args: argparse.Namespace) -> int:
    ctx, svc = service(args)
    topology = svc.observe(args.vpc)
    result = svc.verify(args.vpc, topology)
    names = read_names(ctx, svc, topology)
    data = {
        "vpc_id": args.vpc,
        "reachability": _pairs(result),
        "broken": len(result.broken),
        "rule": VERIFY_RULE,
        "names": names.to_dict(),
    }
    emit(args, data, reachability_text(result.pairs, names, *_sets(result)))
    if result.broken:
        fail(broken_text(result.broken, names))
        return ExitCode.PROBLEM
    return ExitCode.DONE


def cmd_release(args: argparse.Namespace) -> int:
    _, svc = service(args)
    quarantined = sorted(q.outpost_arn for q in svc.store.quarantines())
    if args.outpost not in quarantined:
        raise CliError(
            f"{args.outpost} is not quarantined: nothing to release (quarantined now: "
            f"{', '.join(quarantined) or 'none'})"
        )
    svc.store.release_quarantine(args.outpost)
    emit(
        args,
        {"released": args.outpost},
        f"Released the quarantine of {args.outpost}: the next reconcile meshes its subnets again",
    )
    return ExitCode.DONE


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    def vpc_cmd(name: str, help_text: str, description: str, func: Any) -> Any:
        p = sub.add_parser(name, parents=[common], help=help_text, description=description)
        p.add_argument(
            "--vpc", required=True, metavar="ID", type=parse_vpc_id, help="the VPC id (vpc-...)"
        )
        p.set_defaults(func=func)
        return p

    vpc_cmd(
        "plan",
        "what a reconcile would change, and why",
        "Show what a reconcile would change and why; changes nothing.",
        cmd_plan,
    )
    force_help = (
        "also apply the deletions deletion safety holds (those that cut connectivity between "
        "existing subnets, past the stack's DeleteThresholdPercent, default 30%%)"
    )
    vpc_cmd(
        "apply",
        "reconcile the VPC now",
        "Reconcile the VPC now, with the same core and lease as the workflow, and say what was "
        "done. Exit 1 when a change failed (rolled back), deletion safety held deletions, or a "
        "pair the mesh joins is unreachable afterwards; 3 when another actor holds the VPC.",
        cmd_apply,
    ).add_argument("--force", action="store_true", help=force_help)
    vpc_cmd(
        "remove",
        "take out all outpost-mesh made in the VPC",
        "Take out every route and association outpost-mesh owns in the VPC (asks first; "
        "without a terminal, only with --yes).",
        cmd_remove,
    ).add_argument("--yes", action="store_true", help="do not ask for confirmation (scripts)")
    vpc_cmd(
        "verify",
        "reachability of the VPC's Outpost subnet pairs",
        f"The reachability matrix of the VPC's Outpost subnets. The rule: {VERIFY_RULE}.",
        cmd_verify,
    )
    text = "release a quarantined Outpost (rack-not-updated)"
    rel = sub.add_parser(
        "release",
        parents=[common],
        help=text,
        description=(
            "End an Outpost's quarantine (finding rack-not-updated) once AWS updated the rack: "
            "the next reconcile meshes its subnets again. Exit 2 when it is not quarantined."
        ),
    )
    rel.add_argument(
        "--outpost",
        required=True,
        metavar="ARN",
        type=parse_outpost_arn,
        help="the Outpost's ARN, as the rack-not-updated finding names it",
    )
    rel.set_defaults(func=cmd_release)
