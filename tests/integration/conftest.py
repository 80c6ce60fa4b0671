"""Fixtures of the integration tests (the sandbox itself comes from tests/conftest.py)."""

from __future__ import annotations

import pytest

from outpost_mesh.ledger import LedgerStore, create_table
from outpost_mesh_cli.aws import SANDBOX_TABLE
from outpost_mesh_sandbox.aws.server import Sandbox


@pytest.fixture
def store(sb: Sandbox) -> LedgerStore:
    """The ledger table the CLI uses against the sandbox, created empty."""
    dynamodb = sb.client("dynamodb")
    create_table(dynamodb, SANDBOX_TABLE)
    return LedgerStore(dynamodb, SANDBOX_TABLE)
