"""A throttled scenario: the demo runner gives the core's pacing the sandbox's AWS clock, through
``outpost_mesh.pacing.use_time_source``, for the run only (no environment variable)."""

from __future__ import annotations

from pathlib import Path

import pytest

from outpost_mesh import pacing
from outpost_mesh_sandbox.aws.server import Sandbox
from outpost_mesh_sandbox.demo import run_demo
from outpost_mesh_sandbox.stack.pipeline import PipelineOptions

MESH_3X3 = """
description: 3 racks x 3 subnets, a route table per subnet (54 routes), EC2 throttled
vpcs: [{name: app, cidr: 10.0.0.0/16}]
outposts: [{name: rack-0}, {name: rack-1}, {name: rack-2}]
route_tables:
%(tables)s
subnets:
%(subnets)s
throttle: {time_scale: 1}
steps:
  - sweep: {}
"""


def mesh(tmp_path: Path) -> Path:
    tables = "\n".join(f"  - {{name: rt-{r}-{i}, vpc: app}}" for r in range(3) for i in range(3))
    subnets = "\n".join(
        f"  - {{name: s-{r}-{i}, vpc: app, cidr: 10.0.{r * 10 + i}.0/24, outpost: rack-{r}, "
        f"route_table: rt-{r}-{i}}}"
        for r in range(3)
        for i in range(3)
    )
    path = tmp_path / "mesh.yaml"
    path.write_text(MESH_3X3 % {"tables": tables, "subnets": subnets}, encoding="utf-8")
    return path


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
        run = run_demo(mesh(tmp_path), sandbox=sb, options=PipelineOptions(env={}))
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
