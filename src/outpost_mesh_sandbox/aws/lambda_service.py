"""What the sandbox's Lambda does that moto's does not: run deployed code, and keep its output.

* **Invoke runs the function.** moto's "simple" Lambda backend (``{"lambda": {"use_docker":
  False}}``, no Docker) answers every Invoke with its own payload and never runs code. The
  registry (:mod:`outpost_mesh_sandbox.aws.patches`) makes its ``invoke`` ask the
  :class:`InvokeHandler` set here (:func:`set_invoke_handler`): one in this process that knows the
  function answers (``outpost_mesh_sandbox.stack.lambda_seam``); any other function keeps moto's
  answer. moto's backends are process-wide, so there is one handler per account in a process
  (each account's stack deploys its own functions, in its own Lambda backend).
* **A function's stdout is its log.** Lambda sends what a function writes to stdout to its
  CloudWatch Logs stream, where Powertools' EMF lines become metrics (Lambda developer guide,
  "Working with Lambda function logs"; Powertools Metrics prints EMF to stdout). The registry
  makes ``sys.stdout`` a :class:`ThreadOutput`; :func:`function_output` sends one thread's writes
  (an invocation's) to a stream of the runner's choosing, everything else where it went before.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol, TextIO

from outpost_mesh_sandbox.aws.identities import SANDBOX_ACCOUNT


class InvokeHandler(Protocol):
    """Answers Invoke for the functions it deployed (``binding_for`` is None for others)."""

    def binding_for(self, function_name: str) -> Any | None: ...

    def answer_invoke(self, binding: Any, body: Any, response_headers: dict[str, str]) -> bytes: ...


class _Slot:
    lock = threading.Lock()
    handlers: dict[str, InvokeHandler] = {}


def set_invoke_handler(
    handler: InvokeHandler | None, account_id: str = SANDBOX_ACCOUNT
) -> InvokeHandler | None:
    """Make ``handler`` answer invokes of ``account_id``'s Lambda (None: moto answers them
    again); returns the previous."""
    with _Slot.lock:
        previous = _Slot.handlers.pop(account_id, None)
        if handler is not None:
            _Slot.handlers[account_id] = handler
    return previous


def invoke_handler(account_id: str = SANDBOX_ACCOUNT) -> InvokeHandler | None:
    with _Slot.lock:
        return _Slot.handlers.get(account_id)


def runs_deployed_code(original: Callable[..., Any]) -> Callable[..., Any]:
    """LambdaSimpleBackend.invoke that lets the invoke handler answer its functions."""

    def invoke(  # noqa: PLR0917 - moto's signature
        self: Any,
        function_name: str,
        qualifier: str | None,
        body: Any,
        headers: Any,
        response_headers: Any,
    ) -> Any:
        handler = invoke_handler(self.account_id)
        binding = handler.binding_for(function_name) if handler is not None else None
        if handler is None or binding is None:
            return original(self, function_name, qualifier, body, headers, response_headers)
        self.get_function(function_name, qualifier)  # moto's ResourceNotFound if deleted
        return handler.answer_invoke(binding, body, response_headers)

    return invoke


class ThreadOutput:
    """``sys.stdout`` that sends a thread's writes to the stream that thread named, and every
    other write to the stream it replaced (``fallback``)."""

    def __init__(self, fallback: TextIO) -> None:
        self.fallback = fallback
        self._local = threading.local()

    def target(self) -> TextIO:
        found: TextIO | None = getattr(self._local, "stream", None)
        return self.fallback if found is None else found

    def write(self, text: str) -> int:
        return self.target().write(text)

    def flush(self) -> None:
        self.target().flush()

    def __getattr__(self, name: str) -> Any:  # encoding, isatty, fileno...: the fallback's
        return getattr(self.fallback, name)


_STDOUT_LOCK = threading.Lock()


def thread_output() -> ThreadOutput:
    """``sys.stdout`` as a :class:`ThreadOutput`, wrapping whatever it is now if it is not one
    (pytest's capture and ``contextlib.redirect_stdout`` replace it after the registry did)."""
    with _STDOUT_LOCK:
        current = sys.stdout
        if isinstance(current, ThreadOutput):
            return current
        routed = ThreadOutput(current)
        sys.stdout = routed  # type: ignore[assignment]
        return routed


@contextmanager
def function_output(stream: Any) -> Iterator[None]:
    """While the body runs, this thread's stdout writes go to ``stream`` (the function's log)."""
    routed = thread_output()
    previous = getattr(routed._local, "stream", None)
    routed._local.stream = stream
    try:
        yield
    finally:
        routed._local.stream = previous
