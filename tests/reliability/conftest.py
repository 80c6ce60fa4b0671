"""Fixtures of the reliability suite, and the report written from its run.

The report is generated, never written by hand: at the session's end, whenever tests of this
package ran, it is written to ``reports/reliability.md`` (git-ignored; a test run never rewrites
a tracked file) with the fault matrix and each case's outcome, the concurrency results, the
bad-input corpus and the counts (cases, events tried, calls made, routes lost) that the tests
recorded in :data:`harness.TALLY`. ``reports/reliability.status`` says ``complete`` when every
test file of tests/reliability was collected, nothing was deselected or skipped and every test
passed, else ``incomplete: REASON``. ``make reliability`` runs the whole package and copies a
complete report to docs/reliability.md; it leaves docs/ alone otherwise.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from outpost_mesh_sandbox.aws.server import Sandbox
from outpost_mesh_sandbox.stack.pipeline import PipelineOptions, find_root

from .harness import TALLY, World

PACKAGE = Path(__file__).resolve().parent
REPORTS = find_root() / "reports"  # git-ignored: what test runs write
REPORT = REPORTS / "reliability.md"
STATUS = REPORTS / "reliability.status"
#: moto's Step Functions engine sleeps each Retry interval in real time (1 s, 2 s, 4 s ... with
#: the pipeline's smallest IntervalSeconds, 1). The suite compresses that time, not the retries:
#: every Retry still happens, with its back-off ratio, 50 times faster.
RETRY_TIME_SCALE = 0.02


class _ScaledTime:
    """``time`` as moto's retrier sees it: sleeps shortened by RETRY_TIME_SCALE."""

    def __init__(self, real: Any, scale: float) -> None:
        self._real = real
        self._scale = scale

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def sleep(self, seconds: float) -> None:
        self._real.sleep(seconds * self._scale)


@pytest.fixture(scope="package", autouse=True)
def compressed_retry_waits() -> Iterator[None]:
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl

    real = retrier_decl.time
    retrier_decl.time = _ScaledTime(time, RETRY_TIME_SCALE)
    try:
        yield
    finally:
        retrier_decl.time = real


@pytest.fixture(scope="package", autouse=True)
def reused_clients() -> Iterator[None]:
    """One boto3 client per sandbox, service and caller for the whole package (a client costs
    ~40 ms to build and every case deploys the stack afresh; clients are thread-safe and outlive
    the sandbox's resets)."""
    real = Sandbox.client
    made: dict[tuple[int, str, str], Any] = {}
    lock = threading.Lock()

    def client(self: Sandbox, service: str, caller: str = "pipeline", **kwargs: Any) -> Any:
        if kwargs:
            return real(self, service, caller, **kwargs)
        key = (id(self), service, caller)
        with lock:
            if key not in made:
                made[key] = real(self, service, caller)
            return made[key]

    Sandbox.client = client  # type: ignore[method-assign]
    try:
        yield
    finally:
        Sandbox.client = real  # type: ignore[method-assign]


@pytest.fixture(scope="package", autouse=True)
def reused_engine_clients() -> Iterator[None]:
    """moto's Step Functions engine builds a new boto3 Lambda client for every Lambda task
    (~10-30 ms, a good part of a task's time here): one per region and port instead."""
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils

    real = lambda_eval_utils.boto_client_for
    made: dict[tuple[str, str, str], Any] = {}
    lock = threading.Lock()

    def boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        # moto signs with fixed fake keys whatever the state's credentials are
        key = (region, service, os.environ.get("MOTO_PORT", ""))
        with lock:
            if key not in made:
                made[key] = real(region=region, service=service)
            return made[key]

    lambda_eval_utils.boto_client_for = boto_client_for
    try:
        yield
    finally:
        lambda_eval_utils.boto_client_for = real


@pytest.fixture(scope="package", autouse=True)
def listed_moto_modules_once() -> Iterator[None]:
    """moto's server lists its package directory (a listdir and ~200 stats) on every request to
    route it; the list does not change while the suite runs."""
    from moto import backends

    real = backends.list_of_moto_modules
    modules = tuple(real())
    backends.list_of_moto_modules = lambda: modules
    try:
        yield
    finally:
        backends.list_of_moto_modules = real


@pytest.fixture(scope="package", autouse=True)
def parsed_once() -> Iterator[None]:
    """Every case deploys the stack afresh: parse template.yaml (~0.4 s with PyYAML) and the
    state machine's ASL (~0.25 s with moto's ANTLR parser, again at every execution's start)
    once per content. The parsed ASL program keeps no execution state (an execution's lives in
    its Environment; a Map already evaluates one program in several threads)."""
    from moto.stepfunctions.parser.asl.parse import asl_parser

    from outpost_mesh_sandbox.stack import pipeline
    from outpost_mesh_sandbox.stack.template import StackTemplate

    parser = asl_parser.AmazonStateLanguageParser
    real_parse = parser.parse
    real_load = getattr(pipeline, "load_template")  # noqa: B009 - imported there, patched there
    programs: dict[str, Any] = {}
    docs: dict[tuple[str, float], Any] = {}
    lock = threading.Lock()

    def parse(definition: str) -> Any:
        with lock:
            found = programs.get(definition)
        if found is None:
            found = real_parse(definition)
            with lock:
                programs[definition] = found
        return found

    def load_template(path: str | Path, **values: Any) -> StackTemplate:
        source = Path(path)
        key = (str(source.resolve()), source.stat().st_mtime)
        if key not in docs:
            docs[key] = real_load(source).doc
        # StackTemplate only reads its doc (it builds what it returns): shared, not copied.
        return StackTemplate(path=source, doc=dict(docs[key]), **values)

    parser.parse = staticmethod(parse)
    setattr(pipeline, "load_template", load_template)  # noqa: B010
    try:
        yield
    finally:
        parser.parse = staticmethod(real_parse)
        setattr(pipeline, "load_template", real_load)  # noqa: B010


@pytest.fixture
def make_world(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., World]]:
    """Build a case's world (fresh account, stack deployed, scenario seeded); closed after."""
    worlds: list[World] = []

    def make(scenario: str, *, options: PipelineOptions | None = None, name: str = "case") -> World:
        world = World(sandbox, monkeypatch, scenario, options=options, name=name)
        worlds.append(world)
        return world

    yield make
    for world in worlds:
        world.close()
        TALLY.calls_made += len(world.pipeline_calls(since=0))
        TALLY.events_tried += world.events_delivered
        for execution in world.pipeline.executions():
            TALLY.executions[execution.status] += 1


# -- the report (reports/reliability.md; docs/reliability.md by `make reliability`) ---------
_STATE: dict[str, Any] = {"whole": False, "items": set(), "deselected": 0, "skipped": set()}
#: Lines of the report's "Bounded payloads" section, each a case's own numbers.
PAYLOAD_LINES: list[str] = []


@pytest.fixture
def report_line() -> Callable[[str], None]:
    """Add one line, a case's numbers, to the report's "Bounded payloads" section."""
    return PAYLOAD_LINES.append


def _in_package(path: Path) -> bool:
    return PACKAGE in Path(path).resolve().parents


def pytest_deselected(items: list[pytest.Item]) -> None:
    _STATE["deselected"] += sum(1 for item in items if _in_package(item.path))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    mine = [item for item in items if _in_package(item.path)]
    files = {p.name for p in PACKAGE.glob("test_*.py")}
    collected = {item.path.name for item in mine}
    partial_args = any("::" in str(arg) for arg in config.args)
    _STATE["items"] = {item.nodeid for item in mine}
    _STATE["whole"] = (
        collected == files
        and not partial_args
        and not config.option.keyword
        and not config.option.markexpr
        and not config.getoption("lf", False)
    )


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.nodeid not in _STATE["items"]:
        return
    TALLY.seconds += report.duration  # set-up (fixtures) included, other packages' tests not
    if report.when == "call" and report.passed:
        TALLY.ran.add(report.nodeid)
    if report.skipped:
        _STATE["skipped"].add(report.nodeid)


def incomplete() -> str:
    """Why this run's report is not the whole suite's (empty when it is)."""
    items = _STATE["items"]
    if not _STATE["whole"]:
        return "a partial run (not every test file of tests/reliability, or -k, -m, :: or --lf)"
    if _STATE["deselected"]:
        return f"{_STATE['deselected']} test(s) deselected"
    if _STATE["skipped"] & items:
        return f"{len(_STATE['skipped'] & items)} test(s) skipped"
    failed = len(items - TALLY.ran)
    if failed:
        return f"{failed} of {len(items)} test(s) did not pass"
    return ""


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not _STATE["items"]:
        return  # the package did not run: an earlier report stays as it was
    reason = incomplete()
    REPORTS.mkdir(exist_ok=True)
    REPORT.write_text(render(TALLY.seconds), encoding="utf-8")
    STATUS.write_text(f"incomplete: {reason}\n" if reason else "complete\n", encoding="utf-8")


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render(seconds: float) -> str:
    items = _STATE["items"]
    passed = len(TALLY.ran & items)
    rows = TALLY.rows
    reason = incomplete()
    lines = [
        "# Reliability: fault matrix, concurrency and bad input",
        "",
        *([f"**Incomplete run: {reason}.** Not the whole suite's report.", ""] if reason else []),
        "Generated from a run of the reliability suite (`tests/reliability`; its conftest.py",
        "writes reports/reliability.md at every run): do not edit by hand. `make reliability`",
        "runs the whole suite and copies the report to docs/reliability.md only when every test",
        "ran and passed. Each case drives the real workflow (the ASL executed by moto's Step",
        "Functions engine, the real Lambda handlers in-process) in the sandbox; outcomes are read",
        "back from AWS state, the ledger, the executions, the handlers' EMF and the topic's",
        "notices.",
        "",
        "## Counts",
        "",
        f"- tests: {len(items)}, passed: {passed}"
        + ("" if passed == len(items) else f" (**{len(items) - passed} not passed**)"),
        f"- fault-matrix cases: {len(rows)} ({sum(r.passed for r in rows)} held every promise)",
        f"- events tried: {TALLY.events_tried} (events delivered to the pipeline, plus the "
        "bad-input corpus's examples)",
        f"- calls made: {TALLY.calls_made} (AWS API calls by the pipeline's functions)",
        "- executions: "
        + (", ".join(f"{n} {s}" for s, n in sorted(TALLY.executions.items())) or "none"),
        f"- routes lost: {TALLY.routes_lost}",
        f"- run time of the package's tests: {seconds:.0f} s",
        "",
        "## Fault matrix",
        "",
        "For every case: each execution ended SUCCEEDED or FAILED after its rollback; each route "
        "table",
        "holds exactly its earlier routes plus wanted, owned routes from completed work; no route "
        "the",
        "system does not own changed; the ledger matches AWS; every lease is free with every "
        "trigger",
        "seen; the expected finding was recorded and notified and its metric emitted.",
        "",
        "| case | fault | outcome | final state | routes | findings | metrics | faults hit "
        "| calls | events | held |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            "| "
            + " | ".join(
                _cell(v)
                for v in (
                    row.case,
                    row.fault,
                    row.outcome,
                    row.final,
                    row.routes,
                    row.findings,
                    row.metrics,
                    row.faults_hit,
                    row.calls,
                    row.events,
                    "yes" if row.passed else "**no**",
                )
            )
            + " |"
        )
    lines += ["", "## Concurrency", ""]
    lines += [f"- {line}" for line in TALLY.concurrency] or ["- (not run)"]
    lines += ["", "## Bounded payloads (every ApplyRoutes lane failed)", ""]
    lines += [f"- {line}" for line in PAYLOAD_LINES] or ["- (not run)"]
    lines += [
        "",
        "## Bad input (hypothesis corpora, in-process on a converged sandbox account)",
        "",
        "Each input: rejected with one logged reason (`MalformedInputError`), refused with a "
        "typed error",
        "no Retry of the workflow matches, or handled without changing anything; never a "
        "mutating EC2 call.",
        "",
        "| entry point | examples | rejected (MalformedInputError) | refused (typed error) "
        "| handled, nothing changed | mutating EC2 calls |",
        "|---|---|---|---|---|---|",
    ]
    for entry, counts in sorted(TALLY.corpus.items()):
        refused = {k[len("refused: ") :]: v for k, v in counts.items() if k.startswith("refused")}
        handled = {
            k: v
            for k, v in counts.items()
            if k not in ("examples", "rejected", "mutating") and not k.startswith("refused")
        }
        lines.append(
            f"| {entry} | {counts['examples']} | {counts['rejected']} "
            f"| {_breakdown(refused)} | {_breakdown(handled)} | {counts['mutating']} |"
        )
    lines += ["", "## Found by this suite, and fixed", "", *(f"- {item}" for item in FOUND)]
    lines += ["", "## Left", "", *(f"- {item}" for item in LEFT), ""]
    return "\n".join(lines)


def _breakdown(counts: dict[str, int]) -> str:
    total = sum(counts.values())
    if not total:
        return "0"
    return f"{total} (" + ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())) + ")"


FOUND = (
    "DynamoDB throttling (ProvisionedThroughputExceededException) on the ledger or the lease "
    "failed the pass (AwsApiError, not retried): now ThrottledError, retried like EC2's.",
    "A throttled DescribeLocalGateways in the rollback quarantined the rack under its LGW id, "
    "which the planner never matches: the rack was retried and rejected on every pass. Now the "
    "rollback undoes, then fails so its Retry asks again.",
    "A failed ApplyRoutes batch failed the Map while other batches' Lambdas still ran: the "
    "rollback could read the ledger before they created their routes and leave them behind. "
    "Now a batch ends its own iteration on an error; the workflow rolls back once every batch "
    "has ended (statemachine: BatchFailed, AnyBatch?, BatchFailures, AllBatchesApplied?, "
    "BatchErrors).",
    "Tasks that change a VPC (associate, apply routes, disassociate) did not check the lease: "
    "a stray, redriven or expired execution's task could change it (a replayed batch deleted "
    "live routes). Now they refuse (LeaseLostError) unless their execution holds it.",
    "Task inputs with malformed nested items crashed with KeyError/TypeError; execution names "
    "with line breaks made multi-line errors; a rollback with a malformed lease crashed "
    "(ValueError), one with no subject wrote an empty DynamoDB key: every task input is now "
    "typed (ids, CIDRs, execution ARN and name) and rejected with one reason.",
    "The trigger reconciled for events of failed calls (errorCode) when invoked directly: now "
    "ignored with a log line.",
    "SNS subjects with control characters made the rollback's notice fail: now cleaned.",
    "CLI: argparse mistakes printed the whole usage block; a malformed --endpoint-url gave a "
    "traceback (or a misleading 'no credentials'): now one line, exit 2.",
    "Scenario files: a key with a line break made a two-line error: now escaped.",
)


LEFT = (
    "A Rollback input forged or replayed with the name of an execution that succeeded would "
    "undo that execution's routes, and one naming a real rack's LGW would quarantine that rack: "
    "the Rollback task cannot tell its own, running execution from a stray invocation. Fix: "
    "check `states:DescribeExecution` is RUNNING for `execution_arn` before undoing (needs the "
    "grant on RollbackFunction, which tests/test_template.py now forbids). The corpus names "
    "unknown executions and racks only.",
    "A pass can lose a race with the person's next call (a subnet deleted, or still on the main "
    "table between CreateSubnet and AssociateRouteTable, after the pass observed the VPC): AWS "
    "refuses the route, the execution fails after its rollback, and the trigger of that call "
    "gives one more pass. Correct, but it raises an `error` finding and the failed-executions "
    "alarm for routine activity.",
    "A refused (unsafe) plan is a finding and a notice but no metric of its own: no alarm "
    "counts refusals.",
    "The sandbox disables botocore's own retries (so faults are seen exactly as injected): the "
    "trigger survives a storm only within Lambda's 2 async retries here (then the event goes to "
    "the on-failure queue and the next sweep meshes the VPC); deployed, botocore retries first.",
)
