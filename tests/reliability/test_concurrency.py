"""Concurrency: bursts of events for one VPC (issue 5, item 2).

Twenty subnets are created on four racks (each with its rack's route table) and their 20
CreateSubnet events are delivered at once; then creations and deletions are interleaved, each
call's events (CreateSubnet, AssociateRouteTable, DeleteSubnet) delivered as soon as it is made
while the executions of the earlier ones still run.
After each burst:

* the final state equals the desired state (a fresh plan changes nothing), and every execution
  ended SUCCEEDED or FAILED after its rollback (a pass that loses a race with the person's next
  call, which AWS then refuses, is rolled back; that call's own trigger gets one more pass);
* at most one execution changes the VPC at any time: the mutating tasks of two executions never
  overlap, every mutating EC2 call of the pipeline falls inside the lease hold (read from the
  DynamoDB calls in the sandbox's call log) of the execution it belongs to, the holds never
  overlap, and each CreateRoute's ledger owner (the PutItem just before it) is that execution;
* no trigger is lost: every trigger invocation succeeded, the lease is free with every counted
  trigger seen by a pass, and a pass began after the last trigger;
* no route is written twice: no RouteAlreadyExists answer to the pipeline, and a (table,
  destination) is created again only after it was deleted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise

from outpost_mesh_sandbox.aws.control import ApiCall
from outpost_mesh_sandbox.aws.identities import PIPELINE_ACCESS_KEY

from .harness import MUTATING_TASKS, TALLY, Call, World, mutating

RACKS = ("a", "b", "c", "d")
SUBNETS = 20  # five per rack, each rack's subnets on one route table of that rack
CHURN = 5  # subnets deleted and created, interleaved (25% of the routes: under delete safety)


def _subnet(index: int) -> str:
    rack = RACKS[index % len(RACKS)]
    return (
        f"  - create_subnet: {{name: s{index}, vpc: big, cidr: 10.50.{index}.0/24, "
        f"outpost: rack-{rack}, route_table: rt-{rack}}}\n"
    )


SCENARIO = (
    "vpcs: [{name: big, cidr: 10.50.0.0/16}]\n"
    "outposts: [" + ", ".join(f"{{name: rack-{r}}}" for r in RACKS) + "]\n"
    "route_tables:\n"
    + "".join(f"  - {{name: rt-{r}, vpc: big}}\n" for r in RACKS)
    + "  - name: rt-edge\n    vpc: big\n    routes: [{destination: 0.0.0.0/0, target: igw}]\n"
    "subnets:\n  - {name: edge, vpc: big, cidr: 10.50.200.0/24, route_table: rt-edge}\n"
    "steps:\n"
    + "".join(_subnet(i) for i in range(SUBNETS))
    + "".join(f"  - delete_subnet: {{name: s{i}}}\n" + _subnet(SUBNETS + i) for i in range(CHURN))
)


@dataclass(frozen=True)
class Hold:
    holder: str  # execution name
    acquired: int  # call log seq of the UpdateItem that took the lease
    released: int  # ... and of the one that gave it up


def lease_holds(calls: list[ApiCall]) -> list[Hold]:
    """Who held the lease when, from the successful lease UpdateItems in the call log."""
    holds: list[Hold] = []
    open_: dict[str, int] = {}
    for call in calls:
        if call.service != "dynamodb" or call.action != "UpdateItem" or not call.ok:
            continue
        params = call.params
        if params.get("Key", {}).get("sk", {}).get("S") != "LEASE":
            continue
        expression = str(params.get("UpdateExpression", ""))
        me = params.get("ExpressionAttributeValues", {}).get(":me", {}).get("S", "")
        name = me.rsplit(":", 1)[-1]
        if expression.startswith("SET holder"):
            open_.setdefault(name, call.seq)
        elif expression.startswith("REMOVE holder") and name in open_:
            holds.append(Hold(name, open_.pop(name), call.seq))
    assert not open_, f"lease never released by {sorted(open_)}"
    return sorted(holds, key=lambda h: h.acquired)


def owner_of(call: ApiCall, invocations: list[Call]) -> str:
    """The one execution whose mutating task was running when ``call`` arrived."""
    running = {
        i.execution
        for i in invocations
        if i.function in MUTATING_TASKS and i.start <= call.time <= i.end
    }
    assert len(running) == 1, (call.action, call.params, running)
    return running.pop()


def check_one_actor(world: World, since: int) -> tuple[int, int, int]:
    """Mutating tasks of two executions never overlap; every mutating call of the pipeline is
    inside its execution's lease hold; holds never overlap. Returns (holds, claims refused,
    mutating calls)."""
    invocations = [i for i in world.invocations if i.function in MUTATING_TASKS]
    by_execution: dict[str, tuple[float, float]] = {}
    for i in invocations:
        lo, hi = by_execution.get(i.execution, (i.start, i.end))
        by_execution[i.execution] = (min(lo, i.start), max(hi, i.end))
    spans = sorted(by_execution.items(), key=lambda kv: kv[1])
    for (first, (_, end)), (second, (start, _)) in pairwise(spans):
        assert end <= start, f"{first} and {second} changed the VPC at the same time"

    calls = world.api_calls(since)
    holds = lease_holds(calls)
    for earlier, later in pairwise(holds):
        assert earlier.released < later.acquired, (earlier, later)
    changes = [c for c in mutating(calls) if c.caller == PIPELINE_ACCESS_KEY]
    changing = {c.seq for c in changes}
    ownership: dict[tuple[str, str], str] = {}
    for call in calls:
        if call.service == "dynamodb" and call.action == "PutItem" and call.ok:
            item = call.params.get("Item", {})
            sk = item.get("sk", {}).get("S", "")
            if sk.startswith("ROUTE#"):
                _, table, destination = sk.split("#", 2)
                ownership[(table, destination)] = item.get("owner", {}).get("S", "")
        if call.seq in changing:
            execution = owner_of(call, world.invocations)
            assert any(h.holder == execution and h.acquired < call.seq < h.released for h in holds)
            if call.action == "CreateRoute":
                key = (call.params["RouteTableId"], call.params["DestinationCidrBlock"])
                assert ownership.get(key) == execution, (key, ownership.get(key), execution)
    refused = sum(
        1
        for c in calls
        if c.action == "UpdateItem"
        and c.error_code == "ConditionalCheckFailedException"
        and "SET holder" in str(c.params.get("UpdateExpression", ""))
    )
    assert refused or len(holds) > 1, "no execution ever found the lease taken"
    return len(holds), refused, len(changes)


def check_written_once(world: World, since: int) -> int:
    """No RouteAlreadyExists; a (table, destination) created again only after its deletion."""
    live: set[tuple[str, str]] = set()
    created = 0
    for call in world.pipeline_calls(since):
        if call.service != "ec2" or call.action not in ("CreateRoute", "DeleteRoute"):
            continue
        assert call.error_code != "RouteAlreadyExists", call.params
        key = (call.params["RouteTableId"], call.params["DestinationCidrBlock"])
        if call.action == "CreateRoute" and call.ok:
            assert key not in live, f"{key} written twice"
            live.add(key)
            created += 1
        elif call.action == "DeleteRoute" and call.ok:
            live.discard(key)
    return created


def check_no_trigger_lost(world: World, triggers_before: int) -> int:
    triggers = [i for i in world.invocations if i.function == "TriggerFunction"][triggers_before:]
    assert triggers and all(t.ok for t in triggers)
    assert all(i.ok for d in world.deliveries for i in d.invocations)
    lease = world.store.lease(world.ids.vpc_id("big"))
    assert lease is not None
    assert lease["holder"] is None and lease["triggers"] == lease["seen"], lease
    plans = [i for i in world.invocations if i.function == "PlanFunction" and i.ok]
    assert max(p.start for p in plans) > max(t.start for t in triggers)
    return len(triggers)


def burst(world: World, run: Callable[[], None], label: str) -> None:
    since = world.last_seq()
    triggers_before = sum(1 for i in world.invocations if i.function == "TriggerFunction")
    executions_before = {e.arn for e in world.pipeline.executions()}
    run()
    world.settle(timeout=120)
    assert world.pending_changes() == {}, "not in the desired state"
    executions = world.executions(executions_before)
    # A pass can lose a race with the person's next call (a subnet deleted, or still on the main
    # table, between the pass's observation and its CreateRoute; AWS refuses the route): that
    # execution fails after its rollback, and the trigger of that very call gets one more pass.
    failed = [e for e in executions if e.status != "SUCCEEDED"]
    for execution in failed:
        assert execution.status == "FAILED" and execution.rolled_back, execution
        routes, associations = world.store.owned_by(world.ids.vpc_id("big"), execution.name)
        assert (routes, associations) == ([], []), execution
    holds, refused, changes = check_one_actor(world, since)
    created = check_written_once(world, since)
    triggers = check_no_trigger_lost(world, triggers_before)
    handed = sum(e.handed_over for e in executions)
    TALLY.concurrency.append(
        f"{label}: {triggers} trigger invocations, {len(executions)} executions "
        f"({handed} handed their trigger over to the lease holder, {len(failed)} failed after "
        f"rollback on a race with the person's next call), {holds} lease hold(s) in "
        f"sequence, {refused} claims refused while the lease was held, {changes} mutating "
        f"EC2 calls each inside its holder's lease, "
        f"{created} routes created once each; desired state reached, no trigger lost"
    )


def test_bursts_of_events_for_one_vpc(make_world: Callable[..., World]) -> None:
    world = make_world(SCENARIO, name="concurrency")

    def all_at_once() -> None:
        events = []
        for step in range(SUBNETS):
            events += [e for e in world.calls(step) if e["detail"]["eventName"] == "CreateSubnet"]
        assert len(events) == SUBNETS
        world.deliver(events)  # every event at once, each in its own thread

    def interleaved() -> None:
        for step in range(SUBNETS, SUBNETS + 2 * CHURN):
            world.deliver(world.calls(step))  # no wait: the next call races the executions

    burst(world, all_at_once, f"{SUBNETS} CreateSubnet events for one VPC at once")
    routes = len(world.snapshot().owned)
    assert routes == len(RACKS) * (SUBNETS - SUBNETS // len(RACKS))
    burst(world, interleaved, f"{CHURN} deletions interleaved with {CHURN} creations")
