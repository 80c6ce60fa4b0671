"""Every payload bounded whatever the VPC's size (docs/architecture.md, rule 10).

AWS's size limits (docs/aws-facts.md, "Size limits") and the project's own caps, far below them:
what grows with a VPC (findings, unreachable pairs, changes) is cut in task results, notices and
log lines, with a count of what was left out and the command that shows it whole (the ledger
table keeps every finding; ``outpost-mesh status --vpc ID`` reads it).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")

# -- AWS's limits (docs/aws-facts.md, "Size limits") ---------------------------------------------
STATE_BYTES = 262_144  # a Step Functions task result or state: 256 KiB of UTF-8 JSON
SNS_MESSAGE_BYTES = 262_144  # SNS Publish: message and message attributes together
LOG_EVENT_BYTES = 262_144  # one CloudWatch Logs event (longer ones are truncated)
DYNAMODB_ITEM_BYTES = 400 * 1024  # one DynamoDB item: attribute names and values
EXECUTION_NAME_MAX = 80  # StartExecution name
# A synchronous Lambda invoke's response payload: "6 MB" (docs/aws-facts.md, "Size limits"; Lambda
# API Reference, Invoke), taken as 6 MiB (the limit Lambda enforces, 6,291,556 bytes in its
# error message, is a little above). A CloudWatch custom widget is such an invoke: the dashboard
# shows the string its function returns, measured as that string's JSON; CloudWatch documents no
# smaller limit (docs/aws-facts.md, "CloudWatch custom widgets").
LAMBDA_RESPONSE_BYTES = 6 * 1024 * 1024
# One EventBridge PutEvents entry: "256 KB", counted as the UTF-8 bytes of Source, DetailType,
# Detail and each Resources entry, plus 14 for a Time (docs/aws-facts.md, "Across an
# Organization: StackSets, the artifacts bucket, the hub bus, the fleet role"; EventBridge User
# Guide, "Calculating PutEvents event entry size"). Taken as 256 KiB, as SNS's.
PUT_EVENTS_ENTRY_BYTES = 262_144

# -- the project's caps ----------------------------------------------------------------------------
# Findings per kind in the Plan task's result (11 kinds x 10 x ~1 KB at most: < 128 KiB).
PLAN_FINDINGS_PER_KIND = 10
# Unreachable pairs in the Verify task's result and its log line.
VERIFY_BROKEN_PAIRS = 50
# Findings listed in one SNS notice; each listed line at most NOTICE_LINE_CHARS.
NOTICE_FINDINGS = 100
NOTICE_LINE_CHARS = 1_000
# What a notice may weigh: AWS's limit less room for the message attributes (counted by SNS).
NOTICE_BYTES = SNS_MESSAGE_BYTES - 8_192
# What the hub's event for a notice may weigh (one PutEvents entry, measured as EventBridge
# does): the event EventBridge delivers is the entry plus its envelope (id, account, time,
# region, resources: under 1 KB), and the hub's rule hands it whole to an SNS topic and a log
# group, 256 KB each; the margin also keeps it under 256,000 bytes, should "KB" be decimal.
HUB_EVENT_BYTES = PUT_EVENTS_ENTRY_BYTES - 8_192
# Items of a list in one log line (a handler's ``extra=``); longer text values are cut.
LOG_LIST_ITEMS = 50
LOG_TEXT_CHARS = 8_000
# One finding's message or subject as a task result carries it (the ledger keeps it whole).
STATE_MESSAGE_CHARS = 500
STATE_SUBJECT_CHARS = 256
# One finding's message in the ledger (far under DynamoDB's item limit).
LEDGER_MESSAGE_BYTES = 16_384
# The mesh map a custom widget returns (functions/mesh_map): far under LAMBDA_RESPONSE_BYTES, a
# page a dashboard tile draws at once (about 2,500 route arrows of ~420 bytes); VPCs past it are
# counted, one too large to draw subnet by subnet is drawn Outpost by Outpost.
MESH_MAP_BYTES = 1024 * 1024
# Broken pairs, findings and undrawn routes listed under one VPC's picture; the rest are counted.
MESH_MAP_LISTED = 20
# How many hex digits of a SHA-256 stand for what was cut from a name or key.
NAME_HASH_CHARS = 10

# -- a task's error in the state ---------------------------------------------------------------
# A Catch puts a Lambda task's error in the state as {"Error": <errorType>, "Cause": <the Lambda
# error payload {errorMessage, errorType, requestId, stackTrace} as JSON text>}. Every handler's
# error (``lambda_kit.task``) keeps its class, its message (str) at most ERROR_MESSAGE_BYTES with
# an OutpostMeshError's " [subject=...]" whole, and the innermost frames of its stack trace (at
# most ERROR_FRAMES) that keep that error, measured by :func:`caught_error_bytes`, within
# TASK_ERROR_BYTES. Whatever was cut is in the function's log (one bounded line).
ERROR_MESSAGE_BYTES = 2_048
ERROR_FRAMES = 10
TASK_ERROR_BYTES = 3_072
# The ApplyRoutes Map's lanes: at most ApplyMaxConcurrency (template.yaml, MaxValue 40; an inline
# Map runs at most 40 iterations at once, docs/aws-facts.md, "Step Functions").
MAX_LANES = 40
# A failed lane ends with {"failed":true,"error":<its batch's error>} (statemachine, BatchFailed),
# a lane that applied everything with {"failed":false}.
LANE_FAILED_BYTES = len('{"failed":true,"error":}') + TASK_ERROR_BYTES  # 3,096
# The Map's result ($.applied): every lane failed, commas and brackets: 123,881 bytes.
APPLIED_BYTES = MAX_LANES * (LANE_FAILED_BYTES + 1) + 1
# What else BatchErrors' state holds: vpc_id, the lease (the execution's ARN, under 250
# characters), the keys, and the spaces moto's measure puts after ':' and ','.
STATE_FRAME_BYTES = 1_024
# What the Rollback task adds ($.rollback): the first failed batch's error as "<errorType>:
# <message>" (the message's JSON is part of that batch's Cause: at most TASK_ERROR_BYTES), the
# error's name, the keys.
ROLLBACK_RESULT_BYTES = TASK_ERROR_BYTES + 1_024
# BatchErrors' state is {vpc_id, lease, error: {"Error": "BatchFailed", "Cause":
# States.JsonToString($.applied)}}: the plan and the Map's result are not kept next to it.
# JsonToString's compact text is at most APPLIED_BYTES, and as a JSON string escaping each '"'
# and '\' at most doubles it: 2 x 123,881 + 2 + 1,024 = 248,788 bytes; with the Rollback's
# result (its state, and Failed's): 248,788 + 4,096 = 252,884 bytes, under STATE_BYTES
# (262,144) whatever the messages hold (an error text without quotes takes about 1.1x, not 2x).
# Before the Rollback, the Map's output is the state it started with (the plan's lanes, about 160
# bytes per batch) plus $.applied: bounded while that state stays under STATE_BYTES -
# APPLIED_BYTES = 138,263 bytes (about 800 batches).
BATCH_ERRORS_STATE_BYTES = 2 * APPLIED_BYTES + 2 + STATE_FRAME_BYTES + ROLLBACK_RESULT_BYTES
# A Lambda request id (a UUID) in the payload.
_REQUEST_ID = "00000000-0000-0000-0000-000000000000"

_CUT = "..."


def utf8_size(text: str) -> int:
    return len(text.encode("utf-8"))


def json_size(value: Any) -> int:
    """Bytes of ``value`` as compact UTF-8 JSON (how Step Functions measures a result)."""
    return utf8_size(json.dumps(value, separators=(",", ":"), ensure_ascii=False))


def status_command(vpc_id: str) -> str:
    """Where a person reads a VPC's findings and pairs whole."""
    return f"outpost-mesh status --vpc {vpc_id}"


def more(left_out: int, vpc_id: str) -> str:
    """``and 1,143 more: outpost-mesh status --vpc ID``."""
    return f"and {left_out:,} more: {status_command(vpc_id)}"


def caught_error_bytes(message: str, error_type: str, stack: Sequence[str]) -> int:
    """Bytes of the error a Catch puts in the state for a Lambda function error with this message,
    class name and stack trace: ``{"Error": error_type, "Cause": <the payload as JSON text>}``.

    The Cause is measured as AWS Lambda's Python runtime encodes the payload (its default JSON
    encoder: ASCII, spaces after ':' and ','), the larger of its form and moto's compact one."""
    payload = {
        "errorMessage": message,
        "errorType": error_type,
        "requestId": _REQUEST_ID,
        "stackTrace": list(stack),
    }
    return json_size({"Error": error_type, "Cause": json.dumps(payload)})


def clip(text: str, chars: int) -> str:
    """``text`` at most ``chars`` characters, a cut one ending in ``...``."""
    return text if len(text) <= chars else text[: max(0, chars - len(_CUT))] + _CUT


def clip_bytes(text: str, size: int, note: str = _CUT) -> str:
    """``text`` at most ``size`` UTF-8 bytes with ``note`` appended when cut (never mid-char)."""
    data = text.encode("utf-8")
    if len(data) <= size:
        return text
    room = max(0, size - utf8_size(note))
    return data[:room].decode("utf-8", errors="ignore") + note


def first(items: Iterable[T], limit: int) -> tuple[list[T], int]:
    """The first ``limit`` items, and how many were left out."""
    kept: list[T] = []
    left_out = 0
    for item in items:
        if len(kept) < limit:
            kept.append(item)
        else:
            left_out += 1
    return kept, left_out


def first_per_kind(items: Sequence[T], kind_of: Any, limit: int) -> tuple[list[T], dict[str, int]]:
    """The first ``limit`` items of each kind (in order), and per kind how many were left out."""
    kept: list[T] = []
    seen: dict[str, int] = {}
    left_out: dict[str, int] = {}
    for item in items:
        kind = str(kind_of(item))
        seen[kind] = seen.get(kind, 0) + 1
        if seen[kind] <= limit:
            kept.append(item)
        else:
            left_out[kind] = left_out.get(kind, 0) + 1
    return kept, left_out


def bounded_name(raw: str, limit: int = EXECUTION_NAME_MAX) -> str:
    """``raw`` if it fits in ``limit`` characters; else its head and a hash of all of it, so two
    names that differ only in what was cut stay different (docs/aws-facts.md, "Size limits")."""
    if len(raw) <= limit:
        return raw
    digest = hashlib.sha256(raw.encode("utf-8")).hexdigest()[:NAME_HASH_CHARS]
    return f"{raw[: limit - NAME_HASH_CHARS - 1]}-{digest}"
