"""A VPC's approval request and its history in the ledger table (approval mode).

One ``APPROVAL`` item per VPC holds the latest request (``ApprovalItem``), written by the
execution that holds the VPC's lease (and by the sweep, for a request whose execution stopped):
``propose`` (a pass planned changes that wait), ``wait``
(the execution's task token and the expiry; ``Leases.extend`` keeps the lease until then),
``decide`` (what the person or the sweep answered). ``HISTORY#<vpc>`` keeps one entry per event,
with who did it and the on-premises impact (``status`` shows the latest).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from outpost_mesh.ledger.codec import encode
from outpost_mesh.ledger.items import ApprovalItem, HistoryItem, vpc_pk
from outpost_mesh.ledger.table import LedgerTable
from outpost_mesh.model import Approval, ApprovalStatus

HISTORY_TTL_SECONDS = 90 * 86400  # a VPC's history is kept 90 days
HISTORY_SHOWN = 20  # the latest entries ``history`` returns by default


class Approvals(LedgerTable):
    """The approval operations of the ledger table (``LedgerStore`` has them all)."""

    def approval(self, vpc_id: str) -> Approval | None:
        item = self._get(vpc_pk(vpc_id), ApprovalItem.SK)
        return ApprovalItem.decode(vpc_id, item) if item else None

    def propose(self, approval: Approval) -> None:
        """Record the changes a pass leaves waiting (replaces the VPC's previous request)."""
        self._put(ApprovalItem.encode(replace(approval, requested_at=int(self.clock()))))

    def wait(self, vpc_id: str, holder: str, token: str, *, seconds: int) -> Approval | None:
        """The request of ``holder``'s execution (its ARN) now waits on ``token`` until
        ``seconds`` from now. None: no such request."""
        current = self.approval(vpc_id)
        if current is None or current.execution != holder.rsplit(":", 1)[-1]:
            return None
        now = int(self.clock())
        waiting = replace(
            current, status=ApprovalStatus.WAITING, token=token, expires_at=now + seconds
        )
        self._put(ApprovalItem.encode(waiting))
        return waiting

    def decide(
        self, vpc_id: str, execution: str, status: ApprovalStatus, by: str, reason: str = ""
    ) -> Approval | None:
        """Record the answer to ``execution``'s request (only that one: a newer request of
        another execution stays as it is). None: no such request."""
        current = self.approval(vpc_id)
        if current is None or current.execution != execution:
            return None
        decided = replace(
            current,
            status=status,
            token="",
            decided_by=by,
            decided_at=int(self.clock()),
            reason=reason,
        )
        self._put(ApprovalItem.encode(decided))
        self.add_history(
            vpc_id,
            {
                "event": f"approval-{status}",
                "execution": execution,
                "by": by,
                "reason": reason,
                "changes": len(current.changes),
            },
        )
        return decided

    def add_history(self, vpc_id: str, entry: Mapping[str, Any]) -> None:
        now = self.clock()
        ttl = int(now + HISTORY_TTL_SECONDS)
        self._put(HistoryItem.encode(vpc_id, int(now * 1000), entry, ttl))

    def history(self, vpc_id: str, last: int = HISTORY_SHOWN) -> list[dict[str, Any]]:
        """The VPC's latest ``last`` history entries, oldest first: one Query of the newest
        ``last`` items (sort keys start with the time), not the partition's 90 days."""
        pk = HistoryItem.pk(vpc_id)
        pages = self._pages(
            pk,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues=encode({":pk": pk}),
            ScanIndexForward=False,
            PaginationConfig={"MaxItems": last, "PageSize": last},
        )
        newest = [item for page in pages for item in page][:last]
        return [HistoryItem.decode(item) for item in reversed(newest)]
