"""Fixtures of the unit tests."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from typing import cast

import pytest

from outpost_mesh import lambda_kit


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """What the handlers' JSON logger writes during the test, one line per record."""
    handler = cast(logging.StreamHandler, lambda_kit.logger.registered_handler)
    sink = io.StringIO()
    previous = handler.setStream(sink)
    try:
        yield sink
    finally:
        handler.setStream(previous)
