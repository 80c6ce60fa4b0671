"""Every payload bounded whatever the VPC's size (rule 10): each one, at 10x the VPC size that
broke it, stays under AWS's limit (docs/aws-facts.md, "Size limits"), and says what it left out."""

from __future__ import annotations

import io
import json
import logging
import re
from typing import Any, cast

from outpost_mesh import lambda_kit
from outpost_mesh.events import execution_name
from outpost_mesh.ledger.items import FindingItem as LedgerFinding
from outpost_mesh.ledger.items import PlanBatchItem
from outpost_mesh.limits import (
    DYNAMODB_ITEM_BYTES,
    EXECUTION_NAME_MAX,
    LOG_EVENT_BYTES,
    SNS_MESSAGE_BYTES,
    STATE_BYTES,
    bounded_name,
    json_size,
    utf8_size,
)
from outpost_mesh.model import Advertisement, Finding, FindingKind, PairReachability, Plan
from outpost_mesh.notices import failure_notice, findings_notice, message_body
from outpost_mesh.service import ReconcileService, Verification
from outpost_mesh.task_models import EXECUTION_NAME, VerifyInput
from outpost_mesh.workflow import tasks

VPC = "vpc-0123456789abcdef0"


def _conflict(i: int) -> Finding:
    table = f"rtb-{i // 100:017x}"
    cidr = f"10.{i // 250}.{i % 250}.0/24"
    return Finding(
        FindingKind.CONFLICT,
        f"{table}:{cidr}",
        f"route table {table} already sends {cidr} to eni-0123456789abcdef0, not to "
        "lgw-0123456789abcdef0; left alone (not created by outpost-mesh)",
    )


def _plan_result(findings: tuple[Finding, ...]) -> dict[str, Any]:
    output = tasks._plan_output(Plan(VPC, findings=findings), False, 0, 0, [])
    return output.model_dump(mode="json", by_alias=True, exclude_none=True)


# -- Step Functions task results ----------------------------------------------------------------
def test_plan_result_of_11500_conflicts_stays_far_under_256_kib() -> None:
    findings = tuple(_conflict(i) for i in range(11_500))
    assert json_size([f.to_dict() for f in findings]) > 10 * STATE_BYTES  # the breaking size
    result = _plan_result(findings)
    assert json_size(result) < STATE_BYTES // 8
    assert len(result["findings"]) == 10
    assert result["findings_left_out"] == {"conflict": 11_490}


def test_plan_result_keeps_the_first_of_every_kind_and_counts_them_all() -> None:
    findings = tuple(
        Finding(kind, f"subject-{kind}-{i}", "m" * 5_000) for kind in FindingKind for i in range(30)
    )
    result = _plan_result(findings)
    assert json_size(result) < STATE_BYTES // 2  # every kind at its cap, long messages cut
    assert {f["kind"] for f in result["findings"]} == {str(k) for k in FindingKind}
    assert result["findings_left_out"] == {str(k): 20 for k in FindingKind}
    output = tasks._plan_output(Plan(VPC, findings=findings), False, 0, 0, [])
    assert output.finding_count(FindingKind.CONFLICT) == 30


class _Verifies:
    """The one call tasks.verify makes of the service, answered with a given verification."""

    def __init__(self, verification: Verification) -> None:
        self.verification = verification

    def verify(self, vpc_id: str) -> Verification:
        return self.verification


def test_verify_result_of_17000_broken_pairs_stays_far_under_256_kib() -> None:
    pairs = tuple(
        PairReachability(
            f"subnet-{i:017x}",
            f"subnet-{i + 1:017x}",
            False,
            f"no route in rtb-{i:017x} to 10.{i // 250}.{i % 250}.0/24 via lgw-0123456789abcdef0",
        )
        for i in range(17_000)
    )
    keys = frozenset(p.key for p in pairs)
    svc = cast(ReconcileService, _Verifies(Verification(pairs, keys, keys)))
    output = tasks.verify(svc, VerifyInput(vpc_id=VPC))
    result = output.model_dump(mode="json", by_alias=True, exclude_none=True)
    assert json_size(result) < STATE_BYTES // 8
    assert result["unreachable"] == 17_000
    assert len(result["broken"]) == 50 and result["broken_left_out"] == 16_950


# -- SNS ------------------------------------------------------------------------------------------
def _published_bytes(body: str) -> int:
    """What SNS counts of Notifier's message: body and message attributes."""
    attributes = {"kind": "conflict", "vpc_id": VPC}
    return utf8_size(body) + sum(
        utf8_size(k) + len("String") + len(v) for k, v in attributes.items()
    )


def test_a_notice_of_12500_findings_lists_the_first_and_says_where_the_rest_are() -> None:
    findings = [(f.subject, f.message) for f in (_conflict(i) for i in range(12_500))]
    notice = findings_notice(VPC, FindingKind.CONFLICT, findings, "execution-1")
    assert _published_bytes(notice.body) < SNS_MESSAGE_BYTES // 2
    assert "12500 new conflict finding(s)" in notice.body
    assert f"and 12,400 more: outpost-mesh status --vpc {VPC}" in notice.body
    assert len(notice.subject) <= 100


def test_a_findings_notice_tells_the_plans_on_premises_impact() -> None:
    impact = (
        Advertisement("arn:aws:outposts:eu-west-1:111122223333:outpost/op-a", ("10.7.7.0/24",)),
        Advertisement(
            "arn:aws:outposts:eu-west-1:111122223333:outpost/op-b", (), ("10.7.11.0/24",)
        ),
    )
    notice = findings_notice(
        VPC, FindingKind.CONFLICT, [("rtb-1:10.7.11.0/24", "x")], "e-1", impact=impact
    )
    body = notice.body.splitlines()
    section = body[body.index("ON-PREMISES IMPACT (BGP)") :]
    assert (
        "starts advertising 1 subnet prefix(es) to the customer's network and withdrawing 1"
        in (section[1])
    )
    assert section[2:6] == [
        "  Outpost arn:aws:outposts:eu-west-1:111122223333:outpost/op-a",
        "    + 10.7.7.0/24 (advertised)",
        "  Outpost arn:aws:outposts:eu-west-1:111122223333:outpost/op-b",
        "    - 10.7.11.0/24 (withdrawn)",
    ]
    assert body.index("ON-PREMISES IMPACT (BGP)") < body.index("WHAT TO DO NEXT")

    report_only = findings_notice(VPC, FindingKind.CONFLICT, [], "e-1", True, impact=impact)
    assert "This plan would start advertising 1" in report_only.body
    plain = findings_notice(VPC, FindingKind.CONFLICT, [("rtb-1:10.7.11.0/24", "x")], "e-1")
    assert "ON-PREMISES" not in plain.body  # nothing changes on-premises: no section


def test_a_notice_of_12500_prefixes_lists_the_first_and_counts_the_rest() -> None:
    impact = tuple(
        Advertisement(
            f"arn:aws:outposts:eu-west-1:111122223333:outpost/op-{o:017x}",
            tuple(f"10.{o}.{i}.0/24" for i in range(125)),
            tuple(f"10.{o}.{i}.128/25" for i in range(125)),
        )
        for o in range(50)
    )
    findings = [(f.subject, f.message) for f in (_conflict(i) for i in range(12_500))]
    notice = findings_notice(VPC, FindingKind.CONFLICT, findings, "e-1", impact=impact)
    assert _published_bytes(notice.body) < SNS_MESSAGE_BYTES // 2
    assert "starts advertising 6,250 subnet prefix(es)" in notice.body
    assert sum(1 for line in notice.body.splitlines() if line.startswith("    + ")) == 100
    assert "... and 12,400 more, not listed" in notice.body
    assert f"outpost-mesh plan --vpc {VPC}" in notice.body


def test_a_failure_notice_with_a_huge_cause_stays_under_the_limit() -> None:
    notice = failure_notice(
        VPC,
        FindingKind.ERROR,
        subject=VPC,
        cause="é" * 1_000_000,
        undone=3,
        execution="execution-1",
    )
    assert _published_bytes(notice.body) < SNS_MESSAGE_BYTES


def test_a_body_too_big_for_sns_is_cut_and_says_where_to_read_it() -> None:
    attributes = {"kind": {"DataType": "String", "StringValue": "conflict"}}
    body = message_body("é" * SNS_MESSAGE_BYTES, VPC, attributes)
    assert utf8_size(body) + len("kind") + len("String") + len("conflict") < SNS_MESSAGE_BYTES
    assert body.endswith(f"outpost-mesh status --vpc {VPC} shows it all)")


# -- DynamoDB items -------------------------------------------------------------------------------
def _item_bytes(item: dict[str, Any]) -> int:
    """DynamoDB's count, over-estimated: names, and each value's text or bytes."""
    total = 0
    for name, value in item.items():
        [(kind, data)] = value.items()
        total += utf8_size(name) + (len(data) if kind == "B" else utf8_size(json.dumps(data)))
    return total


def test_a_findings_item_stays_under_400_kb_and_its_key_under_1024_bytes() -> None:
    subject = "rtb-0123456789abcdef0:" + ",".join(f"lgw-vpc-assoc-{i:017x}" for i in range(1000))
    finding = Finding(FindingKind.ERROR, subject, "cause " * 1_000_000)
    item = LedgerFinding.encode(VPC, finding, "execution-1", 0)
    assert _item_bytes(item) < DYNAMODB_ITEM_BYTES // 8 + utf8_size(subject)
    assert utf8_size(item["sk"]["S"]) <= 1024
    other = LedgerFinding.encode(VPC, Finding(FindingKind.ERROR, subject + "x", ""), "e", 0)
    assert other["sk"] != item["sk"]
    short = LedgerFinding.encode(VPC, _conflict(1), "execution-1", 0)
    assert short["sk"]["S"] == f"conflict#{_conflict(1).subject}"  # keys that fit are unchanged


def test_a_stashed_batch_of_a_table_serving_750_subnets_stays_under_400_kb() -> None:
    sources = [f"subnet-{i:017x}" for i in range(750)]
    batch = {
        "creates": [
            {
                "route_table_id": "rtb-0123456789abcdef0",
                "destination": f"10.{i // 250}.{i % 250}.0/24",
                "local_gateway_id": "lgw-0123456789abcdef0",
                "destination_subnet_id": f"subnet-{i:017x}",
                "source_subnet_ids": sources,
                "reason": "mesh",
            }
            for i in range(100)
        ]
    }
    assert json_size(batch) > 4 * DYNAMODB_ITEM_BYTES
    item = PlanBatchItem.encode("execution-1", "000000000000001-00000", batch, 0)
    assert _item_bytes(item) < DYNAMODB_ITEM_BYTES // 4
    assert PlanBatchItem.decode(item) == batch
    small = PlanBatchItem.encode("execution-1", "k", {"creates": []}, 0)
    assert json.loads(small["body"]["S"]) == {"creates": []}  # a small batch stays readable


# -- execution names ------------------------------------------------------------------------------
def test_execution_names_stay_80_characters_and_unique() -> None:
    first = execution_name(VPC, "retry-" + "a" * 100 + "-1", prefix="retry-")
    second = execution_name(VPC, "retry-" + "a" * 100 + "-2", prefix="retry-")
    assert len(first) == len(second) == EXECUTION_NAME_MAX
    assert first != second
    assert re.match(EXECUTION_NAME, first)
    short = execution_name(VPC, "7bf73129-1428-4cd3-a780-95db273d1602")
    assert short == f"{VPC}-7bf73129-1428-4cd3-a780-95db273d1602"  # names that fit: unchanged
    assert bounded_name("x" * 81) != bounded_name("x" * 82)


def test_a_retry_of_a_retry_keeps_a_distinct_name() -> None:
    execution = execution_name(VPC, "7bf73129-1428-4cd3-a780-95db273d1602")
    retry = execution_name(VPC, execution, prefix="retry-")
    again = execution_name(VPC, retry, prefix="retry-")
    assert len({execution, retry, again}) == 3
    assert all(len(n) <= EXECUTION_NAME_MAX for n in (execution, retry, again))


# -- log lines ------------------------------------------------------------------------------------
def test_a_log_line_of_17000_pairs_lists_50_and_counts_the_rest(log_lines: io.StringIO) -> None:
    pairs = [
        {"from": f"subnet-{i:017x}", "to": "subnet-1", "reason": "r" * 200} for i in range(17_000)
    ]
    lambda_kit.logger.info("verified", extra={"broken": pairs, "note": "n" * 1_000_000})
    [line] = log_lines.getvalue().splitlines()
    assert utf8_size(line) < LOG_EVENT_BYTES // 8
    record = json.loads(line)
    assert len(record["broken"]) == 50 and record["broken_not_logged"] == 16_950


def test_the_core_s_log_lines_are_bounded_too(log_lines: io.StringIO) -> None:
    logging.getLogger("outpost_mesh.workflow").warning(
        "planned", extra={"changes": list(range(100_000))}
    )
    [line] = log_lines.getvalue().splitlines()
    assert json.loads(line)["changes_not_logged"] == 100_000 - 50
