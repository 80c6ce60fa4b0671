"""A scenario as the runner uses it: frozen dataclasses, valid by construction.

The file format is the contract of docs/scenario-format.md; :mod:`.loader` reads a file,
:mod:`.schema` checks its structure and types, :mod:`.rules` the rules between its parts, and
they hand over a :class:`Scenario` built from the classes below.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, TypeAlias, TypeVar

__all__ = [
    "CALL_KINDS",
    "DEFAULT_ROUTES_PER_TABLE",
    "LGW_MODES",
    "LGW_PREFIX",
    "LGW_TABLE_STATES",
    "MAIN_PREFIX",
    "STEP_KINDS",
    "TAG_KINDS",
    "AddRouteStep",
    "AdvanceClockStep",
    "AnswerStep",
    "AssociateLgwRouteTableStep",
    "AssociateRouteTableStep",
    "AssociateVpcCidrStep",
    "CallStep",
    "CreateSubnetStep",
    "DeleteRouteStep",
    "DeleteSubnetStep",
    "DisassociateLgwRouteTableStep",
    "DisassociateRouteTableStep",
    "EventStep",
    "FailStep",
    "LgwAssociationSpec",
    "LgwRouteTableSpec",
    "OutpostSpec",
    "Quotas",
    "ReleaseStep",
    "RouteSpec",
    "RouteTableSpec",
    "Scenario",
    "SetMainRouteTableStep",
    "SettingsSpec",
    "Step",
    "SubnetSpec",
    "SweepStep",
    "TagStep",
    "Tags",
    "ThrottleSpec",
    "TogetherStep",
    "UntagStep",
    "VpcSpec",
    "lgw_outpost",
]

DEFAULT_ROUTES_PER_TABLE = 50  # AWS's default "routes per route table" quota
MAX_ROUTES_PER_TABLE = 1000  # AWS's ceiling for that quota
MAX_TIME_SCALE = 3600  # AWS seconds per real second, at most an hour (throttle.time_scale)
MAX_VPC_CIDR_BLOCKS = 5  # AWS's default "IPv4 CIDR blocks per VPC" quota (moto enforces it too)
MIN_PREFIX, MAX_PREFIX = 16, 28  # AWS's allowed sizes of VPC and subnet CIDR blocks
LGW_MODES = ("direct-vpc-routing", "coip")
DEFAULT_LGW_MODE = "direct-vpc-routing"
# LGW route table states a scenario may seed (docs/aws-facts.md, "Several LGW route tables per
# Outpost": pending | available | deleting | deleted; a deleted table is simply not there).
LGW_TABLE_STATES = ("available", "pending", "deleting")
DEFAULT_LGW_TABLE_STATE = "available"
GENERATIONS = (1, 2)
# Active (VIF-group associated) LGW route tables per Outpost: one on a first-generation rack, up
# to 10 routing domains on a second-generation one (docs/aws-facts.md, "Several LGW route tables
# per Outpost").
MAX_ACTIVE_TABLES = {1: 1, 2: 10}
# An Amazon-provided IPv6 block of a VPC is a /56 and a subnet's IPv6 block a /64 (Amazon VPC
# User Guide, "IPv6 VPC CIDR blocks" / "Subnet CIDR blocks").
VPC_IPV6_PREFIX, SUBNET_IPV6_PREFIX = 56, 64
MAIN_PREFIX = "main:"
LGW_PREFIX = "lgw:"
SIMPLE_TARGETS = ("eni", "igw")
#: What ``tag`` / ``untag`` steps name, and the EC2 resource each is.
TAG_KINDS = ("vpc", "subnet", "route_table", "lgw_route_table")
#: Steps that make API calls: the only ones a ``together`` may hold.
CALL_KINDS = (
    "create_subnet",
    "delete_subnet",
    "associate_route_table",
    "disassociate_route_table",
    "add_route",
    "delete_route",
    "associate_lgw_route_table",
    "disassociate_lgw_route_table",
    "tag",
    "untag",
    "associate_vpc_cidr",
    "set_main_route_table",
)
STEP_KINDS = (
    *CALL_KINDS,
    "sweep",
    "fail",
    "together",
    "event",
    "release",
    "advance_clock",
    "approve",
    "reject",
)

#: Tags of one resource, as (key, value) pairs in the file's order (frozen; ``dict()`` them).
Tags: TypeAlias = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class VpcSpec:
    name: str
    cidr: str
    secondary_cidrs: tuple[str, ...] = ()
    ipv6_cidr: str | None = None  # how the scenario names the VPC's Amazon-provided /56
    tags: Tags = ()
    account: str | None = None  # its account's name; None: the scenario lists no accounts

    @property
    def cidrs(self) -> tuple[str, ...]:
        """Every IPv4 CIDR block of the VPC, primary first."""
        return (self.cidr, *self.secondary_cidrs)


@dataclass(frozen=True)
class LgwRouteTableSpec:
    """One LGW route table of an Outpost (with its VIF group, a routing domain)."""

    name: str
    mode: str = DEFAULT_LGW_MODE
    active: bool = True  # associated with a VIF group: it carries traffic
    state: str = DEFAULT_LGW_TABLE_STATE
    tags: Tags = ()


@dataclass(frozen=True)
class OutpostSpec:
    """An Outpost rack; ``lgw_route_tables`` is never empty once loaded (the default: one table
    named after the Outpost, in ``lgw_mode``, active); ``lgw_mode`` is the first table's mode."""

    name: str
    lgw_mode: str = DEFAULT_LGW_MODE
    intra_vpc: bool = True
    generation: int = 1
    lgw_route_tables: tuple[LgwRouteTableSpec, ...] = ()
    account: str | None = None  # the owner account's name; None: no accounts listed
    shared_with: tuple[str, ...] = ()  # accounts it is shared with (RAM), with its LGW tables

    def seen_by(self, account: str | None) -> bool:
        """Whether ``account`` sees the Outpost (owns it or has it shared; always, with no
        accounts listed): only then may it put subnets on it or use its LGW route tables."""
        return account is None or account == self.account or account in self.shared_with

    @property
    def tables(self) -> tuple[LgwRouteTableSpec, ...]:
        """The Outpost's LGW route tables (the default one when none are given)."""
        return self.lgw_route_tables or (LgwRouteTableSpec(self.name, self.lgw_mode),)


@dataclass(frozen=True)
class LgwAssociationSpec:
    """``lgw_associations``: a VPC associated with an LGW route table by a person, before the
    first step."""

    vpc: str
    lgw_route_table: str


@dataclass(frozen=True)
class RouteSpec:
    destination: str
    target: str  # "lgw:OUTPOST" | "eni" | "igw"

    @property
    def outpost(self) -> str | None:
        """The Outpost whose LGW the route targets, if it targets one."""
        return lgw_outpost(self.target)


@dataclass(frozen=True)
class RouteTableSpec:
    name: str
    vpc: str
    routes: tuple[RouteSpec, ...] = ()
    tags: Tags = ()


@dataclass(frozen=True)
class SubnetSpec:
    name: str
    vpc: str
    cidr: str
    outpost: str | None = None
    route_table: str | None = None  # None: the VPC's main route table
    ipv6_cidr: str | None = None  # a /64 of the VPC's ipv6_cidr
    tags: Tags = ()


@dataclass(frozen=True)
class Quotas:
    routes_per_table: int = DEFAULT_ROUTES_PER_TABLE


@dataclass(frozen=True)
class ThrottleSpec:
    """``throttle``: the sandbox answers EC2 calls beyond AWS's rates with RequestLimitExceeded
    (after seeding), its AWS time running ``time_scale`` times faster than real time."""

    time_scale: float = 1.0


@dataclass(frozen=True)
class SettingsSpec:
    """``settings``: the stack parameters the pipeline runs with; None keeps template.yaml's
    default. :meth:`parameters` names them as template.yaml does."""

    report_only: bool | None = None
    approval_mode: str | None = None
    approval_auto_approve_additions: bool | None = None
    approval_timeout_hours: int | None = None
    managed_vpcs: str | None = None
    opt_in_tag_key: str | None = None
    opt_out_tag_key: str | None = None
    apply_max_concurrency: int | None = None
    routes_per_table_quota: int | None = None
    delete_threshold_percent: int | None = None
    delete_min_owned_routes: int | None = None
    quarantine_minutes: int | None = None
    lease_seconds: int | None = None

    PARAMETERS: ClassVar[dict[str, str]] = {
        "report_only": "ReportOnly",
        "approval_mode": "ApprovalMode",
        "approval_auto_approve_additions": "ApprovalAutoApproveAdditions",
        "approval_timeout_hours": "ApprovalTimeoutHours",
        "managed_vpcs": "ManagedVpcs",
        "opt_in_tag_key": "OptInTagKey",
        "opt_out_tag_key": "OptOutTagKey",
        "apply_max_concurrency": "ApplyMaxConcurrency",
        "routes_per_table_quota": "RoutesPerTableQuota",
        "delete_threshold_percent": "DeleteThresholdPercent",
        "delete_min_owned_routes": "DeleteMinOwnedRoutes",
        "quarantine_minutes": "QuarantineMinutes",
        "lease_seconds": "LeaseSeconds",
    }

    def parameters(self) -> dict[str, str]:
        """The given settings as template.yaml parameter values (text, as CloudFormation)."""
        found: dict[str, str] = {}
        for key, parameter in self.PARAMETERS.items():
            value = getattr(self, key)
            if isinstance(value, bool):
                found[parameter] = "true" if value else "false"
            elif value is not None:
                found[parameter] = str(value)
        return found


@dataclass(frozen=True)
class CreateSubnetStep:
    """``create_subnet``: CreateSubnet, then AssociateRouteTable when route_table is given."""

    kind: ClassVar[str] = "create_subnet"
    name: str
    vpc: str
    cidr: str
    outpost: str | None = None
    route_table: str | None = None  # may be "main:VPC"
    quiet: bool = False
    ipv6_cidr: str | None = None
    tags: Tags = ()

    @property
    def subnet(self) -> SubnetSpec:
        return SubnetSpec(
            self.name,
            self.vpc,
            self.cidr,
            self.outpost,
            self.route_table,
            self.ipv6_cidr,
            self.tags,
        )

    @property
    def label(self) -> str:
        return f"create_subnet {self.name}"


@dataclass(frozen=True)
class DeleteSubnetStep:
    """``delete_subnet``: DeleteSubnet."""

    kind: ClassVar[str] = "delete_subnet"
    name: str
    quiet: bool = False

    @property
    def label(self) -> str:
        return f"delete_subnet {self.name}"


@dataclass(frozen=True)
class AssociateRouteTableStep:
    """``associate_route_table``: AssociateRouteTable, or ReplaceRouteTableAssociation."""

    kind: ClassVar[str] = "associate_route_table"
    subnet: str
    route_table: str  # may be "main:VPC"
    quiet: bool = False

    @property
    def label(self) -> str:
        return f"associate_route_table {self.subnet} -> {self.route_table}"


@dataclass(frozen=True)
class DisassociateRouteTableStep:
    """``disassociate_route_table``: DisassociateRouteTable (back to the main table)."""

    kind: ClassVar[str] = "disassociate_route_table"
    subnet: str
    quiet: bool = False

    @property
    def label(self) -> str:
        return f"disassociate_route_table {self.subnet}"


@dataclass(frozen=True)
class AddRouteStep:
    """``add_route``: CreateRoute, made by the scenario's person, not the pipeline."""

    kind: ClassVar[str] = "add_route"
    route_table: str
    destination: str
    target: str
    quiet: bool = False

    @property
    def label(self) -> str:
        return f"add_route {self.route_table} {self.destination} -> {self.target}"


@dataclass(frozen=True)
class DeleteRouteStep:
    """``delete_route``: DeleteRoute, made by the scenario's person (drift)."""

    kind: ClassVar[str] = "delete_route"
    route_table: str
    destination: str
    quiet: bool = False

    @property
    def label(self) -> str:
        return f"delete_route {self.route_table} {self.destination}"


@dataclass(frozen=True)
class AssociateLgwRouteTableStep:
    """``associate_lgw_route_table``: CreateLocalGatewayRouteTableVpcAssociation (a person's)."""

    kind: ClassVar[str] = "associate_lgw_route_table"
    vpc: str
    lgw_route_table: str
    quiet: bool = False

    @property
    def label(self) -> str:
        return f"associate_lgw_route_table {self.vpc} -> {self.lgw_route_table}"


@dataclass(frozen=True)
class DisassociateLgwRouteTableStep:
    """``disassociate_lgw_route_table``: DeleteLocalGatewayRouteTableVpcAssociation, whoever
    made the association."""

    kind: ClassVar[str] = "disassociate_lgw_route_table"
    vpc: str
    lgw_route_table: str
    quiet: bool = False

    @property
    def label(self) -> str:
        return f"disassociate_lgw_route_table {self.vpc} -> {self.lgw_route_table}"


@dataclass(frozen=True)
class TagStep:
    """``tag``: CreateTags on one resource (``target_kind`` is one of TAG_KINDS)."""

    kind: ClassVar[str] = "tag"
    target_kind: str
    target: str
    tags: Tags
    quiet: bool = False

    @property
    def label(self) -> str:
        pairs = ", ".join(f"{k}={v}" for k, v in self.tags)
        return f"tag {self.target_kind} {self.target} {pairs}"


@dataclass(frozen=True)
class UntagStep:
    """``untag``: DeleteTags of some keys on one resource."""

    kind: ClassVar[str] = "untag"
    target_kind: str
    target: str
    keys: tuple[str, ...]
    quiet: bool = False

    @property
    def label(self) -> str:
        return f"untag {self.target_kind} {self.target} {', '.join(self.keys)}"


@dataclass(frozen=True)
class AssociateVpcCidrStep:
    """``associate_vpc_cidr``: AssociateVpcCidrBlock (an IPv4 block)."""

    kind: ClassVar[str] = "associate_vpc_cidr"
    vpc: str
    cidr: str
    quiet: bool = False

    @property
    def label(self) -> str:
        return f"associate_vpc_cidr {self.vpc} {self.cidr}"


@dataclass(frozen=True)
class SetMainRouteTableStep:
    """``set_main_route_table``: ReplaceRouteTableAssociation of the VPC's main association."""

    kind: ClassVar[str] = "set_main_route_table"
    vpc: str
    route_table: str
    quiet: bool = False

    @property
    def label(self) -> str:
        return f"set_main_route_table {self.vpc} -> {self.route_table}"


@dataclass(frozen=True)
class ReleaseStep:
    """``release``: no call; the CLI's release of the Outpost's quarantine."""

    kind: ClassVar[str] = "release"
    outpost: str
    quiet: bool = False

    @property
    def label(self) -> str:
        return f"release {self.outpost}"


@dataclass(frozen=True)
class AnswerStep:
    """``approve`` / ``reject``: no call of the scenario's; the CLI's answer to the changes an
    execution holds for approval in the VPC (approval mode)."""

    kind: ClassVar[str] = "approve"
    vpc: str
    approve: bool = True
    reason: str = ""
    quiet: bool = False

    @property
    def label(self) -> str:
        return f"{'approve' if self.approve else 'reject'} {self.vpc}"


@dataclass(frozen=True)
class AdvanceClockStep:
    """``advance_clock``: no call; the sandbox's clock (AWS time) moves on ``seconds``."""

    kind: ClassVar[str] = "advance_clock"
    seconds: int
    quiet: bool = False

    @property
    def label(self) -> str:
        return f"advance_clock {self.seconds}s"


@dataclass(frozen=True)
class SweepStep:
    """``sweep``: no call; the scheduled reconcile of every VPC runs now."""

    kind: ClassVar[str] = "sweep"
    quiet: bool = False

    @property
    def label(self) -> str:
        return "sweep"


@dataclass(frozen=True)
class FailStep:
    """``fail``: no call; the sandbox answers the next ``times`` calls of ``api`` with ``error``."""

    kind: ClassVar[str] = "fail"
    api: str
    error: str
    times: int
    quiet: bool = False

    @property
    def label(self) -> str:
        return f"fail {self.api} {self.error} x{self.times}"


@dataclass(frozen=True)
class EventStep:
    """``event``: no call; a raw EventBridge event, placeholders still as text."""

    kind: ClassVar[str] = "event"
    event: dict[str, Any] = field(hash=False)
    quiet: bool = False

    @property
    def label(self) -> str:
        detail = self.event.get("detail")
        name = detail.get("eventName") if isinstance(detail, dict) else None
        if not isinstance(name, str):
            name = self.event.get("detail-type")
        return f"event {name}" if isinstance(name, str) else "event"


@dataclass(frozen=True)
class TogetherStep:
    """``together``: the inner steps' calls in order, then all their events at once."""

    kind: ClassVar[str] = "together"
    steps: tuple[CallStep, ...]
    quiet: bool = False

    @property
    def label(self) -> str:
        count = len(self.steps)
        return f"together ({count} step{'s' if count != 1 else ''})"


CallStep: TypeAlias = (
    CreateSubnetStep
    | DeleteSubnetStep
    | AssociateRouteTableStep
    | DisassociateRouteTableStep
    | AddRouteStep
    | DeleteRouteStep
    | AssociateLgwRouteTableStep
    | DisassociateLgwRouteTableStep
    | TagStep
    | UntagStep
    | AssociateVpcCidrStep
    | SetMainRouteTableStep
)
"""A step that makes API calls (and only those may sit in a ``together``)."""

Step: TypeAlias = (
    CallStep
    | SweepStep
    | FailStep
    | TogetherStep
    | EventStep
    | ReleaseStep
    | AdvanceClockStep
    | AnswerStep
)


@dataclass(frozen=True)
class Scenario:
    """A validated scenario. ``label`` of each step is the report's ``step`` string:

    ``create_subnet NAME``, ``delete_subnet NAME``, ``associate_route_table SUBNET -> TABLE``,
    ``disassociate_route_table SUBNET``, ``add_route TABLE DEST -> TARGET``,
    ``delete_route TABLE DEST``, ``sweep``, ``fail API ERROR xTIMES``, ``together (N steps)``,
    ``event EVENTNAME`` (detail.eventName, else detail-type, else nothing),
    ``associate_lgw_route_table VPC -> TABLE``, ``disassociate_lgw_route_table VPC -> TABLE``,
    ``tag KIND NAME K=V, ...``, ``untag KIND NAME K, ...``, ``associate_vpc_cidr VPC CIDR``,
    ``set_main_route_table VPC -> TABLE``, ``release OUTPOST``, ``advance_clock Ns``.
    """

    name: str
    description: str
    vpcs: tuple[VpcSpec, ...]
    outposts: tuple[OutpostSpec, ...] = ()
    route_tables: tuple[RouteTableSpec, ...] = ()
    subnets: tuple[SubnetSpec, ...] = ()
    quotas: Quotas = Quotas()
    steps: tuple[Step, ...] = ()
    throttle: ThrottleSpec | None = None  # None: no throttle emulation
    lgw_associations: tuple[LgwAssociationSpec, ...] = ()
    settings: SettingsSpec = SettingsSpec()
    #: Account names, the first the sandbox's own; empty: one account, as before accounts.
    accounts: tuple[str, ...] = ()

    def vpc(self, name: str) -> VpcSpec:
        return _by_name(self.vpcs, name, "VPC")

    def outpost(self, name: str) -> OutpostSpec:
        return _by_name(self.outposts, name, "Outpost")

    def route_table(self, name: str) -> RouteTableSpec:
        return _by_name(self.route_tables, name, "route table")

    def lgw_route_table(self, name: str) -> tuple[OutpostSpec, LgwRouteTableSpec]:
        """An LGW route table by its name, with its Outpost."""
        for outpost in self.outposts:
            for table in outpost.tables:
                if table.name == name:
                    return outpost, table
        raise KeyError(f"no LGW route table named {name!r}")

    def subnet(self, name: str) -> SubnetSpec:
        """A seeded subnet (see :meth:`subnet_specs` for step-created ones too)."""
        return _by_name(self.subnets, name, "subnet")

    def account_of_vpc(self, name: str) -> str | None:
        """The VPC's account name (None when the scenario lists no accounts)."""
        return self.vpc(name).account

    def vpcs_of(self, account: str | None) -> tuple[VpcSpec, ...]:
        """The VPCs of one account (every VPC for None)."""
        return tuple(v for v in self.vpcs if account is None or v.account == account)

    def vpc_of_route_table(self, name: str) -> str:
        """The VPC of a custom table or of ``main:VPC``."""
        if name.startswith(MAIN_PREFIX):
            return self.vpc(name[len(MAIN_PREFIX) :]).name
        return self.route_table(name).vpc

    def subnet_specs(self) -> Iterator[SubnetSpec]:
        """Every subnet the scenario ever has: seeded first, then created by steps, in order."""
        yield from self.subnets
        for step in _flatten(self.steps):
            if isinstance(step, CreateSubnetStep):
                yield step.subnet

    def all_steps(self) -> Iterator[Step]:
        """Every step, the inner steps of ``together`` in place of it."""
        return _flatten(self.steps)


def _flatten(steps: Iterable[Step]) -> Iterator[Step]:
    for step in steps:
        if isinstance(step, TogetherStep):
            yield from step.steps
        else:
            yield step


class _Named(Protocol):
    @property
    def name(self) -> str: ...


_NamedT = TypeVar("_NamedT", bound=_Named)


def _by_name(items: Iterable[_NamedT], name: str, what: str) -> _NamedT:
    for item in items:
        if item.name == name:
            return item
    raise KeyError(f"no {what} named {name!r}")


def lgw_outpost(target: str) -> str | None:
    """The Outpost an ``lgw:OUTPOST`` target names, else None."""
    return target[len(LGW_PREFIX) :] if target.startswith(LGW_PREFIX) else None
