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
    "MAIN_PREFIX",
    "STEP_KINDS",
    "AddRouteStep",
    "AssociateRouteTableStep",
    "CallStep",
    "CreateSubnetStep",
    "DeleteRouteStep",
    "DeleteSubnetStep",
    "DisassociateRouteTableStep",
    "EventStep",
    "FailStep",
    "OutpostSpec",
    "Quotas",
    "RouteSpec",
    "RouteTableSpec",
    "Scenario",
    "Step",
    "SubnetSpec",
    "SweepStep",
    "ThrottleSpec",
    "TogetherStep",
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
MAIN_PREFIX = "main:"
LGW_PREFIX = "lgw:"
SIMPLE_TARGETS = ("eni", "igw")
#: Steps that make API calls: the only ones a ``together`` may hold.
CALL_KINDS = (
    "create_subnet",
    "delete_subnet",
    "associate_route_table",
    "disassociate_route_table",
    "add_route",
    "delete_route",
)
STEP_KINDS = (*CALL_KINDS, "sweep", "fail", "together", "event")


@dataclass(frozen=True)
class VpcSpec:
    name: str
    cidr: str
    secondary_cidrs: tuple[str, ...] = ()

    @property
    def cidrs(self) -> tuple[str, ...]:
        """Every IPv4 CIDR block of the VPC, primary first."""
        return (self.cidr, *self.secondary_cidrs)


@dataclass(frozen=True)
class OutpostSpec:
    name: str
    lgw_mode: str = DEFAULT_LGW_MODE
    intra_vpc: bool = True


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


@dataclass(frozen=True)
class SubnetSpec:
    name: str
    vpc: str
    cidr: str
    outpost: str | None = None
    route_table: str | None = None  # None: the VPC's main route table


@dataclass(frozen=True)
class Quotas:
    routes_per_table: int = DEFAULT_ROUTES_PER_TABLE


@dataclass(frozen=True)
class ThrottleSpec:
    """``throttle``: the sandbox answers EC2 calls beyond AWS's rates with RequestLimitExceeded
    (after seeding), its AWS time running ``time_scale`` times faster than real time."""

    time_scale: float = 1.0


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

    @property
    def subnet(self) -> SubnetSpec:
        return SubnetSpec(self.name, self.vpc, self.cidr, self.outpost, self.route_table)

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
)
"""A step that makes API calls (and only those may sit in a ``together``)."""

Step: TypeAlias = CallStep | SweepStep | FailStep | TogetherStep | EventStep


@dataclass(frozen=True)
class Scenario:
    """A validated scenario. ``label`` of each step is the report's ``step`` string:

    ``create_subnet NAME``, ``delete_subnet NAME``, ``associate_route_table SUBNET -> TABLE``,
    ``disassociate_route_table SUBNET``, ``add_route TABLE DEST -> TARGET``,
    ``delete_route TABLE DEST``, ``sweep``, ``fail API ERROR xTIMES``, ``together (N steps)``,
    ``event EVENTNAME`` (detail.eventName, else detail-type, else nothing).
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

    def vpc(self, name: str) -> VpcSpec:
        return _by_name(self.vpcs, name, "VPC")

    def outpost(self, name: str) -> OutpostSpec:
        return _by_name(self.outposts, name, "Outpost")

    def route_table(self, name: str) -> RouteTableSpec:
        return _by_name(self.route_tables, name, "route table")

    def subnet(self, name: str) -> SubnetSpec:
        """A seeded subnet (see :meth:`subnet_specs` for step-created ones too)."""
        return _by_name(self.subnets, name, "subnet")

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
