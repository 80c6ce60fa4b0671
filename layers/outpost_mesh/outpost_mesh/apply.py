"""Apply a plan to AWS, journal what this actor changed, and undo exactly that on failure.

Ownership is written to the ledger *before* a route is created (an intent), and removed again if
the call fails, so a crash between the two leaves at worst a ledger entry that the next plan finds
stale (route absent) or owned (route present with our target), never an unowned route.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from outpost_mesh.errors import (
    AssociationFailedError,
    AssociationNotFoundError,
    OutpostMeshError,
    RackNotUpdatedError,
    RouteAlreadyExistsError,
    RouteNotFoundError,
    RouteQuotaExceededError,
    RouteTableNotFoundError,
    from_client_error,
)
from outpost_mesh.ledger import LedgerStore
from outpost_mesh.model import (
    AssociationChange,
    OwnedAssociation,
    Plan,
    RouteChange,
)
from outpost_mesh.observe import MANAGED_BY_TAG, route_target
from outpost_mesh.pacing import TokenBucket

if TYPE_CHECKING:
    from mypy_boto3_ec2 import EC2Client

ASSOCIATION_POLL_SECONDS = 5.0  # Ansible/Terraform poll about every 5 s (aws-facts.md)
ASSOCIATION_TIMEOUT_SECONDS = 300.0  # Terraform waits up to 5 min for `associated`


@dataclass(frozen=True)
class JournalEntry:
    """One change this actor made; rollback undoes entries in reverse order."""

    kind: str  # "route-created" | "association-created"
    vpc_id: str
    route_table_id: str = ""
    destination: str = ""
    local_gateway_id: str = ""
    association_id: str = ""
    lgw_route_table_id: str = ""

    def to_dict(self) -> dict[str, str]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> JournalEntry:
        return cls(**{k: str(v) for k, v in data.items() if k in cls.__dataclass_fields__})


class Applier:
    """Makes the changes of one plan; ``journal`` lists what it created, for rollback."""

    def __init__(
        self,
        ec2: EC2Client,
        store: LedgerStore,
        owner: str,
        *,
        pacer: TokenBucket | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        poll_seconds: float = ASSOCIATION_POLL_SECONDS,
        association_timeout: float = ASSOCIATION_TIMEOUT_SECONDS,
    ) -> None:
        self.ec2 = ec2
        self.store = store
        self.owner = owner
        self.pacer = pacer
        self.sleep = sleep
        self.clock = clock
        self.poll_seconds = poll_seconds
        self.association_timeout = association_timeout
        self.journal: list[JournalEntry] = []

    def _pace(self) -> None:
        if self.pacer is not None:
            self.pacer.take()

    # -- associations -----------------------------------------------------------------------
    def existing_association(self, vpc_id: str, lgw_route_table_id: str) -> dict[str, Any] | None:
        try:
            found = self.ec2.describe_local_gateway_route_table_vpc_associations(
                Filters=[
                    {"Name": "vpc-id", "Values": [vpc_id]},
                    {"Name": "local-gateway-route-table-id", "Values": [lgw_route_table_id]},
                ]
            )["LocalGatewayRouteTableVpcAssociations"]
        except ClientError as error:
            raise from_client_error(error, subject=vpc_id) from error
        for assoc in found:
            if assoc.get("State") in ("associating", "associated"):
                return dict(assoc)
        return None

    def create_association(self, change: AssociationChange) -> str:
        """Associate the VPC with the LGW route table (describe first: idempotent)."""
        existing = self.existing_association(change.vpc_id, change.lgw_route_table_id)
        if existing is not None:
            return str(existing["LocalGatewayRouteTableVpcAssociationId"])
        self._pace()
        try:
            created = self.ec2.create_local_gateway_route_table_vpc_association(
                LocalGatewayRouteTableId=change.lgw_route_table_id,
                VpcId=change.vpc_id,
                TagSpecifications=[
                    {
                        "ResourceType": "local-gateway-route-table-vpc-association",
                        "Tags": [{"Key": MANAGED_BY_TAG, "Value": self.owner[:255]}],
                    }
                ],
            )["LocalGatewayRouteTableVpcAssociation"]
        except ClientError as error:
            raise from_client_error(error, subject=change.outpost_arn) from error
        association_id = created["LocalGatewayRouteTableVpcAssociationId"]
        self.store.record_association(
            change.vpc_id,
            OwnedAssociation(association_id, change.lgw_route_table_id, change.outpost_arn),
            self.owner,
        )
        self.journal.append(
            JournalEntry(
                "association-created",
                change.vpc_id,
                association_id=association_id,
                lgw_route_table_id=change.lgw_route_table_id,
            )
        )
        return association_id

    def association_state(self, association_id: str) -> str:
        try:
            found = self.ec2.describe_local_gateway_route_table_vpc_associations(
                LocalGatewayRouteTableVpcAssociationIds=[association_id]
            )["LocalGatewayRouteTableVpcAssociations"]
        except ClientError as error:
            raise from_client_error(error, subject=association_id) from error
        return str(found[0].get("State", "")) if found else "missing"

    def wait_associated(self, association_id: str) -> None:
        """Poll until ``associated``: quickly at first, then every ``poll_seconds`` (bounded)."""
        deadline = self.clock() + self.association_timeout
        pause = min(0.5, self.poll_seconds)
        while True:
            state = self.association_state(association_id)
            if state == "associated":
                return
            if state not in ("associating", "pending"):
                raise AssociationFailedError(
                    f"association {association_id} is {state}, not associated",
                    subject=association_id,
                )
            if self.clock() >= deadline:
                raise AssociationFailedError(
                    f"association {association_id} still {state} after "
                    f"{self.association_timeout:.0f} s",
                    subject=association_id,
                )
            self.sleep(pause)
            pause = min(pause * 2, self.poll_seconds)

    def delete_association(self, change: AssociationChange) -> None:
        self._pace()
        try:
            self.ec2.delete_local_gateway_route_table_vpc_association(
                LocalGatewayRouteTableVpcAssociationId=change.association_id
            )
        except ClientError as error:
            mapped = from_client_error(error, subject=change.association_id)
            if not isinstance(mapped, AssociationNotFoundError):
                raise mapped from error
        self.store.forget_association(change.vpc_id, change.association_id)

    # -- routes -----------------------------------------------------------------------------
    def _route_target(self, route_table_id: str, destination: str) -> str | None:
        try:
            tables = self.ec2.describe_route_tables(RouteTableIds=[route_table_id])["RouteTables"]
        except ClientError as error:
            raise from_client_error(error, subject=route_table_id) from error
        for table in tables:
            for route in table.get("Routes", []):
                if route.get("DestinationCidrBlock") == destination:
                    return route_target(route)
        return None

    def create_route(self, vpc_id: str, change: RouteChange) -> bool:
        """Create one LGW route; False when an identical route was there already.

        An identical route made by someone else stays unowned (rule 2); one this owner made in an
        earlier attempt (a retried task) stays owned.
        """
        prior_owner = self.store.route_owner(vpc_id, change.route_table_id, change.destination)
        self.store.record_route(vpc_id, change.owned(), self.owner)  # intent first
        self._pace()
        try:
            self.ec2.create_route(
                RouteTableId=change.route_table_id,
                DestinationCidrBlock=change.destination,
                LocalGatewayId=change.local_gateway_id,
            )
        except ClientError as error:
            mapped = from_client_error(
                error, subject=f"{change.route_table_id}:{change.destination}"
            )
            ours = prior_owner == self.owner and isinstance(mapped, RouteAlreadyExistsError)
            if not ours:
                self.store.forget_route(vpc_id, change.route_table_id, change.destination)
            if isinstance(mapped, RackNotUpdatedError | RouteQuotaExceededError):
                mapped.subject = (
                    change.local_gateway_id
                    if isinstance(mapped, RackNotUpdatedError)
                    else change.route_table_id
                )
            # Someone made it meanwhile: satisfied (never owned) if it has our target.
            if isinstance(mapped, RouteAlreadyExistsError) and (
                self._route_target(change.route_table_id, change.destination)
                == change.local_gateway_id
            ):
                return False
            if ours:
                self.store.forget_route(vpc_id, change.route_table_id, change.destination)
            raise mapped from error
        self.journal.append(
            JournalEntry(
                "route-created",
                vpc_id,
                route_table_id=change.route_table_id,
                destination=change.destination,
                local_gateway_id=change.local_gateway_id,
            )
        )
        return True

    def delete_route(self, vpc_id: str, change: RouteChange) -> None:
        """Delete an owned route, only while it still has the target we gave it."""
        current = self._route_target(change.route_table_id, change.destination)
        if current == change.local_gateway_id:
            self._pace()
            try:
                self.ec2.delete_route(
                    RouteTableId=change.route_table_id, DestinationCidrBlock=change.destination
                )
            except ClientError as error:
                mapped = from_client_error(
                    error, subject=f"{change.route_table_id}:{change.destination}"
                )
                if not isinstance(mapped, RouteNotFoundError | RouteTableNotFoundError):
                    raise mapped from error
        self.store.forget_route(vpc_id, change.route_table_id, change.destination)

    # -- whole plans ------------------------------------------------------------------------
    def apply(self, plan: Plan) -> None:
        """Associations first (routes need them), deletions before creations (quota room)."""
        for owned in plan.stale_routes:
            self.store.forget_route(plan.vpc_id, owned.route_table_id, owned.destination)
        for owned_assoc in plan.stale_associations:
            self.store.forget_association(plan.vpc_id, owned_assoc.association_id)
        created = [self.create_association(c) for c in plan.associations_to_create]
        for association_id in created:
            self.wait_associated(association_id)
        for change in plan.routes_to_delete:
            self.delete_route(plan.vpc_id, change)
        for change in plan.routes_to_create:
            self.create_route(plan.vpc_id, change)
        for assoc_change in plan.associations_to_delete:
            self.delete_association(assoc_change)

    def rollback(self) -> list[OutpostMeshError]:
        """Undo this actor's journal in reverse; returns errors it could not undo."""
        problems: list[OutpostMeshError] = []
        while self.journal:
            entry = self.journal.pop()
            try:
                undo(self.ec2, self.store, entry)
            except OutpostMeshError as error:
                problems.append(error)
        return problems


def undo(ec2: EC2Client, store: LedgerStore, entry: JournalEntry) -> None:
    """Undo one journal entry; already-undone is fine (a retried rollback is idempotent)."""
    if entry.kind == "route-created":
        try:
            ec2.delete_route(
                RouteTableId=entry.route_table_id, DestinationCidrBlock=entry.destination
            )
        except ClientError as error:
            mapped = from_client_error(error, subject=entry.route_table_id)
            if not isinstance(mapped, RouteNotFoundError | RouteTableNotFoundError):
                raise mapped from error
        store.forget_route(entry.vpc_id, entry.route_table_id, entry.destination)
    elif entry.kind == "association-created":
        try:
            ec2.delete_local_gateway_route_table_vpc_association(
                LocalGatewayRouteTableVpcAssociationId=entry.association_id
            )
        except ClientError as error:
            mapped = from_client_error(error, subject=entry.association_id)
            if not isinstance(mapped, AssociationNotFoundError):
                raise mapped from error
        store.forget_association(entry.vpc_id, entry.association_id)
    else:
        raise ValueError(f"unknown journal entry kind {entry.kind!r}")
