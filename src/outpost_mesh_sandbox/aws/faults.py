"""Fault injection: the next N calls of an action, whoever makes them, get an error instead."""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass
from xml.sax.saxutils import escape

# HTTP status per error code. EC2 answers throttling (RequestLimitExceeded) with 503 and server
# errors with a 500-series status (EC2 API reference, error codes); client errors with 400.
_STATUS_BY_CODE = {
    # ASSUMPTION: EC2's authorisation failure comes with 403 Forbidden (as IAM-denied calls are
    # seen to); the error-code list gives no status. Also the sandbox's own refusal of a change to
    # a shared-in VPC (errors.ASSUMED_NOT_OWNER; docs/aws-facts.md, "Accounts and sharing").
    "UnauthorizedOperation": 403,
    "RequestLimitExceeded": 503,
    "ServiceUnavailable": 503,
    "Unavailable": 503,
    "InternalError": 500,
    "InternalFailure": 500,
    "ServerInternal": 500,
}
_DEFAULT_MESSAGES = {
    "RequestLimitExceeded": "Request limit exceeded.",
    "InternalError": "An internal error has occurred.",
    "ServiceUnavailable": "The service is unavailable. Try again later.",
}


# Batch actions that report an entry they could not take in a 200 answer instead of an error:
# EventBridge's PutEvents answers FailedEntryCount and, per entry, ErrorCode and ErrorMessage
# (e.g. InternalFailure, ThrottlingException; EventBridge API Reference, PutEvents and
# PutEventsResultEntry). A fault injected with ``per_entry`` is answered that way, every entry
# failed, with the fault's code and message.
PER_ENTRY_ACTIONS = frozenset({("events", "PutEvents")})


def status_for(code: str) -> int:
    return _STATUS_BY_CODE.get(code, 400)


@dataclass
class Fault:
    service: str | None
    action: str
    code: str
    message: str
    remaining: int
    per_entry: bool = False


@dataclass(frozen=True)
class FaultResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    code: str
    message: str


class FaultTable:
    """Thread-safe queue of faults; rules for one action are consumed in injection order."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(
        self,
        action: str,
        code: str,
        times: int = 1,
        message: str | None = None,
        service: str | None = "ec2",
        *,
        per_entry: bool = False,
    ) -> None:
        if not action or not code:
            raise ValueError("action and error_code are required")
        if isinstance(times, bool) or not isinstance(times, int) or times < 1:
            raise ValueError(f"times must be a positive integer, got {times!r}")
        if per_entry and (service, action) not in PER_ENTRY_ACTIONS:
            raise ValueError(f"per_entry faults: only {sorted(PER_ENTRY_ACTIONS)}")
        text = message or _DEFAULT_MESSAGES.get(code) or f"Injected fault {code} for {action}."
        with self._lock:
            self._faults.append(Fault(service, action, code, text, times, per_entry))

    def take(self, service: str, action: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.action == action and fault.service in (None, service):
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                    return Fault(
                        fault.service, action, fault.code, fault.message, 1, fault.per_entry
                    )
        return None

    def pending(self) -> list[Fault]:
        with self._lock:
            return [
                Fault(f.service, f.action, f.code, f.message, f.remaining, f.per_entry)
                for f in self._faults
            ]

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()


def render(fault: Fault, service: str, json_protocol: bool, entries: int = 1) -> FaultResponse:
    """The error as the service would send it: EC2 XML, query XML or JSON; a per-entry fault
    as the batch's answer with its ``entries`` entries all failed."""
    request_id = str(uuid.uuid4())
    status = 200 if fault.per_entry else status_for(fault.code)
    code, message = escape(fault.code), escape(fault.message)
    if fault.per_entry:
        failed = {"ErrorCode": fault.code, "ErrorMessage": fault.message}
        body = json.dumps({"FailedEntryCount": entries, "Entries": [failed] * entries})
        headers = [("Content-Type", "application/x-amz-json-1.1")]
    elif service == "ec2":
        # EC2's error shape (EC2 API reference, "Example error response").
        body = (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>{code}'
            f"</Code><Message>{message}</Message></Error></Errors><RequestID>{request_id}"
            "</RequestID></Response>"
        )
        headers = [("Content-Type", "text/xml;charset=UTF-8")]
    elif json_protocol:
        body = json.dumps({"__type": fault.code, "message": fault.message})
        headers = [("Content-Type", "application/x-amz-json-1.0"), ("x-amzn-ErrorType", fault.code)]
    else:
        kind = "Receiver" if status >= 500 else "Sender"
        body = (
            f"<ErrorResponse><Error><Type>{kind}</Type><Code>{code}</Code><Message>{message}"
            f"</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"
        )
        headers = [("Content-Type", "text/xml")]
    headers.append(("x-amzn-RequestId", request_id))
    return FaultResponse(status, headers, body.encode("utf-8"), fault.code, fault.message)
