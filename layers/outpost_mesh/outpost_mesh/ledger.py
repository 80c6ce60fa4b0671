"""The ownership ledger, the per-VPC lease and quarantine, in one DynamoDB table.

Key schema: ``pk`` (S, hash) and ``sk`` (S, range). Items:

=====================  ==========================  =============================================
pk                     sk                          what
=====================  ==========================  =============================================
``VPC#vpc-1``          ``ROUTE#rtb-1#10.7.11.0/24``  a route it created (routes have no tags)
``VPC#vpc-1``          ``ASSOC#lgw-vpc-assoc-1``   an LGW route table association it created
``VPC#vpc-1``          ``LEASE``                   who works on the VPC now, trigger counter
``MANAGED``            ``VPC#vpc-1``               VPCs the system ever changed (for sweeps)
``SUBNET#subnet-1``    ``VPC``                     which VPC a subnet of an owned route is in
``RTB#rtb-1``          ``VPC``                     which VPC a route table it has seen is in
``OUTPOST#arn``        ``QUARANTINE``              a rack left out until ``until``
=====================  ==========================  =============================================

DeleteSubnet and route-table association events name no VPC (aws-facts.md, Events): the SUBNET#
and RTB# items let a trigger find it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from outpost_mesh.errors import LeaseBusyError, from_client_error
from outpost_mesh.model import Finding, FindingKind, Ledger, OwnedAssociation, OwnedRoute

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

DEFAULT_LEASE_SECONDS = 900
DEFAULT_QUARANTINE_SECONDS = 24 * 3600
PLAN_TTL_SECONDS = (
    2 * 24 * 3600
)  # stashed route batches outlive any execution (TTL attribute `ttl`)


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def _n(value: float) -> dict[str, str]:
    return {"N": str(int(value))}


def _is_conditional_failure(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


@dataclass(frozen=True)
class LeaseClaim:
    vpc_id: str
    holder: str
    seen: int  # triggers counted when this pass began


@dataclass(frozen=True)
class Quarantine:
    outpost_arn: str
    until: int
    reason: str


class LedgerStore:
    """DynamoDB access for the ledger, lease and quarantine. One instance per table."""

    def __init__(
        self,
        dynamodb: DynamoDBClient,
        table_name: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.dynamodb = dynamodb
        self.table_name = table_name
        self.clock = clock

    # -- plumbing ---------------------------------------------------------------------------
    def _query(self, pk: str, prefix: str = "") -> Iterator[dict[str, Any]]:
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "pk = :pk"
            + (" AND begins_with(sk, :prefix)" if prefix else ""),
            "ExpressionAttributeValues": {":pk": _s(pk)}
            | ({":prefix": _s(prefix)} if prefix else {}),
            "ConsistentRead": True,
        }
        try:
            for page in self.dynamodb.get_paginator("query").paginate(**kwargs):
                yield from page.get("Items", [])
        except ClientError as error:
            raise from_client_error(error, subject=pk) from error

    def _put(self, item: dict[str, Any]) -> None:
        try:
            self.dynamodb.put_item(TableName=self.table_name, Item=item)
        except ClientError as error:
            raise from_client_error(error, subject=item["pk"]["S"]) from error

    def _delete(self, pk: str, sk: str) -> None:
        try:
            self.dynamodb.delete_item(TableName=self.table_name, Key={"pk": _s(pk), "sk": _s(sk)})
        except ClientError as error:
            raise from_client_error(error, subject=pk) from error

    def _get(self, pk: str, sk: str) -> dict[str, Any] | None:
        try:
            item = self.dynamodb.get_item(
                TableName=self.table_name, Key={"pk": _s(pk), "sk": _s(sk)}, ConsistentRead=True
            ).get("Item")
        except ClientError as error:
            raise from_client_error(error, subject=pk) from error
        return dict(item) if item else None

    # -- ledger -----------------------------------------------------------------------------
    def load(self, vpc_id: str) -> Ledger:
        routes: list[OwnedRoute] = []
        associations: list[OwnedAssociation] = []
        for item in self._query(f"VPC#{vpc_id}"):
            sk = item["sk"]["S"]
            if sk.startswith("ROUTE#"):
                routes.append(
                    OwnedRoute(
                        route_table_id=item["route_table_id"]["S"],
                        destination=item["destination"]["S"],
                        local_gateway_id=item["local_gateway_id"]["S"],
                        destination_subnet_id=item.get("destination_subnet_id", {}).get("S", ""),
                        source_subnet_ids=tuple(
                            v["S"] for v in item.get("source_subnet_ids", {}).get("L", [])
                        ),
                    )
                )
            elif sk.startswith("ASSOC#"):
                associations.append(
                    OwnedAssociation(
                        association_id=item["association_id"]["S"],
                        lgw_route_table_id=item["lgw_route_table_id"]["S"],
                        outpost_arn=item.get("outpost_arn", {}).get("S", ""),
                    )
                )
        return Ledger(vpc_id, tuple(sorted(routes)), tuple(sorted(associations)))

    def record_route(self, vpc_id: str, route: OwnedRoute, owner: str) -> None:
        self._mark_managed(vpc_id)
        self._put(
            {
                "pk": _s(f"VPC#{vpc_id}"),
                "sk": _s(f"ROUTE#{route.route_table_id}#{route.destination}"),
                "route_table_id": _s(route.route_table_id),
                "destination": _s(route.destination),
                "local_gateway_id": _s(route.local_gateway_id),
                "destination_subnet_id": _s(route.destination_subnet_id),
                "source_subnet_ids": {"L": [_s(s) for s in route.source_subnet_ids]},
                "owner": _s(owner),
                "created_at": _n(self.clock()),
            }
        )

    def route_owner(self, vpc_id: str, route_table_id: str, destination: str) -> str | None:
        item = self._get(f"VPC#{vpc_id}", f"ROUTE#{route_table_id}#{destination}")
        return item.get("owner", {}).get("S") if item else None

    def owned_by(self, vpc_id: str, owner: str) -> tuple[list[OwnedRoute], list[OwnedAssociation]]:
        """What one actor (an execution, a CLI run) created in the VPC: its rollback set."""
        routes: list[tuple[int, OwnedRoute]] = []
        associations: list[tuple[int, OwnedAssociation]] = []
        for item in self._query(f"VPC#{vpc_id}"):
            if item.get("owner", {}).get("S") != owner:
                continue
            at = int(item.get("created_at", {}).get("N", "0"))
            sk = item["sk"]["S"]
            if sk.startswith("ROUTE#"):
                routes.append(
                    (
                        at,
                        OwnedRoute(
                            item["route_table_id"]["S"],
                            item["destination"]["S"],
                            item["local_gateway_id"]["S"],
                        ),
                    )
                )
            elif sk.startswith("ASSOC#"):
                associations.append(
                    (
                        at,
                        OwnedAssociation(
                            item["association_id"]["S"],
                            item["lgw_route_table_id"]["S"],
                            item.get("outpost_arn", {}).get("S", ""),
                        ),
                    )
                )
        # newest first: undo in reverse order of creation
        routes.sort(key=lambda pair: (pair[0], pair[1]), reverse=True)
        associations.sort(key=lambda pair: (pair[0], pair[1]), reverse=True)
        return [r for _, r in routes], [a for _, a in associations]

    # -- a pass's route batches (kept out of the Step Functions state) ----------------------
    def stash_plan_batches(self, execution: str, batches: list[dict[str, Any]]) -> list[str]:
        """Store each batch as one item (expires after PLAN_TTL_SECONDS); returns their keys."""
        stamp = f"{int(self.clock() * 1000):015d}"  # one set of keys per pass of the execution
        keys = []
        for index, batch in enumerate(batches):
            key = f"{stamp}-{index:05d}"
            self._put(
                {
                    "pk": _s(f"PLAN#{execution}"),
                    "sk": _s(key),
                    "body": _s(json.dumps(batch, separators=(",", ":"))),
                    "ttl": _n(self.clock() + PLAN_TTL_SECONDS),
                }
            )
            keys.append(key)
        return keys

    def has_stashed_plan(self, execution: str) -> bool:
        """Whether an earlier pass (or try) of the execution stashed route batches."""
        pk = f"PLAN#{execution}"
        try:
            page = self.dynamodb.query(
                TableName=self.table_name,
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues={":pk": _s(pk)},
                ProjectionExpression="pk",
                Limit=1,
                ConsistentRead=True,
            )
        except ClientError as error:
            raise from_client_error(error, subject=pk) from error
        return bool(page.get("Items"))

    def stashed_plan_batch(self, execution: str, key: str) -> dict[str, Any] | None:
        item = self._get(f"PLAN#{execution}", key)
        if item is None:
            return None
        body: dict[str, Any] = json.loads(item["body"]["S"])
        return body

    # -- findings ---------------------------------------------------------------------------
    def record_findings(self, vpc_id: str, findings: tuple[Finding, ...], source: str) -> None:
        """Keep every finding reported for the VPC (``status`` and the demo report read them)."""
        for finding in findings:
            self._put(
                {
                    "pk": _s(f"FINDINGS#{vpc_id}"),
                    "sk": _s(f"{finding.kind}#{finding.subject}"),
                    "kind": _s(finding.kind),
                    "subject": _s(finding.subject),
                    "message": _s(finding.message),
                    "source": _s(source),
                    "last_seen": _n(self.clock()),
                }
            )

    def findings(self, vpc_id: str) -> list[Finding]:
        """Every finding ever reported for the VPC, open or resolved (the demo report's list)."""
        return sorted(
            Finding(FindingKind(i["kind"]["S"]), i["subject"]["S"], i["message"]["S"])
            for i in self._query(f"FINDINGS#{vpc_id}")
        )

    def open_findings(self, vpc_id: str) -> list[Finding]:
        """Findings still standing: recorded and not resolved by a later plan since."""
        return sorted(
            Finding(FindingKind(i["kind"]["S"]), i["subject"]["S"], i["message"]["S"])
            for i in self._query(f"FINDINGS#{vpc_id}")
            if "resolved_at" not in i
        )

    def resolve_findings(self, vpc_id: str, current: tuple[Finding, ...]) -> list[Finding]:
        """Mark the open findings that ``current`` (a fresh plan's) no longer has as resolved.

        The item stays (``findings`` still lists it); recording it again re-opens it, so a
        finding that comes back is new again (and notified again). Returns what was resolved.
        """
        still = {(f.kind, f.subject) for f in current}
        resolved: list[Finding] = []
        for item in self._query(f"FINDINGS#{vpc_id}"):
            if "resolved_at" in item or (item["kind"]["S"], item["subject"]["S"]) in still:
                continue
            try:
                self.dynamodb.update_item(
                    TableName=self.table_name,
                    Key={"pk": item["pk"], "sk": item["sk"]},
                    UpdateExpression="SET resolved_at = :now",
                    ExpressionAttributeValues={":now": _n(self.clock())},
                )
            except ClientError as error:
                raise from_client_error(error, subject=vpc_id) from error
            resolved.append(
                Finding(FindingKind(item["kind"]["S"]), item["subject"]["S"], item["message"]["S"])
            )
        return sorted(resolved)

    def forget_route(self, vpc_id: str, route_table_id: str, destination: str) -> None:
        self._delete(f"VPC#{vpc_id}", f"ROUTE#{route_table_id}#{destination}")

    def record_association(self, vpc_id: str, assoc: OwnedAssociation, owner: str) -> None:
        self._mark_managed(vpc_id)
        self._put(
            {
                "pk": _s(f"VPC#{vpc_id}"),
                "sk": _s(f"ASSOC#{assoc.association_id}"),
                "association_id": _s(assoc.association_id),
                "lgw_route_table_id": _s(assoc.lgw_route_table_id),
                "outpost_arn": _s(assoc.outpost_arn),
                "owner": _s(owner),
                "created_at": _n(self.clock()),
            }
        )

    def forget_association(self, vpc_id: str, association_id: str) -> None:
        self._delete(f"VPC#{vpc_id}", f"ASSOC#{association_id}")

    def _mark_managed(self, vpc_id: str) -> None:
        self._put({"pk": _s("MANAGED"), "sk": _s(f"VPC#{vpc_id}"), "vpc_id": _s(vpc_id)})

    def managed_vpcs(self) -> list[str]:
        return sorted(item["vpc_id"]["S"] for item in self._query("MANAGED", "VPC#"))

    # -- where things live (for events that name no VPC) ------------------------------------
    def remember_locations(
        self, vpc_id: str, subnet_ids: tuple[str, ...], route_table_ids: tuple[str, ...]
    ) -> None:
        """Write the subnet/route table -> VPC index items that are missing or wrong."""
        for kind, ids in (("SUBNET", subnet_ids), ("RTB", route_table_ids)):
            for resource_id in ids:
                known = self._get(f"{kind}#{resource_id}", "VPC")
                if known is None or known.get("vpc_id", {}).get("S") != vpc_id:
                    self._put(
                        {"pk": _s(f"{kind}#{resource_id}"), "sk": _s("VPC"), "vpc_id": _s(vpc_id)}
                    )

    def vpc_of(self, kind: str, resource_id: str) -> str | None:
        """``kind`` is ``SUBNET`` or ``RTB``."""
        item = self._get(f"{kind}#{resource_id}", "VPC")
        return item["vpc_id"]["S"] if item else None

    # -- quarantine -------------------------------------------------------------------------
    def quarantine(self, outpost_arn: str, reason: str, seconds: int) -> Quarantine:
        until = int(self.clock()) + seconds
        self._put(
            {
                "pk": _s(f"OUTPOST#{outpost_arn}"),
                "sk": _s("QUARANTINE"),
                "outpost_arn": _s(outpost_arn),
                "until": _n(until),
                "reason": _s(reason),
            }
        )
        self._put({"pk": _s("QUARANTINED"), "sk": _s(outpost_arn), "until": _n(until)})
        return Quarantine(outpost_arn, until, reason)

    def release_quarantine(self, outpost_arn: str) -> None:
        self._delete(f"OUTPOST#{outpost_arn}", "QUARANTINE")
        self._delete("QUARANTINED", outpost_arn)

    def quarantines(self) -> list[Quarantine]:
        """Quarantines still in force (an expired one no longer counts)."""
        now = self.clock()
        found = []
        for item in self._query("QUARANTINED"):
            arn = item["sk"]["S"]
            if int(item["until"]["N"]) <= now:
                continue
            detail = self._get(f"OUTPOST#{arn}", "QUARANTINE") or {}
            found.append(
                Quarantine(arn, int(item["until"]["N"]), detail.get("reason", {}).get("S", ""))
            )
        return found

    def quarantined(self) -> frozenset[str]:
        return frozenset(q.outpost_arn for q in self.quarantines())

    # -- lease ------------------------------------------------------------------------------
    def add_trigger(self, vpc_id: str) -> int:
        """Count a trigger on the VPC: the lease holder will make one more pass for it."""
        try:
            out = self.dynamodb.update_item(
                TableName=self.table_name,
                Key={"pk": _s(f"VPC#{vpc_id}"), "sk": _s("LEASE")},
                UpdateExpression="ADD triggers :one",
                ExpressionAttributeValues={":one": _n(1)},
                ReturnValues="ALL_NEW",
            )
        except ClientError as error:
            raise from_client_error(error, subject=vpc_id) from error
        return int(out["Attributes"]["triggers"]["N"])

    def lease(self, vpc_id: str) -> dict[str, Any] | None:
        item = self._get(f"VPC#{vpc_id}", "LEASE")
        if not item:
            return None
        return {
            "holder": item.get("holder", {}).get("S"),
            "expires_at": int(item.get("expires_at", {}).get("N", "0")),
            "triggers": int(item.get("triggers", {}).get("N", "0")),
            "seen": int(item.get("seen", {}).get("N", "0")),
        }

    def claim(
        self,
        vpc_id: str,
        holder: str,
        seconds: int = DEFAULT_LEASE_SECONDS,
        holder_alive: Callable[[str], bool] | None = None,
    ) -> LeaseClaim:
        """Take the VPC's lease, or raise LeaseBusyError after handing a trigger to its holder.

        A lease whose expiry passed, or whose holder ``holder_alive`` says has stopped, is taken
        over, so an aborted execution never blocks a VPC.
        """
        now = int(self.clock())
        try:
            return self._claim(vpc_id, holder, now, seconds, "")
        except _Held as held:
            current = held.holder
        if holder_alive is not None and current and not holder_alive(current):
            try:
                return self._claim(vpc_id, holder, now, seconds, current)
            except _Held as held_again:
                current = held_again.holder
        self.add_trigger(vpc_id)
        raise LeaseBusyError(
            f"VPC {vpc_id} is being reconciled by {current}; the trigger was handed to it",
            subject=vpc_id,
        )

    def _claim(self, vpc_id: str, holder: str, now: int, seconds: int, stale: str) -> LeaseClaim:
        values: dict[str, Any] = {
            ":me": _s(holder),
            ":exp": _n(now + seconds),
            ":now": _n(now),
            ":zero": _n(0),
        }
        if stale:
            condition = "holder = :stale"
            values[":stale"] = _s(stale)
        else:
            condition = "attribute_not_exists(holder) OR expires_at < :now OR holder = :me"
        try:
            out = self.dynamodb.update_item(
                TableName=self.table_name,
                Key={"pk": _s(f"VPC#{vpc_id}"), "sk": _s("LEASE")},
                UpdateExpression="SET holder = :me, expires_at = :exp, "
                "triggers = if_not_exists(triggers, :zero), claimed_at = :now",
                ConditionExpression=condition,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
            )
        except ClientError as error:
            if _is_conditional_failure(error):
                lease = self.lease(vpc_id) or {}
                raise _Held(str(lease.get("holder") or "")) from error
            raise from_client_error(error, subject=vpc_id) from error
        triggers = int(out["Attributes"]["triggers"]["N"])
        self._set_seen(vpc_id, holder, triggers)
        return LeaseClaim(vpc_id, holder, triggers)

    def _set_seen(self, vpc_id: str, holder: str, seen: int) -> None:
        try:
            self.dynamodb.update_item(
                TableName=self.table_name,
                Key={"pk": _s(f"VPC#{vpc_id}"), "sk": _s("LEASE")},
                UpdateExpression="SET seen = :seen",
                ConditionExpression="holder = :me",
                ExpressionAttributeValues={":seen": _n(seen), ":me": _s(holder)},
            )
        except ClientError as error:
            raise from_client_error(error, subject=vpc_id) from error

    def release(self, claim: LeaseClaim) -> LeaseClaim | None:
        """Release if no trigger arrived since the pass began; else the claim for one more pass.

        Releasing only when the trigger counter still equals ``seen`` is what keeps a trigger
        that arrived during the pass from being lost (architecture.md rule 5).
        """
        try:
            self.dynamodb.update_item(
                TableName=self.table_name,
                Key={"pk": _s(f"VPC#{claim.vpc_id}"), "sk": _s("LEASE")},
                UpdateExpression="REMOVE holder, expires_at",
                ConditionExpression="holder = :me AND triggers = :seen",
                ExpressionAttributeValues={":me": _s(claim.holder), ":seen": _n(claim.seen)},
            )
            return None
        except ClientError as error:
            if not _is_conditional_failure(error):
                raise from_client_error(error, subject=claim.vpc_id) from error
        lease = self.lease(claim.vpc_id) or {}
        if lease.get("holder") != claim.holder:
            return None  # someone took it over; nothing of ours to release
        again = LeaseClaim(claim.vpc_id, claim.holder, int(lease.get("triggers", 0)))
        self._set_seen(claim.vpc_id, claim.holder, again.seen)
        return again

    def force_release(self, vpc_id: str, holder: str) -> None:
        """Give the lease up whatever the trigger counter says (after a failure)."""
        try:
            self.dynamodb.update_item(
                TableName=self.table_name,
                Key={"pk": _s(f"VPC#{vpc_id}"), "sk": _s("LEASE")},
                UpdateExpression="REMOVE holder, expires_at",
                ConditionExpression="holder = :me",
                ExpressionAttributeValues={":me": _s(holder)},
            )
        except ClientError as error:
            if not _is_conditional_failure(error):
                raise from_client_error(error, subject=vpc_id) from error


class _Held(Exception):
    def __init__(self, holder: str) -> None:
        super().__init__(holder)
        self.holder = holder


def create_table(dynamodb: DynamoDBClient, table_name: str) -> None:
    """Create the ledger table (the CLI's and tests' own; the stack's comes from template.yaml)."""
    try:
        dynamodb.create_table(
            TableName=table_name,
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ResourceInUseException":
            raise from_client_error(error, subject=table_name) from error
    dynamodb.get_waiter("table_exists").wait(
        TableName=table_name, WaiterConfig={"Delay": 1, "MaxAttempts": 30}
    )
