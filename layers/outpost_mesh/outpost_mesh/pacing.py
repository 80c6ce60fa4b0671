"""Client-side pacing of mutating EC2 calls at EC2's own refill rate.

EC2 throttles each API with a token bucket; mutating actions (CreateRoute, DeleteRoute,
Create...VpcAssociation) have a bucket of 50 refilled at 5 per second (docs/aws-facts.md, Quotas and
throttling). Taking a token here before each call keeps us under that limit, so calls are not
wasted on RequestLimitExceeded. Step Functions' MaxConcurrency bounds calls in flight, not calls
per second, hence pacing inside the task.

Pacing reads real time (``time.monotonic`` / ``time.sleep``) unless told otherwise: a benchmark
or the sandbox, which emulate AWS time faster than real time, give pacing their clock through
one explicit seam, :func:`use_time_source`. Production code never changes it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

MUTATING_BUCKET = 50
MUTATING_REFILL_PER_SECOND = 5.0
# Tokens of EC2's bucket never planned for: a call reaches EC2 a little after it was paced, and
# not always by the same delay, so two calls paced 0.2 s apart can arrive closer together. With
# the bucket otherwise spent to the last token that is a RequestLimitExceeded; two tokens absorb
# 0.4 s of such jitter at 5/s, and cost 0.4 s once.
RESERVE_TOKENS = 2

_EPSILON = 1e-9


@dataclass(frozen=True)
class TimeSource:
    """Where pacing reads the time and how it waits."""

    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep


REAL_TIME = TimeSource()


class _Current:
    source = REAL_TIME


def use_time_source(source: TimeSource | None) -> TimeSource:
    """Make ``source`` the time of every TokenBucket created from now on without a clock of its
    own (None: real time again); returns the one it replaces."""
    previous = _Current.source
    _Current.source = REAL_TIME if source is None else source
    return previous


class TokenBucket:
    def __init__(
        self,
        rate: float = MUTATING_REFILL_PER_SECOND,
        burst: float = MUTATING_BUCKET,
        *,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], None] | None = None,
        initial: float | None = None,
    ) -> None:
        """``burst``: the bucket's size (a share of EC2's may be fractional); ``initial``: tokens
        at the start (default ``burst``: a full bucket)."""
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")
        start = float(burst) if initial is None else initial
        if not 0 <= start <= burst:
            raise ValueError("initial must be between 0 and burst")
        self.rate = rate
        self.burst = burst
        self.clock = clock or _Current.source.clock
        self.sleep = sleep or _Current.source.sleep
        self._tokens = start
        self._last = self.clock()
        self._lock = threading.Lock()

    def _refill(self) -> None:
        now = self.clock()
        self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
        self._last = now

    def take(self) -> float:
        """Take one token, sleeping until one is there; returns the seconds waited."""
        waited = 0.0
        with self._lock:
            self._refill()
            while self._tokens < 1 - _EPSILON:  # float dust must not mean "sleep again"
                pause = (1 - self._tokens) / self.rate
                self.sleep(pause)
                waited += pause
                self._refill()
                # A sleep lasts at least ``pause``: that paid for the token, whatever float
                # rounding of a large clock value says.
                self._tokens = max(self._tokens, 1.0)
            self._tokens = max(0.0, self._tokens - 1)
        return waited


def ec2_share(
    rate: float = MUTATING_REFILL_PER_SECOND,
    burst: float = MUTATING_BUCKET,
    share: float = 1.0,
    *,
    initial: float | None = None,
) -> TokenBucket:
    """A pacer for a caller that may spend ``share`` (0 < share <= 1) of EC2's bucket of
    ``burst`` refilled at ``rate``: that share of the rate and of the bucket less RESERVE_TOKENS
    (at least one token, or it could never call), starting with ``initial`` tokens (default: its
    share of the bucket, full; never more)."""
    if not 0 < share <= 1:
        raise ValueError("share must be > 0 and <= 1")
    capacity = max(1.0, (burst - RESERVE_TOKENS) * share)
    start = capacity if initial is None else min(capacity, max(0.0, initial))
    return TokenBucket(rate * share, capacity, initial=start)
