"""Step Functions' callback answers as AWS takes them.

moto's ``SendTaskFailure`` response handler passes the ``error`` on and drops the ``cause``
(moto.stepfunctions.responses); AWS hands both to the waiting task, whose Catch sees them as
``Error`` and ``Cause`` (Step Functions API Reference, SendTaskFailure; docs/aws-facts.md,
"Approvals (Step Functions callbacks)"). outpost-mesh's ``reject`` puts who rejected and why in
the cause, so the sandbox keeps it.
"""

from __future__ import annotations

from typing import Any

from moto.core.responses import EmptyResult


def send_task_failure_with_cause(_original: Any) -> Any:
    def send_task_failure(self: Any) -> Any:
        self.stepfunction_backend.send_task_failure(
            self._get_param("taskToken"),
            error=self._get_param("error"),
            cause=self._get_param("cause"),
        )
        return EmptyResult()

    return send_task_failure
