"""IPv6 blocks of subnets as DescribeSubnets answers them (moto nests the state twice)."""

from __future__ import annotations

from typing import Any

from outpost_mesh_sandbox.aws.server import Sandbox


def test_a_subnets_ipv6_block_is_described_with_its_state(sb: Sandbox) -> None:
    person = sb.client("ec2", caller="scenario")
    vpc = person.create_vpc(CidrBlock="10.9.0.0/16", AmazonProvidedIpv6CidrBlock=True)["Vpc"]
    block = person.describe_vpcs(VpcIds=[vpc["VpcId"]])["Vpcs"][0]["Ipv6CidrBlockAssociationSet"][
        0
    ]["Ipv6CidrBlock"]
    subnet_block = block.replace("/56", "/64")
    made = person.create_subnet(
        VpcId=vpc["VpcId"], CidrBlock="10.9.1.0/24", Ipv6CidrBlock=subnet_block
    )["Subnet"]["SubnetId"]

    found: Any = person.describe_subnets(SubnetIds=[made])["Subnets"][0]

    [association] = found["Ipv6CidrBlockAssociationSet"]
    assert association["Ipv6CidrBlock"] == subnet_block
    assert association["Ipv6CidrBlockState"]["State"] == "associated"
