"""``python -m bench``: run every section, print the table, write reports/performance.md (every
run; git-ignored) and, from a complete run only, docs/performance.md.

Sections: ``reconcile`` (per-reconcile calls and times over the topology grid, split over
``--jobs`` worker processes, each with its own sandbox), ``workflow`` (convergence and burst
through the pipeline under throttle emulation), ``coldstart`` (handler imports, layer size),
``sweep`` (the scheduled sweep's cost on 10, 100 and 1,000 converged VPCs, before and after the
fleet diff), ``zerotouch`` (the blog scenario's event-to-last-route latency, split by step; it
measures the handler imports too when ``coldstart`` does not run), e.g.
``python -m bench --sections sweep,zerotouch``.
``--case TEXT`` narrows the workflow section to the convergence cases whose label holds TEXT
(no burst), e.g. ``python -m bench --sections workflow --case "one big table"``.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

from bench import coldstart, per_reconcile, sweep_cost, workflow, zero_touch
from bench.report import Results, document, markdown, table
from bench.topology import Mesh, OneBigTable, Topology, grid

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "docs" / "performance.md"
REPORT = ROOT / "reports" / "performance.md"  # every run's, git-ignored
CONVERGENCE: tuple[Mesh, ...] = (
    Topology(4, 10, True),  # the mesh: 1,200 routes
    Topology(4, 5, True),  # the largest per-subnet mesh of the grid under the payload limit
    Topology(4, 10, False),
    OneBigTable(150),  # 151 routes, 150 of them in one table: one lane at EC2's whole rate
)
BURST = Topology(4, 5, True)  # 20 subnets created at once
SECTIONS = ("reconcile", "workflow", "coldstart", "sweep", "zerotouch")


def _quiet() -> None:
    logging.disable(logging.WARNING)
    warnings.filterwarnings("ignore")


def _reconcile_worker(topologies: list[Topology]) -> list[per_reconcile.ReconcileRow]:
    _quiet()
    from outpost_mesh_sandbox.aws.server import Sandbox

    rows = []
    with Sandbox() as sb:
        for topo in topologies:
            started = time.perf_counter()
            rows.append(per_reconcile.measure(sb, topo))
            print(f"  reconcile {topo.label}: {time.perf_counter() - started:.0f} s", flush=True)
    return rows


def estimated_seconds(topo: Topology, limit: int = per_reconcile.DEFAULT_LIMIT) -> float:
    """What measuring a topology costs the sandbox, roughly (fitted on a 2-core machine)."""
    pairs = topo.subnets * (topo.subnets - topo.subnets_per_rack)
    routes = topo.routes * 0.03 if topo.routes <= limit else topo.routes / 500
    naive = pairs * 0.011 if pairs <= limit else 0.0
    return 2 + pairs / 900 + routes + naive


def _split(topologies: list[Topology], jobs: int) -> list[list[Topology]]:
    """Longest first, each to the least loaded worker."""
    loads = [0.0] * jobs
    parts: list[list[Topology]] = [[] for _ in range(jobs)]
    for topo in sorted(topologies, key=estimated_seconds, reverse=True):
        worker = loads.index(min(loads))
        parts[worker].append(topo)
        loads[worker] += estimated_seconds(topo)
    return [part for part in parts if part]


def run_reconcile(results: Results, topologies: list[Topology], jobs: int) -> None:
    parts = _split(topologies, jobs)
    if len(parts) == 1:
        rows = _reconcile_worker(parts[0])
    else:
        with ProcessPoolExecutor(len(parts), mp_context=get_context("spawn")) as pool:
            rows = [row for chunk in pool.map(_reconcile_worker, parts) for row in chunk]
    order = {t: i for i, t in enumerate(topologies)}
    results.reconcile = sorted(rows, key=lambda r: order[r.topology])
    if len(parts) > 1:
        results.notes.append(
            f"The reconcile section ran in {len(parts)} worker processes at once (each with its "
            "own sandbox); its seconds include that contention, for outpost-mesh and the "
            "baseline alike."
        )


def convergence_cases(quick: bool, cases: list[str]) -> list[Mesh]:
    """The convergence cases to run: those whose label holds one of ``cases`` when given."""
    chosen = list(CONVERGENCE[1:2] if quick else CONVERGENCE)
    return [m for m in chosen if any(c in m.label for c in cases)] if cases else chosen


def run_workflow(results: Results, quick: bool, cases: list[str]) -> None:
    from outpost_mesh_sandbox.aws.server import Sandbox

    with Sandbox() as sb:
        for topo in convergence_cases(quick, cases):
            started = time.perf_counter()
            results.convergence.append(workflow.convergence(sb, topo))
            print(f"  convergence {topo.label}: {time.perf_counter() - started:.0f} s", flush=True)
        if cases:
            return
        started = time.perf_counter()
        results.burst = workflow.burst(sb, BURST)
        print(f"  burst: {time.perf_counter() - started:.0f} s", flush=True)


def run_sweep(results: Results) -> None:
    from outpost_mesh_sandbox.aws.server import Sandbox

    started = time.perf_counter()
    with Sandbox() as sb:
        results.sweep = sweep_cost.measure(sb, progress=lambda line: print(line, flush=True))
    print(f"  sweep: {time.perf_counter() - started:.0f} s", flush=True)


def run_zero_touch(results: Results) -> None:
    from outpost_mesh_sandbox.aws.server import Sandbox

    if results.coldstart is None:  # the projected cold starts need the handler imports
        results.coldstart = coldstart.measure()
    started = time.perf_counter()
    with Sandbox() as sb:
        results.zero_touch = zero_touch.measure(sb)
    print(f"  zerotouch: {time.perf_counter() - started:.0f} s", flush=True)


def main(argv: list[str] | None = None) -> int:
    args_list = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--jobs", type=int, default=min(2, os.cpu_count() or 1), help="reconcile workers"
    )
    parser.add_argument(
        "--quick", action="store_true", help="topologies up to 4x10 only (not for the doc)"
    )
    parser.add_argument("--sections", default=",".join(SECTIONS), help="comma-separated subset")
    parser.add_argument(
        "--case",
        action="append",
        default=[],
        metavar="TEXT",
        help="workflow: only the convergence cases whose label holds TEXT, no burst (repeatable)",
    )
    parser.add_argument("--no-write", action="store_true", help=f"do not rewrite {OUTPUT.name}")
    args = parser.parse_args(args_list)
    sections = {s.strip() for s in args.sections.split(",") if s.strip()}
    _quiet()
    started = time.perf_counter()
    results = Results()
    topologies = [t for t in grid() if not args.quick or t.subnets <= 40]
    if "reconcile" in sections:
        print(f"reconcile: {len(topologies)} topologies, {args.jobs} worker(s)", flush=True)
        run_reconcile(results, topologies, max(1, args.jobs))
    if "workflow" in sections:
        print("workflow: convergence and burst under throttle emulation", flush=True)
        run_workflow(results, args.quick, args.case)
    if "coldstart" in sections:
        print("coldstart: handler imports and the built layer", flush=True)
        results.coldstart = coldstart.measure()
    if "sweep" in sections:
        print("sweep: its cost on converged fleets, before and after the fleet diff", flush=True)
        run_sweep(results)
    if "zerotouch" in sections:
        print("zerotouch: the blog scenario, event to last route", flush=True)
        run_zero_touch(results)
    results.seconds = time.perf_counter() - started
    rows = table(results)
    print()
    print(markdown(rows))
    print(f"\n{results.seconds:,.0f} s")
    partial = args.quick or bool(args.case) or sections != set(SECTIONS)
    text = document(results, rows, args_list)
    REPORT.parent.mkdir(exist_ok=True)
    REPORT.write_text(text, encoding="utf-8")
    print(f"wrote {REPORT.relative_to(ROOT)}")
    if not args.no_write and not partial:
        OUTPUT.write_text(text, encoding="utf-8")
        print(f"wrote {OUTPUT.relative_to(ROOT)}")
    elif not args.no_write:
        why = "a partial run (--quick, --sections or --case)"
        print(f"{OUTPUT.relative_to(ROOT)} not rewritten: {why}")
    return 0
