"""TokenBucket on a fake clock: EC2's mutating bucket holds 50 calls, refilled at 5 per second."""

from __future__ import annotations

import pytest

from outpost_mesh.pacing import MUTATING_BUCKET, MUTATING_REFILL_PER_SECOND, TokenBucket

EPSILON = 1e-6


# Far more sleeps than any test needs: a bucket that keeps sleeping without paying out a token
# fails the test instead of hanging the suite.
MAX_SLEEPS = 10_000


class FakeClock:
    """A monotonic clock that moves exactly as far as the bucket sleeps (or a test says)."""

    def __init__(self, start: float = 0.0) -> None:
        self.now = start
        self.slept = 0.0
        self.sleeps = 0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.sleeps += 1
        if self.sleeps > MAX_SLEEPS:
            raise AssertionError(
                f"take() slept {self.sleeps} times without getting a token; last pause "
                f"{seconds!r}s at clock {self.now!r} (now + pause == now: "
                f"{self.now + seconds == self.now})"
            )
        self.now += seconds
        self.slept += seconds


def bucket(clock: FakeClock, **kwargs: float) -> TokenBucket:
    return TokenBucket(clock=clock, sleep=clock.sleep, **kwargs)  # type: ignore[arg-type]


def test_defaults_are_ec2s_mutating_bucket() -> None:
    assert (MUTATING_BUCKET, MUTATING_REFILL_PER_SECOND) == (50, 5.0)
    paced = bucket(FakeClock())
    assert (paced.burst, paced.rate) == (50, 5.0)


def test_a_burst_of_fifty_goes_through_without_waiting() -> None:
    clock = FakeClock()
    paced = bucket(clock)

    waits = [paced.take() for _ in range(50)]

    assert waits == [0.0] * 50
    assert clock.sleeps == 0


def test_after_the_burst_calls_are_paced_at_five_per_second() -> None:
    clock = FakeClock()
    paced = bucket(clock)
    for _ in range(50):
        paced.take()

    waits = [paced.take() for _ in range(10)]

    assert all(w == pytest.approx(0.2, abs=EPSILON) for w in waits)
    assert clock.slept == pytest.approx(2.0, abs=EPSILON)


def test_twelve_hundred_calls_take_the_refill_time_of_all_but_the_burst() -> None:
    clock = FakeClock()
    paced = bucket(clock)

    waited = sum(paced.take() for _ in range(1_200))

    expected = (1_200 - 50) / 5
    assert clock.slept == pytest.approx(expected, abs=EPSILON)
    assert waited == pytest.approx(expected, abs=EPSILON)


@pytest.mark.parametrize(
    "start",
    [0.0, 1_000.0, 123_456.789, 10_000_000.0, 1_700_000_000.0],
    ids=["zero", "thousand", "uptime-like", "long-uptime", "epoch-like"],
)
def test_pacing_does_not_depend_on_where_the_clock_starts(start: float) -> None:
    """Whatever the clock's magnitude (and so its float resolution), each take() ends."""
    clock = FakeClock(start)
    paced = bucket(clock)

    for _ in range(1_200):
        paced.take()

    # The clock's own rounding at this magnitude allows a looser, still sub-millisecond bound.
    assert clock.slept == pytest.approx((1_200 - 50) / 5, abs=1e-3)


def test_idle_time_refills_the_bucket_but_never_past_its_burst() -> None:
    clock = FakeClock()
    paced = bucket(clock)
    for _ in range(50):
        paced.take()

    clock.now += 3_600  # an hour idle: 18,000 tokens' worth, capped at 50
    assert [paced.take() for _ in range(50)] == [0.0] * 50
    assert paced.take() == pytest.approx(0.2, abs=EPSILON)


def test_a_partial_refill_lets_through_as_many_calls_as_it_holds() -> None:
    clock = FakeClock()
    paced = bucket(clock)
    for _ in range(50):
        paced.take()

    clock.now += 1.0  # five tokens
    assert [paced.take() for _ in range(5)] == [0.0] * 5
    assert paced.take() == pytest.approx(0.2, abs=EPSILON)


def test_other_rates_and_bursts_are_honoured() -> None:
    clock = FakeClock()
    paced = bucket(clock, rate=2.0, burst=3)

    for _ in range(13):
        paced.take()

    assert clock.slept == pytest.approx((13 - 3) / 2.0, abs=EPSILON)


@pytest.mark.parametrize(("rate", "burst"), [(0.0, 50), (-1.0, 50), (5.0, 0)])
def test_a_bucket_that_could_never_pay_out_is_refused(rate: float, burst: int) -> None:
    with pytest.raises(ValueError):
        TokenBucket(rate, burst, clock=FakeClock(), sleep=FakeClock().sleep)
