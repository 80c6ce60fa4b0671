"""``outpost-mesh status --accounts FILE`` and ``status --organization``: the fleet, from the hub.

For each member account (and Region) the hub assumes the member stack's read-only role,
``outpost-mesh-fleet-read-<Region>`` (template.yaml's FleetReadRole: trusted by the hub account
only, Describe calls, this stack's ledger, executions and outputs), and reads that account with
the single-account ``status`` (``status_cmd.account_status``). Each VPC is one line: account,
Region, VPC, pairs reachable out of expected, open findings, last execution. An account that could
not be read (the role cannot be assumed, no member stack, no ledger) is one line saying why, and
the command exits 1.

Read-only: AssumeRole, then only what the role allows (Describe, ledger Get/Query, ListExecutions,
DescribeStacks); with ``--organization`` also organizations:ListAccounts as the caller.
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import yaml
from botocore.exceptions import BotoCoreError, ClientError

from outpost_mesh.errors import OutpostMeshError, from_client_error
from outpost_mesh.service import ReconcileService
from outpost_mesh_cli import status_cmd
from outpost_mesh_cli.aws import SANDBOX_TABLE, AwsContext, CliError
from outpost_mesh_cli.command import ExitCode, emit, fail

# template.yaml's FleetReadRole is named per Region ("outpost-mesh-fleet-read-${AWS::Region}"):
# IAM role names are global to an account, and one member stack per account and Region makes one.
ROLE_NAME = "outpost-mesh-fleet-read-{region}"
ROLE_SESSION = "outpost-mesh-fleet-status"
# template.yaml names the reconcile state machine "${AWS::StackName}-reconcile" and lets the role
# list the executions of that name only (the role may not ListStateMachines).
STATE_MACHINE_ARN = "arn:{partition}:states:{region}:{account}:stateMachine:{stack}-reconcile"
# IAM role names: 1 to 64 of letters, digits and +=,.@_- (IAM API Reference, "CreateRole").
ROLE_NAME_PATTERN = re.compile(r"^[\w+=,.@-]{1,64}$")
ACCOUNT_ID = re.compile(r"^[0-9]{12}$")
REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-[0-9]+$")
# Organizations ListAccounts: an account's State (ACTIVE, SUSPENDED, PENDING_CLOSURE, CLOSED;
# older answers: Status ACTIVE, SUSPENDED, PENDING_CLOSURE). Only an ACTIVE account is read.
ACTIVE = "ACTIVE"


# -- registration ----------------------------------------------------------------------------
def parse_role_name(value: str) -> str:
    """An argparse type: an IAM role name."""
    if not ROLE_NAME_PATTERN.match(value):
        raise argparse.ArgumentTypeError(
            f"{value!r} is not an IAM role name (1 to 64 of letters, digits and +=,.@_-)"
        )
    return value


def register(sub: Any) -> None:
    """The fleet flags on ``status`` (status_cmd registers the command itself)."""
    status = sub.choices["status"]
    fleet = status.add_argument_group(
        "fleet (from the hub account: one line per account and VPC; exit 1 if an account "
        "could not be read)"
    )
    which = fleet.add_mutually_exclusive_group()
    which.add_argument(
        "--accounts",
        metavar="FILE",
        type=Path,
        help="YAML or JSON: accounts: [{id: '111122223333', name: N, regions: [R], stack: S}] "
        "(name, regions, stack optional; an entry may be the id alone)",
    )
    which.add_argument(
        "--organization",
        action="store_true",
        help="every ACTIVE account of the AWS Organization (run in the management account or "
        "a delegated administrator), in --region",
    )
    fleet.add_argument(
        "--role-name",
        type=parse_role_name,
        metavar="NAME",
        help="the member role to assume (default outpost-mesh-fleet-read-<Region>)",
    )
    status.set_defaults(func=cmd_status)


# -- which accounts --------------------------------------------------------------------------
@dataclass(frozen=True)
class Member:
    """One member account to read, in one Region, with its stack's name."""

    account_id: str
    name: str | None
    region: str
    stack: str


def read_accounts_file(path: Path, region: str, stack: str) -> list[Member]:
    """The members a FILE lists (``FILE: PATH: PROBLEM`` when it is not one), one per Region."""
    try:
        # BaseLoader: every value a string, so an id is never read as a number (0123... octal).
        doc = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.BaseLoader)
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or error
        raise CliError(f"{path}: cannot read it: {reason}") from error
    except yaml.YAMLError as error:
        raise CliError(f"{path}: not YAML or JSON: {' '.join(str(error).split())}") from error
    entries = doc.get("accounts") if isinstance(doc, dict) else None
    if not isinstance(entries, list) or not entries:
        raise CliError(f"{path}: accounts: expected a non-empty list of accounts")
    members: list[Member] = []
    for index, entry in enumerate(entries):
        where = f"{path}: accounts[{index}]"
        for member in _members(entry, where, region, stack):
            if any((m.account_id, m.region) == (member.account_id, member.region) for m in members):
                raise CliError(f"{where}: account {member.account_id} in {member.region} twice")
            members.append(member)
    return members


def _members(entry: Any, where: str, region: str, stack: str) -> list[Member]:
    """One entry of the file (an id, or a mapping of id, name, regions, stack): a member per
    Region."""
    fields = {"id": entry} if isinstance(entry, str) else entry
    if not isinstance(fields, dict):
        raise CliError(f"{where}: expected an account id or a mapping with id")
    unknown = sorted(set(fields) - {"id", "name", "regions", "stack"})
    if unknown:
        raise CliError(f"{where}: unknown key {unknown[0]!r} (id, name, regions, stack)")
    account_id = fields.get("id")
    if not isinstance(account_id, str) or not ACCOUNT_ID.match(account_id):
        raise CliError(f"{where}.id: {account_id!r} is not a 12-digit account id")
    name = _text(fields.get("name"), f"{where}.name")
    regions = fields.get("regions", [region])
    if not isinstance(regions, list) or not regions:
        raise CliError(f"{where}.regions: expected a non-empty list of Regions")
    for r in regions:
        if not isinstance(r, str) or not REGION.match(r):
            raise CliError(f"{where}.regions: {r!r} is not a Region (e.g. us-east-1)")
    member_stack = _text(fields.get("stack"), f"{where}.stack") or stack
    return [Member(account_id, name, r, member_stack) for r in dict.fromkeys(regions)]


def _text(value: Any, where: str) -> str | None:
    if value is None or (isinstance(value, str) and value.strip()):
        return value.strip() if isinstance(value, str) else None
    raise CliError(f"{where}: expected a non-empty string")


def organization_accounts(ctx: AwsContext, stack: str) -> list[Member]:
    """Every ACTIVE account of the caller's Organization (ListAccounts, every page)."""
    region = str(ctx.session.region_name)
    members = []
    for page in ctx.client("organizations").get_paginator("list_accounts").paginate():
        for account in page["Accounts"]:
            if (account.get("State") or account.get("Status")) == ACTIVE:
                members.append(Member(account["Id"], account.get("Name"), region, stack))
    return sorted(members, key=lambda m: (m.name or "", m.account_id))


# -- one member ------------------------------------------------------------------------------
class MemberContext(AwsContext):
    """The hub's context with the member role's credentials, in the member's Region."""

    def __init__(self, hub: AwsContext, member: Member, credentials: dict[str, Any]) -> None:
        self.region, self.profile = member.region, None
        self.endpoint_url, self.table = hub.endpoint_url, hub.table
        self.stack_given = self.stack = member.stack
        self.local = hub.local
        self.session = boto3.Session(
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
            region_name=member.region,
        )

    def outpost_names(self) -> dict[str, str]:
        """None: the role may not call the Outposts API (Outposts are shown by id)."""
        return {}

    def table_name(self) -> str:
        """``--table``, else the sandbox's, else the member stack's ``LedgerTableName`` output
        (the role may DescribeStacks on its own stack, not DescribeStackResource)."""
        if self.table or self.local:
            return self.table or SANDBOX_TABLE
        try:
            stacks = self.client("cloudformation").describe_stacks(StackName=self.stack)
        except ClientError as error:
            raise CliError(
                f"stack {self.stack} not readable ({from_client_error(error).message}); "
                "is the member stack deployed with HubAccountId, under this name?"
            ) from error
        outputs = stacks["Stacks"][0].get("Outputs") or []
        found = [o["OutputValue"] for o in outputs if o.get("OutputKey") == "LedgerTableName"]
        if not found:
            raise CliError(f"stack {self.stack} has no LedgerTableName output")
        self.table = str(found[0])
        return self.table


def read_member(hub: AwsContext, member: Member, role_name: str | None) -> dict[str, Any]:
    """One member as the fleet view shows it: its VPCs, or why it could not be read."""
    partition = hub.session.get_partition_for_region(member.region)
    role = role_name or ROLE_NAME.format(region=member.region)
    role_arn = f"arn:{partition}:iam::{member.account_id}:role/{role}"
    result: dict[str, Any] = {
        "account_id": member.account_id,
        "name": member.name,
        "region": member.region,
        "role_arn": role_arn,
        "read": False,
        "error": None,
        "vpcs": [],
    }
    try:
        answer = hub.client("sts").assume_role(RoleArn=role_arn, RoleSessionName=ROLE_SESSION)
    except ClientError as error:
        result["error"] = f"cannot assume {role_arn}: {from_client_error(error).message}"
        return result
    try:
        ctx = MemberContext(hub, member, answer["Credentials"])
        svc = ReconcileService(ctx.settings(), ctx)
        machine = svc.settings.state_machine_arn or STATE_MACHINE_ARN.format(
            partition=partition, region=member.region, account=svc.account_id, stack=member.stack
        )
        vpcs, _, _ = status_cmd.account_status(
            ctx, svc, svc.candidate_vpcs(), (machine, f"state machine {machine}"), 1
        )
    except ClientError as error:
        result["error"] = from_client_error(error).message
    except (OutpostMeshError, BotoCoreError) as error:
        result["error"] = getattr(error, "message", None) or str(error)
    else:
        result["read"] = True
        result["vpcs"] = [_vpc_line(v) for v in vpcs]
    return result


def _vpc_line(status: dict[str, Any]) -> dict[str, Any]:
    executions = status["executions"]
    return {
        "vpc_id": status["vpc_id"],
        "name": status["name"],
        "pairs": {k: status["pairs"][k] for k in ("expected", "reachable")},
        "findings": status["findings"],
        "last_execution": executions[0] if executions else None,
        "executions_note": None if executions is not None else status["executions_note"],
    }


# -- the command -----------------------------------------------------------------------------
def fleet_text(accounts: list[dict[str, Any]]) -> str:
    lines = []
    for account in accounts:
        who = account["account_id"] + (f" ({account['name']})" if account["name"] else "")
        head = f"{who}  {account['region']}"
        if not account["read"]:
            lines.append(f"{head}  NOT READ: {account['error']}")
        elif not account["vpcs"]:
            lines.append(f"{head}  no VPC with Outpost subnets")
        for vpc in account["vpcs"]:
            name = f" ({vpc['name']})" if vpc["name"] else ""
            pairs = vpc["pairs"]
            last = vpc["last_execution"]
            if last:
                execution = f"last execution {last['status']} {last['started']} {last['name']}"
            else:
                execution = (
                    "last execution: none"
                    if vpc["executions_note"] is None
                    else ("executions not listed")
                )
            lines.append(
                f"{head}  {vpc['vpc_id']}{name}  pairs {pairs['reachable']}/{pairs['expected']} "
                f"reachable  findings {len(vpc['findings'])}  {execution}"
            )
    unread = sum(1 for a in accounts if not a["read"])
    lines.append(f"{len(accounts) - unread} of {len(accounts)} account(s) read")
    return "\n".join(lines)


def cmd_status(args: argparse.Namespace) -> int:
    """``status``: the fleet with --accounts or --organization, else this account's VPCs."""
    if not (args.accounts or args.organization):
        if args.role_name:
            raise CliError("--role-name goes with --accounts FILE or --organization")
        return status_cmd.cmd_status(args)
    for flag, value in (("--vpc", args.vpc), ("--state-machine-arn", args.state_machine_arn)):
        if value:
            raise CliError(
                f"{flag} is for one account's status, not with --accounts/--organization"
            )
    hub = AwsContext(args.region, args.profile, args.endpoint_url, args.table, args.stack)
    region = str(hub.session.region_name)
    members = (
        read_accounts_file(args.accounts, region, hub.stack)
        if args.accounts
        else organization_accounts(hub, hub.stack)
    )
    accounts = [read_member(hub, m, args.role_name) for m in members]
    emit(args, {"accounts": accounts}, fleet_text(accounts))
    unread = [f"{a['account_id']} ({a['region']})" for a in accounts if not a["read"]]
    if unread:
        fail(f"{len(unread)} account(s) could not be read: {', '.join(unread)}")
        return ExitCode.PROBLEM
    return ExitCode.DONE
