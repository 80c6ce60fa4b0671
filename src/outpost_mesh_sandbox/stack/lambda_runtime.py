"""What running a Lambda handler in-process needs: its context, its clients, its module, its log.

The pieces of AWS Lambda's Python runtime that the sandbox's Lambda seam
(:mod:`outpost_mesh_sandbox.stack.lambda_seam`) and tests that call a handler directly share:

* :class:`SandboxSession`: what a function's boto3 session would be, pointed at the sandbox with
  the pipeline's access key, without touching ``os.environ``;
* :class:`FakeLambdaContext`: the ``LambdaContext`` attributes handlers and Powertools read;
* :func:`error_payload`: the payload the Python runtime returns for an unhandled exception;
* :func:`load_handler_module`: a ``functions/<dir>/app.py`` imported by path, once;
* :class:`LogSink`: a function's log stream (the last lines kept in memory).
"""

from __future__ import annotations

import importlib.util
import io
import json
import sys
import threading
import time
import traceback
import uuid
import zipfile
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
from botocore.config import Config

from outpost_mesh_sandbox.aws.identities import PIPELINE_ACCESS_KEY, SECRET_KEY

__all__ = [
    "FakeLambdaContext",
    "FunctionBinding",
    "Invocation",
    "LogSink",
    "SandboxSession",
    "error_payload",
    "load_handler_module",
    "zip_dir",
]

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


# The sandbox's runtimes: what stands where AWS's bootstrap.py does, under the handler (the seam
# in the sandbox's process, local_invoke in a process of its own).
_RUNTIME_FILES = frozenset(
    {str(Path(__file__).with_name(n)) for n in ("lambda_seam.py", "local_invoke.py")} | {__file__}
)


def error_payload(exc: BaseException, request_id: str) -> dict[str, Any]:
    """The payload AWS Lambda's Python runtime returns for an unhandled exception.

    As AWS's runtime interface client builds it (aws-lambda-python-runtime-interface-client,
    awslambdaric/bootstrap.py: ``handle_event_request``, ``make_error``): ``errorMessage``
    ``str(exc)``, ``errorType`` the class name, ``requestId``, and ``stackTrace``
    ``traceback.format_list`` of the traceback's (file, line, function, text) tuples from the
    first frame outside the runtime (bootstrap.py there, the seam here): one string per frame,
    ending in a newline, without the column markers Python adds to a FrameSummary's lines.
    """
    frames = [
        (f.filename, f.lineno or 0, f.name, f.line) for f in traceback.extract_tb(exc.__traceback__)
    ]
    while frames and frames[0][0] in _RUNTIME_FILES:
        frames.pop(0)
    return {
        "errorMessage": str(exc),
        "errorType": type(exc).__name__,
        "requestId": request_id,
        "stackTrace": traceback.format_list(frames),
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


class LogSink(io.TextIOBase):
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


def zip_dir(code_dir: Path) -> bytes:
    """The handler files of ``code_dir`` as the zip moto stores for a function."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(code_dir.rglob("*.py")):
            if "__pycache__" not in path.parts:
                archive.write(path, path.relative_to(code_dir).as_posix())
    return buffer.getvalue()


def trust_policy(service: str) -> str:
    """An IAM role trust policy that lets ``service`` (e.g. lambda.amazonaws.com) assume it."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": service},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
    )
