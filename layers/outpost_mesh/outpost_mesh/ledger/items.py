"""The ledger table's items: one codec per record type, on boto3's TypeSerializer/TypeDeserializer.

Key schema: ``pk`` (S, hash) and ``sk`` (S, range). Items, each with its codec:

==================  ==========================  ===============  ==============================
pk                  sk                          codec            what
==================  ==========================  ===============  ==============================
VPC#vpc-1           ROUTE#rtb-1#10.7.11.0/24    RouteItem        a route it created (no tags)
VPC#vpc-1           ASSOC#lgw-vpc-assoc-1       AssociationItem  an LGW association it made
VPC#vpc-1           LEASE                       LeaseItem        who works on the VPC, triggers
VPC#vpc-1           QUOTA#rtb-1                 QuotaRefusalItem a RouteLimitExceeded remembered
VPC#vpc-1           APPROVAL                    ApprovalItem     its latest approval request
HISTORY#vpc-1       <stamp>#<event>             HistoryItem      what happened to it, and who
MANAGED             VPC#vpc-1                   ManagedVpcItem   a VPC it ever changed (sweeps)
SUBNET#subnet-1     VPC                         LocationItem     the VPC of a subnet it routes
RTB#rtb-1           VPC                         LocationItem     the VPC of a table it has seen
OUTPOST#arn         QUARANTINE                  QuarantineItems  a rack left out: until, why
QUARANTINED         arn                         QuarantineItems  the racks left out, until when
FINDINGS#vpc-1      <kind>#<subject>            FindingItem      a finding reported for the VPC
PLAN#<execution>    <stamp>-<index>             PlanBatchItem    a pass's route batch (TTL)
==================  ==========================  ===============  ==============================

The sparse global secondary index ``fleet`` (``FleetIndex``: hash ``fleet``, range ``fleet_sk``,
every attribute projected) holds the routes, associations, quota refusals, approval requests, open
findings and MANAGED items of every VPC: what a sweep reads in one paginated Query. The lease,
locations, quarantines, history and stashed batches do not carry it.

DeleteSubnet and route-table association events name no VPC (docs/aws-facts.md, Events): the
SUBNET# and RTB# items let a trigger find it.

A codec names its item's key, encodes a record into the low-level client's attribute values and
decodes it back (with ``codec``'s TypeSerializer/TypeDeserializer helpers); nothing else in the
package spells ``{"S": ...}``. Attributes that older items may lack decode to the defaults they
always had. The layout is what existing tables hold: changing a name or type here is a data
migration.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from outpost_mesh.ledger.codec import (
    Item,
    binary,
    encode,
    key,
    number,
    optional_text,
    stored_key,
    text,
    texts,
)
from outpost_mesh.limits import LEDGER_MESSAGE_BYTES, bounded_name, clip_bytes
from outpost_mesh.model import (
    Approval,
    ApprovalStatus,
    Finding,
    FindingKind,
    OwnedAssociation,
    OwnedRoute,
    QuotaRefusal,
)

R = TypeVar("R", OwnedRoute, OwnedAssociation)


# -- the fleet index: every VPC's ledger in one paginated Query ---------------------------------
class FleetIndex:
    """The sparse GSI ``fleet``: ``fleet`` = ``VPC`` (hash), ``fleet_sk`` = ``<vpc>#<sk>`` (range;
    the MANAGED item's: ``<vpc>#MANAGED``), so a VPC's items sit together in the index.

    One hash key value makes one hot key on purpose: every indexed write lands on one index
    partition. Those writes follow route changes, which EC2 paces at 5 mutating calls a second per
    account and Region (docs/aws-facts.md, "Quotas and throttling"), far under the 1,000 writes
    a second one partition takes (DynamoDB Developer Guide, "Quotas"); a GSI has no item
    collection size limit (the 10 GB one is for local indexes).

    An item without ``fleet`` is not in the index: items written before it existed, until
    ``LedgerStore.fleet`` migrates their VPC (``entry``), and resolved findings (``FindingItem``).
    """

    NAME = "fleet"
    HASH = "fleet"
    RANGE = "fleet_sk"
    VALUE = "VPC"
    MANAGED_SK = "MANAGED"
    SK_CHARS = 1024  # a sort key's limit in bytes, an index's too (DynamoDB "Quotas"); ASCII

    @staticmethod
    def attributes(vpc_id: str, sk: str) -> dict[str, str]:
        """The index attributes of a VPC's item whose table sort key is ``sk``."""
        return {
            FleetIndex.HASH: FleetIndex.VALUE,
            FleetIndex.RANGE: bounded_name(f"{vpc_id}#{sk}", FleetIndex.SK_CHARS),
        }

    @staticmethod
    def query() -> dict[str, Any]:
        """The Query arguments (past the table name) that read the whole index."""
        return {
            "IndexName": FleetIndex.NAME,
            "KeyConditionExpression": "#fleet = :fleet",
            "ExpressionAttributeNames": {"#fleet": FleetIndex.HASH},
            "ExpressionAttributeValues": encode({":fleet": FleetIndex.VALUE}),
        }

    @staticmethod
    def indexed(item: Mapping[str, Any]) -> bool:
        return FleetIndex.HASH in item

    @staticmethod
    def vpc_id(item: Mapping[str, Any]) -> str:
        """The VPC of an item read from the index (a VPC id has no ``#``)."""
        return text(item, FleetIndex.RANGE).split("#", 1)[0]

    @staticmethod
    def entry(item: Mapping[str, Any], vpc_id: str, sk: str) -> dict[str, Any]:
        """UpdateItem arguments (past the table name) that give an item read from the table its
        index attributes and change nothing else; an item deleted since it was read stays
        deleted (the condition fails)."""
        return {
            "Key": stored_key(item),
            "UpdateExpression": "SET #fleet = :fleet, #fleet_sk = :fleet_sk",
            "ConditionExpression": "attribute_exists(pk)",
            "ExpressionAttributeNames": {"#fleet": FleetIndex.HASH, "#fleet_sk": FleetIndex.RANGE},
            "ExpressionAttributeValues": encode(
                {f":{name}": value for name, value in FleetIndex.attributes(vpc_id, sk).items()}
            ),
        }


# -- a VPC's partition: what it owns, and its lease ---------------------------------------------
def vpc_pk(vpc_id: str) -> str:
    return f"VPC#{vpc_id}"


@dataclass(frozen=True)
class Owned(Generic[R]):
    """An owned route or association as recorded: who created it, and when (epoch seconds)."""

    record: R
    owner: str | None
    created_at: int


class RouteItem:
    """``VPC#<vpc>`` / ``ROUTE#<rtb>#<destination>``: a route the system created."""

    PREFIX = "ROUTE#"

    @staticmethod
    def sk(route_table_id: str, destination: str) -> str:
        return f"{RouteItem.PREFIX}{route_table_id}#{destination}"

    @staticmethod
    def encode(vpc_id: str, route: OwnedRoute, owner: str, created_at: int) -> Item:
        sk = RouteItem.sk(route.route_table_id, route.destination)
        return encode(
            {
                "pk": vpc_pk(vpc_id),
                "sk": sk,
                **FleetIndex.attributes(vpc_id, sk),
                "route_table_id": route.route_table_id,
                "destination": route.destination,
                "local_gateway_id": route.local_gateway_id,
                "destination_subnet_id": route.destination_subnet_id,
                "source_subnet_ids": tuple(route.source_subnet_ids),
                "owner": owner,
                "created_at": created_at,
            }
        )

    @staticmethod
    def decode(item: Mapping[str, Any]) -> Owned[OwnedRoute]:
        route = OwnedRoute(
            route_table_id=text(item, "route_table_id"),
            destination=text(item, "destination"),
            local_gateway_id=text(item, "local_gateway_id"),
            destination_subnet_id=text(item, "destination_subnet_id", ""),
            source_subnet_ids=texts(item, "source_subnet_ids"),
        )
        return Owned(route, optional_text(item, "owner"), number(item, "created_at", 0))


class AssociationItem:
    """``VPC#<vpc>`` / ``ASSOC#<association>``: an LGW route table association it created."""

    PREFIX = "ASSOC#"

    @staticmethod
    def sk(association_id: str) -> str:
        return f"{AssociationItem.PREFIX}{association_id}"

    @staticmethod
    def encode(vpc_id: str, assoc: OwnedAssociation, owner: str, created_at: int) -> Item:
        sk = AssociationItem.sk(assoc.association_id)
        return encode(
            {
                "pk": vpc_pk(vpc_id),
                "sk": sk,
                **FleetIndex.attributes(vpc_id, sk),
                "association_id": assoc.association_id,
                "lgw_route_table_id": assoc.lgw_route_table_id,
                "outpost_arn": assoc.outpost_arn,
                "owner": owner,
                "created_at": created_at,
            }
        )

    @staticmethod
    def decode(item: Mapping[str, Any]) -> Owned[OwnedAssociation]:
        assoc = OwnedAssociation(
            association_id=text(item, "association_id"),
            lgw_route_table_id=text(item, "lgw_route_table_id"),
            outpost_arn=text(item, "outpost_arn", ""),
        )
        return Owned(assoc, optional_text(item, "owner"), number(item, "created_at", 0))


class QuotaRefusalItem:
    """``VPC#<vpc>`` / ``QUOTA#<rtb>``: what a ``RouteLimitExceeded`` taught about a table."""

    PREFIX = "QUOTA#"

    @staticmethod
    def sk(route_table_id: str) -> str:
        return f"{QuotaRefusalItem.PREFIX}{route_table_id}"

    @staticmethod
    def encode(vpc_id: str, refusal: QuotaRefusal, learned_at: int) -> Item:
        sk = QuotaRefusalItem.sk(refusal.route_table_id)
        return encode(
            {
                "pk": vpc_pk(vpc_id),
                "sk": sk,
                **FleetIndex.attributes(vpc_id, sk),
                "route_table_id": refusal.route_table_id,
                "digest": refusal.digest,
                "routes": refusal.routes,
                "quota": refusal.quota,
                "learned_at": learned_at,
            }
        )

    @staticmethod
    def decode(item: Mapping[str, Any]) -> QuotaRefusal:
        return QuotaRefusal(
            route_table_id=text(item, "route_table_id"),
            digest=text(item, "digest"),
            routes=number(item, "routes", 0),
            quota=number(item, "quota", 0),
        )


class ApprovalItem:
    """``VPC#<vpc>`` / ``APPROVAL``: the VPC's latest approval request, in the fleet index (the
    sweep skips a VPC that waits and fails a request that expired). The waiting part of the plan
    is kept zlib-compressed (``plan_z``): a request for thousands of routes stays far under
    DynamoDB's 400 KB item."""

    SK = "APPROVAL"

    @staticmethod
    def key(vpc_id: str) -> Item:
        return key(vpc_pk(vpc_id), ApprovalItem.SK)

    @staticmethod
    def encode(approval: Approval) -> Item:
        body = json.dumps(
            {"changes": list(approval.changes), "plan": dict(approval.plan)},
            separators=(",", ":"),
        )
        return encode(
            {
                "pk": vpc_pk(approval.vpc_id),
                "sk": ApprovalItem.SK,
                **FleetIndex.attributes(approval.vpc_id, ApprovalItem.SK),
                "execution": approval.execution,
                "status": str(approval.status),
                "digest": approval.digest,
                "requested_at": approval.requested_at,
                "expires_at": approval.expires_at,
                "token": approval.token,
                "decided_by": approval.decided_by,
                "decided_at": approval.decided_at,
                "reason": clip_bytes(approval.reason, LEDGER_MESSAGE_BYTES),
                "plan_z": zlib.compress(body.encode("utf-8"), 9),
            }
        )

    @staticmethod
    def decode(vpc_id: str, item: Mapping[str, Any]) -> Approval:
        body = json.loads(zlib.decompress(binary(item, "plan_z")))
        return Approval(
            vpc_id=vpc_id,
            execution=text(item, "execution"),
            status=ApprovalStatus(text(item, "status")),
            digest=text(item, "digest"),
            changes=tuple(body.get("changes", ())),
            requested_at=number(item, "requested_at", 0),
            expires_at=number(item, "expires_at", 0),
            token=text(item, "token", ""),
            decided_by=text(item, "decided_by", ""),
            decided_at=number(item, "decided_at", 0),
            reason=text(item, "reason", ""),
            plan=body.get("plan", {}),
        )


class HistoryItem:
    """``HISTORY#<vpc>`` / ``<stamp>#<event>``: one line of what happened to the VPC (a pass
    applied, an approval asked for, given, refused or expired), who did it and the on-premises
    impact; kept ``HISTORY_TTL_SECONDS`` (DynamoDB's TTL deletes it by ``ttl``)."""

    PREFIX = "HISTORY#"

    @staticmethod
    def pk(vpc_id: str) -> str:
        return f"{HistoryItem.PREFIX}{vpc_id}"

    @staticmethod
    def encode(vpc_id: str, at_ms: int, entry: Mapping[str, Any], ttl: int) -> Item:
        event = str(entry.get("event", "note"))
        body = json.dumps(dict(entry), separators=(",", ":"), sort_keys=True)
        return encode(
            {
                "pk": HistoryItem.pk(vpc_id),
                "sk": f"{at_ms:015d}#{event}",
                "body": clip_bytes(body, 64 * 1024),
                "ttl": ttl,
            }
        )

    @staticmethod
    def decode(item: Mapping[str, Any]) -> dict[str, Any]:
        try:
            entry: dict[str, Any] = json.loads(text(item, "body"))
        except ValueError:  # clipped
            entry = {"event": text(item, "sk").split("#", 1)[-1], "clipped": True}
        entry["at"] = int(text(item, "sk").split("#", 1)[0]) / 1000
        return entry


def decode_owned(item: Mapping[str, Any]) -> Owned[OwnedRoute] | Owned[OwnedAssociation] | None:
    """An item of a VPC's partition: its owned route or association; None for the lease."""
    sk = text(item, "sk")
    if sk.startswith(RouteItem.PREFIX):
        return RouteItem.decode(item)
    if sk.startswith(AssociationItem.PREFIX):
        return AssociationItem.decode(item)
    return None


class LeaseItem:
    """``VPC#<vpc>`` / ``LEASE``: holder, expires_at, claimed_at, triggers (counted), seen.

    Written only by UpdateItem expressions (lease.py); this codec names the key and reads it.
    """

    SK = "LEASE"

    @staticmethod
    def pk(vpc_id: str) -> str:
        return vpc_pk(vpc_id)

    @staticmethod
    def key(vpc_id: str) -> Item:
        return key(vpc_pk(vpc_id), LeaseItem.SK)

    @staticmethod
    def decode(item: Mapping[str, Any]) -> dict[str, Any]:
        """What ``LedgerStore.lease`` returns (a released lease has no holder: None)."""
        return {
            "holder": optional_text(item, "holder"),
            "expires_at": number(item, "expires_at", 0),
            "triggers": number(item, "triggers", 0),
            "seen": number(item, "seen", 0),
        }

    @staticmethod
    def triggers(attributes: Mapping[str, Any]) -> int:
        """The trigger counter of an UpdateItem's ``ALL_NEW`` attributes."""
        return number(attributes, "triggers")


class ManagedVpcItem:
    """``MANAGED`` / ``VPC#<vpc>``: a VPC the system ever changed (the sweeps' list). Its index
    attributes say the VPC's items are all in the fleet index: a new one is written only where
    none exists (``NEW``), and an old one gains them when ``LedgerStore.fleet`` migrates the VPC."""

    PK = "MANAGED"
    PREFIX = "VPC#"
    NEW = "attribute_not_exists(pk)"  # the ConditionExpression its PutItem is written with

    @staticmethod
    def encode(vpc_id: str) -> Item:
        return encode(
            {
                "pk": ManagedVpcItem.PK,
                "sk": f"{ManagedVpcItem.PREFIX}{vpc_id}",
                "vpc_id": vpc_id,
                **FleetIndex.attributes(vpc_id, FleetIndex.MANAGED_SK),
            }
        )

    @staticmethod
    def decode(item: Mapping[str, Any]) -> str:
        return text(item, "vpc_id")


class LocationItem:
    """``SUBNET#<subnet>`` or ``RTB#<rtb>`` / ``VPC``: the VPC a subnet or route table is in."""

    SK = "VPC"

    @staticmethod
    def pk(kind: str, resource_id: str) -> str:
        return f"{kind}#{resource_id}"

    @staticmethod
    def encode(kind: str, resource_id: str, vpc_id: str) -> Item:
        return encode(
            {"pk": LocationItem.pk(kind, resource_id), "sk": LocationItem.SK, "vpc_id": vpc_id}
        )

    @staticmethod
    def decode(item: Mapping[str, Any]) -> str | None:
        return optional_text(item, "vpc_id")


# -- racks left out -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Quarantine:
    outpost_arn: str
    until: int
    reason: str


class QuarantineItems:
    """Two items per quarantined rack: ``OUTPOST#<arn>`` / ``QUARANTINE`` (the detail: until,
    reason) and ``QUARANTINED`` / ``<arn>`` (the index one query lists: until)."""

    SK = "QUARANTINE"
    INDEX_PK = "QUARANTINED"

    @staticmethod
    def pk(outpost_arn: str) -> str:
        return f"OUTPOST#{outpost_arn}"

    @staticmethod
    def encode(quarantine: Quarantine) -> tuple[Item, Item]:
        """The detail item and the index item."""
        arn = quarantine.outpost_arn
        detail = encode(
            {
                "pk": QuarantineItems.pk(arn),
                "sk": QuarantineItems.SK,
                "outpost_arn": arn,
                "until": quarantine.until,
                "reason": quarantine.reason,
            }
        )
        index = encode({"pk": QuarantineItems.INDEX_PK, "sk": arn, "until": quarantine.until})
        return detail, index

    @staticmethod
    def decode_index(item: Mapping[str, Any]) -> tuple[str, int]:
        """(outpost ARN, until) of an index item."""
        return text(item, "sk"), number(item, "until")

    @staticmethod
    def decode(index: Mapping[str, Any], detail: Mapping[str, Any] | None) -> Quarantine:
        arn, until = QuarantineItems.decode_index(index)
        return Quarantine(arn, until, text(detail or {}, "reason", ""))


# -- findings -----------------------------------------------------------------------------------
class FindingItem:
    """``FINDINGS#<vpc>`` / ``<kind>#<subject>``: a finding reported for the VPC, by whom, when
    last seen, and ``resolved_at`` once a later plan no longer has it. Resolving it takes it out
    of the fleet index (the sweep reads open findings only); recording it again puts it back.

    Bounded (rule 10; docs/aws-facts.md, "Size limits"): a sort key is at most 1,024 bytes, so a
    longer ``<kind>#<subject>`` keeps its head and a hash of all of it (the ``subject`` attribute
    stays whole); the message is cut at ``LEDGER_MESSAGE_BYTES``, far under the 400 KB item.
    """

    SK_CHARS = 1024  # the sort key's limit in bytes; subjects are AWS ids, ARNs, CIDRs (ASCII)

    @staticmethod
    def pk(vpc_id: str) -> str:
        return f"FINDINGS#{vpc_id}"

    @staticmethod
    def encode(vpc_id: str, finding: Finding, source: str, last_seen: int) -> Item:
        kind = str(finding.kind)
        sk = bounded_name(f"{kind}#{finding.subject}", FindingItem.SK_CHARS)
        return encode(
            {
                "pk": FindingItem.pk(vpc_id),
                "sk": sk,
                **FleetIndex.attributes(vpc_id, sk),
                "kind": kind,
                "subject": finding.subject,
                "message": clip_bytes(
                    finding.message, LEDGER_MESSAGE_BYTES, "... (cut: too long to keep)"
                ),
                "source": source,
                "last_seen": last_seen,
            }
        )

    @staticmethod
    def decode(item: Mapping[str, Any]) -> Finding:
        return Finding(
            FindingKind(text(item, "kind")), text(item, "subject"), text(item, "message")
        )

    @staticmethod
    def resolved(item: Mapping[str, Any]) -> bool:
        return "resolved_at" in item

    @staticmethod
    def resolve(item: Mapping[str, Any], resolved_at: int) -> dict[str, Any]:
        """UpdateItem arguments (past the table name) that resolve a finding read from the table."""
        return {
            "Key": stored_key(item),
            "UpdateExpression": "SET resolved_at = :now REMOVE #fleet, #fleet_sk",
            "ExpressionAttributeNames": {"#fleet": FleetIndex.HASH, "#fleet_sk": FleetIndex.RANGE},
            "ExpressionAttributeValues": encode({":now": resolved_at}),
        }


# -- a pass's route batches, kept out of the Step Functions state -------------------------------
class PlanBatchItem:
    """``PLAN#<execution>`` / ``<stamp>-<index>``: one route batch as compact JSON, with the
    ``ttl`` attribute DynamoDB's TTL deletes it by.

    A batch's JSON longer than ``INLINE_BYTES`` is kept zlib-compressed in ``body_z`` (binary):
    each change lists the subnets of its table, the same from change to change, so a batch of a
    table serving hundreds of subnets stays far under DynamoDB's 400 KB item (rule 10).
    """

    INLINE_BYTES = 64 * 1024

    @staticmethod
    def pk(execution: str) -> str:
        return f"PLAN#{execution}"

    @staticmethod
    def encode(execution: str, batch_key: str, batch: dict[str, Any], ttl: int) -> Item:
        body = json.dumps(batch, separators=(",", ":"))
        data = body.encode("utf-8")
        stored: dict[str, str | bytes] = (
            {"body": body}
            if len(data) <= PlanBatchItem.INLINE_BYTES
            else {"body_z": zlib.compress(data, 9)}
        )
        return encode({"pk": PlanBatchItem.pk(execution), "sk": batch_key, **stored, "ttl": ttl})

    @staticmethod
    def decode(item: Mapping[str, Any]) -> dict[str, Any]:
        raw = text(item, "body") if "body" in item else zlib.decompress(binary(item, "body_z"))
        body: dict[str, Any] = json.loads(raw)
        return body
