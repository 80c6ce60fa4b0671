"""``approve`` and ``reject``: a person's answer to the changes an execution holds for approval
(ApprovalMode). The request's task token is read from the ledger (``APPROVAL`` item); the answer
is Step Functions' SendTaskSuccess (output ``{"approved_by": ARN}``) or SendTaskFailure (error
``ApprovalRejected``, cause ``{"by": ARN, "reason": TEXT}``), with the caller's ARN from STS.
The waiting execution records the answer and goes on: approved, it re-plans and applies the
approved changes that still hold; rejected, it applies none of them and says why.

Exit codes: 0 answered; 1 the request stopped waiting meanwhile (answered, expired, its
execution stopped); 2 nothing waits on that VPC (as ``release`` of an Outpost not quarantined),
or bad input.
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from outpost_mesh.approval import APPROVAL_REJECTED, GONE_TOKEN_CODES
from outpost_mesh.errors import from_client_error
from outpost_mesh.model import Approval, ApprovalStatus
from outpost_mesh.service import ReconcileService
from outpost_mesh_cli.aws import AwsContext, CliError
from outpost_mesh_cli.command import ExitCode, emit, fail, parse_vpc_id, service

REASON_CHARS = 500


def _waiting(svc: ReconcileService, vpc_id: str) -> Approval:
    approval = svc.store.approval(vpc_id)
    if approval is None or approval.status is not ApprovalStatus.WAITING:
        last = (
            f" (its last request was {approval.status} by {approval.decided_by or 'nobody'})"
            if approval is not None and not approval.pending
            else ""
        )
        raise CliError(f"nothing waits for approval in {vpc_id}{last}")
    return approval


def caller_arn(ctx: AwsContext) -> str:
    """Who answers: STS GetCallerIdentity's ARN (needs no permission)."""
    try:
        return str(ctx.client("sts").get_caller_identity()["Arn"])
    except ClientError as error:
        raise from_client_error(error, subject="sts:GetCallerIdentity") from error


def _answer(svc: ReconcileService, approval: Approval, **call: Any) -> bool:
    """Answer the waiting task; False (said on stderr) when it stopped waiting meanwhile."""
    operation = svc.sfn.send_task_success if "output" in call else svc.sfn.send_task_failure
    try:
        operation(taskToken=approval.token, **call)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") not in GONE_TOKEN_CODES:
            raise
        fail(
            f"the request of {approval.execution} for {approval.vpc_id} no longer waits "
            "(answered, expired or its execution stopped): "
            f"outpost-mesh status --vpc {approval.vpc_id}"
        )
        return False
    return True


def _summary(approval: Approval, verb: str, by: str) -> dict[str, Any]:
    return {
        "vpc_id": approval.vpc_id,
        "execution": approval.execution,
        verb: len(approval.changes),
        "by": by,
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def cmd_approve(args: argparse.Namespace) -> int:
    ctx, svc = service(args)
    approval = _waiting(svc, args.vpc)
    by = caller_arn(ctx)
    if not _answer(svc, approval, output=json.dumps({"approved_by": by})):
        return ExitCode.PROBLEM
    emit(
        args,
        _summary(approval, "approved", by),
        f"Approved {len(approval.changes)} change(s) of {args.vpc} waiting in "
        f"{approval.execution}, as {by}: it re-plans and applies those that still hold",
    )
    return ExitCode.DONE


def cmd_reject(args: argparse.Namespace) -> int:
    ctx, svc = service(args)
    approval = _waiting(svc, args.vpc)
    by = caller_arn(ctx)
    reason = " ".join(args.reason.split())[:REASON_CHARS]
    cause = json.dumps({"by": by, "reason": reason})
    if not _answer(svc, approval, error=APPROVAL_REJECTED, cause=cause):
        return ExitCode.PROBLEM
    emit(
        args,
        {**_summary(approval, "rejected", by), "reason": reason},
        f"Rejected {len(approval.changes)} change(s) of {args.vpc} waiting in "
        f"{approval.execution}, as {by}: none of them is made",
    )
    return ExitCode.DONE


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    for name, func, help_text, description in (
        (
            "approve",
            cmd_approve,
            "approve the changes waiting in the VPC (ApprovalMode)",
            "Approve the changes an execution holds for approval in the VPC: it re-plans and "
            "applies exactly the approved changes that still hold (a new change asks again). "
            "Exit 2 when nothing waits there.",
        ),
        (
            "reject",
            cmd_reject,
            "reject the changes waiting in the VPC (ApprovalMode)",
            "Reject the changes an execution holds for approval in the VPC: none of them is "
            "made, and they are not asked for again while the plan stays the same. Exit 2 when "
            "nothing waits there.",
        ),
    ):
        p = sub.add_parser(name, parents=[common], help=help_text, description=description)
        p.add_argument(
            "--vpc", required=True, metavar="ID", type=parse_vpc_id, help="the VPC id (vpc-...)"
        )
        if name == "reject":
            p.add_argument("--reason", default="", help="why (recorded and shown by status)")
        p.set_defaults(func=func)
