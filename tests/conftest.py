"""Shared fixtures: one sandbox server per test session."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from outpost_mesh_sandbox.aws.server import Sandbox


@pytest.fixture(scope="session")
def sandbox() -> Iterator[Sandbox]:
    """The session's sandbox server (started once, stopped at the end)."""
    with Sandbox() as running:
        yield running


@pytest.fixture
def sb(sandbox: Sandbox) -> Iterator[Sandbox]:
    """The sandbox, reset to an empty account for this test."""
    sandbox.control.reset()
    yield sandbox


@pytest.fixture
def ec2(sb: Sandbox) -> Any:
    """EC2 client signed with the pipeline's access key."""
    return sb.client("ec2", caller="pipeline")


@pytest.fixture
def scenario_ec2(sb: Sandbox) -> Any:
    """EC2 client signed with the scenario's access key (a person's calls)."""
    return sb.client("ec2", caller="scenario")
