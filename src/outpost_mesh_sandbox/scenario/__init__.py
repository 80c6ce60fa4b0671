"""Scenario files (docs/scenario-format.md) and making them real in a sandbox.

Third layer of :mod:`outpost_mesh_sandbox`: imports :mod:`outpost_mesh_sandbox.aws`, nothing
from ``stack`` or ``demo``.

* the file: :mod:`.model` (what a scenario is), :mod:`.loader` (YAML), :mod:`.schema` (structure
  and types, pydantic) with :mod:`.values` (the value types), :mod:`.rules` (the rules between
  parts) with :mod:`.live` (the account at one point of the steps), :mod:`.errors` (one-line
  mistakes), :mod:`.placeholders` (``{{kind:NAME}}`` in raw events);
* the sandbox: :mod:`.ids` (scenario names <-> sandbox ids), :mod:`.seed` (the person's calls).

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
    MAIN_PREFIX,
    STEP_KINDS,
    AddRouteStep,
    AssociateRouteTableStep,
    CallStep,
    CreateSubnetStep,
    DeleteRouteStep,
    DeleteSubnetStep,
    DisassociateRouteTableStep,
    EventStep,
    FailStep,
    OutpostSpec,
    Quotas,
    RouteSpec,
    RouteTableSpec,
    Scenario,
    Step,
    SubnetSpec,
    SweepStep,
    ThrottleSpec,
    TogetherStep,
    VpcSpec,
)
from outpost_mesh_sandbox.scenario.placeholders import PlaceholderIds, substitute_placeholders

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
