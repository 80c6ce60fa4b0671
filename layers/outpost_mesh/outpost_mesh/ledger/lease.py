"""The per-VPC lease: one actor changes a VPC at a time, and no trigger is lost.

One item per VPC (``LeaseItem``: ``VPC#<vpc>`` / ``LEASE``), changed only by conditional
UpdateItems: ``claim`` takes it when free, expired or held by the claimant (or, told its holder
has stopped, from that holder only), ``add_trigger`` counts a trigger for the holder, ``release``
gives it up only when no trigger arrived since the pass began (docs/architecture.md, rule 5).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from outpost_mesh.errors import LeaseBusyError
from outpost_mesh.ledger.codec import encode
from outpost_mesh.ledger.items import LeaseItem
from outpost_mesh.ledger.table import LedgerTable

DEFAULT_LEASE_SECONDS = 900


@dataclass(frozen=True)
class LeaseClaim:
    vpc_id: str
    holder: str
    seen: int  # triggers counted when this pass began


class _Held(Exception):
    def __init__(self, holder: str) -> None:
        super().__init__(holder)
        self.holder = holder


class Leases(LedgerTable):
    """The lease operations of the ledger table (``LedgerStore`` has them all)."""

    def add_trigger(self, vpc_id: str) -> int:
        """Count a trigger on the VPC: the lease holder will make one more pass for it."""
        out = self._update(
            vpc_id,
            Key=LeaseItem.key(vpc_id),
            UpdateExpression="ADD triggers :one",
            ExpressionAttributeValues=encode({":one": 1}),
            ReturnValues="ALL_NEW",
        )
        assert out is not None
        return LeaseItem.triggers(out["Attributes"])

    def lease(self, vpc_id: str) -> dict[str, Any] | None:
        item = self._get(LeaseItem.pk(vpc_id), LeaseItem.SK)
        return LeaseItem.decode(item) if item else None

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
        values: dict[str, str | int] = {
            ":me": holder,
            ":exp": now + seconds,
            ":now": now,
            ":zero": 0,
        }
        if stale:
            condition = "holder = :stale"
            values[":stale"] = stale
        else:
            condition = "attribute_not_exists(holder) OR expires_at < :now OR holder = :me"
        out = self._update(
            vpc_id,
            tolerate_condition=True,
            Key=LeaseItem.key(vpc_id),
            UpdateExpression="SET holder = :me, expires_at = :exp, "
            "triggers = if_not_exists(triggers, :zero), claimed_at = :now",
            ConditionExpression=condition,
            ExpressionAttributeValues=encode(values),
            ReturnValues="ALL_NEW",
        )
        if out is None:
            lease = self.lease(vpc_id) or {}
            raise _Held(str(lease.get("holder") or ""))
        triggers = LeaseItem.triggers(out["Attributes"])
        self._set_seen(vpc_id, holder, triggers)
        return LeaseClaim(vpc_id, holder, triggers)

    def _set_seen(self, vpc_id: str, holder: str, seen: int) -> None:
        self._update(
            vpc_id,
            Key=LeaseItem.key(vpc_id),
            UpdateExpression="SET seen = :seen",
            ConditionExpression="holder = :me",
            ExpressionAttributeValues=encode({":seen": seen, ":me": holder}),
        )

    def release(self, claim: LeaseClaim) -> LeaseClaim | None:
        """Release if no trigger arrived since the pass began; else the claim for one more pass.

        Releasing only when the trigger counter still equals ``seen`` is what keeps a trigger
        that arrived during the pass from being lost (docs/architecture.md rule 5).
        """
        released = self._update(
            claim.vpc_id,
            tolerate_condition=True,
            Key=LeaseItem.key(claim.vpc_id),
            UpdateExpression="REMOVE holder, expires_at",
            ConditionExpression="holder = :me AND triggers = :seen",
            ExpressionAttributeValues=encode({":me": claim.holder, ":seen": claim.seen}),
        )
        if released is not None:
            return None
        lease = self.lease(claim.vpc_id) or {}
        if lease.get("holder") != claim.holder:
            return None  # someone took it over; nothing of ours to release
        again = LeaseClaim(claim.vpc_id, claim.holder, int(lease.get("triggers", 0)))
        self._set_seen(claim.vpc_id, claim.holder, again.seen)
        return again

    def extend(self, vpc_id: str, holder: str, until: int) -> bool:
        """Keep ``holder``'s lease until ``until`` (epoch seconds): an execution that waits for
        a person outlives the lease's usual expiry, after which a lease is taken over whatever
        its holder does. False: ``holder`` does not hold it (nothing changed)."""
        kept = self._update(
            vpc_id,
            tolerate_condition=True,
            Key=LeaseItem.key(vpc_id),
            UpdateExpression="SET expires_at = :until",
            ConditionExpression="holder = :me",
            ExpressionAttributeValues=encode({":until": until, ":me": holder}),
        )
        return kept is not None

    def force_release(self, vpc_id: str, holder: str) -> None:
        """Give the lease up whatever the trigger counter says (after a failure)."""
        self._update(
            vpc_id,
            tolerate_condition=True,
            Key=LeaseItem.key(vpc_id),
            UpdateExpression="REMOVE holder, expires_at",
            ConditionExpression="holder = :me",
            ExpressionAttributeValues=encode({":me": holder}),
        )
