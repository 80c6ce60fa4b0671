"""Run the project's Lambda handlers in-process when moto's Lambda is invoked.

moto's Step Functions engine runs ``arn:aws:states:::lambda:invoke`` tasks by calling Lambda's
Invoke API on the moto server. Without Docker, moto's "simple" Lambda backend
(``{"lambda": {"use_docker": False}}``) answers every invoke with its own payload and never runs
code. This seam patches that backend's ``invoke``: an invoke of a function the seam deployed runs
the project's real handler (``functions/<dir>/app.py``, imported by path under a unique module
name) with a fake ``LambdaContext``, and answers exactly as AWS Lambda does:

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
sandbox counts the pipeline's calls. Each deployed function gets one ``Services`` (one warm
container); invocations may run concurrently (Map iterations), as on AWS.
"""

from __future__ import annotations

import importlib.util
import io
import json
import logging
import sys
import threading
import time
import traceback
import uuid
import warnings
import zipfile
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
from botocore.config import Config

from outpost_mesh_sandbox.identities import PIPELINE_ACCESS_KEY, SECRET_KEY

__all__ = [
    "FakeLambdaContext",
    "FunctionBinding",
    "Invocation",
    "LambdaSeam",
    "SandboxSession",
    "error_payload",
]

ROLE_NAME = "outpost-mesh-sandbox-functions"
_ASSUME_ROLE = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)
_PATCH_MARK = "_outpost_mesh_seam"
NO_RETRIES = Config(retries={"total_max_attempts": 1, "mode": "standard"})


class SandboxSession:
    """What ``Services`` needs of a boto3 session (``.client(name)``), bound to the sandbox.

    Every client gets the sandbox's endpoint and the given access key: the equivalent of a
    Lambda's ``AWS_ENDPOINT_URL`` and credentials, without touching ``os.environ``.
    botocore's own retries are off (as for every sandbox client): a scenario's ``fail`` step
    injects exactly ``times`` errors and the workflow's Retry/Catch on the project's typed errors
    (ThrottledError...) handle them, in milliseconds instead of botocore's random back-off.
    """

    def __init__(
        self, endpoint_url: str, region: str, access_key: str = PIPELINE_ACCESS_KEY
    ) -> None:
        self.endpoint_url = endpoint_url
        self.region_name = region
        session, self._lock = _shared_session(access_key, region)
        self._session: Any = session

    def client(self, service: str, **kwargs: Any) -> Any:
        kwargs.setdefault("endpoint_url", self.endpoint_url)
        kwargs.setdefault("config", NO_RETRIES)
        with self._lock:  # boto3 sessions are not thread-safe; clients are
            return self._session.client(service, **kwargs)


_SESSIONS: dict[tuple[str, str], tuple[boto3.session.Session, threading.Lock]] = {}
_SESSIONS_LOCK = threading.Lock()


def _shared_session(access_key: str, region: str) -> tuple[boto3.session.Session, threading.Lock]:
    """One boto3 session per identity and region in this process: its loader keeps the service
    models it parsed, so a function's first client costs milliseconds, not a cold start."""
    with _SESSIONS_LOCK:
        key = (access_key, region)
        if key not in _SESSIONS:
            session = boto3.session.Session(
                aws_access_key_id=access_key,
                aws_secret_access_key=SECRET_KEY,
                region_name=region,
            )
            _SESSIONS[key] = (session, threading.Lock())
        return _SESSIONS[key]


@dataclass
class FakeLambdaContext:
    """The attributes of AWS's ``LambdaContext`` that handlers and Powertools read."""

    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int = 512
    timeout_seconds: int = 60
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = ""
    log_stream_name: str = ""
    identity: Any = None
    client_context: Any = None
    _started: float = field(default_factory=time.monotonic, repr=False)

    def __post_init__(self) -> None:
        if not self.log_group_name:
            self.log_group_name = f"/aws/lambda/{self.function_name}"
        if not self.log_stream_name:
            day = time.strftime("%Y/%m/%d", time.gmtime())
            self.log_stream_name = f"{day}/[$LATEST]{uuid.uuid4().hex}"

    def get_remaining_time_in_millis(self) -> int:
        left = self.timeout_seconds - (time.monotonic() - self._started)
        return max(0, int(left * 1000))


def error_payload(exc: BaseException, request_id: str) -> dict[str, Any]:
    """The payload AWS Lambda's Python runtime returns for an unhandled exception."""
    return {
        "errorMessage": str(exc),
        "errorType": type(exc).__name__,
        "requestId": request_id,
        "stackTrace": [
            line.rstrip("\n")
            for line in traceback.format_list(traceback.extract_tb(exc.__traceback__))
        ],
    }


@dataclass(frozen=True)
class Invocation:
    """One invocation's outcome: ``payload`` is the result, or the error payload."""

    function: str
    request_id: str
    payload: Any
    error_type: str = ""
    error_message: str = ""
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.error_type


@dataclass
class FunctionBinding:
    """A function deployed in the sandbox and the handler that answers its invokes."""

    logical_id: str
    name: str
    arn: str
    code_dir: Path
    handler_name: str
    environment: dict[str, str]
    memory: int
    timeout: int
    module: ModuleType
    services: Any = None

    @property
    def handler(self) -> Callable[[dict[str, Any], Any], Any]:
        attr = self.handler_name.rsplit(".", 1)[-1]
        fn: Callable[[dict[str, Any], Any], Any] = getattr(self.module, attr)
        return fn


class _LogSink(io.TextIOBase):
    """Where the handlers' Powertools logs go: the last lines kept in memory (and optionally
    copied to a stream), so ``--json`` keeps stdout for the report alone."""

    def __init__(self, keep: int = 2000, copy_to: Any = None) -> None:
        self.lines: deque[str] = deque(maxlen=keep)
        self.copy_to = copy_to
        self._lock = threading.Lock()

    def write(self, text: str) -> int:
        with self._lock:
            for line in text.splitlines():
                if line.strip():
                    self.lines.append(line)
            if self.copy_to is not None:
                self.copy_to.write(text)
        return len(text)

    def writable(self) -> bool:
        return True


_MODULES: dict[Path, ModuleType] = {}
_IMPORT_LOCK = threading.Lock()
_ACTIVE_LOCK = threading.Lock()


class _Active:
    """The seam whose functions answer invokes now (one at a time per process)."""

    seam: LambdaSeam | None = None


def load_handler_module(code_dir: Path, handler: str) -> ModuleType:
    """Import ``<code_dir>/<module>.py`` by path, once, under a unique module name."""
    module_file = code_dir / (handler.rsplit(".", 1)[0].replace(".", "/") + ".py")
    key = module_file.resolve()
    with _IMPORT_LOCK:
        if key in _MODULES:
            return _MODULES[key]
        name = f"outpost_mesh_function_{code_dir.name}_{module_file.stem}"
        spec = importlib.util.spec_from_file_location(name, module_file)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot import a handler from {module_file}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[name]
            raise
        _MODULES[key] = module
        return module


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
    ) -> None:
        self.endpoint_url = endpoint_url
        self.region = region
        self.account = account
        self.function_prefix = function_prefix
        self.bindings: dict[str, FunctionBinding] = {}  # by function name
        self.by_logical_id: dict[str, FunctionBinding] = {}
        self.logs = _LogSink(copy_to=log_copy_to)
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
                RoleName=ROLE_NAME, AssumeRolePolicyDocument=_ASSUME_ROLE
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
                Code={"ZipFile": _zip_dir(code_dir)},
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

    # -- patching moto -----------------------------------------------------------------------
    def install(self) -> None:
        """Route moto's simple-Lambda invokes of this seam's functions to their handlers."""
        _patch_moto()
        with _ACTIVE_LOCK:
            _Active.seam = self
        self._redirect_logs()
        warnings.filterwarnings("ignore", message="No application metrics to publish")

    def uninstall(self) -> None:
        with _ACTIVE_LOCK:
            if _Active.seam is self:
                _Active.seam = None
        if self._engine_logging is not None:
            engine, propagate, sink_handler = self._engine_logging
            engine.removeHandler(sink_handler)
            engine.propagate = propagate
            self._engine_logging = None
        if self._saved_metrics is not None:
            from aws_lambda_powertools.metrics.provider.cloudwatch_emf import cloudwatch

            metrics, namespace, service = self._saved_metrics
            metrics.namespace, metrics.service = namespace, service
            if "print" in vars(cloudwatch):
                del cloudwatch.print  # type: ignore[attr-defined]
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
        """Powertools Metrics prints EMF to stdout (CloudWatch Logs in Lambda): print it into the
        sink instead, and give it the namespace the functions' environment names (the shared
        ``Metrics`` object was built from this process's environment, which has none)."""
        from aws_lambda_powertools.metrics.provider.cloudwatch_emf import cloudwatch

        env = next(iter(self.bindings.values())).environment if self.bindings else {}
        self._saved_metrics = (metrics, metrics.namespace, metrics.service)
        if metrics.namespace is None:
            metrics.namespace = env.get("POWERTOOLS_METRICS_NAMESPACE", "OutpostMesh")
        if metrics.service is None:
            metrics.service = env.get("POWERTOOLS_SERVICE_NAME", "outpost-mesh")
        sink = self.logs

        def emf_print(*args: Any, **kwargs: Any) -> None:
            kwargs.pop("file", None)
            print(*args, file=sink, **kwargs)

        cloudwatch.print = emf_print  # type: ignore[attr-defined]

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
                from outpost_mesh.service import ReconcileService
                from outpost_mesh.settings import Settings

                session = SandboxSession(self.endpoint_url, self.region)
                settings = Settings.from_env(binding.environment)
                binding.services = ReconcileService(settings, session)
                services = binding.services
                # The handler modules call lambda_kit.services(): give this function its own.
                vars(binding.module)["services"] = lambda: services
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
            result = binding.handler(event, context)
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


def _patch_moto() -> None:
    from moto.awslambda_simple.models import LambdaSimpleBackend

    if getattr(LambdaSimpleBackend.invoke, _PATCH_MARK, False):
        return
    original = LambdaSimpleBackend.invoke

    def invoke(  # noqa: PLR0917 - moto's signature
        self: Any,
        function_name: str,
        qualifier: str | None,
        body: Any,
        headers: Any,
        response_headers: Any,
    ) -> Any:
        seam = _Active.seam
        binding = seam.binding_for(function_name) if seam is not None else None
        if seam is None or binding is None:
            return original(self, function_name, qualifier, body, headers, response_headers)
        self.get_function(function_name, qualifier)  # moto's ResourceNotFound if deleted
        return seam.answer_invoke(binding, body, response_headers)

    setattr(invoke, _PATCH_MARK, True)
    LambdaSimpleBackend.invoke = invoke


def _zip_dir(code_dir: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(code_dir.rglob("*.py")):
            if "__pycache__" not in path.parts:
                archive.write(path, path.relative_to(code_dir).as_posix())
    return buffer.getvalue()
