"""LGW route table / VPC associations: states, filters, tags, errors, pagination."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from outpost_mesh_sandbox.aws.control import SeededOutpost
from outpost_mesh_sandbox.aws.server import Sandbox

RESOURCE_TYPE = "local-gateway-route-table-vpc-association"


def code_of(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def associate(ec2: Any, rack: SeededOutpost, vpc_id: str, **kwargs: Any) -> dict[str, Any]:
    result: dict[str, Any] = ec2.create_local_gateway_route_table_vpc_association(
        LocalGatewayRouteTableId=rack.local_gateway_route_table_id, VpcId=vpc_id, **kwargs
    )["LocalGatewayRouteTableVpcAssociation"]
    return result


def state_of(ec2: Any, association_id: str) -> str:
    found = ec2.describe_local_gateway_route_table_vpc_associations(
        LocalGatewayRouteTableVpcAssociationIds=[association_id]
    )["LocalGatewayRouteTableVpcAssociations"]
    assert len(found) == 1
    return str(found[0]["State"])


@pytest.fixture
def rack(sb: Sandbox) -> SeededOutpost:
    return sb.control.seed_outpost("rack-a")


@pytest.fixture
def vpc_id(ec2: Any) -> str:
    return str(ec2.create_vpc(CidrBlock="10.7.0.0/16")["Vpc"]["VpcId"])


def test_create_returns_associating_with_full_shape_and_tags(
    ec2: Any, rack: SeededOutpost, vpc_id: str
) -> None:
    created = associate(
        ec2,
        rack,
        vpc_id,
        TagSpecifications=[
            {
                "ResourceType": RESOURCE_TYPE,
                "Tags": [{"Key": "managed-by", "Value": "outpost-mesh"}],
            }
        ],
    )
    assert created["State"] == "associating"
    assert created["LocalGatewayRouteTableVpcAssociationId"].startswith("lgw-vpc-assoc-")
    assert created["LocalGatewayRouteTableId"] == rack.local_gateway_route_table_id
    assert created["LocalGatewayRouteTableArn"].endswith(
        f":local-gateway-route-table/{rack.local_gateway_route_table_id}"
    )
    assert created["LocalGatewayId"] == rack.local_gateway_id
    assert created["VpcId"] == vpc_id
    assert created["OwnerId"] == "123456789012"
    assert created["Tags"] == [{"Key": "managed-by", "Value": "outpost-mesh"}]
    described = ec2.describe_local_gateway_route_table_vpc_associations(
        Filters=[{"Name": "tag:managed-by", "Values": ["outpost-mesh"]}]
    )["LocalGatewayRouteTableVpcAssociations"]
    assert [d["Tags"] for d in described] == [[{"Key": "managed-by", "Value": "outpost-mesh"}]]


def test_associating_turns_associated_after_one_describe_by_default(
    ec2: Any, rack: SeededOutpost, vpc_id: str
) -> None:
    association_id = associate(ec2, rack, vpc_id)["LocalGatewayRouteTableVpcAssociationId"]
    assert state_of(ec2, association_id) == "associating"
    assert state_of(ec2, association_id) == "associated"
    assert state_of(ec2, association_id) == "associated"


def test_describe_count_is_configurable(
    sb: Sandbox, ec2: Any, rack: SeededOutpost, vpc_id: str
) -> None:
    sb.control.configure(association_describes=3, disassociation_describes=0)
    association_id = associate(ec2, rack, vpc_id)["LocalGatewayRouteTableVpcAssociationId"]
    assert [state_of(ec2, association_id) for _ in range(4)] == [
        "associating",
        "associating",
        "associating",
        "associated",
    ]
    deleted = ec2.delete_local_gateway_route_table_vpc_association(
        LocalGatewayRouteTableVpcAssociationId=association_id
    )["LocalGatewayRouteTableVpcAssociation"]
    assert deleted["State"] == "disassociating"
    assert state_of(ec2, association_id) == "disassociated"
    assert sb.control.config()["association_describes"] == 3


def test_a_state_filtered_poller_still_progresses(
    ec2: Any, rack: SeededOutpost, vpc_id: str
) -> None:
    associate(ec2, rack, vpc_id)
    only_associated = [{"Name": "state", "Values": ["associated"]}]

    def count() -> int:
        return len(
            ec2.describe_local_gateway_route_table_vpc_associations(Filters=only_associated)[
                "LocalGatewayRouteTableVpcAssociations"
            ]
        )

    assert [count(), count()] == [0, 1]


def test_delete_disassociates_then_stays_listed_as_disassociated(
    ec2: Any, rack: SeededOutpost, vpc_id: str
) -> None:
    association_id = associate(ec2, rack, vpc_id)["LocalGatewayRouteTableVpcAssociationId"]
    state_of(ec2, association_id)
    assert state_of(ec2, association_id) == "associated"
    deleted = ec2.delete_local_gateway_route_table_vpc_association(
        LocalGatewayRouteTableVpcAssociationId=association_id
    )["LocalGatewayRouteTableVpcAssociation"]
    assert deleted["State"] == "disassociating"
    assert state_of(ec2, association_id) == "disassociating"
    assert state_of(ec2, association_id) == "disassociated"
    with pytest.raises(ClientError) as exc:
        ec2.delete_local_gateway_route_table_vpc_association(
            LocalGatewayRouteTableVpcAssociationId=association_id
        )
    assert code_of(exc) == "InvalidLocalGatewayRouteTableVpcAssociationID.NotFound"
    # A new association may follow a disassociated one.
    assert associate(ec2, rack, vpc_id)["State"] == "associating"


def test_missing_association_is_not_found(ec2: Any) -> None:
    missing = "lgw-vpc-assoc-00000000000000000"
    with pytest.raises(ClientError) as exc:
        ec2.delete_local_gateway_route_table_vpc_association(
            LocalGatewayRouteTableVpcAssociationId=missing
        )
    assert code_of(exc) == "InvalidLocalGatewayRouteTableVpcAssociationID.NotFound"
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(ClientError) as exc:
        ec2.describe_local_gateway_route_table_vpc_associations(
            LocalGatewayRouteTableVpcAssociationIds=[missing]
        )
    assert code_of(exc) == "InvalidLocalGatewayRouteTableVpcAssociationID.NotFound"


def test_create_validates_table_vpc_and_duplicates(
    ec2: Any, rack: SeededOutpost, vpc_id: str
) -> None:
    with pytest.raises(ClientError) as exc:
        ec2.create_local_gateway_route_table_vpc_association(
            LocalGatewayRouteTableId="lgw-rtb-00000000000000000", VpcId=vpc_id
        )
    assert code_of(exc) == "InvalidLocalGatewayRouteTableID.NotFound"
    with pytest.raises(ClientError) as exc:
        associate(ec2, rack, "vpc-00000000000000000")
    assert code_of(exc) == "InvalidVpcID.NotFound"
    associate(ec2, rack, vpc_id)
    with pytest.raises(ClientError) as exc:
        associate(ec2, rack, vpc_id)
    assert code_of(exc) == "Resource.AlreadyAssociated"


def test_fail_next_associations(sb: Sandbox, ec2: Any, rack: SeededOutpost) -> None:
    sb.control.fail_next_associations(1)
    first_vpc = ec2.create_vpc(CidrBlock="10.7.0.0/16")["Vpc"]["VpcId"]
    second_vpc = ec2.create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]["VpcId"]
    failing = associate(ec2, rack, first_vpc)
    fine = associate(ec2, rack, second_vpc)
    assert failing["State"] == "associating"
    ids = [a["LocalGatewayRouteTableVpcAssociationId"] for a in (failing, fine)]
    assert [state_of(ec2, i) for i in ids] == ["associating", "associating"]
    assert [state_of(ec2, i) for i in ids] == [
        "failed",
        "associated",
    ]
    # A failed association does not block a new attempt.
    assert associate(ec2, rack, first_vpc)["State"] == "associating"


def test_filters(sb: Sandbox, ec2: Any) -> None:
    a = sb.control.seed_outpost("rack-a")
    b = sb.control.seed_outpost("rack-b")
    vpc1 = ec2.create_vpc(CidrBlock="10.7.0.0/16")["Vpc"]["VpcId"]
    vpc2 = ec2.create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]["VpcId"]
    a1 = associate(ec2, a, vpc1)["LocalGatewayRouteTableVpcAssociationId"]
    b1 = associate(ec2, b, vpc1)["LocalGatewayRouteTableVpcAssociationId"]
    a2 = associate(ec2, a, vpc2)["LocalGatewayRouteTableVpcAssociationId"]

    def ids(*filters: tuple[str, str]) -> set[str]:
        found = ec2.describe_local_gateway_route_table_vpc_associations(
            Filters=[{"Name": n, "Values": [v]} for n, v in filters]
        )["LocalGatewayRouteTableVpcAssociations"]
        return {f["LocalGatewayRouteTableVpcAssociationId"] for f in found}

    assert ids(("vpc-id", vpc1)) == {a1, b1}
    assert ids(("local-gateway-route-table-id", a.local_gateway_route_table_id)) == {a1, a2}
    assert ids(("local-gateway-id", b.local_gateway_id)) == {b1}
    assert ids(
        ("vpc-id", vpc1), ("local-gateway-route-table-id", a.local_gateway_route_table_id)
    ) == {a1}
    assert ids(("local-gateway-route-table-vpc-association-id", a2)) == {a2}
    assert ids(("state", "associated")) == {a1, b1, a2}  # each was seen by the describes above
    ec2.delete_local_gateway_route_table_vpc_association(LocalGatewayRouteTableVpcAssociationId=b1)
    assert ids(("state", "disassociating")) == {b1}


def test_associations_paginate(sb: Sandbox, ec2: Any) -> None:
    rack = sb.control.seed_outpost("rack-a")
    created = []
    for i in range(6):
        vpc = ec2.create_vpc(CidrBlock=f"10.{i}.0.0/16")["Vpc"]["VpcId"]
        created.append(associate(ec2, rack, vpc)["LocalGatewayRouteTableVpcAssociationId"])
    pages = list(
        ec2.get_paginator("describe_local_gateway_route_table_vpc_associations").paginate(
            PaginationConfig={"PageSize": 5}
        )
    )
    assert [len(p["LocalGatewayRouteTableVpcAssociations"]) for p in pages] == [5, 1]
    assert [
        a["LocalGatewayRouteTableVpcAssociationId"]
        for p in pages
        for a in p["LocalGatewayRouteTableVpcAssociations"]
    ] == created
