"""The ownership ledger, the per-VPC lease and quarantine, in one DynamoDB table.

- ``codec``: attribute values <-> plain values, on boto3's TypeSerializer/TypeDeserializer.
- ``items``: the table's layout, one codec per record type, and its fleet index; nothing else
  spells an item.
- ``table``: the DynamoDB calls, their error mapping (``errors.from_client_error``), create_table.
- ``lease``: the per-VPC lease (claim, trigger counter, release) and LeaseClaim.
- ``store``: LedgerStore: owned routes and associations, findings, stashed route batches,
  subnet/route table -> VPC locations, managed VPCs, quarantines (and the lease, inherited);
  ``fleet()``: every VPC's ledger in one paginated read of the fleet index.
- ``approvals``: a VPC's approval request (propose, wait, decide) and its history.
- ``fleet``: FleetLedger (what ``fleet()`` returns) and the decoding it shares with ``load``.
"""

from outpost_mesh.ledger.fleet import FleetLedger
from outpost_mesh.ledger.items import Quarantine
from outpost_mesh.ledger.lease import DEFAULT_LEASE_SECONDS, LeaseClaim
from outpost_mesh.ledger.store import DEFAULT_QUARANTINE_SECONDS, PLAN_TTL_SECONDS, LedgerStore
from outpost_mesh.ledger.table import create_table

__all__ = [
    "DEFAULT_LEASE_SECONDS",
    "DEFAULT_QUARANTINE_SECONDS",
    "PLAN_TTL_SECONDS",
    "FleetLedger",
    "LeaseClaim",
    "LedgerStore",
    "Quarantine",
    "create_table",
]
