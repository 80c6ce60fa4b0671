"""``outpost-mesh demo --scenario FILE [--json]``: a scenario through the whole pipeline, offline.

The sandbox plays AWS; the stack of template.yaml runs in it (the real handlers, the real state
machine, the rules' real event patterns). ``--json`` prints exactly the report of
docs/scenario-format.md on stdout; without it, a report for a person: the topology, the ping
matrix before the first step, each step with its events, executions and route changes, the
ping matrix after, and the routing domain (LGW route table) each VPC is in on each Outpost; with
several accounts, each account's meshes and the hub's view. A bad file is one line on stderr and
exit 2; a crash of the runner, one line and exit 1.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from outpost_mesh_sandbox.demo import DemoRun, StepRecord
    from outpost_mesh_sandbox.demo.report import Snapshot
    from outpost_mesh_sandbox.scenario import OutpostSpec

EXIT_BAD_FILE = 2
EXIT_RUNNER_FAILED = 1


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    del common  # the AWS options (region, profile, ...) mean nothing here: it is all offline
    text = (
        "run a scenario file through the whole pipeline in the local sandbox and report what "
        "happened (events, executions, routes, reachability)"
    )
    parser = sub.add_parser("demo", help=text, description=text)
    parser.add_argument("--scenario", required=True, metavar="FILE", help="scenario YAML file")
    parser.add_argument(
        "--json", action="store_true", help="print the report as one JSON object on stdout"
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="how long to wait, after each step, for the pipeline to be idle (default 60)",
    )
    parser.set_defaults(func=cmd_demo)


def _error(message: str) -> None:
    print(f"outpost-mesh: error: {' '.join(str(message).split())}", file=sys.stderr)


def cmd_demo(args: argparse.Namespace) -> int:
    from outpost_mesh_sandbox.demo import run_demo
    from outpost_mesh_sandbox.scenario import ScenarioError, load_scenario
    from outpost_mesh_sandbox.stack.pipeline import PipelineOptions, PipelineTimeoutError

    try:
        scenario = load_scenario(args.scenario)
    except ScenarioError as error:
        _error(str(error))
        return EXIT_BAD_FILE
    options = PipelineOptions(idle_timeout=args.timeout)

    def progress(line: str) -> None:
        if not args.json:
            print(f"  ... {line}", file=sys.stderr, flush=True)

    real_stdout = sys.stdout
    try:
        # Nothing but the report reaches stdout, whatever a library prints meanwhile.
        with contextlib.redirect_stdout(sys.stderr):
            run = run_demo(scenario, options=options, progress=progress)
    except ScenarioError as error:  # a placeholder the sandbox cannot fill, found at run time
        _error(str(error))
        return EXIT_BAD_FILE
    except PipelineTimeoutError as error:
        _error(
            f"the demo runner failed: PipelineTimeoutError: {error} (a scenario of thousands of "
            "routes needs more: --timeout SECONDS)"
        )
        return EXIT_RUNNER_FAILED
    except Exception as error:
        _error(f"the demo runner failed: {type(error).__name__}: {error}")
        return EXIT_RUNNER_FAILED
    if args.json:
        real_stdout.write(json.dumps(run.report, indent=2) + "\n")
    else:
        real_stdout.write(render_text(run))
    real_stdout.flush()
    return 0


# -- the report for a person ----------------------------------------------------------------
def _table(rows: list[list[str]], indent: str = "  ") -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        indent + "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip()
        for row in rows
    ]


def _outpost_subnets(run: DemoRun) -> dict[str, dict[str, Any]]:
    """Every Outpost subnet the run ever had (before, during, after), by name."""
    found: dict[str, dict[str, Any]] = {}
    for shot in [run.before, *(r.after for r in run.steps if r.after is not None)]:
        for name, info in shot.subnets.items():
            if info.get("outpost"):
                found.setdefault(name, dict(info))
    return found


# A subnet the matrix lists (it exists at some moment of the run) but not at this one: before
# the first step it is yet to be created by a step; after a step, it was deleted. The cell's word,
# and what it means.
_MISSING = {True: ("not yet", "created by a later step"), False: ("deleted", "deleted by a step")}


def _cell(
    shot: Snapshot, source: str, target: str, subnets: dict[str, dict[str, Any]], first: bool
) -> str:
    """One cell of the ping matrix. A subnet that does not exist at this moment says so before
    anything else: a deleted subnet is on no rack and reaches nothing."""
    if source == target:
        return "-"
    missing = [n for n in (source, target) if n not in shot.subnets]
    if missing:
        return _MISSING[first][0]
    a, b = subnets[source], subnets[target]
    if a.get("vpc") != b.get("vpc"):
        return "-"
    if a.get("outpost") == b.get("outpost"):
        return "same rack"
    reachable = shot.reachable(source, target)
    return "yes" if reachable else "no"


def _ping_lines(run: DemoRun, shot: Snapshot, subnets: dict[str, dict[str, Any]]) -> list[str]:
    from outpost_mesh_sandbox.demo.report import Translator

    words = Translator(run.ids)
    names = list(subnets)
    if len(names) < 2:
        return ["  (fewer than two Outpost subnets: nothing to ping)"]
    first = shot is run.before
    rows = [["from \\ to", *names]]
    rows += [[source, *(_cell(shot, source, t, subnets, first) for t in names)] for source in names]
    lines = _table(rows)
    pairs = []
    for i, source in enumerate(names):
        for target in names[i + 1 :]:
            a, b = subnets[source], subnets[target]
            if a.get("vpc") != b.get("vpc") or a.get("outpost") == b.get("outpost"):
                continue
            label = f"{source} {a.get('cidr')} <-> {target} {b.get('cidr')}"
            missing = [n for n in (source, target) if n not in shot.subnets]
            if missing:
                why = _MISSING[first][1]
                pairs.append(f"  {label}: no ping ({', '.join(missing)} {why})")
                continue
            there = shot.reachable(source, target)
            back = shot.reachable(target, source)
            if there and back:
                pairs.append(f"  {label}: ping works (routed both ways over the LGWs)")
                continue
            reasons = [
                f"{p['from']} -> {p['to']}: {words.text(str(p.get('reason', '')))}"
                for p in shot.reachability
                if {p["from"], p["to"]} == {source, target} and not p["reachable"]
            ]
            pairs.append(f"  {label}: unreachable ({'; '.join(reasons)})")
    legend = "yes: routed to the other rack's subnet over the local gateways; no: not routed"
    if any(name not in shot.subnets for name in names):
        legend += f"; {': '.join(_MISSING[first])}"
    return [*lines, f"  ({legend})", *pairs]


def _delivery_line(delivery: Any) -> str:
    event: dict[str, Any] = delivery.event if isinstance(delivery.event, dict) else {}
    raw_detail = event.get("detail")
    detail: dict[str, Any] = raw_detail if isinstance(raw_detail, dict) else {}
    name = detail.get("eventName") or event.get("detail-type") or "event"
    if detail.get("errorCode"):
        name = f"{name} (failed call: {detail['errorCode']})"
    if not delivery.matched:
        return f"{name}: no rule matched, nothing happens"
    parts = []
    for invocation in delivery.invocations:
        target = invocation.function
        if not invocation.ok:
            parts.append(
                f"{target} FAILED ({invocation.error_type}: {invocation.error_message}) "
                "-> finding 'error'"
            )
            continue
        payload = invocation.payload if isinstance(invocation.payload, dict) else {}
        started = payload.get("started") or []
        ignored = payload.get("ignored") or []
        if started:
            parts.append(f"{target} started {len(started)} execution(s)")
        elif ignored:
            parts.append(f"{target}: nothing to reconcile there")
        else:
            parts.append(f"{target}: no new execution (already started for this event)")
    return f"{name} -> {', '.join(delivery.rules)} -> " + "; ".join(parts)


def _step_lines(run: DemoRun, number: int, record: StepRecord) -> list[str]:
    from outpost_mesh_sandbox.demo.report import Translator

    words = Translator(run.ids)
    lines = [f"Step {number}: {record.label}"]
    if record.calls:
        lines.append(f"  calls       {', '.join(record.calls)}")
    for problem in record.call_errors:
        lines.append(f"  refused     {words.text(problem)}")
    names = {account_id: f"[{name}] " for name, account_id in run.ids.accounts.items()}
    deliveries = [
        names.get(str(d.event.get("account")) if isinstance(d.event, dict) else "", "")
        + _delivery_line(d)
        for d in record.deliveries
    ]
    if deliveries:
        lines.append(f"  events      {deliveries[0]}")
        lines += [f"              {line}" for line in deliveries[1:]]
    elif record.calls:
        lines.append("  events      none (quiet: no CloudTrail event)")
    if record.executions:
        lines.append("  executions")
        for execution in record.executions:
            note = ""
            if execution.name in record.handed_over:
                note = "  (the VPC was busy: handed its trigger to the running execution)"
            elif execution.name in record.awaiting:
                note = (
                    f"  (waits for approval: {record.awaiting[execution.name]} change(s); "
                    "outpost-mesh approve / reject --vpc ID)"
                )
            owner = names.get(execution.arn.split(":")[4], "")
            lines.append(f"    {execution.status:<10} {owner}{execution.name}{note}")
            if execution.name in record.failures:
                error, cause = record.failures[execution.name]
                text = cause if cause.startswith(error) else f"{error}: {cause}"
                lines.append(f"               {words.text(text)}")
    else:
        lines.append("  executions  none")
    for title, changes in (("routes added", record.added), ("routes removed", record.removed)):
        if changes:
            lines.append(f"  {title}")
            lines += [f"    {table:<10} {dest} -> {target}" for table, dest, target in changes]
    if not record.added and not record.removed:
        lines.append("  routes      unchanged")
    mutating = {k: v for k, v in record.api_calls.items() if not k.startswith("Describe")}
    reads = sum(v for k, v in record.api_calls.items() if k.startswith("Describe"))
    summary = ", ".join(f"{k} {v}" for k, v in mutating.items())
    lines.append(f"  pipeline EC2 calls  {summary + ', ' if summary else ''}Describe* {reads}")
    return lines


def _outpost_lines(outpost: OutpostSpec) -> list[str]:
    """An Outpost in the topology: its rack, and each LGW route table (routing domain)."""
    extra = "" if outpost.intra_vpc else ", without the intra-VPC update"
    if outpost.account is not None:
        shared = ", ".join(outpost.shared_with) or "nobody"
        extra += f"; account {outpost.account}'s, shared with {shared}"
    if not outpost.lgw_route_tables:
        return [f"  Outpost {outpost.name}  LGW route table in {outpost.lgw_mode} mode{extra}"]
    lines = [f"  Outpost {outpost.name}  generation {outpost.generation}{extra}"]
    for table in outpost.lgw_route_tables:
        facts = [table.mode, "active" if table.active else "no VIF group", table.state]
        facts += [f"{k}={v}" for k, v in table.tags]
        lines.append(f"    LGW route table {table.name}  {', '.join(facts)}")
    return lines


def render_text(run: DemoRun) -> str:
    scenario = run.scenario
    lines = [f"outpost-mesh demo: {scenario.name}"]
    if scenario.description:
        lines.append(scenario.description)
    lines += ["", "Topology (before the first step)"]
    for vpc in scenario.vpcs:
        owner = f"  account {vpc.account}" if vpc.account is not None else ""
        lines.append(f"  VPC {vpc.name}  {', '.join(vpc.cidrs)}{owner}")
    for outpost in scenario.outposts:
        lines += _outpost_lines(outpost)
    rows = [["subnet", "vpc", "cidr", "outpost", "route table"]]
    for name, info in run.before.subnets.items():
        rows.append(
            [
                name,
                str(info.get("vpc")),
                str(info.get("cidr")),
                str(info.get("outpost") or "In-Region"),
                str(info.get("route_table")),
            ]
        )
    lines += _table(rows)
    for table, routes in run.before.route_tables.items():
        for route in routes:
            lines.append(f"  route {table}  {route['destination']} -> {route['target']}")
    subnets = _outpost_subnets(run)
    lines += ["", "Ping before the first step (route-level, each direction)"]
    lines += _ping_lines(run, run.before, subnets)
    for number, record in enumerate(run.steps, start=1):
        lines += ["", *_step_lines(run, number, record)]
    lines += ["", "Ping after the last step"]
    lines += _ping_lines(run, run.after, subnets)
    if scenario.accounts:
        lines += ["", *_account_lines(run)]
    lines += ["", "Routing domains (LGW route table associations)"]
    lines += [
        f"  {_by(a)}{a['vpc']} on {a['outpost']}: {a['lgw_route_table']} ({a['state']})"
        for a in run.after.associations
    ] or ["  none"]
    lines += ["", "Findings (during the whole run; resolved: a later plan no longer had it)"]
    lines += [
        f"  {'resolved' if f.get('resolved') else 'open':<8}  {f['kind']:<18} "
        f"{_by(f)}{f['subject']}: {f['message']}"
        for f in run.findings
    ] or ["  none"]
    lines += ["", "Pending approvals (approval mode: changes that wait for a person)"]
    lines += [
        f"  {p['vpc']}: {len(p['changes'])} change(s) in {p['execution']}"
        + "".join(f"\n    {change}" for change in p["changes"][:10])
        for p in run.pending_approvals
    ] or ["  none"]
    if run.hub is not None:
        lines += ["", *_hub_lines(run.hub)]
    calls = ", ".join(f"{k} {v}" for k, v in run.api_calls.items() if v)
    lines += ["", f"Pipeline EC2 calls during the steps: {calls or 'none'}", ""]
    return "\n".join(lines)


def _by(entry: dict[str, Any]) -> str:
    """``[account] `` before a report entry's words, with several accounts."""
    return f"[{entry['account']}] " if entry.get("account") else ""


def _account_lines(run: DemoRun) -> list[str]:
    """Each account's stack and what it meshed: its VPCs' cross-rack directions routed."""
    scenario = run.scenario
    lines = ["Accounts (each VPC meshed by its own account's stack, as a StackSet deploys it)"]
    for account in scenario.accounts:
        vpcs = scenario.vpcs_of(account)
        owned = [o.name for o in scenario.outposts if o.account == account]
        racks = f"; owns {', '.join(owned)}" if owned else ""
        if not vpcs:
            lines.append(f"  {account}: no VPCs, no stack{racks}")
            continue
        lines.append(f"  {account}: its stack meshes {', '.join(v.name for v in vpcs)}{racks}")
        for vpc in vpcs:
            subnets = {n for n, s in run.after.subnets.items() if s.get("vpc") == vpc.name}
            pairs = [p for p in run.after.reachability if p["from"] in subnets]
            routed = sum(1 for p in pairs if p["reachable"])
            lines.append(f"    {vpc.name}: {routed}/{len(pairs)} cross-rack directions routed")
    return lines


def _hub_lines(hub: list[dict[str, str]]) -> list[str]:
    """What the members put on the hub's bus (findings and failure notices only)."""
    lines = ["Hub (its own account: the events each member's stack put on the hub's bus)"]
    lines += [
        f"  {e['account']:<10} {e['detail_type']:<32} {e['vpc']}: {e['summary']}" for e in hub
    ] or ["  none (members put only findings and failure notices there: a clean mesh sends none)"]
    return lines
