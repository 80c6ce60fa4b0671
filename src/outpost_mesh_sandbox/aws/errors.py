"""EC2 errors the sandbox's Outposts extension raises, with where each code and text comes from.

Every code that is not confirmed by a source is a named ``ASSUMED_*`` constant: change it in one
place if AWS is ever observed to answer differently.
"""

from __future__ import annotations

from moto.ec2.exceptions import EC2ClientError
from werkzeug.exceptions import HTTPException

from outpost_mesh_sandbox.aws.faults import Fault, render

# --- confirmed codes --------------------------------------------------------------------------
# docs/aws-facts.md "LGW route tables and VPC associations"; also terraform-provider-aws
# internal/service/ec2/errors.go (errCodeInvalidLocalGatewayRouteTableVPCAssociationIDNotFound).
ASSOCIATION_NOT_FOUND = "InvalidLocalGatewayRouteTableVpcAssociationID.NotFound"
# terraform-provider-aws internal/service/ec2/errors.go
# (errCodeInvalidLocalGatewayRouteTableIDNotFound).
LGW_ROUTE_TABLE_NOT_FOUND = "InvalidLocalGatewayRouteTableID.NotFound"
# docs/aws-facts.md "Routes"; moto uses the same code.
ROUTE_NOT_FOUND = "InvalidRoute.NotFound"
ROUTE_ALREADY_EXISTS = "RouteAlreadyExists"
# EC2 API error-code list (errors-overview) names RouteLimitExceeded; docs/aws-facts.md
# "Quotas and throttling".
ROUTE_LIMIT_EXCEEDED = "RouteLimitExceeded"
# docs/aws-facts.md "The feature being automated": a rack without the intra-VPC update.
INVALID_PARAMETER_VALUE = "InvalidParameterValue"
# EC2 API reference, common client errors: "The specified pagination token is not valid or is
# expired."
INVALID_PAGINATION_TOKEN = "InvalidPaginationToken"

# --- assumed codes ----------------------------------------------------------------------------
# ASSUMPTION: unknown local gateway id. EC2's naming pattern for missing ids is
# Invalid<Resource>ID.NotFound (InvalidGatewayID.NotFound, InvalidRouteTableID.NotFound, ...); no
# AWS document lists this exact code.
ASSUMED_LGW_NOT_FOUND = "InvalidLocalGatewayID.NotFound"
# ASSUMPTION: unknown VIF group / VIF group association ids, by the same pattern.
ASSUMED_VIF_GROUP_NOT_FOUND = "InvalidLocalGatewayVirtualInterfaceGroupID.NotFound"
ASSUMED_VIF_GROUP_ASSOCIATION_NOT_FOUND = (
    "InvalidLocalGatewayRouteTableVirtualInterfaceGroupAssociationID.NotFound"
)
# ASSUMPTION: a route targets an LGW whose route table is not associated with the table's VPC.
# AWS only documents the rule ("can only be used in route tables where the VPC has been associated
# with an LGW"). The closest observed analogue is a route to an internet gateway of another VPC:
# InvalidParameterValue "route table rtb-... and network gateway igw-... belong to different
# networks" (seen in CloudFormation/Terraform reports, e.g. giantswarm/aws-operator PR 611).
ASSUMED_LGW_NOT_ASSOCIATED = INVALID_PARAMETER_VALUE
# ASSUMPTION: a route to an LGW in a table that also serves a subnet that is not on that LGW's
# Outpost (e.g. a main table shared with an In-Region subnet). AWS documents the rule ("can only be
# used in VPC and subnet route tables that are associated with an Outpost rack"), not the code.
ASSUMED_LGW_TABLE_NOT_OUTPOST_ONLY = INVALID_PARAMETER_VALUE
# ASSUMPTION: a destination more specific than a VPC CIDR that is not exactly a subnet's CIDR. The
# VPC user guide states the rule ("must match the entire CIDR block of a subnet"), not the code.
ASSUMED_NOT_A_SUBNET_CIDR = INVALID_PARAMETER_VALUE
# ASSUMPTION: associating a VPC with an LGW route table it is already associated (or associating)
# with. docs/aws-facts.md: "The error code for associating an already-associated VPC: unknown."
# Resource.AlreadyAssociated is EC2's documented generic code for "already in use/associated".
ASSUMED_ALREADY_ASSOCIATED = "Resource.AlreadyAssociated"
# ASSUMPTION: CreateSubnet with an OutpostArn the account does not have, or an Availability Zone
# other than the Outpost's. CreateSubnet's reference says "If you specify an Outpost ARN, you must
# also specify the Availability Zone of the Outpost subnet"; the codes are not documented.
ASSUMED_BAD_OUTPOST_ARN = INVALID_PARAMETER_VALUE
ASSUMED_OUTPOST_AZ_MISSING = "MissingParameter"
# ASSUMPTION: an unknown Filter.N.Name on the describes this extension adds. Real EC2 answers
# InvalidParameterValue "The filter 'x' is invalid" for other describes.
ASSUMED_INVALID_FILTER = INVALID_PARAMETER_VALUE
# ASSUMPTION: CreateLocalGatewayRouteTableVpcAssociation for a VPC that already has a live
# (associating/associated) association with another table of the same local gateway. AWS states
# the rule ("VPCs are exclusively associated with one LGW routing domain per Outpost"), not the
# code or text. docs/aws-facts.md, "Several LGW route tables per Outpost (routing domains)".
ASSUMED_DOMAIN_TAKEN = INVALID_PARAMETER_VALUE
# ASSUMPTION: associating a VPC with an LGW route table that is not `available` (pending,
# deleting, ...). EC2's documented code for "the resource is in an incorrect state for the request"
# is IncorrectState; AWS does not document this case. docs/aws-facts.md, "Several LGW route tables
# per Outpost (routing domains)".
ASSUMED_TABLE_NOT_AVAILABLE = "IncorrectState"
# ASSUMPTION: a change to another account's VPC shared into this one (its route tables, routes,
# subnet associations, LGW associations). AWS: participants "cannot change the owner's route
# tables"; the code is assumed to be EC2's authorisation failure, UnauthorizedOperation, HTTP 403.
# docs/aws-facts.md, "Accounts and sharing".
ASSUMED_NOT_OWNER = "UnauthorizedOperation"  # with HTTP 403 (aws/faults.py)


def domain_taken_message(vpc_id: str, table_id: str, taken_by: str, association_id: str) -> str:
    return (
        f"The VPC {vpc_id} is already associated with local gateway route table {taken_by} "
        f"({association_id}) of the same local gateway; it cannot also be associated with local "
        f"gateway route table {table_id}."
    )


def intra_vpc_not_supported_message(cidr: str) -> str:
    """AWS's exact text for a rack without the intra-VPC update (docs/aws-facts.md)."""
    return (
        f"The destination CIDR block {cidr} is equal to or more specific than one of this VPC's "
        "CIDR blocks. This route can target only an interface or an instance."
    )


class SandboxEC2Error(EC2ClientError):
    """An EC2 client error (HTTP 400, EC2 XML shape) raised by the sandbox extension."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code, message)


class SandboxEC2HttpError(HTTPException):
    """An EC2 client error with the HTTP status EC2 gives its code, shaped as an injected fault
    of that code is (aws/faults.py); moto's serialiser answers every EC2 error with 400."""

    def __init__(self, error_code: str, message: str) -> None:
        self.rendered = render(Fault("ec2", "", error_code, message, 1), "ec2", False)
        self.code = self.rendered.status
        super().__init__(description=self.rendered.body.decode("utf-8"))

    def get_headers(self, *args: object, **kwargs: object) -> list[tuple[str, str]]:
        return list(self.rendered.headers)


def not_owner(vpc_id: str, owner_id: str) -> SandboxEC2HttpError:
    return SandboxEC2HttpError(
        ASSUMED_NOT_OWNER,
        f"You are not authorized to perform this operation. VPC {vpc_id} is owned by account "
        f"{owner_id} and shared with this account.",
    )


def route_already_exists(route_table_id: str, cidr: str) -> SandboxEC2Error:
    # The text is AWS's own: "The route identified by 172.30.16.0/23 already exists." (reported
    # against real EC2 in hashicorp/terraform-provider-aws issue 23866; that issue also shows a
    # destination equal to a VPC CIDR gets this error, since the local route holds it). The wording
    # "Route in Route Table (rtb-...) with destination (...) already exists" is Terraform's wrapper.
    del route_table_id
    return SandboxEC2Error(ROUTE_ALREADY_EXISTS, f"The route identified by {cidr} already exists.")


def route_limit_exceeded(route_table_id: str, limit: int) -> SandboxEC2Error:
    # Code documented; text assumed (EC2's code list describes it as reaching "the limit on the
    # number of routes that you can add to a route table").
    return SandboxEC2Error(
        ROUTE_LIMIT_EXCEEDED,
        f"The maximum number of routes ({limit}) for route table {route_table_id} has been "
        "reached.",
    )
