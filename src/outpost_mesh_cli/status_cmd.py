"""``outpost-mesh status [--vpc ID]`` and ``outpost-mesh graph --vpc ID --format mermaid|dot``.

``status``: per VPC, its Outposts (LGW, mode, association, quarantine), subnets, route tables,
pairs reachable out of pairs expected, what outpost-mesh owns there, the open findings (what a
plan reports now, plus failures recorded by executions), the lease and the last executions of the
reconcile state machine (``--state-machine-arn``, else the stack's ``StateMachineArn`` output;
skipped, with a note, where there is none, as in the sandbox).

``graph``: the mesh as a picture. Outposts are groups holding their subnets; an LGW route from
one subnet's table to a sibling's CIDR is an edge; a meshed pair that is not reachable is a red
dashed edge with the reason; a subnet left out of the mesh (shared route table, CoIP mode,
quarantined rack...) is marked, with dotted "blocked" links to the subnets it would pair with.

Read-only: Describe calls and ledger reads only, like ``plan``.
"""

from __future__ import annotations

import argparse
import ipaddress
import re
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from outpost_mesh.domains import routing_domain
from outpost_mesh.ledger import LedgerStore, Quarantine
from outpost_mesh.mesh_map import held_pairs, render_html, vpc_map
from outpost_mesh.model import (
    Approval,
    DomainChoice,
    Finding,
    FindingKind,
    PairReachability,
    Plan,
    Subnet,
    Topology,
    longest_prefix_route,
)
from outpost_mesh.planner import desired_state, plan_vpc
from outpost_mesh.service import ReconcileService
from outpost_mesh.verify import reachability
from outpost_mesh_cli.aws import AwsContext
from outpost_mesh_cli.command import ExitCode, emit, parse_count, parse_vpc_id, read_names, service
from outpost_mesh_cli.render import short_id

# Failures a plan cannot see (recorded by a rolled-back execution): shown until a plan clears them.
RECORDED_ONLY_KINDS = frozenset({FindingKind.ERROR, FindingKind.ROUTE_QUOTA})
DEFAULT_EXECUTIONS = 5


# -- registration ----------------------------------------------------------------------------
def register(sub: Any, common: argparse.ArgumentParser) -> None:
    text = (
        "Per VPC: Outposts and LGW mode, subnets, route tables, pairs reachable out of expected, "
        "owned routes, open findings, last executions."
    )
    status = sub.add_parser(
        "status",
        parents=[common],
        help="each VPC's mesh, findings and executions",
        description=text,
    )
    status.add_argument(
        "--vpc",
        metavar="ID",
        type=parse_vpc_id,
        help="one VPC (default: every VPC with Outpost subnets or owned)",
    )
    status.add_argument(
        "--state-machine-arn",
        metavar="ARN",
        help="reconcile state machine whose executions to list (default: the stack's output)",
    )
    status.add_argument(
        "--executions",
        type=parse_count,
        default=DEFAULT_EXECUTIONS,
        metavar="N",
        help=f"how many recent executions per VPC (default {DEFAULT_EXECUTIONS})",
    )
    status.set_defaults(func=cmd_status)

    text = "The VPC's mesh as a picture: Outposts, subnets, LGW routes, broken or blocked pairs."
    graph = sub.add_parser(
        "graph", parents=[common], help="the VPC's mesh as a picture", description=text
    )
    graph.add_argument(
        "--vpc", required=True, metavar="ID", type=parse_vpc_id, help="the VPC id (vpc-...)"
    )
    graph.add_argument(
        "--format",
        choices=("mermaid", "dot", "html"),
        default="mermaid",
        help="mermaid (GitHub renders it in a ```mermaid block), Graphviz dot, or html: the "
        "dashboard's mesh map as a self-contained page (no script, no font, works offline)",
    )
    graph.set_defaults(func=cmd_graph)


# -- the mesh of one VPC, as a person looks at it --------------------------------------------
@dataclass(frozen=True)
class MeshView:
    topology: Topology
    plan: Plan
    eligible: dict[str, str]  # subnet id -> its Outpost ARN
    pairs: tuple[PairReachability, ...]  # every ordered pair of Outpost subnets on two Outposts
    expected: frozenset[tuple[str, str]]  # the pairs that should be reachable
    blocked: dict[str, str]  # Outpost subnet left out -> why
    quarantines: tuple[Quarantine, ...]
    table_names: dict[str, str]

    def subnet(self, subnet_id: str) -> Subnet:
        found = self.topology.subnet(subnet_id)
        assert found is not None
        return found

    @property
    def outposts(self) -> list[str]:
        """Outposts of the VPC's subnets, the one with the lowest subnet CIDR first."""
        first: dict[str, tuple[int, int, str]] = {}
        for s in self.topology.subnets:
            if s.outpost_arn:
                first[s.outpost_arn] = min(first.get(s.outpost_arn, _order(s)), _order(s))
        return sorted(first, key=lambda arn: (first[arn], arn))

    def subnets_on(self, outpost_arn: str | None) -> list[Subnet]:
        """The subnets of one Outpost (None: In-Region), lowest CIDR first."""
        return sorted(
            (s for s in self.topology.subnets if s.outpost_arn == outpost_arn), key=_order
        )

    def domain(self, outpost_arn: str) -> DomainChoice:
        """The routing domain (LGW route table) the VPC uses on the Outpost, or why none."""
        return routing_domain(self.topology.index, outpost_arn)

    def kind(self, subnet_id: str) -> str:
        """How the pictures draw a subnet: ``meshed``, ``blocked`` (left out, with a finding)
        or ``other`` (In-Region, opted out)."""
        if subnet_id in self.eligible:
            return "meshed"
        return "blocked" if subnet_id in self.blocked else "other"

    def quarantine(self, outpost_arn: str) -> Quarantine | None:
        return next((q for q in self.quarantines if q.outpost_arn == outpost_arn), None)

    def route_text(self, pair: PairReachability) -> str:
        """The route that carries ``pair``: destination via target, from the source's table."""
        table = self.topology.effective_route_table(pair.source_subnet_id)
        cidr = self.subnet(pair.destination_subnet_id).cidr
        route = longest_prefix_route(table, cidr) if table and cidr else None
        return f"{route.destination} via {route.target}" if route else "no route"


def _order(subnet: Subnet) -> tuple[int, int, str]:
    if not subnet.cidr:
        return (1, 0, subnet.subnet_id)
    return (0, int(ipaddress.ip_network(subnet.cidr).network_address), subnet.subnet_id)


def mesh_view(ctx: AwsContext, svc: ReconcileService, vpc_id: str) -> MeshView:
    topology = svc.observe(vpc_id)
    quarantines = tuple(svc.store.quarantines())
    quarantined = frozenset(q.outpost_arn for q in quarantines)
    desired = desired_state(topology, quarantined, svc.account_id)
    plan = plan_vpc(topology, svc.store.load(vpc_id), quarantined, svc.account_id)
    eligible = {e.subnet.subnet_id: e.lgw.outpost_arn for e in desired.eligible}
    opt_out = svc.settings.opt_out_tag
    blocked: dict[str, str] = {}
    for subnet in topology.subnets:
        if not subnet.on_outpost or subnet.subnet_id in eligible:
            continue
        table = topology.effective_route_table(subnet.subnet_id)
        reason = next(
            (
                str(f.kind)
                for f in desired.findings
                if f.subject in (subnet.subnet_id, subnet.outpost_arn)
            ),
            None,
        )
        if subnet.opted_out:
            reason = f"opted out ({opt_out} on the subnet)"
        elif table is not None and table.opted_out:
            reason = f"opted out ({opt_out} on {table.route_table_id})"
        if reason:
            blocked[subnet.subnet_id] = reason
    return MeshView(
        topology=topology,
        plan=plan,
        eligible=eligible,
        pairs=reachability(topology),
        expected=desired.expected_pairs,
        blocked=blocked,
        quarantines=quarantines,
        table_names=dict(read_names(ctx, svc, topology).by_id),
    )


# -- status ----------------------------------------------------------------------------------
# template.yaml names the reconcile state machine "${AWS::StackName}-reconcile" (the sandbox's
# pipeline too): found by name where the stack cannot be read.
STATE_MACHINE_SUFFIX = "-reconcile"


def _state_machine(ctx: AwsContext, given: str | None) -> tuple[str | None, str]:
    """The reconcile state machine's ARN and how it was found (or why there is none)."""
    if given:
        return given, "from --state-machine-arn"
    try:
        stacks = ctx.client("cloudformation").describe_stacks(StackName=ctx.stack)["Stacks"]
    except (ClientError, BotoCoreError) as error:
        problem = (
            error.response.get("Error", {}).get("Message", str(error))
            if isinstance(error, ClientError)
            else str(error)
        )
        stacks, problem = [], f"stack {ctx.stack!r} not found ({problem})"
    else:
        problem = f"stack {ctx.stack!r} has no StateMachineArn output"
    for output in (stacks[0].get("Outputs") or []) if stacks else []:
        if output.get("OutputKey") == "StateMachineArn":
            return str(output["OutputValue"]), f"from stack {ctx.stack}"
    name = f"{ctx.stack}{STATE_MACHINE_SUFFIX}"
    try:
        for page in ctx.client("stepfunctions").get_paginator("list_state_machines").paginate():
            for machine in page["stateMachines"]:
                if machine["name"] == name:
                    return str(machine["stateMachineArn"]), f"state machine {name}"
    except (ClientError, BotoCoreError):
        pass  # no permission to list them: the stack's problem is the note
    return None, (
        f"no state machine known: {problem}, no state machine named {name}; "
        "point at it with --stack NAME or --state-machine-arn ARN"
    )


def _executions(sfn: Any, arn: str, vpc_ids: list[str], limit: int) -> dict[str, list[Any]]:
    """The latest executions per VPC (their names hold the VPC id: events.execution_name)."""
    found: dict[str, list[Any]] = {v: [] for v in vpc_ids}
    pages = sfn.get_paginator("list_executions").paginate(
        stateMachineArn=arn, PaginationConfig={"MaxItems": 1000, "PageSize": 100}
    )
    for page in pages:  # newest first
        for execution in page["executions"]:
            for vpc_id in vpc_ids:
                if vpc_id in execution["name"] and len(found[vpc_id]) < limit:
                    found[vpc_id].append(
                        {
                            "name": execution["name"],
                            "status": execution["status"],
                            "started": _time(execution.get("startDate")),
                            "stopped": _time(execution.get("stopDate")),
                        }
                    )
        if all(len(v) >= limit for v in found.values()):
            break
    return found


def _time(value: Any) -> str | None:
    return value.isoformat(timespec="seconds") if value is not None else None


def vpc_status(view: MeshView, store: LedgerStore) -> dict[str, Any]:
    topology = view.topology
    ledger = store.load(topology.vpc_id)
    owned_assocs = {a.association_id for a in ledger.associations}
    owned_routes = {(r.route_table_id, r.destination) for r in ledger.routes}
    lgw_ids = {g.local_gateway_id for g in topology.lgw_route_tables}

    outposts = []
    for arn in view.outposts:
        domain = view.domain(arn)
        lgw = domain.table
        assoc = domain.association
        if assoc is None and lgw is not None:
            assoc = topology.association_for(lgw.route_table_id)
        quarantine = view.quarantine(arn)
        outposts.append(
            {
                "outpost_arn": arn,
                "local_gateway_id": topology.index.local_gateway_of(arn),
                "lgw_route_table_id": lgw.route_table_id if lgw else None,
                "routing_domain": (lgw.name or lgw.route_table_id) if lgw else None,
                "routing_domain_reason": domain.reason,
                "mode": lgw.mode if lgw else None,
                "vpc_association": assoc.state if assoc else None,
                "association_owned": bool(assoc and assoc.association_id in owned_assocs),
                "quarantined_until": quarantine.until if quarantine else None,
                "subnets": [s.subnet_id for s in topology.subnets if s.outpost_arn == arn],
            }
        )
    subnets = []
    for subnet in sorted(topology.subnets, key=_order):
        table = topology.effective_route_table(subnet.subnet_id)
        subnets.append(
            {
                "subnet_id": subnet.subnet_id,
                "name": subnet.name,
                "cidr": subnet.cidr,
                "outpost_arn": subnet.outpost_arn,
                "route_table_id": table.route_table_id if table else None,
                "meshed": subnet.subnet_id in view.eligible,
                "blocked": view.blocked.get(subnet.subnet_id),
            }
        )
    tables = [
        {
            "route_table_id": table.route_table_id,
            "name": view.table_names.get(table.route_table_id),
            "main": table.main,
            "opted_out": table.opted_out,
            "serves": [s.subnet_id for s in topology.served_subnets(table)],
            "lgw_routes": [
                {
                    "destination": r.destination,
                    "target": r.target,
                    "owned": (table.route_table_id, r.destination) in owned_routes,
                }
                for r in table.routes
                if r.target in lgw_ids
            ],
        }
        for table in topology.route_tables
    ]
    expected = sorted(
        (p for p in view.pairs if (p.source_subnet_id, p.destination_subnet_id) in view.expected),
        key=lambda p: (
            _order(view.subnet(p.source_subnet_id)),
            _order(view.subnet(p.destination_subnet_id)),
        ),
    )
    live = {(f.kind, f.subject): f for f in view.plan.findings}
    recorded = [
        f
        for f in store.open_findings(topology.vpc_id)
        if f.kind in RECORDED_ONLY_KINDS and (f.kind, f.subject) not in live
    ]
    findings = [_finding(f, "plan") for f in view.plan.findings]
    findings += [_finding(f, "recorded by a failed execution") for f in recorded]
    counts = view.plan.counts()
    del counts["findings"]
    return {
        "vpc_id": topology.vpc_id,
        "name": view.table_names.get(topology.vpc_id),
        "cidrs": list(topology.vpc_cidrs),
        "outposts": outposts,
        "subnets": subnets,
        "route_tables": tables,
        "pairs": {
            "expected": len(expected),
            "reachable": sum(1 for p in expected if p.reachable),
            "list": [
                {
                    "from": p.source_subnet_id,
                    "to": p.destination_subnet_id,
                    "reachable": p.reachable,
                    "via": view.route_text(p) if p.reachable else None,
                    "reason": p.reason,
                }
                for p in expected
            ],
        },
        "owned": {
            "routes": [
                {
                    "route_table_id": r.route_table_id,
                    "destination": r.destination,
                    "local_gateway_id": r.local_gateway_id,
                }
                for r in ledger.routes
            ],
            "associations": [
                {"association_id": a.association_id, "lgw_route_table_id": a.lgw_route_table_id}
                for a in ledger.associations
            ],
        },
        "findings": findings,
        "pending_changes": counts,
        "lease": _lease(store.lease(topology.vpc_id)),
        "approval": _approval(store.approval(topology.vpc_id)),
        "history": store.history(topology.vpc_id, HISTORY_SHOWN_IN_STATUS),
    }


def _finding(finding: Finding, source: str) -> dict[str, str]:
    return {**finding.to_dict(), "source": source}


HISTORY_SHOWN_IN_STATUS = 5  # the VPC's latest history entries (the ledger keeps 90 days)


def _approval(approval: Approval | None) -> dict[str, Any] | None:
    """The VPC's latest approval request: what waits (or waited), and who answered."""
    if approval is None:
        return None
    return {
        "status": str(approval.status),
        "execution": approval.execution,
        "changes": len(approval.changes),
        "expires_at": approval.expires_at,
        "decided_by": approval.decided_by,
        "reason": approval.reason,
        "advertised": approval.plan.get("advertised") or {},
        "withdrawn": approval.plan.get("withdrawn") or {},
    }


def _lease(lease: dict[str, Any] | None) -> dict[str, Any] | None:
    if not lease or not lease.get("holder"):
        return None
    return {"holder": lease["holder"], "expires_at": lease.get("expires_at")}


def status_text(data: dict[str, Any]) -> str:
    lines = [f"VPC {data['vpc_id']} ({', '.join(data['cidrs'])})"]
    lines.append("  Outposts:")
    for o in data["outposts"]:
        assoc = o["vpc_association"] or "not associated"
        owned = " (by outpost-mesh)" if o["association_owned"] else ""
        quarantine = (
            f"  QUARANTINED until {o['quarantined_until']}" if o["quarantined_until"] else ""
        )
        domain = (
            f"routing domain {o['lgw_route_table_id']} ({o['routing_domain']}, {o['mode']})"
            if o["lgw_route_table_id"]
            else f"no routing domain: {o['routing_domain_reason']}"
        )
        lines.append(
            f"    {short_id(o['outpost_arn'])}  LGW {o['local_gateway_id'] or '?'}  "
            f"{domain}  VPC {assoc}{owned}{quarantine}"
        )
    if not data["outposts"]:
        lines.append("    none")
    lines.append("  Subnets:")
    for s in data["subnets"]:
        where = short_id(s["outpost_arn"]) if s["outpost_arn"] else "In-Region"
        state = (
            "meshed"
            if s["meshed"]
            else (f"BLOCKED: {s['blocked']}" if s["blocked"] else "not meshed")
        )
        if not s["outpost_arn"]:
            state = "-"
        name = f" {s['name']}" if s["name"] else ""
        lines.append(
            f"    {s['subnet_id']}{name}  {s['cidr'] or '(no IPv4)'}  {where}  "
            f"{s['route_table_id'] or '?'}  {state}"
        )
    lines.append("  Route tables:")
    for t in data["route_tables"]:
        label = " ".join(
            x
            for x in (
                t["name"] or "",
                "(main)" if t["main"] else "",
                "(opted out)" if t["opted_out"] else "",
            )
            if x
        )
        routes = ", ".join(
            f"{r['destination']} -> {r['target']}{' (owned)' if r['owned'] else ''}"
            for r in t["lgw_routes"]
        )
        lines.append(
            f"    {t['route_table_id']}{' ' + label if label else ''}  serves "
            f"{', '.join(t['serves']) or 'no subnet'}; LGW routes: {routes or 'none'}"
        )
    pairs = data["pairs"]
    lines.append(f"  Pairs: {pairs['reachable']}/{pairs['expected']} reachable")
    for p in pairs["list"]:
        detail = f"reachable ({p['via']})" if p["reachable"] else f"UNREACHABLE: {p['reason']}"
        lines.append(f"    {p['from']} -> {p['to']}: {detail}")
    owned = data["owned"]
    lines.append(
        f"  Owned by outpost-mesh: {len(owned['routes'])} route(s), "
        f"{len(owned['associations'])} association(s)"
    )
    for r in owned["routes"]:
        lines.append(f"    {r['route_table_id']} {r['destination']} -> {r['local_gateway_id']}")
    lines.append(f"  Open findings: {len(data['findings']) or 'none'}")
    for f in data["findings"]:
        lines.append(f"    ! {f['kind']} {f['subject']}: {f['message']}")
    pending = {k: v for k, v in data["pending_changes"].items() if v}
    lines.append(
        "  Pending changes: "
        + (", ".join(f"{v} {k.replace('_', ' ')}" for k, v in pending.items()) or "none")
    )
    lease = data["lease"]
    lines.append(f"  Lease: {'held by ' + lease['holder'] if lease else 'free'}")
    approval = data.get("approval")
    if approval:
        who = f" by {approval['decided_by']}" if approval["decided_by"] else ""
        why = f" ({approval['reason']})" if approval["reason"] else ""
        lines.append(
            f"  Approval: {approval['changes']} change(s) of {approval['execution']}: "
            f"{approval['status']}{who}{why}"
            + (
                f"; approve/reject --vpc {data['vpc_id']}"
                if approval["status"] == "waiting"
                else ""
            )
        )
    for entry in data.get("history") or []:
        who = entry.get("approved_by") or entry.get("by") or ""
        lines.append(
            f"  History: {entry.get('event')} {entry.get('actor') or entry.get('execution') or ''}"
            + (f" approved by {who}" if who and entry.get("event") == "pass" else "")
            + (f" by {who}" if who and entry.get("event") != "pass" else "")
        )
    if data.get("executions") is not None:  # else cmd_status says once why, or nothing
        lines.append(f"  Last executions: {len(data['executions']) or 'none'}")
        for e in data["executions"]:
            lines.append(f"    {e['started']}  {e['status']:<9}  {e['name']}")
    return "\n".join(lines)


def account_status(
    ctx: AwsContext,
    svc: ReconcileService,
    vpc_ids: list[str],
    machine: tuple[str | None, str],
    limit: int,
) -> tuple[list[dict[str, Any]], str | None, str]:
    """Each VPC's status in the account ``svc`` reads, with its last ``limit`` executions of
    ``machine`` (the state machine's ARN or None, and how it was found or why there is none);
    also the ARN the executions came from (None: not listed) and the note saying why."""
    data = [vpc_status(mesh_view(ctx, svc, vpc_id), svc.store) for vpc_id in vpc_ids]
    arn, note = machine
    executions: dict[str, list[Any]] = {}
    if arn:
        try:
            executions = _executions(ctx.client("stepfunctions"), arn, vpc_ids, limit)
        except (ClientError, BotoCoreError) as error:
            note = f"could not list the executions of {arn}: {error}"
            arn = None
    for item in data:
        item["state_machine_arn"] = arn
        item["executions"] = executions.get(item["vpc_id"], []) if arn else None
        item["executions_note"] = note
    return data, arn, note


def cmd_status(args: argparse.Namespace) -> int:
    ctx, svc = service(args)
    vpc_ids = [args.vpc] if args.vpc else svc.candidate_vpcs()
    machine = _state_machine(ctx, args.state_machine_arn)
    data, arn, note = account_status(ctx, svc, vpc_ids, machine, args.executions)
    text = "\n\n".join(status_text(d) for d in data) if data else "No VPC with Outpost subnets."
    # Where there is no state machine, said once; not at all against the sandbox without a stack
    # asked for (it has none unless it runs the pipeline).
    if arn is None and (args.state_machine_arn or ctx.stack_given or not ctx.local):
        text += f"\n\nExecutions not listed: {note}"
    emit(args, {"vpcs": data}, text)
    return ExitCode.DONE


# -- graph -----------------------------------------------------------------------------------
def _node(subnet_id: str) -> str:
    return "s_" + re.sub(r"[^A-Za-z0-9]", "_", subnet_id)


def _group(outpost_arn: str) -> str:
    return "o_" + re.sub(r"[^A-Za-z0-9]", "_", short_id(outpost_arn))


def _label_lines(view: MeshView, subnet: Subnet) -> list[str]:
    table = view.topology.effective_route_table(subnet.subnet_id)
    table_text = ""
    if table is not None:
        name = view.table_names.get(table.route_table_id)
        table_text = f"{name} {table.route_table_id}" if name else table.route_table_id
        if table.main:
            table_text += " (main)"
    lines = [subnet.name or subnet.subnet_id]
    if subnet.name:
        lines.append(subnet.subnet_id)
    lines.append(f"{subnet.cidr or 'no IPv4'} · {table_text or 'no route table'}")
    if subnet.subnet_id in view.blocked:
        lines.append(f"BLOCKED: {view.blocked[subnet.subnet_id]}")
    return [_clean(x) for x in lines]


def _clean(text: str) -> str:
    """Labels keep to characters both mermaid and dot take inside quotes."""
    return re.sub(r'["|<>{}\[\]]', "'", text)


def _group_title(view: MeshView, outpost_arn: str) -> str:
    domain = view.domain(outpost_arn)
    lgw = domain.table
    parts = [f"Outpost {short_id(outpost_arn)}"]
    if lgw is not None:
        assoc = view.topology.association_for(lgw.route_table_id)
        parts += [
            lgw.local_gateway_id,
            f"domain {lgw.name or lgw.route_table_id}",
            "VPC associated" if assoc else "not associated",
        ]
    else:
        parts.append(f"no routing domain ({domain.kind})")
    if view.quarantine(outpost_arn) is not None:
        parts.append("QUARANTINED")
    return _clean(" · ".join(parts))


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    kind: str  # "route" | "broken" | "blocked"
    label: str


def edges(view: MeshView) -> list[Edge]:
    """Routes and broken pairs (directed), then blocked pairs (once per pair), lowest CIDR first."""

    def order(pair: PairReachability) -> tuple[Any, ...]:
        return (
            _order(view.subnet(pair.source_subnet_id)),
            _order(view.subnet(pair.destination_subnet_id)),
        )

    pairs = sorted(view.pairs, key=order)
    found: list[Edge] = []
    for pair in pairs:
        key = (pair.source_subnet_id, pair.destination_subnet_id)
        if key in view.expected:
            if pair.reachable:
                found.append(Edge(*key, "route", view.route_text(pair)))
            else:
                found.append(Edge(*key, "broken", f"UNREACHABLE: {pair.reason}"))
    blocked_pairs: set[frozenset[str]] = set()
    for pair in pairs:
        a, b = pair.source_subnet_id, pair.destination_subnet_id
        why = view.blocked.get(a) or view.blocked.get(b)
        if why is None or frozenset((a, b)) in blocked_pairs:
            continue
        blocked_pairs.add(frozenset((a, b)))
        found.append(Edge(a, b, "blocked", f"blocked: {why}"))
    return found


def mermaid(view: MeshView) -> str:
    topology = view.topology
    lines = [
        "flowchart LR",
        f"  %% VPC {topology.vpc_id} ({', '.join(topology.vpc_cidrs)}): outpost-mesh graph",
    ]
    for arn in view.outposts:
        lines.append(f'  subgraph {_group(arn)}["{_group_title(view, arn)}"]')
        for subnet in view.subnets_on(arn):
            label = "<br/>".join(_label_lines(view, subnet))
            lines.append(f'    {_node(subnet.subnet_id)}["{label}"]')
        lines.append("  end")
    in_region = view.subnets_on(None)
    if in_region:
        lines.append('  subgraph region["In-Region (not meshed)"]')
        for subnet in in_region:
            label = "<br/>".join(_label_lines(view, subnet))
            lines.append(f'    {_node(subnet.subnet_id)}["{label}"]')
        lines.append("  end")
    styles: list[str] = []
    for index, edge in enumerate(edges(view)):
        arrow = {"route": "-->", "broken": "-.->", "blocked": "-.-"}[edge.kind]
        lines.append(f'  {_node(edge.source)} {arrow}|"{_clean(edge.label)}"| {_node(edge.target)}')
        if edge.kind == "route":
            styles.append(f"  linkStyle {index} stroke:#2a7d2a,stroke-width:2px")
        elif edge.kind == "broken":
            styles.append(f"  linkStyle {index} stroke:#c00000,stroke-width:2px")
        else:
            styles.append(f"  linkStyle {index} stroke:#d08000")
    lines += styles
    lines.append("  classDef meshed fill:#e6f4e6,stroke:#2a7d2a")
    lines.append("  classDef blocked fill:#fde8e8,stroke:#c00000,stroke-dasharray:4 3")
    lines.append("  classDef other fill:#f2f2f2,stroke:#999999")
    for subnet in topology.subnets:
        lines.append(f"  class {_node(subnet.subnet_id)} {view.kind(subnet.subnet_id)}")
    return "\n".join(lines)


_DOT_COLORS = {  # the same colours as mermaid's classDefs
    "meshed": 'fillcolor="#e6f4e6", color="#2a7d2a"',
    "blocked": 'fillcolor="#fde8e8", color="#c00000", style="rounded,filled,dashed"',
    "other": 'fillcolor="#f2f2f2", color="#999999"',
}


def _dot_id(text: str) -> str:
    """A double-quoted dot ID (dot knows only the \\" escape)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def dot(view: MeshView) -> str:
    topology = view.topology
    title = f"VPC {topology.vpc_id} ({', '.join(topology.vpc_cidrs)})"
    lines = [
        f"digraph {_dot_id(topology.vpc_id)} {{",
        f"  graph [rankdir=LR, label={_dot_id(title)}, labelloc=t, fontname=Helvetica];",
        '  node [shape=box, style="rounded,filled", fontname=Helvetica];',
        "  edge [fontname=Helvetica, fontsize=10];",
    ]

    def node_line(subnet: Subnet) -> str:
        colors = _DOT_COLORS[view.kind(subnet.subnet_id)]
        label = "\\n".join(_label_lines(view, subnet))
        return f'    {_dot_id(subnet.subnet_id)} [label="{label}", {colors}];'

    for index, arn in enumerate(view.outposts):
        lines.append(f"  subgraph cluster_{index} {{")
        lines.append(f"    label={_dot_id(_group_title(view, arn))};")
        lines += [node_line(s) for s in view.subnets_on(arn)]
        lines.append("  }")
    in_region = view.subnets_on(None)
    if in_region:
        lines.append("  subgraph cluster_region {")
        lines.append('    label="In-Region (not meshed)"; style=dashed;')
        lines += [node_line(s) for s in in_region]
        lines.append("  }")
    for edge in edges(view):
        attrs = {
            "route": 'color="#2a7d2a"',
            "broken": 'color="#c00000", fontcolor="#c00000", style=dashed',
            "blocked": 'color="#d08000", fontcolor="#d08000", style=dotted, dir=none',
        }[edge.kind]
        lines.append(
            f"  {_dot_id(edge.source)} -> {_dot_id(edge.target)} "
            f"[label={_dot_id(_clean(edge.label))}, {attrs}];"
        )
    lines.append("}")
    return "\n".join(lines)


def cmd_graph(args: argparse.Namespace) -> int:
    ctx, svc = service(args)
    view = mesh_view(ctx, svc, args.vpc)
    if args.format == "html":
        text = html_page(svc, view)
    else:
        text = mermaid(view) if args.format == "mermaid" else dot(view)
    emit(args, {"vpc_id": args.vpc, "format": args.format, "graph": text}, text)
    return ExitCode.DONE


def html_page(svc: ReconcileService, view: MeshView) -> str:
    """The dashboard's mesh map of the VPC (``outpost_mesh.mesh_map``), as one HTML page: the
    routes, broken pairs, the deletions the stack's rules hold, and the open findings."""
    vpc_id = view.topology.vpc_id
    quarantined = frozenset(q.outpost_arn for q in view.quarantines)
    plan = svc.plan_topology(view.topology, svc.store.load(vpc_id), quarantined)
    page = vpc_map(
        view.topology,
        account_id=svc.account_id,
        quarantined=quarantined,
        held=held_pairs(plan),
        approval=svc.store.approval(vpc_id),
        findings=svc.store.open_findings(vpc_id),
    )
    return render_html([page])
