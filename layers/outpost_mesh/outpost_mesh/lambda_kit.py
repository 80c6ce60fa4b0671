"""What every Lambda handler shares: Powertools observability objects, the reconcile service,
and ``task``, the one decorator that makes a handler of a function over its input model.

Created once per container (module scope) and imported by the thin handlers in functions/.
"""

from __future__ import annotations

import functools
import importlib.util
import linecache
import logging
import sys
import traceback
from collections.abc import Callable, Iterable
from types import FrameType, TracebackType
from typing import Any, TypeVar, cast

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ValidationError

from outpost_mesh.errors import MalformedInputError, OutpostMeshError
from outpost_mesh.limits import (
    ERROR_FRAMES,
    ERROR_MESSAGE_BYTES,
    LOG_LIST_ITEMS,
    LOG_TEXT_CHARS,
    STATE_SUBJECT_CHARS,
    TASK_ERROR_BYTES,
    bounded_name,
    caught_error_bytes,
    clip,
    clip_bytes,
    first,
    utf8_size,
)
from outpost_mesh.service import ReconcileService
from outpost_mesh.settings import Settings

F = TypeVar("F", bound=Callable[..., Any])


def _has_xray_sdk() -> bool:
    try:
        return importlib.util.find_spec("aws_xray_sdk") is not None
    except (ImportError, ValueError):
        return False


class _Tracing:
    """Powertools' Tracer when the X-Ray SDK is there, else a pass-through.

    The layer ships without aws-xray-sdk (it would bring a second botocore, and its import costs
    ~365 ms of cold start, docs/aws-facts.md); the functions still get X-Ray segments from
    ``Tracing: Active``. Add the SDK to the layer to get Powertools subsegments too.
    """

    def __init__(self) -> None:
        self.tracer = Tracer() if _has_xray_sdk() else None

    def capture_lambda_handler(self, handler: F) -> F:
        if self.tracer is None:
            return handler
        return cast(F, self.tracer.capture_lambda_handler(handler))


class CappedLists(logging.Filter):
    """Bounds every log line whatever the VPC's size (rule 10; docs/aws-facts.md, "Size limits":
    a CloudWatch Logs event is at most 256 KB): a list or tuple in a line's ``extra=`` keeps its
    first ``LOG_LIST_ITEMS`` items and ``<name>_not_logged`` counts the rest; a longer text value
    is cut to ``LOG_TEXT_CHARS``."""

    _STANDARD = frozenset(vars(logging.makeLogRecord({})))

    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in list(vars(record).items()):
            if name in self._STANDARD:
                continue
            if isinstance(value, list | tuple) and len(value) > LOG_LIST_ITEMS:
                kept, left_out = first(value, LOG_LIST_ITEMS)
                setattr(record, name, kept)
                setattr(record, f"{name}_not_logged", left_out)
            elif isinstance(value, str):
                setattr(record, name, clip(value, LOG_TEXT_CHARS))
        if isinstance(record.msg, str):
            record.msg = clip(record.msg, LOG_TEXT_CHARS)
        return True


logger = Logger()
# Every line through the JSON handler, the core's too, is bounded.
logger.registered_handler.addFilter(CappedLists())
# The core (outpost_mesh.*: apply, workflow) logs with plain ``logging``, free of Powertools: its
# lines go through this logger's JSON handler, with the same keys (vpc_id, correlation_id).
logging.getLogger("outpost_mesh")
copy_config_to_registered_loggers(source_logger=logger, include={"outpost_mesh"})
metrics = Metrics()
tracer = _Tracing()


def count(name: str, value: float, unit: MetricUnit = MetricUnit.Count) -> None:
    """One EMF metric in the OutpostMesh namespace; the only dimension is the service name, so
    the cost stays the same however many VPCs are managed."""
    metrics.add_metric(name=name, unit=unit, value=value)


M = TypeVar("M", bound=BaseModel)


def parse_input(event: object, model: type[M]) -> M:
    """Validate a handler's input; a misfit is rejected with one clear, logged reason."""
    if not isinstance(event, dict):
        reason = f"expected a JSON object, got {type(event).__name__}"
    else:
        try:
            return parse(event=event, model=model)  # Powertools parser (pydantic v2)
        except ValidationError as error:
            first = error.errors()[:3]
            reason = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}" for e in first
            )
    logger.warning("rejected input", extra={"model": model.__name__, "reason": reason[:500]})
    raise MalformedInputError(f"rejected {model.__name__}: {reason}"[:1000])


@functools.cache
def services() -> ReconcileService:
    """The container's service: settings validated once per cold start, clients made on first
    use. A bad setting fails here with one line naming its variable."""
    return ReconcileService(Settings.from_env())


Handler = Callable[[Any, LambdaContext], dict[str, Any]]

# Tries at cutting an exception's args until its str() fits (a KeyError's str quotes its key).
_CUT_TRIES = 4


def _text(error: Exception) -> str:
    """What an error says, without an OutpostMeshError's subject (its one text argument when it
    has one: a KeyError's str() is the repr of it)."""
    if isinstance(error, OutpostMeshError):
        return error.message
    if len(error.args) == 1 and isinstance(error.args[0], str):
        return error.args[0]
    return str(error)


def _with_message(error: Exception, text: str, size: int) -> Exception:
    """``error`` saying ``text`` cut so that its str() is at most ``size`` UTF-8 bytes (as near
    as a text of a few bytes allows).

    An OutpostMeshError keeps its " [subject=...]" whole after the cut message
    (``errors.CaughtError.decode`` reads the subject back); a subject longer than half of
    ERROR_MESSAGE_BYTES, which no AWS id is, keeps its head and a hash. Any other exception
    keeps its class when its str() shows its args, as most do; else (pydantic's ValidationError
    builds its text from its errors) a stand-in of the same name says it: Lambda and Step
    Functions know an error by its class name only.
    """
    if isinstance(error, OutpostMeshError):
        if error.subject and utf8_size(f" [subject={error.subject}]") > ERROR_MESSAGE_BYTES // 2:
            error.subject = bounded_name(error.subject, STATE_SUBJECT_CHARS)
        suffix = utf8_size(f" [subject={error.subject}]") if error.subject else 0
        error.message = clip_bytes(text, max(0, size - suffix))
        error.args = (error.message,)
        return error
    room = size
    for _ in range(_CUT_TRIES):
        cut = clip_bytes(text, room)
        error.args = (cut,)
        said = str(error)
        if cut not in said:
            break
        shown = utf8_size(said)
        if shown <= size or room == 0:
            return error
        room = max(0, min(room - (shown - size), room * size // shown))
    cls = type(error)
    stand_in: type[Exception] = type(cls.__name__, (Exception,), {"__module__": cls.__module__})
    return stand_in(clip_bytes(text, size)).with_traceback(error.__traceback__)


def _frame_lines(frames: Iterable[tuple[FrameType, int]]) -> list[str]:
    """(frame, line) pairs as the ``stackTrace`` of Lambda's Python runtime lists them:
    ``format_list`` of (file, line, function, text) tuples (awslambdaric, bootstrap.py,
    ``handle_event_request``), without the column markers a FrameSummary would add."""
    tuples = []
    for frame, line in frames:
        file = frame.f_code.co_filename
        tuples.append((file, line, frame.f_code.co_name, linecache.getline(file, line).strip()))
    return traceback.format_list(tuples)


def bounded_error(error: Exception) -> Exception:
    """``error`` as it may leave a handler, so that the error a Catch puts in the state stays
    within TASK_ERROR_BYTES (rule 10; ``limits.caught_error_bytes``) however long its message or
    deep its stack: the same class (Lambda's ``errorType``, which Retry and Catch match), its
    message at most ERROR_MESSAGE_BYTES (an OutpostMeshError's subject kept whole), and of its
    traceback the innermost frames that fit, at most ERROR_FRAMES (the frames where it was
    raised are the ones that matter). A message is cut further only when even no frame leaves
    it room (text that JSON escapes several times over). An error that fits is left as it is.

    Call it in the raise statement, ``raise bounded_error(error)``, of the outermost frame under
    Lambda's runtime: the raising line, which Python adds to the traceback, is counted; the
    frame's own entry from before the raise is left out (it would be listed twice).
    """
    caller = sys._getframe(1)
    raising = _frame_lines([(caller, caller.f_lineno)])
    entries: list[TracebackType] = []
    tb = error.__traceback__
    while tb is not None:
        if tb.tb_frame is not caller:
            entries.append(tb)
        tb = tb.tb_next
    entries = entries[-ERROR_FRAMES:]
    below = _frame_lines((tb.tb_frame, tb.tb_lineno) for tb in entries)
    text = _text(error)
    if utf8_size(str(error)) > ERROR_MESSAGE_BYTES:
        error = _with_message(error, text, ERROR_MESSAGE_BYTES)
    name = type(error).__name__

    def size(kept: int) -> int:
        return caught_error_bytes(str(error), name, raising + below[len(below) - kept :])

    kept = len(below)
    while kept and size(kept) > TASK_ERROR_BYTES:
        kept -= 1
    if size(0) > TASK_ERROR_BYTES:  # the most text that fits, by bisection
        low, high = 0, min(utf8_size(text), ERROR_MESSAGE_BYTES)
        while low < high:
            middle = (low + high + 1) // 2
            error = _with_message(error, text, middle)
            low, high = (middle, high) if size(0) <= TASK_ERROR_BYTES else (low, middle - 1)
        error = _with_message(error, text, low)
    return error.with_traceback(entries[len(entries) - kept] if kept else None)


def task(
    model: type[M], *, correlation_id_path: str | None = "execution_name"
) -> Callable[[Callable[[M, ReconcileService], BaseModel]], Handler]:
    """Make a Lambda handler of ``fn(parsed_input, service) -> output model``: Powertools'
    logging (correlation id from the input), metrics and tracing around it, the input parsed
    into ``model`` (a misfit is rejected with one clear reason), the output dumped to JSON. An
    exception leaves it logged whole (one bounded line) and bounded (:func:`bounded_error`).

    The service comes from the handler module's ``services`` (this module's by default): the
    sandbox gives each of its functions its own by setting that name on the module.
    """

    def decorate(fn: Callable[[M, ReconcileService], BaseModel]) -> Handler:
        module = fn.__globals__

        @logger.inject_lambda_context(correlation_id_path=correlation_id_path)
        @metrics.log_metrics
        @tracer.capture_lambda_handler
        @functools.wraps(fn)
        def observed(event: Any, context: LambdaContext) -> dict[str, Any]:
            parsed = parse_input(event, model)
            result = fn(parsed, module.get("services", services)())
            return result.model_dump(mode="json", by_alias=True, exclude_none=True)

        @functools.wraps(fn)
        def handler(event: Any, context: LambdaContext) -> dict[str, Any]:
            try:
                result: dict[str, Any] = observed(event, context)
            except Exception as error:
                # Whole in the log (one line, cut by CappedLists); bounded to Step Functions.
                logger.error(
                    "task failed",
                    extra={
                        "error_type": type(error).__name__,
                        "error": str(error),
                        "stack": "".join(_frame_lines(traceback.walk_tb(error.__traceback__))),
                    },
                )
                raise bounded_error(error) from None
            return result

        return handler

    return decorate
