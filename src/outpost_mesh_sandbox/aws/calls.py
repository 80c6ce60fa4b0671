"""Recording of API calls: who called what, with which parameters, and what came back.

The pipeline later turns these records into CloudTrail-shaped events, so a record keeps what such
an event needs: service, action, caller (access key id), region, flat request parameters, status,
and for EC2 mutating actions the response body (success or error) plus the error code and message.
"""

from __future__ import annotations

import json
import re
import threading
import urllib.parse
from collections import Counter
from dataclasses import asdict
from typing import Any

from outpost_mesh_sandbox.aws.control import ApiCall

_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/[^/]+/([^/]+)/([^/]+)/")
_XML_CODE = re.compile(r"<Code>(.*?)</Code>", re.S)
_XML_MESSAGE = re.compile(r"<Message>(.*?)</Message>", re.S)

# Read-only EC2 actions (docs/aws-facts.md throttling: "non-mutating (Describe*)"); every other
# action mutates and keeps its response body.
_READ_ONLY_PREFIXES = ("Describe", "Get", "List", "Search")


def is_mutating(action: str) -> bool:
    return not action.startswith(_READ_ONLY_PREFIXES)


def parse_credential(environ: dict[str, Any]) -> tuple[str, str, str]:
    """(access key id, region, service) from the SigV4 ``Authorization`` header, or empty."""
    match = _CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", ""))
    if match is None:
        return "", "", ""
    return match.group(1), match.group(2), match.group(3).lower()


def is_json_request(environ: dict[str, Any]) -> bool:
    content_type = environ.get("CONTENT_TYPE", "")
    return bool(environ.get("HTTP_X_AMZ_TARGET")) or "json" in content_type


def parse_params(environ: dict[str, Any], body: bytes) -> dict[str, Any]:
    """Flat query parameters (form body and URL query) or the parsed JSON body."""
    params: dict[str, Any] = {}
    query = environ.get("QUERY_STRING", "")
    if query:
        params.update(urllib.parse.parse_qsl(query, keep_blank_values=True))
    if not body:
        return params
    content_type = environ.get("CONTENT_TYPE", "")
    if content_type.startswith("application/x-www-form-urlencoded"):
        params.update(
            urllib.parse.parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
        )
    elif is_json_request(environ):
        try:
            parsed = json.loads(body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            return params
        if isinstance(parsed, dict):
            params.update(parsed)
        else:
            params["body"] = parsed
    return params


def action_of(environ: dict[str, Any], params: dict[str, Any], service: str) -> str:
    """The API action: EC2-style ``Action`` param, ``X-Amz-Target``, or the REST route."""
    action = params.get("Action")
    if isinstance(action, str) and action:
        return action
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if target:
        return str(target.split(".")[-1])
    return _rest_action(environ, service)


def _rest_action(environ: dict[str, Any], service: str) -> str:
    method = environ.get("REQUEST_METHOD", "GET")
    path = environ.get("PATH_INFO", "/")
    if service:
        try:
            from moto.core.request import Request
            from moto.core.routing import get_service_router

            # The body is not needed to match a route; an empty stream keeps the real one intact.
            probe = dict(environ)
            probe["wsgi.input"] = _EmptyStream()
            probe["CONTENT_LENGTH"] = "0"
            operation, _ = get_service_router(service).match(Request(probe))
            return str(operation.name)
        except Exception:  # best effort: an unknown route keeps the method and path
            pass
    return f"{method} {path}"


class _EmptyStream:
    def read(self, *_: Any) -> bytes:
        return b""

    def readline(self, *_: Any) -> bytes:
        return b""


def error_of(body: str, headers: dict[str, str]) -> tuple[str, str]:
    """(code, message) of an error response, XML (EC2/query) or JSON."""
    code = _XML_CODE.search(body)
    if code is not None:
        message = _XML_MESSAGE.search(body)
        return code.group(1), (message.group(1) if message else "")
    try:
        data = json.loads(body) if body else {}
    except ValueError:
        data = {}
    if not isinstance(data, dict):
        data = {}
    raw = headers.get("x-amzn-errortype") or data.get("__type") or data.get("code") or ""
    name = str(raw).split(":")[0].split("#")[-1]
    return name, str(data.get("message") or data.get("Message") or "")


class CallLog:
    """Thread-safe, append-only list of :class:`ApiCall`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: list[ApiCall] = []
        self._seq = 0

    def record(self, **fields: Any) -> ApiCall:
        with self._lock:
            self._seq += 1
            call = ApiCall(seq=self._seq, **fields)
            self._calls.append(call)
            return call

    def since(self, seq: int = 0) -> list[ApiCall]:
        with self._lock:
            return [c for c in self._calls if c.seq > seq]

    def counts(self, caller: str | None = None, service: str | None = "ec2") -> dict[str, int]:
        with self._lock:
            counter = Counter(
                c.action
                for c in self._calls
                if (service is None or c.service == service)
                and (caller is None or c.caller == caller)
            )
        return dict(sorted(counter.items()))

    def clear(self) -> None:
        # The sequence keeps growing across resets so `since` cursors held by callers stay valid.
        with self._lock:
            self._calls.clear()

    @staticmethod
    def to_json(call: ApiCall) -> dict[str, Any]:
        return asdict(call)
