"""Account hygiene for moto's EC2, so the sandbox account looks like the scenario says.

Installed by :func:`outpost_mesh_sandbox.outposts.install`:

* no default VPC: moto creates one per region when a backend is built; the sandbox account has only
  the scenario's VPCs (scenario-format.md). ``CreateDefaultVpc`` still works when asked for;
* a subnet created in a non-default VPC is not ``DefaultForAz`` (moto marks the first subnet of
  each zone as default, AWS only marks default subnets);
* ``CreateSecurityGroup`` without ``VpcId`` and no default VPC fails as on AWS instead of crashing;
* ``DeleteSubnet`` drops the subnet's route table association (moto keeps it: aws-facts.md
  "Tools"), so the table no longer lists a subnet that does not exist.
"""

from __future__ import annotations

import threading
from typing import Any

from moto.ec2.exceptions import EC2ClientError
from moto.ec2.models import EC2Backend
from moto.ec2.models.subnets import SubnetBackend

_BUILDING = threading.local()


def install() -> None:
    original_init = EC2Backend.__init__
    original_create_default_vpc = EC2Backend.create_default_vpc

    def __init__(self: Any, region_name: str, account_id: str) -> None:
        _BUILDING.active = True
        try:
            original_init(self, region_name, account_id)
        finally:
            _BUILDING.active = False

    def create_default_vpc(self: Any) -> Any:
        if getattr(_BUILDING, "active", False):
            return None  # the backend is being built: no default VPC
        return original_create_default_vpc(self)

    def _get_default_vpc(self: Any) -> Any:
        return self.get_default_vpc()

    def _set_default_vpc(self: Any, value: Any) -> None:
        # EC2Backend.__init__ assigns the VPC it created; the property reads the live one.
        del self, value

    EC2Backend.__init__ = __init__  # type: ignore[method-assign]
    EC2Backend.create_default_vpc = create_default_vpc  # type: ignore[method-assign]
    EC2Backend.default_vpc = property(_get_default_vpc, _set_default_vpc)  # type: ignore[attr-defined]

    original_create_sg = EC2Backend.create_security_group

    def create_security_group(
        self: Any, name: str, description: str, *args: Any, **kwargs: Any
    ) -> Any:
        vpc_id = args[0] if args else kwargs.get("vpc_id")
        if not vpc_id and self.get_default_vpc() is None:
            # AWS's answer without a default VPC.
            raise EC2ClientError(
                "VPCIdNotSpecified",
                "No default VPC for this user. GroupName is only supported "
                "for EC2-Classic and default VPC.",
            )
        return original_create_sg(self, name, description, *args, **kwargs)

    EC2Backend.create_security_group = create_security_group  # type: ignore[method-assign]

    original_get_default_sg = EC2Backend.get_default_security_group

    def get_default_security_group(self: Any, vpc_id: str | None = None) -> Any:
        if not vpc_id and self.get_default_vpc() is None:
            return None
        return original_get_default_sg(self, vpc_id)

    EC2Backend.get_default_security_group = get_default_security_group  # type: ignore[method-assign]

    original_create_subnet = SubnetBackend.create_subnet

    def create_subnet(self: Any, vpc_id: str, *args: Any, **kwargs: Any) -> Any:
        subnet = original_create_subnet(self, vpc_id, *args, **kwargs)
        if not self.get_vpc(vpc_id).is_default:
            subnet.default_for_az = False
            subnet.map_public_ip_on_launch = False
        return subnet

    SubnetBackend.create_subnet = create_subnet  # type: ignore[method-assign]

    original_delete_subnet = SubnetBackend.delete_subnet

    def delete_subnet(self: Any, subnet_id: str) -> Any:
        subnet = original_delete_subnet(self, subnet_id)
        for table in self.route_tables.values():
            for association_id, target in list(table._associations.items()):
                if target == subnet_id:
                    del table._associations[association_id]
        for key in [k for k in self.subnet_associations if k.endswith(f":{subnet_id}")]:
            del self.subnet_associations[key]
        return subnet

    SubnetBackend.delete_subnet = delete_subnet  # type: ignore[method-assign]
