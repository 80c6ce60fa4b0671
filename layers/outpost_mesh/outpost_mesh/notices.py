"""Notifications a person can act on from the message alone, and their sending.

Every notice says what happened, where (VPC, subnet, route table, Outpost), why, and what to do
next, and names its runbook section (docs/runbook.md, one section per alarm). Building a notice
is pure; ``Notifier`` publishes it to the stack's SNS topic with the message attributes ``kind``
(a finding kind) and ``vpc_id``, so that subscriptions can filter, e.g.
``{"kind": ["rack-not-updated"]}``, and, in an Organization, puts it on the hub's event bus as
one event (``hub_entry``; the contract: docs/architecture.md, "The event contract (members ->
hub)"). A notice either reached both or counts as not sent.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from outpost_mesh.approval import impact_of
from outpost_mesh.errors import from_client_error
from outpost_mesh.limits import (
    HUB_EVENT_BYTES,
    NOTICE_BYTES,
    NOTICE_FINDINGS,
    NOTICE_LINE_CHARS,
    STATE_SUBJECT_CHARS,
    clip,
    clip_bytes,
    first,
    json_size,
    more,
    status_command,
    utf8_size,
)
from outpost_mesh.model import OPT_OUT_TAG, Advertisement, Approval, FindingKind

RUNBOOK = "docs/runbook.md"
# SNS subjects: at most 100 printable ASCII characters, no line break (docs/aws-facts.md, "Size
# limits").
SNS_SUBJECT_MAX = 100
_NOT_SUBJECT_TEXT = re.compile(r"[^\x20-\x7e]")

# The alarm (docs/runbook.md section, named by the alarm's logical id) that a finding kind feeds.
RUNBOOK_SECTION: dict[FindingKind, str] = {
    FindingKind.CONFLICT: "conflictsalarm",
    FindingKind.SHARED_ROUTE_TABLE: "blockedsubnetsalarm",
    FindingKind.COIP_MODE: "blockedsubnetsalarm",
    FindingKind.RACK_NOT_UPDATED: "blockedsubnetsalarm",
    FindingKind.ROUTE_QUOTA: "routequotaheadroomalarm",
    FindingKind.UNSUPPORTED: "accepting-a-standing-finding",
    FindingKind.ERROR: "reconcileexecutionsfailedalarm",
    FindingKind.AMBIGUOUS_ROUTING_DOMAIN: "routing-domains",
    FindingKind.NO_ROUTING_DOMAIN: "routing-domains",
    FindingKind.NOT_OWNER: "vpcs-shared-into-the-account",
    FindingKind.DELETION_HELD: "deletionsheldalarm",
    FindingKind.APPROVAL_REJECTED: "approval-mode",
    FindingKind.APPROVAL_EXPIRED: "approval-mode",
    FindingKind.APPROVAL_NEEDED: "approval-mode",
    FindingKind.APPLIED: "re-running-a-reconcile",
}

# What each finding means for the mesh, in one phrase.
EFFECT: dict[FindingKind, str] = {
    FindingKind.CONFLICT: "the LGW route is not created (the existing route is left alone)",
    FindingKind.SHARED_ROUTE_TABLE: "the subnet is left out of the mesh",
    FindingKind.COIP_MODE: "the Outpost's subnets are left out of the mesh",
    FindingKind.RACK_NOT_UPDATED: (
        "the Outpost is quarantined: its subnets are left out of the mesh"
    ),
    FindingKind.ROUTE_QUOTA: "the VPC's mesh could not be completed",
    FindingKind.UNSUPPORTED: "the subnet (or CIDR) is left out of the mesh",
    FindingKind.ERROR: "nothing was changed by this reconcile",
    FindingKind.AMBIGUOUS_ROUTING_DOMAIN: "the Outpost's subnets are left out of the mesh",
    FindingKind.NO_ROUTING_DOMAIN: "the Outpost's subnets are left out of the mesh",
    FindingKind.NOT_OWNER: "nothing in the VPC is changed from this account",
    FindingKind.DELETION_HELD: (
        "those route deletions are held (the routes stay); the rest of the plan was applied"
    ),
    FindingKind.APPROVAL_REJECTED: "those changes are not made; the rest of the plan was applied",
    FindingKind.APPROVAL_EXPIRED: "those changes are not made; the rest of the plan was applied",
    FindingKind.APPROVAL_NEEDED: "those changes wait for a person's approval",
    FindingKind.APPLIED: "the changes were made and verified",
}

NEXT_STEPS: dict[FindingKind, tuple[str, ...]] = {
    FindingKind.CONFLICT: (
        "Look at the route named below (who made it, what it is for). outpost-mesh never "
        "changes a route it did not create.",
        "If the LGW route should win: delete or change that route yourself; the next reconcile "
        "adds the LGW route.",
        "If the existing route is right: accept it by tagging the route table `{opt_out}` "
        "(its subnets then stay out of the mesh).",
    ),
    FindingKind.SHARED_ROUTE_TABLE: (
        "Give the Outpost subnet a route table of its own (aws ec2 create-route-table, then "
        "aws ec2 associate-route-table --subnet-id ... --route-table-id ...): an LGW route in a "
        "table that also serves an In-Region subnet or another Outpost would reach those too.",
        "Or accept it: tag the subnet `{opt_out}`.",
    ),
    FindingKind.COIP_MODE: (
        "The VPC's routing domain on the Outpost is in CoIP mode (it is associated with a CoIP "
        "LGW route table, or the Outpost's active tables are all CoIP); intra-VPC routing needs "
        "direct-vpc-routing. A VPC is in one routing domain per Outpost, and modes and domains "
        "are the Outpost owner's decision; outpost-mesh never changes them.",
        "To move the VPC to a direct-vpc-routing domain: delete its association with the CoIP "
        "table yourself; the next reconcile associates it with the usable domain.",
        "Or accept it: tag the Outpost's subnets `{opt_out}`.",
    ),
    FindingKind.AMBIGUOUS_ROUTING_DOMAIN: (
        "The Outpost has several usable routing domains (available, direct-vpc-routing, "
        "associated with a VIF group) and nothing says which one this VPC belongs in.",
        "Tag the chosen LGW route table `outpost-mesh:routing-domain` with the VPC's id (or `*` "
        "for every VPC): aws ec2 create-tags --resources lgw-rtb-... --tags "
        "Key=outpost-mesh:routing-domain,Value={vpc}. Or associate the VPC with it yourself; "
        "the next reconcile uses it.",
    ),
    FindingKind.NO_ROUTING_DOMAIN: (
        "No LGW route table of the Outpost can carry this VPC's routes: the one the VPC is "
        "associated with, or every candidate, is pending, deleting, not associated with a VIF "
        "group or not visible to this account (see the reason below).",
        "Ask the Outpost's owner to make a direct-vpc-routing table available and associate it "
        "with a VIF group (and share it through AWS RAM if it is another account's); the next "
        "reconcile uses it.",
    ),
    FindingKind.DELETION_HELD: (
        "The plan would delete routes between subnets that still exist (or the last LGW routes "
        "of a subnet that still exists, withdrawing its prefix from the customer's network over "
        "BGP), more of them than the stack's DeleteThresholdPercent of the routes outpost-mesh "
        "owns in the VPC: more likely a bad reading (a mis-tagged VPC or table, a rack turned "
        "ineligible, a rack's subnets gone) than intent.",
        "See what is held: outpost-mesh plan --vpc {vpc} (lines `~ held`). If the cut is "
        "intended: outpost-mesh apply --vpc {vpc} --force. If not: undo the change that caused "
        "it (tag, route table, routing domain); the next reconcile holds nothing.",
    ),
    FindingKind.APPROVAL_REJECTED: (
        "A person rejected the changes named below (ApprovalMode). They stay undone while the "
        "plan asks for the same changes; a different plan asks again.",
        "To make them after all: outpost-mesh apply --vpc {vpc} (your run is your approval, "
        "recorded with your ARN).",
    ),
    FindingKind.APPROVAL_EXPIRED: (
        "Nobody approved or rejected the changes named below before the request expired "
        "(ApprovalTimeoutHours). They stay undone while the plan asks for the same changes.",
        "To make them: outpost-mesh apply --vpc {vpc} (your approval, recorded with your ARN).",
    ),
    FindingKind.NOT_OWNER: (
        "The VPC is shared into this account by its owner (VPC sharing); only the owner can "
        "change its route tables. Deploy outpost-mesh in the owner's account to mesh it.",
        "Nothing is changed here and this is reported once.",
    ),
    FindingKind.RACK_NOT_UPDATED: (
        "The rack rejected its LGW route: it needs the intra-VPC communication update. Contact "
        "AWS Support with the Outpost ARN named above.",
        "After AWS updated the rack: outpost-mesh release --outpost {outpost}, then outpost-mesh "
        "apply --vpc {vpc} (or wait for the sweep). The quarantine also ends by itself after the "
        "stack's QuarantineMinutes.",
    ),
    FindingKind.ROUTE_QUOTA: (
        "Raise the Amazon VPC quota 'Routes per route table' (Service Quotas code L-93826ACB, "
        "up to 1,000), then set the stack parameter RoutesPerTableQuota to the new value.",
        "Or use fewer Outpost subnets per route table (each sibling subnet needs one route).",
    ),
    FindingKind.UNSUPPORTED: (
        "Nothing to fix in outpost-mesh: the subnet or CIDR cannot be meshed (IPv6, no IPv4 "
        "CIDR, or an Outpost whose LGW route table this account cannot see).",
        "Accept it: tag the subnet `{opt_out}`.",
    ),
    FindingKind.ERROR: (
        "Read the cause below and the failed execution's history (Step Functions console) and "
        "logs (CloudWatch Logs Insights query in the runbook).",
        "Fix the cause (permissions, throttling, a resource changed meanwhile), then re-run.",
    ),
}


@dataclass(frozen=True)
class Outcome:
    """A reconcile's end as its notice tells it: failed and rolled back (``undone`` changes), or
    ``SUCCEEDED`` with the ``changes`` it made (counts by kind; the hub's event only)."""

    execution: str
    subject: str
    cause: str
    undone: int
    status: str = "FAILED"
    changes: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class Notice:
    """What a person is told: the SNS message (``subject``, ``body``) and what the hub's event
    carries besides (who ran the reconcile, every finding of a findings notice, the outcome of
    a failed one)."""

    subject: str
    body: str
    kind: FindingKind
    vpc_id: str
    actor: str = ""
    report_only: bool = False
    findings: tuple[tuple[str, str], ...] = ()  # (subject, message), sorted: a findings notice
    outcome: Outcome | None = None  # a failure notice


# How a CLI run names itself as a lease holder and ledger owner (a workflow uses its execution).
CLI_ACTOR_PREFIX = "cli:"


def actor_words(actor: str) -> str:
    """Who ran a reconcile, in words: a workflow execution's name, or the CLI's owner id."""
    return actor if actor.startswith(CLI_ACTOR_PREFIX) else f"execution {actor}"


def where_lines(vpc_id: str, subjects: Iterable[str]) -> list[str]:
    """Name what a finding's subject is: a subnet, a route table (and destination), an Outpost."""
    lines = [f"  VPC:          {vpc_id}"]
    seen: set[str] = set()
    for subject in subjects:
        if subject in seen or subject == vpc_id or not subject:
            continue
        seen.add(subject)
        if subject.startswith("subnet-"):
            lines.append(f"  Subnet:       {subject}")
        elif subject.startswith("rtb-"):
            table, _, destination = subject.partition(":")
            lines.append(
                f"  Route table:  {table}"
                + (f" (destination {destination})" if destination else "")
            )
        elif ":outposts:" in subject or subject.startswith("op-"):
            lines.append(f"  Outpost:      {subject}")
        elif subject.startswith("lgw-"):
            lines.append(f"  Local gateway: {subject}")
        else:
            lines.append(f"  Resource:     {subject}")
    return lines


def _steps(kind: FindingKind, vpc_id: str, subjects: Iterable[str], opt_out: str) -> list[str]:
    """The kind's next steps, with this VPC's and Outpost's ids and the opt-out tag filled in."""
    outpost = next((s for s in subjects if ":outposts:" in s), "ARN")
    return [
        step.format(vpc=vpc_id, outpost=outpost, opt_out=opt_out)
        for step in NEXT_STEPS.get(kind, NEXT_STEPS[FindingKind.ERROR])
    ]


def _rerun(vpc_id: str) -> list[str]:
    return [
        "To re-run a reconcile now: outpost-mesh apply --vpc "
        f"{vpc_id} (or start the state machine with "
        f'{{"vpc_id": "{vpc_id}", "trigger": "manual"}}); the scheduled sweep also retries.',
        f"To see the VPC's mesh and open findings: {status_command(vpc_id)}",
    ]


def _subject(text: str) -> str:
    clean = " ".join(text.split())
    return clean if len(clean) <= SNS_SUBJECT_MAX else clean[: SNS_SUBJECT_MAX - 3] + "..."


def impact_lines(vpc_id: str, impact: Sequence[Advertisement], report_only: bool) -> list[str]:
    """The plan's on-premises impact (``Plan.bgp_impact``), for a person: per Outpost the
    prefixes BGP starts (+) and stops (-) advertising, at most ``NOTICE_FINDINGS`` of them
    (rule 10) with a count of the rest. No lines when nothing changes on-premises."""
    entries = [
        (a.outpost_arn, sign, cidr)
        for a in impact
        for sign, cidrs in (("+", a.advertised), ("-", a.withdrawn))
        for cidr in cidrs
    ]
    if not entries:
        return []
    added = sum(len(a.advertised) for a in impact)
    verb = "would start" if report_only else "starts"
    lines = [
        "ON-PREMISES IMPACT (BGP)",
        f"  This plan {verb} advertising {added:,} subnet prefix(es) to the customer's network "
        f"and withdrawing {len(entries) - added:,} (an Outpost subnet is advertised while its "
        "route table has a route to its Outpost's local gateway):",
    ]
    listed, left_out = first(entries, NOTICE_FINDINGS)
    outpost = ""
    for arn, sign, cidr in listed:
        if arn != outpost:
            outpost = arn
            lines.append(clip(f"  Outpost {arn}", NOTICE_LINE_CHARS))
        lines.append(f"    {sign} {cidr} ({'advertised' if sign == '+' else 'withdrawn'})")
    if left_out:
        lines.append(
            f"  ... and {left_out:,} more, not listed (a pass's impact is not kept: "
            f"outpost-mesh plan --vpc {vpc_id} lists a plan's whole impact before it runs)"
        )
    return [*lines, ""]


def findings_notice(
    vpc_id: str,
    kind: FindingKind,
    findings: Iterable[tuple[str, str]],
    execution: str,
    report_only: bool = False,
    *,
    opt_out_tag: str = OPT_OUT_TAG,
    impact: Sequence[Advertisement] = (),
) -> Notice:
    """New findings of one kind from a plan: ``findings`` is ``(subject, message)`` pairs;
    ``impact`` the plan's on-premises impact (``Plan.bgp_impact``), told with them.

    The message stays under SNS's limit whatever their number (rule 10): it lists the first
    ``NOTICE_FINDINGS`` findings (and prefixes) and says how many more there are and where to
    read them all.
    """
    every = sorted(set(findings))
    count = len(every)
    items, left_out = first(every, NOTICE_FINDINGS)
    rest_listed = [f"  ... {more(left_out, vpc_id)}"] if left_out else []
    rest = (
        "Report-only mode: nothing is changed in the VPC."
        if report_only
        else "The rest of the VPC is meshed as usual."
    )
    body = [
        "WHAT HAPPENED",
        f"  The reconcile of VPC {vpc_id} ({actor_words(execution)}) found {count} new {kind} "
        f"finding(s): {EFFECT.get(kind, 'see below')}. {rest}",
        "",
        "WHERE",
        *(clip(line, NOTICE_LINE_CHARS) for line in where_lines(vpc_id, (s for s, _ in items))),
        *rest_listed,
        "",
        "WHY",
        *(clip(f"  - {subject}: {message}", NOTICE_LINE_CHARS) for subject, message in items),
        *rest_listed,
        "",
        *impact_lines(vpc_id, impact, report_only),
        "WHAT TO DO NEXT",
        *(
            f"  - {step}"
            for step in _steps(kind, vpc_id, (subject for subject, _ in items), opt_out_tag)
        ),
        *(f"  - {line}" for line in _rerun(vpc_id)),
        "",
        f"Runbook: {RUNBOOK}#{RUNBOOK_SECTION.get(kind, 'accepting-a-standing-finding')}",
        "You are told once per finding, not on every sweep while it stands; a finding that is "
        "resolved and comes back is new again.",
    ]
    return Notice(
        subject=_subject(f"outpost-mesh: {count} new {kind} finding(s) in {vpc_id}"),
        body="\n".join(body),
        kind=kind,
        vpc_id=vpc_id,
        actor=execution,
        report_only=report_only,
        findings=tuple(every),
    )


def approval_notice(approval: Approval, report_only: bool = False) -> Notice:
    """A pass's changes wait for a person (ApprovalMode): what they are (the first
    ``NOTICE_FINDINGS`` of them, and how many more: ``status`` shows them all, kept in the
    ledger), their on-premises impact, the commands that approve or reject, and the expiry."""
    vpc_id = approval.vpc_id
    keys = approval.changes
    listed, left_out = first(keys, NOTICE_FINDINGS)
    counts = dict(approval.plan.get("counts") or {})
    named = ", ".join(f"{n} {name.replace('_', ' ')}" for name, n in counts.items() if n)
    expiry = datetime.fromtimestamp(approval.expires_at, UTC).strftime("%Y-%m-%d %H:%M UTC")
    body = [
        "WHAT WAITS",
        f"  The reconcile of VPC {vpc_id} ({actor_words(approval.execution)}) planned "
        f"{len(keys)} change(s) that wait for your approval (ApprovalMode): {named}. None of "
        "them is made until a person approves; the VPC's other changes are applied as usual.",
        "",
        "THE CHANGES",
        *(clip(f"  {key}", NOTICE_LINE_CHARS) for key in listed),
        *([f"  ... and {left_out:,} more: {status_command(vpc_id)}"] if left_out else []),
        "",
        *impact_lines(vpc_id, impact_of(approval), report_only),
        "WHAT TO DO NEXT",
        f"  - To apply exactly these changes: outpost-mesh approve --vpc {vpc_id}",
        f'  - To refuse them: outpost-mesh reject --vpc {vpc_id} --reason "..."',
        f"  - The request expires at {expiry}: then nothing of it is applied and the expiry is "
        "recorded. If AWS changes meanwhile, the approved pass re-plans and applies only the "
        "approved changes that still hold; a new change asks again.",
        "",
        f"Runbook: {RUNBOOK}#approval-mode",
    ]
    return Notice(
        subject=_subject(f"outpost-mesh: {len(keys)} change(s) in {vpc_id} wait for approval"),
        body="\n".join(body),
        kind=FindingKind.APPROVAL_NEEDED,
        vpc_id=vpc_id,
        actor=approval.execution,
        report_only=report_only,
    )


_MADE = {
    "associations_to_create": "association(s) made",
    "associations_to_delete": "association(s) deleted",
    "routes_to_create": "route(s) created",
    "routes_to_delete": "route(s) deleted",
}


def success_notice(vpc_id: str, execution: str, changes: dict[str, int]) -> Notice:
    """An execution that changed something and ended: for the hub's bus only (people are told
    what needs them, not every success; the hub's dashboard counts them)."""
    made = ", ".join(f"{n} {_MADE.get(kind, kind)}" for kind, n in sorted(changes.items()) if n)
    return Notice(
        subject=_subject(f"outpost-mesh: reconcile of {vpc_id} succeeded ({made})"),
        body="",
        kind=FindingKind.APPLIED,
        vpc_id=vpc_id,
        actor=execution,
        outcome=Outcome(execution, vpc_id, "", 0, SUCCEEDED, tuple(sorted(changes.items()))),
    )


def failure_notice(
    vpc_id: str,
    kind: FindingKind,
    *,
    subject: str,
    cause: str,
    undone: int,
    execution: str,
    opt_out_tag: str = OPT_OUT_TAG,
    report_only: bool = False,
) -> Notice:
    """A reconcile that failed and rolled back its own changes."""
    body = [
        "WHAT HAPPENED",
        f"  The reconcile of VPC {vpc_id} ({actor_words(execution)}) failed. It rolled back the "
        f"{undone} change(s) it had made, so the VPC is as it was before this run "
        "(outpost-mesh never touches what it did not create).",
        "",
        "WHERE",
        *where_lines(vpc_id, [subject]),
        "",
        "WHY",
        f"  {clip(cause, NOTICE_LINE_CHARS * 4)}",
        "",
        "WHAT TO DO NEXT",
        *(f"  - {step}" for step in _steps(kind, vpc_id, [subject], opt_out_tag)),
        *(f"  - {line}" for line in _rerun(vpc_id)),
        "",
        f"Runbook: {RUNBOOK}#reconcileexecutionsfailedalarm"
        + (
            f" and {RUNBOOK}#{RUNBOOK_SECTION[kind]}"
            if RUNBOOK_SECTION.get(kind, "reconcileexecutionsfailedalarm")
            != "reconcileexecutionsfailedalarm"
            else ""
        ),
    ]
    return Notice(
        subject=_subject(f"outpost-mesh: reconcile of {vpc_id} failed, rolled back ({kind})"),
        body="\n".join(body),
        kind=kind,
        vpc_id=vpc_id,
        actor=execution,
        report_only=report_only,
        outcome=Outcome(execution, subject, cause, undone),
    )


def message_body(body: str, vpc_id: str, attributes: dict[str, dict[str, str]]) -> str:
    """``body`` as SNS takes it: message and attributes at most 256 KB together (docs/aws-facts.md,
    "Size limits"); a body too long for that is cut and says where to read the rest."""
    weight = sum(
        utf8_size(name) + utf8_size(value["DataType"]) + utf8_size(value["StringValue"])
        for name, value in attributes.items()
    )
    note = f"\n... (cut to fit an SNS message; {status_command(vpc_id)} shows it all)"
    return clip_bytes(body, NOTICE_BYTES - weight, note)


# -- the hub's events (docs/architecture.md, "The event contract (members -> hub)") ------------
HUB_SOURCE = "outpost-mesh"  # the only source the hub's bus admits (hub.yaml, FleetBus)
HUB_SCHEMA_VERSION = 1
FINDING_EVENT = "outpost-mesh Finding"
OUTCOME_EVENT = "outpost-mesh Execution Outcome"
NOTICE_EVENT = "outpost-mesh Notice"
FAILED = "FAILED"  # an Execution Outcome's outcome: the reconcile failed and rolled back
SUCCEEDED = "SUCCEEDED"  # ...: it ended having changed something (put on the hub only)
_BODY_CUT = "\n... (cut to fit an EventBridge event; {status} shows it all)"


def entry_size(entry: dict[str, str]) -> int:
    """A PutEvents entry's size as EventBridge counts it (``PUT_EVENTS_ENTRY_BYTES``): Source,
    DetailType and Detail in UTF-8 (no Time, no Resources)."""
    return sum(utf8_size(entry[key]) for key in ("Source", "DetailType", "Detail"))


def _fitted(items: Iterable[dict[str, str]], room: int) -> list[dict[str, str]]:
    """The first items whose JSON (with the commas between them) fits in ``room`` bytes."""
    kept: list[dict[str, str]] = []
    for item in items:
        room -= json_size(item) + 1
        if room < 0:
            break
        kept.append(item)
    return kept


def _fitted_text(text: str, room: int, note: str) -> str:
    """``text``, cut and ending in ``note`` if need be, taking at most ``room`` bytes as a JSON
    string (escapes included)."""
    size, fitted = utf8_size(text), text
    while (weight := json_size(fitted)) > room and size > 0:
        # cut in proportion to what escaping adds, and by at least one byte a turn
        size = min(size - 1, size * room // weight)
        fitted = clip_bytes(text, size, note)
    return fitted


def _event_of(notice: Notice, common: dict[str, Any], room: int) -> tuple[str, dict[str, Any]]:
    """The notice's detail type and detail, what grows in it cut to ``room`` bytes."""
    if notice.outcome is not None:
        outcome = notice.outcome
        if outcome.status == SUCCEEDED:
            return OUTCOME_EVENT, {
                **common,
                "outcome": SUCCEEDED,
                "execution": clip(outcome.execution, STATE_SUBJECT_CHARS),
                "changes": dict(outcome.changes),
            }
        return OUTCOME_EVENT, {
            **common,
            "outcome": FAILED,
            "execution": clip(outcome.execution, STATE_SUBJECT_CHARS),
            "subject": clip(outcome.subject, NOTICE_LINE_CHARS),
            "cause": clip(outcome.cause, NOTICE_LINE_CHARS * 4),
            "undone": outcome.undone,
        }
    if notice.findings:
        listed, _ = first(notice.findings, NOTICE_FINDINGS)
        frame = {**common, "count": len(notice.findings), "findings": [], "findings_left_out": 0}
        findings = _fitted(
            (
                {"subject": clip(s, NOTICE_LINE_CHARS), "message": clip(m, NOTICE_LINE_CHARS)}
                for s, m in listed
            ),
            room - json_size(frame) - len(str(len(notice.findings))),
        )
        left_out = len(notice.findings) - len(findings)
        return FINDING_EVENT, {**frame, "findings": findings, "findings_left_out": left_out}
    note = _BODY_CUT.format(status=status_command(notice.vpc_id))
    body = _fitted_text(notice.body, room - json_size({**common, "body": ""}), note)
    return NOTICE_EVENT, {**common, "body": body}


def hub_entry(notice: Notice, bus_arn: str, region: str) -> dict[str, str]:
    """The notice as one PutEvents entry on the hub's bus, from a member in ``region``: at most
    ``HUB_EVENT_BYTES`` whatever the notice holds (rule 10; findings past what fits are counted
    in ``findings_left_out``, a body is cut saying where to read it whole)."""
    common = {
        "schema_version": HUB_SCHEMA_VERSION,
        "region": region,
        "vpc_id": clip(notice.vpc_id, STATE_SUBJECT_CHARS),
        "kind": str(notice.kind),
        "summary": clip(notice.subject, STATE_SUBJECT_CHARS),
        "actor": clip(notice.actor, STATE_SUBJECT_CHARS),
        "report_only": notice.report_only,
    }
    frame = {"Source": HUB_SOURCE, "DetailType": OUTCOME_EVENT, "Detail": ""}  # the longest
    detail_type, detail = _event_of(notice, common, HUB_EVENT_BYTES - entry_size(frame))
    return {
        "EventBusName": bus_arn,
        "Source": HUB_SOURCE,
        "DetailType": detail_type,
        "Detail": json.dumps(detail, separators=(",", ":"), ensure_ascii=False),
    }


def bus_region(bus_arn: str) -> str:
    """The Region of an event bus's ARN (``arn:PARTITION:events:REGION:ACCOUNT:event-bus/NAME``):
    PutEvents goes to that Region's endpoint (docs/aws-facts.md, "Across an Organization")."""
    return bus_arn.split(":")[3]


class HubBus:
    """The Organization's hub bus (``HUB_EVENT_BUS_ARN``): every notice is also put there, as
    one event, by an EventBridge client in the bus's Region."""

    def __init__(self, events: Any, bus_arn: str, region: str) -> None:
        """``region``: the member's Region (the delivered event's own is the bus's)."""
        self.events = events
        self.bus_arn = bus_arn
        self.region = region

    def put(self, notice: Notice) -> None:
        """Raises the mapped error when PutEvents fails, or answers that it could not take the
        entry (FailedEntryCount: EventBridge reports a failed entry without an error)."""
        try:
            answer = self.events.put_events(Entries=[hub_entry(notice, self.bus_arn, self.region)])
        except ClientError as error:
            raise from_client_error(error, subject=notice.vpc_id) from error
        if answer.get("FailedEntryCount", 0):
            failed = (answer.get("Entries") or [{}])[0]
            refusal: Any = {
                "Error": {
                    "Code": failed.get("ErrorCode", "FailedEntry"),
                    "Message": failed.get("ErrorMessage", "the hub's bus did not take the event"),
                }
            }
            raise from_client_error(ClientError(refusal, "PutEvents"), subject=notice.vpc_id)


class Notifier:
    """Publishes notices to the stack's SNS topic (none configured: nothing is sent) and puts
    them on the hub's bus (``hub``; None: no hub)."""

    def __init__(self, sns: Any, topic_arn: str, hub: HubBus | None = None) -> None:
        self.sns = sns
        self.topic_arn = topic_arn
        self.hub = hub

    def publish(self, notice: Notice) -> None:
        """SNS first, then the hub. Either failing raises: the notice was not sent, and the
        caller sends it again to both (SNS's subscribers may get it twice; the hub misses none)."""
        if self.topic_arn:
            self._publish_sns(notice)
        if self.hub is not None:
            self.hub.put(notice)

    def _publish_sns(self, notice: Notice) -> None:
        attributes = {
            "kind": {"DataType": "String", "StringValue": str(notice.kind)},
            "vpc_id": {"DataType": "String", "StringValue": notice.vpc_id},
        }
        try:
            self.sns.publish(
                TopicArn=self.topic_arn,
                Subject=_NOT_SUBJECT_TEXT.sub(" ", notice.subject).strip()[: SNS_SUBJECT_MAX - 1]
                or str(notice.kind),
                Message=message_body(notice.body, notice.vpc_id, attributes),
                MessageAttributes=attributes,
            )
        except ClientError as error:
            raise from_client_error(error, subject=notice.vpc_id) from error
