"""The format's second round through the whole pipeline: small scenarios written here, run by the
demo runner on the sandbox (the stack of template.yaml, the real handlers and state machine), and
their reports (AWS state read back) asserted. The shipped scenarios of this round
(routing-domains, ambiguous-domains, opt-out-tags, quarantine-expiry) are asserted in
test_scenarios.py, where each shipped scenario runs once per session."""

from __future__ import annotations

from typing import Any

import yaml

from outpost_mesh_sandbox.aws.server import Sandbox
from outpost_mesh_sandbox.demo import DemoRun, run_demo
from outpost_mesh_sandbox.scenario import parse_scenario

#: Two racks with one Outpost subnet each, a route table of its own; ``{extra}`` adds keys.
TWO_RACKS = """
vpcs: [{name: app, cidr: 10.80.0.0/16}]
outposts: [{name: rack-a}, {name: rack-b}]
route_tables: [{name: rt-a, vpc: app}, {name: rt-b, vpc: app}]
subnets:
  - {name: subnet-a, vpc: app, cidr: 10.80.1.0/24, outpost: rack-a, route_table: rt-a}
  - {name: subnet-b, vpc: app, cidr: 10.80.2.0/24, outpost: rack-b, route_table: rt-b}
"""


def run(sb: Sandbox, text: str, name: str = "case") -> DemoRun:
    return run_demo(parse_scenario(yaml.safe_load(text), name, name), sandbox=sb)


def routes(report: dict[str, Any], table: str) -> dict[str, str]:
    return {r["destination"]: r["target"] for r in report["route_tables"][table]}


def reachable(report: dict[str, Any]) -> dict[tuple[str, str], bool]:
    return {(p["from"], p["to"]): p["reachable"] for p in report["reachability"]}


def domains(report: dict[str, Any]) -> dict[tuple[str, str], str]:
    """(vpc, outpost) -> the LGW route table it is associated with."""
    return {(a["vpc"], a["outpost"]): a["lgw_route_table"] for a in report["associations"]}


def kinds(report: dict[str, Any]) -> set[tuple[str, str]]:
    return {(f["kind"], f["subject"]) for f in report["findings"]}


def test_a_vpc_already_in_the_coip_domain_stays_out_and_gets_no_second_domain(
    sb: Sandbox,
) -> None:
    report = run(
        sb,
        """
vpcs: [{name: app, cidr: 10.80.0.0/16}]
outposts:
  - name: rack-a
    generation: 2
    lgw_route_tables: [{name: coip-dmz, mode: coip}, {name: dvr-prod}]
  - name: rack-b
  - name: rack-c
lgw_associations: [{vpc: app, lgw_route_table: coip-dmz}]
route_tables: [{name: rt-a, vpc: app}, {name: rt-b, vpc: app}, {name: rt-c, vpc: app}]
subnets:
  - {name: subnet-a, vpc: app, cidr: 10.80.1.0/24, outpost: rack-a, route_table: rt-a}
  - {name: subnet-b, vpc: app, cidr: 10.80.2.0/24, outpost: rack-b, route_table: rt-b}
  - {name: subnet-c, vpc: app, cidr: 10.80.3.0/24, outpost: rack-c, route_table: rt-c}
steps: [{sweep: {}}]
""",
    ).report
    assert ("coip-mode", "rack-a") in kinds(report)
    assert domains(report) == {
        ("app", "rack-a"): "coip-dmz",  # the person's, left as it is
        ("app", "rack-b"): "rack-b",
        ("app", "rack-c"): "rack-c",
    }
    assert routes(report, "rt-a") == {}
    assert "10.80.1.0/24" not in routes(report, "rt-b")
    pairs = reachable(report)
    assert pairs[("subnet-b", "subnet-c")] and pairs[("subnet-c", "subnet-b")]
    assert not pairs[("subnet-a", "subnet-b")]


def test_an_inactive_or_pending_table_listed_first_is_passed_over(sb: Sandbox) -> None:
    report = run(
        sb,
        """
vpcs: [{name: app, cidr: 10.80.0.0/16}]
outposts:
  - name: rack-a
    lgw_route_tables: [{name: dvr-idle, active: false}, {name: dvr-a}]
  - name: rack-b
    generation: 2
    lgw_route_tables: [{name: dvr-new, state: pending}, {name: dvr-b}]
route_tables: [{name: rt-a, vpc: app}, {name: rt-b, vpc: app}]
subnets:
  - {name: subnet-a, vpc: app, cidr: 10.80.1.0/24, outpost: rack-a, route_table: rt-a}
  - {name: subnet-b, vpc: app, cidr: 10.80.2.0/24, outpost: rack-b, route_table: rt-b}
steps: [{sweep: {}}]
""",
    ).report
    assert domains(report) == {("app", "rack-a"): "dvr-a", ("app", "rack-b"): "dvr-b"}
    assert report["findings"] == []
    assert reachable(report) == {("subnet-a", "subnet-b"): True, ("subnet-b", "subnet-a"): True}


def test_two_direct_vpc_routing_domains_tagged_with_the_vpc_id(sb: Sandbox) -> None:
    report = run(
        sb,
        """
vpcs: [{name: app, cidr: 10.80.0.0/16}, {name: other, cidr: 10.90.0.0/16}]
outposts:
  - name: rack-a
    generation: 2
    lgw_route_tables:
      - {name: dvr-green, tags: {"outpost-mesh:routing-domain": "*"}}
      - {name: dvr-blue}
  - name: rack-b
route_tables: [{name: rt-a, vpc: app}, {name: rt-b, vpc: app}]
subnets:
  - {name: subnet-a, vpc: app, cidr: 10.80.1.0/24, outpost: rack-a, route_table: rt-a}
  - {name: subnet-b, vpc: app, cidr: 10.80.2.0/24, outpost: rack-b, route_table: rt-b}
steps:
  - tag: {lgw_route_table: dvr-blue, tags: {"outpost-mesh:routing-domain": "{{vpc:app}}"}}
  - sweep: {}
""",
    ).report
    # The VPC's own id wins over "*".
    assert domains(report)[("app", "rack-a")] == "dvr-blue"
    assert reachable(report) == {("subnet-a", "subnet-b"): True, ("subnet-b", "subnet-a"): True}


def test_a_persons_association_is_kept_when_its_rack_has_no_subnet_left(sb: Sandbox) -> None:
    ran = run(
        sb,
        """
vpcs: [{name: app, cidr: 10.80.0.0/16}]
outposts: [{name: rack-a}, {name: rack-b}, {name: rack-c}]
lgw_associations: [{vpc: app, lgw_route_table: rack-a}]
route_tables: [{name: rt-a, vpc: app}, {name: rt-b, vpc: app}, {name: rt-c, vpc: app}]
subnets:
  - {name: subnet-a, vpc: app, cidr: 10.80.1.0/24, outpost: rack-a, route_table: rt-a}
  - {name: subnet-b, vpc: app, cidr: 10.80.2.0/24, outpost: rack-b, route_table: rt-b}
  - {name: subnet-c, vpc: app, cidr: 10.80.3.0/24, outpost: rack-c, route_table: rt-c}
steps:
  - sweep: {}
  - delete_subnet: {name: subnet-c}
  - delete_subnet: {name: subnet-a}
""",
    )
    report = ran.report
    # The pipeline made rack-b's and rack-c's associations and deletes each once nothing needs
    # it (subnet-c gone; then subnet-b has no other rack to reach); rack-a's is a person's: kept.
    deleted = [
        s["api_calls"]["DeleteLocalGatewayRouteTableVpcAssociation"] for s in report["steps"]
    ]
    assert deleted == [0, 1, 1]
    assert domains(report) == {("app", "rack-a"): "rack-a"}
    assert all(not rs for rs in report["route_tables"].values())


def test_opt_in_mode_meshes_a_vpc_once_it_is_tagged(sb: Sandbox) -> None:
    report = run(
        sb,
        TWO_RACKS
        + """
settings: {managed_vpcs: opt-in}
steps:
  - sweep: {}
  - tag: {vpc: app, tags: {"outpost-mesh:managed": "true"}}
  - sweep: {}
""",
    ).report
    first = report["steps"][0]
    assert first["executions"] == [] and first["api_calls"]["CreateRoute"] == 0
    assert report["steps"][2]["api_calls"]["CreateRoute"] == 2
    assert reachable(report) == {("subnet-a", "subnet-b"): True, ("subnet-b", "subnet-a"): True}


def test_a_dual_stack_subnet_is_meshed_on_ipv4_and_its_ipv6_block_reported(sb: Sandbox) -> None:
    report = run(
        sb,
        """
vpcs: [{name: app, cidr: 10.80.0.0/16, ipv6_cidr: "2600:1f14:aaaa:ab00::/56"}]
outposts: [{name: rack-a}, {name: rack-b}]
route_tables: [{name: rt-a, vpc: app}, {name: rt-b, vpc: app}]
subnets:
  - name: subnet-a
    vpc: app
    cidr: 10.80.1.0/24
    ipv6_cidr: "2600:1f14:aaaa:ab01::/64"
    outpost: rack-a
    route_table: rt-a
  - {name: subnet-b, vpc: app, cidr: 10.80.2.0/24, outpost: rack-b, route_table: rt-b}
steps: [{sweep: {}}]
""",
    ).report
    assert reachable(report) == {("subnet-a", "subnet-b"): True, ("subnet-b", "subnet-a"): True}
    unsupported = [f for f in report["findings"] if f["kind"] == "unsupported"]
    assert [f["subject"] for f in unsupported] == ["subnet-a"]
    assert "2600:1f14:aaaa:ab01::/64" in unsupported[0]["message"]  # in the scenario's words


def test_a_subnet_in_a_cidr_block_added_to_the_vpc_is_meshed(sb: Sandbox) -> None:
    report = run(
        sb,
        TWO_RACKS
        + """
steps:
  - sweep: {}
  - associate_vpc_cidr: {vpc: app, cidr: 10.81.0.0/16}
  - create_subnet: {name: subnet-c, vpc: app, cidr: 10.81.3.0/24, outpost: rack-b}
  - {create_subnet: {name: subnet-d, vpc: app, cidr: 10.81.4.0/24, outpost: rack-a}, quiet: true}
  - associate_route_table: {subnet: subnet-d, route_table: rt-a}
""",
    ).report
    assert routes(report, "rt-a") == {
        "10.80.2.0/24": "lgw:rack-a",
        "10.81.3.0/24": "lgw:rack-a",
    }
    assert routes(report, "rt-b") == {
        "10.80.1.0/24": "lgw:rack-b",
        "10.81.4.0/24": "lgw:rack-b",
    }
    # subnet-c has no table of its own: the main table serves it (and only it), so it is meshed.
    assert routes(report, "main:app") == {
        "10.80.1.0/24": "lgw:rack-b",
        "10.81.4.0/24": "lgw:rack-b",
    }
    assert all(reachable(report).values())


def test_switching_the_main_route_table_moves_the_routes_with_it(sb: Sandbox) -> None:
    ran = run(
        sb,
        """
vpcs: [{name: app, cidr: 10.80.0.0/16}]
outposts: [{name: rack-a}, {name: rack-b}]
route_tables: [{name: rt-a, vpc: app}, {name: rt-new, vpc: app}]
subnets:
  - {name: subnet-a, vpc: app, cidr: 10.80.1.0/24, outpost: rack-a, route_table: rt-a}
  - {name: subnet-b, vpc: app, cidr: 10.80.2.0/24, outpost: rack-b}
steps:
  - sweep: {}
  - set_main_route_table: {vpc: app, route_table: rt-new}
""",
    )
    after_sweep = ran.steps[0].after
    assert after_sweep is not None
    assert after_sweep.route_tables["main:app"] == [
        {"destination": "10.80.1.0/24", "target": "lgw:rack-b"}
    ]
    report = ran.report
    assert report["steps"][1]["executions"], "ReplaceRouteTableAssociation triggers a reconcile"
    assert routes(report, "rt-new") == {"10.80.1.0/24": "lgw:rack-b"}
    assert routes(report, "main:app") == {}  # the old main table serves no subnet now
    assert reachable(report) == {("subnet-a", "subnet-b"): True, ("subnet-b", "subnet-a"): True}


def test_steps_the_rules_do_not_watch_trigger_nothing(sb: Sandbox) -> None:
    ran = run(
        sb,
        TWO_RACKS
        + """
steps:
  - untag: {vpc: app, keys: [team]}
  - associate_lgw_route_table: {vpc: app, lgw_route_table: rack-a}
  - disassociate_lgw_route_table: {vpc: app, lgw_route_table: rack-a}
  - disassociate_lgw_route_table: {vpc: app, lgw_route_table: rack-b}
""",
    )
    names = [
        [d.event["detail"]["eventName"] for d in step.deliveries if not d.matched]
        for step in ran.steps
    ]
    assert names == [
        ["DeleteTags"],
        ["CreateLocalGatewayRouteTableVpcAssociation"],
        ["DeleteLocalGatewayRouteTableVpcAssociation"],
        [],  # nothing to delete: no call, no event
    ]
    assert all(not step.executions for step in ran.steps)
    assert ran.steps[3].call_errors and "no association" in ran.steps[3].call_errors[0]


def test_without_throttle_the_functions_pace_as_deployed_on_the_sandbox_clock(
    sb: Sandbox,
) -> None:
    """Template defaults (5 mutating calls a second, a bucket of 50): 96 routes need pauses,
    which jump the sandbox's clock instead of waiting."""
    assert sb.app is not None
    clock = sb.app.throttle.clock
    cells = [(r, i) for r in range(3) for i in range(4)]
    text = "\n".join(
        [
            "vpcs: [{name: app, cidr: 10.0.0.0/16}]",
            "outposts: [{name: rack-0}, {name: rack-1}, {name: rack-2}]",
            "route_tables:",
            *(f"  - {{name: rt-{r}-{i}, vpc: app}}" for r, i in cells),
            "subnets:",
            *(
                f"  - {{name: s-{r}-{i}, vpc: app, cidr: 10.0.{r * 10 + i}.0/24, "
                f"outpost: rack-{r}, route_table: rt-{r}-{i}}}"
                for r, i in cells
            ),
            "steps: [{sweep: {}}]",
        ]
    )
    report = run(sb, text).report
    assert report["api_calls"]["CreateRoute"] == 96
    assert all(reachable(report).values())
    # AWS time since the runner restarted the clock (real time plus the pauses' jumps) covers
    # at least what EC2's refill rate needs for the calls the bucket did not hold: the rate was
    # not raised. (How it splits between real time and jumps depends on the machine's load.)
    assert clock.now() >= (96 - 50) / 5 - 1
