"""Apply a plan to AWS, journal what this actor changed, and undo exactly that on failure.

Ownership is written to the ledger *before* a route is created (an intent), and removed again if
the call fails, so a crash between the two leaves at worst a ledger entry that the next plan finds
stale (route absent) or owned (route present with our target), never an unowned route.

Over 400 lines on purpose: every EC2 write the system makes, with its error handling, its log
line and its undo, is here and nowhere else.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
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
    OwnedRoute,
    Plan,
    RouteChange,
)
from outpost_mesh.observe import MANAGED_BY_TAG, route_target
from outpost_mesh.pacing import TokenBucket

if TYPE_CHECKING:
    from mypy_boto3_ec2 import EC2Client

# Every change is logged in words an operator can grep ("created route rtb-1 10.7.11.0/24 ->
# lgw-1"), with its ids as structured fields. Plain ``logging``: the core has no Powertools; in
# Lambda, lambda_kit hands the "outpost_mesh" loggers to the Powertools JSON handler (vpc_id and
# correlation_id on every line); elsewhere (the CLI) they are silent unless configured.
log = logging.getLogger(__name__)

ASSOCIATION_POLL_SECONDS = 5.0  # Ansible/Terraform poll about every 5 s (docs/aws-facts.md)
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

    @classmethod
    def route_created(cls, vpc_id: str, route: RouteChange | OwnedRoute) -> JournalEntry:
        return cls(
            "route-created",
            vpc_id,
            route_table_id=route.route_table_id,
            destination=route.destination,
            local_gateway_id=route.local_gateway_id,
        )

    @classmethod
    def association_created(
        cls, vpc_id: str, association_id: str, lgw_route_table_id: str = ""
    ) -> JournalEntry:
        return cls(
            "association-created",
            vpc_id,
            association_id=association_id,
            lgw_route_table_id=lgw_route_table_id,
        )


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
            log.info(
                "association %s of %s with LGW route table %s is %s already: left as it is",
                existing["LocalGatewayRouteTableVpcAssociationId"],
                change.vpc_id,
                change.lgw_route_table_id,
                existing.get("State", ""),
                extra=_fields("association-exists", change.vpc_id, change.lgw_route_table_id),
            )
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
        log.info(
            "created association %s of %s with LGW route table %s (Outpost %s)",
            association_id,
            change.vpc_id,
            change.lgw_route_table_id,
            change.outpost_arn,
            extra=_fields(
                "association-created",
                change.vpc_id,
                change.lgw_route_table_id,
                association_id=association_id,
                outpost_arn=change.outpost_arn,
            ),
        )
        self.store.record_association(
            change.vpc_id,
            OwnedAssociation(association_id, change.lgw_route_table_id, change.outpost_arn),
            self.owner,
        )
        self.journal.append(
            JournalEntry.association_created(
                change.vpc_id, association_id, change.lgw_route_table_id
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
        delete_association_call(self.ec2, change.association_id)
        log.info(
            "deleted association %s of %s with LGW route table %s (no longer needed)",
            change.association_id,
            change.vpc_id,
            change.lgw_route_table_id,
            extra=_fields(
                "association-deleted",
                change.vpc_id,
                change.lgw_route_table_id,
                association_id=change.association_id,
            ),
        )
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
                log.info(
                    "route %s %s -> %s is there already: satisfied, %s",
                    change.route_table_id,
                    change.destination,
                    change.local_gateway_id,
                    "still owned" if ours else "not owned",
                    extra=_route_fields("route-satisfied", vpc_id, change),
                )
                return False
            if ours:
                self.store.forget_route(vpc_id, change.route_table_id, change.destination)
            log.warning(
                "could not create route %s %s -> %s: %s",
                change.route_table_id,
                change.destination,
                change.local_gateway_id,
                mapped.message,
                extra=_route_fields("route-failed", vpc_id, change),
            )
            raise mapped from error
        log.info(
            "created route %s %s -> %s",
            change.route_table_id,
            change.destination,
            change.local_gateway_id,
            extra=_route_fields("route-created", vpc_id, change),
        )
        self.journal.append(JournalEntry.route_created(vpc_id, change))
        return True

    def delete_route(self, vpc_id: str, change: RouteChange) -> None:
        """Delete an owned route, only while it still has the target we gave it."""
        current = self._route_target(change.route_table_id, change.destination)
        if current == change.local_gateway_id:
            self._pace()
            delete_route_call(self.ec2, change.route_table_id, change.destination)
            log.info(
                "deleted route %s %s -> %s (%s)",
                change.route_table_id,
                change.destination,
                change.local_gateway_id,
                change.reason or "no longer wanted",
                extra=_route_fields("route-deleted", vpc_id, change),
            )
        else:
            log.info(
                "route %s %s no longer targets %s (now %s): forgotten, left alone",
                change.route_table_id,
                change.destination,
                change.local_gateway_id,
                current or "absent",
                extra=_route_fields("route-forgotten", vpc_id, change),
            )
        self.store.forget_route(vpc_id, change.route_table_id, change.destination)

    # -- whole plans ------------------------------------------------------------------------
    def apply(self, plan: Plan) -> None:
        """Associations first (routes need them), deletions before creations (quota room).
        What the plan found stale in the ledger was forgotten when the plan was recorded
        (``ReconcileService.record``)."""
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


def delete_route_call(ec2: EC2Client, route_table_id: str, destination: str) -> None:
    """DeleteRoute; a route or table already gone is what we wanted (idempotent)."""
    try:
        ec2.delete_route(RouteTableId=route_table_id, DestinationCidrBlock=destination)
    except ClientError as error:
        mapped = from_client_error(error, subject=f"{route_table_id}:{destination}")
        if not isinstance(mapped, RouteNotFoundError | RouteTableNotFoundError):
            raise mapped from error


def delete_association_call(ec2: EC2Client, association_id: str) -> None:
    """DeleteLocalGatewayRouteTableVpcAssociation; already gone is fine (idempotent)."""
    try:
        ec2.delete_local_gateway_route_table_vpc_association(
            LocalGatewayRouteTableVpcAssociationId=association_id
        )
    except ClientError as error:
        mapped = from_client_error(error, subject=association_id)
        if not isinstance(mapped, AssociationNotFoundError):
            raise mapped from error


def undo(ec2: EC2Client, store: LedgerStore, entry: JournalEntry) -> None:
    """Undo one journal entry; already-undone is fine (a retried rollback is idempotent)."""
    if entry.kind == "route-created":
        delete_route_call(ec2, entry.route_table_id, entry.destination)
        log.info(
            "rolled back: deleted route %s %s -> %s",
            entry.route_table_id,
            entry.destination,
            entry.local_gateway_id,
            extra=_fields(
                "route-rolled-back",
                entry.vpc_id,
                entry.route_table_id,
                destination=entry.destination,
                local_gateway_id=entry.local_gateway_id,
            ),
        )
        store.forget_route(entry.vpc_id, entry.route_table_id, entry.destination)
    elif entry.kind == "association-created":
        delete_association_call(ec2, entry.association_id)
        log.info(
            "rolled back: deleted association %s of %s",
            entry.association_id,
            entry.vpc_id,
            extra=_fields(
                "association-rolled-back",
                entry.vpc_id,
                entry.lgw_route_table_id,
                association_id=entry.association_id,
            ),
        )
        store.forget_association(entry.vpc_id, entry.association_id)
    else:
        raise ValueError(f"unknown journal entry kind {entry.kind!r}")


def _fields(change: str, vpc_id: str, table_id: str, **more: str) -> dict[str, str]:
    """Structured fields of one change log line (none is a ``LogRecord`` attribute name)."""
    fields = {"change": change, "vpc_id": vpc_id, **more}
    if table_id:
        key = "lgw_route_table_id" if table_id.startswith("lgw-rtb-") else "route_table_id"
        fields[key] = table_id
    return fields


def _route_fields(change: str, vpc_id: str, route: RouteChange) -> dict[str, str]:
    return _fields(
        change,
        vpc_id,
        route.route_table_id,
        destination=route.destination,
        local_gateway_id=route.local_gateway_id,
    )
