"""The hub of a scenario with several accounts: hub.yaml's fleet bus, in an account of its own.

A member stack puts its findings and failure notices on the hub's bus (template.yaml's
``HubEventBusArn``; docs/architecture.md, "Organization-wide"). hub.yaml's rule sends them to an
SNS topic and a log group; the sandbox's hub sends what the same rule pattern matches to an SQS
queue instead, which the runner reads at the end of the run (:meth:`Hub.received`): the hub's view,
in the report's ``hub``. The hub is in its own account (:data:`HUB_ACCOUNT`, as a security or
network-operations account is in an Organization), in the sandbox's Region; the sandbox does not
evaluate the bus policy (``outpost_mesh_sandbox.aws.event_buses``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from outpost_mesh_sandbox.aws.identities import access_key
from outpost_mesh_sandbox.aws.server import Sandbox
from outpost_mesh_sandbox.demo.report import Translator
from outpost_mesh_sandbox.scenario.ids import IdMap
from outpost_mesh_sandbox.stack.template import load_template

__all__ = ["HUB_ACCOUNT", "Hub", "hub_view"]

#: The hub's account: none of a scenario's (those are 123456789012 and 2100000000NN).
HUB_ACCOUNT = "990000000001"
HUB_BUS = "outpost-mesh-hub-fleet"
_RULE = "FleetEventsRule"  # hub.yaml's rule on the bus: its pattern is the one used here
_QUEUE = "outpost-mesh-hub-view"
_MAX_MESSAGES = 10  # SQS ReceiveMessage's most per call


class Hub:
    """hub.yaml's bus and rule in :data:`HUB_ACCOUNT`, delivering to a queue the runner reads."""

    def __init__(self, sandbox: Sandbox, root: Path) -> None:
        caller = access_key("runner", HUB_ACCOUNT)
        rule = load_template(root / "hub.yaml").doc["Resources"][_RULE]["Properties"]
        events = sandbox.client("events", caller=caller)
        self.sqs = sandbox.client("sqs", caller=caller)
        self.bus_arn = str(events.create_event_bus(Name=HUB_BUS)["EventBusArn"])
        self.queue_url = self.sqs.create_queue(QueueName=_QUEUE)["QueueUrl"]
        queue_arn = self.sqs.get_queue_attributes(
            QueueUrl=self.queue_url, AttributeNames=["QueueArn"]
        )["Attributes"]["QueueArn"]
        events.put_rule(
            Name=_RULE, EventBusName=HUB_BUS, EventPattern=json.dumps(rule["EventPattern"])
        )
        events.put_targets(
            Rule=_RULE, EventBusName=HUB_BUS, Targets=[{"Id": "view", "Arn": queue_arn}]
        )
        self._seen: list[dict[str, Any]] = []

    def received(self) -> list[dict[str, Any]]:
        """Every event the rule delivered so far (each once, oldest first)."""
        while True:
            messages = self.sqs.receive_message(
                QueueUrl=self.queue_url, MaxNumberOfMessages=_MAX_MESSAGES
            ).get("Messages", [])
            if not messages:
                return list(self._seen)
            for message in messages:
                self._seen.append(json.loads(message["Body"]))
                self.sqs.delete_message(
                    QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"]
                )


def hub_view(events: list[dict[str, Any]], ids: IdMap) -> list[dict[str, str]]:
    """The report's ``hub``: each event as ``{"account", "detail_type", "vpc", "summary"}`` in
    the scenario's words (the sending account by name), sorted."""
    words = Translator(ids)
    names = {account_id: name for name, account_id in ids.accounts.items()}
    view = []
    for event in events:
        raw = event.get("detail")
        detail: dict[str, Any] = raw if isinstance(raw, dict) else {}
        account = str(event.get("account", ""))
        view.append(
            {
                "account": names.get(account, account),
                "detail_type": str(event.get("detail-type", "")),
                "vpc": words.name(str(detail.get("vpc_id", ""))),
                "summary": words.text(str(detail.get("summary", ""))),
            }
        )
    return sorted(view, key=lambda e: (e["account"], e["vpc"], e["detail_type"], e["summary"]))
