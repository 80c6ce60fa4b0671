"""WSGI middleware around moto's server app: control endpoints, call recording, fault injection.

* ``/_sandbox/...`` requests are answered here (JSON); see
  :mod:`outpost_mesh_sandbox.aws.control`.
* Each request is answered by the account :mod:`outpost_mesh_sandbox.aws.account_routing` names.
* Every other request with an identifiable action is recorded
  (:mod:`outpost_mesh_sandbox.aws.calls`) after it ran, faulted or not.
* A pending fault for the action (:mod:`outpost_mesh_sandbox.aws.faults`) answers instead of moto.
* With throttling on (:mod:`outpost_mesh_sandbox.aws.throttle`), an EC2 call that finds its action's
  token bucket empty is answered ``RequestLimitExceeded`` before any fault or moto sees it.
* EC2 requests run one at a time (one lock), so a check-then-act rule such as the route quota
  holds under the threaded server, as it does on AWS; DynamoDB requests too (a lock of their own):
  DynamoDB makes each item write atomic with its condition, moto checks the condition and then
  writes with nothing between two server threads, and the lease (a conditional update) is what
  keeps two executions off one VPC. Neither service's handlers call back into the server, so the
  locks cannot deadlock; other services (Lambda, Step Functions) are not serialised.
"""

from __future__ import annotations

import io
import json
import re
import threading
import time
import urllib.parse
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from outpost_mesh_sandbox.aws import (
    account_routing,
    outpost_sharing,
    outposts,
    paging,
    settings,
    sharing,
)
from outpost_mesh_sandbox.aws.calls import (
    CallLog,
    action_of,
    error_of,
    is_json_request,
    is_mutating,
    parse_credential,
    parse_params,
)
from outpost_mesh_sandbox.aws.control import CALLER_KEYS
from outpost_mesh_sandbox.aws.faults import FaultTable, render
from outpost_mesh_sandbox.aws.throttle import Throttle

StartResponse = Callable[..., Any]
_ACCOUNT_ID = re.compile(r"\d{12}")

#: moto settings the later pipeline needs: Step Functions really executes, Lambda without Docker.
MOTO_CONFIG: dict[str, Any] = {
    "stepfunctions": {"execute_state_machine": True},
    "lambda": {"use_docker": False},
}


def apply_moto_config() -> None:
    """The ``POST /moto-api/config`` equivalent, in-process (moto reset does not touch it)."""
    from moto.moto_api._internal.models import moto_api_backend

    moto_api_backend.set_config(json.loads(json.dumps(MOTO_CONFIG)))


class ControlError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class SandboxApp:
    def __init__(
        self, moto_app: Callable[..., Iterable[bytes]], account_id: str, region: str
    ) -> None:
        self.moto_app = moto_app
        self.account_id = account_id
        self.region = region
        self.calls = CallLog()
        self.faults = FaultTable()
        self.throttle = Throttle()
        self.ec2_lock = threading.RLock()
        #: Services whose requests run one at a time (see the module's docstring).
        self.service_locks = {"ec2": self.ec2_lock, "dynamodb": threading.RLock()}

    # -- WSGI ------------------------------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/_sandbox" or path.startswith("/_sandbox/"):
            return self._control(environ, start_response)
        if path.startswith("/moto-api") or path == "/favicon.ico":
            return self.moto_app(environ, start_response)

        started = time.time()
        body = _read_body(environ)
        caller, region, service = parse_credential(environ)
        params = parse_params(environ, body)
        if not service and "Action" not in params and not environ.get("HTTP_X_AMZ_TARGET"):
            # Not an AWS API call (unsigned, no action): nothing to record or fault.
            return self.moto_app(environ, start_response)
        action = action_of(environ, params, service)
        account = account_routing.serving_account(caller, service, path)
        if account is not None:
            environ[account_routing.HEADER] = account
        record: dict[str, Any] = {
            "service": service,
            "action": action,
            "caller": caller,
            "params": params,
            "time": started,
            "region": region,
        }

        fault = self.throttle.take(service, action, caller, params, region) or self.faults.take(
            service, action
        )
        if fault is not None:
            entries = params.get("Entries")
            rendered = render(
                fault,
                service,
                is_json_request(environ),
                len(entries) if isinstance(entries, list) and entries else 1,
            )
            self.calls.record(
                status=rendered.status,
                response=rendered.body.decode("utf-8") if service == "ec2" else "",
                error_code=rendered.code,
                error_message=rendered.message,
                **record,
            )
            start_response(_status_line(rendered.status), rendered.headers)
            return [rendered.body]

        lock = self.service_locks.get(service)
        if lock is not None:
            with lock:
                status, headers, payload = _run(self.moto_app, environ)
        else:
            status, headers, payload = _run(self.moto_app, environ)

        code = int(status.split(" ", 1)[0])
        if service == "ec2" and code >= 400 and b"<RequestID>request-id</RequestID>" in payload:
            # moto's EC2 errors carry a literal placeholder; AWS sends a request id.
            payload = payload.replace(
                b"<RequestID>request-id</RequestID>",
                f"<RequestID>{uuid.uuid4()}</RequestID>".encode("ascii"),
            )
            headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
            headers.append(("Content-Length", str(len(payload))))
        text = ""
        error_code = error_message = ""
        if code >= 400 or (service == "ec2" and is_mutating(action)):
            text = payload.decode("utf-8", "replace")
        if code >= 400:
            error_code, error_message = error_of(text, {k.lower(): v for k, v in headers})
        self.calls.record(
            status=code,
            response=text if service == "ec2" and is_mutating(action) else "",
            error_code=error_code,
            error_message=error_message,
            **record,
        )
        start_response(status, headers)
        return [payload]

    # -- control endpoints -----------------------------------------------------------------------
    def reset(self) -> None:
        from moto.moto_api._internal.models import moto_api_backend

        with self.ec2_lock:
            moto_api_backend.reset()
            settings.reset_settings()
            paging.set_page_size(None)
            self.faults.clear()
            self.throttle.reset()
            self.calls.clear()
            apply_moto_config()

    def _control(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        endpoint = environ.get("PATH_INFO", "")[len("/_sandbox/") :].strip("/")
        query = dict(urllib.parse.parse_qsl(environ.get("QUERY_STRING", "")))
        try:
            raw = _read_body(environ)
            try:
                body = json.loads(raw.decode("utf-8")) if raw else {}
            except ValueError as exc:
                raise ControlError(400, f"body is not JSON: {exc}") from None
            if not isinstance(body, dict):
                raise ControlError(400, "body must be a JSON object")
            status, result = 200, self._dispatch(method, endpoint, body, query)
        except ControlError as exc:
            status, result = exc.status, {"error": exc.message}
        except (ValueError, TypeError) as exc:
            status, result = 400, {"error": str(exc)}
        payload = json.dumps(result).encode("utf-8")
        start_response(
            _status_line(status),
            [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))],
        )
        return [payload]

    def _dispatch(
        self, method: str, endpoint: str, body: dict[str, Any], query: dict[str, str]
    ) -> Any:
        routes: dict[tuple[str, str], Callable[[], Any]] = {
            ("GET", "health"): lambda: {"ok": True},
            ("POST", "outposts"): lambda: self._seed(body),
            ("GET", "outposts"): self._outposts,
            ("POST", "lgw-route-table"): lambda: self._set_lgw_route_table(body),
            ("POST", "shared-vpcs"): lambda: self._share_vpc_in(body),
            ("POST", "outpost-shares"): lambda: self._share_outpost(body),
            ("GET", "config"): settings.settings_dict,
            ("GET", "paging"): lambda: {"page_size": paging.page_size()},
            ("POST", "config"): lambda: self._configure(body),
            ("POST", "faults"): lambda: self._inject(body),
            ("GET", "faults"): lambda: [vars(f) for f in self.faults.pending()],
            ("DELETE", "faults"): self._clear_faults,
            ("POST", "fail-associations"): lambda: self._fail_associations(body),
            ("GET", "calls"): lambda: [
                CallLog.to_json(c) for c in self.calls.since(_int(query.get("since", "0"), "since"))
            ],
            ("GET", "call-counts"): lambda: self.calls.counts(
                caller=_caller(query.get("caller")), service=query.get("service") or None
            ),
            ("POST", "reset"): self._reset,
            ("GET", "throttle"): self.throttle.status,
            ("POST", "clock"): lambda: {"now": self.throttle.clock.advance(_seconds(body))},
        }
        handler = routes.get((method, endpoint))
        if handler is None:
            if any(name == endpoint for _, name in routes):
                raise ControlError(405, f"{method} not allowed on /_sandbox/{endpoint}")
            raise ControlError(404, f"no sandbox endpoint /_sandbox/{endpoint}")
        return handler()

    def _clear_faults(self) -> dict[str, bool]:
        self.faults.clear()
        return {"ok": True}

    def _reset(self) -> dict[str, bool]:
        self.reset()
        return {"ok": True}

    def _backend(self, account_id: Any = None) -> Any:
        if account_id is None:
            return outposts.sandbox_backend(self.account_id, self.region)
        if not isinstance(account_id, str) or not _ACCOUNT_ID.fullmatch(account_id):
            raise ControlError(400, f"account_id must be 12 digits, got {account_id!r}")
        return outposts.sandbox_backend(account_id, self.region)

    def _seed(self, body: dict[str, Any]) -> dict[str, Any]:
        with self.ec2_lock:
            backend = self._backend(body.get("account_id"))
            outpost = outposts.seed_outpost(
                backend,
                body.get("name", ""),
                mode=body.get("mode") or outposts.DEFAULT_MODE,
                intra_vpc=body.get("intra_vpc", True),
                availability_zone=body.get("availability_zone"),
                generation=body.get("generation", 1),
                route_tables=body.get("route_tables"),
            )
            return outposts.seeded(backend, outpost)

    def _outposts(self) -> list[dict[str, Any]]:
        with self.ec2_lock:
            backend = self._backend()
            state = outposts.state_of(backend)
            return [outposts.seeded(backend, o) for o in state.outposts.values()]

    def _set_lgw_route_table(self, body: dict[str, Any]) -> dict[str, bool]:
        with self.ec2_lock:
            outposts.set_lgw_route_table(
                self._backend(),
                body.get("local_gateway_route_table_id", ""),
                state=body.get("state"),
                active=body.get("active"),
            )
        return {"ok": True}

    def _share_vpc_in(self, body: dict[str, Any]) -> dict[str, bool]:
        with self.ec2_lock:
            sharing.share_vpc_in(self._backend(), body.get("vpc_id", ""), body.get("owner_id", ""))
        return {"ok": True}

    def _share_outpost(self, body: dict[str, Any]) -> dict[str, bool]:
        shared = body.get("shared", True)
        if not isinstance(shared, bool):
            raise ControlError(400, f"shared must be a boolean, got {shared!r}")
        consumer = body.get("consumer_id")
        self._backend(consumer)  # checks the id
        with self.ec2_lock:
            outpost_sharing.share_outpost(
                self._backend(body.get("owner_id")),
                str(body.get("outpost", "")),
                str(consumer),
                shared=shared,
            )
        return {"ok": True}

    def _configure(self, body: dict[str, Any]) -> dict[str, int]:
        throttling = {k: body.pop(k) for k in ("throttle", "time_scale") if k in body}
        page_size = body.pop("page_size", None)
        unknown = set(body) - set(settings.CONFIGURABLE)
        if unknown:
            raise ControlError(400, f"unknown setting(s): {', '.join(sorted(unknown))}")
        # checked before anything changes
        if throttling:
            Throttle.check(throttling.get("throttle"), throttling.get("time_scale"))
        if page_size is not None:
            paging.check_page_size(page_size)
        settings.configure(**body)
        if throttling:
            self.throttle.configure(
                enabled=throttling.get("throttle"), time_scale=throttling.get("time_scale")
            )
        if page_size is not None:
            paging.set_page_size(page_size)
        return settings.settings_dict()

    def _inject(self, body: dict[str, Any]) -> dict[str, bool]:
        self.faults.add(
            body.get("action", ""),
            body.get("error_code", ""),
            times=body.get("times", 1),
            message=body.get("message"),
            service=body.get("service", "ec2"),
            per_entry=bool(body.get("per_entry", False)),
        )
        return {"ok": True}

    def _fail_associations(self, body: dict[str, Any]) -> dict[str, bool]:
        settings.fail_next_associations(body.get("times", 1))
        return {"ok": True}


def _caller(value: str | None) -> str | None:
    if not value:
        return None
    return CALLER_KEYS.get(value, value)


def _seconds(body: dict[str, Any]) -> float:
    value = body.get("seconds")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ControlError(400, f"seconds must be a number, got {value!r}")
    return float(value)


def _int(value: str, name: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ControlError(400, f"{name} must be an integer, got {value!r}") from None


def _status_line(status: int) -> str:
    from http import HTTPStatus

    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"{status} Unknown"


def _read_body(environ: dict[str, Any]) -> bytes:
    stream = environ.get("wsgi.input")
    if stream is None:
        return b""
    length = environ.get("CONTENT_LENGTH") or ""
    if length.isdigit():
        body = stream.read(int(length)) if int(length) else b""
    elif environ.get("wsgi.input_terminated"):
        body = stream.read()
    else:
        body = b""
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    return bytes(body)


def _run(
    app: Callable[..., Iterable[bytes]], environ: dict[str, Any]
) -> tuple[str, list[tuple[str, str]], bytes]:
    """Run a WSGI app to completion and return status line, headers and the whole body."""
    captured: dict[str, Any] = {}
    chunks: list[bytes] = []

    def capture(
        status: str, headers: list[tuple[str, str]], exc_info: Any = None
    ) -> Callable[[bytes], None]:
        captured["status"] = status
        captured["headers"] = list(headers)
        return chunks.append

    result = app(environ, capture)
    try:
        for chunk in result:
            chunks.append(chunk)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    payload = b"".join(chunks)
    headers = list(captured.get("headers", []))
    if environ.get("REQUEST_METHOD") != "HEAD":
        # The body is now whole: state its length (HEAD keeps the length of what GET would send).
        dropped = ("content-length", "transfer-encoding")
        headers = [(k, v) for k, v in headers if k.lower() not in dropped]
        headers.append(("Content-Length", str(len(payload))))
    return captured.get("status", "500 Internal Server Error"), headers, payload
