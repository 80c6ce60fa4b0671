"""Scenario files: the shipped ones load, and every mistake a user can make is one clear line."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from outpost_mesh_sandbox.scenario import (
    AddRouteStep,
    AssociateRouteTableStep,
    CreateSubnetStep,
    DeleteRouteStep,
    DeleteSubnetStep,
    DisassociateRouteTableStep,
    EventStep,
    FailStep,
    OutpostSpec,
    Quotas,
    RouteSpec,
    RouteTableSpec,
    Scenario,
    ScenarioError,
    SubnetSpec,
    SweepStep,
    TogetherStep,
    VpcSpec,
    load_scenario,
    parse_scenario,
    substitute_placeholders,
)

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
SHIPPED = sorted(SCENARIOS.glob("*.yaml"))
DELETE = object()


def base() -> dict[str, Any]:
    """A valid document that each case breaks in one place."""
    return {
        "description": "unit test",
        "vpcs": [{"name": "app", "cidr": "10.7.0.0/16", "secondary_cidrs": ["10.8.0.0/16"]}],
        "outposts": [
            {"name": "rack-a"},
            {"name": "rack-b"},
            {"name": "rack-old", "intra_vpc": False},
        ],
        "route_tables": [{"name": "rt-a", "vpc": "app"}, {"name": "rt-b", "vpc": "app"}],
        "subnets": [
            {
                "name": "subnet-a",
                "vpc": "app",
                "cidr": "10.7.7.0/24",
                "outpost": "rack-a",
                "route_table": "rt-a",
            },
            {"name": "web", "vpc": "app", "cidr": "10.7.100.0/24"},
        ],
        "steps": [],
    }


def patched(changes: dict[str, Any]) -> dict[str, Any]:
    """``base()`` with ``{"subnets.0.cidr": value}`` applied (``DELETE`` removes the key)."""
    doc = base()
    for dotted, value in changes.items():
        *parents, last = dotted.split(".")
        node: Any = doc
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if isinstance(node, list):
            node[int(last)] = copy.deepcopy(value)
        elif value is DELETE:
            del node[last]
        else:
            node[last] = copy.deepcopy(value)
    return doc


def parse(doc: object) -> Scenario:
    return parse_scenario(doc, "test.yaml", "test")


def error_of(doc: object) -> ScenarioError:
    with pytest.raises(ScenarioError) as caught:
        parse(doc)
    return caught.value


def subnet(name: str, cidr: str, **extra: str) -> dict[str, str]:
    return {"name": name, "vpc": "app", "cidr": cidr, **extra}


def create(name: str, cidr: str, **extra: str) -> dict[str, Any]:
    return {"create_subnet": subnet(name, cidr, **extra)}


def lgw_route(destination: str, outpost: str = "rack-a") -> dict[str, Any]:
    return {"destination": destination, "target": f"lgw:{outpost}"}


CASES = [
    # -- document shape, keys, types --
    ("unknown-top-key", {"subnet": []}, "subnet", "unknown key (did you mean 'subnets'?)"),
    ("missing-vpcs", {"vpcs": DELETE}, "vpcs", "missing required key"),
    ("vpcs-not-list", {"vpcs": {"name": "app"}}, "vpcs", "expected a list, got a mapping"),
    ("no-vpc", {"vpcs": [], "subnets": [], "route_tables": []}, "vpcs", "at least one VPC"),
    ("description-type", {"description": 3}, "description", "expected a string, got a number"),
    ("vpc-typo", {"vpcs.0.cdir": "10.9.0.0/16"}, "vpcs[0].cdir", "did you mean 'cidr'?"),
    ("vpc-missing-cidr", {"vpcs.0.cidr": DELETE}, "vpcs[0].cidr", "missing required key"),
    ("vpc-null-cidr", {"vpcs.0.cidr": None}, "vpcs[0].cidr", "expected a string, got nothing"),
    ("outpost-not-mapping", {"outposts.0": "rack-a"}, "outposts[0]", "expected a mapping"),
    ("subnet-typo", {"subnets.1.outpst": "rack-a"}, "subnets[1].outpst", "'outpost'"),
    (
        "route-typo",
        {"route_tables.0.routes": [{"dest": "0.0.0.0/0", "target": "igw"}]},
        "route_tables[0].routes[0].dest",
        "unknown key",
    ),
    (
        "quotas-typo",
        {"quotas": {"routes": 5}},
        "quotas.routes",
        "expected one of: routes_per_table",
    ),
    # -- names --
    ("name-type", {"vpcs.0.name": 7}, "vpcs[0].name", "expected a string"),
    ("name-space", {"subnets.1.name": "my web"}, "subnets[1].name", "whitespace"),
    ("name-tab", {"route_tables.1.name": "rt\tb"}, "route_tables[1].name", "whitespace"),
    ("name-colon", {"outposts.1.name": "rack:b"}, "outposts[1].name", "':'"),
    ("name-main-table", {"route_tables.1.name": "main:app"}, "route_tables[1].name", "':'"),
    ("name-empty", {"vpcs.0.name": ""}, "vpcs[0].name", "cannot be empty"),
    (
        "dup-vpc",
        {"vpcs": [{"name": "app", "cidr": "10.7.0.0/16"}] * 2},
        "vpcs[1].name",
        "duplicate VPC name 'app'",
    ),
    ("dup-outpost", {"outposts.1.name": "rack-a"}, "outposts[1].name", "duplicate Outpost name"),
    (
        "dup-table",
        {"route_tables.1.name": "rt-a"},
        "route_tables[1].name",
        "duplicate route table name",
    ),
    ("dup-subnet", {"subnets.1.name": "subnet-a"}, "subnets[1].name", "duplicate subnet name"),
    (
        "dup-subnet-step",
        {"steps": [create("web", "10.7.8.0/24")]},
        "steps[0].create_subnet.name",
        "duplicate subnet name 'web'",
    ),
    # -- CIDRs --
    ("cidr-invalid", {"vpcs.0.cidr": "10.7.0.0/33"}, "vpcs[0].cidr", "not a valid CIDR"),
    ("cidr-no-prefix", {"subnets.1.cidr": "10.7.100.0"}, "subnets[1].cidr", "not a CIDR block"),
    (
        "cidr-ipv6",
        {"vpcs.0.secondary_cidrs": ["2001:db8::/56"]},
        "vpcs[0].secondary_cidrs[0]",
        "IPv6",
    ),
    ("cidr-host-bits", {"vpcs.0.cidr": "10.7.0.1/16"}, "vpcs[0].cidr", "did you mean 10.7.0.0/16?"),
    ("cidr-type", {"subnets.1.cidr": 10}, "subnets[1].cidr", "expected a string"),
    ("vpc-too-big", {"vpcs.0.cidr": "10.0.0.0/8"}, "vpcs[0].cidr", "AWS allows /16 to /28"),
    ("subnet-too-small", {"subnets.1.cidr": "10.7.100.0/29"}, "subnets[1].cidr", "/16 to /28"),
    (
        "secondary-overlap",
        {"vpcs.0.secondary_cidrs": ["10.7.128.0/17"]},
        "vpcs[0].secondary_cidrs[0]",
        "overlaps the VPC's 10.7.0.0/16",
    ),
    (
        "too-many-blocks",
        {"vpcs.0.secondary_cidrs": [f"10.{i}.0.0/16" for i in range(8, 13)]},
        "vpcs[0].secondary_cidrs",
        "at most 5 CIDR blocks",
    ),
    (
        "secondary-not-list",
        {"vpcs.0.secondary_cidrs": "10.8.0.0/16"},
        "vpcs[0].secondary_cidrs",
        "expected a list",
    ),
    (
        "subnet-outside-vpc",
        {"subnets.1.cidr": "10.9.0.0/24"},
        "subnets[1].cidr",
        "not inside VPC app's CIDR blocks (10.7.0.0/16, 10.8.0.0/16)",
    ),
    (
        "subnet-overlap",
        {"subnets.1.cidr": "10.7.0.0/20"},
        "subnets[1].cidr",
        "overlaps subnet subnet-a (10.7.7.0/24)",
    ),
    (
        "step-overlaps-seeded",
        {"steps": [create("b", "10.7.7.128/25")]},
        "steps[0].create_subnet.cidr",
        "overlaps subnet subnet-a",
    ),
    (
        "step-overlaps-step",
        {"steps": [create("b", "10.7.8.0/24"), create("c", "10.7.8.0/25")]},
        "steps[1].create_subnet.cidr",
        "overlaps subnet b",
    ),
    (
        "step-overlaps-in-together",
        {"steps": [{"together": [create("b", "10.7.8.0/24"), create("c", "10.7.8.0/24")]}]},
        "steps[0].together[1].create_subnet.cidr",
        "overlaps subnet b",
    ),
    # -- references --
    ("unknown-vpc", {"subnets.1.vpc": "ap"}, "subnets[1].vpc", "unknown VPC 'ap' (did you mean"),
    (
        "unknown-outpost",
        {"subnets.1.outpost": "rack-z"},
        "subnets[1].outpost",
        "unknown Outpost 'rack-z'",
    ),
    (
        "unknown-table",
        {"subnets.1.route_table": "rt-c"},
        "subnets[1].route_table",
        "unknown route table 'rt-c'",
    ),
    ("table-unknown-vpc", {"route_tables.1.vpc": "other"}, "route_tables[1].vpc", "unknown VPC"),
    (
        "table-of-other-vpc",
        {
            "vpcs": [*base()["vpcs"], {"name": "other", "cidr": "10.9.0.0/16"}],
            "route_tables.1.vpc": "other",
            "subnets.1.route_table": "rt-b",
        },
        "subnets[1].route_table",
        "route table rt-b belongs to VPC other, not app",
    ),
    (
        "main-in-seeded-subnet",
        {"subnets.1.route_table": "main:app"},
        "subnets[1].route_table",
        "only for steps",
    ),
    (
        "main-unknown-vpc",
        {"steps": [{"associate_route_table": {"subnet": "web", "route_table": "main:ap"}}]},
        "steps[0].associate_route_table.route_table",
        "unknown VPC 'ap' in 'main:ap'",
    ),
    # -- Outposts --
    (
        "lgw-mode",
        {"outposts.0.lgw_mode": "direct"},
        "outposts[0].lgw_mode",
        "unknown lgw_mode 'direct'",
    ),
    (
        "intra-vpc-type",
        {"outposts.0.intra_vpc": "yes please"},
        "outposts[0].intra_vpc",
        "expected true or false",
    ),
    # -- seeded routes --
    (
        "target-unknown",
        {"route_tables.0.routes": [{"destination": "0.0.0.0/0", "target": "ig"}]},
        "route_tables[0].routes[0].target",
        "unknown target 'ig' (did you mean 'igw'?)",
    ),
    (
        "target-lgw-unknown",
        {"route_tables.0.routes": [lgw_route("0.0.0.0/0", "rack-z")]},
        "route_tables[0].routes[0].target",
        "unknown Outpost 'rack-z' in target 'lgw:rack-z'",
    ),
    (
        "route-not-a-subnet",
        {"route_tables.0.routes": [lgw_route("10.7.11.0/24")]},
        "route_tables[0].routes[0].destination",
        "requires it to be exactly the CIDR of a subnet",
    ),
    (
        "route-part-of-subnet",
        {"route_tables.0.routes": [lgw_route("10.7.100.0/25")]},
        "route_tables[0].routes[0].destination",
        "no subnet has it",
    ),
    (
        "route-vpc-cidr",
        {"route_tables.0.routes": [{"destination": "10.7.0.0/16", "target": "igw"}]},
        "route_tables[0].routes[0].destination",
        "local route",
    ),
    (
        "route-secondary-cidr",
        {"route_tables.0.routes": [lgw_route("10.8.0.0/16")]},
        "route_tables[0].routes[0].destination",
        "VPC app's CIDR block",
    ),
    (
        "route-ipv6",
        {"route_tables.0.routes": [{"destination": "::/0", "target": "igw"}]},
        "route_tables[0].routes[0].destination",
        "IPv6",
    ),
    (
        "route-duplicate",
        {
            "route_tables.0.routes": [
                lgw_route("0.0.0.0/0"),
                {"destination": "0.0.0.0/0", "target": "igw"},
            ]
        },
        "route_tables[0].routes[1].destination",
        "duplicate destination 0.0.0.0/0 (also in routes[0])",
    ),
    (
        "route-rack-not-updated",
        {
            "subnets.0.outpost": "rack-old",
            "route_tables.0.routes": [lgw_route("10.7.100.0/24", "rack-old")],
        },
        "route_tables[0].routes[0].target",
        "rack-old has intra_vpc: false",
    ),
    (
        "route-lgw-other-outpost",
        {"route_tables.0.routes": [lgw_route("0.0.0.0/0", "rack-b")]},
        "route_tables[0].routes[0].target",
        "rt-a serves subnet-a, not on rack-b",
    ),
    (
        "route-eni-no-subnet",
        {
            "vpcs": [*base()["vpcs"], {"name": "other", "cidr": "10.9.0.0/16"}],
            "route_tables.1": {
                "name": "rt-b",
                "vpc": "other",
                "routes": [{"destination": "0.0.0.0/0", "target": "eni"}],
            },
        },
        "route_tables[1].routes[0].target",
        "target eni needs a subnet of VPC other",
    ),
    (
        "route-eni-subnet-deleted",
        {
            "subnets": [subnet("web", "10.7.100.0/24")],
            "route_tables.1.routes": [{"destination": "0.0.0.0/0", "target": "eni"}],
            "steps": [{"delete_subnet": {"name": "web"}}],
        },
        "route_tables[1].routes[0].target",
        "that no step deletes",
    ),
    (
        "route-quota",
        {
            "quotas": {"routes_per_table": 1},
            "route_tables.1.routes": [
                {"destination": "0.0.0.0/0", "target": "igw"},
                {"destination": "192.168.0.0/16", "target": "igw"},
            ],
        },
        "route_tables[1].routes",
        "2 routes exceed quotas.routes_per_table (1)",
    ),
    (
        "quota-zero",
        {"quotas": {"routes_per_table": 0}},
        "quotas.routes_per_table",
        "must be at least 1",
    ),
    (
        "quota-negative",
        {"quotas": {"routes_per_table": -5}},
        "quotas.routes_per_table",
        "must be at least 1",
    ),
    (
        "quota-type",
        {"quotas": {"routes_per_table": "50"}},
        "quotas.routes_per_table",
        "expected a whole number",
    ),
    (
        "quota-too-big",
        {"quotas": {"routes_per_table": 5000}},
        "quotas.routes_per_table",
        "at most 1000",
    ),
    # -- steps: shape --
    ("steps-not-list", {"steps": {"sweep": {}}}, "steps", "expected a list, got a mapping"),
    (
        "routes-not-list",
        {"route_tables.0.routes": {"destination": "0.0.0.0/0", "target": "igw"}},
        "route_tables[0].routes",
        "expected a list",
    ),
    ("step-not-mapping", {"steps": ["sweep"]}, "steps[0]", "expected a step like"),
    (
        "step-unknown-kind",
        {"steps": [{"create_subent": {}}]},
        "steps[0].create_subent",
        "unknown step kind (did you mean 'create_subnet'?)",
    ),
    (
        "step-two-kinds",
        {"steps": [{"sweep": {}, "delete_subnet": {"name": "web"}}]},
        "steps[0]",
        "one step per list item, got sweep and delete_subnet",
    ),
    ("step-only-quiet", {"steps": [{"quiet": True}]}, "steps[0]", "a step needs a kind"),
    (
        "step-quiet-type",
        {"steps": [{"sweep": {}, "quiet": "yes"}]},
        "steps[0].quiet",
        "expected true or false",
    ),
    (
        "step-quiet-twice",
        {"steps": [{"delete_subnet": {"name": "web", "quiet": True}, "quiet": False}]},
        "steps[0].delete_subnet.quiet",
        "given twice",
    ),
    (
        "step-missing-field",
        {"steps": [{"create_subnet": {"name": "b", "vpc": "app"}}]},
        "steps[0].create_subnet.cidr",
        "missing required key",
    ),
    (
        "step-args-type",
        {"steps": [{"delete_subnet": "web"}]},
        "steps[0].delete_subnet",
        "expected a mapping, got a string",
    ),
    ("sweep-args", {"steps": [{"sweep": {"vpc": "app"}}]}, "steps[0].sweep.vpc", "unknown key"),
    (
        "fail-times-zero",
        {"steps": [{"fail": {"api": "CreateRoute", "error": "RequestLimitExceeded", "times": 0}}]},
        "steps[0].fail.times",
        "must be at least 1",
    ),
    (
        "fail-times-bool",
        {
            "steps": [
                {"fail": {"api": "CreateRoute", "error": "RequestLimitExceeded", "times": True}}
            ]
        },
        "steps[0].fail.times",
        "expected a whole number",
    ),
    (
        "fail-times-missing",
        {"steps": [{"fail": {"api": "CreateRoute", "error": "RequestLimitExceeded"}}]},
        "steps[0].fail.times",
        "missing required key",
    ),
    (
        "fail-api",
        {"steps": [{"fail": {"api": "CreateRoutes", "error": "X", "times": 1}}]},
        "steps[0].fail.api",
        "not an EC2 API action (did you mean 'CreateRoute",
    ),
    (
        "fail-error",
        {"steps": [{"fail": {"api": "CreateRoute", "error": "rate limit", "times": 1}}]},
        "steps[0].fail.error",
        "not an EC2 error code",
    ),
    ("together-empty", {"steps": [{"together": []}]}, "steps[0].together", "at least one step"),
    (
        "together-not-list",
        {"steps": [{"together": {"sweep": {}}}]},
        "steps[0].together",
        "expected a list",
    ),
    (
        "together-sweep",
        {"steps": [{"together": [{"sweep": {}}]}]},
        "steps[0].together[0].sweep",
        "sweep cannot be inside together",
    ),
    (
        "together-nested",
        {"steps": [{"together": [{"together": [create("b", "10.7.8.0/24")]}]}]},
        "steps[0].together[0].together",
        "cannot be inside together",
    ),
    (
        "event-not-mapping",
        {"steps": [{"event": ["x"]}]},
        "steps[0].event",
        "expected a mapping (an EventBridge event)",
    ),
    # -- steps: order and state --
    (
        "delete-unknown",
        {"steps": [{"delete_subnet": {"name": "nope"}}]},
        "steps[0].delete_subnet.name",
        "subnet 'nope' does not exist at this point",
    ),
    (
        "delete-twice",
        {"steps": [{"delete_subnet": {"name": "web"}}] * 2},
        "steps[1].delete_subnet.name",
        "was deleted by an earlier step",
    ),
    (
        "delete-before-create",
        {"steps": [{"delete_subnet": {"name": "b"}}, create("b", "10.7.8.0/24")]},
        "steps[0].delete_subnet.name",
        "does not exist",
    ),
    (
        "associate-deleted",
        {
            "steps": [
                {"delete_subnet": {"name": "web"}},
                {"associate_route_table": {"subnet": "web", "route_table": "rt-b"}},
            ]
        },
        "steps[1].associate_route_table.subnet",
        "was deleted by an earlier step",
    ),
    (
        "associate-other-vpc",
        {
            "vpcs": [*base()["vpcs"], {"name": "other", "cidr": "10.9.0.0/16"}],
            "route_tables.1.vpc": "other",
            "steps": [{"associate_route_table": {"subnet": "web", "route_table": "rt-b"}}],
        },
        "steps[0].associate_route_table.route_table",
        "belongs to VPC other, but subnet web",
    ),
    (
        "associate-unknown-table",
        {"steps": [{"associate_route_table": {"subnet": "web", "route_table": "rt-x"}}]},
        "steps[0].associate_route_table.route_table",
        "unknown route table 'rt-x'",
    ),
    (
        "disassociate-main",
        {"steps": [{"disassociate_route_table": {"subnet": "web"}}]},
        "steps[0].disassociate_route_table.subnet",
        "no explicit route table association",
    ),
    (
        "disassociate-twice",
        {"steps": [{"disassociate_route_table": {"subnet": "subnet-a"}}] * 2},
        "steps[1].disassociate_route_table.subnet",
        "no explicit route table association",
    ),
    (
        "create-unknown-outpost",
        {"steps": [create("b", "10.7.8.0/24", outpost="rack-q")]},
        "steps[0].create_subnet.outpost",
        "unknown Outpost 'rack-q'",
    ),
    (
        "add-route-not-a-subnet",
        {
            "steps": [
                {
                    "add_route": {
                        "route_table": "rt-a",
                        "destination": "10.7.8.0/24",
                        "target": "lgw:rack-a",
                    }
                },
                create("b", "10.7.8.0/24"),
            ]
        },
        "steps[0].add_route.destination",
        "no subnet has it at this point",
    ),
    (
        "add-route-deleted-subnet",
        {
            "steps": [
                {"delete_subnet": {"name": "web"}},
                {
                    "add_route": {
                        "route_table": "rt-b",
                        "destination": "10.7.100.0/24",
                        "target": "igw",
                    }
                },
            ]
        },
        "steps[1].add_route.destination",
        "no subnet has it",
    ),
    (
        "add-route-shared-main",
        {
            "steps": [
                {
                    "add_route": {
                        "route_table": "main:app",
                        "destination": "0.0.0.0/0",
                        "target": "lgw:rack-a",
                    }
                }
            ]
        },
        "steps[0].add_route.target",
        "main:app serves web, not on rack-a",
    ),
    (
        "add-route-target",
        {
            "steps": [
                {"add_route": {"route_table": "rt-a", "destination": "0.0.0.0/0", "target": "nat"}}
            ]
        },
        "steps[0].add_route.target",
        "unknown target 'nat'",
    ),
    (
        "delete-local-route",
        {"steps": [{"delete_route": {"route_table": "rt-a", "destination": "10.8.0.0/16"}}]},
        "steps[0].delete_route.destination",
        "local route",
    ),
    (
        "delete-route-unknown-table",
        {"steps": [{"delete_route": {"route_table": "rt-q", "destination": "0.0.0.0/0"}}]},
        "steps[0].delete_route.route_table",
        "unknown route table",
    ),
    # -- event placeholders --
    (
        "placeholder-kind",
        {"steps": [{"event": {"detail": {"x": "{{instance:a}}"}}}]},
        "steps[0].event.detail.x",
        "unknown placeholder {{instance:a}}",
    ),
    (
        "placeholder-word",
        {"steps": [{"event": {"account": "{{acount}}"}}]},
        "steps[0].event.account",
        "unknown placeholder {{acount}}",
    ),
    (
        "placeholder-subnet",
        {"steps": [{"event": {"resources": ["{{subnet:nope}}"]}}]},
        "steps[0].event.resources[0]",
        "{{subnet:nope}} names no subnet that exists at this point",
    ),
    (
        "placeholder-later-subnet",
        {"steps": [{"event": {"id": "{{subnet:b}}"}}, create("b", "10.7.8.0/24")]},
        "steps[0].event.id",
        "names no subnet",
    ),
    (
        "placeholder-table",
        {"steps": [{"event": {"t": "{{route_table:main:other}}"}}]},
        "steps[0].event.t",
        "names no route table",
    ),
    (
        "placeholder-outpost",
        {"steps": [{"event": {"t": "{{outpost:rack-z}}"}}]},
        "steps[0].event.t",
        "names no outpost",
    ),
    (
        "event-key-type",
        {"steps": [{"event": {"detail": {1: "x"}}}]},
        "steps[0].event.detail.1",
        "keys must be strings",
    ),
]


@pytest.mark.parametrize(
    ("changes", "path", "fragment"),
    [pytest.param(changes, path, fragment, id=case) for case, changes, path, fragment in CASES],
)
def test_a_mistake_is_one_line_naming_file_path_and_problem(
    changes: dict[str, Any], path: str, fragment: str
) -> None:
    err = error_of(patched(changes))
    assert err.path == path
    assert fragment in err.problem
    assert str(err) == f"test.yaml: {path}: {err.problem}"
    assert "\n" not in str(err)


def test_the_base_document_of_the_cases_is_valid() -> None:
    scenario = parse(base())
    assert [s.name for s in scenario.subnets] == ["subnet-a", "web"]


@pytest.mark.parametrize("doc", [None, [], "vpcs", 3])
def test_a_document_that_is_not_a_mapping_is_refused(doc: object) -> None:
    err = error_of(doc)
    assert err.path == "(document)"
    assert "expected a mapping" in err.problem


# -- shipped scenarios ------------------------------------------------------------------------


def test_the_promised_scenarios_are_shipped() -> None:
    names = {p.stem for p in SHIPPED}
    assert {
        "blog",
        "three-racks",
        "shared-main-table",
        "delete-subnet",
        "coip-rack",
        "rack-not-updated",
        "burst",
        "redelivery",
    } <= names


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_every_shipped_scenario_loads_with_a_description(path: Path) -> None:
    scenario = load_scenario(path)
    assert scenario.name == path.stem
    assert scenario.description
    assert "\n" not in scenario.description
    assert scenario.steps


def test_blog_scenario_is_the_formats_example() -> None:
    scenario = load_scenario(SCENARIOS / "blog.yaml")
    assert scenario == Scenario(
        name="blog",
        description="One VPC spanning two Outpost racks (the AWS blog's example).",
        vpcs=(VpcSpec("app", "10.7.0.0/16"),),
        outposts=(OutpostSpec("rack-a"), OutpostSpec("rack-b")),
        route_tables=(RouteTableSpec("rt-a", "app"), RouteTableSpec("rt-b", "app")),
        subnets=(SubnetSpec("subnet-a", "app", "10.7.7.0/24", "rack-a", "rt-a"),),
        quotas=Quotas(50),
        steps=(CreateSubnetStep("subnet-b", "app", "10.7.11.0/24", "rack-b", "rt-b"),),
    )
    text = (SCENARIOS / "blog.yaml").read_text()
    assert "10.7.7.88" in text
    assert "10.7.11.119" in text


def test_three_racks_shares_a_table_within_one_rack_and_uses_a_secondary_cidr() -> None:
    scenario = load_scenario(SCENARIOS / "three-racks.yaml")
    assert len(scenario.outposts) == 3
    on_rt_a = [s for s in scenario.subnets if s.route_table == "rt-a"]
    assert len(on_rt_a) == 2
    assert len({s.outpost for s in on_rt_a}) == 1
    secondary = scenario.vpcs[0].secondary_cidrs[0]
    assert any(s.cidr.startswith(secondary.split(".0.0/")[0]) for s in scenario.subnet_specs())
    assert all(isinstance(s, CreateSubnetStep) for s in scenario.steps)


def test_redelivery_event_keeps_placeholders_and_timestamps_as_text() -> None:
    scenario = load_scenario(SCENARIOS / "redelivery.yaml")
    event_step = scenario.steps[-1]
    assert isinstance(event_step, EventStep)
    assert event_step.label == "event CreateSubnet"
    assert event_step.event["time"] == "2024-05-01T10:00:00Z"
    detail = event_step.event["detail"]
    assert detail["responseElements"]["subnet"]["subnetId"] == "{{subnet:subnet-b}}"


# -- the file level ---------------------------------------------------------------------------


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("description: x\nvpcs:\n  - {name: app, cidr: 10.0.0.0/16\nsteps: []\n")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(bad)
    assert str(caught.value).startswith(f"{bad}: line ")
    assert "invalid YAML" in caught.value.problem
    assert "\n" not in str(caught.value)


def test_duplicate_keys_stay_refused_after_aws_sam_cli_parsed_a_template(tmp_path: Path) -> None:
    """aws-sam-cli's yaml_parse replaces SafeLoader's mapping constructor process-wide; the
    scenario loader keeps its own (a duplicate key passed silently once a test had used SAM's)."""
    from samcli.yamlhelper import yaml_parse

    yaml_parse("Resources: {}\n")
    bad = tmp_path / "dup.yaml"
    bad.write_text("vpcs:\n  - name: app\n    cidr: 10.0.0.0/16\n    cidr: 10.1.0.0/16\n")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(bad)
    assert caught.value.problem == "duplicate key 'cidr'"


def test_duplicate_yaml_key_is_refused_with_its_line(tmp_path: Path) -> None:
    bad = tmp_path / "dup.yaml"
    bad.write_text("vpcs:\n  - name: app\n    cidr: 10.0.0.0/16\n    cidr: 10.1.0.0/16\n")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(bad)
    assert caught.value.path == "line 4, column 5"
    assert caught.value.problem == "duplicate key 'cidr'"


def test_missing_file_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(tmp_path / "nope.yaml")
    assert "cannot read the file" in str(caught.value)
    assert "\n" not in str(caught.value)


def test_empty_file_is_refused(tmp_path: Path) -> None:
    empty = tmp_path / "empty.yaml"
    empty.write_text("# nothing\n")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(empty)
    assert str(caught.value) == f"{empty}: (document): expected a mapping, got nothing (null)"


def test_a_folded_description_becomes_one_line() -> None:
    scenario = parse(patched({"description": "  two\n lines  "}))
    assert scenario.description == "two lines"


def test_scenario_name_is_the_file_stem(tmp_path: Path) -> None:
    path = tmp_path / "my-case.yaml"
    path.write_text("vpcs: [{name: app, cidr: 10.0.0.0/16}]\n")
    scenario = load_scenario(path)
    assert (scenario.name, scenario.description, scenario.steps) == ("my-case", "", ())


# -- what valid documents mean ----------------------------------------------------------------


def test_every_step_kind_parses_with_its_label() -> None:
    steps = [
        create("b", "10.8.1.0/24", outpost="rack-b", route_table="rt-b"),
        {"associate_route_table": {"subnet": "web", "route_table": "rt-b"}},
        {"associate_route_table": {"subnet": "web", "route_table": "main:app"}},
        {"disassociate_route_table": {"subnet": "web"}},
        {
            "add_route": {
                "route_table": "rt-b",
                "destination": "10.7.7.0/24",
                "target": "lgw:rack-b",
            }
        },
        {"delete_route": {"route_table": "main:app", "destination": "10.7.7.0/24"}},
        {"sweep": {}},
        {"sweep": None, "quiet": True},
        {"fail": {"api": "CreateRoute", "error": "RequestLimitExceeded", "times": 2}},
        {"together": [{"delete_subnet": {"name": "b"}}, create("c", "10.8.1.0/24", quiet=True)]},
        {"event": {"detail-type": "Scheduled Event", "source": "aws.events"}},
        {"delete_subnet": {"name": "c"}, "quiet": True},
    ]
    scenario = parse(patched({"steps": steps}))
    assert [s.label for s in scenario.steps] == [
        "create_subnet b",
        "associate_route_table web -> rt-b",
        "associate_route_table web -> main:app",
        "disassociate_route_table web",
        "add_route rt-b 10.7.7.0/24 -> lgw:rack-b",
        "delete_route main:app 10.7.7.0/24",
        "sweep",
        "sweep",
        "fail CreateRoute RequestLimitExceeded x2",
        "together (2 steps)",
        "event Scheduled Event",
        "delete_subnet c",
    ]
    s = scenario.steps
    assert s[0] == CreateSubnetStep("b", "app", "10.8.1.0/24", "rack-b", "rt-b")
    assert s[1] == AssociateRouteTableStep("web", "rt-b")
    assert s[3] == DisassociateRouteTableStep("web")
    assert s[4] == AddRouteStep("rt-b", "10.7.7.0/24", "lgw:rack-b")
    assert s[5] == DeleteRouteStep("main:app", "10.7.7.0/24")
    assert s[6] == SweepStep()
    assert s[7] == SweepStep(quiet=True)
    assert s[8] == FailStep("CreateRoute", "RequestLimitExceeded", 2)
    assert s[9] == TogetherStep(
        (DeleteSubnetStep("b"), CreateSubnetStep("c", "app", "10.8.1.0/24", quiet=True))
    )
    assert s[11] == DeleteSubnetStep("c", quiet=True)
    assert [step.kind for step in scenario.all_steps()][9:11] == ["delete_subnet", "create_subnet"]


def test_seeded_routes_follow_aws_rules_when_valid() -> None:
    doc = patched(
        {
            "subnets": [
                *base()["subnets"],
                subnet("b", "10.8.1.0/24", outpost="rack-b", route_table="rt-b"),
            ],
            "route_tables.0.routes": [
                lgw_route("10.8.1.0/24"),  # exactly subnet b's CIDR, in the secondary block
                {"destination": "10.7.100.0/24", "target": "eni"},
                {"destination": "0.0.0.0/0", "target": "igw"},
                {"destination": "10.0.0.0/8", "target": "lgw:rack-a"},  # less specific: fine
            ],
        }
    )
    table = parse(doc).route_tables[0]
    assert table.routes[0] == RouteSpec("10.8.1.0/24", "lgw:rack-a")
    assert table.routes[0].outpost == "rack-a"
    assert table.routes[2].outpost is None


def test_a_deleted_subnets_name_and_cidr_can_be_used_again() -> None:
    steps = [{"delete_subnet": {"name": "web"}}, create("web", "10.7.100.0/24")]
    scenario = parse(patched({"steps": steps}))
    assert [s.name for s in scenario.subnet_specs()] == ["subnet-a", "web", "web"]


def test_an_unknown_key_is_suggested_even_inside_a_step() -> None:
    err = error_of(
        patched(
            {"steps": [{"create_subnet": {**subnet("b", "10.7.8.0/24"), "route_tabel": "rt-b"}}]}
        )
    )
    assert err.path == "steps[0].create_subnet.route_tabel"
    assert "did you mean 'route_table'?" in err.problem


# -- placeholders -----------------------------------------------------------------------------


class FakeIds:
    values = {
        ("vpc", "app"): "vpc-1",
        ("subnet", "web"): "subnet-2",
        ("route_table", "main:app"): "rtb-3",
        ("outpost", "rack-a"): "arn:aws:outposts:us-east-1:123456789012:outpost/op-1",
        ("account", None): "123456789012",
        ("region", None): "us-east-1",
    }

    def placeholder_value(self, kind: str, name: str | None) -> str:
        try:
            return self.values[(kind, name)]
        except KeyError:
            raise KeyError(f"{kind} named {name!r}") from None


def test_placeholders_are_replaced_everywhere_recursively() -> None:
    event = {
        "account": "{{account}}",
        "detail": {
            "awsRegion": "{{region}}",
            "requestParameters": {"vpcId": "{{vpc:app}}", "n": 3, "ok": True, "none": None},
            "resources": ["arn:aws:ec2:{{region}}:{{account}}:subnet/{{subnet:web}}"],
            "{{route_table:main:app}}": "{{outpost:rack-a}}",
        },
    }
    out = substitute_placeholders(event, FakeIds())
    assert out == {
        "account": "123456789012",
        "detail": {
            "awsRegion": "us-east-1",
            "requestParameters": {"vpcId": "vpc-1", "n": 3, "ok": True, "none": None},
            "resources": ["arn:aws:ec2:us-east-1:123456789012:subnet/subnet-2"],
            "rtb-3": "arn:aws:outposts:us-east-1:123456789012:outpost/op-1",
        },
    }
    assert event["account"] == "{{account}}"  # the input is left as it was


def test_a_placeholder_for_an_unknown_name_raises_scenario_error() -> None:
    with pytest.raises(ScenarioError) as caught:
        substitute_placeholders(
            {"detail": ["{{subnet:gone}}"]}, FakeIds(), source="x.yaml", path="steps[2].event"
        )
    assert caught.value.path == "steps[2].event.detail[0]"
    assert str(caught.value).startswith("x.yaml: steps[2].event.detail[0]: {{subnet:gone}}")


def test_an_unknown_placeholder_raises_scenario_error() -> None:
    with pytest.raises(ScenarioError, match=r"unknown placeholder \{\{vpcid:app\}\}"):
        substitute_placeholders("{{vpcid:app}}", FakeIds())


def test_text_without_placeholders_is_unchanged() -> None:
    assert substitute_placeholders({"a": "{b} {{ }", "c": [1.5]}, FakeIds()) == {
        "a": "{b} {{ }",
        "c": [1.5],
    }
