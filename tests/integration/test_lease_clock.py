"""The VPC lease on a clock the test moves: an unexpired lease is never taken over, an expired one
is, and ``holder_alive`` frees an unexpired lease only when it says the holder has stopped.

Each claim reads the time from the store's injected clock, so the claims fall in the seconds the
test names (not all in the one second a fast test run takes). Outcomes are read back from the
lease item in the sandbox's DynamoDB.
"""

from __future__ import annotations

import pytest

from outpost_mesh.errors import LeaseBusyError
from outpost_mesh.ledger import LedgerStore

from .support import Clock

VPC = "vpc-0lease"
X = "execution-x"
Y = "execution-y"
T = 1_700_000_000  # when X claims
SECONDS = 900
EXPIRY = T + SECONDS


@pytest.fixture
def clock() -> Clock:
    return Clock(T)


@pytest.fixture
def timed(store: LedgerStore, clock: Clock) -> LedgerStore:
    """The sandbox's ledger table, read and written on the test's clock."""
    return LedgerStore(store.dynamodb, store.table_name, clock=clock)


def holder(store: LedgerStore) -> str | None:
    return (store.lease(VPC) or {}).get("holder")


def test_an_unexpired_lease_is_not_taken_over_and_an_expired_one_is(
    timed: LedgerStore, clock: Clock
) -> None:
    x = timed.claim(VPC, X, seconds=SECONDS)
    assert holder(timed) == X
    assert (timed.lease(VPC) or {}).get("expires_at") == EXPIRY

    for now in (T + 1, EXPIRY - 1):  # a second later, and the last second before expiry
        clock.now = now
        with pytest.raises(LeaseBusyError):
            timed.claim(VPC, Y, seconds=SECONDS)
        assert holder(timed) == X, f"Y took X's unexpired lease at expiry - {EXPIRY - now} s"

    clock.now = EXPIRY + 1
    y = timed.claim(VPC, Y, seconds=SECONDS)

    assert y.holder == Y
    assert timed.lease(VPC) == {
        "holder": Y,
        "expires_at": EXPIRY + 1 + SECONDS,
        "triggers": 2,  # Y's two refused claims were handed over as triggers
        "seen": 2,
    }
    # X, back late, cannot release (nor extend) what Y now holds.
    assert timed.release(x) is None
    assert holder(timed) == Y


def test_a_holder_said_to_be_alive_keeps_its_unexpired_lease(
    timed: LedgerStore, clock: Clock
) -> None:
    timed.claim(VPC, X, seconds=SECONDS)
    clock.now = T + 1

    with pytest.raises(LeaseBusyError):
        timed.claim(VPC, Y, seconds=SECONDS, holder_alive=lambda _holder: True)

    assert holder(timed) == X
    assert (timed.lease(VPC) or {}).get("expires_at") == EXPIRY


def test_a_holder_said_to_have_stopped_loses_its_unexpired_lease(
    timed: LedgerStore, clock: Clock
) -> None:
    timed.claim(VPC, X, seconds=SECONDS)
    clock.now = T + 1

    # Only X is said to have stopped: the lease is freed because its own holder is gone.
    taken = timed.claim(VPC, Y, seconds=SECONDS, holder_alive=lambda name: name != X)

    assert taken.holder == Y
    assert holder(timed) == Y
    assert (timed.lease(VPC) or {}).get("expires_at") == T + 1 + SECONDS
