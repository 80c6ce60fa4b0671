"""The format's second round in the loader: routing domains, tags, IPv6, settings and the new
steps parse into the model, and every mistake is one line ``FILE: PATH: PROBLEM``."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any

import pytest

from outpost_mesh_sandbox.scenario import (
    AdvanceClockStep,
    AssociateLgwRouteTableStep,
    AssociateVpcCidrStep,
    DisassociateLgwRouteTableStep,
    LgwAssociationSpec,
    LgwRouteTableSpec,
    ReleaseStep,
    Scenario,
    ScenarioError,
    SetMainRouteTableStep,
    SettingsSpec,
    TagStep,
    UntagStep,
    parse_scenario,
    values,
)
from outpost_mesh_sandbox.scenario.ids import IdMap
from outpost_mesh_sandbox.stack.template import load_template

ROOT = Path(__file__).resolve().parents[2]


def doc(**extra: Any) -> dict[str, Any]:
    """Two racks (rack-a second generation with two tables), one VPC, a table and subnet each."""
    base: dict[str, Any] = {
        "vpcs": [{"name": "app", "cidr": "10.7.0.0/16"}],
        "outposts": [
            {
                "name": "rack-a",
                "generation": 2,
                "lgw_route_tables": [{"name": "coip-dmz", "mode": "coip"}, {"name": "dvr-prod"}],
            },
            {"name": "rack-b"},
        ],
        "route_tables": [{"name": "rt-a", "vpc": "app"}, {"name": "rt-b", "vpc": "app"}],
        "subnets": [
            {"name": "a", "vpc": "app", "cidr": "10.7.1.0/24", "outpost": "rack-a"},
            {"name": "b", "vpc": "app", "cidr": "10.7.2.0/24", "outpost": "rack-b"},
        ],
    }
    base.update(extra)
    return base


def parse(document: object) -> Scenario:
    return parse_scenario(document, "test.yaml", "test")


def error_of(document: object) -> ScenarioError:
    with pytest.raises(ScenarioError) as caught:
        parse(document)
    assert "\n" not in str(caught.value)
    return caught.value


def steps(*items: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return doc(steps=list(items), **extra)


# -- what parses --------------------------------------------------------------------------------
def test_routing_domains_and_associations_parse() -> None:
    scenario = parse(doc(lgw_associations=[{"vpc": "app", "lgw_route_table": "coip-dmz"}]))
    rack_a, rack_b = scenario.outposts
    assert rack_a.generation == 2 and rack_a.lgw_mode == "coip"
    assert rack_a.tables == (
        LgwRouteTableSpec("coip-dmz", "coip"),
        LgwRouteTableSpec("dvr-prod", "direct-vpc-routing", True, "available"),
    )
    assert rack_b.generation == 1
    assert rack_b.tables == (LgwRouteTableSpec("rack-b"),)  # the default table
    assert scenario.lgw_associations == (LgwAssociationSpec("app", "coip-dmz"),)
    assert scenario.lgw_route_table("dvr-prod")[0] is rack_a


def test_tags_and_ipv6_parse() -> None:
    scenario = parse(
        doc(
            vpcs=[
                {
                    "name": "app",
                    "cidr": "10.7.0.0/16",
                    "ipv6_cidr": "2600:1f14:aaaa:ab00::/56",
                    "tags": {"team": "net"},
                }
            ],
            route_tables=[{"name": "rt-a", "vpc": "app", "tags": {"outpost-mesh:opt-out": ""}}],
            subnets=[
                {
                    "name": "a",
                    "vpc": "app",
                    "cidr": "10.7.1.0/24",
                    "ipv6_cidr": "2600:1f14:aaaa:ab07::/64",
                    "tags": {"k": "v"},
                }
            ],
        )
    )
    assert scenario.vpcs[0].ipv6_cidr == "2600:1f14:aaaa:ab00::/56"
    assert scenario.vpcs[0].tags == (("team", "net"),)
    assert scenario.route_tables[0].tags == (("outpost-mesh:opt-out", ""),)
    assert scenario.subnets[0].ipv6_cidr == "2600:1f14:aaaa:ab07::/64"
    assert scenario.subnets[0].tags == (("k", "v"),)


def test_settings_become_stack_parameters_with_the_route_quota_from_quotas() -> None:
    assert parse(doc()).settings == SettingsSpec()
    assert parse(doc()).settings.parameters() == {}
    scenario = parse(
        doc(
            quotas={"routes_per_table": 70},
            settings={
                "report_only": True,
                "managed_vpcs": "opt-in",
                "opt_in_tag_key": "team:mesh",
                "opt_out_tag_key": "team:no-mesh",
                "apply_max_concurrency": 2,
                "delete_threshold_percent": 50,
                "delete_min_owned_routes": 0,
                "quarantine_minutes": 15,
                "lease_seconds": 120,
            },
        )
    )
    assert scenario.settings.parameters() == {
        "ReportOnly": "true",
        "ManagedVpcs": "opt-in",
        "OptInTagKey": "team:mesh",
        "OptOutTagKey": "team:no-mesh",
        "ApplyMaxConcurrency": "2",
        "RoutesPerTableQuota": "70",
        "DeleteThresholdPercent": "50",
        "DeleteMinOwnedRoutes": "0",
        "QuarantineMinutes": "15",
        "LeaseSeconds": "120",
    }
    given = parse(doc(quotas={"routes_per_table": 70}, settings={"routes_per_table_quota": 9}))
    assert given.settings.parameters() == {"RoutesPerTableQuota": "9"}


def test_every_setting_names_a_template_parameter_within_its_limits() -> None:
    parameters = load_template(ROOT / "template.yaml").doc["Parameters"]
    assert set(SettingsSpec.PARAMETERS.values()) <= set(parameters)
    limits = {
        "ApplyMaxConcurrency": values.APPLY_MAX_CONCURRENCY,
        "DeleteThresholdPercent": values.DELETE_THRESHOLD_PERCENT,
        "DeleteMinOwnedRoutes": values.DELETE_MIN_OWNED_ROUTES,
        "LeaseSeconds": values.LEASE_SECONDS,
    }
    for name, (low, high) in limits.items():
        assert (parameters[name]["MinValue"], parameters[name]["MaxValue"]) == (low, high)
    assert tuple(parameters["QuarantineMinutes"]["AllowedValues"]) == values.QUARANTINE_MINUTES
    assert tuple(parameters["ManagedVpcs"]["AllowedValues"]) == values.MANAGED_VPCS
    assert parameters["OptOutTagKey"]["MaxLength"] == values.TAG_KEY_LENGTH


def test_every_new_step_parses_with_its_label() -> None:
    scenario = parse(
        steps(
            {"associate_lgw_route_table": {"vpc": "app", "lgw_route_table": "dvr-prod"}},
            {"disassociate_lgw_route_table": {"vpc": "app", "lgw_route_table": "dvr-prod"}},
            {"tag": {"lgw_route_table": "dvr-prod", "tags": {"outpost-mesh:routing-domain": "*"}}},
            {"untag": {"subnet": "a", "keys": ["team"]}},
            {"associate_vpc_cidr": {"vpc": "app", "cidr": "10.8.0.0/16"}},
            {"set_main_route_table": {"vpc": "app", "route_table": "rt-b"}},
            {"release": {"outpost": "rack-a"}},
            {"advance_clock": {"seconds": 900}},
            {"together": [{"tag": {"vpc": "app", "tags": {"a": "b"}}}], "quiet": True},
        )
    )
    assert scenario.steps[:8] == (
        AssociateLgwRouteTableStep("app", "dvr-prod"),
        DisassociateLgwRouteTableStep("app", "dvr-prod"),
        TagStep("lgw_route_table", "dvr-prod", (("outpost-mesh:routing-domain", "*"),)),
        UntagStep("subnet", "a", ("team",)),
        AssociateVpcCidrStep("app", "10.8.0.0/16"),
        SetMainRouteTableStep("app", "rt-b"),
        ReleaseStep("rack-a"),
        AdvanceClockStep(900),
    )
    assert [s.label for s in scenario.steps] == [
        "associate_lgw_route_table app -> dvr-prod",
        "disassociate_lgw_route_table app -> dvr-prod",
        "tag lgw_route_table dvr-prod outpost-mesh:routing-domain=*",
        "untag subnet a team",
        "associate_vpc_cidr app 10.8.0.0/16",
        "set_main_route_table app -> rt-b",
        "release rack-a",
        "advance_clock 900s",
        "together (1 step)",
    ]


def test_an_association_may_follow_a_disassociation_on_the_same_outpost() -> None:
    parse(
        steps(
            {"associate_lgw_route_table": {"vpc": "app", "lgw_route_table": "coip-dmz"}},
            {"disassociate_lgw_route_table": {"vpc": "app", "lgw_route_table": "coip-dmz"}},
            {"associate_lgw_route_table": {"vpc": "app", "lgw_route_table": "dvr-prod"}},
        )
    )


def test_a_seeded_lgw_route_implies_the_first_available_table() -> None:
    document = doc(
        outposts=[
            {"name": "rack-a", "lgw_route_tables": [{"name": "new", "state": "pending"}]},
            {"name": "rack-b"},
        ],
        route_tables=[
            {
                "name": "rt-a",
                "vpc": "app",
                "routes": [{"destination": "10.7.2.0/24", "target": "lgw:rack-a"}],
            }
        ],
        subnets=[
            {
                "name": "a",
                "vpc": "app",
                "cidr": "10.7.1.0/24",
                "outpost": "rack-a",
                "route_table": "rt-a",
            },
            {"name": "b", "vpc": "app", "cidr": "10.7.2.0/24", "outpost": "rack-b"},
        ],
    )
    err = error_of(document)
    assert err.path == "route_tables[0].routes[0].target"
    assert "none is available" in err.problem


def test_the_ipv6_block_of_a_subnet_keeps_its_offset_in_the_block_aws_gave() -> None:
    ids = IdMap(account="123456789012", region="us-east-1")
    ids.add_ipv6_block("app", "2600:1f14:aaaa:ab00::/56", "2400:6500:12f9:6f00::/56")
    actual = ids.ipv6_in_sandbox("app", "2600:1f14:aaaa:ab07::/64")
    assert actual == "2400:6500:12f9:6f07::/64"
    assert ipaddress.IPv6Network(actual).prefixlen == 64
    assert ids.scenario_cidrs()[actual] == "2600:1f14:aaaa:ab07::/64"


# -- mistakes ------------------------------------------------------------------------------------
TWO_ACTIVE = [{"name": "t1"}, {"name": "t2"}]
DVR_ASSOC = {"vpc": "app", "lgw_route_table": "dvr-prod"}
CASES: list[tuple[str, dict[str, Any], str, str]] = [
    (
        "mode-and-tables",
        doc(outposts=[{"name": "r", "lgw_mode": "coip", "lgw_route_tables": [{"name": "t"}]}]),
        "outposts[0].lgw_mode",
        "not both",
    ),
    (
        "duplicate-table",
        doc(outposts=[{"name": "r", "lgw_route_tables": [{"name": "t"}, {"name": "t"}]}]),
        "outposts[0].lgw_route_tables[1].name",
        "duplicate LGW route table name 't'",
    ),
    (
        "default-table-name-taken",
        doc(outposts=[{"name": "r", "lgw_route_tables": [{"name": "s"}]}, {"name": "s"}]),
        "outposts[1].name",
        "duplicate LGW route table name 's'",
    ),
    (
        "gen1-two-active",
        doc(outposts=[{"name": "r", "lgw_route_tables": TWO_ACTIVE}]),
        "outposts[0].lgw_route_tables",
        "a generation 1 rack has at most 1 active LGW route table",
    ),
    (
        "gen2-eleven-active",
        doc(
            outposts=[
                {
                    "name": "r",
                    "generation": 2,
                    "lgw_route_tables": [{"name": f"t{i}"} for i in range(11)],
                }
            ]
        ),
        "outposts[0].lgw_route_tables",
        "at most 10 active",
    ),
    (
        "generation-3",
        doc(outposts=[{"name": "r", "generation": 3}]),
        "outposts[0].generation",
        "1 or 2",
    ),
    (
        "empty-tables",
        doc(outposts=[{"name": "r", "lgw_route_tables": []}]),
        "outposts[0].lgw_route_tables",
        "at least one table",
    ),
    (
        "table-state",
        doc(outposts=[{"name": "r", "lgw_route_tables": [{"name": "t", "state": "deleted"}]}]),
        "outposts[0].lgw_route_tables[0].state",
        "unknown state 'deleted'",
    ),
    (
        "second-domain",
        doc(lgw_associations=[{"vpc": "app", "lgw_route_table": "coip-dmz"}, DVR_ASSOC]),
        "lgw_associations[1].lgw_route_table",
        "one LGW route table (routing domain) per Outpost",
    ),
    (
        "pending-table-association",
        doc(
            outposts=[{"name": "r", "lgw_route_tables": [{"name": "t", "state": "pending"}]}],
            subnets=[],
            route_tables=[],
            lgw_associations=[{"vpc": "app", "lgw_route_table": "t"}],
        ),
        "lgw_associations[0].lgw_route_table",
        "is pending",
    ),
    (
        "unknown-table",
        doc(lgw_associations=[{"vpc": "app", "lgw_route_table": "dvr-prd"}]),
        "lgw_associations[0].lgw_route_table",
        "did you mean 'dvr-prod'?",
    ),
    (
        "association-vpc",
        doc(lgw_associations=[{"vpc": "ap", "lgw_route_table": "dvr-prod"}]),
        "lgw_associations[0].vpc",
        "unknown VPC 'ap'",
    ),
    (
        "step-second-domain",
        steps(
            {"associate_lgw_route_table": DVR_ASSOC},
            {"associate_lgw_route_table": {"vpc": "app", "lgw_route_table": "coip-dmz"}},
        ),
        "steps[1].associate_lgw_route_table.lgw_route_table",
        "is associated with dvr-prod of Outpost rack-a",
    ),
    (
        "subnet-ipv6-without-vpc-block",
        doc(subnets=[{"name": "a", "vpc": "app", "cidr": "10.7.1.0/24", "ipv6_cidr": "2600::/64"}]),
        "subnets[0].ipv6_cidr",
        "VPC app has no ipv6_cidr",
    ),
    (
        "vpc-ipv6-size",
        doc(vpcs=[{"name": "app", "cidr": "10.7.0.0/16", "ipv6_cidr": "2600::/64"}]),
        "vpcs[0].ipv6_cidr",
        "AWS gives a /56 here",
    ),
    (
        "ipv4-as-ipv6",
        doc(vpcs=[{"name": "app", "cidr": "10.7.0.0/16", "ipv6_cidr": "10.9.0.0/16"}]),
        "vpcs[0].ipv6_cidr",
        "is IPv4",
    ),
    (
        "subnet-ipv6-outside",
        doc(
            vpcs=[{"name": "app", "cidr": "10.7.0.0/16", "ipv6_cidr": "2600:0:0:ab00::/56"}],
            subnets=[{"name": "a", "vpc": "app", "cidr": "10.7.1.0/24", "ipv6_cidr": "2600::/64"}],
        ),
        "subnets[0].ipv6_cidr",
        "not inside VPC app's ipv6_cidr",
    ),
    (
        "subnet-ipv6-overlap",
        doc(
            vpcs=[{"name": "app", "cidr": "10.7.0.0/16", "ipv6_cidr": "2600:0:0:ab00::/56"}],
            subnets=[
                {
                    "name": "a",
                    "vpc": "app",
                    "cidr": "10.7.1.0/24",
                    "ipv6_cidr": "2600:0:0:ab01::/64",
                },
                {
                    "name": "b",
                    "vpc": "app",
                    "cidr": "10.7.2.0/24",
                    "ipv6_cidr": "2600:0:0:ab01::/64",
                },
            ],
        ),
        "subnets[1].ipv6_cidr",
        "subnet a's IPv6 block too",
    ),
    (
        "name-tag",
        doc(vpcs=[{"name": "app", "cidr": "10.7.0.0/16", "tags": {"Name": "x"}}]),
        "vpcs[0].tags.Name",
        "Name tag",
    ),
    (
        "aws-tag",
        doc(route_tables=[{"name": "rt-a", "vpc": "app", "tags": {"aws:x": "y"}}]),
        "route_tables[0].tags.aws:x",
        "reserved by AWS",
    ),
    (
        "tag-two-resources",
        steps({"tag": {"vpc": "app", "subnet": "a", "tags": {"k": "v"}}}),
        "steps[0].tag",
        "name one resource",
    ),
    (
        "tag-nothing",
        steps({"tag": {"vpc": "app", "tags": {}}}),
        "steps[0].tag.tags",
        "at least one tag",
    ),
    (
        "untag-no-keys",
        steps({"untag": {"vpc": "app", "keys": []}}),
        "steps[0].untag.keys",
        "at least one key",
    ),
    (
        "tag-deleted-subnet",
        steps({"delete_subnet": {"name": "a"}}, {"tag": {"subnet": "a", "tags": {"k": "v"}}}),
        "steps[1].tag.subnet",
        "was deleted by an earlier step",
    ),
    (
        "tag-placeholder",
        steps({"tag": {"vpc": "app", "tags": {"k": "{{vpc:nope}}"}}}),
        "steps[0].tag.tags.k",
        "names no vpc",
    ),
    (
        "main-of-another-vpc",
        steps(
            {"set_main_route_table": {"vpc": "other", "route_table": "rt-a"}},
            vpcs=[{"name": "app", "cidr": "10.7.0.0/16"}, {"name": "other", "cidr": "10.9.0.0/16"}],
        ),
        "steps[0].set_main_route_table.route_table",
        "belongs to VPC app, not other",
    ),
    (
        "cidr-overlap",
        steps({"associate_vpc_cidr": {"vpc": "app", "cidr": "10.7.128.0/17"}}),
        "steps[0].associate_vpc_cidr.cidr",
        "overlaps VPC app's 10.7.0.0/16",
    ),
    (
        "cidr-quota",
        steps(
            *(
                {"associate_vpc_cidr": {"vpc": "app", "cidr": f"10.{n}.0.0/16"}}
                for n in range(8, 13)
            )
        ),
        "steps[4].associate_vpc_cidr.cidr",
        "AWS's default quota is 5",
    ),
    (
        "clock",
        steps({"advance_clock": {"seconds": 0}}),
        "steps[0].advance_clock.seconds",
        "at least 1",
    ),
    (
        "release",
        steps({"release": {"outpost": "rack-z"}}),
        "steps[0].release.outpost",
        "unknown Outpost",
    ),
    (
        "release-in-together",
        steps({"together": [{"release": {"outpost": "rack-a"}}]}),
        "steps[0].together[0].release",
        "cannot be inside together",
    ),
    (
        "quarantine",
        doc(settings={"quarantine_minutes": 16}),
        "settings.quarantine_minutes",
        "QuarantineMinutes",
    ),
    ("lease", doc(settings={"lease_seconds": 59}), "settings.lease_seconds", "at least 60"),
    (
        "managed",
        doc(settings={"managed_vpcs": "some"}),
        "settings.managed_vpcs",
        "expected one of: all, opt-in",
    ),
    ("report-only", doc(settings={"report_only": "yes"}), "settings.report_only", "true or false"),
    (
        "setting-unknown",
        doc(settings={"lease_second": 60}),
        "settings.lease_second",
        "did you mean 'lease_seconds'?",
    ),
    (
        "approval-mode",
        doc(settings={"approval_mode": "some"}),
        "settings.approval_mode",
        "expected one of: none, deletions, all",
    ),
    (
        "approval-timeout",
        doc(settings={"approval_timeout_hours": 5}),
        "settings.approval_timeout_hours",
        "must be one of 1, 4, 8, 24, 72, 168",
    ),
    ("approve", steps({"approve": {"vpc": "ap"}}), "steps[0].approve.vpc", "unknown VPC"),
    ("reject", steps({"reject": {"vpc": "app", "why": "x"}}), "steps[0].reject.why", "unknown"),
    ("accounts-empty", doc(accounts=[]), "accounts", "at least one account"),
    (
        "vpc-account",
        doc(vpcs=[{"name": "app", "cidr": "10.7.0.0/16", "account": "network"}]),
        "vpcs[0].account",
        "the scenario has no `accounts` list",
    ),
    (
        "shared-with",
        doc(outposts=[{"name": "r", "shared_with": ["workload"]}]),
        "outposts[0].shared_with[0]",
        "the scenario has no `accounts` list",
    ),
]


@pytest.mark.parametrize(
    ("document", "path", "problem"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_a_mistake_is_one_line_with_its_path(document: Any, path: str, problem: str) -> None:
    err = error_of(document)
    assert err.path == path
    assert problem in err.problem
    assert str(err).startswith(f"test.yaml: {path}: ")


def test_an_lgw_route_in_the_new_main_table_must_serve_only_that_outpost() -> None:
    # subnet b (rack-b) has no table of its own: once rt-a is the main table, rt-a serves it.
    err = error_of(
        steps(
            {"set_main_route_table": {"vpc": "app", "route_table": "rt-a"}},
            {
                "add_route": {
                    "route_table": "rt-a",
                    "destination": "10.7.1.0/24",
                    "target": "lgw:rack-a",
                }
            },
        )
    )
    assert err.path == "steps[1].add_route.target"
    assert "rt-a serves b, not on rack-a" in err.problem
