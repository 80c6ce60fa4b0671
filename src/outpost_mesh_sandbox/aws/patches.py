"""Every change the sandbox makes to a third-party object, in one list, installed once.

moto plays AWS, but not all of it: it has no Outposts, no LGW routes, creates a default VPC,
runs no Lambda code, pages none of the describes the core follows. The sandbox fills those gaps
by replacing attributes of moto's classes (and one of ``sys``). Each :class:`Patch` below names the
attribute, why the sandbox changes it and the AWS behaviour it stands for (with its source); the
code it installs lives in the module named by ``build``. :func:`install` applies them all, once
per process (moto's backends are process-wide too), under one lock and one guard; a second call
does nothing.

Not patches, and so not here: moto's documented configuration (``POST /moto-api/config``, applied
by :func:`outpost_mesh_sandbox.aws.middleware.apply_moto_config`), ``MOTO_PORT`` (read by moto's
Step Functions engine; :class:`outpost_mesh_sandbox.aws.server.Sandbox` sets it), and what the
Lambda seam sets on the project's own objects through their public attributes (the Powertools
logger's stream, the metrics namespace; ``outpost_mesh_sandbox.stack.lambda_seam``). EC2 and
DynamoDB requests are serialised by the WSGI middleware, not by a patch.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import moto.ec2.models.tags as moto_ec2_tags
import moto.ec2.utils as moto_ec2_utils
from moto.awslambda_simple.models import LambdaSimpleBackend
from moto.ec2.models import EC2Backend
from moto.ec2.models.route_tables import Route, RouteBackend, RouteTable
from moto.ec2.models.subnets import Subnet, SubnetBackend
from moto.ec2.models.vpcs import VPC
from moto.ec2.responses import EC2Response
from moto.ec2.responses.route_tables import RouteTables
from moto.ec2.responses.subnets import Subnets
from moto.ec2.responses.vpcs import VPCs
from moto.events.models import EventsBackend
from moto.events.utils import EventTemplateParser
from moto.sns.models import SNSBackend
from moto.stepfunctions.parser.asl.component.common.error_name.error_equals_decl import (
    ErrorEqualsDecl,
)
from moto.stepfunctions.responses import StepFunctionResponse

from outpost_mesh_sandbox.aws import (
    account,
    callbacks,
    ec2_actions,
    event_buses,
    lambda_service,
    local_gateways,
    routes,
    sharing,
    size_limits,
)
from outpost_mesh_sandbox.aws.lgw_models import RESOURCE_PREFIXES

_ABSENT = object()


@dataclass(frozen=True)
class Patch:
    """``target.name`` becomes ``build(original)`` (``original`` is None for a new attribute)."""

    target: Any
    name: str
    build: Callable[[Any], Any]
    why: str
    aws: str

    @property
    def label(self) -> str:
        owner = getattr(self.target, "__qualname__", None) or getattr(self.target, "__name__", "")
        return f"{owner}.{self.name}"


def _value(value: Any) -> Callable[[Any], Any]:
    return lambda _original: value


def _action(function: Callable[..., Any]) -> Callable[[Any], Any]:
    return lambda _original: function


def _subnet_ipv6_associations(subnet: Any) -> list[dict[str, Any]]:
    """A subnet's associated IPv6 blocks as DescribeSubnets' template reads them, with the
    state once (moto nests its own ``{"State": ...}`` dict inside ``state``)."""
    return [
        {
            "ipv6CidrBlock": association["ipv6CidrBlock"],
            "associationId": association["associationId"],
            "ipv6CidrBlockState": {"state": association["ipv6CidrBlockState"]["State"]},
        }
        for association in subnet.ipv6_cidr_block_associations.values()
        if association["ipv6CidrBlockState"]["State"] == "associated"
    ]


_LGW_API = (
    "EC2 API reference: DescribeLocalGateways, DescribeLocalGatewayRouteTables, "
    "DescribeLocalGatewayVirtualInterfaceGroups, "
    "DescribeLocalGatewayRouteTableVirtualInterfaceGroupAssociations, "
    "Create/Describe/DeleteLocalGatewayRouteTableVpcAssociation(s); states associating -> "
    "associated | failed, disassociating -> disassociated (docs/aws-facts.md 'LGW route tables "
    "and VPC associations', 'Several LGW route tables per Outpost (routing domains)')"
)
_LGW_TAGS = (
    "CreateTags/DeleteTags/DescribeTags on LGW resources, resource types local-gateway, "
    "local-gateway-route-table, local-gateway-route-table-vpc-association, "
    "local-gateway-virtual-interface-group, "
    "local-gateway-route-table-virtual-interface-group-association (EC2 API reference, "
    "ResourceType); an unknown id is NotFound"
)
_SHARED_IN = (
    "a VPC shared in by another account shows the owner's OwnerId for the VPC, its subnets and "
    "route tables; participants cannot change the owner's route tables (docs/aws-facts.md "
    "'Accounts and sharing')"
)

PATCHES: tuple[Patch, ...] = (
    # -- Outposts and their local gateways (aws/ec2_actions.py, aws/outposts.py) ----------------
    *(
        Patch(
            EC2Response,
            name,
            _action(function),
            "moto has no Outposts: the LGW API is added to its EC2 dispatcher",
            _LGW_API,
        )
        for name, function in ec2_actions.LGW_ACTIONS.items()
    ),
    Patch(
        Subnet,
        "outpost_arn",
        _value(None),
        "DescribeSubnets serialises Subnet.OutpostArn from this attribute (None: In-Region)",
        "DescribeSubnets returns OutpostArn for a subnet on an Outpost (EC2 API reference, Subnet)",
    ),
    Patch(
        Subnet,
        "ipv6_cidr_block_association_set",
        _value(property(_subnet_ipv6_associations)),
        "moto answers Ipv6CidrBlockState.State as the repr of a dict ({'State': 'associated'})",
        "DescribeSubnets: Ipv6CidrBlockAssociationSet[].Ipv6CidrBlockState.State is associating | "
        "associated | disassociating | disassociated | failing | failed (EC2 API reference, "
        "SubnetCidrBlockState)",
    ),
    Patch(
        Subnet,
        "get_filter_value",
        ec2_actions.subnet_filter_value,
        "moto knows no outpost-arn filter",
        "DescribeSubnets filter outpost-arn (EC2 API reference, DescribeSubnets)",
    ),
    Patch(
        Subnets,
        "create_subnet",
        ec2_actions.create_subnet_on_outpost,
        "moto ignores CreateSubnet's OutpostArn",
        "CreateSubnet with OutpostArn puts the subnet on the rack; the Availability Zone must be "
        "the Outpost's (EC2 API reference, CreateSubnet)",
    ),
    # -- routes (aws/routes.py) ------------------------------------------------------------------
    Patch(
        Route,
        "local_gateway_id",
        _value(None),
        "DescribeRouteTables serialises Route.LocalGatewayId from this attribute",
        "a route can target a local gateway (EC2 API reference, CreateRoute LocalGatewayId)",
    ),
    Patch(
        Route,
        "state",
        _value(property(routes.route_state)),
        "moto shows every route active",
        "a route whose target is gone is `blackhole` (VPC user guide, route tables); assumed "
        "for an LGW the VPC is no longer associated with (aws/routes.py)",
    ),
    Patch(
        RouteTable,
        "get_filter_value",
        routes.table_filter_value,
        "moto knows no route.local-gateway-id filter",
        "DescribeRouteTables filter route.local-gateway-id (EC2 API reference)",
    ),
    Patch(
        RouteBackend,
        "create_route",
        routes.checked_create_route,
        "moto accepts any route: the rules AWS enforces are checked first (aws/routes.py)",
        "LGW routes only in tables of the LGW's Outpost with the VPC associated; a more specific "
        "route matches a subnet CIDR; RouteAlreadyExists; RouteLimitExceeded (docs/aws-facts.md "
        "'Routes', 'Quotas and throttling'; VPC user guide)",
    ),
    Patch(
        RouteBackend,
        "replace_route",
        routes.checked_replace_route,
        "moto knows no LocalGatewayId target",
        "ReplaceRoute to a local gateway follows CreateRoute's LGW rules (EC2 API reference)",
    ),
    Patch(
        RouteBackend,
        "delete_route",
        routes.checked_delete_route,
        "moto deletes the local route",
        "the local route cannot be deleted (VPC user guide, route tables)",
    ),
    Patch(
        RouteTables,
        "create_route",
        _action(routes.create_route_response),
        "moto's CreateRoute action drops LocalGatewayId",
        "CreateRoute LocalGatewayId (EC2 API reference)",
    ),
    Patch(
        RouteTables,
        "replace_route",
        _action(routes.replace_route_response),
        "moto's ReplaceRoute action drops LocalGatewayId",
        "ReplaceRoute LocalGatewayId (EC2 API reference)",
    ),
    # -- tags on LGW resources (aws/local_gateways.py) --------------------------------------------
    Patch(
        moto_ec2_utils,
        "EC2_RESOURCE_TO_PREFIX",
        lambda original: {**original, **RESOURCE_PREFIXES},
        "moto's CreateTags accepts only ids whose prefix it knows (is_valid_resource_id)",
        _LGW_TAGS,
    ),
    Patch(
        moto_ec2_utils,
        "get_prefix",
        local_gateways.prefix_aware,
        "moto reads every lgw-... id as prefix 'lgw' (the text up to the first dash)",
        _LGW_TAGS,
    ),
    Patch(
        moto_ec2_tags,
        "get_prefix",
        local_gateways.prefix_aware,
        "moto's tag backend imported get_prefix by name (DescribeTags' resource-type)",
        _LGW_TAGS,
    ),
    Patch(
        moto_ec2_tags,
        "EC2_PREFIX_TO_RESOURCE",
        lambda original: {**original, **{v: k for k, v in RESOURCE_PREFIXES.items()}},
        "moto's DescribeTags names a tag's resource type from its id prefix",
        _LGW_TAGS,
    ),
    Patch(
        EC2Backend,
        "do_resources_exist",
        local_gateways.existence_checked,
        "moto checks CreateTags' ids exist only for the resources it has",
        _LGW_TAGS,
    ),
    # -- VPCs shared into the account (aws/sharing.py) ------------------------------------------
    *(
        Patch(
            target,
            "owner_id",
            _value(property(sharing.owner_id)),
            "moto shows the backend's account as every VPC's, subnet's and route table's owner",
            _SHARED_IN,
        )
        for target in (VPC, Subnet, RouteTable)
    ),
    *(
        Patch(
            RouteBackend,
            name,
            sharing.owner_checked(vpc_of),
            "moto lets the account change any VPC's route tables",
            _SHARED_IN + "; the error code is assumed (errors.ASSUMED_NOT_OWNER)",
        )
        for name, vpc_of in sharing.GUARDED.items()
    ),
    # -- the account (aws/account.py) ------------------------------------------------------------
    Patch(
        EC2Backend,
        "__init__",
        account.building_backend,
        "marks a backend being built, so that moto's default VPC is not made then",
        "the sandbox account has only the scenario's VPCs (docs/scenario-format.md)",
    ),
    Patch(
        EC2Backend,
        "create_default_vpc",
        account.no_default_vpc_while_building,
        "moto creates a default VPC in every new backend",
        "an account may have no default VPC; CreateDefaultVpc makes one (EC2 API reference)",
    ),
    Patch(
        EC2Backend,
        "default_vpc",
        _value(account.LIVE_DEFAULT_VPC),
        "moto keeps the VPC it built as the default even when there is none",
        "the default VPC is the one marked isDefault, if any (VPC user guide, default VPCs)",
    ),
    Patch(
        EC2Backend,
        "create_security_group",
        account.security_group_needs_a_vpc,
        "moto crashes on a group without VpcId when there is no default VPC",
        "VPCIdNotSpecified: 'No default VPC for this user' (EC2 API error codes)",
    ),
    Patch(
        EC2Backend,
        "get_default_security_group",
        account.no_default_security_group_without_vpc,
        "moto looks for the default VPC's group even when there is no default VPC",
        "without a default VPC there is no default VPC security group (VPC user guide)",
    ),
    Patch(
        SubnetBackend,
        "create_subnet",
        account.subnet_not_default_for_az,
        "moto marks the first subnet of each zone DefaultForAz",
        "only a default VPC's subnets are default subnets (VPC user guide, default subnets)",
    ),
    Patch(
        SubnetBackend,
        "delete_subnet",
        account.delete_subnet_associations,
        "moto keeps a deleted subnet's route table association (docs/aws-facts.md 'Tools on "
        "this kind of machine')",
        "deleting a subnet removes its route table association (VPC user guide)",
    ),
    # -- Describe answers in pages (aws/paging.py) -----------------------------------------------
    Patch(
        Subnets,
        "describe_subnets",
        ec2_actions.paged("Subnets"),
        "moto returns every subnet in one answer, MaxResults or not",
        "Describe answers come in pages; the caller follows NextToken (EC2 API reference, "
        "Pagination); page size without MaxResults assumed (aws/paging.py)",
    ),
    Patch(
        RouteTables,
        "describe_route_tables",
        ec2_actions.paged("RouteTables"),
        "moto returns every route table in one answer, MaxResults or not",
        "as DescribeSubnets (EC2 API reference, Pagination)",
    ),
    Patch(
        VPCs,
        "describe_vpcs",
        ec2_actions.paged("Vpcs"),
        "moto returns every VPC in one answer, MaxResults or not",
        "as DescribeSubnets (EC2 API reference, Pagination)",
    ),
    # -- size limits (aws/size_limits.py) --------------------------------------------------------
    Patch(
        SNSBackend,
        "publish",
        size_limits.publish_size_checked,
        "moto counts a message's characters, not its UTF-8 bytes, and not its attributes",
        "SNS Publish refuses a message over 262,144 bytes, message attributes included, with "
        "InvalidParameter 'Invalid parameter: Message too long' (docs/aws-facts.md 'Size "
        "limits'; SNS API reference, MessageAttributeValue)",
    ),
    Patch(
        ErrorEqualsDecl,
        "_eval_body",
        size_limits.terminal_not_caught_by_all,
        "moto's States.ALL matches every error, States.DataLimitExceeded too",
        "States.DataLimitExceeded (a task result or state over 256 KiB) is terminal: States.ALL "
        "neither catches nor retries it (docs/aws-facts.md 'Size limits'; Step Functions "
        "developer guide, error names); explicit names assumed to match (aws/size_limits.py)",
    ),
    # -- EventBridge (aws/event_buses.py) ----------------------------------------------------------
    Patch(
        EventsBackend,
        "put_events",
        event_buses.to_the_bus_account,
        "moto looks for a bus ARN's name in the caller's account and writes its own account as the "
        "event's account",
        "PutEvents delivers to the bus the EventBusName ARN names, in its account, and the event's "
        "account is the sender's (EventBridge API reference, PutEventsRequestEntry; user guide, "
        "events between AWS accounts)",
    ),
    Patch(
        EventTemplateParser,
        "DEFAULT_EVENT_INPUT_TEMPLATE",
        event_buses.whole_event,
        "moto's default target input leaves out the event's account",
        "A target without InputTransformer gets the whole event, account included (EventBridge "
        "user guide, 'Amazon EventBridge events')",
    ),
    # -- Step Functions callbacks (aws/callbacks.py) ---------------------------------------------
    Patch(
        StepFunctionResponse,
        "send_task_failure",
        callbacks.send_task_failure_with_cause,
        "moto's SendTaskFailure drops the cause",
        "SendTaskFailure hands error and cause to the waiting task's Catch (Step Functions API "
        "reference, SendTaskFailure; docs/aws-facts.md 'Approvals (Step Functions callbacks)')",
    ),
    # -- Lambda (aws/lambda_service.py) ----------------------------------------------------------
    Patch(
        LambdaSimpleBackend,
        "invoke",
        lambda_service.runs_deployed_code,
        "moto's Lambda without Docker runs no code: the project's handler answers in-process",
        "Invoke runs the function; an unhandled exception answers 200 with X-Amz-Function-Error: "
        "Unhandled and the runtime's error payload (Lambda API reference, Invoke)",
    ),
    Patch(
        sys,
        "stdout",
        lambda _original: lambda_service.thread_output(),
        "Powertools prints EMF metrics to stdout: an invocation's writes go to its function's log",
        "Lambda sends a function's stdout to its CloudWatch Logs stream, where EMF lines become "
        "metrics (Lambda developer guide, function logs; CloudWatch embedded metric format)",
    ),
)


class _Installed:
    lock = threading.Lock()
    done = False
    originals: dict[str, Any] = {}


def install() -> None:
    """Apply every patch, once per process (thread-safe; later calls do nothing)."""
    with _Installed.lock:
        if _Installed.done:
            return
        for patch in PATCHES:
            original = vars(patch.target).get(patch.name, _ABSENT)
            if original is _ABSENT:
                original = getattr(patch.target, patch.name, None)
            _Installed.originals[patch.label] = original
            setattr(patch.target, patch.name, patch.build(original))
        _Installed.done = True


def installed() -> bool:
    with _Installed.lock:
        return _Installed.done


def original(label: str) -> Any:
    """What ``Target.name`` was before :func:`install` (for tests and diagnostics)."""
    with _Installed.lock:
        return _Installed.originals[label]
