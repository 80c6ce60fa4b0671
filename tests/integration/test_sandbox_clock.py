"""A throttled scenario: the demo runner gives the core's pacing the sandbox's AWS clock, through
``outpost_mesh.pacing.use_time_source``, for the run only (no environment variable)."""

from __future__ import annotations

from pathlib import Path

import pytest

from outpost_mesh import pacing
from outpost_mesh_sandbox.aws.server import Sandbox
from outpost_mesh_sandbox.demo import run_demo
from outpost_mesh_sandbox.stack.pipeline import PipelineOptions

from .support import throttled_mesh


def test_a_throttled_run_paces_on_the_sandbox_clock_and_gives_pacing_back(
    sb: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert sb.app is not None
    clock = sb.app.throttle.clock
    sleeps: list[float] = []
    real_sleep = clock.sleep

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        real_sleep(seconds)

    monkeypatch.setattr(clock, "sleep", sleep)
    before = pacing.TimeSource()  # whatever pacing used before the run must come back
    previous = pacing.use_time_source(before)
    try:
        run = run_demo(throttled_mesh(tmp_path, 3, 3), sandbox=sb, options=PipelineOptions(env={}))
        after = pacing.use_time_source(previous)
    finally:
        pacing.use_time_source(previous)
    assert after is before
    assert all(p["reachable"] for p in run.report["reachability"])
    assert run.report["api_calls"]["CreateRoute"] == 54
    status = sb.control.throttle()
    assert status["enabled"] is True
    assert status["throttled"] == {}  # paced: no call refused
    assert sleeps, "the functions waited for EC2's tokens on the sandbox's clock"
