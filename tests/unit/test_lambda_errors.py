"""An exception leaving a handler is bounded (rule 10; ``lambda_kit.bounded_error``): the same
class, a message of at most ERROR_MESSAGE_BYTES with an OutpostMeshError's subject kept, the
innermost frames of its stack, so that what a Catch puts in the state stays within
TASK_ERROR_BYTES; and 40 lanes of such errors through BatchErrors stay under 256 KiB, at far more
than 10x the size that broke it. The original is logged once, bounded.

Each handler is called as Lambda's runtime calls it, and its error turned into the payload the
runtime returns (the sandbox's ``error_payload``, which builds it as AWS's runtime does).
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import pytest
from pydantic import BaseModel

from outpost_mesh import lambda_kit
from outpost_mesh.errors import CaughtError, OutpostMeshError, RackNotUpdatedError
from outpost_mesh.limits import (
    BATCH_ERRORS_STATE_BYTES,
    ERROR_FRAMES,
    ERROR_MESSAGE_BYTES,
    LOG_EVENT_BYTES,
    LOG_TEXT_CHARS,
    MAX_LANES,
    STATE_BYTES,
    TASK_ERROR_BYTES,
    caught_error_bytes,
    utf8_size,
)
from outpost_mesh.service import ReconcileService
from outpost_mesh_sandbox.stack.lambda_runtime import FakeLambdaContext, error_payload

# A handler that fails emits no metric: Powertools warns of it.
pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")
ASL = Path(__file__).resolve().parents[2] / "statemachine" / "reconcile.asl.json"
MEGABYTE = 1_000_000
LGW = "lgw-0123456789abcdef0"
# What broke before: each failed lane carried its whole error (message and stack) into the state
# twice (the Map's result, and BatchErrors' JSON text of it), next to the plan.
EXECUTION_ARN = "arn:aws:states:us-east-1:123456789012:execution:outpost-mesh-Reconcile:" + "e" * 80


class Ask(BaseModel):
    pass


def services() -> ReconcileService:
    """The service a handler of this module gets (``lambda_kit.task`` reads this name)."""
    return cast(ReconcileService, None)


def handler_raising(make: Callable[[], Exception], depth: int = 0) -> lambda_kit.Handler:
    """A handler whose task raises ``make()``, ``depth`` calls deep."""

    def dive(level: int) -> None:
        if level > 0:
            dive(level - 1)
            return
        raise make()

    @lambda_kit.task(Ask, correlation_id_path=None)
    def fails(_task: Ask, _svc: ReconcileService) -> Ask:
        dive(depth)
        return Ask()

    return fails


def invoke(handler: lambda_kit.Handler) -> tuple[Exception, dict[str, Any]]:
    """What leaves the handler, and the payload Lambda's runtime makes of it (its stack starting
    at the handler, as under AWS's bootstrap)."""
    context = FakeLambdaContext("outpost-mesh-Test", "arn:aws:lambda:us-east-1:1:function:t")
    try:
        handler({}, context)
    except Exception as error:
        assert error.__traceback__ is not None
        error.with_traceback(error.__traceback__.tb_next)  # this frame is the runtime's
        return error, error_payload(error, context.aws_request_id)
    raise AssertionError("the handler did not raise")


def state_bytes(payload: dict[str, Any]) -> int:
    return caught_error_bytes(payload["errorMessage"], payload["errorType"], payload["stackTrace"])


# -- one task's error ---------------------------------------------------------------------------
def test_a_megabyte_message_is_cut_and_keeps_its_class_and_subject() -> None:
    raised, payload = invoke(
        handler_raising(
            lambda: RackNotUpdatedError("InvalidParameterValue: " + "x" * MEGABYTE, subject=LGW)
        )
    )
    assert type(raised) is RackNotUpdatedError
    assert utf8_size(str(raised)) <= ERROR_MESSAGE_BYTES
    assert str(raised).startswith("InvalidParameterValue: xxx")
    assert str(raised).endswith(f"... [subject={LGW}]")
    assert payload["errorType"] == "RackNotUpdatedError"
    assert state_bytes(payload) <= TASK_ERROR_BYTES
    caught = CaughtError.decode({"Error": "RackNotUpdatedError", "Cause": json.dumps(payload)})
    assert (caught.name, caught.subject) == ("RackNotUpdatedError", LGW)
    assert caught.kind == "rack-not-updated"


def test_a_deep_stack_keeps_its_innermost_frames() -> None:
    _raised, payload = invoke(handler_raising(lambda: RackNotUpdatedError("no", subject=LGW), 500))
    stack = payload["stackTrace"]
    assert len(stack) <= ERROR_FRAMES + 1  # and the handler's raising line
    assert "raise bounded_error(error)" in stack[0]
    assert "raise make()" in stack[-1]  # where it was raised
    assert state_bytes(payload) <= TASK_ERROR_BYTES


def test_a_short_error_leaves_as_it_was_raised() -> None:
    original = RackNotUpdatedError("InvalidParameterValue: rejected", subject=LGW)
    raised, payload = invoke(handler_raising(lambda: original, 2))
    assert raised is original
    assert str(raised) == f"InvalidParameterValue: rejected [subject={LGW}]"
    stack = payload["stackTrace"]  # every frame, from the handler's raising line down
    assert "raise bounded_error(error)" in stack[0] and "raise make()" in stack[-1]
    assert [line for line in stack if ", in dive\n" in line][:1] and (
        sum(", in dive\n" in line for line in stack) == 3
    )
    assert any(", in fails\n" in line for line in stack)


def test_the_payload_has_the_shape_aws_lambda_s_python_runtime_gives() -> None:
    """errorMessage, errorType, requestId, and stackTrace: one formatted frame per entry, each
    ending in a newline, without the column markers Python prints under a line."""
    raised, payload = invoke(handler_raising(lambda: KeyError("k"), 2))
    assert list(payload) == ["errorMessage", "errorType", "requestId", "stackTrace"]
    assert (payload["errorMessage"], payload["errorType"]) == (str(raised), "KeyError")
    assert all(line.startswith("  File ") and line.endswith("\n") for line in payload["stackTrace"])
    markers = [
        row
        for line in payload["stackTrace"]
        for row in line.splitlines()
        if set(row.strip()) <= set("~^")
    ]
    assert markers == []


@pytest.mark.parametrize(
    "make",
    [
        lambda: KeyError("k" * MEGABYTE),
        lambda: ValueError("é" * MEGABYTE),
        lambda: OutpostMeshError("quotes and breaks " + '"\\\n\x01' * MEGABYTE, subject=LGW),
    ],
    ids=["KeyError", "ValueError-non-ascii", "escapes-six-fold"],
)
def test_any_error_keeps_its_class_and_fits_the_state(make: Callable[[], Exception]) -> None:
    expected = type(make())
    raised, payload = invoke(handler_raising(make))
    assert type(raised) is expected
    assert utf8_size(str(raised)) <= ERROR_MESSAGE_BYTES
    assert payload["errorType"] == expected.__name__
    assert state_bytes(payload) <= TASK_ERROR_BYTES
    if isinstance(raised, OutpostMeshError):  # text JSON escapes six-fold: cut further
        assert str(raised).endswith(f"[subject={LGW}]")
        assert utf8_size(str(raised)) < ERROR_MESSAGE_BYTES // 2


class Loud(Exception):
    """An exception whose text does not come from its args (as pydantic's ValidationError)."""

    def __str__(self) -> str:
        return "loud " * MEGABYTE


def test_an_error_whose_text_ignores_its_args_keeps_its_name() -> None:
    raised, payload = invoke(handler_raising(Loud))
    assert type(raised).__name__ == "Loud"  # what Lambda and Step Functions know it by
    assert str(raised).startswith("loud loud")
    assert utf8_size(str(raised)) <= ERROR_MESSAGE_BYTES
    assert state_bytes(payload) <= TASK_ERROR_BYTES


def test_the_original_is_logged_once_and_bounded(log_lines: io.StringIO) -> None:
    invoke(handler_raising(lambda: RackNotUpdatedError("y" * MEGABYTE, subject=LGW), 3))
    records = [json.loads(line) for line in log_lines.getvalue().splitlines()]
    [failed] = [r for r in records if r.get("message") == "task failed"]
    assert failed["level"] == "ERROR" and failed["error_type"] == "RackNotUpdatedError"
    assert len(failed["error"]) <= LOG_TEXT_CHARS and failed["error"].startswith("yyy")
    assert "raise make()" in failed["stack"]
    assert all(utf8_size(line) < LOG_EVENT_BYTES // 8 for line in log_lines.getvalue().splitlines())


# -- every lane of ApplyRoutes failed -----------------------------------------------------------
def test_batch_errors_keeps_only_what_the_rollback_reads() -> None:
    """The state BatchErrors hands to Rollback holds the lanes' errors once, not the plan or the
    Map's result next to them: the shape ``batch_errors_state`` measures."""
    text = re.sub(r"\$\{\w+\}", "1", ASL.read_text(encoding="utf-8"))  # template parameters
    states = json.loads(text)["States"]
    batch_errors = states["BatchErrors"]
    assert "ResultPath" not in batch_errors and "OutputPath" not in batch_errors
    assert batch_errors["Parameters"] == {
        "vpc_id.$": "$.vpc_id",
        "lease.$": "$.lease",
        "error": {"Error": "BatchFailed", "Cause.$": "States.JsonToString($.applied)"},
    }
    assert batch_errors["Next"] == "Rollback"
    payload = states["Rollback"]["Parameters"]["Payload"]
    read = {v for k, v in payload.items() if k.endswith(".$") and v.startswith("$.")}
    assert read == {"$.vpc_id", "$.lease", "$.error"}
    assert states["Failed"]["ErrorPath"].startswith("$.rollback.")


def batch_errors_state(payloads: list[dict[str, Any]]) -> dict[str, Any]:
    """BatchErrors' state (statemachine) after every lane ended on its batch's error, each
    Cause the error payload as compact JSON (as moto's engine gives it)."""
    applied = [
        {
            "failed": True,
            "error": {
                "Error": p["errorType"],
                "Cause": json.dumps(p, separators=(",", ":")),
            },
        }
        for p in payloads
    ]
    return {
        "vpc_id": "vpc-0123456789abcdef0",
        "lease": {"claimed": True, "holder": EXECUTION_ARN, "seen": 12345},
        "error": {"Error": "BatchFailed", "Cause": json.dumps(applied, separators=(",", ":"))},
    }


def measured(state: dict[str, Any]) -> int:
    """The larger of AWS's compact measure and moto's (spaces after ':' and ',', ASCII)."""
    return max(utf8_size(json.dumps(state, separators=(",", ":"))), utf8_size(json.dumps(state)))


@pytest.mark.parametrize(
    "text", ["x" * MEGABYTE, '"\\' * MEGABYTE], ids=["megabyte", "megabyte-of-escapes"]
)
def test_forty_lanes_of_megabyte_errors_stay_under_256_kib(text: str) -> None:
    assert MAX_LANES * utf8_size(text) > 10 * STATE_BYTES
    payloads = [
        invoke(handler_raising(lambda i=i: RackNotUpdatedError(text, subject=f"lgw-{i}"), 30))[1]
        for i in range(MAX_LANES)
    ]
    state = batch_errors_state(payloads)
    assert measured(state) <= BATCH_ERRORS_STATE_BYTES < STATE_BYTES
    first = CaughtError.decode(state["error"])  # what the Rollback reports
    assert (first.name, first.subject) == ("RackNotUpdatedError", "lgw-0")
