"""The ledger's record codecs (outpost_mesh.ledger.items): every record type round-trips through
its codec, and encodes to the very items the table already holds (the layout is a contract with
existing tables: same keys, attribute names and DynamoDB types). Pure: no AWS, no sandbox."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from outpost_mesh.ledger.codec import encode, key, number, stored_key, text, texts
from outpost_mesh.ledger.items import (
    AssociationItem,
    FindingItem,
    LeaseItem,
    LocationItem,
    ManagedVpcItem,
    Owned,
    PlanBatchItem,
    Quarantine,
    QuarantineItems,
    RouteItem,
    decode_owned,
)
from outpost_mesh.model import Finding, FindingKind, OwnedAssociation, OwnedRoute

VPC = "vpc-0a1b2c3d4e5f60718"
AT = 1_700_000_123
ROUTE = OwnedRoute("rtb-1", "10.7.11.0/24", "lgw-1", "subnet-b", ("subnet-a", "subnet-c"))
ASSOC = OwnedAssociation(
    "lgw-vpc-assoc-1", "lgw-rtb-1", "arn:aws:outposts:us-east-1:1:outpost/op-1"
)
ARN = "arn:aws:outposts:us-east-1:123456789012:outpost/op-0123456789abcdef0"


def S(value: str) -> dict[str, str]:  # DynamoDB's own letters
    return {"S": value}


def N(value: int) -> dict[str, str]:
    return {"N": str(value)}


ids = st.text(min_size=1, max_size=40)
any_text = st.text(max_size=60)


# -- the layout existing tables hold ------------------------------------------------------------
def test_a_route_item_is_the_layout_tables_hold() -> None:
    assert RouteItem.encode(VPC, ROUTE, "exec-1", AT) == {
        "pk": S(f"VPC#{VPC}"),
        "sk": S("ROUTE#rtb-1#10.7.11.0/24"),
        "route_table_id": S("rtb-1"),
        "destination": S("10.7.11.0/24"),
        "local_gateway_id": S("lgw-1"),
        "destination_subnet_id": S("subnet-b"),
        "source_subnet_ids": {"L": [S("subnet-a"), S("subnet-c")]},
        "owner": S("exec-1"),
        "created_at": N(AT),
        "fleet": S("VPC"),
        "fleet_sk": S(f"{VPC}#ROUTE#rtb-1#10.7.11.0/24"),
    }
    bare = RouteItem.encode(VPC, OwnedRoute("rtb-1", "10.0.0.0/24", "lgw-1"), "cli", AT)
    assert bare["destination_subnet_id"] == S("")
    assert bare["source_subnet_ids"] == {"L": []}


def test_an_association_item_is_the_layout_tables_hold() -> None:
    assert AssociationItem.encode(VPC, ASSOC, "exec-1", AT) == {
        "pk": S(f"VPC#{VPC}"),
        "sk": S("ASSOC#lgw-vpc-assoc-1"),
        "association_id": S("lgw-vpc-assoc-1"),
        "lgw_route_table_id": S("lgw-rtb-1"),
        "outpost_arn": S(ASSOC.outpost_arn),
        "owner": S("exec-1"),
        "created_at": N(AT),
        "fleet": S("VPC"),
        "fleet_sk": S(f"{VPC}#ASSOC#lgw-vpc-assoc-1"),
    }


def test_a_finding_item_is_the_layout_tables_hold() -> None:
    finding = Finding(FindingKind.COIP_MODE, "subnet-1", "rack in CoIP mode")
    item = FindingItem.encode(VPC, finding, "plan", AT)
    assert item == {
        "pk": S(f"FINDINGS#{VPC}"),
        "sk": S("coip-mode#subnet-1"),
        "kind": S("coip-mode"),
        "subject": S("subnet-1"),
        "message": S("rack in CoIP mode"),
        "source": S("plan"),
        "last_seen": N(AT),
        "fleet": S("VPC"),
        "fleet_sk": S(f"{VPC}#coip-mode#subnet-1"),
    }
    # the kind goes out as a plain string, not the enum member
    assert type(item["kind"]["S"]) is str


def test_the_quarantine_items_are_the_layout_tables_hold() -> None:
    detail, index = QuarantineItems.encode(Quarantine(ARN, AT, "no route propagation"))
    assert detail == {
        "pk": S(f"OUTPOST#{ARN}"),
        "sk": S("QUARANTINE"),
        "outpost_arn": S(ARN),
        "until": N(AT),
        "reason": S("no route propagation"),
    }
    assert index == {"pk": S("QUARANTINED"), "sk": S(ARN), "until": N(AT)}


def test_a_plan_batch_item_is_the_layout_tables_hold() -> None:
    batch = {"vpc_id": VPC, "creates": [{"destination": "10.0.0.0/24"}], "deletes": []}
    assert PlanBatchItem.encode("exec-1", "000000000000001-00000", batch, AT) == {
        "pk": S("PLAN#exec-1"),
        "sk": S("000000000000001-00000"),
        "body": S(
            '{"vpc_id":"' + VPC + '","creates":[{"destination":"10.0.0.0/24"}],"deletes":[]}'
        ),
        "ttl": N(AT),
    }


def test_the_location_and_managed_vpc_items_are_the_layout_tables_hold() -> None:
    assert LocationItem.encode("SUBNET", "subnet-1", VPC) == {
        "pk": S("SUBNET#subnet-1"),
        "sk": S("VPC"),
        "vpc_id": S(VPC),
    }
    assert LocationItem.encode("RTB", "rtb-1", VPC)["pk"] == S("RTB#rtb-1")
    assert ManagedVpcItem.encode(VPC) == {
        "pk": S("MANAGED"),
        "sk": S(f"VPC#{VPC}"),
        "vpc_id": S(VPC),
        "fleet": S("VPC"),
        "fleet_sk": S(f"{VPC}#MANAGED"),
    }


def test_keys_and_expression_values() -> None:
    assert key("VPC#vpc-1", "LEASE") == {"pk": S("VPC#vpc-1"), "sk": S("LEASE")}
    assert LeaseItem.key("vpc-1") == key("VPC#vpc-1", "LEASE")
    assert encode({":me": "exec-1", ":exp": 1_700_000_900, ":zero": 0}) == {
        ":me": S("exec-1"),
        ":exp": N(1_700_000_900),
        ":zero": N(0),
    }
    item = {"pk": S("FINDINGS#vpc-1"), "sk": S("conflict#x"), "kind": S("conflict")}
    assert stored_key(item) == {"pk": S("FINDINGS#vpc-1"), "sk": S("conflict#x")}


# -- round trips --------------------------------------------------------------------------------
routes = st.builds(OwnedRoute, ids, ids, ids, any_text, st.lists(ids, max_size=5).map(tuple))


@given(route=routes, owner=ids, at=st.integers(min_value=0, max_value=2**40))
def test_routes_round_trip(route: OwnedRoute, owner: str, at: int) -> None:
    item = RouteItem.encode(VPC, route, owner, at)
    assert RouteItem.decode(item) == Owned(route, owner, at)
    assert decode_owned(item) == Owned(route, owner, at)
    assert text(item, "sk") == RouteItem.sk(route.route_table_id, route.destination)


@given(association=ids, table=ids, arn=any_text, owner=ids, at=st.integers(0, 2**40))
def test_associations_round_trip(
    association: str, table: str, arn: str, owner: str, at: int
) -> None:
    assoc = OwnedAssociation(association, table, arn)
    item = AssociationItem.encode(VPC, assoc, owner, at)
    assert AssociationItem.decode(item) == Owned(assoc, owner, at)
    assert decode_owned(item) == Owned(assoc, owner, at)


@given(kind=st.sampled_from(list(FindingKind)), subject=ids, message=any_text)
def test_findings_round_trip(kind: FindingKind, subject: str, message: str) -> None:
    finding = Finding(kind, subject, message)
    item = FindingItem.encode(VPC, finding, "workflow", AT)
    decoded = FindingItem.decode(item)
    assert decoded == finding
    assert type(decoded.kind) is FindingKind
    assert not FindingItem.resolved(item)
    assert FindingItem.resolved(item | {"resolved_at": N(AT + 1)})


@given(arn=ids, until=st.integers(0, 2**40), reason=any_text)
def test_quarantines_round_trip(arn: str, until: int, reason: str) -> None:
    quarantine = Quarantine(arn, until, reason)
    detail, index = QuarantineItems.encode(quarantine)
    assert QuarantineItems.decode_index(index) == (arn, until)
    assert QuarantineItems.decode(index, detail) == quarantine
    # the index alone (its detail item gone): no reason
    assert QuarantineItems.decode(index, None) == Quarantine(arn, until, "")


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=20,
)


@given(batch=st.dictionaries(st.text(max_size=12), JSON, max_size=6))
def test_plan_batches_round_trip(batch: dict[str, Any]) -> None:
    item = PlanBatchItem.encode("exec-1", "000000000000001-00003", batch, AT)
    assert PlanBatchItem.decode(item) == batch
    assert number(item, "ttl") == AT


@given(kind=st.sampled_from(["SUBNET", "RTB"]), resource=ids, vpc=ids)
def test_locations_and_managed_vpcs_round_trip(kind: str, resource: str, vpc: str) -> None:
    assert LocationItem.decode(LocationItem.encode(kind, resource, vpc)) == vpc
    assert ManagedVpcItem.decode(ManagedVpcItem.encode(vpc)) == vpc


def test_a_lease_item_decodes_to_what_lease_returns() -> None:
    held = {
        "pk": S("VPC#vpc-1"),
        "sk": S("LEASE"),
        "holder": S("arn:aws:states:us-east-1:1:execution:sm:exec-1"),
        "expires_at": N(AT + 900),
        "claimed_at": N(AT),
        "triggers": N(3),
        "seen": N(2),
    }
    assert LeaseItem.decode(held) == {
        "holder": "arn:aws:states:us-east-1:1:execution:sm:exec-1",
        "expires_at": AT + 900,
        "triggers": 3,
        "seen": 2,
    }
    # released (holder and expiry removed), or only ever counted a trigger
    assert LeaseItem.decode({"pk": S("VPC#vpc-1"), "sk": S("LEASE"), "triggers": N(1)}) == {
        "holder": None,
        "expires_at": 0,
        "triggers": 1,
        "seen": 0,
    }
    assert LeaseItem.triggers({"triggers": N(7)}) == 7


# -- what older items and DynamoDB's number type give -------------------------------------------
def test_numbers_decode_to_int_not_decimal() -> None:
    item = RouteItem.encode(VPC, ROUTE, "exec-1", AT)
    at = RouteItem.decode(item).created_at
    assert type(at) is int and at == AT
    until = QuarantineItems.decode_index({"sk": S(ARN), "until": N(AT)})[1]
    assert type(until) is int
    assert all(type(v) is int for k, v in LeaseItem.decode({"seen": N(1)}).items() if k != "holder")
    assert not isinstance(number({"n": N(5)}, "n"), Decimal)


def test_items_without_the_later_attributes_decode_to_their_defaults() -> None:
    old_route = {
        "pk": S(f"VPC#{VPC}"),
        "sk": S("ROUTE#rtb-1#10.7.11.0/24"),
        "route_table_id": S("rtb-1"),
        "destination": S("10.7.11.0/24"),
        "local_gateway_id": S("lgw-1"),
    }
    assert RouteItem.decode(old_route) == Owned(
        OwnedRoute("rtb-1", "10.7.11.0/24", "lgw-1"), None, 0
    )
    old_assoc = {
        "pk": S(f"VPC#{VPC}"),
        "sk": S("ASSOC#a-1"),
        "association_id": S("a-1"),
        "lgw_route_table_id": S("lgw-rtb-1"),
    }
    assert AssociationItem.decode(old_assoc) == Owned(OwnedAssociation("a-1", "lgw-rtb-1"), None, 0)
    assert LocationItem.decode({"pk": S("RTB#rtb-1"), "sk": S("VPC")}) is None


def test_the_lease_item_of_a_vpc_is_not_an_owned_record() -> None:
    assert decode_owned({"pk": S(f"VPC#{VPC}"), "sk": S("LEASE"), "triggers": N(1)}) is None


def test_a_missing_required_attribute_or_a_wrong_type_is_an_error() -> None:
    with pytest.raises(KeyError):
        RouteItem.decode({"sk": S("ROUTE#rtb-1#10.0.0.0/24"), "route_table_id": S("rtb-1")})
    with pytest.raises(TypeError):
        text({"owner": N(1)}, "owner")
    with pytest.raises(TypeError):
        number({"until": S("soon")}, "until")
    with pytest.raises(TypeError):
        texts({"source_subnet_ids": {"SS": ["subnet-a"]}}, "source_subnet_ids")
