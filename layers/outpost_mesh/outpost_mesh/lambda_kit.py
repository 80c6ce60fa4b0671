"""What every Lambda handler shares: Powertools observability objects, the reconcile service,
and ``task``, the one decorator that makes a handler of a function over its input model.

Created once per container (module scope) and imported by the thin handlers in functions/.
"""

from __future__ import annotations

import functools
import importlib.util
import logging
from collections.abc import Callable
from typing import Any, TypeVar, cast

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ValidationError

from outpost_mesh.errors import MalformedInputError
from outpost_mesh.limits import LOG_LIST_ITEMS, LOG_TEXT_CHARS, clip, first
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


def task(
    model: type[M], *, correlation_id_path: str | None = "execution_name"
) -> Callable[[Callable[[M, ReconcileService], BaseModel]], Handler]:
    """Make a Lambda handler of ``fn(parsed_input, service) -> output model``: Powertools'
    logging (correlation id from the input), metrics and tracing around it, the input parsed
    into ``model`` (a misfit is rejected with one clear reason), the output dumped to JSON.

    The service comes from the handler module's ``services`` (this module's by default): the
    sandbox gives each of its functions its own by setting that name on the module.
    """

    def decorate(fn: Callable[[M, ReconcileService], BaseModel]) -> Handler:
        module = fn.__globals__

        @logger.inject_lambda_context(correlation_id_path=correlation_id_path)
        @metrics.log_metrics
        @tracer.capture_lambda_handler
        @functools.wraps(fn)
        def handler(event: Any, context: LambdaContext) -> dict[str, Any]:
            parsed = parse_input(event, model)
            result = fn(parsed, module.get("services", services)())
            return result.model_dump(mode="json", by_alias=True, exclude_none=True)

        return handler

    return decorate
