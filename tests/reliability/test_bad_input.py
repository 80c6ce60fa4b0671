"""Bad input: hypothesis corpora for the trigger and every task handler (issue 5, item 3).

Each entry point gets at least 1,000 malformed or odd inputs (missing fields, wrong types, huge
strings, unknown ids and a few known ones, wrong source, errorCode present, non-Outpost subnets,
both CloudTrail shapes, the XML-to-JSON quirks), invoked in-process through the Lambda seam (the
handler module, its Powertools decorators, a fake context, the function's own environment) on a
converged sandbox account: the blog after its pipeline ran. For every input:

* it is rejected with one clear, logged reason (``MalformedInputError``, the "rejected input"
  log line with the reason), refused with a typed error that names what is wrong and that no
  Retry of the workflow matches (so it cannot retry forever), or handled and changes nothing;
* the pipeline makes no mutating EC2 call (the sandbox's call log, by the pipeline's key).

A well-formed event may still ask for a reconcile (an unknown subnet makes the trigger sweep the
managed VPCs): the trigger and the sweep start a stub state machine here, which records the
request cheaply, and the last test runs the real workflow once for the VPCs asked for: it changes
nothing. Rollback inputs name unknown executions and unknown racks only (the issue's "unknown
ids"): a Rollback input forged or replayed with the name of an execution that succeeded would
undo that execution's routes, and one naming a real rack's LGW would quarantine that rack; the
Rollback task cannot tell its own execution from a stray one without states:DescribeExecution
(see docs/reliability.md, "Left").
"""

from __future__ import annotations

import copy
import dataclasses
import json
import logging
import os
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from outpost_mesh_cli.main import main
from outpost_mesh_sandbox.aws.identities import PIPELINE_ACCESS_KEY
from outpost_mesh_sandbox.aws.server import Sandbox
from outpost_mesh_sandbox.scenario import ScenarioError, load_scenario, parse_scenario
from outpost_mesh_sandbox.stack.lambda_runtime import FakeLambdaContext, Invocation
from outpost_mesh_sandbox.stack.lambda_seam import invoked_as
from outpost_mesh_sandbox.stack.pipeline import RUNNER_ACCESS_KEY

from .harness import TALLY, World, mutating
from .test_fault_matrix import CREATE, blog

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")
EXAMPLES = 1000
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
STUB_DEFINITION = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
# Errors the workflow's Retry blocks match (statemachine/reconcile.asl.json): an input that
# raised one of these could be retried; none may come out of bad input.
RETRIED = {"ThrottledError", "AwsApiError"} | {
    f"Lambda.{n}"
    for n in (
        "ServiceException",
        "AWSLambdaException",
        "SdkClientException",
        "ClientExecutionTimeoutException",
        "TooManyRequestsException",
    )
}
# Typed refusals of well-formed inputs naming things that do not exist or are not theirs.
REFUSALS = {
    "LeaseLostError",  # a task that changes a VPC, for an execution that does not hold it
    "AssociationNotFoundError",  # check_association: no such association
    "VpcNotFoundError",  # verify: no such VPC
}


# -- the converged account -------------------------------------------------------------------
@dataclass
class Known:
    vpcs: list[str]
    subnets: list[str]  # both Outpost subnets and the In-Region one
    route_tables: list[str]
    lgws: list[str]
    lgw_route_tables: list[str]
    associations: list[str]
    outposts: list[str]
    owned: list[dict[str, Any]]  # owned routes, as route changes
    tag: str = ""  # the corpus (entry point) drawing from this


@dataclass
class Corpus:
    world: World
    known: Known
    stub_arn: str
    before: Any
    counts: dict[str, Counter[str]] = field(default_factory=dict)
    requested: set[str] = field(default_factory=set)  # VPCs a reconcile was asked for

    def check(self, function: str, event: Any) -> None:
        """Invoke ``function`` with ``event``; assert the promises; count the outcome."""
        world = self.world
        mark = world.last_seq()
        logs = world.logs.position()
        done = self.invoke(function, event)
        calls = [c for c in world.api_calls(since=mark) if c.caller == PIPELINE_ACCESS_KEY]
        changed = mutating(calls)
        counts = self.counts.setdefault(function, Counter())
        counts["examples"] += 1
        counts["mutating"] += len(changed)
        assert not changed, (function, event, [(c.action, c.params) for c in changed])
        if done.ok:
            counts[self._outcome(function, done.payload)] += 1
            return
        message = done.error_message
        assert done.error_type not in RETRIED, (function, done.error_type, message, event)
        assert "\n" not in message and len(message) <= 1000, message
        if done.error_type == "MalformedInputError":
            assert message.startswith("rejected "), message
            logged = [
                r
                for r in world.logs.records(logs)
                if r.get("message") == "rejected input" and r.get("reason")
            ]
            assert logged, f"{function}: the rejection was not logged"
            counts["rejected"] += 1
        else:
            assert done.error_type in REFUSALS, (function, done.error_type, message, event)
            counts[f"refused: {done.error_type}"] += 1

    def invoke(self, function: str, event: Any) -> Invocation:
        """The function's handler, called as Lambda calls it (the seam's binding: its module,
        environment and clients; a fake context); an exception is what Lambda reports, its
        type and ``str()``. The seam's own invoke also formats the stack trace of every error,
        which would be a third of each rejected example's time here."""
        seam = self.world.pipeline.seam
        binding = seam.by_logical_id[function]
        if binding.services is None:
            seam.invoke(function, {})  # the first call makes the function's clients
        context = FakeLambdaContext(binding.name, binding.arn, binding.memory, binding.timeout)
        try:
            with invoked_as(binding):  # the handler's module finds this binding's services
                result = binding.handler(event, context)
        except Exception as error:
            return Invocation(
                function, context.aws_request_id, None, type(error).__name__, str(error)
            )
        return Invocation(function, context.aws_request_id, result)

    def _outcome(self, function: str, payload: Any) -> str:
        assert isinstance(payload, dict), payload
        if function in ("TriggerFunction", "SweepFunction"):
            started = payload.get("started", [])
            for arn in started:
                assert arn.startswith(self.stub_arn.replace(":stateMachine:", ":execution:"))
                self.requested.add(arn.split(":")[-1].removeprefix("sweep-")[:21])
            if payload.get("failed_call"):
                return "ignored: failed call"
            return "reconcile requested" if started else "ignored"
        if function == "ClaimFunction":
            return "lease taken" if payload["claimed"] else "handed over"
        if function == "PlanFunction":
            assert payload["has_changes"] is False, payload
            return "nothing to change"
        if function == "RollbackFunction":
            assert payload["undone"] == 0, payload
            return "nothing of its own to undo"
        if function == "ReleaseFunction":
            return "released" if not payload["again"] else "kept"
        return "nothing to do"

    def finish(self, function: str) -> None:
        counts = self.counts[function]
        assert counts["examples"] >= EXAMPLES, counts
        assert counts["rejected"] > 0, counts
        TALLY.corpus[function.removesuffix("Function")] = counts
        TALLY.events_tried += counts["examples"]


@pytest.fixture(scope="module")
def corpus(sandbox: Sandbox) -> Iterator[Corpus]:
    """The blog converged through its pipeline; the trigger and sweep aimed at a stub machine."""
    with pytest.MonkeyPatch.context() as patch:
        world = World(sandbox, patch, blog(), name="bad-input")
        try:
            world.step(CREATE)
            assert world.pending_changes() == {}, (
                [(e.name, e.status, e.error) for e in world.executions()],
                [(i.function, i.error_type) for d in world.deliveries for i in d.invocations],
                world.findings(),
            )
            sfn = sandbox.client("stepfunctions", caller=RUNNER_ACCESS_KEY)
            role = sandbox.client("iam", caller=RUNNER_ACCESS_KEY).get_role(
                RoleName="outpost-mesh-sandbox-states"
            )["Role"]["Arn"]
            stub = sfn.create_state_machine(
                name="reliability-stub", definition=STUB_DEFINITION, roleArn=role
            )["stateMachineArn"]
            for function in ("TriggerFunction", "SweepFunction", "RollbackFunction"):
                world.pipeline.seam.set_environment(function, STATE_MACHINE_ARN=stub)
            # Powertools' Tracer logs every handler exception with its traceback at ERROR; the
            # handlers' own logs (the "rejected input" line) are what the corpus checks.
            patch.setattr(
                logging.getLogger("aws_lambda_powertools.tracing.tracer"), "disabled", True
            )
            ids = world.ids
            vpc = ids.vpc_id("app")
            ledger = world.store.load(vpc)
            known = Known(
                vpcs=[vpc],
                subnets=sorted(ids.subnets.values()),
                route_tables=sorted(ids.route_tables.values()),
                lgws=sorted(o.local_gateway_id for o in ids.outposts.values()),
                lgw_route_tables=sorted(
                    o.local_gateway_route_table_id for o in ids.outposts.values()
                ),
                associations=sorted(world.associations()),
                outposts=sorted(o.outpost_arn for o in ids.outposts.values()),
                owned=[
                    {
                        "route_table_id": r.route_table_id,
                        "destination": r.destination,
                        "local_gateway_id": r.local_gateway_id,
                        "destination_subnet_id": r.destination_subnet_id,
                        "source_subnet_ids": list(r.source_subnet_ids),
                    }
                    for r in ledger.routes
                ],
            )
            yield Corpus(world, known, stub, world.snapshot())
        finally:
            TALLY.calls_made += len(world.pipeline_calls(since=0))
            world.close()


# -- strategies ------------------------------------------------------------------------------
HEX17 = st.integers(0, 16**17 - 1).map(lambda n: f"{n:017x}")
HUGE = st.integers(1_000, 70_000).map(lambda n: "x" * n)
WEIRD = st.sampled_from(
    [
        "",
        " ",
        "vpc-",
        "vpc-XYZ",
        "VPC-0123456789ABCDEF0",
        "vpc-0123456789abcdef0\n",
        "subnet-0123456789abcdef0 ",
        "rtb-12",
        "lgw-rtb-",
        "../../etc/passwd",
        "'; DROP TABLE ledger; --",
        "\x00",
        "\U0001f642",
        "arn:aws:states:::",
        "null",
        "10.7.0.0/33",
        "0.0.0.0/0",
        "fe80::/64",
    ]
)
JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    WEIRD,
    HUGE,
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=4), st.integers(), max_size=2),
)


def weighted(*options: tuple[int, st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
    """One of ``options``, each chosen as often as its weight says: ``one_of`` over repeated
    branches (much cheaper to draw from than a ``flatmap``). Each copy is its own object:
    ``one_of`` drops a branch it has seen already (by identity)."""
    branches: list[st.SearchStrategy[Any]] = []
    for weight, strategy in options:
        branches += [strategy.map(_same) for _ in range(weight)]
    return st.one_of(*branches)


def _same(value: Any) -> Any:
    return value


_IDENTS: dict[tuple[str, tuple[str, ...], int], st.SearchStrategy[Any]] = {}


def ident(prefix: str, known: list[str], known_weight: int = 5) -> st.SearchStrategy[Any]:
    """An id: mostly well-formed and unknown, some malformed, a few known."""
    key = (prefix, tuple(known), known_weight)
    if key not in _IDENTS:
        unknown = HEX17.map(lambda h: f"{prefix}-{h}")  # weights in percent
        options: list[tuple[int, st.SearchStrategy[Any]]] = [(80, unknown), (15, WEIRD)]
        if known and known_weight:
            options.append((known_weight, st.sampled_from(known)))
        _IDENTS[key] = weighted(*options)
    return _IDENTS[key]


_EXECUTION_NAMES: dict[str, st.SearchStrategy[str]] = {}


def execution_name(known: Known) -> st.SearchStrategy[str]:
    """Execution names of this corpus only (``known.tag``): a claim's corpus takes leases under
    its names, and another corpus drawing the same names would be that lease's holder."""
    if known.tag not in _EXECUTION_NAMES:
        _EXECUTION_NAMES[known.tag] = weighted(
            (9, st.uuids().map(lambda u: f"vpc-0123456789abcdef0-{known.tag}-{u}"[:80])),
            (1, st.text(min_size=1, max_size=80)),
        )
    return _EXECUTION_NAMES[known.tag]


def execution_arn(name: str) -> str:
    return f"arn:aws:states:us-east-1:123456789012:execution:outpost-mesh-reconcile:{name}"


def _paths(value: Any, prefix: tuple[Any, ...] = (), depth: int = 0) -> list[tuple[Any, ...]]:
    found: list[tuple[Any, ...]] = []
    if depth > 5:
        return found
    if isinstance(value, dict):
        for key, inner in value.items():
            found.append((*prefix, key))
            found += _paths(inner, (*prefix, key), depth + 1)
    elif isinstance(value, list):
        for index, inner in enumerate(value[:5]):
            found.append((*prefix, index))
            found += _paths(inner, (*prefix, index), depth + 1)
    return found


def _other_type(value: Any) -> Any:
    if isinstance(value, str):
        return [value]
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list):
        return {"items": value}
    if isinstance(value, dict):
        return [value]
    return 0


@st.composite
def corrupted(
    draw: st.DrawFn, base: st.SearchStrategy[Any], keep: int = 2, required: tuple[str, ...] = ()
) -> Any:
    """``base`` as is (odd but well-formed; ``keep`` times in 10), or broken: not an object at
    all, or 1-3 of its fields (at any depth) dropped, given junk, made huge, given another type,
    or padded with extra keys. With ``required`` (top-level fields its model needs), three
    broken inputs in four lose or overflow one of them too: a well-formed input of those entry
    points costs 10-40 ms of AWS calls, a rejected one under 2 ms."""
    event = copy.deepcopy(draw(base))
    # Hypothesis leans to the simplest choice (0): let that be a broken input.
    mode = draw(st.integers(0, 9))
    if mode >= 10 - keep:
        return event
    if mode == 9 - keep:
        return draw(st.one_of(JUNK, st.lists(st.just(event), max_size=2)))
    present = [k for k in required if isinstance(event, dict) and k in event]
    if present and draw(st.integers(0, 3)) > 0:
        key = draw(st.sampled_from(present))
        if draw(st.booleans()):
            del event[key]
        else:
            event[key] = draw(HUGE)
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(event)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = event
        for key in path[:-1]:
            parent = parent[key]
        key = path[-1]
        op = draw(OPERATIONS)
        if op == "drop":
            del parent[key]
        elif op == "junk":
            parent[key] = draw(JUNK)
        elif op == "huge":
            parent[key] = draw(HUGE)
        elif op == "type":
            parent[key] = _other_type(parent[key])
        elif isinstance(parent, dict):
            parent[draw(st.text(min_size=1, max_size=12))] = draw(JUNK)
    return event


OPERATIONS = weighted(
    (3, st.just("drop")),
    (6, st.just("junk")),
    (3, st.just("huge")),
    (6, st.just("type")),
    (1, st.just("extra")),
)


# -- CloudTrail events for the trigger -------------------------------------------------------
WATCHED = (
    "CreateSubnet",
    "DeleteSubnet",
    "AssociateRouteTable",
    "ReplaceRouteTableAssociation",
    "DisassociateRouteTable",
)


EVENT_NAME = weighted(
    (6, st.sampled_from(WATCHED)),
    (1, st.sampled_from(["CreateRoute", "RunInstances", "DeleteVpc", "createsubnet", "Create "])),
)
EVENT_SOURCE = weighted((9, st.just("ec2.amazonaws.com")), (1, st.just("s3.amazonaws.com")))
DETAIL_TYPE = weighted(
    (9, st.just("AWS API Call via CloudTrail")),
    (1, st.just("EC2 Instance State-change Notification")),
)
SOURCE = weighted((9, st.just("aws.ec2")), (1, st.just("aws.s3")))


def _quirk(draw: st.DrawFn, item: dict[str, Any]) -> Any:
    """XML-to-JSON: a one-item list as the object, a set as {items: [...]} or {item: {...}}."""
    return draw(
        st.sampled_from(
            [item, [item], {"items": [item]}, {"item": item}, {"items": [{**item, "tag": 1}]}]
        )
    )


@st.composite
def cloudtrail_event(draw: st.DrawFn, known: Known) -> dict[str, Any]:
    name = draw(EVENT_NAME)
    wrapped = draw(st.booleans())
    vpc = draw(ident("vpc", known.vpcs, 3))
    subnet = draw(ident("subnet", known.subnets, 3))
    table = draw(ident("rtb", known.route_tables, 3))
    association = draw(ident("rtbassoc", []))
    outpost = draw(st.sampled_from([*known.outposts, None, "arn:aws:outposts:::outpost/op-1"]))
    if name == "CreateSubnet":
        params = {"vpcId": vpc, "cidrBlock": "10.7.99.0/24", "availabilityZone": "us-east-1a"}
        if outpost:
            params["outpostArn"] = outpost
        subnet_out = {"subnetId": subnet, "vpcId": vpc, "state": "available"}
        if outpost:
            subnet_out["outpostArn"] = outpost
        response: dict[str, Any] = {"requestId": "r-1", "subnet": subnet_out}
    elif name == "DeleteSubnet":
        params, response = {"subnetId": subnet}, {"requestId": "r-1", "_return": True}
    elif name == "AssociateRouteTable":
        params = {"routeTableId": table, "subnetId": subnet}
        response = {"requestId": "r-1", "associationId": association}
    elif name == "ReplaceRouteTableAssociation":
        params = {"associationId": association, "routeTableId": table}
        response = {"requestId": "r-1", "newAssociationId": association}
    elif name == "DisassociateRouteTable":
        params, response = {"associationId": association}, {"requestId": "r-1", "_return": True}
    else:
        params = {"routeTableId": table, "vpcId": vpc}
        response = {"requestId": "r-1", "_return": True}
    if wrapped:  # the newer shape: {Wrapper: {PascalCase}}, {<Action>Response: {camelCase}}
        pascal = {
            k[:1].upper() + k[1:]: _quirk(draw, v) if k == "subnet" else v
            for k, v in params.items()
        }
        wrapper = draw(st.sampled_from([f"{name}Request", "DelTGwVpcAttachReq", "Req"]))
        params = {wrapper: pascal}
        response = {
            f"{name}Response": {"xmlns": "http://ec2.amazonaws.com/doc/2016-11-15/", **response}
        }
    detail: dict[str, Any] = {
        "eventVersion": "1.09",
        "eventSource": draw(EVENT_SOURCE),
        "eventName": name,
        "awsRegion": "us-east-1",
        "eventType": "AwsApiCall",
        "requestParameters": params,
        "responseElements": response,
    }
    if draw(st.integers(0, 9)) == 0:  # a failed call: the rules drop it, the trigger must too
        detail["errorCode"] = draw(
            st.sampled_from(["InvalidParameterValue", "UnauthorizedOperation", ""])
        )
        detail["responseElements"] = None
    return {
        "version": "0",
        "id": str(draw(st.uuids())),
        "detail-type": draw(DETAIL_TYPE),
        "source": draw(SOURCE),
        "account": "123456789012",
        "time": "2024-05-01T10:00:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": detail,
    }


# -- task inputs (what the state machine would send, and worse) -------------------------------
CIDR = weighted((7, st.integers(0, 255).map(lambda n: f"10.7.{n}.0/24")), (3, WEIRD))


@st.composite
def association_item(draw: st.DrawFn, known: Known, vpc: Any) -> dict[str, Any]:
    return {
        "local_gateway_route_table_id": draw(ident("lgw-rtb", known.lgw_route_tables, 10)),
        "vpc_id": vpc,
        "outpost_arn": draw(st.sampled_from([*known.outposts, "", "arn:aws:outposts:x"])),
        "local_gateway_id": draw(ident("lgw", known.lgws, 10)),
        "association_id": draw(
            weighted((1, st.just("")), (1, ident("lgw-vpc-assoc", known.associations, 30)))
        ),
        "reason": draw(st.text(max_size=40)),
    }


@st.composite
def route_item(draw: st.DrawFn, known: Known, table: Any) -> dict[str, Any]:
    if known.owned and draw(st.integers(0, 4)) == 0:  # a live, owned route of the mesh
        return dict(draw(st.sampled_from(known.owned)))
    return {
        "route_table_id": table,
        "destination": draw(CIDR),
        "local_gateway_id": draw(ident("lgw", known.lgws, 20)),
        "destination_subnet_id": draw(ident("subnet", known.subnets, 10)),
        "source_subnet_ids": draw(st.lists(ident("subnet", known.subnets, 10), max_size=2)),
        "reason": draw(st.text(max_size=40)),
    }


@st.composite
def claim_input(draw: st.DrawFn, known: Known) -> dict[str, Any]:
    name = draw(execution_name(known))
    return {
        "vpc_id": draw(ident("vpc", known.vpcs, 5)),
        "trigger": str(draw(st.uuids())),
        "execution_arn": draw(
            weighted((6, st.just(execution_arn(name))), (1, st.text(max_size=60)))
        ),
        "execution_name": name,
    }


@st.composite
def vpc_task(draw: st.DrawFn, known: Known) -> dict[str, Any]:
    """plan and verify: a VPC (the known one rarely: a full observation costs ~80 ms)."""
    return {
        "vpc_id": draw(ident("vpc", known.vpcs, 2)),
        "execution_name": draw(execution_name(known)),
    }


@st.composite
def associations_input(draw: st.DrawFn, known: Known) -> dict[str, Any]:
    """associate and disassociate: a VPC and some of its LGW route table associations."""
    vpc = draw(ident("vpc", known.vpcs, 30))
    return {
        "vpc_id": vpc,
        "execution_name": draw(execution_name(known)),
        "associations": draw(st.lists(association_item(known, vpc), max_size=2)),
    }


@st.composite
def check_input(draw: st.DrawFn, known: Known) -> dict[str, Any]:
    return {
        "vpc_id": draw(ident("vpc", known.vpcs, 30)),
        "execution_name": draw(execution_name(known)),
        "association_ids": draw(
            st.lists(ident("lgw-vpc-assoc", known.associations, 30), max_size=3)
        ),
        "checks": draw(st.integers(-3, 100)),
        "max_checks": draw(st.integers(-3, 100)),
    }


@st.composite
def apply_input(draw: st.DrawFn, known: Known) -> dict[str, Any]:
    table = draw(ident("rtb", known.route_tables, 30))
    return {
        "batch": {
            "vpc_id": draw(ident("vpc", known.vpcs, 30)),
            "route_table_id": table,
            "creates": draw(st.lists(route_item(known, table), max_size=2)),
            "deletes": draw(st.lists(route_item(known, table), max_size=2)),
        },
        "execution_name": draw(execution_name(known)),
    }


@st.composite
def release_input(draw: st.DrawFn, known: Known) -> dict[str, Any]:
    return {
        "vpc_id": draw(ident("vpc", known.vpcs, 20)),
        "holder": execution_arn(draw(execution_name(known))),
        "seen": draw(st.integers(-2, 50)),
        "started": draw(
            st.sampled_from(
                ["2024-05-01T10:00:00Z", "2024-05-01T10:00:00.123+00:00", "yesterday", None]
            )
        ),
    }


@st.composite
def rollback_input(draw: st.DrawFn, known: Known) -> dict[str, Any]:
    name = draw(execution_name(known))
    lgw = draw(ident("lgw", [], 0))  # unknown racks only: see the module's docstring
    error_type = draw(
        st.sampled_from(
            [
                "RackNotUpdatedError",
                "RouteQuotaExceededError",
                "AccessDeniedError",
                "States.ALL",
                "RuntimeError",
                "",
            ]
        )
    )
    cause = json.dumps({"errorMessage": f"it failed [subject={lgw}]", "errorType": error_type})
    return {
        "vpc_id": draw(ident("vpc", known.vpcs, 10)),
        "execution_name": name,
        "execution_arn": execution_arn(name),
        "lease": draw(
            st.sampled_from([None, {"claimed": True, "holder": execution_arn(name), "seen": 1}, {}])
        ),
        "error": draw(
            st.sampled_from(
                [
                    {"Error": error_type, "Cause": cause},
                    {"Error": error_type, "Cause": "not json"},
                    None,
                    {},
                ]
            )
        ),
    }


@st.composite
def scheduled_event(draw: st.DrawFn, known: Known) -> dict[str, Any]:
    event: dict[str, Any] = {
        "id": draw(st.sampled_from(["manual", "d4f1c0de-0000-4e8a-9c61-2d0f4b8e7a15"])),
        "detail-type": "Scheduled Event",
        "source": draw(st.sampled_from(["aws.events", "aws.ec2", "custom"])),
    }
    if draw(st.booleans()):  # the rest of EventBridge's envelope, which the sweep ignores
        event |= {
            "version": "0",
            "account": "123456789012",
            "time": "2024-05-01T10:00:00Z",
            "region": "us-east-1",
            "resources": [],
            "detail": {},
        }
    return event


def sweep_input(known: Known) -> st.SearchStrategy[Any]:
    """Mostly broken: every field of a scheduled event has a default (``{}`` is a manual sweep),
    so ``corrupted``'s drops would leave it valid, and a valid one sweeps every VPC (~40 ms)."""

    @st.composite
    def broken(draw: st.DrawFn) -> dict[str, Any]:
        event = draw(scheduled_event(known))
        key = draw(st.sampled_from(["id", "source", "detail-type"]))
        event[key] = draw(
            st.one_of(
                st.none(),
                st.integers(),
                st.booleans(),
                st.lists(st.integers(), max_size=2),
                st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
                HUGE,
            )
        )
        return event

    return weighted(
        (90, broken()),
        (5, corrupted(scheduled_event(known), 0)),
        (4, scheduled_event(known)),
        (1, st.just({})),
    )


# Top-level fields the models of the costlier entry points cannot do without.
REQUIRED = {
    "TriggerFunction": ("id", "source", "detail-type", "detail"),
    "ClaimFunction": ("vpc_id", "execution_arn", "execution_name"),
    "ReleaseFunction": ("vpc_id", "holder", "seen"),
    "RollbackFunction": ("vpc_id", "execution_name", "execution_arn"),
}

ENTRY_POINTS: dict[str, Callable[[Known], st.SearchStrategy[Any]]] = {
    "TriggerFunction": cloudtrail_event,
    "ClaimFunction": claim_input,
    "PlanFunction": vpc_task,
    "AssociateFunction": associations_input,
    "CheckAssociationFunction": check_input,
    "ApplyRoutesFunction": apply_input,
    "DisassociateFunction": associations_input,
    "VerifyFunction": vpc_task,
    "ReleaseFunction": release_input,
    "RollbackFunction": rollback_input,
    "SweepFunction": sweep_input,
}


@pytest.mark.parametrize("function", list(ENTRY_POINTS))
def test_a_thousand_bad_inputs_change_nothing(corpus: Corpus, function: str) -> None:
    known = dataclasses.replace(corpus.known, tag=function.removesuffix("Function").lower())
    base = ENTRY_POINTS[function](known)
    # Well-formed inputs of these cost 10-40 ms each (a sweep, a rollback's reports, a lease
    # write): one in ten of them, not two.
    cheap = ("PlanFunction", "VerifyFunction", "CheckAssociationFunction")
    keep = 2 if function in cheap else 1
    required = REQUIRED.get(function, ())
    strategy = base if function == "SweepFunction" else corrupted(base, keep, required)

    @SETTINGS
    @given(event=strategy)
    def one(event: Any) -> None:
        corpus.check(function, event)

    one()
    corpus.finish(function)


def test_the_converged_account_is_as_it_was_and_a_real_reconcile_changes_nothing(
    corpus: Corpus,
) -> None:
    """After every corpus: the mesh is intact, and the reconcile the odd-but-well-formed events
    asked for (recorded by the stub) changes nothing when the real workflow runs it."""
    world = corpus.world
    after = world.snapshot()
    assert after.routes == corpus.before.routes
    assert after.owned == corpus.before.owned
    assert after.owned_associations == corpus.before.owned_associations
    assert world.pending_changes() == {}
    vpc = world.ids.vpc_id("app")
    assert corpus.requested <= {vpc[:21]} or not corpus.requested, corpus.requested
    mark = world.last_seq()
    known = {e.arn for e in world.pipeline.executions()}
    world.pipeline.sfn.start_execution(
        stateMachineArn=world.pipeline.state_machine_arn,
        name="reliability-after-the-corpus",
        input=json.dumps({"vpc_id": vpc, "trigger": "after-the-corpus"}),
    )
    world.settle()
    [execution] = world.executions(known)
    assert execution.status == "SUCCEEDED" and not execution.handed_over, execution
    assert not mutating(world.pipeline_calls(since=mark))


# -- malformed scenario files and CLI arguments -------------------------------------------------
SCENARIO_DOC = yaml.safe_load(blog())


@SETTINGS
@given(doc=corrupted(st.just(SCENARIO_DOC), 1))
def test_malformed_scenario_documents_get_one_line_errors(doc: Any) -> None:
    """A broken scenario is a ScenarioError naming file, path and problem on one line."""
    try:
        parse_scenario(doc, "bad.yaml", "bad")
    except ScenarioError as error:
        text = str(error)
        assert text.startswith("bad.yaml: ") and "\n" not in text, text
    TALLY.events_tried += 1


@settings(max_examples=300, deadline=None, database=None, derandomize=True)
@given(
    cut=st.integers(0, len(blog())),
    junk=st.sampled_from(["", ":", "- ", "{", "[", "\t", "\x00", "! ", "&a", "*a", "? ", "\n  "]),
)
def test_malformed_scenario_text_gets_one_line_errors(
    tmp_path_factory: pytest.TempPathFactory, cut: int, junk: str
) -> None:
    """The blog's YAML with junk spliced in: loads, or is one ScenarioError line."""
    text = blog()
    path = tmp_path_factory.mktemp("scenario", numbered=True) / "bad.yaml"
    path.write_text(text[:cut] + junk + text[cut:], encoding="utf-8")
    try:
        load_scenario(path)
    except ScenarioError as error:
        assert "\n" not in str(error) and str(error).startswith(str(path)), str(error)
    TALLY.events_tried += 1


CLI_MISTAKES = {
    "no command": [],
    "no vpc": ["plan"],
    "vpc without value": ["plan", "--vpc"],
    "unknown output": ["plan", "--vpc", "vpc-0123456789abcdef0", "--output", "xml"],
    "unknown command": ["frob"],
    "force with a value": ["apply", "--vpc", "vpc-0123456789abcdef0", "--force=yes"],
    "sandbox without action": ["sandbox"],
    "port not a number": ["sandbox", "up", "--port", "abc"],
    "release without outpost": ["release"],
    "demo without scenario": ["demo"],
    "demo scenario missing": ["demo", "--scenario", "/nonexistent/scenario.yaml"],
    "demo scenario a directory": ["demo", "--scenario", "/"],
    "endpoint not a URL": ["plan", "--vpc", "vpc-0123456789abcdef0", "--endpoint-url", "notaurl"],
    "endpoint bad IPv6": [
        "plan",
        "--vpc",
        "vpc-0123456789abcdef0",
        "--endpoint-url",
        "http://[::1",
    ],
    "endpoint bad port": [
        "plan",
        "--vpc",
        "vpc-0123456789abcdef0",
        "--endpoint-url",
        "http://127.0.0.1:99999",
    ],
    "endpoint unreachable": [
        "verify",
        "--vpc",
        "vpc-0123456789abcdef0",
        "--endpoint-url",
        "http://127.0.0.1:1",
    ],
    "unknown profile": ["plan", "--vpc", "vpc-0123456789abcdef0", "--profile", "no-such-profile"],
}


@pytest.mark.parametrize("argv", CLI_MISTAKES.values(), ids=CLI_MISTAKES.keys())
def test_cli_mistakes_are_one_line_and_exit_2(
    argv: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for key in [k for k in os.environ if k.startswith("AWS_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("HOME", "/nonexistent")
    try:
        code = main(argv)
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    out, err = capsys.readouterr()
    assert (code, out) == (2, ""), (code, out, err)
    assert err.count("\n") == 1 and "error: " in err and "Traceback" not in err, err
