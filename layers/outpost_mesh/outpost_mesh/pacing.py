"""Client-side pacing of mutating EC2 calls at EC2's own refill rate.

EC2 throttles each API with a token bucket; mutating actions (CreateRoute, DeleteRoute,
Create...VpcAssociation) have a bucket of 50 refilled at 5 per second (aws-facts.md, Quotas and
throttling). Taking a token here before each call keeps us under that limit, so calls are not
wasted on RequestLimitExceeded. Step Functions' MaxConcurrency bounds calls in flight, not calls
per second, hence pacing inside the task.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

MUTATING_BUCKET = 50
MUTATING_REFILL_PER_SECOND = 5.0
_EPSILON = 1e-9


class TokenBucket:
    def __init__(
        self,
        rate: float = MUTATING_REFILL_PER_SECOND,
        burst: int = MUTATING_BUCKET,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")
        self.rate = rate
        self.burst = burst
        self.clock = clock
        self.sleep = sleep
        self._tokens = float(burst)
        self._last = clock()
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
