"""Scenario files with several accounts (docs/scenario-format.md, "Several accounts"): what
parses, and each mistake as one line ``FILE: PATH: PROBLEM``."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from .test_scenario_round_two import error_of, parse


def doc(**extra: Any) -> dict[str, Any]:
    """A network account's two racks shared with a workload account; a VPC in each account."""
    base: dict[str, Any] = {
        "accounts": [{"name": "network"}, {"name": "workload"}],
        "outposts": [
            {"name": "rack-a", "account": "network", "shared_with": ["workload"]},
            {"name": "rack-b", "account": "network", "shared_with": ["workload"]},
        ],
        "vpcs": [
            {"name": "core", "cidr": "10.1.0.0/16"},
            {"name": "app", "cidr": "10.7.0.0/16", "account": "workload"},
        ],
        "route_tables": [{"name": "rt-a", "vpc": "app"}, {"name": "rt-core", "vpc": "core"}],
        "subnets": [
            {
                "name": "app-a",
                "vpc": "app",
                "cidr": "10.7.1.0/24",
                "outpost": "rack-a",
                "route_table": "rt-a",
            },
            {"name": "core-a", "vpc": "core", "cidr": "10.1.1.0/24", "outpost": "rack-a"},
        ],
    }
    base.update(extra)
    return base


def changed(path: tuple[str | int, ...], value: Any, **extra: Any) -> dict[str, Any]:
    """``doc()`` with the value at ``path`` replaced (``None``: the key removed)."""
    document = copy.deepcopy(doc(**extra))
    where: Any = document
    for part in path[:-1]:
        where = where[part]
    if value is None:
        del where[path[-1]]
    else:
        where[path[-1]] = value
    return document


def test_accounts_owners_and_shares_parse() -> None:
    scenario = parse(doc())
    assert scenario.accounts == ("network", "workload")
    owners = [(v.name, v.account) for v in scenario.vpcs]
    assert owners == [("core", "network"), ("app", "workload")]
    rack_a = scenario.outpost("rack-a")
    assert (rack_a.account, rack_a.shared_with) == ("network", ("workload",))
    assert rack_a.seen_by("network") and rack_a.seen_by("workload")
    assert scenario.vpcs_of("workload") == (scenario.vpc("app"),)


def test_without_accounts_everything_is_one_account_as_before() -> None:
    document = changed(("accounts",), None)
    for vpc in document["vpcs"]:
        vpc.pop("account", None)
    for outpost in document["outposts"]:
        outpost.pop("account"), outpost.pop("shared_with")
    scenario = parse(document)
    assert scenario.accounts == ()
    assert {v.account for v in scenario.vpcs} == {None}
    assert scenario.outpost("rack-a").seen_by(None)
    assert scenario.vpcs_of(None) == scenario.vpcs


def test_an_omitted_account_is_the_first_listed() -> None:
    scenario = parse(changed(("outposts", 0, "account"), None))
    assert scenario.outpost("rack-a").account == "network"
    assert scenario.vpc("core").account == "network"


CASES: list[tuple[str, dict[str, Any], str, str]] = [
    (
        "duplicate-account",
        changed(("accounts", 1), {"name": "network"}),
        "accounts[1].name",
        "duplicate account name 'network'",
    ),
    (
        "unknown-vpc-account",
        changed(("vpcs", 1, "account"), "workloda"),
        "vpcs[1].account",
        "unknown account 'workloda' (did you mean 'workload'?); known: network, workload",
    ),
    (
        "unknown-outpost-account",
        changed(("outposts", 1, "account"), "net"),
        "outposts[1].account",
        "unknown account 'net'",
    ),
    (
        "account-without-accounts",
        changed(("accounts",), None),
        "vpcs[1].account",
        "names an account, but the scenario has no `accounts` list",
    ),
    (
        "shared-with-its-owner",
        changed(("outposts", 0, "shared_with"), ["workload", "network"]),
        "outposts[0].shared_with[1]",
        "Outpost rack-a is account network's own",
    ),
    (
        "shared-with-unknown",
        changed(("outposts", 0, "shared_with"), ["nobody"]),
        "outposts[0].shared_with[0]",
        "unknown account 'nobody'",
    ),
    (
        "shared-twice",
        changed(("outposts", 0, "shared_with"), ["workload", "workload"]),
        "outposts[0].shared_with[1]",
        "listed twice",
    ),
    (
        "subnet-on-an-outpost-not-shared",
        changed(("outposts", 0, "shared_with"), None),
        "subnets[0].outpost",
        "Outpost rack-a is account network's and not shared with account workload (VPC app's): "
        "AWS refuses the subnet",
    ),
    (
        "created-subnet-on-an-outpost-not-shared",
        changed(
            ("outposts", 1, "shared_with"),
            None,
            steps=[
                {
                    "create_subnet": {
                        "name": "app-b",
                        "vpc": "app",
                        "cidr": "10.7.2.0/24",
                        "outpost": "rack-b",
                    }
                }
            ],
        ),
        "steps[0].create_subnet.outpost",
        "not shared with account workload",
    ),
    (
        "association-with-a-table-not-shared",
        changed(
            ("outposts", 1, "shared_with"),
            None,
            lgw_associations=[{"vpc": "app", "lgw_route_table": "rack-b"}],
        ),
        "lgw_associations[0].lgw_route_table",
        "AWS refuses the association",
    ),
    (
        "route-to-an-lgw-not-shared",
        changed(
            ("route_tables", 0, "routes"),
            [{"destination": "10.7.0.0/16", "target": "lgw:rack-b"}],
            outposts=[
                {"name": "rack-a", "account": "network", "shared_with": ["workload"]},
                {"name": "rack-b", "account": "network"},
            ],
        ),
        "route_tables[0].routes[0].target",
        "AWS refuses a route to its local gateway",
    ),
    (
        "names-unique-across-accounts",
        changed(("vpcs", 1, "name"), "core"),
        "vpcs[1].name",
        "duplicate VPC name 'core'",
    ),
    (
        "route-table-has-no-account",
        changed(("route_tables", 0, "account"), "workload"),
        "route_tables[0].account",
        "unknown key",
    ),
]


@pytest.mark.parametrize(
    ("document", "path", "problem"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_a_mistake_with_accounts_is_one_line_with_its_path(
    document: Any, path: str, problem: str
) -> None:
    err = error_of(document)
    assert err.path == path
    assert problem in err.problem
    assert str(err).startswith(f"test.yaml: {path}: ")
