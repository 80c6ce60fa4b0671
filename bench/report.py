"""The bench's one table (printed, and written to docs/performance.md with how it was made)."""

from __future__ import annotations

import os
import platform
import textwrap
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bench import cost_model
from bench.coldstart import ColdStart
from bench.cost_model import Bill, new_bill, old_bill
from bench.per_reconcile import Calls, ReconcileRow
from bench.sweep_cost import EXECUTION_SAMPLE, OldSweepRun, SweepCost, SweepRun
from bench.topology import Topology
from bench.workflow import HISTORY_CAP, PAYLOAD_CAP, WorkflowRun
from bench.zero_touch import RUNS as ZERO_TOUCH_RUNS
from bench.zero_touch import ZeroTouch
from outpost_mesh.workflow.batching import plan_lanes
from outpost_mesh_sandbox.aws.paging import pages_for

COMMAND = "make bench"  # runs: .venv/bin/python -m bench (after make install and make build)
PLAN_TARGET_MS = 50.0
IMPORT_TARGET_MS = 250.0
LAYER_TARGET_BYTES = 10_000_000
CONVERGENCE_FACTOR = 1.1
LARGEST = Topology(10, 20, True)  # the largest topology: its Map batches bound the history
APPLY_LANES = 4  # the template's ApplyMaxConcurrency default, as the bench's pipeline runs it
PURE_TARGET_S = 2.0  # the sweep's plan + verify of 1,000 VPCs


def largest_batches() -> int:
    """Map batches of the largest mesh from nothing, cut as the Plan task cuts them (its
    associations go before the Map)."""
    change = {"route_table_id": "", "destination": "", "local_gateway_id": ""}
    creates = [change] * LARGEST.routes_per_table
    tables = [
        {"vpc_id": "", "route_table_id": f"t{t}", "creates": creates, "deletes": []}
        for t in range(LARGEST.tables)
    ]
    return sum(len(lane) for lane in plan_lanes(tables, lanes=APPLY_LANES))


@dataclass
class Results:
    reconcile: list[ReconcileRow] = field(default_factory=list)
    convergence: list[WorkflowRun] = field(default_factory=list)
    burst: WorkflowRun | None = None
    coldstart: ColdStart | None = None
    sweep: SweepCost | None = None
    zero_touch: ZeroTouch | None = None
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    missed: set[str] = field(default_factory=set)  # keys of FIXES whose target was missed


Row = tuple[str, str, str, str, str, str, str]
HEADER: Row = (
    "section",
    "case",
    "outpost-mesh",
    "baseline / floor / cap",
    "ratio",
    "target",
    "verdict",
)


def _n(value: float) -> str:
    return f"{value:,.0f}"


def _ms(value: float) -> str:
    if value < 1:
        return f"{value:.2f} ms"
    return f"{value:,.1f} ms" if value < 100 else f"{value:,.0f} ms"


def _s(value: float | None) -> str:
    return "-" if value is None else (f"{value:,.2f} s" if value < 10 else f"{value:,.1f} s")


def _ratio(mine: float | None, base: float | None) -> str:
    if mine is None or base is None:
        return "-"
    if base == 0:
        return "-" if mine == 0 else "inf"
    if mine == 0:
        return "0"
    ratio = mine / base
    return f"{ratio:.2f}x" if ratio >= 0.01 else f"{ratio:.3f}x"


def _calls(calls: Calls) -> str:
    return f"{_n(calls.describes)} D, {_n(calls.mutating)} M"


def _aws_floor(calls: Calls) -> str:
    """What EC2's mutating bucket alone makes those calls take on AWS (one action's bucket)."""
    floor = max(0, calls.mutating - 50) / 5
    return f"; AWS >= {_s(floor)}" if floor else ""


def _verdict(ok: bool, why: str = "") -> str:
    return "met" if ok else f"MISSED: {why}" if why else "MISSED"


# -- targets ---------------------------------------------------------------------------------
def _extra_pages(row: ReconcileRow) -> int:
    """Describe calls one observation of the row's VPC makes past one page per action: its route
    tables (the main one too) at AWS's 100 per DescribeRouteTables page; subnets and the LGW
    describes fit one page of 1,000 here."""
    return pages_for("DescribeRouteTables", row.topology.tables + 1) - 1


def describes_target(rows: list[ReconcileRow]) -> tuple[bool, str]:
    """Constant in VPC size, pages aside: each observation's calls less its pages past the first."""
    steady = {r.product_steady.describes - _extra_pages(r) for r in rows}
    raw = {r.product_steady.describes for r in rows}
    initial_by_racks: dict[int, set[int]] = {}
    for r in rows:
        if r.product_initial is not None:
            initial_by_racks.setdefault(r.topology.racks, set()).add(
                r.product_initial.describes - 2 * _extra_pages(r)
            )
    ok = len(steady) == 1 and all(len(v) == 1 for v in initial_by_racks.values())
    initial = ", ".join(
        f"{next(iter(v)) if len(v) == 1 else sorted(v)} at {racks} racks"
        for racks, v in sorted(initial_by_racks.items())
    )
    text = (
        f"steady {sorted(steady)} on all {len(rows)} VPCs, pages past the first aside "
        f"({sorted(raw)} with them: DescribeRouteTables pages at 100); initial {initial}"
    )
    return ok, text


def mutating_target(rows: list[ReconcileRow]) -> tuple[bool, str]:
    built = [r for r in rows if r.product_initial is not None]
    equal = sum(1 for r in built if r.product_initial and r.product_initial.mutating == r.changes)
    zero = sum(1 for r in rows if r.product_steady.mutating == 0 and r.steady_plan_empty)
    ok = equal == len(built) and zero == len(rows)
    return ok, f"initial = changes on {equal}/{len(built)} built; steady 0 on {zero}/{len(rows)}"


def table(results: Results) -> list[Row]:
    rows: list[Row] = []
    rec = results.reconcile
    for r in rec:
        t = r.topology
        case = f"{t.label}: {t.subnets} subnets, {t.tables} tables, {_n(t.routes)} routes"
        if r.product_initial is not None:
            mine = (
                f"{_calls(r.product_initial)}; plan {_ms(r.plan_initial_ms)}; "
                f"{_s(r.product_initial.seconds)}{_aws_floor(r.product_initial)}"
            )
        else:
            mine = f"not run (> limit); {_n(r.changes)} changes; plan {_ms(r.plan_initial_ms)}"
        naive = (
            f"{_calls(r.naive_initial)}; {_s(r.naive_initial.seconds)}"
            + (" (CreateRoute counted)" if r.naive_initial.counted_only else "")
            + _aws_floor(r.naive_initial)
        )
        ratio = (
            f"D {_ratio(r.product_initial.describes, r.naive_initial.describes)}, "
            f"M {_ratio(r.product_initial.mutating, r.naive_initial.mutating)}, "
            f"s {_ratio(r.product_initial.seconds, r.naive_initial.seconds)}"
            if r.product_initial is not None
            else "-"
        )
        if r.product_initial is None:
            verdict = "not run"
        else:
            verdict = _verdict(
                r.product_initial.mutating == r.changes, "mutating calls differ from changes"
            )
        rows.append(
            (
                "reconcile, initial",
                case,
                mine,
                naive,
                ratio,
                f"M = {_n(r.changes)} changes",
                verdict,
            )
        )
        ps = r.product_steady
        payload = f"; route changes {r.plan_kib:,.0f} KiB" if r.plan_kib else ""
        if not r.ledger_in_dynamodb:
            payload += " (ledger not read back: see notes)"
        rows.append(
            (
                "reconcile, steady",
                t.label,
                f"{_calls(ps)}; plan {_ms(r.plan_steady_ms)}; verify {_ms(r.verify_ms)}; "
                f"{_s(ps.seconds)}{payload}",
                f"{_calls(r.naive_steady)}; {_s(r.naive_steady.seconds)}"
                + (" (CreateRoute counted)" if r.naive_steady.counted_only else "")
                + _aws_floor(r.naive_steady),
                f"D {_ratio(ps.describes, r.naive_steady.describes)}, M "
                f"{_ratio(ps.mutating, r.naive_steady.mutating)}, s "
                f"{_ratio(ps.seconds, r.naive_steady.seconds)}",
                "D constant, M = 0",
                _verdict(ps.mutating == 0 and r.steady_plan_empty, "changes when none needed"),
            )
        )
    if rec:
        ok, text = describes_target(rec)
        per_association = [
            (r.product_initial.describes - 2 * r.product_steady.describes) / r.topology.racks
            for r in rec
            if r.product_initial is not None
        ]
        extra = (
            f" (initial: 2 observations + {per_association[0]:.0f} per LGW association created)"
            if per_association and len(set(per_association)) == 1
            else ""
        )
        rows.append(
            (
                "target",
                "Describe calls per reconcile constant in VPC size",
                text,
                f"naive steady {_n(min(r.naive_steady.describes for r in rec))}-"
                f"{_n(max(r.naive_steady.describes for r in rec))}",
                "-",
                "constant (pages aside)",
                _verdict(ok, "Describe calls vary with VPC size") + (extra if ok else ""),
            )
        )
        ok, text = mutating_target(rec)
        rows.append(
            (
                "target",
                "mutating calls = changes needed; 0 when nothing to do",
                text,
                f"naive steady {_n(max(r.naive_steady.mutating for r in rec))} max",
                "-",
                "equal; 0",
                _verdict(ok),
            )
        )
        big = [r for r in rec if r.topology.racks == 10 and r.topology.subnets == 200]
        if big:
            worst = max(max(r.plan_initial_ms, r.plan_steady_ms) for r in big)
            if worst >= PLAN_TARGET_MS:
                results.missed.add("plan")
            if max(r.verify_ms for r in big) > 10_000:
                results.missed.add("verify")
            rows.append(
                (
                    "target",
                    "plan of a 200-subnet, 10-rack VPC (pure)",
                    "; ".join(
                        f"{r.topology.label}: {_ms(r.plan_initial_ms)} initial, "
                        f"{_ms(r.plan_steady_ms)} steady"
                        for r in big
                    ),
                    f"{_ms(PLAN_TARGET_MS)}",
                    _ratio(worst, PLAN_TARGET_MS),
                    f"< {PLAN_TARGET_MS:.0f} ms",
                    _verdict(
                        worst < PLAN_TARGET_MS,
                        "a plan from nothing makes a RouteChange, with its reason, for every "
                        "route to create: 36,000 for the per-subnet mesh",
                    ),
                )
            )
    rows += _workflow_rows(results)
    rows += _coldstart_rows(results)
    rows += _sweep_rows(results)
    rows += _zero_touch_rows(results)
    return rows


def _workflow_rows(results: Results) -> list[Row]:
    rows: list[Row] = []
    for run in results.convergence:
        floor = run.floor
        waste = sum(run.wasted.values())
        if run.converged and run.aws_seconds is not None:
            mine = (
                f"{_s(run.aws_seconds)} AWS time; {_n(run.mutating)} M ({_n(run.mutating_ok)} ok), "
                f"wasted {waste}; route calls {_s(run.route_seconds)} of it; "
                f"{_n(run.history)} history events, {run.batches} batches; "
                f"{_s(run.real_seconds)} real"
            )
            ok = run.aws_seconds <= CONVERGENCE_FACTOR * floor and waste == 0
            why = (
                f"{run.aws_seconds / floor if floor else 0:.2f}x the floor: the route calls "
                f"took {_s(run.route_seconds)}, the rest is {_s(run.before_routes)} before the "
                f"first (the lease; observing and planning: the Plan task, {_s(run.plan_task)}; "
                f"associating; the Map starting) and {_s(run.after_routes)} after the last "
                "(verifying), which weighs on a short floor"
                if waste == 0
                else f"{waste} wasted mutating calls {dict(run.wasted)}"
            )
            if not ok:
                results.missed.add("burst-unused" if waste == 0 else "waste")
        else:
            mine = f"did not converge: {run.failure}"
            ok = False
            if run.plan_bytes > PAYLOAD_CAP:
                results.missed.add("payload")
            why = (
                f"the Plan task's output (route changes alone {run.plan_bytes / 1024:,.0f} KiB) "
                f"exceeds Step Functions' {PAYLOAD_CAP // 1024} KiB: States.DataLimitExceeded"
                if run.plan_bytes > PAYLOAD_CAP
                else run.failure
            )
        rows.append(
            (
                "workflow convergence",
                f"{run.label}: {_n(run.routes)} routes, throttle on",
                mine,
                f"floor {_s(floor)} = max(0, {_n(run.routes)} - 50) / 5",
                _ratio(run.aws_seconds, floor) if run.converged and floor else "-",
                f"<= {CONVERGENCE_FACTOR}x floor, 0 wasted",
                _verdict(ok, why),
            )
        )
    ran = _alike(r for r in results.convergence if r.converged and r.batches)
    if results.convergence:
        projected: float | None = None
        text = "fewer than two runs of one rack count reached their batches: no projection"
        if len(ran) >= 2:
            a, b = sorted(ran, key=lambda r: r.batches)[:: len(ran) - 1]
            slope = (b.history - a.history) / max(1, b.batches - a.batches)
            base = a.history - slope * a.batches
            projected = base + largest_batches() * slope
            text = (
                f"measured {base:.0f} + {slope:.1f} per Map batch ({a.label}: "
                f"{_n(a.history)}, {b.label}: {_n(b.history)}): its {largest_batches()} batches "
                f"make ~{_n(projected)}"
            )
        failed = any(not r.converged for r in results.convergence)
        if projected is None:
            verdict = _verdict(False, "no execution ran its batches")
        elif projected < HISTORY_CAP:
            verdict = "met (projected)" + (
                "; but meshes over ~600 routes fail at Plan (payload, above) before any batch"
                if failed and "payload" in results.missed
                else ""
            )
        else:
            verdict = _verdict(False, "the history grows past the cap")
        rows.append(
            (
                "target",
                "history events of the largest topology (10x20 per-subnet)",
                text,
                f"cap {_n(HISTORY_CAP)}",
                _ratio(projected, HISTORY_CAP),
                f"< {_n(HISTORY_CAP)}",
                verdict,
            )
        )
    if results.burst is not None:
        run = results.burst
        waste = sum(run.wasted.values())
        rows.append(
            (
                "burst",
                f"{run.label} at once (4 racks, per-subnet tables), throttle on",
                f"{run.executions} executions started, {run.handed_over} handed over, "
                f"{run.worked} did work ({run.passes} passes); {_n(run.mutating)} M, wasted "
                f"{waste}; {_s(run.aws_seconds)} AWS time",
                f"{_n(run.changes)} changes; floor {_s(run.floor)}",
                _ratio(run.mutating, run.changes),
                "1 execution works; M = changes",
                _verdict(
                    run.converged and run.worked == 1 and run.mutating == run.changes,
                    run.failure or "more work than needed",
                ),
            )
        )
    return rows


def _alike(runs: Iterable[WorkflowRun]) -> list[WorkflowRun]:
    """The runs of the rack count most of them have: besides its batches, an execution's history
    grows with the racks (an association each), so the events per batch are read among equals."""
    runs = list(runs)
    counts = Counter(r.racks for r in runs)
    if not counts:
        return []
    racks = counts.most_common(1)[0][0]
    return [r for r in runs if r.racks == racks]


def _coldstart_rows(results: Results) -> list[Row]:
    cs = results.coldstart
    if cs is None:
        return []
    worst = max(cs.imports, key=lambda i: i.ms)
    if worst.ms >= IMPORT_TARGET_MS:
        results.missed.add("import")
    if cs.layer_bytes >= LAYER_TARGET_BYTES:
        results.missed.add("layer")
    fastest = min(cs.imports, key=lambda i: i.ms)
    pyc = max((i.pyc_ms for i in cs.imports), default=0.0)
    return [
        (
            "target",
            f"handler import, Lambda-like ({len(cs.imports)} handlers, median of "
            f"{worst.runs}, no .pyc)",
            f"max {_ms(worst.ms)} ({worst.function}), min {_ms(fastest.ms)} "
            f"({fastest.function}); X-Ray SDK adds {_ms(cs.xray_ms)} ({cs.xray_probe}); "
            f"as deployed (the layer ships checked-hash bytecode) max {_ms(pyc)}",
            f"{_ms(IMPORT_TARGET_MS)}",
            _ratio(worst.ms, IMPORT_TARGET_MS),
            f"< {IMPORT_TARGET_MS:.0f} ms without X-Ray",
            _verdict(
                worst.ms < IMPORT_TARGET_MS,
                "from source, Python compiles Powertools and pydantic at every import: a stub "
                "handler importing only them takes ~285 ms here, the project's modules add "
                "~45 ms (models are built on first parse); hence the bytecode in the layer",
            ),
        ),
        (
            "target",
            "built layer size (.aws-sam/build/OutpostMeshLayer)",
            f"{cs.layer_bytes / 1e6:.2f} MB unzipped ({cs.layer_zip_bytes / 1e6:.2f} MB zipped): "
            + ", ".join(f"{name} {size / 1e6:.1f} MB" for name, size in cs.layer_parts[:3]),
            f"{LAYER_TARGET_BYTES / 1e6:.0f} MB",
            _ratio(cs.layer_bytes, LAYER_TARGET_BYTES),
            "< 10 MB",
            _verdict(
                cs.layer_bytes < LAYER_TARGET_BYTES,
                "pydantic-core's compiled extension and Powertools (the layer's Makefile "
                "already drops what no function imports)",
            ),
        ),
    ]


# -- the sweep's cost and zero-touch latency --------------------------------------------------
@dataclass(frozen=True)
class Before:
    """The old sweep on a fleet: measured, or extrapolated from the largest it ran on."""

    run: OldSweepRun
    bill: Bill
    seconds: float  # its own Lambda's run time
    extrapolated: bool

    @property
    def label(self) -> str:
        return f" (extrapolated from {self.run.vpcs:,})" if self.extrapolated else ""


def _before(cost: SweepCost, vpcs: int) -> Before | None:
    measured = next((o for o in cost.old if o.vpcs == vpcs), None)
    if measured is not None:
        return Before(measured, old_bill(measured), measured.seconds, False)
    smaller = [o for o in cost.old if o.vpcs < vpcs]
    if not smaller:
        return None
    base = max(smaller, key=lambda o: o.vpcs)
    return Before(base, old_bill(base, vpcs), base.seconds * vpcs / base.vpcs, True)


def _converged(cost: SweepCost, vpcs: int) -> SweepRun | None:
    return next((r for r in cost.new if r.vpcs == vpcs and not r.drifted), None)


def _by_action(calls: Mapping[str, int]) -> str:
    return ", ".join(f"{n:,} {action}" for action, n in sorted(calls.items()))


def _sweep_case(run: SweepRun) -> str:
    return f"{run.vpcs:,} VPCs, " + ("one drifted" if run.drifted else "converged")


def _sweep_rows(results: Results) -> list[Row]:
    cost = results.sweep
    if cost is None:
        return []
    rows: list[Row] = []
    for run in cost.new:
        old = _before(cost, run.vpcs)
        new = new_bill(run, cost.memory_mb)
        before = old.bill if old is not None else None
        mine = (
            f"executions: {run.started}; {run.describe_total} Describe calls (page formula "
            f"{run.formula_total}); DynamoDB {_by_action(run.dynamodb.calls)} "
            f"({run.ledger_pages} ledger pages, {run.dynamodb.read_units:,.1f} RRU); Lambda "
            f"{_s(run.seconds)} in the sandbox ({_s(run.observe_seconds)} observing, plan + "
            f"verify {_ms(run.judge_seconds * 1000)})"
        )
        base = "-"
        if old is not None and before is not None:
            base = (
                f"before{old.label}: executions {_n(before.executions)}, "
                f"{_n(before.transitions)} transitions, {_n(before.invocations)} Lambda "
                f"invocations; {_n(before.ec2_calls)} EC2 and {_n(before.dynamodb_calls)} "
                f"DynamoDB calls; its sweep Lambda {_s(old.seconds)}"
            )
        expected = 1 if run.drifted else 0
        formula = dict(run.describes) == dict(run.formula) == dict(run.reported)
        formula = formula and not run.other_calls
        converged = run.outcomes.get("converged", 0) == run.vpcs - run.drifted
        ok = run.started == expected and formula and converged
        why = (
            f"Describes {dict(run.describes)}, formula {dict(run.formula)}, counted by the "
            f"sweep {dict(run.reported)}"
            if run.started == expected and converged
            else f"{run.started} executions started, outcomes {dict(run.outcomes)}"
        )
        rows.append(
            (
                "sweep cost",
                _sweep_case(run),
                mine,
                base,
                f"EC2 {_ratio(new.ec2_calls, before.ec2_calls if before else None)}",
                f"executions: {'exactly 1' if run.drifted else '0'}; D = page formula",
                _verdict(ok, why),
            )
        )
    rows += _sweep_targets(results, cost)
    return rows


def _sweep_targets(results: Results, cost: SweepCost) -> list[Row]:
    rows: list[Row] = []
    big = _converged(cost, max(r.vpcs for r in cost.new))
    drifted = next((r for r in cost.new if r.drifted), None)
    old = _before(cost, big.vpcs) if big else None
    if big is not None:
        rows.append(
            (
                "target",
                f"executions started by a sweep of {big.vpcs:,} converged VPCs",
                f"{big.started}",
                f"before{old.label}: {_n(old.bill.executions)}" if old else "-",
                "-",
                "0",
                _verdict(big.started == 0, f"{big.outcomes}"),
            )
        )
    if drifted is not None:
        rows.append(
            (
                "target",
                f"executions started by a sweep of {drifted.vpcs:,} VPCs, one drifted",
                f"{drifted.started} ({_by_action(drifted.outcomes)})",
                f"before{old.label}: {_n(old.bill.executions)}" if old else "-",
                "-",
                "exactly 1",
                _verdict(drifted.started == 1, f"{drifted.outcomes}"),
            )
        )
    equal = all(dict(r.describes) == dict(r.formula) and not r.other_calls for r in cost.new)
    rows.append(
        (
            "target",
            "EC2 Describe calls per sweep = sum over the actions of ceil(items / AWS's page)",
            "; ".join(
                f"{_sweep_case(r)}: {r.describe_total} = {r.formula_total}" for r in cost.new
            ),
            "; ".join(f"before, {o.vpcs:,}: {sum(o.ec2.values()):,}" for o in cost.old) or "-",
            "-",
            f"= formula ({len(big.formula) if big else 6} actions)",
            _verdict(equal, "a sweep made other calls or pages than the formula"),
        )
    )
    converged = [r for r in cost.new if not r.drifted]
    reads = [r.dynamodb.calls.get("Query", 0) for r in converged]
    per_vpc = [r for r in cost.new if set(r.dynamodb.calls) - {"Query", "UpdateItem"}]
    rows.append(
        (
            "target",
            "ledger reads per sweep: paginated, no per-VPC load",
            "Query only: "
            + ", ".join(f"{q} at {r.vpcs:,} VPCs" for q, r in zip(reads, converged, strict=True))
            + " (the MANAGED partition and the fleet index in "
            + ", ".join(str(r.ledger_pages) for r in converged)
            + " pages; the quarantines in 1)",
            "; ".join(f"before, {o.vpcs:,}: {_by_action(o.dynamodb.calls)}" for o in cost.old)
            or "-",
            "-",
            "paginated; not per VPC",
            _verdict(max(reads) <= min(reads) + 2 and not per_vpc, "reads grow with the VPCs"),
        )
    )
    if big is not None:
        if big.judge_seconds >= PURE_TARGET_S:
            results.missed.add("sweep-pure")
        rows.append(
            (
                "target",
                f"sweep Lambda time at {big.vpcs:,} VPCs, plan + verify (pure part)",
                f"{_ms(big.judge_seconds * 1000)} (best of 3; {_ms(big.judge_in_run * 1000)} "
                f"in the run); the whole Lambda {_s(big.seconds)} in the sandbox",
                f"{_s(PURE_TARGET_S)}",
                _ratio(big.judge_seconds, PURE_TARGET_S),
                f"< {PURE_TARGET_S:.0f} s",
                _verdict(big.judge_seconds < PURE_TARGET_S),
            )
        )
    if big is not None and old is not None:
        month_new = new_bill(big, cost.memory_mb).times(cost_model.SWEEPS_PER_MONTH)
        month_old = old.bill.times(cost_model.SWEEPS_PER_MONTH)
        rows.append(
            (
                "target",
                f"state transitions per converged month, {big.vpcs:,} VPCs, hourly sweep",
                f"{_n(month_new.transitions)}; ${month_new.dollars:,.2f} a month in all",
                f"before{old.label}: {_n(month_old.transitions)}; "
                f"${month_old.dollars:,.2f} a month",
                _ratio(month_new.transitions, month_old.transitions),
                "0",
                _verdict(month_new.transitions == 0),
            )
        )
    return rows


def _zero_touch_rows(results: Results) -> list[Row]:
    zt = results.zero_touch
    if zt is None:
        return []
    ours = sum(s.ours for s in zt.steps)
    cold = _cold_ms(results, [f for s in zt.steps for f in s.functions], zt)
    return [
        (
            "target",
            "zero-touch latency, blog: CloudTrail event at the trigger to the last route call",
            f"{_s(zt.total)} AWS time in the sandbox: "
            + ", ".join(f"{s.name} {_ms(s.aws_seconds * 1000)}" for s in zt.steps)
            + f"; our handlers {_ms(ours * 1000)} of it",
            f"on AWS add: association wait {_association_wait(zt)}; EC2 pacing "
            f"{_s(max(0.0, zt.clock_jumps))}; "
            + (f"cold starts <= {_ms(cold)}" if cold is not None else "cold starts not measured"),
            "-",
            "reported, split by step",
            "reported",
        )
    ]


def _cold_ms(results: Results, functions: Iterable[str], zt: ZeroTouch) -> float | None:
    """The handler imports (as deployed) of ``functions`` (logical ids), summed: their cold
    starts' share that bench/coldstart.py measures."""
    cs = results.coldstart
    if cs is None:
        return None
    imports = {i.function: i.pyc_ms or i.ms for i in cs.imports}
    return sum(imports.get(zt.functions.get(f, ""), 0.0) for f in dict.fromkeys(functions))


def _money(value: float) -> str:
    return f"${value:,.2f}" if value >= 0.01 else (f"${value:.6f}" if value else "$0")


def sweep_table(cost: SweepCost | None) -> str:
    """Before and after, per sweep at each size and per month at the largest."""
    if cost is None:
        return "Not run in this run (`--sections sweep`)."
    sizes = [r.vpcs for r in cost.new if not r.drifted]
    columns: list[tuple[str, Bill | None, float | None]] = []
    for size in sizes:
        old, new = _before(cost, size), _converged(cost, size)
        if old is not None:
            columns.append((f"{size:,}, before{old.label}", old.bill, old.seconds))
        if new is not None:
            columns.append((f"{size:,}, after", new_bill(new, cost.memory_mb), new.seconds))
    month = cost_model.SWEEPS_PER_MONTH
    big, old_big = _converged(cost, sizes[-1]), _before(cost, sizes[-1])
    if big is not None and old_big is not None:
        after = new_bill(big, cost.memory_mb).times(month)
        columns.append((f"month, {sizes[-1]:,}, before", old_big.bill.times(month), None))
        columns.append((f"month, {sizes[-1]:,}, after", after, None))
    measures: list[tuple[str, Any]] = [
        ("executions started", lambda b: _n(b.executions)),
        ("Step Functions state transitions", lambda b: _n(b.transitions)),
        ("Lambda invocations", lambda b: _n(b.invocations)),
        ("Lambda GB-s (billed ms x memory)", lambda b: f"{b.gb_seconds:,.1f}"),
        ("EC2 API calls", lambda b: _n(b.ec2_calls)),
        ("DynamoDB calls", lambda b: _n(b.dynamodb_calls)),
        ("DynamoDB read / write units", lambda b: f"{_n(b.read_units)} / {_n(b.write_units)}"),
        *(
            (f"$ {service}", lambda b, k=service: _money(b.by_service()[k]))
            for service in ("Step Functions", "Lambda", "DynamoDB")
        ),
        ("$ in all", lambda b: _money(b.dollars)),
    ]
    head = f"| per sweep (a month: {month} sweeps) | " + " | ".join(c[0] for c in columns) + " |"
    lines = [head, "|---|" + "---|" * len(columns)]
    for label, show in measures:
        cells = [show(b) if b is not None else "-" for _, b, _ in columns]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    seconds = [_s(sec) if sec is not None else "" for _, _, sec in columns]
    lines.append("| sweep Lambda run time (sandbox) | " + " | ".join(seconds) + " |")
    return "\n".join(lines) + "\n\n" + _sweep_notes(cost)


def _sweep_notes(cost: SweepCost) -> str:
    b = cost.build
    notes = []
    if b.cli_vpcs:
        per = b.cli_seconds / b.cli_vpcs
        notes.append(
            f"Building the fleet: {b.cli_vpcs} VPCs meshed through the CLI path in "
            f"{_s(b.cli_seconds)} ({per:.2f} s per VPC: 1,000 that way would take over "
            f"{per * 1000 / 60:.0f} min, growing with the fleet), {b.direct_vpcs:,} written in "
            f"that path's end state in {_s(b.direct_seconds)} (see below)."
        )
    for old in cost.old:
        ex = old.executions
        if not ex.executions:
            continue
        per = 1 / ex.executions
        states = ", ".join(f"{name} {n * per:g}" for name, n in sorted(ex.states.items()))
        functions = ", ".join(
            f"{name} {n * per:g} ({ex.lambda_seconds.get(name, 0.0) / n * 1000:,.0f} ms)"
            for name, n in sorted(ex.invocations.items())
        )
        notes.append(
            f"Before, at {old.vpcs:,} VPCs: the sweep started {old.started:,} executions; "
            f"{ex.executions} of them run one after the other cost each {ex.transitions * per:g} "
            f"state transitions ({states}), {sum(ex.invocations.values()) * per:g} Lambda "
            f"invocations ({functions}), {ex.gb_seconds * per:.3f} GB-s, {ex.ec2 * per:g} EC2 "
            f"calls and {ex.dynamodb.total * per:g} DynamoDB calls "
            f"({_by_action({k: round(v * per) for k, v in ex.dynamodb.calls.items()})})."
        )
    notes.append(
        f"Prices: us-east-1 list prices in effect since {cost_model.PRICES_AS_OF} (DynamoDB's "
        "on-demand price cut; checked in 2025), before any free tier: Step "
        f"Functions Standard ${cost_model.STEP_FUNCTIONS_STANDARD_PER_TRANSITION * 1000:.3f} per "
        f"1,000 state transitions; Lambda ${cost_model.LAMBDA_PER_REQUEST * 1e6:.2f} per million "
        f"requests and ${cost_model.LAMBDA_PER_GB_SECOND:.10f} per GB-s (x86; every function "
        f"{', '.join(sorted({f'{m} MB' for m in cost.memory_mb.values()}))} in template.yaml); "
        f"DynamoDB on-demand ${cost_model.DYNAMODB_PER_READ_UNIT * 1e6:.3f} per million read and "
        f"${cost_model.DYNAMODB_PER_WRITE_UNIT * 1e6:.3f} per million write request units. EC2 "
        "API calls are not charged (they spend EC2's request rate). Lambda seconds are the "
        "handlers' in the sandbox (moto answers each call in milliseconds; AWS's latencies differ)."
    )
    return "\n".join(_item(n) for n in notes)


def zero_touch_table(results: Results) -> str:
    zt = results.zero_touch
    if zt is None:
        return "Not run in this run (`--sections zerotouch`)."
    head = (
        "| step | AWS time in the sandbox | of it our handlers | of it the sandbox's Step "
        "Functions and Lambda | on AWS, AWS's own waiting | cold start (handler imports) |"
    )
    lines = [head, "|---|---|---|---|---|---|"]
    seen: set[str] = set()

    def line(step: Any, waiting: str) -> str:
        first = [f for f in step.functions if f not in seen]  # a function is cold once
        seen.update(first)
        cold = _cold_ms(results, first, zt)
        return (
            f"| {step.name} | {_ms(step.aws_seconds * 1000)} | {_ms(step.ours * 1000)} | "
            f"{_ms(max(0.0, step.aws_seconds - step.ours) * 1000)} | {waiting} | "
            + (f"{_ms(cold)} |" if cold else "- |")
        )

    for step in zt.steps:
        waiting = "-"
        if step.name == "association: wait":
            waiting = _association_wait(zt)
        elif step.name == "routes":
            waiting = (
                f"EC2 pacing {_s(max(0.0, zt.clock_jumps))} ({zt.routes} routes, in the burst)"
            )
        lines.append(line(step, waiting))
    ours = sum(s.ours for s in zt.steps)
    cold = _cold_ms(results, [f for s in zt.steps for f in s.functions], zt)
    lines.append(
        f"| **to the last route call** | **{_ms(zt.total * 1000)}** | {_ms(ours * 1000)} | "
        f"{_ms(max(0.0, zt.total - ours) * 1000)} | >= {zt.association_wait_seconds} s | "
        + (f"{_ms(cold)} |" if cold is not None else "- |")
    )
    for step in zt.after:
        lines.append(line(step, "-"))
    return "\n".join(lines)


def _association_wait(zt: ZeroTouch) -> str:
    wait = zt.association_wait_seconds
    return (
        f">= {wait} s: each check follows a Wait of AssociationWaitSeconds ({wait} s; here "
        f"{zt.association_checks} checks: {zt.association_checks * wait} s); how long AWS takes "
        "to associate is not documented"
    )


def _converged_pass(results: Results) -> str:
    """A converged execution's transitions and invocations, as the sweep section measured."""
    cost = results.sweep
    ex = cost.old[0].executions if cost and cost.old else None
    if ex is None or not ex.executions:
        return ""
    return (
        f" (two of a converged execution's {ex.transitions / ex.executions:g} transitions and "
        f"{sum(ex.invocations.values()) / ex.executions:g} Lambda invocations)"
    )


def zero_touch_fix(results: Results) -> str:
    """What the split shows in our code (a fix proposed, the layers unchanged)."""
    zt = results.zero_touch
    if zt is None:
        return ""
    wait = zt.association_wait_seconds
    ours = sum(s.ours for s in zt.steps)
    return (
        f"**Zero-touch latency** (blog; reported, not a target with a bound): to the last route "
        f"call our handlers run {_ms(ours * 1000)} in the sandbox, of {_ms(zt.total * 1000)}; "
        "what AWS makes the path wait is the association: its first check comes after a Wait of "
        f"AssociationWaitSeconds ({wait} s), each later one {wait} s after the last "
        f"({zt.association_checks} checks here: {zt.association_checks * wait} s), whatever the "
        "state change really takes (AWS does not document it; Terraform waits up to 5 min). "
        "Cheap win, in statemachine/reconcile.asl.json only: check once before the first Wait "
        "and wait 1 s between the first few checks (then AssociationWaitSeconds): the path then "
        f"waits about as long as AWS takes to associate, not in steps of {wait} s; the price is "
        "a few more checks (a transition and a Lambda invocation each) only when a VPC first "
        "meets a rack. Also seen: each pass invokes Associate and Disassociate even when the "
        f"plan has nothing for them{_converged_pass(results)}; a Choice on the plan's counts "
        f"would skip both. The step's {zt.events} CloudTrail events (CreateSubnet, "
        f"AssociateRouteTable) start {zt.executions} executions: the second hands its trigger "
        f"over and the first makes {max(0, zt.passes - 1)} more pass after the routes "
        "(level-triggered, as designed)."
    )


def markdown(rows: list[Row]) -> str:
    def line(cells: Row) -> str:
        return "| " + " | ".join(c.replace("|", "/") for c in cells) + " |"

    return "\n".join([line(HEADER), "|" + "---|" * len(HEADER), *(line(r) for r in rows)])


def _item(text: str) -> str:
    return textwrap.fill(text, 100, initial_indent="- ", subsequent_indent="  ")


def document(results: Results, rows: list[Row], argv: list[str]) -> str:
    cs = results.coldstart
    env = (
        f"{platform.machine()} with {os.cpu_count()} CPUs, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}"
        + (
            f"; handler imports with python {cs.python.rsplit('(', 1)[-1].rstrip(')')}"
            if cs
            else ""
        )
    )
    command = COMMAND + (f" (python -m bench {' '.join(argv)})" if argv else "")
    notes = "\n".join(_item(n) for n in results.notes)
    found = [FIXES[key] for key in FIXES if key in results.missed]
    found += [text for text in (zero_touch_fix(results),) if text]
    fixes = "\n".join(_item(text) for text in found)
    return TEMPLATE.format(
        command=command,
        env=env,
        seconds=results.seconds,
        table=markdown(rows),
        sweep=sweep_table(results.sweep),
        sample=EXECUTION_SAMPLE,
        runs=ZERO_TOUCH_RUNS,
        zero_touch=zero_touch_table(results),
        notes=notes or "- none",
        fixes=fixes or "- none: every target was met",
    )


# Why a missed target is missed, and the fix proposed; only the misses of the run are written.
FIXES = {
    "payload": (
        "**Plan payload** (workflow convergence, history): the Plan task returns every route "
        "change (~430 bytes each, with its reason and subnet ids) inside the execution's state, "
        "and Step Functions caps a state at 256 KiB: past ~600 routes the execution fails "
        "`States.DataLimitExceeded` and rolls back (4x10 per-subnet: 513 KiB; 10x20 per-subnet: "
        "15 MB). The execution then ends `States.Runtime` rather than with that cause: the "
        "rollback's Fail state re-raises the `States.DataLimitExceeded` name through "
        "ErrorPath, and the `States.` prefix is reserved (moto refuses it). "
        "Fix: keep the plan out of the state. The Plan task writes each route table's "
        "batch to the ledger table (one item per table and pass, with a TTL: 1,000 routes of "
        "~60 bytes fit DynamoDB's 400 KB item) and returns only `[{route_table_id, creates: n, "
        "deletes: m}]` (~60 bytes a table, 12 KB for 200 tables); ApplyRoutes reads its item. "
        "Drop `reason` from what ApplyRoutes gets; it never uses it."
    ),
    "burst-unused": (
        "**Pacing across Map lanes** (workflow convergence): the Plan task puts each route "
        "table's changes in one lane (never two writers on a table; deletions first), spreads "
        "the tables over at most ApplyMaxConcurrency lanes balanced by change count, and cuts "
        "each lane into batches of at most 100 changes and 600 s of pacing, applied in order. "
        "A lane paces at its share of MutatingRate and MutatingBurst, in proportion to its "
        "changes, so the lanes end together; on the first pass each lane starts with its share "
        "of the burst and hands what it did not use to its next batch "
        "(`workflow.batching.plan_lanes`, `batch_pacer`; a retry starts empty). Each later "
        "batch of a lane starts with an empty bucket and one pause: many small batches in one "
        "lane cost a pause each. "
        "What is left above the floor is time outside the paced calls: observing and planning, "
        "the association and its wait, verifying, the Map's start-ups. On a short floor (tens "
        "of seconds) that overhead alone can exceed a tenth of it. "
        "In a VPC of many subnets most of it is the Plan task remembering where each subnet and "
        "route table lives (`LedgerStore.remember_locations`: a GetItem, and on a first pass a "
        "PutItem, per subnet and table, one after the other, before the associations and the "
        "Map): 306 DynamoDB calls for `1+150, one big table`, whose route calls alone stay "
        "within a few hundredths of the floor (a lane's starting tokens leave RESERVE_TOKENS, "
        "0.4 s at 5/s; a batch after the burst is spent starts empty: a 0.2 s pause). Fix: read "
        "and write the locations in batches (BatchGetItem of 100 keys, BatchWriteItem of 25 "
        "items: 9 calls), or after the route calls, off the way to the first route: batched, a "
        "trial took the case from 1.13-1.15x to 1.07-1.09x its floor (3 runs each). What stays "
        "(the lease, observing, associating, the Map's start, ~1 s; verifying, ~0.3 s) leaves "
        "it little room under a tenth."
    ),
    "waste": (
        "**Wasted mutating calls**: batches met RequestLimitExceeded (their whole batch is then "
        "retried by the workflow, re-creating routes it made: RouteAlreadyExists)."
    ),
    "plan": (
        "**Planner** (plan time): the topology is indexed once per plan (`TopologyIndex`) and "
        "each route table's routes share their sources and reason prefix; what is left is "
        "making the `RouteChange` of every route to create (36,000 frozen dataclasses for the "
        "10x20 per-subnet mesh from nothing, ~35 ms) and its reason string (~8 ms). A steady "
        "plan builds none."
    ),
    "sweep-pure": (
        "**Sweep, plan + verify of every VPC**: `fleet.judge` plans each VPC with the pass's rules "
        "and runs verify's reachability over its pairs; past the target, plan only the VPCs "
        "whose observation or ledger changed since the last sweep (a digest per VPC)."
    ),
    "verify": (
        "**Verify** (not a target; reconcile time): `verify.reachability` over 40,000 pairs; "
        "it uses the same index and a longest-prefix table per route table."
    ),
    "import": (
        "**Handler import, from source**: without bytecode Python compiles the layer's sources at "
        "every cold start (/opt is read-only, so nothing is cached there), and Powertools with "
        "pydantic alone take ~285 ms to import that way here (a stub handler that only builds "
        "Logger and Metrics and imports the parser); the project's modules add ~45 ms, its task "
        "and event models are built on first parse (`defer_build`). The layer's Makefile "
        "therefore compiles it (`compileall --invalidation-mode checked-hash`, python3.13): as "
        "deployed the import takes what the table shows, and the layer stays under 10 MB. "
        "Importing pydantic only on first parse was measured too (133 ms import, but the first "
        "parse then takes ~200 ms: the cold start is no shorter) and not taken."
    ),
    "layer": (
        "**Layer size**: pydantic-core's compiled extension (4.9 MB), Powertools and pydantic. "
        "The layer's Makefile build already drops what no function imports (Powertools' "
        "event_handler and unused utilities, pydantic.v1, stubs, jmespath)."
    ),
}


TEMPLATE = """# Performance

How close outpost-mesh gets to the EC2 API's own limits, and what it spends to know what to do.
Every figure below comes from one run of

```bash
{command}
```

on {env}. `python -m bench` took {seconds:,.0f} s.
`make bench` (or `make docs`) installs what it needs, builds the layer (`sam build`) and runs
`python -m bench`, which prints this table, writes it to reports/performance.md (git-ignored) and,
from a complete run only (not `--quick`, `--sections` or `--case`), rewrites this file. It is a
benchmark, not a test: it never fails on a missed target, it reports it.

{table}

Ratios are outpost-mesh / baseline. D = Describe calls, M = mutating calls (CreateRoute,
DeleteRoute, the LGW route table VPC association calls), s = seconds. "AWS >=" is what EC2's
mutating bucket alone (50, refilled at 5/s) makes that many calls of one action take on AWS.

## How each figure is made

- **Topologies** (`bench/topology.py`): R racks x n subnets per rack in one VPC, every subnet on
  its rack; `shared` = one route table per rack, `per-subnet` = one per subnet. The full mesh needs,
  in each table, one LGW route per subnet of the other racks; the routes-per-table quota is raised
  where a table needs more than AWS's default 50 (up to AWS's 1,000), in the sandbox's account and
  in the stack's RoutesPerTableQuota alike. Beside the grid, `1+150, one big table`
  (`OneBigTable`): 2 racks, one subnet with a table of its own on one, 150 subnets sharing one
  table on the other; the first table needs 150 routes, the shared one 1 (151 routes, quota 150):
  a VPC whose changes sit mostly in one table.
- **reconcile, initial / steady** (`bench/per_reconcile.py`): the product's synchronous reconcile
  (`reconcile_vpc`, the CLI's `apply`: the same core as the workflow's tasks, with its DynamoDB
  ledger) from nothing meshed (initial), then again with nothing to do (steady). Calls are counted
  by the sandbox per access key. Plan and verify times are pure (`plan_vpc`, `reachability` on the
  observed topology and ledger; best of a few runs; verify is timed inside the steady reconcile
  when it takes over half a second). "Route changes": the JSON size of a plan from nothing's
  route changes, which the workflow's Plan task stashes in the ledger table (its state carries
  only a key per batch: Step Functions caps a state at 256 KiB; tests/unit/test_plan_state_size.py
  keeps the 36,000-route mesh's keys under it). Seconds are the sandbox's wall clock with
  throttling off:
  moto's own costs weigh in them (its DynamoDB writes and serialises each item in milliseconds),
  so they compare outpost-mesh with the baseline under the same sandbox, not with AWS.
  Meshes above 1,300 routes are not built call by call: their steady state is written straight
  into the sandbox (`bench/converge.py`) and their initial reconcile is not run; their ledger is
  kept in memory for the pure plan and not written to the sandbox's DynamoDB ("ledger not read
  back"): moto takes ~2 ms to serialise each item a query returns, which would add a minute to a
  36,000-route ledger that DynamoDB reads in a few pages. Their steady reconcile makes the same
  EC2 calls (the routes are then satisfied instead of owned).
- **naive baseline** (`bench/naive.py`): one listing of subnets and tables, then a Describe per
  subnet and per table, the LGW route tables and associations per rack, and a CreateRoute for every
  ordered pair of subnets on different racks, duplicates (`RouteAlreadyExists`) caught. It runs on
  its own copy of the account; above 1,300 pairs its CreateRoute calls are counted, not sent
  (exact: every one would be a duplicate, or every one new).
- **workflow convergence and burst** (`bench/workflow.py`): the scenario runner plays the whole
  pipeline (EventBridge rules, trigger/sweep, moto's Step Functions executing
  `statemachine/reconcile.asl.json` with the real handlers in-process, the template's
  MutatingRate 5, MutatingBurst 50, ApplyMaxConcurrency 4) with **throttle emulation on**
  (`throttle: {{time_scale: 1}}`, `src/outpost_mesh_sandbox/aws/throttle.py`): each EC2 action
  has its own token bucket (mutating 50 / 5 per s, Describe 100 / 20 per s, unfiltered Describe
  50 / 10 per s) and a call past it gets `RequestLimitExceeded`. AWS time is the throttle's clock:
  it runs with real time and jumps when a task's pacer sleeps (pacing gets the same clock through
  `outpost_mesh.pacing.use_time_source`), so minutes of AWS time take seconds. Convergence time is
  AWS time from the pipeline's first EC2 call to its last; the floor is max(0, N - 50) / 5 for N
  routes. Wasted = mutating calls answered `RouteAlreadyExists` or `RequestLimitExceeded`. The
  runner shortens the task retry interval to 1 s (template: 2 s) and the association wait to 0 s.
  The cases: the 4x10 and 4x5 per-subnet meshes (many tables in balanced lanes), 4x10 shared (4
  tables) and `1+150, one big table` (one lane at EC2's whole rate, its 150-route table in two
  batches of at most 100 changes). The Plan task's seconds come from the execution's history (real
  time: it does not pace). `python -m bench --sections workflow --case "one big table"` runs one
  case (its label holding the text) and no burst. The history projection reads events per batch from
  runs of one rack count (an execution's other events grow with its racks).
- **cold start** (`bench/coldstart.py`): each handler's `import app` in a fresh python3.13 with
  `-S -B`, on a path of only the function's code, the built layer (copied without `__pycache__`:
  the target's "no .pyc") and the runtime's boto3/botocore, as Lambda lays them out; median of a
  few runs. "As deployed": the same with the layer exactly as `sam build` made it, with the
  python3.13 bytecode its Makefile compiles (checked-hash). The X-Ray SDK's cost: the same import
  with aws-xray-sdk and wrapt on the path. The layer's size is the built layer's, bytecode
  included.
- **sweep cost** (`bench/sweep_cost.py`, priced by `bench/cost_model.py`): the stack deployed in
  the sandbox sweeps a fleet of N VPCs (2 racks, one Outpost subnet per rack, each in a route
  table of its own, meshed: 2 LGW routes and 2 LGW route table associations each) grown to 10, 100
  and 1,000 VPCs, then one of the 1,000 drifted (a person deletes one of its routes). The first 10
  VPCs are meshed through the CLI path (`reconcile_vpc`); the rest are put in the state that path
  leaves without its calls (`bench/converge.py`: associations through the API, routes straight
  into the sandbox's EC2 backend, the ledger's items in batches, the locations through
  `LedgerStore.remember_locations`), which bypasses the planner for the benchmark's setup only:
  every sweep finds every VPC converged or says otherwise. **After** (the fleet diff): the deployed
  SweepFunction invoked for real; its EC2 and DynamoDB calls come from the sandbox's log (the
  pipeline's key, up to its last StartExecution), the page formula from the bench's own count of
  each action's items in the Region (`outpost_mesh_sandbox.aws.paging.pages_for`), the pure part
  from `fleet.judge` timed inside the run and again, best of 3, over the same arguments.
  **Before** (`git show 3e33afb:layers/outpost_mesh/outpost_mesh/workflow/triggers.py`,
  `bench.sweep_cost.old_sweep`): the old sweep run for real at each size with the SweepFunction's
  settings and a key of its own, its StartExecution calls made to a state machine of one Succeed
  state (so its run time is not that of the executions on this machine's 2 cores); then
  {sample} of the executions it starts run for real, one after the other, on the reconcile
  machine (transitions = `*StateEntered` events of their histories; Lambda invocations and run
  times from the in-process handlers; EC2 and DynamoDB calls from the log), and one execution per
  candidate VPC costed at their mean: extrapolated, not run, for the rest. DynamoDB request units:
  each Query run again to size the items it read (DynamoDB's item size: names plus values; 4 KB a
  read unit, half for the index's eventually consistent reads), a PutItem sized from its item
  (twice when the fleet index holds it), other single-item calls 1 unit. Lambda GB-s: each
  invocation's run time in the sandbox rounded up to the ms, times its function's memory. A month
  is 730 hourly sweeps (template.yaml's SweepSchedule default).
- **zero-touch latency** (`bench/zero_touch.py`): scenarios/blog.yaml through the deployed stack
  with throttle emulation on (time_scale 1), every function's container warm (clients made); the
  step's calls made, their CloudTrail events delivered to the rules at once, until idle; repeated
  {runs} times after one warm-up run, the run of the median total kept. Times are AWS time on the
  throttle's clock (real time plus the jumps of paced calls), real timestamps (history events,
  each handler's start and end) mapped to it through the EC2 calls the throttle logged. A step runs
  from the end of the one before (the trigger from its handler's start to the working execution's
  StartExecution call; execution start to its first state) to the exit of its last state before
  the last route call; "routes" ends at that call. "Our handlers": the real time a handler of the
  step's functions ran in it; the rest is the sandbox's Step Functions and Lambda (moto: not
  AWS's latencies). On AWS, add what the sandbox shortens (each association check follows a Wait
  of AssociationWaitSeconds, 0 s in the sandbox) and each function's cold start (its handler
  import as deployed, from the cold start section; a cold container also makes its boto3 clients
  on first use, not measured here).

## Sweep cost, before and after

{sweep}

## Zero-touch latency (blog)

{zero_touch}

## What the misses come from, and the fixes proposed

{fixes}

Also found (not a target of the issue): each created route costs three DynamoDB calls (the
owner read, the route, and the VPC's MANAGED marker written again every time); they overlap the
pacing's waits, so they do not slow convergence, but they are the sandbox's real cost per route.
The CLI's `apply` paces its mutating calls with the same bucket (48 of EC2's 50 at once, then 5/s;
tests/integration/test_throttle.py).

## Notes from this run

{notes}
"""
