"""The scenario file's structure and types, as pydantic models (docs/scenario-format.md).

What one value says on its own is checked here: which keys a mapping has, the type of each value
(names, CIDR syntax and sizes, ranges, EC2 action and error-code spellings: :mod:`.values`). What
depends on other parts of the document (references, overlaps, the state of the subnets at each
step, AWS's route rules) is :mod:`.rules`' job. pydantic's errors are translated into the format's
one-line ``FILE: PATH: PROBLEM`` (:func:`read`). A key with a null value counts as absent unless
the key is required (``outpost: null`` is no Outpost).
"""

from __future__ import annotations

import types
from collections.abc import Sequence
from typing import Annotated, Any, ClassVar, Union, get_args, get_origin

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictStr,
    ValidationError,
    model_validator,
)
from pydantic_core import ErrorDetails

from outpost_mesh_sandbox.scenario.errors import ScenarioError, join, suggest, type_name
from outpost_mesh_sandbox.scenario.model import CALL_KINDS, STEP_KINDS, TAG_KINDS
from outpost_mesh_sandbox.scenario.values import (
    ApplyMaxConcurrency,
    ApprovalMode,
    ApprovalTimeoutHours,
    Cidr,
    DeleteMinOwnedRoutes,
    DeleteThresholdPercent,
    Ec2Action,
    ErrorCode,
    Generation,
    LeaseSeconds,
    LgwMode,
    LgwTableState,
    ManagedVpcs,
    Name,
    QuarantineMinutes,
    RoutesPerTable,
    SecondaryCidrs,
    Seconds,
    SizedCidr,
    SubnetIpv6Cidr,
    TagKey,
    TagKeys,
    TagMap,
    Times,
    TimeScale,
    VpcIpv6Cidr,
    not_empty,
    problem,
)

__all__ = ["ScenarioFile", "StepEntry", "read"]

_STEP_EXAMPLE = "{create_subnet: {...}}"


# -- the document -------------------------------------------------------------------------------
def _may_be_absent() -> Any:
    """The default of a key that may be left out but, when given, must hold its type: unlike the
    other optional keys, a null there is a mistake (``delete_subnet: null``)."""
    return Field(default=None)


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class AccountEntry(_Entry):
    """``accounts``: one AWS account of the scenario (several accounts)."""

    name: Name


class VpcEntry(_Entry):
    name: Name
    cidr: SizedCidr
    secondary_cidrs: SecondaryCidrs | None = None
    ipv6_cidr: VpcIpv6Cidr | None = None
    tags: TagMap | None = None
    account: StrictStr | None = None


class LgwRouteTableEntry(_Entry):
    name: Name
    mode: LgwMode | None = None
    active: StrictBool | None = None
    state: LgwTableState | None = None
    tags: TagMap | None = None


class OutpostEntry(_Entry):
    name: Name
    lgw_mode: LgwMode | None = None
    intra_vpc: StrictBool | None = None
    generation: Generation | None = None
    lgw_route_tables: (
        Annotated[
            list[LgwRouteTableEntry],
            AfterValidator(not_empty("lgw_route_tables needs at least one table")),
        ]
        | None
    ) = None
    account: StrictStr | None = None
    shared_with: list[StrictStr] | None = None


class LgwAssociationEntry(_Entry):
    vpc: StrictStr
    lgw_route_table: StrictStr


class RouteEntry(_Entry):
    destination: Cidr
    target: StrictStr


class RouteTableEntry(_Entry):
    name: Name
    vpc: StrictStr
    routes: list[RouteEntry] | None = None
    tags: TagMap | None = None


class SubnetEntry(_Entry):
    name: Name
    vpc: StrictStr
    cidr: SizedCidr
    outpost: StrictStr | None = None
    route_table: StrictStr | None = None
    ipv6_cidr: SubnetIpv6Cidr | None = None
    tags: TagMap | None = None


class SettingsEntry(_Entry):
    """``settings``: stack parameters (omitted: template.yaml's defaults)."""

    report_only: StrictBool | None = None
    approval_mode: ApprovalMode | None = None
    approval_auto_approve_additions: StrictBool | None = None
    approval_timeout_hours: ApprovalTimeoutHours | None = None
    managed_vpcs: ManagedVpcs | None = None
    opt_in_tag_key: TagKey | None = None
    opt_out_tag_key: TagKey | None = None
    apply_max_concurrency: ApplyMaxConcurrency | None = None
    routes_per_table_quota: RoutesPerTable | None = None
    delete_threshold_percent: DeleteThresholdPercent | None = None
    delete_min_owned_routes: DeleteMinOwnedRoutes | None = None
    quarantine_minutes: QuarantineMinutes | None = None
    lease_seconds: LeaseSeconds | None = None


class QuotasEntry(_Entry):
    routes_per_table: RoutesPerTable | None = None


class ThrottleEntry(_Entry):
    time_scale: TimeScale | None = None


class Args(_Entry):
    """A step's fields; ``quiet`` may sit here or beside the step's kind."""

    quiet: StrictBool | None = None


class CreateSubnetArgs(Args):
    name: Name
    vpc: StrictStr
    cidr: SizedCidr
    outpost: StrictStr | None = None
    route_table: StrictStr | None = None
    ipv6_cidr: SubnetIpv6Cidr | None = None
    tags: TagMap | None = None


class DeleteSubnetArgs(Args):
    name: StrictStr


class AssociateRouteTableArgs(Args):
    subnet: StrictStr
    route_table: StrictStr


class DisassociateRouteTableArgs(Args):
    subnet: StrictStr


class AddRouteArgs(Args):
    route_table: StrictStr
    destination: Cidr
    target: StrictStr


class DeleteRouteArgs(Args):
    route_table: StrictStr
    destination: Cidr


class LgwAssociationArgs(Args):
    """``associate_lgw_route_table`` and ``disassociate_lgw_route_table``."""

    vpc: StrictStr
    lgw_route_table: StrictStr


class AssociateLgwRouteTableArgs(LgwAssociationArgs):
    pass


class DisassociateLgwRouteTableArgs(LgwAssociationArgs):
    pass


class _TaggingArgs(Args):
    """``tag`` / ``untag``: exactly one of the resource kinds names what is (un)tagged."""

    vpc: StrictStr | None = None
    subnet: StrictStr | None = None
    route_table: StrictStr | None = None
    lgw_route_table: StrictStr | None = None

    @model_validator(mode="before")
    @classmethod
    def _one_resource(cls, value: Any) -> Any:
        if isinstance(value, dict):
            given = [k for k in TAG_KINDS if value.get(k) is not None]
            if len(given) != 1:
                got = f"got {' and '.join(given)}" if given else "got none"
                raise problem(f"name one resource, by one of: {', '.join(TAG_KINDS)} ({got})")
        return value

    @property
    def resource(self) -> tuple[str, str]:
        """(kind, name) of the resource."""
        kind = next(k for k in TAG_KINDS if getattr(self, k) is not None)
        return kind, str(getattr(self, kind))


class TagArgs(_TaggingArgs):
    tags: Annotated[TagMap, AfterValidator(not_empty("tag needs at least one tag"))]


class UntagArgs(_TaggingArgs):
    keys: TagKeys


class AssociateVpcCidrArgs(Args):
    vpc: StrictStr
    cidr: SizedCidr


class SetMainRouteTableArgs(Args):
    vpc: StrictStr
    route_table: StrictStr


class ReleaseArgs(Args):
    outpost: StrictStr


class ApproveArgs(Args):
    vpc: StrictStr


class RejectArgs(Args):
    vpc: StrictStr
    reason: StrictStr = ""


class AdvanceClockArgs(Args):
    seconds: Seconds


class SweepArgs(Args):
    pass


class FailArgs(Args):
    api: Ec2Action
    error: ErrorCode
    times: Times


class InnerStepEntry(_Entry):
    """A step inside ``together``: one that makes API calls. A step is a mapping with one key, its
    kind (its value: the step's fields), and an optional ``quiet``. A kind given a null is a
    mistake (``delete_subnet: null``) except for ``sweep``, which has no required field."""

    KINDS: ClassVar[tuple[str, ...]] = CALL_KINDS

    quiet: StrictBool = _may_be_absent()  # given: true or false, not null
    create_subnet: CreateSubnetArgs = _may_be_absent()
    delete_subnet: DeleteSubnetArgs = _may_be_absent()
    associate_route_table: AssociateRouteTableArgs = _may_be_absent()
    disassociate_route_table: DisassociateRouteTableArgs = _may_be_absent()
    add_route: AddRouteArgs = _may_be_absent()
    delete_route: DeleteRouteArgs = _may_be_absent()
    associate_lgw_route_table: AssociateLgwRouteTableArgs = _may_be_absent()
    disassociate_lgw_route_table: DisassociateLgwRouteTableArgs = _may_be_absent()
    tag: TagArgs = _may_be_absent()
    untag: UntagArgs = _may_be_absent()
    associate_vpc_cidr: AssociateVpcCidrArgs = _may_be_absent()
    set_main_route_table: SetMainRouteTableArgs = _may_be_absent()

    @model_validator(mode="before")
    @classmethod
    def _one_kind(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value  # pydantic: "expected a step like ..."
        keys = [k for k in value if k != "quiet"]
        if not keys:
            raise problem(f"a step needs a kind, one of: {', '.join(cls.KINDS)}")
        unknown = [k for k in keys if not isinstance(k, str) or k not in STEP_KINDS]
        if unknown:
            key = str(unknown[0])
            raise problem(
                f"unknown step kind{suggest(key, STEP_KINDS)}; expected one of: "
                f"{', '.join(STEP_KINDS)}",
                at=key,
            )
        if len(keys) > 1:
            raise problem(f"one step per list item, got {' and '.join(keys)}")
        if keys[0] not in cls.KINDS:
            raise problem(
                f"{keys[0]} cannot be inside together; only steps that make API calls can: "
                f"{', '.join(CALL_KINDS)}",
                at=keys[0],
            )
        return value

    @property
    def kind(self) -> str:
        return next(k for k in self.KINDS if k in self.model_fields_set)

    def args(self) -> Any:
        """The kind's fields (None for a bare ``sweep``; a list for ``together``...)."""
        return getattr(self, self.kind)


class StepEntry(InnerStepEntry):
    KINDS: ClassVar[tuple[str, ...]] = STEP_KINDS

    sweep: SweepArgs | None = None
    fail: FailArgs = _may_be_absent()
    together: Annotated[
        list[InnerStepEntry], AfterValidator(not_empty("together needs at least one step"))
    ] = _may_be_absent()
    event: dict[Any, Any] = _may_be_absent()
    release: ReleaseArgs = _may_be_absent()
    advance_clock: AdvanceClockArgs = _may_be_absent()
    approve: ApproveArgs = _may_be_absent()
    reject: RejectArgs = _may_be_absent()


class ScenarioFile(_Entry):
    description: StrictStr | None = None
    accounts: (
        Annotated[
            list[AccountEntry],
            AfterValidator(not_empty("accounts needs at least one account")),
        ]
        | None
    ) = None
    quotas: QuotasEntry | None = None
    vpcs: Annotated[list[VpcEntry], AfterValidator(not_empty("a scenario needs at least one VPC"))]
    outposts: list[OutpostEntry] | None = None
    lgw_associations: list[LgwAssociationEntry] | None = None
    route_tables: list[RouteTableEntry] | None = None
    subnets: list[SubnetEntry] | None = None
    settings: SettingsEntry | None = None
    steps: list[StepEntry] | None = None
    throttle: ThrottleEntry | None = None


# -- pydantic's errors in the format's words ----------------------------------------------------
_EXPECTED = {
    "string_type": "a string",
    "bool_type": "true or false",
    "int_type": "a whole number",
    "float_type": "a number",
    "list_type": "a list",
}
_MAPPING_TYPES = ("model_type", "model_attributes_type", "dict_type")
_KEY_ERRORS = ("extra_forbidden", "invalid_key")


def read(doc: object, source: str) -> ScenarioFile:
    """The document as a :class:`ScenarioFile`, or the first mistake as a ScenarioError."""
    try:
        return ScenarioFile.model_validate(doc)
    except ValidationError as error:
        path, text = _describe(_first(error.errors()))
        raise ScenarioError(source, path, text) from None


def _first(errors: Sequence[ErrorDetails]) -> ErrorDetails:
    """The mistake a reader meets first: pydantic lists a mapping's unknown keys after its
    fields, but a mapping's keys are read before any value inside it, outermost first."""
    found = errors[0]
    loc = tuple(found["loc"])
    keyed = [
        e
        for e in errors
        if e["type"] in (*_KEY_ERRORS, "missing")
        and tuple(e["loc"][:-1]) == loc[: len(e["loc"]) - 1]
    ]
    if not keyed:
        return found
    return min(keyed, key=lambda e: (len(e["loc"]), e["type"] == "missing"))


def _path(loc: Sequence[int | str]) -> str:
    path = ""
    for part in loc:
        path = f"{path}[{part}]" if isinstance(part, int) else join(path, str(part))
    return path


def _describe(error: ErrorDetails) -> tuple[str, str]:
    loc, kind, value = tuple(error["loc"]), error["type"], error.get("input")
    if kind == "scenario":
        context = error.get("ctx") or {}
        at = context.get("at")
        return (join(_path(loc), at) if at else _path(loc)), str(context.get("problem"))
    if kind in _KEY_ERRORS:
        key = loc[-1]
        allowed = sorted(_fields(_model_at(loc[:-1])))
        hint = suggest(key, allowed) if isinstance(key, str) else ""
        expected = ", ".join(allowed) or "none"
        return join(_path(loc[:-1]), str(key)), f"unknown key{hint}; expected one of: {expected}"
    if kind == "missing":
        return _path(loc), "missing required key"
    if kind in _MAPPING_TYPES:
        model = _model_at(loc)
        what = "a mapping"
        if model is not None and issubclass(model, InnerStepEntry):
            what = f"a step like {_STEP_EXAMPLE}"
        elif loc and loc[-1] == "event":
            what = "a mapping (an EventBridge event)"
        return (_path(loc) or "(document)"), f"expected {what}, got {type_name(value)}"
    if kind in _EXPECTED:
        return _path(loc), f"expected {_EXPECTED[kind]}, got {type_name(value)}"
    return _path(loc), str(error["msg"])


def _fields(model: type[BaseModel] | None) -> list[str]:
    return [] if model is None else list(model.model_fields)


def _unwrap(annotation: Any) -> Any:
    """``X`` of ``Annotated[X, ...]`` and of ``X | None``."""
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            options = [a for a in get_args(annotation) if a is not type(None)]
            if len(options) != 1:
                return annotation
            annotation = options[0]
        else:
            return annotation


def _model_at(loc: Sequence[int | str]) -> type[BaseModel] | None:
    """The model a location of the document holds (None for a plain value)."""
    current: Any = ScenarioFile
    for part in loc:
        current = _unwrap(current)
        if isinstance(part, int):
            if get_origin(current) is not list:
                return None
            current = get_args(current)[0]
        elif isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(part)
            if field is None:
                return None
            current = field.annotation
        else:
            return None
    current = _unwrap(current)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None
