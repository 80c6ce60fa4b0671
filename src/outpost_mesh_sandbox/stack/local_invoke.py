"""One function of template.yaml invoked locally as ``sam local invoke`` would, without Docker.

``sam local invoke FUNCTION -e EVENT --env-vars FILE`` runs a handler in a container whose
environment SAM CLI builds as follows (aws-sam-cli 1.170: samcli/commands/local/lib/
local_lambda.py ``LocalLambdaRunner._make_env_vars`` and samcli/local/lambdafn/env_vars.py
``EnvironmentVariables.resolve``; tests/integration/test_local_invoke.py holds this module to
that code):

* the AWS_* variables Lambda sets, credentials and region from the caller's shell or profile
  (``SAM_PLACEHOLDERS`` when there are none), never from the env-vars file;
* every variable the template declares for the function (Globals, then the function), valued,
  highest first: the env-vars file's entry for the function's logical id, its ``Parameters``
  entry, the caller's shell, the template. A variable the template does not declare is not set,
  whatever the file says. True/False become "true"/"false", a mapping or list "".

Template values are resolved with SAM CLI's local stand-ins (``SAM_PSEUDO``: stack ``local``,
account 123456789012; a ``!Ref`` of a resource is its logical id) by
:class:`~outpost_mesh_sandbox.stack.template.StackTemplate`, which also resolves
``Fn::FindInMap`` and ``Fn::If`` as CloudFormation does where SAM CLI leaves "" (events/env.json
sets those variables, so both give the function the same values).

:func:`invoke` runs the handler in a Python process of its own with exactly that environment, as
the container would (nothing of the caller's environment leaks in; no AWS config file), and
returns what Lambda returns: the handler's result, or the Python runtime's error payload. This
module is that process's entry point (``python -m outpost_mesh_sandbox.stack.local_invoke``).
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO

from outpost_mesh_sandbox.stack.lambda_runtime import (
    FakeLambdaContext,
    Invocation,
    error_payload,
    load_handler_module,
)
from outpost_mesh_sandbox.stack.template import FunctionDef, StackTemplate, load_template

__all__ = [
    "SAM_PLACEHOLDERS",
    "SAM_PSEUDO",
    "EnvFileError",
    "invoke",
    "local_functions",
    "read_env_file",
    "sam_environment",
]

#: SAM CLI's pseudo parameters for a local run (samcli/lib/intrinsic_resolver/
#: intrinsics_symbol_table.py, DEFAULT_PSEUDO_PARAM_VALUES).
SAM_PSEUDO = {"stack_name": "local", "account": "123456789012", "region": "us-east-1"}
#: What SAM CLI gives a function without credentials or region (env_vars.py, _DEFAULT_AWS_CREDS).
SAM_PLACEHOLDERS = {"region": "us-east-1", "key": "defaultkey", "secret": "defaultsecret"}
#: Beyond its Timeout, a function's process is stopped, as Lambda stops it.
TIMEOUT_ERROR = "Sandbox.Timedout"


class EnvFileError(ValueError):
    """An env-vars file SAM CLI would refuse (OverridesNotWellDefinedError)."""


def local_functions(template_path: Path, region: str) -> dict[str, FunctionDef]:
    """template.yaml's functions, their environment resolved as SAM CLI resolves it locally."""
    template: StackTemplate = load_template(
        template_path,
        stack_name=SAM_PSEUDO["stack_name"],
        account=SAM_PSEUDO["account"],
        region=region,
    )
    # A !Ref of a resource is its logical id (SAM CLI's default attribute resolver).
    template.refs.update({name: name for name in template.doc.get("Resources") or {}})
    return template.functions()


def read_env_file(path: Path) -> dict[str, dict[str, Any]]:
    """An env-vars file: ``{"Parameters": {...}, "<LogicalId>": {...}}``, every value a mapping."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise EnvFileError(f"{path}: cannot read the env-vars file: {error}") from error
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise EnvFileError(
            f'{path}: expected {{"Parameters": {{VAR: value}}, "FunctionLogicalId": '
            "{VAR: value}}: every top-level value must be an object"
        )
    return data


def _text(value: Any) -> str:
    """A value as SAM CLI passes it to the runtime (env_vars.py, _stringify_value)."""
    if isinstance(value, dict | list | tuple) or value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)


def sam_environment(
    function: FunctionDef,
    env_file: Mapping[str, Mapping[str, Any]],
    shell: Mapping[str, str],
    *,
    region: str | None,
    credentials: tuple[str, str, str | None] | None,
) -> dict[str, str]:
    """The environment ``sam local invoke`` gives ``function`` (the rules in the module's doc).

    ``credentials``: (access key, secret key, session token) from the caller's shell or profile.
    """
    key, secret, token = credentials or (
        SAM_PLACEHOLDERS["key"],
        SAM_PLACEHOLDERS["secret"],
        None,
    )
    name = function.logical_id
    env = {
        "AWS_SAM_LOCAL": "true",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory),
        "AWS_LAMBDA_FUNCTION_TIMEOUT": str(function.timeout),
        "AWS_LAMBDA_FUNCTION_HANDLER": function.handler,
        "AWS_LAMBDA_FUNCTION_NAME": name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_REGION": region or SAM_PLACEHOLDERS["region"],
        "AWS_DEFAULT_REGION": region or SAM_PLACEHOLDERS["region"],
        "AWS_ACCESS_KEY_ID": key,
        "AWS_SECRET_ACCESS_KEY": secret,
        "AWS_ACCOUNT_ID": SAM_PSEUDO["account"],
    }
    if token:
        env["AWS_SESSION_TOKEN"] = token
    overrides = {**env_file.get("Parameters", {}), **env_file.get(name, {})}
    for variable, value in function.environment.items():
        chosen: Any = shell.get(variable, value)
        env[variable] = _text(overrides.get(variable, chosen))
    return env


def invoke(
    function: FunctionDef,
    root: Path,
    environment: Mapping[str, str],
    event: Any,
    log: TextIO | None = None,
) -> Invocation:
    """Run ``function``'s handler on ``event`` in a process of its own with ``environment``.
    Its log (its stdout and stderr, as Lambda sends both to CloudWatch Logs) is written to
    ``log`` when given. Stopped after the function's Timeout, as Lambda stops it."""
    request = {
        "code_dir": str((root / function.code_uri).resolve()),
        "handler": function.handler,
        "function": function.logical_id,
        "memory": function.memory,
        "timeout": function.timeout,
        "event": event,
    }
    child = {
        **environment,
        # the container has no AWS config files and writes no bytecode
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONPATH": os.pathsep.join(p for p in sys.path if p),
    }
    started = time.monotonic()
    try:
        done = subprocess.run(
            [sys.executable, "-m", __name__],
            input=json.dumps(request),
            capture_output=True,
            env=child,
            text=True,
            timeout=function.timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        why = f"Task timed out after {function.timeout:.2f} seconds"  # Lambda's words
        return _failed(function, TIMEOUT_ERROR, why)
    seconds = time.monotonic() - started
    if log is not None:
        log.write(done.stderr)
        log.flush()
    try:
        answer = json.loads(done.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        last = done.stderr.strip().splitlines()[-1:]
        why = f"the function's process ended without an answer (exit code {done.returncode})"
        return _failed(function, "Runtime.Exit", ": ".join([why, *last]))
    payload = answer["payload"]
    if answer["ok"]:
        return Invocation(function.logical_id, answer["request_id"], payload, seconds=seconds)
    return Invocation(
        function.logical_id,
        answer["request_id"],
        payload,
        error_type=str(payload.get("errorType", "Error")),
        error_message=str(payload.get("errorMessage", "")),
        seconds=seconds,
    )


def _failed(function: FunctionDef, error_type: str, message: str) -> Invocation:
    """A run that ended before its handler answered (Lambda's own errors)."""
    payload = {"errorMessage": message, "errorType": error_type}
    return Invocation(function.logical_id, "", payload, error_type, message)


def _run(request: dict[str, Any]) -> dict[str, Any]:
    """In the function's process: import its handler and call it, as Lambda's runtime does."""
    name = request["function"]
    region = os.environ.get("AWS_REGION", SAM_PLACEHOLDERS["region"])
    account = os.environ.get("AWS_ACCOUNT_ID", SAM_PSEUDO["account"])
    context = FakeLambdaContext(
        function_name=name,
        invoked_function_arn=f"arn:aws:lambda:{region}:{account}:function:{name}",
        memory_limit_in_mb=int(request["memory"]),
        timeout_seconds=int(request["timeout"]),
    )
    handler_name: str = request["handler"]
    try:
        module = load_handler_module(Path(request["code_dir"]), handler_name)
        handler = getattr(module, handler_name.rsplit(".", 1)[-1])
    except Exception as exc:  # Lambda: Runtime.ImportModuleError, the handler never runs
        payload = error_payload(exc, context.aws_request_id)
        payload["errorType"] = "Runtime.ImportModuleError"
        payload["errorMessage"] = f"Unable to import module '{handler_name}': {exc}"
        return {"ok": False, "payload": payload, "request_id": context.aws_request_id}
    try:
        result = handler(request["event"], context)
    except Exception as exc:
        payload = error_payload(exc, context.aws_request_id)
        return {"ok": False, "payload": payload, "request_id": context.aws_request_id}
    return {"ok": True, "payload": result, "request_id": context.aws_request_id}


def main() -> None:
    # Powertools warns at every invoke that publishes no metric; the seam ignores it too.
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    request = json.loads(sys.stdin.read())
    answer_to = sys.stdout
    # a function's stdout is its log; this process's stdout is its answer
    with contextlib.redirect_stdout(sys.stderr):
        answer = _run(request)
    answer_to.write(json.dumps(answer, default=str) + "\n")
    answer_to.flush()


if __name__ == "__main__":
    main()
