"""Every VPC's ledger at once: ``FleetLedger``, what ``LedgerStore.fleet`` returns, and
``LedgerItems``, the one decoding of ledger and finding items that ``load``, ``open_findings``
and ``fleet`` share (so a VPC read through the index is exactly what its own reads return)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from outpost_mesh.ledger.codec import text
from outpost_mesh.ledger.items import ApprovalItem, FindingItem, QuotaRefusalItem, decode_owned
from outpost_mesh.model import (
    Approval,
    Finding,
    Ledger,
    OwnedAssociation,
    OwnedRoute,
    QuotaRefusal,
)


@dataclass(frozen=True)
class FleetLedger:
    """The ledgers and open findings of every VPC the table knows, and the managed ones.

    ``ledgers`` and ``open_findings`` have an entry for every VPC seen (managed, or with an item
    in the index), empty where it owns nothing or has nothing open. ``pages`` counts the Query
    pages read (each one DynamoDB call); ``fallbacks`` the VPCs read the old way and migrated.
    """

    ledgers: Mapping[str, Ledger]
    open_findings: Mapping[str, tuple[Finding, ...]]
    managed: frozenset[str]
    pages: int
    fallbacks: int = 0

    def ledger(self, vpc_id: str) -> Ledger:
        """The VPC's ledger; empty for a VPC the table knows nothing of."""
        return self.ledgers.get(vpc_id) or Ledger(vpc_id)


class LedgerItems:
    """Items of VPC partitions (``VPC#``) and findings (``FINDINGS#``) as read, decoded per VPC."""

    def __init__(self) -> None:
        self._vpcs: set[str] = set()
        self._routes: defaultdict[str, list[OwnedRoute]] = defaultdict(list)
        self._associations: defaultdict[str, list[OwnedAssociation]] = defaultdict(list)
        self._refusals: defaultdict[str, list[QuotaRefusal]] = defaultdict(list)
        self._findings: defaultdict[str, list[Finding]] = defaultdict(list)
        self._approvals: dict[str, Approval] = {}

    def add_owned(self, vpc_id: str, item: Mapping[str, Any]) -> bool:
        """An item of the VPC's partition; False for one that is no part of its ledger (the
        lease)."""
        self._vpcs.add(vpc_id)
        if text(item, "sk") == ApprovalItem.SK:
            self._approvals[vpc_id] = ApprovalItem.decode(vpc_id, item)
            return True
        if text(item, "sk").startswith(QuotaRefusalItem.PREFIX):
            self._refusals[vpc_id].append(QuotaRefusalItem.decode(item))
            return True
        owned = decode_owned(item)
        if owned is None:
            return False
        record = owned.record
        if isinstance(record, OwnedRoute):
            self._routes[vpc_id].append(record)
        else:
            self._associations[vpc_id].append(record)
        return True

    def add_finding(self, vpc_id: str, item: Mapping[str, Any]) -> bool:
        """An item of the VPC's findings; False for a resolved one (left out)."""
        self._vpcs.add(vpc_id)
        if FindingItem.resolved(item):
            return False
        self._findings[vpc_id].append(FindingItem.decode(item))
        return True

    def forget(self, vpc_id: str) -> None:
        """Drop what was read of the VPC (it is about to be read whole another way)."""
        for records in (self._routes, self._associations, self._refusals, self._findings):
            records.pop(vpc_id, None)
        self._approvals.pop(vpc_id, None)

    def ledger(self, vpc_id: str) -> Ledger:
        return Ledger(
            vpc_id,
            tuple(sorted(self._routes[vpc_id])),
            tuple(sorted(self._associations[vpc_id])),
            tuple(sorted(self._refusals[vpc_id])),
            self._approvals.get(vpc_id),
        )

    def open_findings(self, vpc_id: str) -> list[Finding]:
        return sorted(self._findings[vpc_id])

    def fleet(self, managed: Iterable[str], pages: int, fallbacks: int) -> FleetLedger:
        known = frozenset(managed)
        vpcs = sorted(self._vpcs | known)
        return FleetLedger(
            ledgers={vpc: self.ledger(vpc) for vpc in vpcs},
            open_findings={vpc: tuple(self.open_findings(vpc)) for vpc in vpcs},
            managed=known,
            pages=pages,
            fallbacks=fallbacks,
        )
