"""PutEvents to an event bus of another account (a member's notices reaching the hub's bus).

moto's EventBridge takes only the bus name of an ``EventBusName`` ARN and looks for it in the
caller's own account, and it writes its own account as the event's ``account``. AWS delivers an
entry to the bus its ARN names, in the bus's account (when the bus's resource policy admits the
sender: hub.yaml admits the Organization), and the event's ``account`` is the sender's
(EventBridge API reference, PutEventsRequestEntry ``EventBusName``; EventBridge user guide,
"Sending and receiving events between AWS accounts"). The sandbox does not evaluate the policy.

moto also delivers an event to a target without ``InputTransformer`` through a template that
leaves out ``account``; AWS delivers the whole event (EventBridge user guide, "Amazon EventBridge
events": ``account`` is a field of every event). :func:`whole_event` is that template with it.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from typing import Any

_BUS_ARN = re.compile(r"arn:aws[\w-]*:events:[\w-]+:(\d{12}):event-bus/")
_SENDER = threading.Lock()

Method = Callable[..., Any]


def whole_event(original: str) -> str:
    """moto's EventTemplateParser.DEFAULT_EVENT_INPUT_TEMPLATE, plus the event's account."""
    source = '"source": "<source>", '
    return original.replace(source, source + '"account": "<account>", ')


def _bus_account(entry: dict[str, Any], default: str) -> str:
    found = _BUS_ARN.match(str(entry.get("EventBusName") or ""))
    return found.group(1) if found else default


def to_the_bus_account(original: Method) -> Method:
    """EventsBackend.put_events that puts each entry on the bus its ARN names, in that account,
    with the sender's account as the event's ``account``."""

    def put_events(self: Any, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        targets = {_bus_account(e, self.account_id) for e in events}
        if targets <= {self.account_id}:
            return original(self, events)  # type: ignore[no-any-return]
        from moto.events.models import events_backends

        results: list[dict[str, Any]] = [{} for _ in events]
        accounts = [_bus_account(e, self.account_id) for e in events]
        for account in sorted(targets):
            picked = [i for i, named in enumerate(accounts) if named == account]
            backend = events_backends[account][self.region_name]
            with _SENDER:  # moto writes its backend's account_id as the event's account
                own, backend.account_id = backend.account_id, self.account_id
                try:
                    answered = original(backend, [events[i] for i in picked])
                finally:
                    backend.account_id = own
            for index, result in zip(picked, answered, strict=True):
                results[index] = result
        return results

    return put_events
