"""One actor per VPC, whoever calls (rule 5): the CLI and the workflow's tasks share one lease
rule, and a task changes a VPC only while its execution holds the lease.

Outcomes are read back from AWS (routes) and the ledger (the lease), through boto3.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from outpost_mesh.errors import LeaseLostError
from outpost_mesh.ledger import LedgerStore
from outpost_mesh.service import ReconcileService
from outpost_mesh.settings import Settings
from outpost_mesh.task_models import ApplyRoutesInput, AssociateInput
from outpost_mesh.workflow import tasks
from outpost_mesh_cli.main import main
from outpost_mesh_sandbox.aws.server import Sandbox

from .support import seeded
from .test_reconcile import lgw_routes, live_associations


def _execution_arn(sb: Sandbox, name: str) -> str:
    return f"arn:aws:states:{sb.region}:{sb.account_id}:execution:outpost-mesh-reconcile:{name}"


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("HOME", "/nonexistent")


def _apply(sb: Sandbox, store: LedgerStore, vpc: str, capsys: Any) -> tuple[int, str]:
    code = main(["apply", "--vpc", vpc, "--endpoint-url", sb.endpoint_url])
    return code, capsys.readouterr().err


@pytest.mark.usefixtures("cli_env")
def test_the_cli_never_takes_over_a_workflows_lease_it_cannot_inspect(
    sb: Sandbox, ec2: Any, store: LedgerStore, capsys: pytest.CaptureFixture[str]
) -> None:
    """The operator's role lacks states:DescribeExecution: the CLI cannot tell whether the
    execution holding the lease still runs, so it must leave the VPC to it (two writers on one
    VPC otherwise), and hand its trigger over."""
    ids = seeded(sb, "blog")
    vpc = ids.vpc_id("app")
    holder = _execution_arn(sb, "a-running-reconcile")
    claim = store.claim(vpc, holder)
    sb.control.inject_fault("DescribeExecution", "AccessDeniedException", times=10, service=None)

    code, err = _apply(sb, store, vpc, capsys)

    assert code == 3 and "is being reconciled by" in err and "retry later" in err  # busy
    assert (store.lease(vpc) or {}).get("holder") == holder
    assert lgw_routes(ec2, ids.route_table_id("rt-a")) == {}
    assert live_associations(ec2, vpc) == set()
    assert store.release(claim) is not None  # the CLI's trigger was handed to the holder


@pytest.mark.usefixtures("cli_env")
def test_the_cli_takes_over_the_lease_of_an_execution_that_is_gone(
    sb: Sandbox, ec2: Any, store: LedgerStore, capsys: pytest.CaptureFixture[str]
) -> None:
    """The same lease, answered: Step Functions says the holder does not exist, so the lease is
    stale and the CLI reconciles (the refusal above comes from not knowing, not from the lease)."""
    ids = seeded(sb, "blog")
    vpc = ids.vpc_id("app")
    store.claim(vpc, _execution_arn(sb, "an-aborted-reconcile"))

    code, err = _apply(sb, store, vpc, capsys)

    assert (code, err) == (0, "")
    assert lgw_routes(ec2, ids.route_table_id("rt-a")) != {}
    assert (store.lease(vpc) or {}).get("holder") is None


def test_a_task_of_an_execution_without_the_lease_changes_nothing(
    sb: Sandbox, ec2: Any, store: LedgerStore
) -> None:
    """Execution Y holds the VPC's lease; tasks of execution X (its lease taken over after its
    expiry, a redrive, a stray invocation) raise LeaseLostError before any change."""
    ids = seeded(sb, "blog")
    vpc = ids.vpc_id("app")
    svc = ReconcileService(Settings(table=store.table_name), ec2=ec2, store=store)
    planned = svc.plan(vpc).plan
    assert planned.associations_to_create and planned.routes_to_create
    store.claim(vpc, _execution_arn(sb, "exec-y"))

    with pytest.raises(LeaseLostError):
        tasks.associate(
            svc,
            AssociateInput.model_validate(
                {
                    "vpc_id": vpc,
                    "execution_name": "exec-x",
                    "associations": [a.to_dict() for a in planned.associations_to_create],
                }
            ),
        )
    route = planned.routes_to_create[0]
    with pytest.raises(LeaseLostError):
        tasks.apply_routes(
            svc,
            ApplyRoutesInput.model_validate(
                {
                    "execution_name": "exec-x",
                    "batch": {
                        "vpc_id": vpc,
                        "route_table_id": route.route_table_id,
                        "creates": [route.to_dict()],
                    },
                }
            ),
        )
    assert live_associations(ec2, vpc) == set()
    assert lgw_routes(ec2, route.route_table_id) == {}
    assert store.load(vpc).routes == ()
    # The holder's own task is let through (the check names the execution, not any holder).
    store.force_release(vpc, _execution_arn(sb, "exec-y"))
    store.claim(vpc, _execution_arn(sb, "exec-x"))
    svc.require_lease(vpc, "exec-x")


@pytest.mark.usefixtures("cli_env")
def test_the_clis_plan_records_nothing_and_its_apply_records_what_the_workflow_would(
    sb: Sandbox, store: LedgerStore, capsys: pytest.CaptureFixture[str]
) -> None:
    """One rule for findings whoever runs: ``plan`` reads only; ``apply`` records the plan's
    findings (what ``status`` shows), as the workflow's Plan task does."""
    ids = seeded(sb, "shared-main-table", run_steps=False)
    vpc = ids.vpc_id("shop")
    common = ["--vpc", vpc, "--endpoint-url", sb.endpoint_url, "--output", "json"]

    assert main(["plan", *common]) == 0
    planned = json.loads(capsys.readouterr().out)
    assert [f["kind"] for f in planned["findings"]] == ["shared-route-table"]
    assert store.findings(vpc) == []
    assert store.lease(vpc) is None

    assert main(["apply", *common]) == 0
    capsys.readouterr()
    assert [(f.kind, f.subject) for f in store.open_findings(vpc)] == [
        ("shared-route-table", ids.subnet_id("subnet-a"))
    ]
