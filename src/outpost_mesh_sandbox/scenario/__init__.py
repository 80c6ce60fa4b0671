"""Scenario files (docs/scenario-format.md) and making them real in a sandbox.

Third layer of :mod:`outpost_mesh_sandbox`: imports :mod:`outpost_mesh_sandbox.aws`, nothing
from ``stack`` or ``demo``.

* the file: :mod:`.model` (what a scenario is), :mod:`.loader` (YAML), :mod:`.schema` (structure
  and types, pydantic) with :mod:`.values` (the value types), :mod:`.rules` (the rules between
  parts) with :mod:`.live` (the account at one point of the steps) and :mod:`.lgw` (Outposts, LGW
  route tables, associations), :mod:`.errors` (one-line mistakes), :mod:`.placeholders`
  (``{{kind:NAME}}`` in raw events);
* the sandbox: :mod:`.ids` (scenario names <-> sandbox ids), :mod:`.seed` (the account before the
  first step), :mod:`.calls` (a person's calls: each step's, and seeding's).

The file's public API is re-exported here: ``from outpost_mesh_sandbox.scenario import
load_scenario, Scenario, ScenarioError, ...``.
"""

from outpost_mesh_sandbox.scenario.errors import ScenarioError
from outpost_mesh_sandbox.scenario.loader import load_scenario, parse_scenario
from outpost_mesh_sandbox.scenario.model import (
    CALL_KINDS,
    DEFAULT_ROUTES_PER_TABLE,
    LGW_MODES,
    LGW_PREFIX,
    LGW_TABLE_STATES,
    MAIN_PREFIX,
    STEP_KINDS,
    TAG_KINDS,
    AddRouteStep,
    AdvanceClockStep,
    AnswerStep,
    AssociateLgwRouteTableStep,
    AssociateRouteTableStep,
    AssociateVpcCidrStep,
    CallStep,
    CreateSubnetStep,
    DeleteRouteStep,
    DeleteSubnetStep,
    DisassociateLgwRouteTableStep,
    DisassociateRouteTableStep,
    EventStep,
    FailStep,
    LgwAssociationSpec,
    LgwRouteTableSpec,
    OutpostSpec,
    Quotas,
    ReleaseStep,
    RouteSpec,
    RouteTableSpec,
    Scenario,
    SetMainRouteTableStep,
    SettingsSpec,
    Step,
    SubnetSpec,
    SweepStep,
    Tags,
    TagStep,
    ThrottleSpec,
    TogetherStep,
    UntagStep,
    VpcSpec,
)
from outpost_mesh_sandbox.scenario.placeholders import PlaceholderIds, substitute_placeholders

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
    "PlaceholderIds",
    "Quotas",
    "ReleaseStep",
    "RouteSpec",
    "RouteTableSpec",
    "Scenario",
    "ScenarioError",
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
    "load_scenario",
    "parse_scenario",
    "substitute_placeholders",
]
