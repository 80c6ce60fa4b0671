"""``LedgerStore``: what the system owns, the findings, stashed batches, locations, quarantines.

Every item is encoded and decoded by its codec in ``items``; the lease operations come from
``lease.Leases``, the DynamoDB calls and their error mapping from ``table.LedgerTable``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from outpost_mesh.ledger.approvals import Approvals
from outpost_mesh.ledger.codec import Item, key, text
from outpost_mesh.ledger.fleet import FleetLedger, LedgerItems
from outpost_mesh.ledger.items import (
    AssociationItem,
    FindingItem,
    FleetIndex,
    LocationItem,
    ManagedVpcItem,
    Owned,
    PlanBatchItem,
    Quarantine,
    QuarantineItems,
    QuotaRefusalItem,
    RouteItem,
    decode_owned,
    vpc_pk,
)
from outpost_mesh.ledger.lease import Leases
from outpost_mesh.model import Finding, Ledger, OwnedAssociation, OwnedRoute, QuotaRefusal

DEFAULT_QUARANTINE_SECONDS = 24 * 3600
PLAN_TTL_SECONDS = (
    2 * 24 * 3600
)  # stashed route batches outlive any execution (TTL attribute `ttl`)


class LedgerStore(Leases, Approvals):
    """DynamoDB access for the ledger, lease, approvals and quarantine. One instance per table."""

    # -- ledger -----------------------------------------------------------------------------
    def _owned(self, vpc_id: str) -> Iterator[Owned[OwnedRoute] | Owned[OwnedAssociation]]:
        """The VPC's owned routes and associations as recorded (one query, every page)."""
        for item in self._query(vpc_pk(vpc_id)):
            owned = decode_owned(item)
            if owned is not None:
                yield owned

    def load(self, vpc_id: str) -> Ledger:
        """The VPC's owned routes and associations and its tables' quota refusals (one query)."""
        items = LedgerItems()
        for item in self._query(vpc_pk(vpc_id)):
            items.add_owned(vpc_id, item)
        return items.ledger(vpc_id)

    def fleet(self) -> FleetLedger:
        """Every VPC's ledger and open findings, and the managed VPCs: one paginated Query of the
        fleet index and one of the MANAGED partition, whatever the number of VPCs (a sweep's
        ledger read). The index is read eventually consistently (an index has no consistent
        reads): a write of the last second may be missing, which a level-triggered sweep
        tolerates.

        Items written before the index lack its attributes and are not in it. A managed VPC
        whose MANAGED item lacks them is read the old way (its partition and its findings,
        decoded as ``load`` and ``open_findings`` do) and migrated: its items gain the index
        attributes, its MANAGED item last, so one sweep migrates every VPC and one interrupted
        leaves the rest to the next (``FleetLedger.fallbacks`` counts them).
        """
        items = LedgerItems()
        managed: set[str] = set()
        unindexed: list[Item] = []
        pages = 0
        for page in self._partition_pages(ManagedVpcItem.PK, ManagedVpcItem.PREFIX):
            pages += 1
            for item in page:
                managed.add(ManagedVpcItem.decode(item))
                if not FleetIndex.indexed(item):
                    unindexed.append(item)
        for page in self._pages(FleetIndex.NAME, **FleetIndex.query()):
            pages += 1
            for item in page:
                vpc_id = FleetIndex.vpc_id(item)
                pk = text(item, "pk")
                if pk == vpc_pk(vpc_id):
                    items.add_owned(vpc_id, item)
                elif pk == FindingItem.pk(vpc_id):
                    items.add_finding(vpc_id, item)
                # a MANAGED item's entry: the consistent read above has it already
        for item in unindexed:
            pages += self._migrate(ManagedVpcItem.decode(item), item, items)
        return items.fleet(managed, pages, len(unindexed))

    def _migrate(self, vpc_id: str, managed: Item, items: LedgerItems) -> int:
        """Read a VPC whose items predate the fleet index into ``items``, then give them the
        index attributes (the MANAGED item last); returns the Query pages read."""
        items.forget(vpc_id)  # any entries it has already are read again, whole
        pages = 0
        entries: list[tuple[Item, str]] = []
        for pk, add in (
            (vpc_pk(vpc_id), items.add_owned),
            (FindingItem.pk(vpc_id), items.add_finding),
        ):
            for page in self._partition_pages(pk):
                pages += 1
                entries += [
                    (item, text(item, "sk"))
                    for item in page
                    if add(vpc_id, item) and not FleetIndex.indexed(item)
                ]
        for item, sk in [*entries, (managed, FleetIndex.MANAGED_SK)]:
            self._update(vpc_id, tolerate_condition=True, **FleetIndex.entry(item, vpc_id, sk))
        return pages

    def remember_quota_refusal(self, vpc_id: str, refusal: QuotaRefusal) -> None:
        """Keep what a RouteLimitExceeded taught about a table (the planner reads it back)."""
        self._put(QuotaRefusalItem.encode(vpc_id, refusal, int(self.clock())))

    def forget_quota_refusal(self, vpc_id: str, route_table_id: str) -> None:
        self._delete(vpc_pk(vpc_id), QuotaRefusalItem.sk(route_table_id))

    def record_route(self, vpc_id: str, route: OwnedRoute, owner: str) -> None:
        self._mark_managed(vpc_id)
        self._put(RouteItem.encode(vpc_id, route, owner, int(self.clock())))

    def route_owner(self, vpc_id: str, route_table_id: str, destination: str) -> str | None:
        item = self._get(vpc_pk(vpc_id), RouteItem.sk(route_table_id, destination))
        return RouteItem.decode(item).owner if item else None

    def owned_by(self, vpc_id: str, owner: str) -> tuple[list[OwnedRoute], list[OwnedAssociation]]:
        """What one actor (an execution, a CLI run) created in the VPC: its rollback set."""
        routes: list[tuple[int, OwnedRoute]] = []
        associations: list[tuple[int, OwnedAssociation]] = []
        for owned in self._owned(vpc_id):
            if owned.owner != owner:
                continue
            record = owned.record
            if isinstance(record, OwnedRoute):
                routes.append((owned.created_at, record))
            else:
                associations.append((owned.created_at, record))
        # newest first: undo in reverse order of creation
        routes.sort(key=lambda pair: (pair[0], pair[1]), reverse=True)
        associations.sort(key=lambda pair: (pair[0], pair[1]), reverse=True)
        return [r for _, r in routes], [a for _, a in associations]

    def forget_route(self, vpc_id: str, route_table_id: str, destination: str) -> None:
        self._delete(vpc_pk(vpc_id), RouteItem.sk(route_table_id, destination))

    def record_association(self, vpc_id: str, assoc: OwnedAssociation, owner: str) -> None:
        self._mark_managed(vpc_id)
        self._put(AssociationItem.encode(vpc_id, assoc, owner, int(self.clock())))

    def forget_association(self, vpc_id: str, association_id: str) -> None:
        self._delete(vpc_pk(vpc_id), AssociationItem.sk(association_id))

    def _mark_managed(self, vpc_id: str) -> None:
        """Only a new MANAGED item is written: one from before the fleet index stays without
        its attributes (the VPC's items are not all in the index) until ``fleet`` migrates it."""
        self._put(ManagedVpcItem.encode(vpc_id), ManagedVpcItem.NEW)

    def managed_vpcs(self) -> list[str]:
        return sorted(
            ManagedVpcItem.decode(item)
            for item in self._query(ManagedVpcItem.PK, ManagedVpcItem.PREFIX)
        )

    # -- a pass's route batches (kept out of the Step Functions state) ----------------------
    def stash_plan_batches(self, execution: str, batches: list[dict[str, Any]]) -> list[str]:
        """Store each batch as one item (expires after PLAN_TTL_SECONDS); returns their keys."""
        stamp = f"{int(self.clock() * 1000):015d}"  # one set of keys per pass of the execution
        keys = []
        for index, batch in enumerate(batches):
            key = f"{stamp}-{index:05d}"
            ttl = int(self.clock() + PLAN_TTL_SECONDS)
            self._put(PlanBatchItem.encode(execution, key, batch, ttl))
            keys.append(key)
        return keys

    def has_stashed_plan(self, execution: str) -> bool:
        """Whether an earlier pass (or try) of the execution stashed route batches."""
        return self._any(PlanBatchItem.pk(execution))

    def stashed_plan_batch(self, execution: str, key: str) -> dict[str, Any] | None:
        item = self._get(PlanBatchItem.pk(execution), key)
        return PlanBatchItem.decode(item) if item is not None else None

    # -- findings ---------------------------------------------------------------------------
    def record_findings(self, vpc_id: str, findings: tuple[Finding, ...], source: str) -> None:
        """Keep every finding reported for the VPC (``status`` and the demo report read them)."""
        for finding in findings:
            self._put(FindingItem.encode(vpc_id, finding, source, int(self.clock())))

    def findings(self, vpc_id: str) -> list[Finding]:
        """Every finding ever reported for the VPC, open or resolved (the demo report's list)."""
        return sorted(FindingItem.decode(i) for i in self._query(FindingItem.pk(vpc_id)))

    def open_findings(self, vpc_id: str) -> list[Finding]:
        """Findings still standing: recorded and not resolved by a later plan since."""
        items = LedgerItems()
        for item in self._query(FindingItem.pk(vpc_id)):
            items.add_finding(vpc_id, item)
        return items.open_findings(vpc_id)

    def resolve_findings(self, vpc_id: str, current: tuple[Finding, ...]) -> list[Finding]:
        """Mark the open findings that ``current`` (a fresh plan's) no longer has as resolved.

        The item stays (``findings`` still lists it) and leaves the fleet index; recording it
        again re-opens it, so a finding that comes back is new again (and notified again).
        Returns what was resolved.
        """
        still = {(f.kind, f.subject) for f in current}
        resolved: list[Finding] = []
        for item in self._query(FindingItem.pk(vpc_id)):
            if FindingItem.resolved(item):
                continue
            finding = FindingItem.decode(item)
            if (finding.kind, finding.subject) in still:
                continue
            self._update(vpc_id, **FindingItem.resolve(item, int(self.clock())))
            resolved.append(finding)
        return sorted(resolved)

    # -- where things live (for events that name no VPC) ------------------------------------
    def remember_locations(
        self, vpc_id: str, subnet_ids: tuple[str, ...], route_table_ids: tuple[str, ...]
    ) -> None:
        """Write the subnet/route table -> VPC index items that are missing or wrong: one
        BatchGetItem per 100 and one BatchWriteItem per 25 (a VPC of 150 subnets took 306 calls
        one by one, before the first route of a pass)."""
        wanted = sorted(
            {
                (kind, resource_id)
                for kind, ids in (("SUBNET", subnet_ids), ("RTB", route_table_ids))
                for resource_id in ids
            }
        )
        if not wanted:
            return
        known = {
            text(item, "pk"): LocationItem.decode(item)
            for item in self._get_many([key(LocationItem.pk(*w), LocationItem.SK) for w in wanted])
        }
        self._put_many(
            [
                LocationItem.encode(kind, resource_id, vpc_id)
                for kind, resource_id in wanted
                if known.get(LocationItem.pk(kind, resource_id)) != vpc_id
            ]
        )

    def vpc_of(self, kind: str, resource_id: str) -> str | None:
        """``kind`` is ``SUBNET`` or ``RTB``."""
        item = self._get(LocationItem.pk(kind, resource_id), LocationItem.SK)
        return LocationItem.decode(item) if item else None

    # -- quarantine -------------------------------------------------------------------------
    def quarantine(self, outpost_arn: str, reason: str, seconds: int) -> Quarantine:
        held = Quarantine(outpost_arn, int(self.clock()) + seconds, reason)
        detail, index = QuarantineItems.encode(held)
        self._put(detail)
        self._put(index)
        return held

    def release_quarantine(self, outpost_arn: str) -> None:
        self._delete(QuarantineItems.pk(outpost_arn), QuarantineItems.SK)
        self._delete(QuarantineItems.INDEX_PK, outpost_arn)

    def quarantines(self) -> list[Quarantine]:
        """Quarantines still in force (an expired one no longer counts)."""
        now = self.clock()
        found = []
        for item in self._query(QuarantineItems.INDEX_PK):
            arn, until = QuarantineItems.decode_index(item)
            if until <= now:
                continue
            detail = self._get(QuarantineItems.pk(arn), QuarantineItems.SK)
            found.append(QuarantineItems.decode(item, detail))
        return found

    def quarantined(self) -> frozenset[str]:
        return frozenset(q.outpost_arn for q in self.quarantines())
