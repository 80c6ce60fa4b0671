"""Several accounts through the whole pipeline (issue 15): a network account owns two racks and
shares them (RAM) with workload accounts; each account runs its own stack, as a StackSet deploys
it. The world is built with boto3 as each account's person would build it (the Outposts seeded
in the network account and shared through the sandbox's control API, AWS having no API to create
an Outpost), and every assertion reads AWS state back through boto3 or the sandbox's call log.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from outpost_mesh.observe import observe_vpc
from outpost_mesh.verify import reachability
from outpost_mesh_sandbox.aws.control import ApiCall, SeededOutpost
from outpost_mesh_sandbox.aws.identities import SANDBOX_ACCOUNT, access_key
from outpost_mesh_sandbox.aws.server import Sandbox
from outpost_mesh_sandbox.stack.pipeline import PipelineOptions, SandboxPipeline, find_root
from outpost_mesh_sandbox.stack.template import load_template

NETWORK = SANDBOX_ACCOUNT
WORKLOAD = "210000000001"
WORKLOAD_2 = "210000000002"
HUB = "990000000001"
HUB_REGION = "eu-west-1"
MUTATING = ("Create", "Delete", "Replace", "Associate", "Disassociate", "Modify")


@dataclass
class Vpc:
    account: str
    vpc_id: str
    subnets: dict[str, str] = field(default_factory=dict)  # subnet id -> CIDR
    tables: list[str] = field(default_factory=list)

    @property
    def ids(self) -> set[str]:
        return {self.vpc_id, *self.subnets, *self.tables}


def person(sb: Sandbox, account: str, service: str = "ec2", **kwargs: Any) -> Any:
    return sb.client(service, caller=access_key("scenario", account), **kwargs)


def racks(sb: Sandbox, *consumers: str) -> list[SeededOutpost]:
    """rack-a and rack-b in the network account, each shared with ``consumers``."""
    seeded = [sb.control.seed_outpost(name) for name in ("rack-a", "rack-b")]
    for rack in seeded:
        for consumer in consumers:
            sb.control.share_outpost(rack.name, NETWORK, consumer)
    return seeded


def build_vpc(
    sb: Sandbox, account: str, octet: int, outposts: list[SeededOutpost], conflict: bool = False
) -> Vpc:
    """A VPC with one subnet and route table per rack; ``conflict``: the first table already
    sends the second subnet's CIDR to a network interface (a conflict, hence a finding)."""
    ec2 = person(sb, account)
    vpc = Vpc(account, ec2.create_vpc(CidrBlock=f"10.{octet}.0.0/16")["Vpc"]["VpcId"])
    for index, rack in enumerate(outposts, start=1):
        cidr = f"10.{octet}.{index}.0/24"
        subnet = ec2.create_subnet(
            VpcId=vpc.vpc_id,
            CidrBlock=cidr,
            OutpostArn=rack.outpost_arn,
            AvailabilityZone=rack.availability_zone,
        )["Subnet"]["SubnetId"]
        table = ec2.create_route_table(VpcId=vpc.vpc_id)["RouteTable"]["RouteTableId"]
        ec2.associate_route_table(RouteTableId=table, SubnetId=subnet)
        vpc.subnets[subnet] = cidr
        vpc.tables.append(table)
    if conflict:
        first = next(iter(vpc.subnets))
        eni = ec2.create_network_interface(SubnetId=first)["NetworkInterface"]
        ec2.create_route(
            RouteTableId=vpc.tables[0],
            DestinationCidrBlock=list(vpc.subnets.values())[1],
            NetworkInterfaceId=eni["NetworkInterfaceId"],
        )
    return vpc


@pytest.fixture
def stacks(sb: Sandbox) -> Iterator[dict[str, SandboxPipeline]]:
    """Deployed stacks by account (:func:`deploy` adds them); all closed at the end."""
    deployed: dict[str, SandboxPipeline] = {}
    yield deployed
    for pipeline in reversed(list(deployed.values())):
        pipeline.close()


def deploy(
    sb: Sandbox, stacks: dict[str, SandboxPipeline], account: str, **parameters: str
) -> SandboxPipeline:
    pipeline = SandboxPipeline(sb, PipelineOptions(parameters=parameters), account_id=account)
    stacks[account] = pipeline.deploy()
    return pipeline


def sweep(sb: Sandbox, pipeline: SandboxPipeline) -> list[ApiCall]:
    """One scheduled sweep of that stack, run to the end; the calls made meanwhile."""
    mark = len(sb.control.calls())
    pipeline.sweep()
    pipeline.wait_idle(timeout=60)
    return sb.control.calls()[mark:]


def by(calls: list[ApiCall], account: str, service: str = "ec2") -> list[ApiCall]:
    """The calls a stack's functions made (its pipeline key)."""
    key = access_key("pipeline", account)
    return [c for c in calls if c.caller == key and c.service == service]


def mutating(calls: list[ApiCall]) -> list[ApiCall]:
    return [c for c in calls if c.action.startswith(MUTATING)]


def meshed(sb: Sandbox, vpc: Vpc) -> bool:
    """Every cross-rack pair of the VPC routed over the LGWs, read in the VPC's account."""
    pairs = reachability(observe_vpc(person(sb, vpc.account), vpc.vpc_id))
    return bool(pairs) and all(p.reachable for p in pairs)


def associations(sb: Sandbox, account: str) -> list[dict[str, Any]]:
    ec2 = person(sb, account)
    found: list[dict[str, Any]] = ec2.describe_local_gateway_route_table_vpc_associations()[
        "LocalGatewayRouteTableVpcAssociations"
    ]
    return found


def names_any(call: ApiCall, ids: set[str]) -> bool:
    text = json.dumps(call.params)
    return any(resource in text for resource in ids)


def test_an_accounts_execution_acts_with_that_accounts_identity(sb: Sandbox, stacks: Any) -> None:
    outposts = racks(sb, WORKLOAD)
    app = build_vpc(sb, WORKLOAD, 7, outposts)
    deploy(sb, stacks, NETWORK)  # same function names in both accounts: the default's first
    workload = deploy(sb, stacks, WORKLOAD)
    calls = sweep(sb, workload)
    assert meshed(sb, app)
    # The execution ran in the workload's account, and every EC2 call it made was the workload's.
    assert [e.status for e in workload.executions()] == ["SUCCEEDED"]
    assert workload.state_machine_arn.split(":")[4] == WORKLOAD
    on_app = [c for c in calls if c.service == "ec2" and names_any(c, app.ids)]
    assert on_app and {c.caller for c in on_app} == {access_key("pipeline", WORKLOAD)}
    assert by(calls, NETWORK) == []  # the network's functions never ran
    assert stacks[NETWORK].executions() == []


def test_network_shares_two_racks_with_a_workload_that_spans_both(sb: Sandbox, stacks: Any) -> None:
    outposts = racks(sb, WORKLOAD)
    core = build_vpc(sb, NETWORK, 1, outposts)
    app = build_vpc(sb, WORKLOAD, 7, outposts)
    network, workload = deploy(sb, stacks, NETWORK), deploy(sb, stacks, WORKLOAD)

    network_calls = sweep(sb, network)
    workload_calls = sweep(sb, workload)
    assert meshed(sb, core) and meshed(sb, app)
    # The workload associated its own VPC with the shared tables (its OwnerId) and targets the
    # shared LGWs; the owner sees that association with its tables.
    tables = {r.local_gateway_route_table_id for r in outposts}
    mine = [a for a in associations(sb, WORKLOAD) if a["VpcId"] == app.vpc_id]
    assert {a["LocalGatewayRouteTableId"] for a in mine} == tables
    assert {a["OwnerId"] for a in mine} == {WORKLOAD}
    seen_by_owner = {a["VpcId"] for a in associations(sb, NETWORK)}
    assert seen_by_owner == {core.vpc_id, app.vpc_id}
    # The network's stack made no call on the workload's resources; the workload's none on the
    # network's; each stack's mutating calls are its own account's.
    assert not [c for c in by(network_calls + workload_calls, NETWORK) if names_any(c, app.ids)]
    assert not [c for c in by(network_calls + workload_calls, WORKLOAD) if names_any(c, core.ids)]
    assert mutating(by(network_calls, NETWORK)) and not by(network_calls, WORKLOAD)
    assert mutating(by(workload_calls, WORKLOAD)) and not by(workload_calls, NETWORK)
    # Once meshed, the network's sweep finds nothing to do (no execution, no change), nor does
    # the workload's.
    before = len(network.executions()), len(workload.executions())
    again = sweep(sb, network) + sweep(sb, workload)
    assert mutating(by(again, NETWORK) + by(again, WORKLOAD)) == []
    assert (len(network.executions()), len(workload.executions())) == before


def test_two_workloads_on_the_same_racks_are_meshed_independently(sb: Sandbox, stacks: Any) -> None:
    outposts = racks(sb, WORKLOAD, WORKLOAD_2)
    first = build_vpc(sb, WORKLOAD, 7, outposts)
    second = build_vpc(sb, WORKLOAD_2, 8, outposts)
    one, two = deploy(sb, stacks, WORKLOAD), deploy(sb, stacks, WORKLOAD_2)
    calls = sweep(sb, one) + sweep(sb, two)
    assert meshed(sb, first) and meshed(sb, second)
    # Each sees only its own association with the shared tables; the owner sees both.
    assert {a["VpcId"] for a in associations(sb, WORKLOAD)} == {first.vpc_id}
    assert {a["VpcId"] for a in associations(sb, WORKLOAD_2)} == {second.vpc_id}
    assert {a["VpcId"] for a in associations(sb, NETWORK)} == {first.vpc_id, second.vpc_id}
    # Neither touched the other's resources or associations.
    theirs = {a["LocalGatewayRouteTableVpcAssociationId"] for a in associations(sb, WORKLOAD_2)}
    assert not [c for c in by(calls, WORKLOAD) if names_any(c, second.ids | theirs)]
    mine = {a["LocalGatewayRouteTableVpcAssociationId"] for a in associations(sb, WORKLOAD)}
    assert not [c for c in by(calls, WORKLOAD_2) if names_any(c, first.ids | mine)]
    # A second sweep of each: nothing to do.
    again = sweep(sb, one) + sweep(sb, two)
    assert mutating(by(again, WORKLOAD) + by(again, WORKLOAD_2)) == []


def test_a_consumer_whose_share_is_missing_gets_a_finding_and_no_failed_call(
    sb: Sandbox, stacks: Any
) -> None:
    outposts = racks(sb, WORKLOAD)
    app = build_vpc(sb, WORKLOAD, 7, outposts)
    sb.control.share_outpost("rack-b", NETWORK, WORKLOAD, shared=False)  # RAM share removed
    # The workload no longer sees rack-b's LGW, nor its tables.
    ec2 = person(sb, WORKLOAD)
    gateways = {g["LocalGatewayId"] for g in ec2.describe_local_gateways()["LocalGateways"]}
    assert gateways == {outposts[0].local_gateway_id}
    workload = deploy(sb, stacks, WORKLOAD)
    calls = sweep(sb, workload)
    made = by(calls, WORKLOAD)
    assert made and [c for c in made if not c.ok] == []
    assert not [c for c in made if outposts[1].local_gateway_id in json.dumps(c.params)]
    findings = workload_findings(sb, workload, app.vpc_id)
    assert [f["kind"] for f in findings] == ["no-routing-domain"]
    assert outposts[1].outpost_arn in findings[0]["subject"] + findings[0]["message"]
    assert "shared" in findings[0]["message"]
    assert not meshed(sb, app)


def workload_findings(sb: Sandbox, pipeline: SandboxPipeline, vpc_id: str) -> list[dict[str, Any]]:
    from outpost_mesh.ledger import LedgerStore

    store = LedgerStore(sb.client("dynamodb", caller=pipeline.runner_key), pipeline.table_name)
    return [f.to_dict() for f in store.open_findings(vpc_id)]


def test_an_account_the_outpost_is_not_shared_with_sees_none_of_it(sb: Sandbox) -> None:
    outposts = racks(sb)  # shared with nobody
    stranger = person(sb, WORKLOAD)
    assert stranger.describe_local_gateways()["LocalGateways"] == []
    assert stranger.describe_local_gateway_route_tables()["LocalGatewayRouteTables"] == []
    vpc = stranger.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    with pytest.raises(stranger.exceptions.ClientError) as refused:
        stranger.create_subnet(
            VpcId=vpc,
            CidrBlock="10.9.1.0/24",
            OutpostArn=outposts[0].outpost_arn,
            AvailabilityZone=outposts[0].availability_zone,
        )
    assert refused.value.response["Error"]["Code"] == "InvalidParameterValue"
    with pytest.raises(stranger.exceptions.ClientError) as refused:
        stranger.create_local_gateway_route_table_vpc_association(
            LocalGatewayRouteTableId=outposts[0].local_gateway_route_table_id, VpcId=vpc
        )
    assert refused.value.response["Error"]["Code"] == "InvalidLocalGatewayRouteTableID.NotFound"
    # The consumer, once shared with, sees them with the owner's OwnerId.
    sb.control.share_outpost("rack-a", NETWORK, WORKLOAD)
    tables = stranger.describe_local_gateway_route_tables()["LocalGatewayRouteTables"]
    assert [(t["LocalGatewayRouteTableId"], t["OwnerId"]) for t in tables] == [
        (outposts[0].local_gateway_route_table_id, NETWORK)
    ]


def hub_bus(sb: Sandbox) -> tuple[str, Any, str]:
    """hub.yaml's bus and rule in the hub account, delivering to a queue: (bus ARN, sqs, url)."""
    pattern = load_template(find_root() / "hub.yaml").doc["Resources"]["FleetEventsRule"][
        "Properties"
    ]["EventPattern"]
    events = person(sb, HUB, "events", region_name=HUB_REGION)
    sqs = person(sb, HUB, "sqs", region_name=HUB_REGION)
    bus_arn = events.create_event_bus(Name="outpost-mesh-hub-fleet")["EventBusArn"]
    url = sqs.create_queue(QueueName="fleet-events")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    events.put_rule(
        Name="fleet", EventBusName="outpost-mesh-hub-fleet", EventPattern=json.dumps(pattern)
    )
    events.put_targets(
        Rule="fleet", EventBusName="outpost-mesh-hub-fleet", Targets=[{"Id": "q", "Arn": arn}]
    )
    return bus_arn, sqs, url


def test_the_hub_sees_both_accounts_outcomes(sb: Sandbox, stacks: Any) -> None:
    bus_arn, sqs, url = hub_bus(sb)
    assert bus_arn.split(":")[4] == HUB
    outposts = racks(sb, WORKLOAD)
    core = build_vpc(sb, NETWORK, 1, outposts, conflict=True)
    app = build_vpc(sb, WORKLOAD, 7, outposts, conflict=True)
    for account in (NETWORK, WORKLOAD):
        sweep(sb, deploy(sb, stacks, account, HubEventBusArn=bus_arn))
    received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    events = [json.loads(m["Body"]) for m in received]
    by_account = {(e["account"], e["detail-type"]): e["detail"]["vpc_id"] for e in events}
    assert by_account == {  # each account's finding, and its execution's outcome
        (NETWORK, "outpost-mesh Finding"): core.vpc_id,
        (NETWORK, "outpost-mesh Execution Outcome"): core.vpc_id,
        (WORKLOAD, "outpost-mesh Finding"): app.vpc_id,
        (WORKLOAD, "outpost-mesh Execution Outcome"): app.vpc_id,
    }
    outcomes = [e["detail"] for e in events if e["detail-type"].endswith("Outcome")]
    assert all(o["outcome"] == "SUCCEEDED" and o["changes"] for o in outcomes)


def test_iam_admits_an_association_arn_in_either_account() -> None:
    """A consumer's association with a shared table may carry its own account id or the table
    owner's (AWS does not say; docs/aws-facts.md, "Accounts and sharing"): every statement on
    association ARNs names any account, and still only those the stack tagged."""
    text = (find_root() / "template.yaml").read_text(encoding="utf-8")
    named = [
        line for line in text.splitlines() if "local-gateway-route-table-vpc-association/" in line
    ]
    assert len(named) == 4
    for line in named:
        assert ":${AWS::Region}:*:local-gateway-route-table-vpc-association/*" in line, line
