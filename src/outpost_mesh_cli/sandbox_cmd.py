"""``outpost-mesh sandbox up``: a sandbox AWS left as a person would leave it.

Seeds a scenario's topology and makes the API calls of its steps; no pipeline reacts (``sweep``,
``fail`` and ``event`` steps are skipped), so ``plan``/``apply`` have something to work on.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from outpost_mesh.ledger import create_table
from outpost_mesh_cli.aws import SANDBOX_TABLE, CliError

if TYPE_CHECKING:
    from outpost_mesh_sandbox.scenario.ids import IdMap


def id_lines(ids: IdMap) -> list[str]:
    """One line per id the sandbox created, in the order people read a topology."""
    lines = [f"vpc {name} {vpc_id}" for name, vpc_id in sorted(ids.vpcs.items())]
    lines += [f"outpost {name} {o.outpost_arn}" for name, o in sorted(ids.outposts.items())]
    lines += [f"route-table {name} {rtb}" for name, rtb in sorted(ids.route_tables.items())]
    lines += [f"subnet {name} {subnet}" for name, subnet in sorted(ids.subnets.items())]
    return lines


def _say(line: str) -> None:
    print(line, flush=True)


def sandbox_up(scenario_path: str | None, host: str, port: int, stop: threading.Event) -> int:
    from outpost_mesh_sandbox.aws.server import Sandbox
    from outpost_mesh_sandbox.scenario import ScenarioError, load_scenario
    from outpost_mesh_sandbox.scenario.seed import seed_and_run_steps

    try:  # a bad file is reported before anything starts
        scenario = load_scenario(scenario_path) if scenario_path else None
    except ScenarioError as error:
        raise CliError(str(error)) from error
    sandbox = Sandbox(host=host, port=port).start()
    try:
        create_table(sandbox.client("dynamodb"), SANDBOX_TABLE)
        if scenario is not None:
            # sweep, fail and event steps make no calls: they need the pipeline (`demo`)
            ids = seed_and_run_steps(
                scenario, sandbox.client("ec2", caller="scenario"), sandbox.control
            )
            for line in id_lines(ids):
                _say(line)
        _say(f"table {SANDBOX_TABLE}")
        _say(f"endpoint {sandbox.endpoint_url}")
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
    finally:
        sandbox.stop()
    return 0
