"""The routing-domain rule (outpost_mesh.domains), one test per clause, and what the planner
does with its answer: which table it associates, which Outposts it leaves out and with what."""

from __future__ import annotations

from dataclasses import replace

import pytest

from outpost_mesh.domains import choose_domain
from outpost_mesh.model import (
    COIP,
    DIRECT_VPC_ROUTING,
    FindingKind,
    Ledger,
    LocalGatewayRouteTable,
    OwnedAssociation,
    Route,
    RouteTable,
    Subnet,
    Topology,
    VpcAssociation,
)
from outpost_mesh.planner import desired_state, plan_vpc, removal_plan
from outpost_mesh.verify import reachability

VPC = "vpc-0app"
ACCOUNT = "111122223333"
OP_A = "arn:aws:outposts:eu-west-1:111122223333:outpost/op-a"
OP_B = "arn:aws:outposts:eu-west-1:111122223333:outpost/op-b"


def table(
    name: str,
    outpost: str = OP_A,
    *,
    mode: str = DIRECT_VPC_ROUTING,
    state: str = "available",
    active: bool = True,
    tag: str | None = None,
) -> LocalGatewayRouteTable:
    gateway = "lgw-a" if outpost == OP_A else "lgw-b"
    return LocalGatewayRouteTable(
        outpost, gateway, f"lgw-rtb-{name}", mode, state, active, tag, name
    )


def assoc(name: str, state: str = "associated", who: str = "person") -> VpcAssociation:
    gateway = "lgw-b" if name.startswith("b") else "lgw-a"
    return VpcAssociation(f"lgw-vpc-assoc-{who}-{name}", f"lgw-rtb-{name}", VPC, state, gateway)


B_TABLE = table("b-dvr", OP_B)


def topology(
    *tables: LocalGatewayRouteTable,
    associations: tuple[VpcAssociation, ...] = (),
    owner: str = ACCOUNT,
) -> Topology:
    """Two racks, one subnet each with its own route table: rack a has ``tables``, rack b one
    usable table."""
    subnets = (
        Subnet("subnet-a", VPC, "10.7.1.0/24", OP_A),
        Subnet("subnet-b", VPC, "10.7.2.0/24", OP_B),
    )
    route_tables = (
        RouteTable("rtb-main", VPC, main=True, routes=(Route("10.7.0.0/16", "local"),)),
        RouteTable("rtb-a", VPC, subnet_ids=("subnet-a",)),
        RouteTable("rtb-b", VPC, subnet_ids=("subnet-b",)),
    )
    return Topology(
        VPC, ("10.7.0.0/16",), subnets, route_tables, (*tables, B_TABLE), associations, owner
    )


def finding_on_a(topo: Topology) -> tuple[FindingKind, str] | None:
    kinds = [(f.kind, f.message) for f in plan_vpc(topo, Ledger(VPC)).findings if f.subject == OP_A]
    return kinds[0] if kinds else None


def associated_tables(topo: Topology) -> list[str]:
    return [c.lgw_route_table_id for c in plan_vpc(topo, Ledger(VPC)).associations_to_create]


# -- rule 2: no association, one usable table -----------------------------------------------
def test_the_one_usable_table_is_used_whatever_is_listed_first() -> None:
    topo = topology(
        table("coip", mode=COIP),
        table("pending", state="pending"),
        table("idle", active=False),
        table("dvr"),
    )

    assert choose_domain(topo, OP_A).table == table("dvr")
    assert associated_tables(topo) == ["lgw-rtb-b-dvr", "lgw-rtb-dvr"]
    assert finding_on_a(topo) is None


@pytest.mark.parametrize(
    "unusable",
    [
        table("coip", mode=COIP),
        table("pending", state="pending"),
        table("deleting", state="deleting"),
        table("idle", active=False),
    ],
    ids=["coip", "pending", "deleting", "no-vif-group"],
)
def test_an_unusable_table_is_never_chosen(unusable: LocalGatewayRouteTable) -> None:
    topo = topology(unusable, table("dvr"))

    assert choose_domain(topo, OP_A).table == table("dvr")


# -- rule 3: several usable tables ------------------------------------------------------------
def test_two_untagged_usable_tables_are_ambiguous_and_leave_the_outpost_out() -> None:
    topo = topology(table("dvr-1"), table("dvr-2"))

    kind, message = finding_on_a(topo) or (None, "")
    assert kind is FindingKind.AMBIGUOUS_ROUTING_DOMAIN
    assert "outpost-mesh:routing-domain" in message and "lgw-rtb-dvr-1" in message
    assert associated_tables(topo) == []  # rack b alone has nothing to pair with
    assert plan_vpc(topo, Ledger(VPC)).routes_to_create == ()


@pytest.mark.parametrize("value", [VPC, "*"])
def test_the_tagged_table_is_chosen(value: str) -> None:
    topo = topology(table("dvr-1"), table("dvr-2", tag=value))

    assert choose_domain(topo, OP_A).table == table("dvr-2", tag=value)
    assert associated_tables(topo) == ["lgw-rtb-b-dvr", "lgw-rtb-dvr-2"]


def test_a_tag_for_this_vpc_wins_over_a_tag_for_every_vpc() -> None:
    topo = topology(table("dvr-1", tag="*"), table("dvr-2", tag=VPC))

    assert choose_domain(topo, OP_A).table == table("dvr-2", tag=VPC)


def test_a_tag_for_another_vpc_does_not_count() -> None:
    topo = topology(table("dvr-1", tag="vpc-0other"), table("dvr-2"))

    assert choose_domain(topo, OP_A).kind is FindingKind.AMBIGUOUS_ROUTING_DOMAIN


@pytest.mark.parametrize("value", [VPC, "*"])
def test_two_equal_tags_are_ambiguous(value: str) -> None:
    topo = topology(table("dvr-1", tag=value), table("dvr-2", tag=value), table("dvr-3"))

    assert choose_domain(topo, OP_A).kind is FindingKind.AMBIGUOUS_ROUTING_DOMAIN


def test_a_tag_on_an_unusable_table_does_not_make_it_usable() -> None:
    topo = topology(table("idle", active=False, tag=VPC), table("dvr"))

    assert choose_domain(topo, OP_A).table == table("dvr")


# -- rule 1: an association decides -----------------------------------------------------------
def test_a_persons_association_with_one_of_two_usable_tables_decides() -> None:
    topo = topology(table("dvr-1"), table("dvr-2"), associations=(assoc("dvr-2"),))

    choice = choose_domain(topo, OP_A)
    assert choice.table == table("dvr-2") and choice.association == assoc("dvr-2")
    assert associated_tables(topo) == ["lgw-rtb-b-dvr"]  # never a second one on rack a


def test_an_association_decides_even_against_the_tag() -> None:
    topo = topology(table("dvr-1"), table("dvr-2", tag=VPC), associations=(assoc("dvr-1"),))

    assert choose_domain(topo, OP_A).table == table("dvr-1")


def test_a_vpc_in_the_coip_domain_stays_out_and_no_other_table_is_associated() -> None:
    topo = topology(table("coip", mode=COIP), table("dvr"), associations=(assoc("coip"),))

    kind, message = finding_on_a(topo) or (None, "")
    assert kind is FindingKind.COIP_MODE
    assert "lgw-rtb-coip" in message
    assert associated_tables(topo) == []
    assert plan_vpc(topo, Ledger(VPC)).routes_to_create == ()


@pytest.mark.parametrize(
    "held",
    [table("dvr", state="pending"), table("dvr", active=False), table("dvr", state="deleting")],
    ids=["pending", "no-vif-group", "deleting"],
)
def test_an_association_with_an_unusable_table_is_no_routing_domain(
    held: LocalGatewayRouteTable,
) -> None:
    topo = topology(held, table("dvr-2"), associations=(assoc("dvr"),))

    kind, _ = finding_on_a(topo) or (None, "")
    assert kind is FindingKind.NO_ROUTING_DOMAIN
    assert associated_tables(topo) == []


def test_an_association_still_associating_decides_too() -> None:
    topo = topology(table("dvr-1"), table("dvr-2"), associations=(assoc("dvr-1", "associating"),))

    assert choose_domain(topo, OP_A).table == table("dvr-1")


def test_a_dead_association_does_not_decide() -> None:
    topo = topology(table("coip", mode=COIP), table("dvr"), associations=(assoc("coip", "failed"),))

    assert choose_domain(topo, OP_A).table == table("dvr")


def test_a_persons_association_is_satisfied_and_never_deleted() -> None:
    """It is used (no new association) and a teardown, owning nothing, leaves it."""
    topo = topology(table("dvr"), associations=(assoc("dvr"),))
    ledger = Ledger(VPC, associations=(OwnedAssociation("lgw-vpc-assoc-ours-b", "lgw-rtb-b-dvr"),))

    assert removal_plan(topo, ledger).associations_to_delete == ()
    assert [c.lgw_route_table_id for c in plan_vpc(topo, ledger).associations_to_create] == [
        "lgw-rtb-b-dvr"
    ]


# -- rule 4: no usable table ------------------------------------------------------------------
def test_only_coip_tables_active_is_coip_mode() -> None:
    topo = topology(table("coip", mode=COIP), table("spare", active=False))

    assert choose_domain(topo, OP_A).kind is FindingKind.COIP_MODE


@pytest.mark.parametrize(
    "tables",
    [
        (table("pending", state="pending"),),
        (table("idle", active=False),),
        (table("idle", active=False), table("coip", mode=COIP, state="pending")),
        (),
    ],
    ids=["pending", "no-vif-group", "nothing-active", "none-visible"],
)
def test_nothing_usable_and_not_all_coip_is_no_routing_domain(
    tables: tuple[LocalGatewayRouteTable, ...],
) -> None:
    topo = topology(*tables)

    kind, _ = finding_on_a(topo) or (None, "")
    assert kind is FindingKind.NO_ROUTING_DOMAIN
    assert associated_tables(topo) == []


# -- the answer everywhere ---------------------------------------------------------------------
def test_the_plan_names_the_routing_domain_of_every_outpost() -> None:
    topo = topology(table("coip", mode=COIP), table("dvr-prod"))

    domains = {
        d["outpost_arn"]: d for d in plan_vpc(topo, Ledger(VPC)).to_dict()["routing_domains"]
    }
    assert domains[OP_A]["lgw_route_table_id"] == "lgw-rtb-dvr-prod"
    assert domains[OP_A]["name"] == "dvr-prod"
    assert domains[OP_B]["lgw_route_table_id"] == "lgw-rtb-b-dvr"


def test_reachability_holds_routes_to_the_chosen_domain() -> None:
    """A route to the LGW is not enough: the VPC must be associated with a usable domain."""
    routes_a = (Route("10.7.2.0/24", "lgw-a"), Route("10.7.0.0/16", "local"))
    routes_b = (Route("10.7.1.0/24", "lgw-b"), Route("10.7.0.0/16", "local"))
    base = topology(table("coip", mode=COIP), table("dvr"))
    tables = tuple(
        replace(t, routes=routes_a if t.route_table_id == "rtb-a" else routes_b)
        for t in base.route_tables
    )
    in_dvr = replace(
        base,
        route_tables=tables,
        associations=(assoc("dvr"), assoc("b-dvr")),
    )
    in_coip = replace(in_dvr, associations=(assoc("coip"), assoc("b-dvr")))

    assert all(p.reachable for p in reachability(in_dvr))
    broken = {p.key: p for p in reachability(in_coip)}
    assert not broken[("subnet-a", "subnet-b")].reachable
    assert broken[("subnet-b", "subnet-a")].reachable  # a is still advertised by its LGW
    assert "coip" in broken[("subnet-a", "subnet-b")].reason


# -- ownership ---------------------------------------------------------------------------------
def test_a_vpc_shared_in_by_another_account_gets_one_finding_and_no_change() -> None:
    topo = topology(table("dvr"), owner="999988887777")
    ledger = Ledger(VPC)

    plan = plan_vpc(topo, ledger, account_id=ACCOUNT)
    assert [f.kind for f in plan.findings] == [FindingKind.NOT_OWNER]
    assert plan.findings[0].subject == VPC
    assert not plan.has_changes
    assert desired_state(topo, account_id=ACCOUNT).expected_pairs == frozenset()
    assert removal_plan(topo, ledger, ACCOUNT).findings == plan.findings
    # The same VPC in its owner's account is meshed.
    assert plan_vpc(topo, ledger, account_id="999988887777").routes_to_create


def test_a_shared_in_vpc_without_outpost_subnets_is_not_reported() -> None:
    topo = replace(topology(table("dvr"), owner="999988887777"), subnets=())

    assert plan_vpc(topo, Ledger(VPC), account_id=ACCOUNT).findings == ()
