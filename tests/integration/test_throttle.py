"""EC2 throttle emulation: per-action token buckets at AWS's rates, on an emulated clock.

Every test runs with ``time_scale=0``: AWS time stands still unless the test moves it
(``advance_clock``), so nothing sleeps and nothing depends on how fast the machine is.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from outpost_mesh import pacing
from outpost_mesh_cli.main import main
from outpost_mesh_sandbox.aws.control import SandboxControlError
from outpost_mesh_sandbox.aws.identities import PIPELINE_ACCESS_KEY
from outpost_mesh_sandbox.aws.server import Sandbox
from outpost_mesh_sandbox.aws.throttle import (
    CREATE_TAGS,
    MUTATING,
    NON_MUTATING,
    UNFILTERED_DESCRIBE,
    EmulatedClock,
    bucket_size,
)
from outpost_mesh_sandbox.demo import run_demo
from outpost_mesh_sandbox.scenario import load_scenario
from outpost_mesh_sandbox.scenario.seed import seed
from outpost_mesh_sandbox.stack.pipeline import PipelineOptions

from .support import throttled_mesh

MISSING_TABLE = "rtb-00000000000000000"


def delete_route(ec2: Any) -> str:
    """One mutating call that changes nothing: its error code, or "ok"."""
    try:
        ec2.delete_route(RouteTableId=MISSING_TABLE, DestinationCidrBlock="10.9.0.0/24")
    except ClientError as error:
        return str(error.response["Error"]["Code"])
    return "ok"


def codes(call: Any, times: int) -> list[str]:
    found = []
    for _ in range(times):
        try:
            call()
        except ClientError as error:
            found.append(str(error.response["Error"]["Code"]))
        else:
            found.append("ok")
    return found


def test_off_by_default(sb: Sandbox, ec2: Any) -> None:
    assert sb.control.throttle()["enabled"] is False
    assert {delete_route(ec2) for _ in range(60)} == {"InvalidRouteTableID.NotFound"}
    assert sb.control.throttle()["calls"] == {}  # nothing counted while off


def test_mutating_bucket_empties_then_refills_at_five_per_second(sb: Sandbox, ec2: Any) -> None:
    sb.control.configure(throttle=True, time_scale=0)
    assert [delete_route(ec2) for _ in range(50)] == ["InvalidRouteTableID.NotFound"] * 50
    with pytest.raises(ClientError) as refused:
        ec2.delete_route(RouteTableId=MISSING_TABLE, DestinationCidrBlock="10.9.0.0/24")
    error = refused.value.response
    assert error["Error"]["Code"] == "RequestLimitExceeded"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 503
    assert delete_route(ec2) == "RequestLimitExceeded"  # time stands still: still empty

    assert sb.control.advance_clock(1.0) == pytest.approx(1.0)
    assert [delete_route(ec2) for _ in range(6)] == ["InvalidRouteTableID.NotFound"] * 5 + [
        "RequestLimitExceeded"
    ]
    sb.control.advance_clock(0.2)  # a fifth of a second pays for exactly one call
    assert [delete_route(ec2) for _ in range(2)] == [
        "InvalidRouteTableID.NotFound",
        "RequestLimitExceeded",
    ]
    sb.control.advance_clock(3600)  # refills up to the bucket's size, no further
    outcomes = [delete_route(ec2) for _ in range(51)]
    assert outcomes.count("RequestLimitExceeded") == 1
    assert outcomes[-1] == "RequestLimitExceeded"


def test_refused_calls_are_recorded_as_aws_answered_them(sb: Sandbox, ec2: Any) -> None:
    sb.control.configure(throttle=True, time_scale=0)
    for _ in range(51):
        delete_route(ec2)
    refused = sb.control.calls()[-1]
    assert (refused.action, refused.caller, refused.status) == (
        "DeleteRoute",
        PIPELINE_ACCESS_KEY,
        503,
    )
    assert refused.error_code == "RequestLimitExceeded"
    assert "<Code>RequestLimitExceeded</Code>" in refused.response
    status = sb.control.throttle()
    assert status["calls"] == {"DeleteRoute": 51}
    assert status["throttled"] == {"DeleteRoute": 1}


def test_each_action_has_its_own_bucket(sb: Sandbox, ec2: Any) -> None:
    sb.control.configure(throttle=True, time_scale=0)
    for _ in range(50):
        delete_route(ec2)
    assert delete_route(ec2) == "RequestLimitExceeded"
    # Another mutating action is evaluated on its own: its bucket is still full.
    assert (
        codes(lambda: ec2.delete_subnet(SubnetId="subnet-00000000000000000"), 50)
        == ["InvalidSubnetID.NotFound"] * 50
    )
    # Describes (another category) are untouched by the mutating buckets.
    assert ec2.describe_vpcs(Filters=[{"Name": "vpc-id", "Values": ["vpc-1"]}])["Vpcs"] == []


def test_non_mutating_buckets(sb: Sandbox, ec2: Any) -> None:
    sb.control.configure(throttle=True, time_scale=0)
    filtered = codes(
        lambda: ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": ["vpc-1"]}]), 101
    )
    assert filtered == ["ok"] * 100 + ["RequestLimitExceeded"]
    unfiltered = codes(ec2.describe_vpcs, 51)
    assert unfiltered == ["ok"] * 50 + ["RequestLimitExceeded"]
    sb.control.advance_clock(1.0)  # 20 filtered and 10 unfiltered describes per second
    assert codes(
        lambda: ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": ["vpc-1"]}]), 21
    ) == ["ok"] * 20 + ["RequestLimitExceeded"]
    assert codes(ec2.describe_vpcs, 11) == ["ok"] * 10 + ["RequestLimitExceeded"]


def test_only_ec2_is_throttled(sb: Sandbox) -> None:
    sb.control.configure(throttle=True, time_scale=0)
    sfn = sb.client("stepfunctions")
    for _ in range(120):
        assert sfn.list_state_machines()["stateMachines"] == []


def test_turning_off_and_reset(sb: Sandbox, ec2: Any) -> None:
    sb.control.configure(throttle=True, time_scale=0)
    for _ in range(50):
        delete_route(ec2)
    assert delete_route(ec2) == "RequestLimitExceeded"
    sb.control.configure(throttle=False)
    assert delete_route(ec2) == "InvalidRouteTableID.NotFound"
    sb.control.configure(throttle=True)  # on again: every bucket full, the scale kept (0)
    assert delete_route(ec2) == "InvalidRouteTableID.NotFound"
    sb.control.reset()
    assert sb.control.throttle() | {"now": 0} == {
        "enabled": False,
        "time_scale": 1.0,
        "now": 0,
        "calls": {},
        "throttled": {},
    }
    assert sb.control.config()["routes_per_table"] == 50  # other settings unaffected


def test_time_scale_runs_aws_time_faster_than_real_time(sb: Sandbox) -> None:
    sb.control.configure(throttle=True, time_scale=600)
    first = sb.control.throttle()["now"]
    second = sb.control.throttle()["now"]
    assert second > first  # real time moves AWS time, 600 times faster
    assert sb.control.throttle()["time_scale"] == 600


@pytest.mark.parametrize(
    "settings",
    [{"throttle": "yes"}, {"time_scale": -1}, {"time_scale": True}, {"time_scale": "fast"}],
)
def test_bad_settings_are_refused_and_change_nothing(sb: Sandbox, settings: dict[str, Any]) -> None:
    with pytest.raises(SandboxControlError) as refused:
        sb.control._request("POST", "config", {"routes_per_table": 7, **settings})
    assert refused.value.status == 400
    assert sb.control.config()["routes_per_table"] == 50
    assert sb.control.throttle()["enabled"] is False
    with pytest.raises(SandboxControlError):
        sb.control._request("POST", "clock", {"seconds": "soon"})


def test_bucket_categories() -> None:
    assert bucket_size("CreateRoute", {}) == MUTATING
    assert bucket_size("CreateLocalGatewayRouteTableVpcAssociation", {}) == MUTATING
    assert bucket_size("CreateTags", {}) == CREATE_TAGS
    assert (MUTATING.capacity, MUTATING.refill_per_second) == (50, 5.0)
    assert (NON_MUTATING.capacity, NON_MUTATING.refill_per_second) == (100, 20.0)
    assert (UNFILTERED_DESCRIBE.capacity, UNFILTERED_DESCRIBE.refill_per_second) == (50, 10.0)
    assert bucket_size("DescribeSubnets", {"Action": "DescribeSubnets"}) == UNFILTERED_DESCRIBE
    assert bucket_size("DescribeSubnets", {"Filter.1.Name": "vpc-id"}) == NON_MUTATING
    assert bucket_size("DescribeVpcs", {"VpcId.1": "vpc-1"}) == NON_MUTATING
    assert bucket_size("DescribeRouteTables", {"MaxResults": "100"}) == NON_MUTATING
    assert bucket_size("DescribeRouteTables", {"NextToken": "x"}) == NON_MUTATING


class FakeReal:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_emulated_clock_scales_real_time_and_jumps_on_sleep() -> None:
    real = FakeReal()
    clock = EmulatedClock(60, real=real)
    assert clock.now() == 0
    real.now += 1.0
    assert clock.now() == pytest.approx(60.0)  # one real second is a minute
    clock.sleep(30)  # never waits: the clock jumps
    assert clock.now() == pytest.approx(90.0)
    clock.set(0)  # real time stops counting; AWS time stays where it was
    real.now += 50
    assert clock.now() == pytest.approx(90.0)
    assert clock.advance(10) == pytest.approx(100.0)
    clock.set(restart=True)
    assert clock.now() == 0
    with pytest.raises(ValueError):
        EmulatedClock(-1)
    with pytest.raises(ValueError):
        clock.advance(-1)


def test_concurrent_sleepers_of_one_pause_move_the_clock_once() -> None:
    clock = EmulatedClock(0)
    barrier = threading.Barrier(4)

    def sleeper() -> None:
        clock.now()  # each reads the time, then pauses 2 s from there
        barrier.wait()
        clock.sleep(2.0)

    threads = [threading.Thread(target=sleeper) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert clock.now() == pytest.approx(2.0)
    clock.sleep(1.0)  # this thread last read 2.0
    assert clock.now() == pytest.approx(3.0)


# -- the pacing seam: clients pace on the same AWS time -------------------------------------
def test_pacing_reads_the_time_source_it_is_given() -> None:
    clock = EmulatedClock(0)
    previous = pacing.use_time_source(pacing.TimeSource(clock.now, clock.sleep))
    try:
        paced = pacing.TokenBucket(5.0, 50, initial=0)
        assert paced.take() == pytest.approx(0.2)  # an empty bucket: one refill's wait
        assert clock.now() == pytest.approx(0.2)  # slept on AWS time, not real time
        for _ in range(10):
            paced.take()
        assert clock.now() == pytest.approx(2.2)
    finally:
        pacing.use_time_source(previous)
    assert pacing.TokenBucket().clock is pacing.REAL_TIME.clock


def test_a_pacer_cannot_start_fuller_than_its_bucket() -> None:
    with pytest.raises(ValueError):
        pacing.TokenBucket(5.0, 50, initial=51)


# -- through the pipeline ---------------------------------------------------------------------
def test_the_scenario_option_throttles_the_pipeline_and_batches_stay_under_the_rate(
    sb: Sandbox, tmp_path: Path
) -> None:
    """96 routes in 12 batches, 4 at a time, each paced at 5/4 per s and the first four starting
    with a quarter of EC2's burst: together they never go past EC2's bucket, however the Map
    starts them (pacing sleeps on the throttle's AWS clock)."""
    assert sb.app is not None
    clock = sb.app.throttle.clock
    previous = pacing.use_time_source(pacing.TimeSource(clock.now, clock.sleep))
    try:
        run = run_demo(throttled_mesh(tmp_path, 3, 4), sandbox=sb, options=PipelineOptions(env={}))
    finally:
        pacing.use_time_source(previous)
    assert all(p["reachable"] for p in run.report["reachability"])
    assert len(run.report["reachability"]) == 12 * 8
    status = sb.control.throttle()
    assert status["enabled"] is True
    assert status["calls"]["CreateRoute"] == 96
    assert status["throttled"] == {}  # no call wasted on RequestLimitExceeded
    created = [c for c in sb.control.calls() if c.action == "CreateRoute"]
    assert [c.error_code for c in created if not c.ok] == []  # nor on RouteAlreadyExists
    pipeline = [c for c in sb.app.throttle.log if c.caller == PIPELINE_ACCESS_KEY]
    # 96 routes at 5 per second at best, then less the burst: (96 - 50) / 5 = 9.2 s of AWS time.
    assert pipeline[-1].aws_time - pipeline[0].aws_time >= 9.2


@pytest.mark.usefixtures("store")  # the CLI's ledger table
def test_the_cli_apply_paces_itself_at_ec2s_bucket(
    sb: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`outpost-mesh apply` makes its 96 CreateRoute calls without one refused: 50 at once, then
    at EC2's refill rate (pacing on the throttle's AWS clock, as the CLI would on real time)."""
    assert sb.app is not None
    scenario = load_scenario(throttled_mesh(tmp_path, 3, 4))
    ids = seed(scenario, sb.client("ec2", caller="scenario"), sb.control)  # throttle on at the end
    sb.control.configure(association_describes=1)
    for key in [k for k in os.environ if k.startswith("AWS_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("AWS_ENDPOINT_URL", sb.endpoint_url)
    clock = sb.app.throttle.clock
    previous = pacing.use_time_source(pacing.TimeSource(clock.now, clock.sleep))
    try:
        started = clock.now()
        code = main(["apply", "--vpc", ids.vpc_id("app"), "--output", "json"])
        took = clock.now() - started
    finally:
        pacing.use_time_source(previous)
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert len(out["reachability"]) == 96 and all(p["reachable"] for p in out["reachability"])
    status = sb.control.throttle()
    assert status["calls"]["CreateRoute"] == 96
    assert status["throttled"] == {}
    assert took >= (96 - 50) / 5  # the floor: it did wait for the refill
