"""The project's typed errors, and the one place AWS error codes map to them.

Step Functions Retry/Catch match these class names (a Lambda error's ``errorType``), so the names
are the same in AWS, in moto and in tests (docs/aws-facts.md, "Step Functions").
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from outpost_mesh.model import FindingKind

# Racks without the intra-VPC update reject a more-specific LGW route with this code and text
# (docs/aws-facts.md, "The feature being automated").
RACK_NOT_UPDATED_TEXT = "can target only an interface or an instance"

THROTTLING_CODES = frozenset(
    {
        "RequestLimitExceeded",
        "Throttling",
        "ThrottlingException",
        "TooManyRequestsException",
        # DynamoDB's throttling (the ledger and the lease): retried like EC2's, not a failure.
        "ProvisionedThroughputExceededException",
    }
)
ACCESS_CODES = frozenset({"UnauthorizedOperation", "AccessDenied", "AccessDeniedException"})


class OutpostMeshError(Exception):
    """Base of every error the project raises on purpose."""

    kind: FindingKind = FindingKind.ERROR  # the finding kind this error is reported as

    def __init__(self, message: str, *, code: str = "", subject: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.subject = subject

    def __str__(self) -> str:
        # Lambda reports str(error) as errorMessage: the subject rides along for the rollback
        # (read back by ``CaughtError.decode``).
        return f"{self.message} [subject={self.subject}]" if self.subject else self.message


class ThrottledError(OutpostMeshError):
    """EC2 said RequestLimitExceeded: retry later, with backoff."""


class RackNotUpdatedError(OutpostMeshError):
    """The Outpost rejected a more-specific LGW route: it lacks the intra-VPC update."""

    kind = FindingKind.RACK_NOT_UPDATED


class RouteQuotaExceededError(OutpostMeshError):
    kind = FindingKind.ROUTE_QUOTA


class RouteAlreadyExistsError(OutpostMeshError):
    pass


class RouteNotFoundError(OutpostMeshError):
    pass


class RouteTableNotFoundError(OutpostMeshError):
    pass


class VpcNotFoundError(OutpostMeshError):
    pass


class AssociationNotFoundError(OutpostMeshError):
    pass


class AssociationFailedError(OutpostMeshError):
    """An LGW route table / VPC association ended ``failed`` or never became ``associated``."""


class AccessDeniedError(OutpostMeshError):
    pass


class LeaseBusyError(OutpostMeshError):
    """Another actor holds the VPC's lease; the caller's trigger was recorded for it."""


class LeaseLostError(OutpostMeshError):
    """A task that changes a VPC ran for an execution that does not hold the VPC's lease (taken
    over after its expiry, a redriven or stray invocation): it changed nothing."""


class ConfigurationError(OutpostMeshError):
    """A setting (a stack parameter's environment variable) whose value does not fit."""


class MalformedInputError(OutpostMeshError):
    """An event or task input that does not fit its model: rejected, never retried into success."""


class ReconcileFailedError(OutpostMeshError):
    """A pass could not be applied whole; this actor's own changes were rolled back."""

    def __init__(
        self,
        message: str,
        *,
        cause: OutpostMeshError,
        findings: tuple[Any, ...] = (),
        undone: int = 0,
        rollback_problems: tuple[OutpostMeshError, ...] = (),
    ) -> None:
        super().__init__(message, code=cause.code, subject=cause.subject)
        self.cause = cause
        self.kind = cause.kind
        self.findings = findings
        self.undone = undone
        self.rollback_problems = rollback_problems


class AwsApiError(OutpostMeshError):
    """Any other AWS error, kept with its code."""


_BY_CODE: dict[str, type[OutpostMeshError]] = {
    "RouteLimitExceeded": RouteQuotaExceededError,
    "RouteAlreadyExists": RouteAlreadyExistsError,
    "InvalidRoute.NotFound": RouteNotFoundError,
    "InvalidRouteTableID.NotFound": RouteTableNotFoundError,
    "InvalidVpcID.NotFound": VpcNotFoundError,
    "InvalidLocalGatewayRouteTableVpcAssociationID.NotFound": AssociationNotFoundError,
}


def from_client_error(error: Any, *, subject: str = "") -> OutpostMeshError:
    """Map a botocore ClientError (anything with ``.response``) to the project's error."""
    response = getattr(error, "response", {}) or {}
    err = response.get("Error", {}) if isinstance(response, dict) else {}
    code = str(err.get("Code", ""))
    message = str(err.get("Message", "")) or str(error)
    cls: type[OutpostMeshError]
    if code in THROTTLING_CODES:
        cls = ThrottledError
    elif code in ACCESS_CODES:
        cls = AccessDeniedError
    elif code == "InvalidParameterValue" and RACK_NOT_UPDATED_TEXT in message:
        cls = RackNotUpdatedError
    else:
        cls = _BY_CODE.get(code, AwsApiError)
    return cls(f"{code}: {message}" if code else message, code=code, subject=subject)


def error_class(name: str) -> type[OutpostMeshError] | None:
    """The project's error class a Lambda ``errorType`` (a Catch's ``Error``) names, if any."""
    pending: list[type[OutpostMeshError]] = [OutpostMeshError]
    while pending:
        cls = pending.pop()
        if cls.__name__ == name:
            return cls
        pending.extend(cls.__subclasses__())
    return None


_SUBJECT = re.compile(r" \[subject=([^\]]*)\]$")


@dataclass(frozen=True)
class CaughtError:
    """A task's error as a Step Functions Catch hands it over (``$.error``: Error and Cause,
    the Cause being the Lambda error payload), decoded back into the project's terms."""

    name: str
    message: str
    subject: str

    @property
    def kind(self) -> FindingKind:
        """The finding kind of the error (``error`` for anything not the project's own)."""
        cls = error_class(self.name)
        return cls.kind if cls is not None else FindingKind.ERROR

    @classmethod
    def decode(cls, error: Mapping[str, Any] | None) -> CaughtError:
        if not error:
            return cls("UnknownError", "unknown error", "")
        name = str(error.get("Error", "UnknownError"))
        cause = error.get("Cause", "")
        if name == "BatchFailed":
            # ApplyRoutes' iterations end on their own errors (statemachine, BatchFailed); the
            # Cause is the Map's results: the first failed batch's error is the one to report.
            results = _json(cause)
            for result in results if isinstance(results, list) else []:
                if isinstance(result, dict) and result.get("failed") and result.get("error"):
                    inner = result["error"]
                    return cls.decode(inner if isinstance(inner, Mapping) else None)
        message, subject = str(cause), ""
        parsed = _json(cause)
        if isinstance(parsed, dict):
            message = str(parsed.get("errorMessage", message))
            name = str(parsed.get("errorType", name))
        found = _SUBJECT.search(message)
        if found:
            subject = found.group(1)
            message = message[: found.start()].rstrip()
        return cls(name, message, subject)


def _json(cause: Any) -> Any:
    if not isinstance(cause, str):
        return dict(cause) if isinstance(cause, Mapping) else cause
    try:
        return json.loads(cause)
    except ValueError:
        return None
