"""Account hygiene for moto's EC2, so the sandbox account looks like the scenario says.

Installed in moto by :mod:`outpost_mesh_sandbox.aws.patches`:

* no default VPC: moto creates one per region when a backend is built; the sandbox account has only
  the scenario's VPCs (docs/scenario-format.md). ``CreateDefaultVpc`` still works when asked for;
* a subnet created in a non-default VPC is not ``DefaultForAz`` (moto marks the first subnet of
  each zone as default, AWS only marks default subnets);
* ``CreateSecurityGroup`` without ``VpcId`` and no default VPC fails as on AWS instead of crashing;
* ``DeleteSubnet`` drops the subnet's route table association (moto keeps it: docs/aws-facts.md
  "Tools on this kind of machine"), so the table no longer lists a subnet that does not exist.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from moto.ec2.exceptions import EC2ClientError

_BUILDING = threading.local()

Method = Callable[..., Any]


def building_backend(original: Method) -> Method:
    """EC2Backend.__init__ that marks the backend as being built (see below)."""

    def __init__(self: Any, region_name: str, account_id: str) -> None:
        _BUILDING.active = True
        try:
            original(self, region_name, account_id)
        finally:
            _BUILDING.active = False

    return __init__


def no_default_vpc_while_building(original: Method) -> Method:
    """EC2Backend.create_default_vpc that does nothing while the backend is being built."""

    def create_default_vpc(self: Any) -> Any:
        if getattr(_BUILDING, "active", False):
            return None  # the backend is being built: no default VPC
        return original(self)

    return create_default_vpc


def _get_default_vpc(self: Any) -> Any:
    return self.get_default_vpc()


def _set_default_vpc(self: Any, value: Any) -> None:
    # EC2Backend.__init__ assigns the VPC it created; the property reads the live one.
    del self, value


#: EC2Backend.default_vpc: the account's default VPC as it is now (None when there is none).
LIVE_DEFAULT_VPC = property(_get_default_vpc, _set_default_vpc)


def security_group_needs_a_vpc(original: Method) -> Method:
    """EC2Backend.create_security_group refusing a group without VPC when there is no default."""

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
        return original(self, name, description, *args, **kwargs)

    return create_security_group


def no_default_security_group_without_vpc(original: Method) -> Method:
    """EC2Backend.get_default_security_group: none without a VPC and without a default VPC."""

    def get_default_security_group(self: Any, vpc_id: str | None = None) -> Any:
        if not vpc_id and self.get_default_vpc() is None:
            return None
        return original(self, vpc_id)

    return get_default_security_group


def subnet_not_default_for_az(original: Method) -> Method:
    """SubnetBackend.create_subnet: a subnet of a non-default VPC is not DefaultForAz."""

    def create_subnet(self: Any, vpc_id: str, *args: Any, **kwargs: Any) -> Any:
        subnet = original(self, vpc_id, *args, **kwargs)
        if not self.get_vpc(vpc_id).is_default:
            subnet.default_for_az = False
            subnet.map_public_ip_on_launch = False
        return subnet

    return create_subnet


def delete_subnet_associations(original: Method) -> Method:
    """SubnetBackend.delete_subnet that also drops the subnet's route table association."""

    def delete_subnet(self: Any, subnet_id: str) -> Any:
        subnet = original(self, subnet_id)
        for table in self.route_tables.values():
            for association_id, target in list(table._associations.items()):
                if target == subnet_id:
                    del table._associations[association_id]
        for key in [k for k in self.subnet_associations if k.endswith(f":{subnet_id}")]:
            del self.subnet_associations[key]
        return subnet

    return delete_subnet
