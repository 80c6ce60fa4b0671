"""The sandbox's EC2 knobs: process-wide, like moto's backends, and back to defaults on a reset.

``SandboxControl.configure`` (``POST /_sandbox/config``) sets them and ``GET /_sandbox/config``
reports them; :func:`reset_settings` (a sandbox reset) restores the defaults below. The page size
of Describe answers (:mod:`outpost_mesh_sandbox.aws.paging`) and the throttle are knobs of their
own.
"""

from __future__ import annotations

import copy
import threading
from dataclasses import asdict, dataclass


@dataclass
class SandboxSettings:
    # docs/aws-facts.md "Quotas and throttling": routes per route table, default 50
    # (non-propagated; IPv4 counted).
    routes_per_table: int = 50
    # How many describes see an association `associating` before it becomes `associated`.
    association_describes: int = 1
    # Same for `disassociating` -> `disassociated`.
    disassociation_describes: int = 1
    # Next N created associations end `failed` instead of `associated`.
    failing_associations: int = 0


#: The knobs ``configure`` accepts, with the smallest value each may take.
CONFIGURABLE = {
    "routes_per_table": 1,
    "association_describes": 0,
    "disassociation_describes": 0,
}

_SETTINGS = SandboxSettings()
_LOCK = threading.Lock()


def current_settings() -> SandboxSettings:
    with _LOCK:
        return copy.copy(_SETTINGS)


def configure(**values: int | None) -> SandboxSettings:
    """Set the knobs given (None leaves one as it is); ValueError for a bad one, before any
    changes."""
    for name, value in values.items():
        if name not in CONFIGURABLE:
            raise ValueError(f"unknown setting {name!r}")
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{name} must be an integer, got {value!r}")
        if value < CONFIGURABLE[name]:
            raise ValueError(f"{name} must be >= {CONFIGURABLE[name]}, got {value}")
    with _LOCK:
        for name, value in values.items():
            if value is not None:
                setattr(_SETTINGS, name, value)
        return copy.copy(_SETTINGS)


def fail_next_associations(times: int) -> None:
    if isinstance(times, bool) or not isinstance(times, int) or times < 0:
        raise ValueError(f"times must be a non-negative integer, got {times!r}")
    with _LOCK:
        _SETTINGS.failing_associations = times


def take_association_failure() -> bool:
    """True if the association being created must end `failed` (and count it)."""
    with _LOCK:
        if _SETTINGS.failing_associations > 0:
            _SETTINGS.failing_associations -= 1
            return True
        return False


def reset_settings() -> None:
    with _LOCK:
        for name, value in asdict(SandboxSettings()).items():
            setattr(_SETTINGS, name, value)


def settings_dict() -> dict[str, int]:
    return asdict(current_settings())
