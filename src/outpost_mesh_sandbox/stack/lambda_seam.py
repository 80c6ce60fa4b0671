"""Run the project's Lambda handlers in-process when the sandbox's Lambda is invoked.

moto's Step Functions engine runs ``arn:aws:states:::lambda:invoke`` tasks by calling Lambda's
Invoke API on the moto server. Without Docker, moto's "simple" Lambda backend
(``{"lambda": {"use_docker": False}}``) answers every invoke with its own payload and never runs
code; :mod:`outpost_mesh_sandbox.aws.lambda_service` lets one handler in this process answer
instead, and :class:`LambdaSeam` is that handler: an invoke of a function it deployed runs the
project's real handler (``functions/<dir>/app.py``, imported by path under a unique module name)
with a fake ``LambdaContext``, and answers exactly as AWS Lambda does:

* success: HTTP 200, the handler's return value as JSON;
* a raised exception: HTTP 200 with header ``X-Amz-Function-Error: Unhandled`` and the payload
  ``{"errorMessage": str(exc), "errorType": <class name>, "requestId": ..., "stackTrace": [...]}``
  (the Python runtime's shape). moto's engine then fails the task with ``Error`` = the payload's
  ``errorType`` and ``Cause`` = the payload as compact JSON
  (``moto/stepfunctions/parser/asl/component/state/exec/state_task/service/
  state_task_service_lambda.py``, ``_from_error``), which is what AWS Step Functions does, so
  Retry/Catch on ``ThrottledError`` or ``RackNotUpdatedError`` behave as deployed.

Configuration without process-global environment variables: each function's environment (from
template.yaml, resolved for the sandbox) is parsed by ``Settings.from_env(env)`` and its boto3
clients are made from a session that points at the sandbox with the pipeline's access key, so the
sandbox counts the pipeline's calls. Each deployed function gets one ``ReconcileService`` (one
warm container), given to its handler module through the ``services`` name that
``outpost_mesh.lambda_kit.task`` reads; invocations may run concurrently (Map iterations), as on
AWS. Its ledger reads "now" from the seam's ``ledger_clock`` when one is given (the sandbox's AWS
time: quarantines and leases expire when the demo runner's clock moves on), else real time. What
a handler prints (Powertools' EMF metrics) and logs goes to the seam's log sink, as Lambda sends
it to CloudWatch Logs.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from outpost_mesh_sandbox.aws import lambda_service, patches
from outpost_mesh_sandbox.aws.identities import PIPELINE_ACCESS_KEY
from outpost_mesh_sandbox.stack.lambda_runtime import (
    FakeLambdaContext,
    FunctionBinding,
    Invocation,
    LogSink,
    SandboxSession,
    error_payload,
    load_handler_module,
    trust_policy,
    zip_dir,
)

__all__ = ["LambdaSeam"]

ROLE_NAME = "outpost-mesh-sandbox-functions"


class LambdaSeam:
    """Deploys the stack's functions in the sandbox's Lambda and answers their invokes in-process.

    >>> seam = LambdaSeam(sandbox.endpoint_url, region, account)          # doctest: +SKIP
    >>> seam.deploy(lambda_client, iam_client, functions, root)            # doctest: +SKIP
    >>> with seam.installed(): ...                                          # doctest: +SKIP
    """

    def __init__(
        self,
        endpoint_url: str,
        region: str,
        account: str,
        *,
        function_prefix: str = "outpost-mesh",
        log_copy_to: Any = None,
        ledger_clock: Callable[[], float] | None = None,
        access_key: str = PIPELINE_ACCESS_KEY,
    ) -> None:
        """``access_key``: the functions' credentials (the pipeline's, in ``account``)."""
        self.endpoint_url = endpoint_url
        self.access_key = access_key
        self.ledger_clock = ledger_clock
        self.region = region
        self.account = account
        self.function_prefix = function_prefix
        self.bindings: dict[str, FunctionBinding] = {}  # by function name
        self.by_logical_id: dict[str, FunctionBinding] = {}
        self.logs = LogSink(copy_to=log_copy_to)
        self.invocations: list[Invocation] = []
        self._lock = threading.Lock()
        self._saved_streams: list[tuple[logging.Handler, Any]] = []
        self._engine_logging: tuple[logging.Logger, bool, logging.Handler] | None = None
        self._saved_metrics: tuple[Any, Any, Any] | None = None

    # -- deployment --------------------------------------------------------------------------
    def deploy(
        self,
        lambda_client: Any,
        iam_client: Any,
        functions: Mapping[str, Any],
        root: Path,
        env_overrides: Mapping[str, str] | None = None,
    ) -> dict[str, str]:
        """Create every function (template FunctionDefs) in moto's Lambda; logical id -> ARN.

        The zip holds the handler file (moto stores it; the seam runs the file from ``root``).
        """
        try:
            role_arn = iam_client.create_role(
                RoleName=ROLE_NAME, AssumeRolePolicyDocument=trust_policy("lambda.amazonaws.com")
            )["Role"]["Arn"]
        except iam_client.exceptions.EntityAlreadyExistsException:
            role_arn = iam_client.get_role(RoleName=ROLE_NAME)["Role"]["Arn"]
        arns: dict[str, str] = {}
        for logical_id, fn in functions.items():
            code_dir = (root / fn.code_uri).resolve()
            module = load_handler_module(code_dir, fn.handler)
            name = f"{self.function_prefix}-{logical_id}"[:64]
            env = dict(fn.environment)
            env.update(env_overrides or {})
            created = lambda_client.create_function(
                FunctionName=name,
                Runtime=fn.runtime,
                Role=role_arn,
                Handler=fn.handler,
                Code={"ZipFile": zip_dir(code_dir)},
                Timeout=fn.timeout,
                MemorySize=fn.memory,
                Environment={"Variables": env},
            )
            binding = FunctionBinding(
                logical_id=logical_id,
                name=name,
                arn=created["FunctionArn"],
                code_dir=code_dir,
                handler_name=fn.handler,
                environment=env,
                memory=fn.memory,
                timeout=fn.timeout,
                module=module,
            )
            self.bindings[name] = binding
            self.by_logical_id[logical_id] = binding
            arns[logical_id] = binding.arn
        return arns

    def set_environment(self, logical_id: str, **values: str) -> None:
        """Change a deployed function's environment (before its first invoke)."""
        binding = self.by_logical_id[logical_id]
        binding.environment.update(values)
        binding.services = None

    # -- answering the sandbox's invokes ----------------------------------------------------
    def install(self) -> None:
        """Answer the sandbox Lambda's invokes of this seam's functions from now on."""
        patches.install()
        # one seam answers at a time per account (moto's backends are process-wide)
        lambda_service.set_invoke_handler(self, self.account)
        self._redirect_logs()
        warnings.filterwarnings("ignore", message="No application metrics to publish")

    def uninstall(self) -> None:
        if lambda_service.invoke_handler(self.account) is self:
            lambda_service.set_invoke_handler(None, self.account)
        if self._engine_logging is not None:
            engine, propagate, sink_handler = self._engine_logging
            engine.removeHandler(sink_handler)
            engine.propagate = propagate
            self._engine_logging = None
        if self._saved_metrics is not None:
            metrics, namespace, service = self._saved_metrics
            metrics.namespace, metrics.service = namespace, service
            self._saved_metrics = None
        for handler, stream in self._saved_streams:
            if isinstance(handler, logging.StreamHandler):
                handler.setStream(stream)
        self._saved_streams.clear()

    def _redirect_logs(self) -> None:
        # moto's Step Functions engine logs every failed state at ERROR with no handler of its
        # own (Python's last-resort handler prints it to stderr): keep it with the handlers' logs.
        engine = logging.getLogger("moto.stepfunctions.parser")
        sink_handler = logging.StreamHandler(self.logs)
        self._engine_logging = (engine, engine.propagate, sink_handler)
        engine.addHandler(sink_handler)
        engine.propagate = False
        try:
            from outpost_mesh import lambda_kit
        except ImportError:  # pragma: no cover - the layer is always importable here
            return
        handler = lambda_kit.logger.registered_handler
        if isinstance(handler, logging.StreamHandler):
            self._saved_streams.append((handler, handler.stream))
            handler.setStream(self.logs)
        self._redirect_metrics(lambda_kit.metrics)

    def _redirect_metrics(self, metrics: Any) -> None:
        """Give Powertools' shared ``Metrics`` the namespace and service the functions'
        environment names (it was built from this process's environment, which has none). Its
        EMF lines reach the sink as a function's stdout (:meth:`run`)."""
        env = next(iter(self.bindings.values())).environment if self.bindings else {}
        self._saved_metrics = (metrics, metrics.namespace, metrics.service)
        if metrics.namespace is None:
            metrics.namespace = env.get("POWERTOOLS_METRICS_NAMESPACE", "OutpostMesh")
        if metrics.service is None:
            metrics.service = env.get("POWERTOOLS_SERVICE_NAME", "outpost-mesh")

    def binding_for(self, function_name: str) -> FunctionBinding | None:
        name = function_name
        if name.startswith("arn:"):
            parts = name.split(":")
            name = parts[6] if len(parts) > 6 else name
        else:
            name = name.split(":", 1)[0]
        return self.bindings.get(name)

    # -- invoking ----------------------------------------------------------------------------
    def _services(self, binding: FunctionBinding) -> Any:
        with self._lock:
            if binding.services is None:
                from outpost_mesh.ledger import LedgerStore
                from outpost_mesh.service import ReconcileService
                from outpost_mesh.settings import Settings

                session = SandboxSession(self.endpoint_url, self.region, self.access_key)
                settings = Settings.from_env(binding.environment)
                store = None
                if self.ledger_clock is not None:
                    dynamodb = session.client("dynamodb")
                    store = LedgerStore(dynamodb, settings.table, clock=self.ledger_clock)
                binding.services = ReconcileService(settings, session, store=store)
                # The handler modules call lambda_kit.services(): give this function its own.
                # A module is imported once and shared by every account's stack deploying that
                # function, so the services are the invoked binding's (:meth:`run` sets them).
                vars(binding.module)["services"] = _invoked_services
            return binding.services

    def run(self, binding: FunctionBinding, event: Any) -> Invocation:
        """Call the handler as Lambda would; an exception becomes Lambda's error payload."""
        self._services(binding)
        context = FakeLambdaContext(
            function_name=binding.name,
            invoked_function_arn=binding.arn,
            memory_limit_in_mb=binding.memory,
            timeout_seconds=binding.timeout,
        )
        started = time.monotonic()
        try:
            with invoked_as(binding), lambda_service.function_output(self.logs):
                result = binding.handler(event, context)  # Lambda: stdout -> its log
        except Exception as exc:
            payload = error_payload(exc, context.aws_request_id)
            invocation = Invocation(
                binding.logical_id,
                context.aws_request_id,
                payload,
                error_type=payload["errorType"],
                error_message=payload["errorMessage"],
                seconds=time.monotonic() - started,
            )
        else:
            invocation = Invocation(
                binding.logical_id,
                context.aws_request_id,
                result,
                seconds=time.monotonic() - started,
            )
        with self._lock:
            self.invocations.append(invocation)
        return invocation

    def invoke(self, logical_id: str, event: Any) -> Invocation:
        """Invoke a function directly (as EventBridge would), in this thread."""
        return self.run(self.by_logical_id[logical_id], event)

    def answer_invoke(
        self, binding: FunctionBinding, body: Any, response_headers: dict[str, str]
    ) -> bytes:
        """What the Invoke API returns for a synchronous invoke of ``binding``."""
        if isinstance(body, bytes):
            body = body.decode("utf-8")
        event = json.loads(body) if body else {}
        invocation = self.run(binding, event)
        if not invocation.ok:
            response_headers["x-amz-function-error"] = "Unhandled"
        response_headers["x-amz-executed-version"] = "$LATEST"
        return json.dumps(invocation.payload, default=str).encode("utf-8")


#: The services of the binding being invoked in this thread (:meth:`LambdaSeam.run`).
_INVOKED: contextvars.ContextVar[Any] = contextvars.ContextVar("outpost_mesh_invoked_services")


def _invoked_services() -> Any:
    return _INVOKED.get()


@contextlib.contextmanager
def invoked_as(binding: FunctionBinding) -> Iterator[None]:
    """Calls of ``binding``'s handler in this block use its services (what :meth:`LambdaSeam.run`
    does around each invoke; for a caller that calls a handler itself)."""
    token = _INVOKED.set(binding.services)
    try:
        yield
    finally:
        _INVOKED.reset(token)
