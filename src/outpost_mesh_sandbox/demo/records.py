"""What a demo run saw: each step as it ran, and the run as a whole with its JSON report.

The JSON report (:attr:`DemoRun.report`) is the public contract (docs/scenario-format.md,
"Report"); the rest is what the text report for a person shows (topology, the ping matrix
before, each step's events and executions, the routes that came and went).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from outpost_mesh_sandbox.demo.report import Snapshot, counted
from outpost_mesh_sandbox.scenario.ids import IdMap
from outpost_mesh_sandbox.scenario.model import Scenario, Step
from outpost_mesh_sandbox.stack.pipeline import Delivery, ExecutionInfo

__all__ = ["DemoRun", "StepRecord"]


@dataclass
class StepRecord:
    """One step as it ran."""

    index: int
    step: Step
    label: str
    calls: list[str] = field(default_factory=list)  # the person's calls, "Action" or "Action!"
    call_errors: list[str] = field(default_factory=list)  # what AWS refused
    events: list[dict[str, Any]] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    executions: list[ExecutionInfo] = field(default_factory=list)
    failures: dict[str, tuple[str, str]] = field(default_factory=dict)  # execution -> error
    handed_over: set[str] = field(default_factory=set)  # found the VPC busy, passed its trigger
    awaiting: dict[str, int] = field(default_factory=dict)  # execution -> changes waiting approval
    api_calls: dict[str, int] = field(default_factory=dict)  # the pipeline's EC2 calls
    added: list[tuple[str, str, str]] = field(default_factory=list)
    removed: list[tuple[str, str, str]] = field(default_factory=list)
    after: Snapshot | None = None


@dataclass
class DemoRun:
    scenario: Scenario
    ids: IdMap
    before: Snapshot
    after: Snapshot
    steps: list[StepRecord]
    findings: list[dict[str, Any]]  # kind, subject, message, resolved
    api_calls: dict[str, int]
    logs: list[str]
    # requests that wait for a person at the end (approval mode): vpc, execution, changes...
    pending_approvals: list[dict[str, Any]] = field(default_factory=list)
    # several accounts: what the hub's bus received (account, detail_type, vpc, summary)
    hub: list[dict[str, str]] | None = None

    @property
    def report(self) -> dict[str, Any]:
        """The report exactly as the contract defines it (``--json`` prints this); ``hub`` only
        with several accounts."""
        report = {
            "scenario": self.scenario.name,
            "steps": [
                {
                    "step": record.label,
                    "executions": [{"name": e.name, "status": e.status} for e in record.executions],
                    "api_calls": counted(record.api_calls),
                }
                for record in self.steps
            ],
            "route_tables": self.after.route_tables,
            "associations": self.after.associations,
            "reachability": [
                {"from": p["from"], "to": p["to"], "reachable": p["reachable"]}
                for p in self.after.reachability
            ],
            "findings": self.findings,
            "pending_approvals": self.pending_approvals,
            "api_calls": self.api_calls,
        }
        if self.hub is not None:
            report["hub"] = self.hub
        return report
