"""Scenario files: load, validate, and describe them as frozen dataclasses.

The format is a public contract (``/work/shared/scenario-format.md``, documented in the README).
Everything a user can get wrong is reported as one :class:`ScenarioError` line
``FILE: PATH: PROBLEM``, PATH being where in the document the problem is (``subnets[2].cidr``,
``steps[0].create_subnet.vpc``, ``steps[3].together[1].add_route.target``). YAML syntax errors and
duplicate keys use ``line N, column M`` as their PATH, since they have no document path yet.

Validation follows the steps in order, as the sandbox would see them: a subnet must exist (seeded,
or created by an earlier step and not deleted since) to be deleted, associated or named by a
placeholder; a created subnet must not overlap a live one; a route whose destination is more
specific than a VPC CIDR must be exactly a live subnet's CIDR (AWS's rule). What only the pipeline
decides at run time (which routes it made) is not guessed here.

Rules beyond the format's text, all AWS's or needed to keep the report unambiguous:

- names are non-empty strings without whitespace or any of ``:{}`` (``main:VPC``, ``lgw:OUTPOST``
  and ``{{kind:NAME}}`` use those characters); names are unique per kind (VPCs, Outposts, route
  tables, subnets); a deleted subnet's name may be used again by a later ``create_subnet``;
- VPC and subnet CIDRs are IPv4 with a prefix from /16 to /28, written with their network address;
  a VPC has at most 5 CIDR blocks (AWS's default quota) that do not overlap;
- ``main:VPC`` names a main route table in steps only (``create_subnet``,
  ``associate_route_table``, ``add_route``, ``delete_route``) and in ``{{route_table:main:VPC}}``;
  seeded subnets omit ``route_table`` to use the main table; seeded routes live in custom tables;
- ``together`` holds API-calling steps only (no ``sweep``, ``fail``, ``event`` or nested
  ``together``): their order with respect to the delivery of events would be ambiguous;
- ``quiet`` may sit beside the step's kind (``- {together: [...], quiet: true}``) or, for steps
  whose value is a mapping of fields, inside it (``create_subnet: {name: x, ..., quiet: true}``);
- ``fail.api`` must be an EC2 action known to botocore, ``fail.error`` an error-code-shaped word;
- a network interface (``eni`` target) is created at seeding in a seeded subnet of the VPC that no
  step deletes (AWS refuses to delete a subnet holding an interface);
- AWS (as the sandbox plays it) refuses some LGW routes, so neither a seed nor an ``add_route``
  step may ask for one: more specific than the VPC CIDR on a rack with ``intra_vpc: false``, or in
  a table that serves, at that point, a subnet that is not on the LGW's Outpost.
"""

from __future__ import annotations

import difflib
import ipaddress
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, NoReturn, Protocol, TypeAlias, TypeVar

import yaml

if TYPE_CHECKING:
    from yaml.nodes import MappingNode

__all__ = [
    "DEFAULT_ROUTES_PER_TABLE",
    "LGW_MODES",
    "STEP_KINDS",
    "AddRouteStep",
    "AssociateRouteTableStep",
    "CreateSubnetStep",
    "DeleteRouteStep",
    "DeleteSubnetStep",
    "DisassociateRouteTableStep",
    "EventStep",
    "FailStep",
    "OutpostSpec",
    "PlaceholderIds",
    "Quotas",
    "RouteSpec",
    "RouteTableSpec",
    "Scenario",
    "ScenarioError",
    "Step",
    "SubnetSpec",
    "SweepStep",
    "ThrottleSpec",
    "TogetherStep",
    "VpcSpec",
    "load_scenario",
    "parse_scenario",
    "substitute_placeholders",
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
PLACEHOLDER_KINDS = ("vpc", "subnet", "route_table", "outpost")
PLACEHOLDER_WORDS = ("account", "region")

_NAME_FORBIDDEN = re.compile(r"[\s:{}]")
_ERROR_CODE = re.compile(r"^[A-Za-z][A-Za-z0-9]*(\.[A-Za-z][A-Za-z0-9]*)*$")
_PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}")


class ScenarioError(Exception):
    """A scenario file a user got wrong: ``str(err)`` is one line ``FILE: PATH: PROBLEM``."""

    def __init__(self, source: str, path: str, problem: str) -> None:
        self.source = source
        self.path = path
        self.problem = " ".join(problem.split())
        # A key may hold a line break or a control character (YAML allows it): shown escaped.
        where = f"{_one_line(path)}: " if path else ""
        super().__init__(f"{_one_line(source)}: {where}{self.problem}")


def _one_line(text: str) -> str:
    return text if text.isprintable() else text.encode("unicode_escape").decode("ascii")


# --- the model ---------------------------------------------------------------------------------


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
        return _lgw_outpost(self.target)


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


def _lgw_outpost(target: str) -> str | None:
    return target[len(LGW_PREFIX) :] if target.startswith(LGW_PREFIX) else None


# --- loading -----------------------------------------------------------------------------------


class _Loader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys and keeps timestamps as text (events carry them)."""

    yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                duplicate = key in seen
            except TypeError:  # an unhashable key; the base class reports it
                break
            if duplicate:
                mark = key_node.start_mark
                raise _DuplicateKeyError(mark.line + 1, mark.column + 1, key)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


class _DuplicateKeyError(Exception):
    def __init__(self, line: int, column: int, key: object) -> None:
        super().__init__(line, column, key)
        self.line, self.column, self.key = line, column, key


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate one scenario file; its name is the file's stem."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ScenarioError(source, "", f"cannot read the file: {err}") from err
    try:
        doc = yaml.load(text, Loader=_Loader)  # a SafeLoader subclass
    except _DuplicateKeyError as err:
        where = f"line {err.line}, column {err.column}"
        raise ScenarioError(source, where, f"duplicate key {err.key!r}") from err
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = err.problem or "invalid YAML"
        context = f" ({err.context})" if err.context else ""
        raise ScenarioError(source, where, f"invalid YAML: {problem}{context}") from err
    except yaml.YAMLError as err:
        raise ScenarioError(source, "", f"invalid YAML: {err}") from err
    return parse_scenario(doc, source, Path(path).stem)


def parse_scenario(doc: object, source: str, name: str) -> Scenario:
    """Validate an already-parsed YAML document; ``source`` prefixes every error."""
    return _Parser(source).scenario(doc, name)


# --- placeholders ------------------------------------------------------------------------------


class PlaceholderIds(Protocol):
    """What :func:`substitute_placeholders` needs; :class:`~outpost_mesh_sandbox.seed.IdMap` is one.

    ``placeholder_value(kind, name)`` returns the sandbox's value, ``kind`` one of
    ``vpc``, ``subnet``, ``route_table``, ``outpost`` (name given) or ``account``, ``region`` (name
    None), and raises KeyError for an unknown name.
    """

    def placeholder_value(self, kind: str, name: str | None) -> str: ...


def _parse_placeholder(inner: str) -> tuple[str, str | None]:
    """``vpc:app`` -> (vpc, app); ``account`` -> (account, None). Raises ValueError."""
    if inner in PLACEHOLDER_WORDS:
        return inner, None
    kind, sep, name = inner.partition(":")
    if not sep or kind not in PLACEHOLDER_KINDS:
        known = ", ".join(
            [*(f"{{{{{k}:NAME}}}}" for k in PLACEHOLDER_KINDS)]
            + [f"{{{{{w}}}}}" for w in PLACEHOLDER_WORDS]
        )
        raise ValueError(f"unknown placeholder {{{{{inner}}}}} (known: {known})")
    if not name or re.search(r"\s", name):
        raise ValueError(f"placeholder {{{{{inner}}}}} needs a name without whitespace")
    return kind, name


def _walk_strings(obj: object, path: str, visit: Callable[[str, str], str]) -> object:
    """Rebuild ``obj`` with ``visit(text, path)`` applied to every string, keys included."""
    if isinstance(obj, str):
        return visit(obj, path)
    if isinstance(obj, Mapping):
        rebuilt: dict[object, object] = {}
        for key, value in obj.items():
            where = f"{path}.{key}"
            new_key = visit(key, where) if isinstance(key, str) else key
            rebuilt[new_key] = _walk_strings(value, where, visit)
        return rebuilt
    if isinstance(obj, list | tuple):
        return [_walk_strings(item, f"{path}[{i}]", visit) for i, item in enumerate(obj)]
    return obj


def substitute_placeholders(
    obj: object, ids: PlaceholderIds, *, source: str = "event", path: str = "event"
) -> Any:
    """Replace ``{{vpc:NAME}}``, ``{{subnet:NAME}}``, ``{{route_table:NAME}}`` (``main:VPC`` too),
    ``{{outpost:NAME}}`` (the Outpost ARN), ``{{account}}`` and ``{{region}}`` in every string of
    ``obj``, recursively (dict keys too); a new object is returned. Unknown placeholders or names
    raise :class:`ScenarioError` (``source``/``path`` say where, for the runner's error line).
    """

    def replace(text: str, where: str) -> str:
        def one(match: re.Match[str]) -> str:
            try:
                kind, name = _parse_placeholder(match.group(1))
                return ids.placeholder_value(kind, name)
            except ValueError as err:
                raise ScenarioError(source, where, str(err)) from err
            except KeyError as err:
                raise ScenarioError(
                    source, where, f"{match.group(0)}: the sandbox has no {err.args[0]}"
                ) from err

        return _PLACEHOLDER.sub(one, text)

    return _walk_strings(obj, path, replace)


# --- validation --------------------------------------------------------------------------------

_TOP_KEYS = (
    "description",
    "vpcs",
    "outposts",
    "route_tables",
    "subnets",
    "quotas",
    "throttle",
    "steps",
)
_STEP_FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # kind: (required, optional) keys of the step's mapping ("quiet" is optional everywhere)
    "create_subnet": (("name", "vpc", "cidr"), ("outpost", "route_table")),
    "delete_subnet": (("name",), ()),
    "associate_route_table": (("subnet", "route_table"), ()),
    "disassociate_route_table": (("subnet",), ()),
    "add_route": (("route_table", "destination", "target"), ()),
    "delete_route": (("route_table", "destination"), ()),
    "sweep": ((), ()),
    "fail": (("api", "error", "times"), ()),
}
STEP_KINDS = (*_STEP_FIELDS, "together", "event")
_CALL_KINDS = tuple(k for k in _STEP_FIELDS if k not in ("sweep", "fail"))

_ec2_actions: frozenset[str] | None = None


def _ec2_action_names() -> frozenset[str]:
    global _ec2_actions  # noqa: PLW0603 - botocore's model is loaded once, on first need
    if _ec2_actions is None:
        import botocore.session

        model = botocore.session.get_session().get_service_model("ec2")
        _ec2_actions = frozenset(model.operation_names)
    return _ec2_actions


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _type_name(value: object) -> str:
    if value is None:
        return "nothing (null)"
    names = {bool: "a boolean", int: "a number", float: "a number", str: "a string"}
    names.update({list: "a list", dict: "a mapping"})
    return names.get(type(value), type(value).__name__)


def _suggest(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


@dataclass
class _LiveSubnet:
    spec: SubnetSpec
    network: ipaddress.IPv4Network
    explicit_table: str | None
    seeded: bool


@dataclass
class _State:
    """What exists at the current point of the steps."""

    live: dict[str, _LiveSubnet] = field(default_factory=dict)
    ever: set[str] = field(default_factory=set)  # every subnet name seen so far
    deleted: set[str] = field(default_factory=set)  # seeded subnets deleted by a step


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.vpcs: dict[str, VpcSpec] = {}
        self.vpc_networks: dict[str, tuple[ipaddress.IPv4Network, ...]] = {}
        self.outposts: dict[str, OutpostSpec] = {}
        self.tables: dict[str, RouteTableSpec] = {}
        self.state = _State()
        self.eni_uses: list[tuple[str, str]] = []  # (vpc, path of the target)

    # -- primitives --

    def fail(self, path: str, problem: str) -> NoReturn:
        raise ScenarioError(self.source, path, problem)

    def mapping(
        self,
        value: object,
        path: str,
        required: Iterable[str],
        optional: Iterable[str] = (),
        what: str = "a mapping",
    ) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.fail(path or "(document)", f"expected {what}, got {_type_name(value)}")
        required, optional = tuple(required), tuple(optional)
        allowed = (*required, *optional)
        for key in value:
            if not isinstance(key, str) or key not in allowed:
                expected = ", ".join(sorted(allowed)) or "none"
                hint = _suggest(key, allowed) if isinstance(key, str) else ""
                self.fail(_join(path, str(key)), f"unknown key{hint}; expected one of: {expected}")
        for key in required:
            if key not in value:
                self.fail(_join(path, key), "missing required key")
        return {k: v for k, v in value.items() if v is not None or k in required}

    def string(self, value: object, path: str) -> str:
        if not isinstance(value, str):
            self.fail(path, f"expected a string, got {_type_name(value)}")
        return value

    def name(self, value: object, path: str) -> str:
        text = self.string(value, path)
        if not text:
            self.fail(path, "a name cannot be empty")
        bad = _NAME_FORBIDDEN.search(text)
        if bad:
            char = "whitespace" if bad.group(0).isspace() else repr(bad.group(0))
            self.fail(path, f"invalid name {text!r}: names cannot contain {char}")
        return text

    def boolean(self, value: object, path: str) -> bool:
        if not isinstance(value, bool):
            self.fail(path, f"expected true or false, got {_type_name(value)}")
        return value

    def positive_int(self, value: object, path: str, maximum: int | None = None) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(path, f"expected a whole number, got {_type_name(value)}")
        if value < 1:
            self.fail(path, f"must be at least 1, got {value}")
        if maximum is not None and value > maximum:
            self.fail(path, f"must be at most {maximum}, got {value}")
        return value

    def list_of(self, value: object, path: str) -> list[Any]:
        if not isinstance(value, list):
            self.fail(path, f"expected a list, got {_type_name(value)}")
        return value

    def ipv4(self, value: object, path: str) -> ipaddress.IPv4Network:
        text = self.string(value, path)
        if "/" not in text:
            self.fail(path, f"{text!r} is not a CIDR block (expected e.g. 10.7.0.0/16)")
        try:
            network = ipaddress.ip_network(text, strict=False)
        except ValueError:
            self.fail(path, f"{text!r} is not a valid CIDR block (expected e.g. 10.7.0.0/16)")
        if not isinstance(network, ipaddress.IPv4Network):
            self.fail(path, f"{text!r} is IPv6; only IPv4 CIDR blocks are supported")
        if str(network) != text:
            self.fail(
                path, f"{text!r} has host bits set or is not canonical; did you mean {network}?"
            )
        return network

    def sized_cidr(self, value: object, path: str) -> ipaddress.IPv4Network:
        network = self.ipv4(value, path)
        if not MIN_PREFIX <= network.prefixlen <= MAX_PREFIX:
            self.fail(
                path,
                f"{network} is a /{network.prefixlen}; AWS allows /{MIN_PREFIX} to /{MAX_PREFIX}",
            )
        return network

    def unique(self, name: str, seen: Mapping[str, object], path: str, what: str) -> None:
        if name in seen:
            self.fail(path, f"duplicate {what} name {name!r}")

    def ref(self, value: object, path: str, known: Mapping[str, object], what: str) -> str:
        name = self.string(value, path)
        if name not in known:
            listing = ", ".join(sorted(known)) or "none defined"
            self.fail(path, f"unknown {what} {name!r}{_suggest(name, known)}; known: {listing}")
        return name

    # -- the document --

    def scenario(self, doc: object, name: str) -> Scenario:
        top = self.mapping(doc, "", ("vpcs",), [k for k in _TOP_KEYS if k != "vpcs"])
        # one line for a report's header, however the YAML folded it
        description = " ".join(self.string(top.get("description", ""), "description").split())
        quotas = self.quotas(top.get("quotas", {}), "quotas")
        vpc_items = self.list_of(top["vpcs"], "vpcs")
        if not vpc_items:
            self.fail("vpcs", "a scenario needs at least one VPC")
        vpcs = tuple(self.vpc(item, f"vpcs[{i}]") for i, item in enumerate(vpc_items))
        outposts = tuple(
            self.outpost(item, f"outposts[{i}]")
            for i, item in enumerate(self.list_of(top.get("outposts", []), "outposts"))
        )
        table_items = self.list_of(top.get("route_tables", []), "route_tables")
        for i, item in enumerate(table_items):  # names first: subnets refer to them
            self.table_header(item, f"route_tables[{i}]")
        subnets = tuple(
            self.seeded_subnet(item, f"subnets[{i}]")
            for i, item in enumerate(self.list_of(top.get("subnets", []), "subnets"))
        )
        tables = tuple(
            self.table_routes(item, f"route_tables[{i}]", quotas)
            for i, item in enumerate(table_items)
        )
        steps = tuple(
            self.step(item, f"steps[{i}]", inner=False)
            for i, item in enumerate(self.list_of(top.get("steps", []), "steps"))
        )
        self.check_eni_hosts(subnets)
        throttle = self.throttle(top["throttle"], "throttle") if "throttle" in top else None
        return Scenario(name, description, vpcs, outposts, tables, subnets, quotas, steps, throttle)

    def throttle(self, value: object, path: str) -> ThrottleSpec:
        fields = self.mapping(value, path, (), ("time_scale",))
        scale = fields.get("time_scale", 1)
        where = _join(path, "time_scale")
        if isinstance(scale, bool) or not isinstance(scale, int | float):
            self.fail(where, f"expected a number, got {_type_name(scale)}")
        if not 0 < scale <= MAX_TIME_SCALE:
            self.fail(where, f"must be more than 0 and at most {MAX_TIME_SCALE}, got {scale}")
        return ThrottleSpec(float(scale))

    def quotas(self, value: object, path: str) -> Quotas:
        fields = self.mapping(value, path, (), ("routes_per_table",))
        limit = fields.get("routes_per_table", DEFAULT_ROUTES_PER_TABLE)
        return Quotas(
            self.positive_int(limit, _join(path, "routes_per_table"), MAX_ROUTES_PER_TABLE)
        )

    def vpc(self, value: object, path: str) -> VpcSpec:
        fields = self.mapping(value, path, ("name", "cidr"), ("secondary_cidrs",))
        name = self.name(fields["name"], _join(path, "name"))
        self.unique(name, self.vpcs, _join(path, "name"), "VPC")
        primary = self.sized_cidr(fields["cidr"], _join(path, "cidr"))
        networks = [primary]
        extra_path = _join(path, "secondary_cidrs")
        extra = self.list_of(fields.get("secondary_cidrs", []), extra_path)
        if len(extra) + 1 > MAX_VPC_CIDR_BLOCKS:
            self.fail(
                extra_path,
                f"a VPC has at most {MAX_VPC_CIDR_BLOCKS} CIDR blocks (AWS's default quota), "
                f"got {len(extra) + 1}",
            )
        for i, item in enumerate(extra):
            network = self.sized_cidr(item, f"{extra_path}[{i}]")
            for other in networks:
                if network.overlaps(other):
                    self.fail(f"{extra_path}[{i}]", f"{network} overlaps the VPC's {other}")
            networks.append(network)
        spec = VpcSpec(name, str(primary), tuple(str(n) for n in networks[1:]))
        self.vpcs[name] = spec
        self.vpc_networks[name] = tuple(networks)
        return spec

    def outpost(self, value: object, path: str) -> OutpostSpec:
        fields = self.mapping(value, path, ("name",), ("lgw_mode", "intra_vpc"))
        name = self.name(fields["name"], _join(path, "name"))
        self.unique(name, self.outposts, _join(path, "name"), "Outpost")
        mode = self.string(fields.get("lgw_mode", DEFAULT_LGW_MODE), _join(path, "lgw_mode"))
        if mode not in LGW_MODES:
            self.fail(
                _join(path, "lgw_mode"),
                f"unknown lgw_mode {mode!r}{_suggest(mode, LGW_MODES)}; "
                f"expected one of: {', '.join(LGW_MODES)}",
            )
        intra = self.boolean(fields.get("intra_vpc", True), _join(path, "intra_vpc"))
        spec = OutpostSpec(name, mode, intra)
        self.outposts[name] = spec
        return spec

    def table_header(self, value: object, path: str) -> None:
        fields = self.mapping(value, path, ("name", "vpc"), ("routes",))
        name = self.name(fields["name"], _join(path, "name"))
        self.unique(name, self.tables, _join(path, "name"), "route table")
        vpc = self.ref(fields["vpc"], _join(path, "vpc"), self.vpcs, "VPC")
        self.tables[name] = RouteTableSpec(name, vpc)

    def table_routes(self, value: dict[str, Any], path: str, quotas: Quotas) -> RouteTableSpec:
        header = self.tables[value["name"]]
        routes_path = _join(path, "routes")
        items = self.list_of(value.get("routes") or [], routes_path)
        if len(items) > quotas.routes_per_table:
            self.fail(
                routes_path,
                f"{len(items)} routes exceed quotas.routes_per_table ({quotas.routes_per_table})",
            )
        routes: list[RouteSpec] = []
        seen: dict[ipaddress.IPv4Network, int] = {}
        for i, item in enumerate(items):
            item_path = f"{routes_path}[{i}]"
            fields = self.mapping(item, item_path, ("destination", "target"))
            dest_path = _join(item_path, "destination")
            dest = self.ipv4(fields["destination"], dest_path)
            if dest in seen:
                self.fail(dest_path, f"duplicate destination {dest} (also in routes[{seen[dest]}])")
            seen[dest] = i
            target = self.target(fields["target"], _join(item_path, "target"), header.vpc)
            self.check_route(header.vpc, header.name, dest, target, item_path)
            routes.append(RouteSpec(str(dest), target))
        spec = RouteTableSpec(header.name, header.vpc, tuple(routes))
        self.tables[spec.name] = spec
        return spec

    def target(self, value: object, path: str, vpc: str) -> str:
        text = self.string(value, path)
        outpost = _lgw_outpost(text)
        if outpost is not None:
            if outpost not in self.outposts:
                listing = ", ".join(sorted(self.outposts)) or "none defined"
                self.fail(
                    path,
                    f"unknown Outpost {outpost!r} in target {text!r}"
                    f"{_suggest(outpost, self.outposts)}; known: {listing}",
                )
            return text
        if text not in SIMPLE_TARGETS:
            self.fail(
                path,
                f"unknown target {text!r}{_suggest(text, SIMPLE_TARGETS)}; "
                "expected lgw:OUTPOST, eni or igw",
            )
        if text == "eni":
            self.eni_uses.append((vpc, path))
        return text

    def check_route(
        self, vpc: str, table: str, dest: ipaddress.IPv4Network, target: str, path: str
    ) -> None:
        """AWS's rules for a new route at this point; ``path`` is the route's mapping."""
        dest_path, target_path = _join(path, "destination"), _join(path, "target")
        outpost = _lgw_outpost(target)
        for block in self.vpc_networks[vpc]:
            if dest == block:
                self.fail(
                    dest_path,
                    f"{dest} is VPC {vpc}'s CIDR block: that is the local route, "
                    "which cannot be replaced",
                )
            if dest.subnet_of(block):
                owners = [
                    s.spec.name
                    for s in self.state.live.values()
                    if s.spec.vpc == vpc and s.network == dest
                ]
                if not owners:
                    self.fail(
                        dest_path,
                        f"{dest} is more specific than VPC {vpc}'s CIDR {block}: AWS requires it "
                        f"to be exactly the CIDR of a subnet of {vpc}, and no subnet has it "
                        "at this point",
                    )
                if outpost is not None and not self.outposts[outpost].intra_vpc:
                    self.fail(
                        target_path,
                        f"{outpost} has intra_vpc: false, so AWS rejects an LGW route more "
                        f"specific than the VPC CIDR (InvalidParameterValue) for {dest}",
                    )
        if outpost is not None:
            strangers = [
                s.spec.name for s in self.served_by(table, vpc) if s.spec.outpost != outpost
            ]
            if strangers:
                self.fail(
                    target_path,
                    f"{table} serves {', '.join(sorted(strangers))}, not on {outpost}: AWS lets a "
                    f"route target {outpost}'s LGW only in a table of that Outpost's subnets",
                )

    def served_by(self, table: str, vpc: str) -> list[_LiveSubnet]:
        """The live subnets whose effective route table is ``table`` (of ``vpc``)."""
        if table.startswith(MAIN_PREFIX):
            return [
                s
                for s in self.state.live.values()
                if s.spec.vpc == vpc and s.explicit_table in (None, table)
            ]
        return [s for s in self.state.live.values() if s.explicit_table == table]

    def route_table_ref(self, value: object, path: str, *, allow_main: bool) -> tuple[str, str]:
        """(table name as written, its VPC)."""
        name = self.string(value, path)
        if name.startswith(MAIN_PREFIX):
            vpc = name[len(MAIN_PREFIX) :]
            if not allow_main:
                self.fail(
                    path,
                    f"{name!r}: main:VPC is only for steps; omit route_table to use the "
                    "VPC's main route table",
                )
            if vpc not in self.vpcs:
                self.fail(path, f"unknown VPC {vpc!r} in {name!r}{_suggest(vpc, self.vpcs)}")
            return name, vpc
        if name not in self.tables:
            listing = ", ".join([*sorted(self.tables), *(f"main:{v}" for v in self.vpcs)])
            self.fail(
                path, f"unknown route table {name!r}{_suggest(name, self.tables)}; known: {listing}"
            )
        return name, self.tables[name].vpc

    def subnet_fields(
        self, fields: dict[str, Any], path: str, *, allow_main: bool, seeded: bool
    ) -> SubnetSpec:
        name_path = _join(path, "name")
        name = self.name(fields["name"], name_path)
        if name in self.state.live:
            self.fail(name_path, f"duplicate subnet name {name!r}")
        vpc = self.ref(fields["vpc"], _join(path, "vpc"), self.vpcs, "VPC")
        cidr_path = _join(path, "cidr")
        network = self.sized_cidr(fields["cidr"], cidr_path)
        if not any(network.subnet_of(block) for block in self.vpc_networks[vpc]):
            blocks = ", ".join(str(b) for b in self.vpc_networks[vpc])
            self.fail(cidr_path, f"{network} is not inside VPC {vpc}'s CIDR blocks ({blocks})")
        for other in self.state.live.values():
            if other.spec.vpc == vpc and other.network.overlaps(network):
                self.fail(
                    cidr_path, f"{network} overlaps subnet {other.spec.name} ({other.network})"
                )
        outpost = None
        if "outpost" in fields:
            outpost = self.ref(fields["outpost"], _join(path, "outpost"), self.outposts, "Outpost")
        table = None
        if "route_table" in fields:
            table_path = _join(path, "route_table")
            table, table_vpc = self.route_table_ref(
                fields["route_table"], table_path, allow_main=allow_main
            )
            if table_vpc != vpc:
                self.fail(table_path, f"route table {table} belongs to VPC {table_vpc}, not {vpc}")
        spec = SubnetSpec(name, vpc, str(network), outpost, table)
        self.state.live[name] = _LiveSubnet(spec, network, table, seeded)
        self.state.ever.add(name)
        return spec

    def seeded_subnet(self, value: object, path: str) -> SubnetSpec:
        fields = self.mapping(value, path, ("name", "vpc", "cidr"), ("outpost", "route_table"))
        return self.subnet_fields(fields, path, allow_main=False, seeded=True)

    def live_subnet(self, value: object, path: str) -> _LiveSubnet:
        name = self.string(value, path)
        if name not in self.state.live:
            why = "was deleted by an earlier step" if name in self.state.ever else "does not exist"
            listing = ", ".join(sorted(self.state.live)) or "none"
            self.fail(path, f"subnet {name!r} {why} at this point; live subnets: {listing}")
        return self.state.live[name]

    def check_eni_hosts(self, subnets: tuple[SubnetSpec, ...]) -> None:
        for vpc, path in self.eni_uses:
            hosts = [s for s in subnets if s.vpc == vpc and s.name not in self.state.deleted]
            if not hosts:
                self.fail(
                    path,
                    f"target eni needs a subnet of VPC {vpc} among `subnets` that no step "
                    "deletes: its network interface is created there at seeding",
                )

    # -- steps --

    def step(self, value: object, path: str, *, inner: bool) -> Step:
        kinds = _CALL_KINDS if inner else STEP_KINDS
        example = "{create_subnet: {...}}"
        if not isinstance(value, dict):
            self.fail(path, f"expected a step like {example}, got {_type_name(value)}")
        keys = [k for k in value if k != "quiet"]
        if not keys:
            self.fail(path, f"a step needs a kind, one of: {', '.join(kinds)}")
        unknown = [k for k in keys if not isinstance(k, str) or k not in STEP_KINDS]
        if unknown:
            key = str(unknown[0])
            self.fail(
                _join(path, key),
                f"unknown step kind{_suggest(key, STEP_KINDS)}; expected one of: "
                f"{', '.join(STEP_KINDS)}",
            )
        if len(keys) > 1:
            self.fail(path, f"one step per list item, got {' and '.join(keys)}")
        kind: str = keys[0]
        kind_path = _join(path, kind)
        if kind not in kinds:
            self.fail(
                kind_path,
                f"{kind} cannot be inside together; only steps that make API calls can: "
                f"{', '.join(_CALL_KINDS)}",
            )
        quiet = False
        if "quiet" in value:
            quiet = self.boolean(value["quiet"], _join(path, "quiet"))
        args = value[kind]
        if kind == "together":
            items = self.list_of(args, kind_path)
            if not items:
                self.fail(kind_path, "together needs at least one step")
            inner_steps: list[CallStep] = []
            for i, item in enumerate(items):
                step = self.step(item, f"{kind_path}[{i}]", inner=True)
                assert not isinstance(step, SweepStep | FailStep | TogetherStep | EventStep)
                inner_steps.append(step)
            return TogetherStep(tuple(inner_steps), quiet)
        if kind == "event":
            return EventStep(self.event(args, kind_path), quiet)
        required, optional = _STEP_FIELDS[kind]
        if args is None and not required:
            args = {}
        fields = self.mapping(args, kind_path, required, (*optional, "quiet"))
        if "quiet" in fields:
            inside = self.boolean(fields.pop("quiet"), _join(kind_path, "quiet"))
            if "quiet" in value and inside != quiet:
                self.fail(_join(kind_path, "quiet"), "quiet is given twice with different values")
            quiet = inside
        return self.call_step(kind, fields, kind_path, quiet)

    def call_step(self, kind: str, fields: dict[str, Any], path: str, quiet: bool) -> Step:
        state = self.state
        if kind == "create_subnet":
            spec = self.subnet_fields(fields, path, allow_main=True, seeded=False)
            return CreateSubnetStep(
                spec.name, spec.vpc, spec.cidr, spec.outpost, spec.route_table, quiet
            )
        if kind == "delete_subnet":
            live = self.live_subnet(fields["name"], _join(path, "name"))
            del state.live[live.spec.name]
            if live.seeded:
                state.deleted.add(live.spec.name)
            return DeleteSubnetStep(live.spec.name, quiet)
        if kind == "associate_route_table":
            live = self.live_subnet(fields["subnet"], _join(path, "subnet"))
            table_path = _join(path, "route_table")
            table, vpc = self.route_table_ref(fields["route_table"], table_path, allow_main=True)
            if vpc != live.spec.vpc:
                self.fail(
                    table_path,
                    f"route table {table} belongs to VPC {vpc}, but subnet {live.spec.name} "
                    f"is in VPC {live.spec.vpc}",
                )
            live.explicit_table = table
            return AssociateRouteTableStep(live.spec.name, table, quiet)
        if kind == "disassociate_route_table":
            subnet_path = _join(path, "subnet")
            live = self.live_subnet(fields["subnet"], subnet_path)
            if live.explicit_table is None:
                self.fail(
                    subnet_path,
                    f"subnet {live.spec.name} has no explicit route table association at this "
                    "point (it already uses the main table)",
                )
            live.explicit_table = None
            return DisassociateRouteTableStep(live.spec.name, quiet)
        if kind in ("add_route", "delete_route"):
            table_path = _join(path, "route_table")
            table, vpc = self.route_table_ref(fields["route_table"], table_path, allow_main=True)
            dest_path = _join(path, "destination")
            dest = self.ipv4(fields["destination"], dest_path)
            if kind == "delete_route":
                if dest in self.vpc_networks[vpc]:
                    self.fail(dest_path, f"{dest} is VPC {vpc}'s local route: AWS keeps it")
                return DeleteRouteStep(table, str(dest), quiet)
            target = self.target(fields["target"], _join(path, "target"), vpc)
            self.check_route(vpc, table, dest, target, path)
            return AddRouteStep(table, str(dest), target, quiet)
        if kind == "sweep":
            return SweepStep(quiet)
        # fail
        api_path, error_path = _join(path, "api"), _join(path, "error")
        api = self.string(fields["api"], api_path)
        actions = _ec2_action_names()
        if api not in actions:
            self.fail(api_path, f"{api!r} is not an EC2 API action{_suggest(api, actions)}")
        error = self.string(fields["error"], error_path)
        if not _ERROR_CODE.match(error):
            self.fail(
                error_path,
                f"{error!r} is not an EC2 error code (e.g. RequestLimitExceeded, "
                "InvalidRoute.NotFound)",
            )
        times = self.positive_int(fields["times"], _join(path, "times"))
        return FailStep(api, error, times, quiet)

    def event(self, value: object, path: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.fail(path, f"expected a mapping (an EventBridge event), got {_type_name(value)}")
        self.check_event_value(value, path)
        return value

    def check_event_value(self, value: object, path: str) -> None:
        """JSON-shaped, and every placeholder names something that exists at this point."""
        if isinstance(value, dict):
            for key, item in value.items():
                if not isinstance(key, str):
                    self.fail(_join(path, str(key)), "event keys must be strings")
                self.check_placeholders(key, _join(path, key))
                self.check_event_value(item, _join(path, key))
        elif isinstance(value, list):
            for i, item in enumerate(value):
                self.check_event_value(item, f"{path}[{i}]")
        elif isinstance(value, str):
            self.check_placeholders(value, path)
        elif value is not None and not isinstance(value, bool | int | float):
            self.fail(path, f"event values must be JSON values, got {_type_name(value)}")

    def check_placeholders(self, text: str, path: str) -> None:
        for match in _PLACEHOLDER.finditer(text):
            try:
                kind, name = _parse_placeholder(match.group(1))
            except ValueError as err:
                self.fail(path, str(err))
            if name is None:
                continue
            known: Iterable[str]
            if kind == "vpc":
                known = self.vpcs
            elif kind == "outpost":
                known = self.outposts
            elif kind == "subnet":
                known = self.state.ever
            else:
                known = [*self.tables, *(f"{MAIN_PREFIX}{v}" for v in self.vpcs)]
            if name not in known:
                self.fail(
                    path,
                    f"{match.group(0)} names no {kind.replace('_', ' ')} that exists at this "
                    f"point{_suggest(name, known)}",
                )
