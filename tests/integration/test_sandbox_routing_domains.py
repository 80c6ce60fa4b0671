"""Several LGW route tables per Outpost (routing domains), VIF groups, rack generations, tags on
LGW route tables and VPCs shared in by another account, through boto3 against the sandbox
(docs/aws-facts.md, "Several LGW route tables per Outpost (routing domains)", "Accounts and
sharing")."""

from __future__ import annotations

import re
from typing import Any

import pytest
from botocore.exceptions import ClientError

from outpost_mesh_sandbox.aws import errors, outposts, sharing
from outpost_mesh_sandbox.aws.control import (
    SandboxControlError,
    SeededLgwRouteTable,
    SeededOutpost,
)
from outpost_mesh_sandbox.aws.identities import SANDBOX_ACCOUNT, SANDBOX_REGION
from outpost_mesh_sandbox.aws.server import Sandbox

from .test_sandbox_outposts import error_of

OTHER_ACCOUNT = "999988887777"
VIF_ASSOCIATIONS = "LocalGatewayRouteTableVirtualInterfaceGroupAssociations"


def tables_by_name(sb: Sandbox, rack: str) -> dict[str, SeededLgwRouteTable]:
    seeded = next(o for o in sb.control.outposts() if o.name == rack)
    return {t.name: t for t in seeded.route_tables}


def vif_associations(ec2: Any, **kwargs: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = (
        ec2.describe_local_gateway_route_table_virtual_interface_group_associations(**kwargs)[
            VIF_ASSOCIATIONS
        ]
    )
    return found


def active_table_ids(ec2: Any) -> set[str]:
    return {a["LocalGatewayRouteTableId"] for a in vif_associations(ec2)}


def associate(ec2: Any, table_id: str, vpc: str) -> str:
    association_id: str = ec2.create_local_gateway_route_table_vpc_association(
        LocalGatewayRouteTableId=table_id, VpcId=vpc
    )["LocalGatewayRouteTableVpcAssociation"]["LocalGatewayRouteTableVpcAssociationId"]
    return association_id


def describe_association(ec2: Any, association_id: str) -> str:
    found = ec2.describe_local_gateway_route_table_vpc_associations(
        LocalGatewayRouteTableVpcAssociationIds=[association_id]
    )["LocalGatewayRouteTableVpcAssociations"]
    return str(found[0]["State"])


def wait_state(ec2: Any, association_id: str, wanted: str) -> None:
    """The sandbox moves an association on per describe (one describe by default)."""
    for _ in range(5):
        if describe_association(ec2, association_id) == wanted:
            return
    raise AssertionError(f"{association_id} never {wanted}")


def outpost_subnet(
    sb: Sandbox, ec2: Any, vpc: str, rack_name: str
) -> tuple[SeededOutpost, str, str, str]:
    """A subnet of ``vpc`` on the rack with a route table of its own: (rack, subnet id, route
    table id, the subnet's route table association id)."""
    rack = next(o for o in sb.control.outposts() if o.name == rack_name)
    subnet = ec2.create_subnet(
        VpcId=vpc,
        CidrBlock="10.7.7.0/24",
        OutpostArn=rack.outpost_arn,
        AvailabilityZone=rack.availability_zone,
    )["Subnet"]["SubnetId"]
    table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    association = ec2.associate_route_table(RouteTableId=table, SubnetId=subnet)["AssociationId"]
    return rack, str(subnet), str(table), str(association)


# -- seeding and DescribeLocalGatewayRouteTables ------------------------------------------------
def test_a_rack_with_several_tables_describes_each_with_its_mode_state_and_name_tag(
    sb: Sandbox, ec2: Any
) -> None:
    rack = sb.control.seed_outpost(
        "rack-a",
        generation=2,
        route_tables=[
            {"name": "a-coip", "mode": "coip"},
            {"name": "a-dvr", "tags": {"outpost-mesh:routing-domain": "*"}},
            {"name": "a-new", "state": "pending", "active": False},
        ],
    )
    assert rack.generation == 2
    assert [(t.name, t.mode, t.active, t.state) for t in rack.route_tables] == [
        ("a-coip", "coip", True, "available"),
        ("a-dvr", "direct-vpc-routing", True, "available"),
        ("a-new", "direct-vpc-routing", False, "pending"),
    ]
    # The first table's id and mode stay where they were (one-table callers keep working).
    assert rack.local_gateway_route_table_id == rack.route_tables[0].local_gateway_route_table_id
    assert rack.mode == "coip"
    ids = {t.name: t.local_gateway_route_table_id for t in rack.route_tables}
    assert all(re.fullmatch(r"lgw-rtb-[0-9a-f]{17}", i) for i in ids.values())

    described = ec2.describe_local_gateway_route_tables()["LocalGatewayRouteTables"]
    assert described[1] == {
        "LocalGatewayRouteTableId": ids["a-dvr"],
        "LocalGatewayRouteTableArn": (
            f"arn:aws:ec2:{SANDBOX_REGION}:{SANDBOX_ACCOUNT}:local-gateway-route-table/"
            f"{ids['a-dvr']}"
        ),
        "LocalGatewayId": rack.local_gateway_id,
        "OutpostArn": rack.outpost_arn,
        "OwnerId": SANDBOX_ACCOUNT,
        "State": "available",
        "Tags": [
            {"Key": "Name", "Value": "a-dvr"},
            {"Key": "outpost-mesh:routing-domain", "Value": "*"},
        ],
        "Mode": "direct-vpc-routing",
    }
    assert [(t["Mode"], t["State"]) for t in described] == [
        ("coip", "available"),
        ("direct-vpc-routing", "available"),
        ("direct-vpc-routing", "pending"),
    ]

    def found(filters: list[dict[str, Any]]) -> list[str]:
        tables = ec2.describe_local_gateway_route_tables(Filters=filters)
        return [t["LocalGatewayRouteTableId"] for t in tables["LocalGatewayRouteTables"]]

    assert found([{"Name": "state", "Values": ["pending"]}]) == [ids["a-new"]]
    assert found([{"Name": "tag:Name", "Values": ["a-c*"]}]) == [ids["a-coip"]]
    assert found([{"Name": "tag-key", "Values": ["outpost-mesh:routing-domain"]}]) == [ids["a-dvr"]]
    assert found([{"Name": "local-gateway-id", "Values": [rack.local_gateway_id]}]) == list(
        ids.values()
    )


def test_default_seeding_is_one_active_table_named_after_the_rack(sb: Sandbox, ec2: Any) -> None:
    rack = sb.control.seed_outpost("rack-a", mode="coip")
    assert rack.generation == 1
    assert rack.route_tables == (
        SeededLgwRouteTable("rack-a", rack.local_gateway_route_table_id, "coip", True, "available"),
    )
    assert active_table_ids(ec2) == {rack.local_gateway_route_table_id}
    assert sb.control.outposts() == [rack]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"mode": "coip", "route_tables": [{"name": "t"}]}, "either mode or route_tables"),
        ({"route_tables": [{"name": "t"}, {"name": "t"}]}, "must be unique"),
        ({"route_tables": []}, "non-empty list"),
        ({"route_tables": [{"name": "t", "colour": "red"}]}, "unknown key"),
        ({"route_tables": [{"name": "t", "mode": "bgp"}]}, "mode must be one of"),
        ({"route_tables": [{"name": "t", "state": "gone"}]}, "state must be one of"),
        ({"route_tables": [{"name": "t", "active": "yes"}]}, "active must be a boolean"),
        ({"route_tables": [{"name": "t", "tags": {"k": 1}}]}, "tags must map strings"),
        ({"route_tables": [{"mode": "coip"}]}, "name is required"),
        ({"generation": 3}, "generation must be 1 or 2"),
    ],
)
def test_seeding_refuses_bad_tables(sb: Sandbox, kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(SandboxControlError) as exc:
        sb.control.seed_outpost("rack-a", **kwargs)
    assert exc.value.status == 400
    assert message in exc.value.message
    assert sb.control.outposts() == []


def test_table_names_are_unique_across_racks(sb: Sandbox) -> None:
    sb.control.seed_outpost("rack-a", route_tables=[{"name": "dvr"}])
    with pytest.raises(SandboxControlError) as exc:
        sb.control.seed_outpost("rack-b", route_tables=[{"name": "dvr"}])
    assert "already seeded: dvr" in exc.value.message
    sb.control.seed_outpost("rack-c")  # a default table takes the rack's name
    with pytest.raises(SandboxControlError):
        sb.control.seed_outpost("rack-d", route_tables=[{"name": "rack-c"}])
    assert [o.name for o in sb.control.outposts()] == ["rack-a", "rack-c"]


def test_in_process_seeding_is_the_same_rack_seen_through_boto3(sb: Sandbox, ec2: Any) -> None:
    backend = outposts.sandbox_backend(SANDBOX_ACCOUNT, SANDBOX_REGION)
    rack = outposts.seed_outpost(
        backend, "rack-a", generation=2, route_tables=[{"name": "a1"}, {"name": "a2"}]
    )
    tables = ec2.describe_local_gateway_route_tables()["LocalGatewayRouteTables"]
    assert tables[0]["LocalGatewayRouteTableId"] == rack.local_gateway_route_table_id
    assert len(active_table_ids(ec2)) == 2
    with pytest.raises(ValueError, match="at most one active LGW route table"):
        outposts.seed_outpost(backend, "rack-b", route_tables=[{"name": "b1"}, {"name": "b2"}])
    with pytest.raises(ValueError, match="either mode or route_tables"):
        outposts.seed_outpost(backend, "rack-c", mode="coip", route_tables=[{"name": "c"}])
    assert [o.name for o in sb.control.outposts()] == ["rack-a"]


# -- rack generations ---------------------------------------------------------------------------
def test_a_first_generation_rack_has_one_vif_group_and_at_most_one_active_table(
    sb: Sandbox, ec2: Any
) -> None:
    with pytest.raises(SandboxControlError) as exc:
        sb.control.seed_outpost("rack-a", route_tables=[{"name": "a1"}, {"name": "a2"}])
    assert exc.value.status == 400
    assert "first-generation rack has one VIF group" in exc.value.message
    assert "a1, a2" in exc.value.message

    rack = sb.control.seed_outpost(
        "rack-a", route_tables=[{"name": "a1"}, {"name": "a2", "active": False}]
    )
    groups = ec2.describe_local_gateway_virtual_interface_groups()[
        "LocalGatewayVirtualInterfaceGroups"
    ]
    assert len(groups) == 1
    assert active_table_ids(ec2) == {rack.route_tables[0].local_gateway_route_table_id}

    a2 = rack.route_tables[1].local_gateway_route_table_id
    with pytest.raises(SandboxControlError) as exc:
        sb.control.set_lgw_route_table(a2, active=True)
    assert "at most one active LGW route table" in exc.value.message
    # The operator moves the VIF group from one table to the other.
    sb.control.set_lgw_route_table(rack.route_tables[0].local_gateway_route_table_id, active=False)
    sb.control.set_lgw_route_table(a2, active=True)
    assert active_table_ids(ec2) == {a2}
    [association] = vif_associations(ec2)
    assert (
        association["LocalGatewayVirtualInterfaceGroupId"]
        == groups[0]["LocalGatewayVirtualInterfaceGroupId"]
    )


def test_a_second_generation_rack_has_up_to_ten_routing_domains_each_with_its_vif_group(
    sb: Sandbox, ec2: Any
) -> None:
    with pytest.raises(SandboxControlError) as exc:
        sb.control.seed_outpost(
            "rack-a", generation=2, route_tables=[{"name": f"a{i}"} for i in range(11)]
        )
    assert "at most 10 routing domains" in exc.value.message
    rack = sb.control.seed_outpost(
        "rack-a",
        generation=2,
        route_tables=[{"name": f"a{i}"} for i in range(10)] + [{"name": "spare", "active": False}],
    )
    associations = vif_associations(ec2)
    assert len(associations) == 10
    assert len({a["LocalGatewayVirtualInterfaceGroupId"] for a in associations}) == 10
    spare = rack.route_tables[-1].local_gateway_route_table_id
    with pytest.raises(SandboxControlError):
        sb.control.set_lgw_route_table(spare, active=True)
    sb.control.set_lgw_route_table(rack.route_tables[0].local_gateway_route_table_id, active=False)
    sb.control.set_lgw_route_table(spare, active=True)
    assert spare in active_table_ids(ec2)
    assert tables_by_name(sb, "rack-a")["spare"].active


# -- VIF groups and their associations ----------------------------------------------------------
def test_vif_groups_describe_as_aws_shapes_them_with_their_filters(sb: Sandbox, ec2: Any) -> None:
    a = sb.control.seed_outpost("rack-a")
    b = sb.control.seed_outpost("rack-b")
    groups = ec2.describe_local_gateway_virtual_interface_groups()[
        "LocalGatewayVirtualInterfaceGroups"
    ]
    assert [g["LocalGatewayId"] for g in groups] == [a.local_gateway_id, b.local_gateway_id]
    group = groups[0]
    group_id = group["LocalGatewayVirtualInterfaceGroupId"]
    assert re.fullmatch(r"lgw-vif-grp-[0-9a-f]{17}", group_id)
    assert all(
        re.fullmatch(r"lgw-vif-[0-9a-f]{17}", v) for v in group["LocalGatewayVirtualInterfaceIds"]
    )
    assert group["OwnerId"] == SANDBOX_ACCOUNT
    assert group["LocalGatewayVirtualInterfaceGroupArn"] == (
        f"arn:aws:ec2:{SANDBOX_REGION}:{SANDBOX_ACCOUNT}:local-gateway-virtual-interface-group/"
        f"{group_id}"
    )
    assert group["Tags"] == []

    def found(filters: list[dict[str, Any]]) -> list[str]:
        answer = ec2.describe_local_gateway_virtual_interface_groups(Filters=filters)
        return [
            g["LocalGatewayVirtualInterfaceGroupId"]
            for g in answer["LocalGatewayVirtualInterfaceGroups"]
        ]

    vif = group["LocalGatewayVirtualInterfaceIds"][1]
    assert found([{"Name": "local-gateway-id", "Values": [a.local_gateway_id]}]) == [group_id]
    assert found([{"Name": "local-gateway-virtual-interface-group-id", "Values": [group_id]}]) == [
        group_id
    ]
    assert found([{"Name": "local-gateway-virtual-interface-id", "Values": [vif]}]) == [group_id]
    assert len(found([{"Name": "owner-id", "Values": [SANDBOX_ACCOUNT]}])) == 2
    with pytest.raises(ClientError) as exc:
        ec2.describe_local_gateway_virtual_interface_groups(
            Filters=[{"Name": "state", "Values": ["available"]}]
        )
    assert error_of(exc)[0] == "InvalidParameterValue"
    with pytest.raises(ClientError) as exc:
        ec2.describe_local_gateway_virtual_interface_groups(
            LocalGatewayVirtualInterfaceGroupIds=["lgw-vif-grp-00000000000000000"]
        )
    assert error_of(exc)[0] == errors.ASSUMED_VIF_GROUP_NOT_FOUND


def test_vif_group_associations_list_the_active_tables_with_their_filters(
    sb: Sandbox, ec2: Any
) -> None:
    rack = sb.control.seed_outpost(
        "rack-a",
        generation=2,
        route_tables=[
            {"name": "dvr"},
            {"name": "coip", "mode": "coip"},
            {"name": "idle", "active": False},
        ],
    )
    other = sb.control.seed_outpost("rack-b")
    dvr, coip, idle = (t.local_gateway_route_table_id for t in rack.route_tables)
    everything = vif_associations(ec2)
    assert [a["LocalGatewayRouteTableId"] for a in everything] == [
        dvr,
        coip,
        other.local_gateway_route_table_id,
    ]
    first = everything[0]
    assert re.fullmatch(
        r"lgw-vif-grp-assoc-[0-9a-f]{17}",
        first["LocalGatewayRouteTableVirtualInterfaceGroupAssociationId"],
    )
    assert first["LocalGatewayId"] == rack.local_gateway_id
    assert first["LocalGatewayRouteTableArn"].endswith(f":local-gateway-route-table/{dvr}")
    assert (first["OwnerId"], first["State"], first["Tags"]) == (SANDBOX_ACCOUNT, "associated", [])

    def found(name: str, value: str) -> list[str]:
        answer = vif_associations(ec2, Filters=[{"Name": name, "Values": [value]}])
        return [a["LocalGatewayRouteTableId"] for a in answer]

    assert found("local-gateway-route-table-id", idle) == []
    assert found("local-gateway-route-table-id", coip) == [coip]
    assert found("local-gateway-id", rack.local_gateway_id) == [dvr, coip]
    assert found("local-gateway-route-table-arn", first["LocalGatewayRouteTableArn"]) == [dvr]
    assert found(
        "local-gateway-route-table-virtual-interface-group-association-id",
        first["LocalGatewayRouteTableVirtualInterfaceGroupAssociationId"],
    ) == [dvr]
    assert found(
        "local-gateway-route-table-virtual-interface-group-id",
        first["LocalGatewayVirtualInterfaceGroupId"],
    ) == [dvr]
    assert found("state", "associated") == [dvr, coip, other.local_gateway_route_table_id]
    assert found("owner-id", OTHER_ACCOUNT) == []
    with pytest.raises(ClientError) as exc:
        vif_associations(ec2, Filters=[{"Name": "vpc-id", "Values": ["vpc-1"]}])
    assert error_of(exc)[0] == "InvalidParameterValue"

    sb.control.set_lgw_route_table(dvr, active=False)
    assert found("local-gateway-id", rack.local_gateway_id) == [coip]
    assert not tables_by_name(sb, "rack-a")["dvr"].active


def test_the_vif_describes_are_paged_for_botocore_paginators(sb: Sandbox, ec2: Any) -> None:
    sb.control.seed_outpost(
        "rack-a", generation=2, route_tables=[{"name": f"a{i}"} for i in range(7)]
    )
    pages = list(
        ec2.get_paginator(
            "describe_local_gateway_route_table_virtual_interface_group_associations"
        ).paginate(PaginationConfig={"PageSize": 5})
    )
    assert [len(p[VIF_ASSOCIATIONS]) for p in pages] == [5, 2]
    groups = list(
        ec2.get_paginator("describe_local_gateway_virtual_interface_groups").paginate(
            PaginationConfig={"PageSize": 6}
        )
    )
    assert [len(p["LocalGatewayVirtualInterfaceGroups"]) for p in groups] == [6, 1]
    sb.control.configure(page_size=4)  # without MaxResults too
    assert "NextToken" in ec2.describe_local_gateway_virtual_interface_groups()


def test_set_lgw_route_table_moves_a_table_state_and_refuses_unknown_ones(
    sb: Sandbox, ec2: Any
) -> None:
    rack = sb.control.seed_outpost("rack-a", route_tables=[{"name": "a", "state": "pending"}])
    table = rack.local_gateway_route_table_id
    sb.control.set_lgw_route_table(table, state="available")
    [described] = ec2.describe_local_gateway_route_tables()["LocalGatewayRouteTables"]
    assert described["State"] == "available"
    assert tables_by_name(sb, "rack-a")["a"].state == "available"
    bad_arguments: list[dict[str, Any]] = [{"state": "gone"}, {"active": "no"}]
    for bad in bad_arguments:
        with pytest.raises(SandboxControlError) as exc:
            sb.control.set_lgw_route_table(table, **bad)
        assert exc.value.status == 400
    with pytest.raises(SandboxControlError) as exc:
        sb.control.set_lgw_route_table("lgw-rtb-00000000000000000", state="available")
    assert "no LGW route table" in exc.value.message


# -- CreateLocalGatewayRouteTableVpcAssociation: one routing domain per Outpost -----------------
@pytest.fixture
def domains(sb: Sandbox) -> dict[str, str]:
    """rack-a (generation 2): dvr-1, dvr-2, coip; rack-b: its default table. Name -> id."""
    rack_a = sb.control.seed_outpost(
        "rack-a",
        generation=2,
        route_tables=[{"name": "dvr-1"}, {"name": "dvr-2"}, {"name": "coip", "mode": "coip"}],
    )
    rack_b = sb.control.seed_outpost("rack-b")
    tables = {t.name: t.local_gateway_route_table_id for t in rack_a.route_tables}
    return {**tables, "rack-b": rack_b.local_gateway_route_table_id}


@pytest.fixture
def vpc(ec2: Any) -> str:
    return str(ec2.create_vpc(CidrBlock="10.7.0.0/16")["Vpc"]["VpcId"])


def test_a_vpc_in_one_routing_domain_cannot_join_another_of_the_same_outpost(
    ec2: Any, domains: dict[str, str], vpc: str
) -> None:
    first = associate(ec2, domains["dvr-1"], vpc)  # still associating: live already
    with pytest.raises(ClientError) as exc:
        associate(ec2, domains["dvr-2"], vpc)
    code, message, status = error_of(exc)
    assert (code, status) == (errors.ASSUMED_DOMAIN_TAKEN, 400)
    assert code == "InvalidParameterValue"
    assert domains["dvr-1"] in message and first in message and domains["dvr-2"] in message
    wait_state(ec2, first, "associated")
    with pytest.raises(ClientError):
        associate(ec2, domains["coip"], vpc)
    # Another Outpost's table is another routing domain.
    associate(ec2, domains["rack-b"], vpc)
    live = ec2.describe_local_gateway_route_table_vpc_associations(
        Filters=[{"Name": "vpc-id", "Values": [vpc]}]
    )["LocalGatewayRouteTableVpcAssociations"]
    assert {a["LocalGatewayRouteTableId"] for a in live} == {domains["dvr-1"], domains["rack-b"]}


def test_a_vpc_can_change_domain_once_its_association_is_deleted(
    ec2: Any, domains: dict[str, str], vpc: str
) -> None:
    first = associate(ec2, domains["dvr-1"], vpc)
    wait_state(ec2, first, "associated")
    ec2.delete_local_gateway_route_table_vpc_association(
        LocalGatewayRouteTableVpcAssociationId=first
    )
    # Live means associating or associated: a disassociating one no longer holds the domain.
    second = associate(ec2, domains["dvr-2"], vpc)
    wait_state(ec2, second, "associated")
    wait_state(ec2, first, "disassociated")


def test_a_failed_association_does_not_hold_the_domain(
    sb: Sandbox, ec2: Any, domains: dict[str, str], vpc: str
) -> None:
    sb.control.fail_next_associations(1)
    failed = associate(ec2, domains["dvr-1"], vpc)
    wait_state(ec2, failed, "failed")
    associate(ec2, domains["dvr-2"], vpc)


def test_a_vpc_can_be_put_in_a_coip_domain(ec2: Any, domains: dict[str, str], vpc: str) -> None:
    association = associate(ec2, domains["coip"], vpc)
    wait_state(ec2, association, "associated")


@pytest.mark.parametrize("state", ["pending", "deleting"])
def test_a_table_that_is_not_available_takes_no_association(
    sb: Sandbox, ec2: Any, domains: dict[str, str], vpc: str, state: str
) -> None:
    sb.control.set_lgw_route_table(domains["dvr-1"], state=state)
    with pytest.raises(ClientError) as exc:
        associate(ec2, domains["dvr-1"], vpc)
    code, message, status = error_of(exc)
    assert (code, status) == (errors.ASSUMED_TABLE_NOT_AVAILABLE, 400)
    assert code == "IncorrectState"
    assert state in message
    sb.control.set_lgw_route_table(domains["dvr-1"], state="available")
    associate(ec2, domains["dvr-1"], vpc)


def test_a_table_without_a_vif_group_still_takes_associations(
    sb: Sandbox, ec2: Any, domains: dict[str, str], vpc: str
) -> None:
    sb.control.set_lgw_route_table(domains["dvr-2"], active=False)
    association = associate(ec2, domains["dvr-2"], vpc)
    wait_state(ec2, association, "associated")


# -- routes to the LGW: an association with any of its tables ----------------------------------
def test_a_route_to_the_lgw_needs_an_association_with_any_table_of_that_lgw(
    sb: Sandbox, ec2: Any, domains: dict[str, str], vpc: str
) -> None:
    rack, _, table, _ = outpost_subnet(sb, ec2, vpc, "rack-a")

    def add_route() -> None:
        ec2.create_route(
            RouteTableId=table,
            DestinationCidrBlock="192.168.0.0/24",
            LocalGatewayId=rack.local_gateway_id,
        )

    # Associated with another Outpost's LGW only: no.
    wait_state(ec2, associate(ec2, domains["rack-b"], vpc), "associated")
    with pytest.raises(ClientError) as exc:
        add_route()
    assert error_of(exc)[0] == errors.ASSUMED_LGW_NOT_ASSOCIATED
    # Associated with the second (not the first) table of this LGW: yes.
    association = associate(ec2, domains["dvr-2"], vpc)
    wait_state(ec2, association, "associated")
    add_route()
    [route] = [
        r
        for r in ec2.describe_route_tables(RouteTableIds=[table])["RouteTables"][0]["Routes"]
        if r.get("LocalGatewayId")
    ]
    assert (route["LocalGatewayId"], route["State"]) == (rack.local_gateway_id, "active")
    ec2.delete_local_gateway_route_table_vpc_association(
        LocalGatewayRouteTableVpcAssociationId=association
    )
    wait_state(ec2, association, "disassociated")
    routes = ec2.describe_route_tables(RouteTableIds=[table])["RouteTables"][0]["Routes"]
    assert [r["State"] for r in routes if r.get("LocalGatewayId")] == ["blackhole"]


# -- tags on LGW route tables ---------------------------------------------------------------------
def test_create_and_delete_tags_on_an_lgw_route_table(ec2: Any, domains: dict[str, str]) -> None:
    table = domains["dvr-2"]
    ec2.create_tags(
        Resources=[table], Tags=[{"Key": "outpost-mesh:routing-domain", "Value": "vpc-1"}]
    )

    def tagged(value: str) -> list[str]:
        found = ec2.describe_local_gateway_route_tables(
            Filters=[{"Name": "tag:outpost-mesh:routing-domain", "Values": [value]}]
        )["LocalGatewayRouteTables"]
        return [t["LocalGatewayRouteTableId"] for t in found]

    assert tagged("vpc-1") == [table]
    [described] = ec2.describe_local_gateway_route_tables(LocalGatewayRouteTableIds=[table])[
        "LocalGatewayRouteTables"
    ]
    assert described["Tags"] == [
        {"Key": "Name", "Value": "dvr-2"},
        {"Key": "outpost-mesh:routing-domain", "Value": "vpc-1"},
    ]
    typed = ec2.describe_tags(
        Filters=[
            {"Name": "resource-type", "Values": ["local-gateway-route-table"]},
            {"Name": "key", "Values": ["outpost-mesh:routing-domain"]},
        ]
    )["Tags"]
    assert typed == [
        {
            "Key": "outpost-mesh:routing-domain",
            "ResourceId": table,
            "ResourceType": "local-gateway-route-table",
            "Value": "vpc-1",
        }
    ]
    ec2.delete_tags(Resources=[table], Tags=[{"Key": "outpost-mesh:routing-domain"}])
    assert tagged("*") == []
    [described] = ec2.describe_local_gateway_route_tables(LocalGatewayRouteTableIds=[table])[
        "LocalGatewayRouteTables"
    ]
    assert described["Tags"] == [{"Key": "Name", "Value": "dvr-2"}]


def test_tags_on_lgw_resources_need_the_resource_to_exist(
    ec2: Any, domains: dict[str, str], vpc: str
) -> None:
    with pytest.raises(ClientError) as exc:
        ec2.create_tags(Resources=["lgw-rtb-00000000000000000"], Tags=[{"Key": "k", "Value": "v"}])
    assert error_of(exc)[0] == "InvalidLocalGatewayRouteTableID.NotFound"
    # Every LGW resource type takes tags (and a mixed request tags them all).
    association = associate(ec2, domains["dvr-1"], vpc)
    group = ec2.describe_local_gateway_virtual_interface_groups()[
        "LocalGatewayVirtualInterfaceGroups"
    ][0]["LocalGatewayVirtualInterfaceGroupId"]
    ec2.create_tags(Resources=[association, group, vpc], Tags=[{"Key": "k", "Value": "v"}])
    kinds = {
        t["ResourceId"]: t["ResourceType"]
        for t in ec2.describe_tags(Filters=[{"Name": "key", "Values": ["k"]}])["Tags"]
    }
    assert kinds == {
        association: "local-gateway-route-table-vpc-association",
        group: "local-gateway-virtual-interface-group",
        vpc: "vpc",
    }


# -- VPCs shared in by another account ------------------------------------------------------------
@pytest.fixture
def shared(sb: Sandbox, ec2: Any, domains: dict[str, str], vpc: str) -> dict[str, str]:
    """The VPC with an Outpost subnet, a route table with a route and an LGW association, then
    shared in: its owner is OTHER_ACCOUNT from now on."""
    rack, subnet, table, subnet_association = outpost_subnet(sb, ec2, vpc, "rack-b")
    association = associate(ec2, domains["rack-b"], vpc)
    wait_state(ec2, association, "associated")
    ec2.create_route(
        RouteTableId=table,
        DestinationCidrBlock="192.168.0.0/24",
        LocalGatewayId=rack.local_gateway_id,
    )
    sb.control.share_vpc_in(vpc, OTHER_ACCOUNT)
    return {
        "vpc": vpc,
        "subnet": subnet,
        "table": table,
        "subnet_association": subnet_association,
        "association": association,
    }


def test_a_shared_in_vpc_shows_its_owners_account(
    ec2: Any, vpc: str, shared: dict[str, str]
) -> None:
    mine = ec2.create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]["VpcId"]
    owners = {v["VpcId"]: v["OwnerId"] for v in ec2.describe_vpcs()["Vpcs"]}
    assert owners == {vpc: OTHER_ACCOUNT, mine: SANDBOX_ACCOUNT}
    [subnet] = ec2.describe_subnets(SubnetIds=[shared["subnet"]])["Subnets"]
    assert subnet["OwnerId"] == OTHER_ACCOUNT
    assert subnet["SubnetArn"].startswith(f"arn:aws:ec2:{SANDBOX_REGION}:{OTHER_ACCOUNT}:subnet/")
    tables = ec2.describe_route_tables()["RouteTables"]
    assert {t["VpcId"]: t["OwnerId"] for t in tables if t["VpcId"] == mine} == {
        mine: SANDBOX_ACCOUNT
    }
    assert {t["OwnerId"] for t in tables if t["VpcId"] == vpc} == {OTHER_ACCOUNT}
    found = ec2.describe_vpcs(Filters=[{"Name": "owner-id", "Values": [OTHER_ACCOUNT]}])["Vpcs"]
    assert [v["VpcId"] for v in found] == [vpc]


def _changes(ec2: Any, shared: dict[str, str], domains: dict[str, str]) -> dict[str, Any]:
    table, vpc = shared["table"], shared["vpc"]
    return {
        "CreateRoute": lambda: ec2.create_route(
            RouteTableId=table, DestinationCidrBlock="192.168.1.0/24", GatewayId="local"
        ),
        "ReplaceRoute": lambda: ec2.replace_route(
            RouteTableId=table, DestinationCidrBlock="192.168.0.0/24", LocalGatewayId="lgw-1"
        ),
        "DeleteRoute": lambda: ec2.delete_route(
            RouteTableId=table, DestinationCidrBlock="192.168.0.0/24"
        ),
        "CreateRouteTable": lambda: ec2.create_route_table(VpcId=vpc),
        "DeleteRouteTable": lambda: ec2.delete_route_table(RouteTableId=table),
        "AssociateRouteTable": lambda: ec2.associate_route_table(
            RouteTableId=table, SubnetId=shared["subnet"]
        ),
        "DisassociateRouteTable": lambda: ec2.disassociate_route_table(
            AssociationId=shared["subnet_association"]
        ),
        "ReplaceRouteTableAssociation": lambda: ec2.replace_route_table_association(
            AssociationId=shared["subnet_association"], RouteTableId=table
        ),
        "CreateLocalGatewayRouteTableVpcAssociation": lambda: associate(ec2, domains["dvr-1"], vpc),
        "DeleteLocalGatewayRouteTableVpcAssociation": lambda: (
            ec2.delete_local_gateway_route_table_vpc_association(
                LocalGatewayRouteTableVpcAssociationId=shared["association"]
            )
        ),
    }


def test_every_change_to_a_shared_in_vpcs_tables_or_lgw_associations_is_refused(
    ec2: Any, scenario_ec2: Any, shared: dict[str, str], domains: dict[str, str]
) -> None:
    before = ec2.describe_route_tables(RouteTableIds=[shared["table"]])["RouteTables"]
    outcomes = {}
    for client in (ec2, scenario_ec2):  # anyone in this account: the pipeline or a person
        for action, call in _changes(client, shared, domains).items():
            with pytest.raises(ClientError) as exc:
                call()
            code, message, status = error_of(exc)
            outcomes[action] = (code, status)
            assert shared["vpc"] in message and OTHER_ACCOUNT in message
    assert set(outcomes.values()) == {(errors.ASSUMED_NOT_OWNER, 403)}
    assert errors.ASSUMED_NOT_OWNER == "UnauthorizedOperation"
    assert ec2.describe_route_tables(RouteTableIds=[shared["table"]])["RouteTables"] == before
    assert describe_association(ec2, shared["association"]) == "associated"
    assert (
        len(
            ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [shared["vpc"]]}])[
                "RouteTables"
            ]
        )
        == 2
    )


def test_the_accounts_own_vpcs_stay_changeable_and_reset_forgets_the_share(
    sb: Sandbox, ec2: Any, shared: dict[str, str]
) -> None:
    mine = ec2.create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]["VpcId"]
    ec2.create_route_table(VpcId=mine)
    sb.control.reset()
    vpc = ec2.create_vpc(CidrBlock="10.7.0.0/16")["Vpc"]["VpcId"]
    assert ec2.describe_vpcs()["Vpcs"][0]["OwnerId"] == SANDBOX_ACCOUNT
    ec2.create_route_table(VpcId=vpc)
    assert sb.control.outposts() == []
    assert (
        ec2.describe_local_gateway_virtual_interface_groups()["LocalGatewayVirtualInterfaceGroups"]
        == []
    )


@pytest.mark.parametrize(
    ("vpc_id", "owner", "message"),
    [
        (None, "12345", "12-digit account id"),
        (None, SANDBOX_ACCOUNT, "is this account"),
        ("vpc-00000000000000000", OTHER_ACCOUNT, "no VPC"),
    ],
)
def test_share_vpc_in_refuses_bad_arguments(
    sb: Sandbox, vpc: str, vpc_id: str | None, owner: str, message: str
) -> None:
    with pytest.raises(SandboxControlError) as exc:
        sb.control.share_vpc_in(vpc_id or vpc, owner)
    assert exc.value.status == 400
    assert message in exc.value.message


def test_in_process_share_vpc_in(ec2: Any, vpc: str) -> None:
    backend = outposts.sandbox_backend(SANDBOX_ACCOUNT, SANDBOX_REGION)
    sharing.share_vpc_in(backend, vpc, OTHER_ACCOUNT)
    assert ec2.describe_vpcs()["Vpcs"][0]["OwnerId"] == OTHER_ACCOUNT
    with pytest.raises(ClientError) as exc:
        ec2.create_route_table(VpcId=vpc)
    assert error_of(exc)[:1] == ("UnauthorizedOperation",)
