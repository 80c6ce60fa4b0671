"""The hub's event for a notice (docs/architecture.md, "The event contract (members -> hub)"):
its detail type and fields, and its size bounded whatever the VPC's (rule 10): at 10x the
finding count that would break a PutEvents entry, and with text that JSON escapes to six bytes a
character, the entry stays under EventBridge's limit and counts what it left out."""

from __future__ import annotations

import json
from typing import Any

import pytest

from outpost_mesh.errors import ConfigurationError
from outpost_mesh.limits import (
    HUB_EVENT_BYTES,
    NOTICE_FINDINGS,
    NOTICE_LINE_CHARS,
    PUT_EVENTS_ENTRY_BYTES,
    clip,
    json_size,
)
from outpost_mesh.model import FindingKind
from outpost_mesh.notices import (
    Notice,
    bus_region,
    entry_size,
    failure_notice,
    findings_notice,
    hub_entry,
)
from outpost_mesh.settings import Settings

VPC = "vpc-0123456789abcdef0"
BUS = "arn:aws:events:eu-west-1:111122223333:event-bus/outpost-mesh-hub-fleet"
REGION = "us-east-1"
COMMON = {"schema_version", "region", "vpc_id", "kind", "summary", "actor", "report_only"}


def _detail(entry: dict[str, str]) -> dict[str, Any]:
    detail: dict[str, Any] = json.loads(entry["Detail"])
    return detail


def _conflicts(count: int, message: str) -> list[tuple[str, str]]:
    return [
        (f"rtb-{i // 100:017x}:10.{i // 250 % 256}.{i % 250}.0/24", message) for i in range(count)
    ]


def test_the_entry_is_measured_as_eventbridge_counts_it() -> None:
    entry = {"EventBusName": BUS, "Source": "outpost-mesh", "DetailType": "é", "Detail": '{"a":1}'}
    assert entry_size(entry) == len("outpost-mesh") + 2 + len('{"a":1}')  # the bus is not counted


def test_a_finding_event_of_10x_the_breaking_count_stays_under_the_limit() -> None:
    message = "route table already sends the CIDR to an appliance; " + "x" * 1_000
    findings = _conflicts(125_000, message)
    assert json_size(findings) > 10 * PUT_EVENTS_ENTRY_BYTES  # all of them: the breaking size
    notice = findings_notice(VPC, FindingKind.CONFLICT, findings, "sweep-1")
    entry = hub_entry(notice, BUS, REGION)

    assert entry_size(entry) <= HUB_EVENT_BYTES < PUT_EVENTS_ENTRY_BYTES
    assert (entry["EventBusName"], entry["Source"], entry["DetailType"]) == (
        BUS,
        "outpost-mesh",
        "outpost-mesh Finding",
    )
    detail = _detail(entry)
    assert set(detail) == COMMON | {"count", "findings", "findings_left_out"}
    assert detail["count"] == 125_000
    listed = sorted(findings)[:NOTICE_FINDINGS]
    assert detail["findings"] == [
        {"subject": s, "message": clip(m, NOTICE_LINE_CHARS)} for s, m in listed
    ]
    assert detail["findings_left_out"] == 125_000 - NOTICE_FINDINGS
    assert {k: detail[k] for k in COMMON} == {
        "schema_version": 1,
        "region": REGION,
        "vpc_id": VPC,
        "kind": "conflict",
        "summary": notice.subject,
        "actor": "sweep-1",
        "report_only": False,
    }


def test_findings_that_escape_to_six_bytes_a_character_are_cut_to_fit_and_counted() -> None:
    escaped = "\x01" * 5_000  # JSON writes each as \u0001: 6 bytes
    findings = [(f"subnet-{i:017x}{escaped}", escaped) for i in range(1_250)]
    notice = findings_notice(VPC, FindingKind.UNSUPPORTED, findings, "e-1", report_only=True)
    entry = hub_entry(notice, BUS, REGION)

    assert entry_size(entry) <= HUB_EVENT_BYTES
    detail = _detail(entry)
    listed = len(detail["findings"])
    assert 0 < listed < NOTICE_FINDINGS  # fewer than the notice lists: they would not fit
    assert listed + detail["findings_left_out"] == detail["count"] == 1_250
    assert all(len(f["message"]) == NOTICE_LINE_CHARS for f in detail["findings"])
    assert detail["report_only"] is True


def test_a_failure_event_carries_the_outcome_with_its_cause_cut_like_the_notice() -> None:
    cause = "AccessDeniedError: UnauthorizedOperation: " + "é" * (10 * PUT_EVENTS_ENTRY_BYTES)
    notice = failure_notice(
        VPC,
        FindingKind.ERROR,
        subject="rtb-0123456789abcdef0:10.7.7.0/24",
        cause=cause,
        undone=3,
        execution="sweep-2",
        report_only=True,
    )
    entry = hub_entry(notice, BUS, REGION)

    assert entry_size(entry) <= HUB_EVENT_BYTES
    assert entry["DetailType"] == "outpost-mesh Execution Outcome"
    assert _detail(entry) == {
        "schema_version": 1,
        "region": REGION,
        "vpc_id": VPC,
        "kind": "error",
        "summary": notice.subject,
        "actor": "sweep-2",
        "report_only": True,
        "outcome": "FAILED",
        "execution": "sweep-2",
        "subject": "rtb-0123456789abcdef0:10.7.7.0/24",
        "cause": clip(cause, NOTICE_LINE_CHARS * 4),
        "undone": 3,
    }
    assert clip(cause, NOTICE_LINE_CHARS * 4) in notice.body  # the notice's cut, word for word


@pytest.mark.parametrize("line", ["x" * 99 + "\n", "\x02" * 100], ids=["text", "escaped"])
def test_any_other_notice_is_a_notice_event_with_its_body_cut_to_fit(line: str) -> None:
    body = line * 30_000  # 10x what fits
    notice = Notice("outpost-mesh: something", body, FindingKind.ERROR, VPC, actor="cli:ops")
    entry = hub_entry(notice, BUS, REGION)

    assert entry_size(entry) <= HUB_EVENT_BYTES
    assert entry_size(entry) > HUB_EVENT_BYTES - 1_024  # cut to fit, not far below
    assert entry["DetailType"] == "outpost-mesh Notice"
    detail = _detail(entry)
    assert set(detail) == COMMON | {"body"}
    assert body.startswith(detail["body"].rsplit("\n... (cut", 1)[0])
    assert detail["body"].endswith(f"outpost-mesh status --vpc {VPC} shows it all)")
    short = Notice("outpost-mesh: something", "all of it", FindingKind.ERROR, VPC)
    assert _detail(hub_entry(short, BUS, REGION))["body"] == "all of it"


def test_the_hub_bus_setting_takes_an_event_bus_arn_and_names_its_region() -> None:
    assert Settings.from_env({"HUB_EVENT_BUS_ARN": BUS}).hub_event_bus_arn == BUS
    assert Settings.from_env({}).hub_event_bus_arn == ""
    for bad in ("outpost-mesh-hub-fleet", "arn:aws:sns:eu-west-1:111122223333:fleet"):
        with pytest.raises(ConfigurationError, match=r"^HUB_EVENT_BUS_ARN="):
            Settings.from_env({"HUB_EVENT_BUS_ARN": bad})
    assert bus_region(BUS) == "eu-west-1"
