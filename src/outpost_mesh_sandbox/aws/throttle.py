"""EC2 request throttling as AWS does it: a token bucket per API action, on an emulated clock.

EC2 throttles each API action on its own ("each API is evaluated individually"), per account and
Region, with a token bucket: a call takes a token; a call that finds the bucket empty is answered
HTTP 503 ``RequestLimitExceeded`` and changes nothing; tokens come back at a fixed rate up to the
bucket's size (docs/aws-facts.md, "Quotas and throttling"; EC2 API reference, "Request throttling"):

==========================================  ======  ==========
category                                    bucket  refill / s
==========================================  ======  ==========
mutating (CreateRoute, DeleteRoute, ...)        50           5
non-mutating (Describe*, Get*, ...)            100          20
unfiltered and unpaginated Describe*            50          10
CreateTags                                     100          10
==========================================  ======  ==========

A Describe call is *unfiltered and unpaginated* here when it names no filter (``Filter.N``), no
resource ids (``...Id.N``) and no page (``MaxResults`` / ``NextToken``): the cheap reading of
AWS's wording, stated as an assumption. Only EC2 is throttled (DynamoDB, Step Functions and Lambda
have limits of their own that the sandbox does not play).

Off by default; ``SandboxControl.configure(throttle=True, time_scale=N)`` (or a scenario's
``throttle: {time_scale: N}``) turns it on with every bucket full.

The clock (:class:`EmulatedClock`) is AWS time as the buckets see it::

    aws seconds = (real seconds since it was set) x time_scale + seconds skipped

``time_scale`` 60 makes one real second a minute of AWS time, so a client pacing itself at AWS's
rate must use the same clock: an in-process one gets it through
``outpost_mesh.pacing.use_time_source`` (:meth:`EmulatedClock.time_source`; the demo runner does
that for a scenario with ``throttle``).
``time_scale`` 0 stops real time: AWS time moves only when told (``advance_clock``) or when an
in-process client sleeps on this clock (:meth:`EmulatedClock.sleep` jumps instead of waiting), which
is how the benchmarks run minutes of AWS time in seconds.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from outpost_mesh.pacing import TimeSource
from outpost_mesh_sandbox.aws.calls import is_mutating
from outpost_mesh_sandbox.aws.faults import Fault

__all__ = [
    "CREATE_TAGS",
    "MUTATING",
    "NON_MUTATING",
    "THROTTLE_CODE",
    "UNFILTERED_DESCRIBE",
    "BucketSize",
    "EmulatedClock",
    "Throttle",
    "ThrottledCall",
    "bucket_size",
]

THROTTLE_CODE = "RequestLimitExceeded"
THROTTLE_MESSAGE = "Request limit exceeded."


@dataclass(frozen=True)
class BucketSize:
    category: str
    capacity: int
    refill_per_second: float


MUTATING = BucketSize("mutating", 50, 5.0)
NON_MUTATING = BucketSize("non-mutating", 100, 20.0)
UNFILTERED_DESCRIBE = BucketSize("unfiltered-describe", 50, 10.0)
CREATE_TAGS = BucketSize("create-tags", 100, 10.0)

# Parameters that make a Describe call filtered or paginated (flat EC2 query parameters).
_NARROWING = re.compile(r"^(Filter\.\d+\.|MaxResults$|NextToken$)|Ids?\.\d+$")


def bucket_size(action: str, params: Mapping[str, Any]) -> BucketSize:
    """The bucket an EC2 action draws from (its category's size and refill rate)."""
    if action == "CreateTags":
        return CREATE_TAGS
    if is_mutating(action):
        return MUTATING
    if action.startswith("Describe") and not any(_NARROWING.search(str(k)) for k in params):
        return UNFILTERED_DESCRIBE
    return NON_MUTATING


class EmulatedClock:
    """AWS time for the throttle (and for clients pacing themselves on the same clock).

    ``now()`` is ``(real seconds since set) x time_scale + skipped seconds``. ``sleep(s)`` never
    waits: it moves the clock to this thread's last reading plus ``s`` (unless the clock is there
    already), so concurrent sleepers of one pause move it once, as real time would.
    """

    def __init__(
        self, time_scale: float = 1.0, *, real: Callable[[], float] = time.monotonic
    ) -> None:
        self._real = real
        self._lock = threading.Lock()
        self._local = threading.local()
        self._time_scale = check_time_scale(time_scale)
        self._real0 = real()
        self._base = 0.0

    @property
    def time_scale(self) -> float:
        return self._time_scale

    def _now(self) -> float:
        return self._base + (self._real() - self._real0) * self._time_scale

    def now(self) -> float:
        with self._lock:
            value = self._now()
        self._local.seen = value
        return value

    def time_source(self) -> TimeSource:
        """This clock as ``outpost_mesh.pacing`` reads time and waits (``use_time_source``)."""
        return TimeSource(self.now, self.sleep)

    def set(self, time_scale: float | None = None, *, restart: bool = False) -> None:
        """Change the scale from now on (AWS time stays continuous); ``restart``: back to 0."""
        scale = self._time_scale if time_scale is None else check_time_scale(time_scale)
        with self._lock:
            self._base = 0.0 if restart else self._now()
            self._real0 = self._real()
            self._time_scale = scale

    def advance(self, seconds: float) -> float:
        """Move AWS time forward by ``seconds``; returns the new time."""
        if not math.isfinite(seconds) or seconds < 0:
            raise ValueError(f"seconds must be a finite number >= 0, got {seconds!r}")
        with self._lock:
            self._base += seconds
            value = self._now()
        self._local.seen = value
        return value

    def sleep(self, seconds: float) -> None:
        """A client's pause on AWS time: the clock jumps instead of the thread waiting."""
        if seconds <= 0:
            return
        start = getattr(self._local, "seen", None)
        with self._lock:
            current = self._now()
            target = (current if start is None else start) + seconds
            if target > current:
                self._base += target - current
            value = max(target, current)
        self._local.seen = value


def check_time_scale(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"time_scale must be a number, got {value!r}")
    scale = float(value)
    if not math.isfinite(scale) or scale < 0:
        raise ValueError(f"time_scale must be a finite number >= 0, got {value!r}")
    return scale


@dataclass(frozen=True)
class ThrottledCall:
    """One EC2 call the throttle saw (only while it is on): when, on AWS time, and its fate."""

    aws_time: float
    action: str
    caller: str
    throttled: bool


class _Bucket:
    __slots__ = ("last", "size", "tokens")

    def __init__(self, size: BucketSize, now: float) -> None:
        self.size = size
        self.tokens = float(size.capacity)
        self.last = now

    def take(self, now: float) -> bool:
        elapsed = max(0.0, now - self.last)
        self.tokens = min(
            float(self.size.capacity), self.tokens + elapsed * self.size.refill_per_second
        )
        self.last = max(self.last, now)
        if self.tokens >= 1.0 - 1e-9:  # float dust must not refuse a paid-for call
            self.tokens = max(0.0, self.tokens - 1.0)
            return True
        return False


class Throttle:
    """Per-action token buckets for EC2 calls; off until :meth:`configure` turns it on."""

    def __init__(self) -> None:
        self.clock = EmulatedClock()
        self.enabled = False
        self.log: list[ThrottledCall] = []
        self._buckets: dict[tuple[str, str], _Bucket] = {}
        self._lock = threading.Lock()

    @staticmethod
    def check(enabled: object, time_scale: object) -> None:
        """ValueError for arguments :meth:`configure` would refuse."""
        if enabled is not None and not isinstance(enabled, bool):
            raise ValueError(f"throttle must be true or false, got {enabled!r}")
        if time_scale is not None:
            check_time_scale(time_scale)

    def configure(self, *, enabled: bool | None = None, time_scale: float | None = None) -> None:
        """Turn on/off and/or set the time scale; either way every bucket starts full again."""
        self.check(enabled, time_scale)
        scale = None if time_scale is None else check_time_scale(time_scale)
        with self._lock:
            self.clock.set(scale, restart=True)
            if enabled is not None:
                self.enabled = enabled
            self._buckets.clear()
            self.log.clear()

    def reset(self) -> None:
        """Off, scale 1, buckets and log cleared (a sandbox reset)."""
        with self._lock:
            self.enabled = False
            self.clock.set(1.0, restart=True)
            self._buckets.clear()
            self.log.clear()

    def take(
        self, service: str, action: str, caller: str, params: Mapping[str, Any], region: str = ""
    ) -> Fault | None:
        """Take a token for this call: None lets it run, a Fault answers RequestLimitExceeded."""
        if not self.enabled or service != "ec2":
            return None
        size = bucket_size(action, params)
        now = self.clock.now()
        with self._lock:
            if not self.enabled:
                return None
            key = (region, action)
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = _Bucket(size, now)
            allowed = bucket.take(now)
            self.log.append(ThrottledCall(now, action, caller, not allowed))
        if allowed:
            return None
        return Fault(service, action, THROTTLE_CODE, THROTTLE_MESSAGE, 1)

    def status(self) -> dict[str, Any]:
        """What ``GET /_sandbox/throttle`` answers."""
        with self._lock:
            calls = Counter(c.action for c in self.log)
            throttled = Counter(c.action for c in self.log if c.throttled)
            return {
                "enabled": self.enabled,
                "time_scale": self.clock.time_scale,
                "now": self.clock.now(),
                "calls": dict(sorted(calls.items())),
                "throttled": dict(sorted(throttled.items())),
            }
