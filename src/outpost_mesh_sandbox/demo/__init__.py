"""The demo: a scenario run through the deployed stack in a sandbox, and its report.

Top layer of :mod:`outpost_mesh_sandbox`: imports ``aws``, ``stack`` and ``scenario``.
:mod:`.runner` runs, :mod:`.report` reads AWS state back in the scenario's words,
:mod:`.records` holds what a run saw (and the JSON report). The runner's API is re-exported here.
"""

from outpost_mesh_sandbox.demo.records import DemoRun, StepRecord
from outpost_mesh_sandbox.demo.runner import RunnerError, run_demo, run_scenario

__all__ = ["DemoRun", "RunnerError", "StepRecord", "run_demo", "run_scenario"]
