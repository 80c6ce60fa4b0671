"""Who calls the sandbox, and in which account.

The sandbox tells callers apart by the access key id in each request's SigV4 ``Authorization``
header (moto accepts any key). The scenario runner and seeding act as a person would; the pipeline
(handlers, CLI under test) acts as the deployed stack would. The demo report counts only the
pipeline's EC2 calls.

Several accounts (moto keeps one backend per account): the sandbox's own account is
:data:`SANDBOX_ACCOUNT` (moto's default) and its callers use the keys below; every other account
has one key per role, :func:`access_key`, from which the sandbox reads the account
(:func:`account_of_key`) and serves the request from that account's backends.
"""

from __future__ import annotations

import re

SCENARIO_ACCESS_KEY = "AKIAOMSCENARIO000001"
PIPELINE_ACCESS_KEY = "AKIAOMPIPELINE000001"
SECRET_KEY = "outpost-mesh-sandbox-secret"
SANDBOX_ACCOUNT = "123456789012"
SANDBOX_REGION = "us-east-1"

#: Role -> the two letters its keys carry in another account: AKIAOM + code + 12-digit account.
ROLE_CODES = {"scenario": "SC", "pipeline": "PL", "runner": "RN"}
_ACCOUNT_KEY = re.compile(r"AKIAOM(SC|PL|RN)(\d{12})")
_ACCOUNT_ID = re.compile(r"\d{12}")


def access_key(role: str, account_id: str) -> str:
    """The access key id of ``role`` (scenario, pipeline, runner) in ``account_id``; in the
    sandbox's own account the long-standing keys (the runner's is its stack's)."""
    if role not in ROLE_CODES:
        raise ValueError(f"role must be one of {', '.join(ROLE_CODES)}, got {role!r}")
    if not _ACCOUNT_ID.fullmatch(account_id):
        raise ValueError(f"account_id must be 12 digits, got {account_id!r}")
    if account_id == SANDBOX_ACCOUNT and role != "runner":
        return SCENARIO_ACCESS_KEY if role == "scenario" else PIPELINE_ACCESS_KEY
    return f"AKIAOM{ROLE_CODES[role]}{account_id}"


def account_of_key(key: str) -> str | None:
    """The account a key of :func:`access_key` acts in (None: the sandbox's own, or moto's
    rule for any other key)."""
    match = _ACCOUNT_KEY.fullmatch(key)
    return match.group(2) if match else None


def role_of_key(key: str) -> str | None:
    """``pipeline``, ``scenario`` or ``runner`` for a key of :func:`access_key`, else None."""
    if key == PIPELINE_ACCESS_KEY:
        return "pipeline"
    if key == SCENARIO_ACCESS_KEY:
        return "scenario"
    match = _ACCOUNT_KEY.fullmatch(key)
    if match is None:
        return None
    return next(role for role, code in ROLE_CODES.items() if code == match.group(1))
